"""Clean-speech voiceprints: which speech counts as a speaker's own, how it is cut into pieces, and (with the real
CAM++ weights, on the shared AMI clips) that the same speaker in two recordings scores above the threshold and a
different speaker below it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pipeline.diarise.speech_prints import MIN_PIECE_S, clean_intervals, pieces, weighted_mean
from pipeline.voiceprint import DEFAULT_THRESHOLD, cosine
from tests.support.paths import MODEL_CACHE, shared


def test_overlapped_speech_is_nobodys_clean_voice() -> None:
    turns = [(0.0, 5.0, "A"), (4.0, 6.0, "B"), (5.5, 9.0, "A"), (7.0, 7.2, "B"), (10.0, 10.3, "A")]
    # A's turns merge (0-9), lose B's overlaps (4-6 and 7-7.2), and the 0.3-s turn is too short to count.
    assert clean_intervals(turns, "A") == [(0.0, 4.0), (6.0, 7.0), (7.2, 9.0)]
    # B alone only between A's turns; its 0.2-s turn inside A's is overlapped throughout.
    assert clean_intervals(turns, "B") == [(5.0, 5.5)]
    assert clean_intervals(turns, "C") == []


def test_pieces_hold_at_most_piece_s_and_keep_time_order() -> None:
    got = pieces([(0.0, 4.0), (6.0, 13.0), (20.0, 20.3)], piece_s=5.0)
    assert got == [[(0.0, 4.0), (6.0, 7.0)], [(7.0, 12.0)], [(12.0, 13.0), (20.0, 20.3)]]
    assert all(sum(e - s for s, e in p) <= 5.0 + 1e-9 for p in got)
    # A trailing piece shorter than the minimum is dropped.
    assert pieces([(0.0, 5.0 + MIN_PIECE_S / 2)], piece_s=5.0) == [[(0.0, 5.0)]]


def test_a_cap_keeps_evenly_spaced_pieces() -> None:
    intervals = [(float(i), i + 1.0) for i in range(0, 200, 2)]  # 100 s of speech over 200 s
    kept = pieces(intervals, piece_s=10.0, max_speech_s=30.0)
    assert len(kept) == 3
    starts = [p[0][0] for p in kept]
    assert starts[0] == 0.0 and starts[-1] >= 180.0  # the beginning and the end of the recording, not one stretch


def test_weighted_mean_leans_to_the_longer_piece() -> None:
    a, b = np.array([1.0, 0.0]), np.array([0.0, 1.0])
    mean = weighted_mean([a, b], [9.0, 1.0])
    assert np.linalg.norm(mean) == pytest.approx(1.0)
    assert cosine(mean, a) > 0.99 > cosine(mean, b)


def _reference(path: Path) -> list[tuple[float, float, str]]:
    rows = [line.split() for line in path.read_text().splitlines() if line.startswith("SPEAKER")]
    return [(float(f[3]), float(f[3]) + float(f[4]), f[7]) for f in rows]


@pytest.mark.slow
def test_the_same_ami_speaker_matches_across_recordings_and_another_does_not() -> None:
    """MEE009 and MEE012 speak in both dev00 and dev01 (reference turns, so diarisation errors play no part): each
    one's dev00 voiceprint clears the threshold against their own dev01 speech and not against the other's."""
    from pipeline import torch_env

    torch_env.prepare()
    from pipeline.decode import decode_audio
    from pipeline.diarise.campplus import CamPlusPlus
    from pipeline.diarise.speech_prints import slot_voiceprints
    from pipeline.weights import diarisation_weights

    paths = diarisation_weights(cache_dir=MODEL_CACHE)
    model = CamPlusPlus(network_source=paths["embedding_network"], checkpoint=paths["embedding"])
    prints = {stem: slot_voiceprints(model, decode_audio(str(shared(f"pyannote_ami_{stem}.wav"))),
                                     _reference(shared(f"pyannote_ami_{stem}.rttm")))
              for stem in ("dev00", "dev01")}
    for who, other in (("MEE009", "MEE012"), ("MEE012", "MEE009")):
        assert cosine(prints["dev00"][who], prints["dev01"][who]) >= DEFAULT_THRESHOLD
        assert cosine(prints["dev00"][who], prints["dev01"][other]) < DEFAULT_THRESHOLD
