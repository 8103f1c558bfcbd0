"""Speech recognition with faster-whisper, guarded against Whisper's known failure modes."""

from __future__ import annotations

import bisect
import os
import re
import threading
import zlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from types import SimpleNamespace

import numpy as np

from pipeline.pieces import HandOff, piece_bounds, take_pieces
from pipeline.segments import shape_segments
from pipeline.types import SAMPLE_RATE, Segment, Word

os.environ.setdefault("HF_HUB_OFFLINE", "1")

ProgressFn = Callable[[float, float], None]

# Whisper's own thresholds, also used to flag segments for review.
LOGPROB_THRESHOLD = -1.0
NO_SPEECH_THRESHOLD = 0.6
COMPRESSION_RATIO_THRESHOLD = 2.4
LOW_WORD_PROB = 0.5


@dataclass(frozen=True)
class AsrOptions:
    model_path: Path
    model_name: str = ""
    device: str = "auto"
    compute_type: str | None = None
    cpu_threads: int = 0
    language: str = "en"
    batched: bool = True
    batch_size: int = 8
    beam_size: int = 5
    hotwords: str | None = None
    initial_prompt: str | None = None
    # Decode again, on its own, each segment the first pass is unsure of (`_second_pass`).
    second_pass: bool = False
    # What the first pass decodes (`pause_windows`): "pauses", stretches of the recording of up to 30 s cut at
    # pauses, with their pauses; or "speech", faster-whisper's own windows of VAD speech glued end to end.
    windows: str = "pauses"
    # Batched decoding with Whisper's timestamp tokens (faster-whisper's batched default is text only).
    timestamps: bool = True
    # Long recordings are transcribed in pieces of about this length, cut at the quietest moment nearby:
    # faster-whisper's VAD and feature extraction each hold several copies of whatever audio they get. Shorter
    # pieces would let a second thread (`workers`) take more of the work (3-minute pieces: 1.07x end to end against
    # 1.02x), but where a piece is cut moves Whisper's windows, and the joined Common Voice file went 12.5 -> 13.6 %.
    piece_s: float = 600.0
    # Threads that may decode pieces at once (CTranslate2's workers, each with cpu_threads): 2 lets a second thread
    # take pieces once the stage running beside ASR has finished and freed its CPU (`transcribe`'s `handoff`).
    workers: int = 1


def resolve_device(device: str) -> str:
    if device != "auto":
        return device
    import ctranslate2

    return "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"


_models: dict[tuple[str, str, str, int, int], object] = {}
_models_lock = threading.Lock()


def load_model(options: AsrOptions):  # type: ignore[no-untyped-def]
    """One loaded model per process and configuration; loading costs seconds, a job may be minutes."""
    from faster_whisper import WhisperModel

    device = resolve_device(options.device)
    compute_type = options.compute_type or ("float16" if device == "cuda" else "int8")
    threads = options.cpu_threads or (os.cpu_count() or 1)
    key = (str(options.model_path), device, compute_type, threads, options.workers)
    with _models_lock:
        if key not in _models:
            model = WhisperModel(
                str(options.model_path),
                device=device,
                compute_type=compute_type,
                cpu_threads=threads,
                num_workers=options.workers,
                local_files_only=True,
            )
            _check_mels(model, options)
            _models[key] = model
        return _models[key]


def _check_mels(model, options: AsrOptions) -> None:  # type: ignore[no-untyped-def]
    """large-v3 and turbo hear 128 mel bands; the feature extractor only knows so from preprocessor_config.json.

    A user's directory without it would be fed 80 bands and fail, or worse, transcribe garbage.
    """
    from pipeline.weights import ModelUnavailable

    want, have = model.model.n_mels, model.feature_extractor.mel_filters.shape[0]
    if want != have:
        raise ModelUnavailable(
            f"Whisper model {options.model_name or options.model_path} expects {want} mel bands but its "
            f"preprocessor_config.json gives {have} (or is missing): copy preprocessor_config.json from the "
            "model's source into the directory"
        )


