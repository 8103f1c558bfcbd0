"""Retention sweeps: delete what the study promised to delete, when it promised to.

- Audio: `audio_retention_after_approval` after its transcript is approved, and in any case `audio_max_age` after
  upload (an `audio.deletion_warning` event `audio_deletion_warning` before that). Crypto-shredding: the wrapped
  data key is destroyed, then the blob; the Teams transcript and known names sealed under that key go with it.
- The unredacted transcript and its redaction spans: `raw_transcript_retention_after_approval` after approval, and
  in any case `raw_transcript_max_age` after it was made. The anonymised transcript is what the study keeps.
- The study's pseudonym map: its entities are forgotten once no transcript was approved for
  `pseudonym_map_retention` (the tag numbering is kept).

Sweeps are idempotent (a second run finds nothing due) and safe to run on several machines at once: each batch
locks its rows with `FOR UPDATE SKIP LOCKED` on PostgreSQL, so concurrent sweepers take disjoint rows, and every
deletion and its audit event commit together.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from service.core.clock import utcnow
from service.core.db import session_scope
from service.core.runtime import Runtime
from service.core.settings import Settings
from service.recordings import lifecycle as recordings
from service.redaction import service as redaction
from service.transcripts import service as transcripts

log = logging.getLogger("anonscribe.retention")

UNLIMITED = 1_000_000_000
# A sweep that keeps finding work is bounded anyway (new uploads can't keep one sweep running forever).
MAX_BATCHES = 10_000


@dataclass(frozen=True)
class Cutoffs:
    audio_approved: datetime  # approved at or before this: audio due
    audio_created: datetime  # uploaded at or before this: audio due in any case
    warn_created: datetime  # uploaded at or before this: warn
    raw_approved: datetime
    raw_created: datetime
    map_idle: datetime

    @classmethod
    def at(cls, now: datetime, settings: Settings) -> Cutoffs:
        return cls(
            audio_approved=now - settings.audio_retention_after_approval,
            audio_created=now - settings.audio_max_age,
            warn_created=now - max(timedelta(0), settings.audio_max_age - settings.audio_deletion_warning),
            raw_approved=now - settings.raw_transcript_retention_after_approval,
            raw_created=now - settings.raw_transcript_max_age,
            map_idle=now - settings.pseudonym_map_retention,
        )


@dataclass
class SweepReport:
    at: datetime
    dry_run: bool
    audio_deleted: list[dict[str, str]] = field(default_factory=list)
    warnings: list[dict[str, str]] = field(default_factory=list)
    raw_transcripts_deleted: list[dict[str, str]] = field(default_factory=list)
    pseudonym_maps_retired: list[dict[str, Any]] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {
            "audio_deleted": len(self.audio_deleted),
            "warnings": len(self.warnings),
            "raw_transcripts_deleted": len(self.raw_transcripts_deleted),
            "pseudonym_maps_retired": len(self.pseudonym_maps_retired),
        }

    def as_dict(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat(),
            "dry_run": self.dry_run,
            "counts": self.counts(),
            "audio_deleted": self.audio_deleted,
            "warnings": self.warnings,
            "raw_transcripts_deleted": self.raw_transcripts_deleted,
            "pseudonym_maps_retired": self.pseudonym_maps_retired,
        }


def run(*, runtime: Runtime, dry_run: bool = False, batch_size: int | None = None) -> SweepReport:
    """One pass of every sweep. `dry_run` reports what would go and writes nothing."""
    settings = runtime.settings
    now = utcnow()
    cut = Cutoffs.at(now, settings)
    report = SweepReport(at=now, dry_run=dry_run)
    if dry_run:
        _plan(runtime, cut, report)
        return report
    batch = batch_size or settings.retention_batch_size
    _sweep_audio(runtime, cut, batch, report)
    _sweep_warnings(runtime, cut, batch, settings.audio_max_age, report)
    _sweep_raw(runtime, cut, batch, report)
    _sweep_maps(runtime, cut, report)
    if any(report.counts().values()):
        log.info("retention sweep: %s", report.counts())
    return report


def _sweep_audio(runtime: Runtime, cut: Cutoffs, batch: int, report: SweepReport) -> None:
    for _ in range(MAX_BATCHES):
        with session_scope(runtime.sessions) as s:
            due = recordings.lock_audio_due(
                db_session=s, created_before=cut.audio_created,
                approved=redaction.approved_before(cut.audio_approved), limit=batch,
            )
            if not due:
                return
            recordings.delete_audio(db_session=s, sealed=runtime.sealed, due=due)
            done = [{"recording_id": r.id, "reason": reason} for r, reason in due]
        report.audio_deleted += done


def _sweep_warnings(runtime: Runtime, cut: Cutoffs, batch: int, max_age: timedelta, report: SweepReport) -> None:
    for _ in range(MAX_BATCHES):
        with session_scope(runtime.sessions) as s:
            due = recordings.lock_warning_due(db_session=s, created_before=cut.warn_created, limit=batch)
            if not due:
                return
            recordings.warn_audio_deletion(db_session=s, recordings=due, max_age=max_age)
            done = [{"recording_id": r.id, "due": (r.created_at + max_age).isoformat()} for r in due]
        report.warnings += done


def _sweep_raw(runtime: Runtime, cut: Cutoffs, batch: int, report: SweepReport) -> None:
    for _ in range(MAX_BATCHES):
        with session_scope(runtime.sessions) as s:
            due = transcripts.lock_raw_due(
                db_session=s, created_before=cut.raw_created, approved=redaction.approved_before(cut.raw_approved),
                limit=batch,
            )
            if not due:
                return
            ids = [rid for rid, _, _ in due]
            transcripts.delete_raw(db_session=s, sealed=runtime.sealed, due=due)
            redaction.delete_spans(db_session=s, recording_ids=ids)
            recordings.mark_raw_transcript_deleted(db_session=s, recording_ids=ids)
        report.raw_transcripts_deleted += [{"recording_id": rid, "reason": reason} for rid, _, reason in due]


def _sweep_maps(runtime: Runtime, cut: Cutoffs, report: SweepReport) -> None:
    with session_scope(runtime.sessions) as s:
        studies = redaction.idle_study_maps(db_session=s, idle_before=cut.map_idle)
    for study in studies:
        with session_scope(runtime.sessions) as s:
            n = redaction.retire_study_map(db_session=s, sealed=runtime.sealed, study=study)
        if n:
            report.pseudonym_maps_retired.append({"study": study, "entries": n})


def _plan(runtime: Runtime, cut: Cutoffs, report: SweepReport) -> None:
    with session_scope(runtime.sessions) as s:
        audio = recordings.lock_audio_due(
            db_session=s, created_before=cut.audio_created, approved=redaction.approved_before(cut.audio_approved),
            limit=UNLIMITED, lock=False,
        )
        report.audio_deleted = [{"recording_id": r.id, "reason": reason} for r, reason in audio]
        going = {r.id for r, _ in audio}
        max_age = runtime.settings.audio_max_age
        report.warnings = [
            {"recording_id": r.id, "due": (r.created_at + max_age).isoformat()}
            for r in recordings.lock_warning_due(
                db_session=s, created_before=cut.warn_created, limit=UNLIMITED, lock=False
            )
            if r.id not in going
        ]
        report.raw_transcripts_deleted = [
            {"recording_id": rid, "reason": reason}
            for rid, _, reason in transcripts.lock_raw_due(
                db_session=s, created_before=cut.raw_created, approved=redaction.approved_before(cut.raw_approved),
                limit=UNLIMITED, lock=False,
            )
        ]
        report.pseudonym_maps_retired = [
            {"study": study} for study in redaction.idle_study_maps(db_session=s, idle_before=cut.map_idle)
            if redaction.study_map_has_entities(db_session=s, sealed=runtime.sealed, study=study)
        ]
        s.rollback()


def _seconds(d: timedelta) -> int:
    return int(d.total_seconds())


def status(*, runtime: Runtime, limit: int = 100) -> dict[str, Any]:
    """The policy in force and the next audio deletions (for admins and the ethics board)."""
    settings = runtime.settings
    now = utcnow()
    with session_scope(runtime.sessions) as s:
        kept = recordings.audio_pending(db_session=s)
        approved = redaction.approval_times(db_session=s, recording_ids=[r.id for r in kept])
        upcoming = []
        for r in kept:
            due, reason = r.created_at + settings.audio_max_age, "max_age"
            if r.id in approved and approved[r.id] + settings.audio_retention_after_approval < due:
                due, reason = approved[r.id] + settings.audio_retention_after_approval, "approved"
            upcoming.append({"recording_id": r.id, "due": due, "reason": reason, "warned": r.deletion_warned_at})
    upcoming.sort(key=lambda x: x["due"])
    return {
        "now": now,
        "policy": {
            "audio_retention_after_approval_s": _seconds(settings.audio_retention_after_approval),
            "audio_max_age_s": _seconds(settings.audio_max_age),
            "audio_deletion_warning_s": _seconds(settings.audio_deletion_warning),
            "raw_transcript_retention_after_approval_s": _seconds(settings.raw_transcript_retention_after_approval),
            "raw_transcript_max_age_s": _seconds(settings.raw_transcript_max_age),
            "pseudonym_map_retention_s": _seconds(settings.pseudonym_map_retention),
            "sweep_interval_s": settings.retention_interval_s,
        },
        "audio_kept": len(kept),
        "overdue": sum(1 for u in upcoming if u["due"] <= now),
        "upcoming": upcoming[:limit],
    }
