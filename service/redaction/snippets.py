"""Review snippets: a few seconds of audio around a span, decoded in memory from the sealed blob, so a reviewer can
hear a name. One audited read per snippet (the transcript read it needs is part of it); nothing is stored."""

from __future__ import annotations

import io
import wave
from typing import Any

from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from service.audit import service as audit
from service.core.sealed import SealedStore
from service.recordings.models import Recording
from service.redaction.anonymise import word_ranges
from service.redaction.models import RedactionSpan
from service.redaction.service import ReviewError
from service.transcripts import service as transcripts
from service.transcripts import versions

PAD_S = 2.0


def span_times(seg: dict[str, Any], start: int, end: int) -> tuple[float, float]:
    """The span's words' times, or the whole segment's if no word is timed."""
    ranges = word_ranges(seg["text"], seg.get("words", []))
    hits = [w for w, r in zip(seg.get("words", []), ranges, strict=True) if r and r[0] < end and start < r[1]]
    if hits:
        return float(hits[0]["start"]), float(hits[-1]["end"])
    return float(seg["start"]), float(seg["end"])


def to_wav(audio: Any) -> bytes:
    import numpy as np

    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16_000)
        w.writeframes((np.clip(audio, -1, 1) * 32767).astype("<i2").tobytes())
    return buf.getvalue()


async def span_snippet(
    *, sealed: SealedStore, db_session: Session, recording: Recording, span_id: int, actor_id: int, pad: float = PAD_S
) -> bytes:
    """WAV bytes of the span with `pad` seconds either side. 404: no such span here; 410: audio or transcript gone."""
    span = db_session.get(RedactionSpan, span_id)
    if span is None or span.recording_id != recording.id:
        raise ReviewError(404, "no such span")
    if recording.blob_id is None or recording.key_id is None or recording.audio_deleted_at is not None:
        raise ReviewError(410, "the audio has been deleted")
    try:
        # The snippet event below records this read: one action, one audit entry.
        raw = versions.load_working(
            db_session=db_session, sealed=sealed, recording_id=recording.id, actor_id=actor_id,
            audited=False,
        )
    except transcripts.TranscriptNotReady as exc:
        raise ReviewError(410, "the unredacted transcript has been deleted") from exc
    start, end = span_times(raw["segments"][span.segment], span.start, span.end)
    reader, source = sealed.open_reader(
        db_session=db_session, blob_id=recording.blob_id, key_id=recording.key_id, object_id=recording.id
    )
    from pipeline.decode import decode_window

    try:
        audio = await run_in_threadpool(decode_window, reader, start_s=max(0.0, start - pad), end_s=end + pad)
    finally:
        reader.close()
        source.close()
    audit.record(
        db_session=db_session,
        action="review.audio_snippet",
        actor_id=actor_id,
        object_type="recording",
        object_id=recording.id,
        details={"span": span_id},
    )
    return to_wav(audio)