_REPEAT = re.compile(r"\b(\w+(?:\W+\w+){0,3}?)(?:\W+\1\b){3,}", re.IGNORECASE)


def _piece_flags(piece: Segment) -> list[str]:
    """Flags of a piece of a segment: its own words and text, its decoding's log-probability and no-speech score;
    what the decoding added (recovered, second_pass) stays."""
    text = piece.text.encode()
    ratio = len(text) / len(zlib.compress(text)) if text else 0.0
    kept = [f for f in piece.flags if f not in ("low_confidence", "repetition", "possible_hallucination")]
    return [*_flags(SimpleNamespace(words=piece.words, avg_logprob=piece.avg_logprob, compression_ratio=ratio,
                                    text=piece.text, no_speech_prob=piece.no_speech_prob)), *kept]


def _flags(seg) -> list[str]:  # type: ignore[no-untyped-def]
    flags = []
    probs = [w.probability for w in (seg.words or [])]
    if seg.avg_logprob < LOGPROB_THRESHOLD or (probs and float(np.mean(probs)) < LOW_WORD_PROB):
        flags.append("low_confidence")
    if seg.compression_ratio > COMPRESSION_RATIO_THRESHOLD or _REPEAT.search(seg.text):
        flags.append("repetition")
    if seg.no_speech_prob > NO_SPEECH_THRESHOLD:
        flags.append("possible_hallucination")
    return flags


# Speech with no transcribed word is transcribed again, sequentially: a whole stretch of speech (VAD's region) that
# none covers from MIN_REGION_S, an uncovered part of a stretch that others cover from MIN_GAP_S (shorter ones are
# the slack of word timings). The VAD here is more sensitive than the first pass's (Silero's 0.5): on the joined
# Common Voice file a quiet speaker's whole sentence scored below 0.5 and was lost (bench/joined_cv.py).
MIN_GAP_S = 1.5
MIN_REGION_S = 0.4
RECOVER_VAD_THRESHOLD = 0.35
GAP_PAD_S = 0.25


def _to_segment(seg, offset: float, index: int, extra_flags: tuple[str, ...] = ()) -> Segment:  # type: ignore[no-untyped-def]
    words = [
        Word(
            start=round(offset + w.start, 3),
            end=round(offset + w.end, 3),
            text=w.word,
            probability=round(w.probability, 4),
        )
        for w in (seg.words or [])
    ]
    return Segment(
        id=index,
        start=round(offset + seg.start, 3),
        end=round(offset + seg.end, 3),
        text=seg.text.strip(),
        words=words,
        avg_logprob=round(seg.avg_logprob, 4),
        no_speech_prob=round(seg.no_speech_prob, 4),
        compression_ratio=round(seg.compression_ratio, 4),
        flags=[*_flags(seg), *extra_flags],
    )


def untranscribed_speech(audio: np.ndarray, segments: list[Segment]) -> list[tuple[float, float]]:
    """Stretches the VAD calls speech but no transcribed word covers.

    Whisper sometimes ends a 30 s window early (an early end-of-text), silently dropping what
    followed; in batched mode nothing picks up from there. These stretches are what got lost.
    """
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    regions = [
        (r["start"] / SAMPLE_RATE, r["end"] / SAMPLE_RATE)
        for r in get_speech_timestamps(audio, VadOptions(threshold=RECOVER_VAD_THRESHOLD, min_silence_duration_ms=500))
    ]
    covered = sorted((w.start - GAP_PAD_S, w.end + GAP_PAD_S) for s in segments for w in s.words)
    middles = sorted((w.start + w.end) / 2 for s in segments for w in s.words)
    gaps: list[tuple[float, float]] = []
    for start, end in regions:
        if bisect.bisect_left(middles, start) == bisect.bisect_right(middles, end):
            if end - start >= MIN_REGION_S:  # no word at all: the whole stretch
                gaps.append((start, end))
            continue
        cursor = start
        for cs, ce in covered:
            if ce <= cursor or cs >= end:
                continue
            if cs - cursor >= MIN_GAP_S:
                gaps.append((cursor, cs))
            cursor = max(cursor, ce)
        if end - cursor >= MIN_GAP_S:
            gaps.append((cursor, end))
    return gaps


