"""Study-wide pseudonyms: the sealed study map (identifier -> tag), the pseudonymiser built on it, and the map's
lifecycle (sources per entry, tombstones so a number is never reused, retirement when idle)."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.audit import service as audit
from service.core.clock import utcnow
from service.core.sealed import SealedStore, record_context
from service.recordings.models import Recording
from service.redaction.models import PseudonymMap, RedactionSpan


def _study(recording: Recording) -> str:
    return getattr(recording, "study", None) or "default"


def _map_context(study: str) -> bytes:
    return record_context("pseudonyms", study)


def _load_state(
    *, db_session: Session, sealed: SealedStore, study: str, lock: bool = False
) -> tuple[dict[str, str], dict[str, set[str]]]:
    """(entity key -> tag, entity key -> ids of the recordings whose approved transcripts use its tag).

    The sources let a withdrawal remove exactly the entries no other participant's transcript needs. Maps
    written before sources were kept are a flat mapping: their entries have no sources and are never removed
    by a withdrawal (only by the map's own retention).
    """
    query = select(PseudonymMap).where(PseudonymMap.study == study)
    if lock:
        query = query.with_for_update()
    row = db_session.execute(query).scalar_one_or_none()
    if row is None:
        return {}, {}
    state = json.loads(
        sealed.open_record(db_session=db_session, key_id=row.key_id, ciphertext=row.ciphertext,
                           context=_map_context(study))
    )
    if state.get("v") != 2:
        return dict(state), {}
    return dict(state["map"]), {k: set(v) for k, v in state["sources"].items()}


def load_study_map(*, db_session: Session, sealed: SealedStore, study: str, lock: bool = False) -> dict[str, str]:
    return _load_state(db_session=db_session, sealed=sealed, study=study, lock=lock)[0]


def save_study_map(
    *,
    db_session: Session,
    sealed: SealedStore,
    study: str,
    mapping: dict[str, str],
    sources: dict[str, set[str]] | None = None,
) -> None:
    """Re-sealed under a fresh data key each time; the old key is destroyed, so a removed entry is gone from
    every earlier copy of the ciphertext too."""
    row = db_session.get(PseudonymMap, study)
    state = {"v": 2, "map": mapping, "sources": {k: sorted(v) for k, v in (sources or {}).items() if v}}
    key_id, ciphertext = sealed.seal_record(
        db_session=db_session, purpose="pseudonyms", context=_map_context(study),
        value=json.dumps(state, sort_keys=True).encode(),
    )
    if row is None:
        db_session.add(PseudonymMap(study=study, key_id=key_id, ciphertext=ciphertext, version=1, updated_at=utcnow()))
    else:
        old = row.key_id
        row.key_id, row.ciphertext, row.version, row.updated_at = key_id, ciphertext, row.version + 1, utcnow()
        sealed.destroy_record(db_session=db_session, key_id=old)
    db_session.flush()


def _new_pseudonymiser(mapping: dict[str, str]):  # type: ignore[no-untyped-def]
    from pipeline.redact import Pseudonymiser  # pure text code; imported where used

    return Pseudonymiser(existing=mapping)


def _pseudonymiser(*, db_session: Session, sealed: SealedStore, study: str, lock: bool = False):  # type: ignore[no-untyped-def]
    return _new_pseudonymiser(load_study_map(db_session=db_session, sealed=sealed, study=study, lock=lock))


def _pipeline_span(span: RedactionSpan, text: str):  # type: ignore[no-untyped-def]
    from pipeline.redact import Span

    return Span(
        start=span.start,
        end=span.end,
        label=span.label,
        text=text[span.start : span.end],
        layers=tuple(span.layers or ()),
        confidence=span.confidence,
        uncertain=span.uncertain,
    )


def _tombstones(mapping: dict[str, str]) -> dict[str, str]:
    from pipeline.redact.pseudonyms import TOMBSTONE_PREFIX, tombstones

    kept = tombstones(mapping)
    for prefix in PARTICIPANT_PREFIX.values():
        refs = [v for v in mapping.values() if re.fullmatch(prefix + r"-\d+", v)]
        if refs:
            kept[f"{TOMBSTONE_PREFIX}participant:{prefix}"] = max(refs, key=lambda v: int(v.split("-", 1)[1]))
    return kept


def forget_recordings(*, db_session: Session, sealed: SealedStore, study: str, recording_ids: Sequence[str]) -> int:
    """A participant withdrew: drop these recordings from the study map's sources and remove every entry no
    remaining transcript uses. Returns how many entries went. The highest tag of each kind stays as a tombstone,
    so a later "[Person 4]" never names someone else than the "[Person 4]" in notes already taken."""
    mapping, sources = _load_state(db_session=db_session, sealed=sealed, study=study, lock=True)
    gone = set(recording_ids)
    if not any(srcs & gone for srcs in sources.values()):
        return 0
    removed = [k for k, srcs in sources.items() if srcs and not (srcs - gone)]
    kept = {k: v for k, v in mapping.items() if k not in set(removed)}
    kept.update({k: v for k, v in _tombstones(mapping).items() if k not in kept})
    remaining = {k: srcs - gone for k, srcs in sources.items() if k not in set(removed)}
    save_study_map(db_session=db_session, sealed=sealed, study=study, mapping=kept, sources=remaining)
    return len(removed)


def idle_study_maps(*, db_session: Session, idle_before: datetime) -> list[str]:
    return list(
        db_session.execute(
            select(PseudonymMap.study).where(PseudonymMap.updated_at <= idle_before).order_by(PseudonymMap.study)
        ).scalars()
    )


def study_map_has_entities(*, db_session: Session, sealed: SealedStore, study: str) -> bool:
    from pipeline.redact.pseudonyms import is_tombstone

    mapping = load_study_map(db_session=db_session, sealed=sealed, study=study)
    return any(not is_tombstone(k) for k in mapping)


def retire_study_map(*, db_session: Session, sealed: SealedStore, study: str) -> int:
    """The map's retention ran out: forget every entity, keep only the tag numbering. Returns entries removed."""
    from pipeline.redact.pseudonyms import is_tombstone

    mapping, _ = _load_state(db_session=db_session, sealed=sealed, study=study, lock=True)
    entities = [k for k in mapping if not is_tombstone(k)]
    if not entities:
        return 0
    save_study_map(db_session=db_session, sealed=sealed, study=study, mapping=_tombstones(mapping), sources={})
    audit.record(
        db_session=db_session, action="pseudonyms.retire", object_type="study", object_id=study,
        details={"entries": len(entities)},
    )
    return len(entities)


PARTICIPANT_PREFIX = {"police": "POL", "victim": "VIC", "other": "OTH"}


def participant_ref(mapping: dict[str, str], *, cohort: str, participant_code: str) -> str:
    """The participant's pseudonym for researchers ("VIC-03"). Kept in the sealed study map, so it is the same for
    every interview of one participant and a number is never reused, even after a withdrawal."""
    key = f"participant:{cohort}:{participant_code.upper()}"
    if key not in mapping:
        prefix = PARTICIPANT_PREFIX.get(cohort, "OTH")
        # Tombstones included: a withdrawn participant's number is never given to someone else.
        taken = [int(v.split("-", 1)[1]) for v in mapping.values() if re.fullmatch(prefix + r"-\d+", v)]
        mapping[key] = f"{prefix}-{max(taken, default=0) + 1:02d}"
    return mapping[key]
