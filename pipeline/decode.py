"""Decode any supported container from a (seekable) file object to 16 kHz float32, in memory.

Mono by default. With `keep_stereo`, a two-channel stream comes back as shape (2, n) so the pipeline can tell a
recording with one person per channel (a phone or call recorder) from one sound in both channels.
"""

from __future__ import annotations

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