# Spans decoded again (recovery, the second pass) are strung together, padded, with a second of silence between,
# into windows of up to GROUP_S: Whisper pads every input to 30 s, so decoding each 1 s gap on its own cost a whole
# window (6 gaps took 29 % of ASR time on 7 minutes of meeting speech).
GROUP_S = 28.0
GROUP_SEP_S = 1.0
RETRY_ALONE = True  # see _decode_spans; bench/joined_cv.py turns it off to measure what it does


def _decode_spans(model, audio: np.ndarray, spans: list[tuple[float, float]], common: dict, pad_s: float,  # type: ignore[no-untyped-def,type-arg]
                  flag: str) -> list[list[Segment]]:
    """Each span's words, decoded sequentially (no VAD), in the recording's time; only words whose middle lies in
    the span (the padding re-hears its neighbours' words)."""
    total = len(audio) / SAMPLE_RATE
    padded = [(max(0.0, a - pad_s), min(total, b + pad_s)) for a, b in spans]
    groups: list[list[int]] = []
    length = 0.0
    for i, (lo, hi) in enumerate(padded):
        if groups and length + GROUP_SEP_S + (hi - lo) <= GROUP_S:
            groups[-1].append(i)
            length += GROUP_SEP_S + (hi - lo)
        else:
            groups.append([i])
            length = hi - lo
    found: list[list[Segment]] = [[] for _ in spans]
    for group in groups:
        _decode_group(model, audio, spans, padded, group, common, flag, found)
    # A span that came back without words from a shared window is decoded again on its own: strung together,
    # Whisper skips short ones as it does in the first pass (on the joined Common Voice file "Ruth is upset." and
    # two other short sentences, in one window with three longer spans; alone, each was heard).
    for i in [i for group in groups if len(group) > 1 for i in group if not found[i]] if RETRY_ALONE else []:
        _decode_group(model, audio, spans, padded, [i], common, flag, found)
    return found


def _decode_group(model, audio: np.ndarray, spans: list[tuple[float, float]], padded: list[tuple[float, float]],  # type: ignore[no-untyped-def]
                  group: list[int], common: dict, flag: str, found: list[list[Segment]]) -> None:  # type: ignore[type-arg]
    """The spans of `group` strung into one window with a second of silence between; their words into `found`."""
    sep = np.zeros(int(GROUP_SEP_S * SAMPLE_RATE), dtype=audio.dtype)
    pieces, parts, cursor = [], [], 0  # parts: (index, start in the group, its audio's start in the recording)
    for i in group:
        lo, hi = int(padded[i][0] * SAMPLE_RATE), int(padded[i][1] * SAMPLE_RATE)
        if pieces:
            pieces.append(sep)
            cursor += len(sep)
        parts.append((i, cursor, hi - lo, lo))
        pieces.append(audio[lo:hi])
        cursor += hi - lo
    segs, _ = model.transcribe(np.concatenate(pieces), condition_on_previous_text=False,
                               **{**common, "vad_filter": False})
    for seg in segs:
        whole = _to_segment(seg, 0.0, 0, (flag,))
        for i, at, n, lo in parts:
            mine = [w for w in whole.words if at <= (w.start + w.end) / 2 * SAMPLE_RATE < at + n]
            if not mine:
                continue
            shift = (lo - at) / SAMPLE_RATE
            moved = replace(whole, words=[replace(w, start=round(w.start + shift, 3), end=round(w.end + shift, 3))
                                          for w in mine])
            kept = _within(moved, *spans[i])
            if kept:
                found[i].append(kept)


def _recover(model, audio: np.ndarray, gaps: list[tuple[float, float]], common: dict) -> list[Segment]:  # type: ignore[no-untyped-def,type-arg]
    return [seg for segs in _decode_spans(model, audio, gaps, common, GAP_PAD_S, "recovered") for seg in segs]


