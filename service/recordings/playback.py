"""Listening to a whole recording while it is reviewed: 16 kHz mono 16-bit WAV, decoded from the sealed blob for each
requested byte range and never written anywhere.

Per range, not once per session: a seek starts decoding one second before the wanted sample, so the first bytes
of any range of a one-hour recording come in 5-220 ms on the 2-core reference machine (WAV, AAC, MP3, Opus; MP3
seeks slowest), while decoding it whole takes 1.4-8.6 s and would hold 115 MB of plaintext per recording in the
process for the session (`python -m bench.player_decode` measures both). Nothing is cached, so nothing lingers in
memory after approval or deletion, and every request checks that the audio still exists (410 once it is gone).

The bytes are `decode_audio`'s timeline, the one the transcript's times count on; the length the header declares
comes from the probed duration (to the millisecond), and the stream is cut or padded with silence to match it.
"""

from __future__ import annotations

import struct
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from service.audit import service as audit
from service.core.blobs import BlobNotFound
from service.core.errors import DomainError
from service.core.sealed import DataKeyNotFound, SealedStore
from service.recordings import ranges
from service.recordings.models import Recording

SAMPLE_RATE = 16_000
HEADER_BYTES = 44
# Two seconds of audio per chunk sent: small enough to start playing at once, large enough to be cheap.
CHUNK_SAMPLES = 2 * SAMPLE_RATE
# One `recording.listen` event covers this long: a review session, not each of the player's range requests.
LISTEN_SESSION = timedelta(minutes=30)
ZEROS = bytes(64 * 1024)


class AudioGone(DomainError):
    status = 410
    message = "the audio of this recording has been deleted"


@dataclass(frozen=True)
class Playback:
    recording_id: str
    blob_id: str
    key_id: str
    samples: int

    @property
    def size(self) -> int:
        return HEADER_BYTES + 2 * self.samples

    def header(self) -> bytes:
        data = 2 * self.samples
        return b"".join((
            b"RIFF", struct.pack("<I", 36 + data), b"WAVE",
            b"fmt ", struct.pack("<IHHIIHH", 16, 1, 1, SAMPLE_RATE, 2 * SAMPLE_RATE, 2, 16),
            b"data", struct.pack("<I", data),
        ))


def playback(*, recording: Recording) -> Playback:
    """What can be played of this recording; `AudioGone` (410) once retention, approval or a deletion took it."""
    if recording.blob_id is None or recording.key_id is None or recording.audio_deleted_at is not None:
        raise AudioGone()
    samples = max(1, round(recording.duration_s * SAMPLE_RATE))
    return Playback(recording_id=recording.id, blob_id=recording.blob_id, key_id=recording.key_id, samples=samples)


def listen(
    *, db_session: Session, sealed: SealedStore, playback: Playback, actor_id: int, first: int, last: int
) -> AsyncIterator[bytes]:
    """Bytes `first`..`last` (inclusive) of the recording's WAV. Audits the listening session in the caller's
    transaction and opens the decrypting reader now (the key comes from the database, which the stream, sent after
    the request's session has closed, never touches)."""
    audit.record_once_within(
        db_session=db_session, within=LISTEN_SESSION, action="recording.listen", actor_id=actor_id,
        object_type="recording", object_id=playback.recording_id,
    )
    opened = None
    if last >= HEADER_BYTES:
        try:
            opened = sealed.open_reader(
                db_session=db_session, blob_id=playback.blob_id, key_id=playback.key_id,
                object_id=playback.recording_id,
            )
        except (DataKeyNotFound, BlobNotFound) as exc:
            raise AudioGone() from exc  # shredded since the row was read
    return _stream(playback, opened, first, last)


async def _stream(playback: Playback, opened: tuple[Any, Any] | None, first: int, last: int) -> AsyncIterator[bytes]:
    try:
        if first < HEADER_BYTES:
            yield playback.header()[first : last + 1]
            first = HEADER_BYTES
        if opened is None or last < first:
            return
        offset, remaining = first - HEADER_BYTES, last - first + 1
        async for data in _pcm(opened[0], offset // 2):
            data = data[offset % 2 :][:remaining]
            offset, remaining = 0, remaining - len(data)
            if data:
                yield data
            if remaining <= 0:
                return
        # The decoder ended before the declared length (the probe rounds the duration): silence to the end.
        while remaining > 0:
            yield ZEROS[: min(remaining, len(ZEROS))]
            remaining -= len(ZEROS)
    finally:
        if opened is not None:
            for part in opened:
                part.close()


async def _pcm(reader: Any, sample: int) -> AsyncIterator[bytes]:
    from pipeline.decode import stream_pcm16

    chunks: Iterator[Any] = stream_pcm16(reader, start_s=sample / SAMPLE_RATE, min_samples=CHUNK_SAMPLES)
    try:
        while (chunk := await run_in_threadpool(next, chunks, None)) is not None:
            yield chunk.tobytes()
    finally:
        # Not while a worker thread runs it: a cancelled request waits for the chunk in hand (anyio does not
        # abandon the thread), so by now the generator is idle and closing it closes the container.
        chunks.close()


def response(
    *, db_session: Session, sealed: SealedStore, recording: Recording, actor_id: int, range_header: str | None
) -> Response:
    """The API's and the review page's answer (the caller has checked the role and that the recording is visible):
    410 if the audio is gone, 416 for a range past its end, else 200 or 206 with the bytes streamed."""
    audio = playback(recording=recording)

    def body(first: int, last: int) -> AsyncIterator[bytes]:
        return listen(db_session=db_session, sealed=sealed, playback=audio, actor_id=actor_id, first=first, last=last)

    return ranges.respond(range_header, size=audio.size, body=body, media_type="audio/wav",
                          headers={"Cache-Control": "no-store"})
