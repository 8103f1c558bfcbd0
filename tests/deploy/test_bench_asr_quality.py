"""bench/asr_quality.py measures what it says: every clip with a human reference, hint names that are really spoken
where it claims they are, and decoy names that are never spoken where it uses them."""

from __future__ import annotations

from bench.asr_quality import CV, CV_NAMES, DECOY_NAMES, clips, normalise, pooled


def test_clip_list_covers_every_human_reference() -> None:
    full = clips(quick=False)
    names = {c.name for c in full}
    assert len([c for c in full if c.group == "commonvoice"]) == len(list(CV.glob("*.flac"))) == 100
    assert {"azure_en_general_test", "fw_jfk", "pyannote_sample", "fw_stereo_diarization"} <= names
    assert not any("multilingual" in n for n in names)  # its reference is model output
    assert all(c.references and all(r.strip() for r in c.references) for c in full)
    assert len(next(c for c in full if c.name == "fw_stereo_diarization").references) == 2
    quick = clips(quick=True)
    assert 10 <= len(quick) < len(full) and {c.name for c in quick} <= names


def test_hint_names_are_spoken_and_decoys_are_not() -> None:
    full = clips(quick=False)
    assert set(CV_NAMES) <= {c.name for c in full}
    for clip in full:
        reference = normalise(" ".join(clip.references))
        for name in clip.names:
            assert normalise(name) in reference, (clip.name, name)
        if not clip.names:
            assert not any(normalise(d) in reference.split() for d in DECOY_NAMES), clip.name


def test_pooled_wer_is_errors_over_words() -> None:
    rows = [{"ref_words": 10, "errors": 1, "audio_s": 5.0, "asr_s": 1.0},
            {"ref_words": 30, "errors": 1, "audio_s": 15.0, "asr_s": 1.0}]
    assert pooled(rows)["wer"] == 0.05 and pooled(rows)["rtf"] == 0.1