def _within(seg: Segment, start: float, end: float) -> Segment | None:
    """`seg` cut down to the words whose middle lies in [start, end], or None if none does."""
    words = [w for w in seg.words if start <= (w.start + w.end) / 2 <= end]
    if not words:
        return None
    return replace(seg, start=words[0].start, end=max(w.end for w in words),
                   text="".join(w.text for w in words).strip(), words=words)


# The second pass (AsrOptions.second_pass): each shaped segment the first pass is unsure of (flagged low_confidence or
# repetition, or a mean word probability below RECHECK_WORD_PROB) is decoded again on its own audio, sequentially
# with beam search and temperature fallback (what batched decoding does without). RECHECK_RULE "always" takes the new
# words; "score" only when their mean word log-probability is higher and they are not fewer than RECHECK_MIN_WORDS
# of the old count. bench/joined_cv.py, base, every third clip: first pass 13.0 %, "always" 12.7 %, "score" 13.3 %
# (batched); 14.9 / 13.3 / 14.9 % (sequential): the model's own scores do not tell the better hypothesis. On all
# 100 clips, base batched: 16.1 % without, 17.0 % with, at 1.88x the time; base sequential: 16.1 -> 14.6 % at 1.43x.
# After pause windows (`pause_windows`) it loses everywhere: batched 12.2 -> 12.7 % at 1.36x the CPU time,
# sequential 12.0 -> 13.3 % at 1.32x. Off by default (Settings.second_pass; README, "One long file").
RECHECK_RULE = "always"
RECHECK_MIN_WORDS = 0.8
RECHECK_PAD_S = 0.3
UNSURE_FLAGS = ("low_confidence", "repetition")
# Looser than the low_confidence flag (0.5), which hardly ever fires on clean speech: on the joined Common Voice file
# (every third clip, base batched) sentences whose mean word probability is below 0.8 held 29 of the 41 errors in
# 28 % of the words.
RECHECK_WORD_PROB = 0.8


def _unsure(seg: Segment) -> bool:
    return any(f in seg.flags for f in UNSURE_FLAGS) or (
        bool(seg.words) and float(np.mean([w.probability for w in seg.words])) < RECHECK_WORD_PROB)


def _word_score(segments: list[Segment]) -> float:
    probs = [max(w.probability, 1e-6) for s in segments for w in s.words]
    return float(np.mean(np.log(probs))) if probs else float("-inf")


def _keep_second(old: Segment, new: list[Segment]) -> bool:
    if not new:
        return False
    if RECHECK_RULE == "always":
        return True
    count_old, count_new = len(old.words), sum(len(s.words) for s in new)
    return count_new >= RECHECK_MIN_WORDS * count_old and _word_score(new) > _word_score([old])


def _second_pass(model, audio: np.ndarray, segments: list[Segment], common: dict) -> list[Segment]:  # type: ignore[no-untyped-def,type-arg]
    unsure = [i for i, seg in enumerate(segments) if seg.words and _unsure(seg)]
    if not unsure:
        return segments
    decoded = _decode_spans(model, audio, [(segments[i].start, segments[i].end) for i in unsure], common,
                            RECHECK_PAD_S, "second_pass")
    replaced = {i: new for i, new in zip(unsure, decoded, strict=True) if _keep_second(segments[i], new)}
    return [piece for i, seg in enumerate(segments) for piece in replaced.get(i, [seg])]


