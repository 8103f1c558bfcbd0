"""Merge Whisper words with diarisation turns: every word gets a speaker, no segment spans two."""

from __future__ import annotations

import bisect
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import replace

from pipeline.diarise import Turn
from pipeline.types import Segment, SpeakerInfo, Word

INTERVIEWER = "Interviewer"
PARTICIPANT = "Participant"
OTHER = "Other"
# A word counts as overlapped when a second speaker covers at least this share of it.
OVERLAP_SHARE = 0.3


class _TurnIndex:
    def __init__(self, turns: Sequence[Turn]) -> None:
        self.turns = sorted(turns, key=lambda t: t.start)
        self.starts = [t.start for t in self.turns]
        self.max_len = max((t.end - t.start for t in self.turns), default=0.0)

    def overlapping(self, start: float, end: float) -> list[Turn]:
        lo = bisect.bisect_left(self.starts, start - self.max_len)
        hi = bisect.bisect_right(self.starts, end)
        return [t for t in self.turns[lo:hi] if t.end > start and t.start < end]

    def nearest(self, t: float) -> Turn | None:
        if not self.turns:
            return None
        i = bisect.bisect_left(self.starts, t)
        candidates = self.turns[max(0, i - 3) : i + 2]
        return min(candidates, key=lambda turn: 0.0 if turn.start <= t <= turn.end else min(
            abs(turn.start - t), abs(turn.end - t)))


def _label_word(word: Word, index: _TurnIndex) -> Word:
    if word.end <= word.start:
        return word  # no usable timing: decided from its neighbours below
    share: dict[str, float] = defaultdict(float)
    for turn in index.overlapping(word.start, word.end):
        share[turn.speaker] += min(word.end, turn.end) - max(word.start, turn.start)
    if share:
        ranked = sorted(share.items(), key=lambda kv: -kv[1])
        overlap = bool(len(ranked) > 1 and ranked[1][1] >= OVERLAP_SHARE * (word.end - word.start))
        return replace(word, speaker=ranked[0][0], overlap=overlap)
    nearest = index.nearest((word.start + word.end) / 2)
    return replace(word, speaker=nearest.speaker if nearest else None)


def _fill_untimed(words: list[Word], index: _TurnIndex) -> list[Word]:
    """Words Whisper left without timing (often numbers and dates) take the speaker around them; a segment whose
    every word is untimed (Whisper gave it no length) takes the turn at or nearest its instant."""
    out = list(words)
    for i, w in enumerate(out):
        if w.speaker is None:
            prev = next((out[j].speaker for j in range(i - 1, -1, -1) if out[j].speaker), None)
            nxt = next((out[j].speaker for j in range(i + 1, len(out)) if out[j].speaker), None)
            nearest = None if prev or nxt else index.nearest(w.start)
            out[i] = replace(w, speaker=prev or nxt or (nearest.speaker if nearest else None))
    return out


def _text(words: Sequence[Word]) -> str:
    return "".join(w.text for w in words).strip()


def assign_speakers(segments: Sequence[Segment], turns: Sequence[Turn]) -> list[Segment]:
    index = _TurnIndex(turns)
    result: list[Segment] = []
    for seg in segments:
        if not seg.words:
            found = index.overlapping(seg.start, seg.end) or [t for t in [index.nearest(seg.start)] if t]
            best = Counter({t.speaker: 0.0 for t in found})
            for t in found:
                best[t.speaker] += min(seg.end, t.end) - max(seg.start, t.start)
            result.append(replace(seg, speaker=best.most_common(1)[0][0] if best else None))
            continue
        words = _fill_untimed([_label_word(w, index) for w in seg.words], index)
        # Split wherever the speaker changes: a segment never spans two speakers.
        run: list[Word] = [words[0]]
        for w in words[1:]:
            if w.speaker != run[-1].speaker:
                result.append(_piece(seg, run))
                run = [w]
            else:
                run.append(w)
        result.append(_piece(seg, run))
    for i, seg in enumerate(result):
        seg.id = i
    return result


def _piece(seg: Segment, words: list[Word]) -> Segment:
    timed = [w for w in words if w.end > w.start] or words
    return replace(
        seg,
        start=min(w.start for w in timed),
        end=max(w.end for w in timed),
        text=_text(words),
        words=words,
        speaker=words[0].speaker,
    )


