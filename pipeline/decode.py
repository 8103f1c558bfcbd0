"""Decode any supported container from a (seekable) file object to 16 kHz float32, in memory.

Mono by default. With `keep_stereo`, a two-channel stream comes back as shape (2, n) so the pipeline can tell a
recording with one person per channel (a phone or call recorder) from one sound in both channels.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO

import av
import numpy as np

from pipeline.types import SAMPLE_RATE


class DecodeError(Exception):
    """The audio could not be decoded. The message is fixed text, never content."""


def _open_audio(source: BinaryIO | str) -> tuple[av.container.InputContainer, av.audio.stream.AudioStream]:
    try:
        container = av.open(source, mode="r", metadata_errors="ignore")
    except (av.FFmpegError, ValueError) as exc:
        raise DecodeError("audio container could not be opened") from exc
    if not container.streams.audio:
        container.close()
        raise DecodeError("no audio stream")
    return container, container.streams.audio[0]


def decode_audio(
    source: BinaryIO | str, *, sample_rate: int = SAMPLE_RATE, expected_s: float | None = None,
    keep_stereo: bool = False,
) -> np.ndarray:
    """`expected_s` (the probed duration) sizes the buffer once, so a long file never needs 2x."""
    container, stream = _open_audio(source)
    try:
        stream.thread_type = "AUTO"
        channels = 2 if keep_stereo and stream.codec_context.channels == 2 else 1
        # Planar float: one row per channel.
        resampler = av.AudioResampler(format="fltp", layout="stereo" if channels == 2 else "mono", rate=sample_rate)
        # Grow one buffer instead of concatenating a list: peak memory stays ~1x the output.
        if expected_s is None and stream.duration and stream.time_base:
            expected_s = float(stream.duration * stream.time_base)
        capacity = int((expected_s or 60.0) * sample_rate * 1.01) + sample_rate
        out = np.empty((channels, capacity), dtype=np.float32)
        n = 0

        def append(frames: list[av.AudioFrame]) -> None:
            nonlocal out, n
            for frame in frames:
                data = frame.to_ndarray().reshape(channels, -1)
                size = data.shape[1]
                if n + size > out.shape[1]:
                    grown = np.empty((channels, max(int(out.shape[1] * 1.5), n + size)), dtype=np.float32)
                    grown[:, :n] = out[:, :n]
                    out = grown
                out[:, n : n + size] = data
                n += size

        try:
            for frame in container.decode(stream):
                frame.pts = None  # let the resampler re-time frames with gaps instead of failing
                append(resampler.resample(frame))
            append(resampler.resample(None))
        except av.FFmpegError as exc:
            raise DecodeError("audio stream is corrupt or truncated") from exc
        if n == 0:
            raise DecodeError("audio stream holds no samples")
        result = out[:, :n].copy() if n < out.shape[1] * 0.8 else out[:, :n]
        return result[0] if channels == 1 else result
    finally:
        container.close()


def decode_window(
    source: BinaryIO | str, *, start_s: float, end_s: float, sample_rate: int = SAMPLE_RATE
) -> np.ndarray:
    """Only [start_s, end_s): seeks near the start instead of decoding the whole recording."""
    container, stream = _open_audio(source)
    try:
        if start_s > 1.0:
            container.seek(int((start_s - 1.0) / stream.time_base), stream=stream, backward=True)
        resampler = av.AudioResampler(format="flt", layout="mono", rate=sample_rate)
        chunks: list[np.ndarray] = []
        t0: float | None = None
        for frame in container.decode(stream):
            frame_start = float(frame.pts * frame.time_base) if frame.pts is not None else None
            if t0 is None:
                t0 = frame_start or 0.0
            if frame_start is not None and frame_start > end_s:
                break
            frame.pts = None
            chunks.extend(f.to_ndarray().reshape(-1) for f in resampler.resample(frame))
        audio = np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.float32)
        offset = int(max(0.0, start_s - (t0 or 0.0)) * sample_rate)
        return audio[offset : offset + int((end_s - start_s) * sample_rate)]
    except av.FFmpegError as exc:
        raise DecodeError("audio stream is corrupt or truncated") from exc
    finally:
        container.close()


def to_pcm16(audio: np.ndarray) -> np.ndarray:
    """Float samples as little-endian 16-bit; a 16-bit source comes back exactly (its floats are n / 32768)."""
    return np.clip(np.rint(audio * 32768.0), -32768, 32767).astype("<i2")


def _seconds(pts: int | None, time_base: object) -> float | None:
    return None if pts is None or time_base is None else float(pts * time_base)


def stream_pcm16(
    source: BinaryIO | str, *, start_s: float = 0.0, sample_rate: int = SAMPLE_RATE, min_samples: int = 16_000
) -> Iterator[np.ndarray]:
    """Mono 16-bit samples from `start_s` to the end, in arrays of at least `min_samples` (the last may be shorter).

    On `decode_audio`'s timeline - sample k lies k / sample_rate after the stream's first sample, which is where
    the transcript's times count from - so a player can seek here instead of decoding the whole recording. The
    container seeks a second early: codecs that need pre-roll (Opus) are settled by the wanted sample.
    """
    container, stream = _open_audio(source)
    try:
        stream.thread_type = "AUTO"
        origin = 0.0
        if start_s > 1.0:
            # Where decode_audio's sample 0 lies: the first frame's time (an MP3's encoder delay puts it after 0;
            # WebM's start_time is off by the Opus pre-skip).
            first = next(container.decode(stream), None)
            pts = _seconds(first.pts, first.time_base) if first is not None else None
            origin = pts or 0.0
            container.seek(int((origin + start_s - 1.0) / stream.time_base), stream=stream, backward=True)
        # Float, as decode_audio resamples (an integer output would downmix stereo 3 dB quieter), then 16-bit.
        resampler = av.AudioResampler(format="flt", layout="mono", rate=sample_rate)
        skip: int | None = None if start_s > 1.0 else round(start_s * sample_rate)
        pending: list[np.ndarray] = []
        held = 0

        def frames() -> Iterator[np.ndarray]:
            nonlocal skip
            for frame in container.decode(stream):
                if skip is None:
                    # Where this decode joined the timeline: everything before `start_s` is dropped.
                    pts = _seconds(frame.pts, frame.time_base)
                    at = origin if pts is None else pts
                    skip = max(0, round((start_s - (at - origin)) * sample_rate))
                frame.pts = None  # re-timed by the resampler, as decode_audio does
                yield from (f.to_ndarray().reshape(-1) for f in resampler.resample(frame))
            yield from (f.to_ndarray().reshape(-1) for f in resampler.resample(None))

        for data in frames():
            if skip:
                dropped = min(skip, data.size)
                data, skip = data[dropped:], skip - dropped
            if data.size:
                pending.append(data)
                held += data.size
            if held >= min_samples:
                yield to_pcm16(np.concatenate(pending))
                pending, held = [], 0
        if pending:
            yield to_pcm16(np.concatenate(pending))
    except av.FFmpegError as exc:
        raise DecodeError("audio stream is corrupt or truncated") from exc
    finally:
        container.close()
