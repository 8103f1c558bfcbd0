"""What audio we accept, decided from the bytes themselves, never from a file name."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import BinaryIO

import av

from service.core.errors import DomainError

SNIFF_BYTES = 16
MIN_FILE_BYTES = 64
# Where a WAV's `data` chunk header is looked for; real files put fmt/LIST/fact chunks well within this.
WAV_HEADER_SCAN = 64 * 1024
# PyAV demuxer names we accept; anything else is refused even if FFmpeg could read it.
ACCEPTED_FORMATS = {"wav", "mov,mp4,m4a,3gp,3g2,mj2", "mp3", "ogg", "matroska,webm", "flac", "aac"}


class MediaError(DomainError):
    """The file is not audio we accept (container, stream, length)."""


def sniff(head: bytes) -> str | None:
    """Return the container family the first bytes announce, or None."""
    if head[:4] in (b"RIFF", b"RF64") and head[8:12] == b"WAVE":
        return "wav"
    if head[4:8] == b"ftyp":
        return "mp4"
    if head[:3] == b"ID3":
        return "mp3"
    if len(head) >= 2 and head[0] == 0xFF and head[1] & 0xF6 == 0xF0:
        return "aac"
    if len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0:
        return "mp3"
    if head[:4] == b"OggS":
        return "ogg"
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return "webm"
    if head[:4] == b"fLaC":
        return "flac"
    return None


def wav_missing_fraction(reader: BinaryIO) -> float:
    """How much of the `data` chunk a RIFF/WAVE header declares lies past the end of the file.

    FFmpeg clamps a `data` chunk that runs past EOF to the bytes present, so a cut-off WAV demuxes as a
    shorter, complete one; only the header tells the difference.
    """
    reader.seek(0)
    head = reader.read(WAV_HEADER_SCAN)
    size = reader.seek(0, io.SEEK_END)
    reader.seek(0)
    # RF64 keeps its real sizes in a ds64 chunk; not checked here.
    if head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        return 0.0
    offset = 12
    while offset + 8 <= len(head):
        chunk_id = head[offset : offset + 4]
        chunk_size = int.from_bytes(head[offset + 4 : offset + 8], "little")
        if chunk_id == b"data":
            # Streaming writers leave the size 0 or all ones: unknown, not truncated.
            if chunk_size in (0, 0xFFFFFFFF):
                return 0.0
            missing = offset + 8 + chunk_size - size
            return max(0, missing) / chunk_size
        offset += 8 + chunk_size + (chunk_size & 1)
    return 0.0


@dataclass(frozen=True)
class Probe:
    container: str
    codec: str
    duration_s: float


def probe(reader: BinaryIO, *, min_duration_s: float, max_duration_s: float = float("inf")) -> Probe:
    """Open, demux every audio packet and decode a few frames: catches truncation and bad codecs early."""
    # Same tolerance as the demuxed-duration check below: a writer's slightly-off size is not truncation.
    if wav_missing_fraction(reader) > 0.1:
        raise MediaError(422, "the file is truncated: its audio ends before its declared length")
    try:
        container = av.open(reader, mode="r", metadata_errors="ignore")
    except (av.FFmpegError, ValueError) as exc:
        raise MediaError(422, "the file could not be decoded: it is corrupt or truncated") from exc
    try:
        if container.format.name not in ACCEPTED_FORMATS:
            raise MediaError(415, "unsupported audio container")
        if not container.streams.audio:
            raise MediaError(422, "the file has no audio stream")
        stream = container.streams.audio[0]
        # The audio stream's own length, not the container's: that is the longest stream's, and a video
        # track running on past the audio (x264 lookahead, Teams exports) is not truncated audio.
        if stream.duration and stream.time_base:
            declared = float(stream.duration * stream.time_base)
        else:
            declared = float(container.duration / 1_000_000) if container.duration else 0.0
        demuxed = 0.0
        decoded_frames = 0
        try:
            for packet in container.demux(stream):
                if packet.duration and packet.time_base:
                    demuxed += float(packet.duration * packet.time_base)
                if decoded_frames < 20 and packet.size:
                    decoded_frames += len(packet.decode())
        except av.FFmpegError as exc:
            raise MediaError(422, "the audio stream is corrupt or truncated") from exc
        if decoded_frames == 0:
            raise MediaError(422, "the audio stream could not be decoded")
        duration = demuxed or declared
        if declared > 2.0 and demuxed and demuxed < 0.9 * declared - 0.5:
            raise MediaError(422, "the file is truncated: its audio ends before its declared length")
        if duration < min_duration_s:
            raise MediaError(422, f"the audio is shorter than {min_duration_s:g} s")
        if duration > max_duration_s:
            raise MediaError(422, f"the audio is longer than the limit of {max_duration_s / 3600:g} h")
        return Probe(
            container=container.format.name.split(",")[0],
            codec=stream.codec_context.name,
            duration_s=round(duration, 3),
        )
    finally:
        container.close()