def rename_to_slots(segments: list[Segment], turns: Sequence[Turn]) -> dict[str, str]:
    """Diariser labels -> S1, S2, ... in order of first speech, so slots read naturally."""
    first: dict[str, float] = {}
    for seg in segments:
        if seg.speaker and seg.speaker not in first:
            first[seg.speaker] = seg.start
    for t in turns:
        first.setdefault(t.speaker, t.start + 1e6)  # heard but never transcribed: last
    mapping = {label: f"S{i + 1}" for i, label in enumerate(sorted(first, key=first.__getitem__))}
    for seg in segments:
        seg.speaker = mapping.get(seg.speaker or "", seg.speaker)
        for w in seg.words:
            w.speaker = mapping.get(w.speaker or "", w.speaker)
    return mapping


def guess_roles(segments: Sequence[Segment]) -> list[SpeakerInfo]:
    """The interviewer asks the questions, usually speaks first and talks less; the rest participate."""
    talk: dict[str, float] = defaultdict(float)
    questions: Counter[str] = Counter()
    utterances: Counter[str] = Counter()
    first: dict[str, float] = {}
    for seg in segments:
        if not seg.speaker:
            continue
        talk[seg.speaker] += seg.end - seg.start
        utterances[seg.speaker] += 1
        questions[seg.speaker] += seg.text.count("?")
        first.setdefault(seg.speaker, seg.start)
    slots = sorted(first, key=first.__getitem__)
    if not slots:
        return []
    total = sum(talk.values()) or 1.0
    if len(slots) == 1:
        roles = {slots[0]: PARTICIPANT}
    else:
        def score(s: str) -> float:
            return (questions[s] / max(1, utterances[s])) + (0.3 if s == slots[0] else 0.0) + 0.5 * (
                1 - talk[s] / total)

        interviewer = max(slots, key=score)
        by_talk = sorted((s for s in slots if s != interviewer), key=lambda s: -talk[s])
        roles = {interviewer: INTERVIEWER, by_talk[0]: PARTICIPANT}
        for s in by_talk[1:]:
            roles[s] = OTHER
    return [
        SpeakerInfo(slot=s, role=roles[s], talk_time=round(float(talk[s]), 2), questions=questions[s],
                    first_start=round(float(first[s]), 3))
        for s in slots
    ]


def merge_turns(segments: Sequence[Segment]) -> list[dict[str, object]]:
    """Consecutive segments of one speaker joined into reading turns."""
    turns: list[dict[str, object]] = []
    for seg in segments:
        if turns and turns[-1]["speaker"] == seg.speaker:
            turns[-1]["end"] = seg.end
            turns[-1]["text"] = f"{turns[-1]['text']} {seg.text}".strip()
            turns[-1]["segments"].append(seg.id)  # type: ignore[attr-defined]
        else:
            turns.append({"speaker": seg.speaker, "start": seg.start, "end": seg.end, "text": seg.text,
                          "segments": [seg.id]})
    return turns


def reconcile_with_voices(turns: Sequence[Turn], cues: Sequence[object]) -> tuple[list[Turn], dict[str, int]]:
    """Use a Teams transcript's timed voices to tie diarised clusters to distinct people.

    Each cluster is matched to the voice it overlaps most (if that covers most of its matched time).
    When the diariser found more clusters than there are voices, clusters matched to the same voice
    are one person split in two (a common diarisation error) and are merged. Returns the turns and
    cluster -> voice index (order of first appearance; never a name).
    """
    voices: dict[str, int] = {}
    for cue in cues:
        voices.setdefault(cue.voice, len(voices))  # type: ignore[attr-defined]
    overlap: dict[str, Counter[int]] = defaultdict(Counter)
    for turn in turns:
        for cue in cues:
            shared = min(turn.end, cue.end) - max(turn.start, cue.start)  # type: ignore[attr-defined]
            if shared > 0:
                overlap[turn.speaker][voices[cue.voice]] += shared  # type: ignore[attr-defined]
    matched: dict[str, int] = {}
    for cluster, counts in overlap.items():
        voice, best = counts.most_common(1)[0]
        if best >= 0.6 * sum(counts.values()):
            matched[cluster] = voice
    clusters = {t.speaker for t in turns}
    rename: dict[str, str] = {}
    if len(clusters) > len(voices):
        by_voice: dict[int, list[str]] = defaultdict(list)
        for cluster, voice in matched.items():
            by_voice[voice].append(cluster)
        for group in by_voice.values():
            keep = max(group, key=lambda c: sum(overlap[c].values()))
            for c in group:
                if c != keep:
                    rename[c] = keep
    merged = [replace(t, speaker=rename.get(t.speaker, t.speaker)) for t in turns]
    return merged, {c: v for c, v in matched.items() if c not in rename}