def _progressive_pipeline(model, on_audio: Callable[[float], None]):  # type: ignore[no-untyped-def]
    """faster-whisper's batched pipeline, reporting how far into the piece each batch got as it finishes.

    Batched segments arrive a whole batch (batch_size chunks of up to 30 s of speech) at a time, so a short
    recording's ASR went from nothing to everything at once and the bar sat at the stage's start. Each batch now
    reports the end of the speech it covered, and the first chunk of a piece runs alone so something shows early.
    That is one extra model call per piece and the same text (checked on three shared clips); measured on the
    42 s clip, 2 cores: 3.4 -> 3.9 s with tiny.en, 9.6 -> 10.4 s with base, and far less on a 10-minute piece,
    where only the first of ~5 batches is split.
    """
    from faster_whisper import BatchedInferencePipeline

    class Progressive(BatchedInferencePipeline):  # type: ignore[misc]
        first = True

        def forward(self, features, tokenizer, chunks_metadata, options):  # type: ignore[no-untyped-def]
            if self.first and len(chunks_metadata) > 1:
                self.first = False
                head = self.forward(features[:1], tokenizer, chunks_metadata[:1], options)
                return head + self.forward(features[1:], tokenizer, chunks_metadata[1:], options)
            self.first = False
            results = super().forward(features, tokenizer, chunks_metadata, options)
            # Each chunk lists the speech regions (samples of this piece) it was cut from.
            ends = [region["end"] for meta in chunks_metadata for region in meta.get("segments", [])]
            if ends:
                on_audio(max(ends) / SAMPLE_RATE)
            return list(results)

    return Progressive(model)


# Conditioning on earlier text is what lets one mistake loop for minutes; the
# silence threshold drops text hallucinated inside long pauses.
SEQUENTIAL_OPTIONS = {"condition_on_previous_text": False, "hallucination_silence_threshold": 2.0}


def whisper_options(options: AsrOptions) -> dict:  # type: ignore[type-arg]
    """faster-whisper's options for every piece (sequential decoding adds SEQUENTIAL_OPTIONS); bench/asr_overhead.py
    hands bare faster-whisper the same."""
    return dict(
        language=options.language or None,
        word_timestamps=True,
        vad_filter=True,
        beam_size=options.beam_size,
        no_speech_threshold=NO_SPEECH_THRESHOLD,
        log_prob_threshold=LOGPROB_THRESHOLD,
        compression_ratio_threshold=COMPRESSION_RATIO_THRESHOLD,
        hotwords=options.hotwords,
        initial_prompt=options.initial_prompt,
    )


# The first pass's windows ("pauses"). faster-whisper glues VAD's speech end to end into 30 s windows: on the joined
# Common Voice file (100 read sentences, 99 voices, 1 s pauses) batched decoding then skipped whole sentences inside
# a window, and word alignment stretched a neighbouring word (one of 7.5 s) over the skipped speech, so recovery did
# not see it as untranscribed: 44 of 152 errors were deletions, 28 of them in four sentences. Windows here are
# stretches of the recording itself, pauses kept, cut at the longest pause in the second half of 30 s, and at any
# pause from LONG_PAUSE_S (silence is not decoded, and a long one is where Whisper makes things up).
WINDOW_S = 30.0
LONG_PAUSE_S = 3.0
WINDOW_VAD_MIN_SILENCE_MS = 160  # faster-whisper's batched default: pauses between phrases, not only sentences


