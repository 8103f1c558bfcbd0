"""Voiceprint matching: cosine scores, one slot per profile, the threshold, and the error rates the bench reports."""

from __future__ import annotations

import math
import random

import pytest

from pipeline.voiceprint import DEFAULT_THRESHOLD, cosine, error_rates, match_slots, normalise


def _voice(seed: int, dim: int = 192) -> list[float]:
    rng = random.Random(seed)
    return [rng.gauss(0.0, 1.0) for _ in range(dim)]


def _near(v: list[float], amount: float, seed: int) -> list[float]:
    """`v` plus noise: cosine to `v` falls as `amount` grows."""
    noise = _voice(seed, len(v))
    return [a + amount * b for a, b in zip(v, noise, strict=True)]


def test_cosine_is_scale_free_and_bounded() -> None:
    v = _voice(1)
    assert cosine(v, [3 * x for x in v]) == pytest.approx(1.0)
    assert cosine(v, [-x for x in v]) == pytest.approx(-1.0)
    assert -0.3 < cosine(v, _voice(2)) < 0.3  # unrelated 192-d vectors are nearly orthogonal
    assert math.isclose(sum(x * x for x in normalise(v)), 1.0, rel_tol=1e-9)


@pytest.mark.parametrize("bad", [[], [0.0, 0.0], [float("nan"), 1.0], [float("inf"), 1.0]])
def test_degenerate_vectors_are_refused(bad: list[float]) -> None:
    with pytest.raises(ValueError):
        normalise(bad)


def test_sizes_must_agree() -> None:
    with pytest.raises(ValueError, match="different sizes"):
        cosine([1.0, 0.0], [1.0, 0.0, 0.0])


def test_the_matching_slot_is_labelled_and_no_other() -> None:
    interviewer = _voice(10)
    voices = {"S1": _voice(11), "S2": _near(interviewer, 0.4, 12), "S3": _voice(13)}
    matches = match_slots(voices, {"p1": interviewer}, threshold=DEFAULT_THRESHOLD)
    assert list(matches) == ["S2"]
    assert matches["S2"].profile == "p1"
    assert matches["S2"].score == pytest.approx(cosine(voices["S2"], interviewer))
    assert matches["S2"].score >= DEFAULT_THRESHOLD


def test_below_the_threshold_nothing_is_labelled() -> None:
    interviewer = _voice(20)
    voices = {"S1": _near(interviewer, 1.2, 21), "S2": _voice(22)}
    score = cosine(voices["S1"], interviewer)
    assert match_slots(voices, {"p": interviewer}, threshold=score + 0.01) == {}
    # At exactly its score, the slot matches: the threshold is inclusive.
    assert list(match_slots(voices, {"p": interviewer}, threshold=score)) == ["S1"]


def test_one_profile_claims_one_slot_and_one_slot_one_profile() -> None:
    a, b = _voice(30), _voice(31)
    # S1 and S2 both resemble a (a voice split in two); S3 resembles b.
    voices = {"S1": _near(a, 0.3, 32), "S2": _near(a, 0.5, 33), "S3": _near(b, 0.3, 34)}
    matches = match_slots(voices, {"a": a, "b": b}, threshold=0.5)
    assert {slot: m.profile for slot, m in matches.items()} == {"S1": "a", "S3": "b"}
    # Two profiles of the same person cannot both take the one slot.
    assert list(match_slots({"S1": a}, {"x": a, "y": _near(a, 0.1, 35)}, threshold=0.5)) == ["S1"]


def test_voiceprints_of_another_size_are_ignored() -> None:
    assert match_slots({"S1": [1.0, 0.0]}, {"p": [1.0, 0.0, 0.0]}, threshold=0.0) == {}


def test_error_rates_count_each_side() -> None:
    r = error_rates([0.9, 0.8, 0.55, 0.4], [0.1, 0.3, 0.62, 0.2, 0.05], threshold=0.6)
    assert (r.false_reject, r.false_accept) == (0.5, 0.2)
    assert (r.same, r.different) == (4, 5)
    with pytest.raises(ValueError):
        error_rates([], [0.1], threshold=0.5)


def test_equal_error_rate_and_the_lowest_threshold_without_false_accepts() -> None:
    from pipeline.voiceprint import equal_error_rate, lowest_clean_threshold

    same, different = [0.9, 0.8, 0.7, 0.45], [0.1, 0.2, 0.5, 0.3]
    eer, at = equal_error_rate(same, different)
    assert eer == pytest.approx(0.25) and 0.45 <= at <= 0.5  # one of four on each side at the crossing
    assert equal_error_rate([0.9, 0.8], [0.1, 0.2])[0] == 0.0
    assert lowest_clean_threshold(different) == pytest.approx(0.51)
    assert error_rates(same, different, threshold=lowest_clean_threshold(different)).false_accept == 0.0
    with pytest.raises(ValueError):
        equal_error_rate([], different)