def pause_windows(audio: np.ndarray) -> list[tuple[float, float]]:
    """Windows of at most WINDOW_S seconds covering VAD's speech, each from the start of a speech region to the
    end of one, cut where the pause is longest (see above)."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    vad = VadOptions(max_speech_duration_s=WINDOW_S, min_silence_duration_ms=WINDOW_VAD_MIN_SILENCE_MS)
    regions = [(r["start"] / SAMPLE_RATE, r["end"] / SAMPLE_RATE) for r in get_speech_timestamps(audio, vad)]
    windows: list[tuple[float, float]] = []
    i = 0
    while i < len(regions):
        start, last = regions[i][0], i
        while (last + 1 < len(regions) and regions[last + 1][1] - start <= WINDOW_S
               and regions[last + 1][0] - regions[last][1] < LONG_PAUSE_S):
            last += 1
        if last + 1 < len(regions) and regions[last + 1][0] - regions[last][1] < LONG_PAUSE_S:
            # Cut for length: at the longest pause whose window keeps at least half of WINDOW_S.
            cuts = [k for k in range(i, last + 1) if regions[k][1] - start >= WINDOW_S / 2]
            if cuts:
                last = max(cuts, key=lambda k: (regions[k + 1][0] - regions[k][1], k))
        windows.append((start, regions[last][1]))
        i = last + 1
    return windows


def _first_pass(model, audio: np.ndarray, options: AsrOptions, common: dict,  # type: ignore[no-untyped-def,type-arg]
                on_audio: Callable[[float], None]):  # type: ignore[no-untyped-def]
    """faster-whisper's segments and info for one piece, batched or sequential, on the windows options ask for."""
    kwargs = dict(common)
    if options.windows == "pauses":
        windows = pause_windows(audio)
        if not windows:
            return iter([]), SimpleNamespace(language=options.language or "en")
        kwargs["vad_filter"] = False
    if options.batched:
        if options.windows == "pauses":
            kwargs["clip_timestamps"] = [{"start": a, "end": b} for a, b in windows]
        return _progressive_pipeline(model, on_audio).transcribe(
            audio, batch_size=options.batch_size, without_timestamps=not options.timestamps, **kwargs)
    if options.windows == "pauses":
        kwargs["clip_timestamps"] = [t for window in windows for t in window]
    return model.transcribe(audio, **SEQUENTIAL_OPTIONS, **kwargs)


def _transcribe_piece(model, audio: np.ndarray, options: AsrOptions, common: dict, offset_s: float,  # type: ignore[no-untyped-def,type-arg]
                      on_segment: Callable[[float], None]) -> tuple[list[Segment], str]:
    segments_iter, info = _first_pass(model, audio, options, common, lambda end_s: on_segment(offset_s + end_s))
    segments: list[Segment] = []  # piece-local times until the end
    for seg in segments_iter:
        segments.append(_to_segment(seg, 0.0, 0))
        on_segment(offset_s + segments[-1].end)
    gaps = untranscribed_speech(audio, segments)
    if gaps:
        segments += _recover(model, audio, gaps, common)
    return [_shifted(s, offset_s) for s in segments], info.language


def _shifted(seg: Segment, by: float) -> Segment:
    if not by:
        return seg
    words = [replace(w, start=round(w.start + by, 3), end=round(w.end + by, 3)) for w in seg.words]
    return replace(seg, start=round(seg.start + by, 3), end=round(seg.end + by, 3), words=words)


def transcribe(
    audio: np.ndarray, *, options: AsrOptions, on_progress: ProgressFn | None = None,
    handoff: HandOff | None = None,
) -> tuple[list[Segment], str]:
    """Segments and language of mono 16 kHz audio. `handoff`: where a stage running beside ASR lends its thread
    when it finishes; with `options.workers` >= 2 that thread then decodes pieces too (`pipeline.pieces`)."""
    model = load_model(options)
    total = len(audio) / SAMPLE_RATE
    common = whisper_options(options)
    bounds = piece_bounds(audio, options.piece_s)

    def decode(index: int, report: Callable[[float], None]) -> tuple[list[Segment], str]:
        lo, hi = bounds[index]
        offset_s = lo / SAMPLE_RATE
        return _transcribe_piece(model, audio[lo:hi], options, common, offset_s,
                                 lambda end_s: report(end_s - offset_s))

    def on_done(seconds: float) -> None:
        if on_progress:
            on_progress(min(seconds, total), total)

    pieces = take_pieces(len(bounds), decode, on_done=on_done,
                         handoff=handoff if options.workers >= 2 else None)
    segments = [seg for piece, _ in pieces for seg in piece]
    languages = [language for _, language in pieces]
    segments = shape_segments(segments, _piece_flags)
    if options.second_pass:
        # On the shaped segments (a sentence, or a pause-bounded stretch of at most 7 s): a batched segment is a
        # whole 30 s window, whose mean hides the one sentence it got wrong.
        segments = shape_segments(_second_pass(model, audio, segments, whisper_options(options)), _piece_flags)
    if on_progress:
        on_progress(total, total)
    return segments, max(set(languages), key=languages.count)
