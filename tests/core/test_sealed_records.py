"""Sealed records stay readable across the move to `SealedStore.seal_record/open_record`.

`tests/data/sealed_records_v1.json` holds rows written by the code before the move (its `made_by` says how), under a
throw-away master key: each domain must still open them through its own service, so the ciphertext format, the
associated data ("anonscribe/<kind>/<id>") and the key wrapping are unchanged. The other way round, records sealed
now open with the bare primitives and the literal contexts the old code used.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy.orm import Session

from tests.support.paths import ROOT

FIXTURE = ROOT / "tests" / "data" / "sealed_records_v1.json"
T = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def _b(text: str) -> bytes:
    return base64.b64decode(text)


@dataclass
class House:
    session: Session
    sealed: Any  # service.core.sealed.SealedStore
    old: dict[str, Any]
    actor_id: int


@pytest.fixture
def house(tmp_path: Path) -> Iterator[House]:
    import service.models  # noqa: F401  (the whole schema)
    from service.audit import service as audit
    from service.auth import service as auth
    from service.auth.models import Role
    from service.core.crypto import MasterKey
    from service.core.db import Base, make_engine
    from service.core.keystore import WrappedDataKey
    from service.core.sealed import SealedStore
    from service.core.storage import LocalBlobStore
    from service.recordings.models import Recording, RecordingAttachment
    from service.redaction.models import AnonymisedTranscript, PseudonymMap
    from service.transcripts.models import RawTranscript

    old = json.loads(FIXTURE.read_text())
    key_file = tmp_path / "master.json"
    key_file.write_text(old["master_keyset"])
    blobs = LocalBlobStore(tmp_path / "blobs")
    rec = old["recording"]
    writer = blobs.create(rec["blob_id"])
    writer.write(_b(rec["blob"]))
    writer.commit()
    sealed = SealedStore(blobs, MasterKey.load(key_file), segment_size=64)
    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    Base.metadata.create_all(engine)
    with Session(engine) as s:
        for k in old["data_keys"]:
            s.add(WrappedDataKey(id=k["id"], purpose=k["purpose"], wrapped=_b(k["wrapped"]), created_at=T))
        user, _ = auth.create_user(db_session=s, name="compat", role=Role.admin)
        s.add(Recording(
            id=rec["id"], uploader_id=user.id, participant_code=rec["participant_code"], study=rec["study"],
            cohort="victim", interview_date=date(2026, 1, 2), withdrawal_deadline=date(2026, 2, 2), container="wav",
            duration_s=4.0, size_bytes=110, sha256="0" * 64, blob_id=rec["blob_id"], key_id=rec["key_id"],
            created_at=T,
        ))
        s.flush()
        for kind, ciphertext in old["attachments"].items():
            s.add(RecordingAttachment(id=kind.replace("_", "")[:32], recording_id=rec["id"], kind=kind,
                                      ciphertext=_b(ciphertext), created_at=T))
        raw = old["raw_transcript"]
        s.add(RawTranscript(id="r" * 32, recording_id=rec["id"], key_id=raw["key_id"], ciphertext=_b(raw["ciphertext"]),
                            model="tiny.en", language="en", segment_count=1, word_count=1, duration_s=4.0,
                            created_at=T))
        anon = old["anonymised_transcript"]
        s.add(AnonymisedTranscript(id="a" * 32, recording_id=rec["id"], key_id=anon["key_id"],
                                   ciphertext=_b(anon["ciphertext"]), span_count=2, approved_by=user.id, approved_at=T))
        pm = old["pseudonym_map"]
        s.add(PseudonymMap(study=pm["study"], key_id=pm["key_id"], ciphertext=_b(pm["ciphertext"]), version=1,
                           updated_at=T))
        note = old["withdrawal_reason"]
        audit.record(db_session=s, action="participant.withdraw", actor_id=user.id, object_type="participant",
                     object_id=old["participant_ref"]["digest"],
                     details={"receipt": note["receipt_id"], "study": pm["study"], "deleted": {},
                              "past_deadline": True, "override": True,
                              "override_reason": {"key_id": note["key_id"], "sealed": note["sealed"]}})
        s.commit()
        yield House(session=s, sealed=sealed, old=old, actor_id=user.id)
    engine.dispose()


def test_records_sealed_before_the_move_open_through_the_domains(house: House) -> None:
    from service.recordings import service as recordings
    from service.recordings.models import Recording
    from service.redaction import service as redaction
    from service.retention import withdrawal
    from service.transcripts import service as transcripts

    s, sealed, old = house.session, house.sealed, house.old
    rid = old["recording"]["id"]
    assert transcripts.load_raw(db_session=s, sealed=sealed, recording_id=rid, actor_id=house.actor_id) == (
        old["raw_transcript"]["plaintext"])
    assert redaction.load_anonymised(db_session=s, sealed=sealed, recording_id=rid, actor_id=house.actor_id) == (
        old["anonymised_transcript"]["plaintext"])
    study = old["pseudonym_map"]["study"]
    assert redaction.load_study_map(db_session=s, sealed=sealed, study=study) == old["pseudonym_map"]["mapping"]
    receipt = withdrawal.get_receipt(db_session=s, sealed=sealed, receipt_id=old["withdrawal_reason"]["receipt_id"],
                                     reveal_reason=True, actor_id=house.actor_id)
    assert receipt.override_reason == old["withdrawal_reason"]["plaintext"]
    # The keyed hash that names a withdrawn participant: a second withdrawal must find the first one.
    ref = old["participant_ref"]
    digest = withdrawal.participant_ref(db_session=s, sealed=sealed, study=ref["study"], code=ref["code"])
    assert digest == ref["digest"]
    # Teams transcript and known names, sealed under the audio's key, and the audio itself.
    recording = s.get(Recording, rid)
    runtime = SimpleNamespace(sealed=sealed)
    teams = recordings.load_teams_transcript(runtime=runtime, db_session=s, recording=recording)  # type: ignore[arg-type]
    assert teams is not None and teams.startswith(b"WEBVTT") and b"Jane Doe" in teams
    names = recordings.load_known_names(runtime=runtime, db_session=s, recording=recording)  # type: ignore[arg-type]
    assert names == ["Jane Doe", "Leeds"]
    reader, source = sealed.open_reader(db_session=s, blob_id=recording.blob_id, key_id=recording.key_id,
                                        object_id=rid)
    try:
        assert reader.read() == _b(old["recording"]["blob_plaintext"])
    finally:
        reader.close()
        source.close()


def test_a_pseudonym_map_sealed_before_the_move_is_resealed_and_its_old_key_destroyed(house: House) -> None:
    from service.core.keystore import WrappedDataKey
    from service.redaction import service as redaction

    s, sealed, pm = house.session, house.sealed, house.old["pseudonym_map"]
    rid = house.old["recording"]["id"]
    assert redaction.forget_recordings(db_session=s, sealed=sealed, study=pm["study"], recording_ids=[rid]) == 3
    s.flush()
    assert s.get(WrappedDataKey, pm["key_id"]) is None
    left = redaction.load_study_map(db_session=s, sealed=sealed, study=pm["study"])
    assert "person:jane doe" not in left and set(left.values()) <= set(pm["mapping"].values())


# The associated data the code before the move wrote, spelled out rather than computed.
OLD_CONTEXTS = {
    "raw_transcript": lambda rid, study: b"anonscribe/raw-transcript/" + rid.encode(),
    "pseudonyms": lambda rid, study: b"anonscribe/pseudonyms/" + study.encode(),
}


def test_records_sealed_now_open_with_the_old_primitives(house: House) -> None:
    from service.core.keystore import WrappedDataKey, load_data_key
    from service.redaction import service as redaction
    from service.redaction.models import PseudonymMap
    from service.transcripts import service as transcripts
    from service.transcripts.models import RawTranscript

    s, sealed = house.session, house.sealed
    rid, study = house.old["recording"]["id"], house.old["pseudonym_map"]["study"]
    raw = {"segments": [{"start": 0.0, "end": 1.0, "text": "Ms Ng called.", "words": []}], "speakers": []}
    transcripts.save_raw(db_session=s, sealed=sealed, recording_id=rid, transcript=raw)
    redaction.save_study_map(db_session=s, sealed=sealed, study=study, mapping={"person:ng": "Person 1"})
    s.flush()
    row = s.query(RawTranscript).filter_by(recording_id=rid).one()
    pm = s.get(PseudonymMap, study)
    for purpose, key_id, ciphertext, expected in [
        ("raw_transcript", row.key_id, row.ciphertext, json.dumps(raw).encode()),
        ("pseudonyms", pm.key_id, pm.ciphertext,
         json.dumps({"v": 2, "map": {"person:ng": "Person 1"}, "sources": {}}, sort_keys=True).encode()),
    ]:
        assert s.get(WrappedDataKey, key_id).purpose == purpose
        key = load_data_key(db_session=s, master=sealed.master, key_id=key_id)
        assert key.decrypt(ciphertext, context=OLD_CONTEXTS[purpose](rid, study)) == expected
    # The replaced raw transcript's key (from before the move) is gone: its old ciphertext can no longer be read.
    assert s.get(WrappedDataKey, house.old["raw_transcript"]["key_id"]) is None


def test_record_context_is_the_old_associated_data() -> None:
    from service.core.sealed import blob_context, record_context

    assert record_context("anonymised", "ab12") == b"anonscribe/anonymised/ab12"
    assert record_context("pseudonyms", "pilot-ståudy") == b"anonscribe/pseudonyms/" + "pilot-ståudy".encode()
    assert blob_context("ab12") == b"anonscribe/blob/ab12"


def test_a_record_opens_only_with_its_own_context_and_not_after_destroy(house: House) -> None:
    from service.core.crypto import IntegrityError
    from service.core.keystore import DataKeyNotFound
    from service.core.sealed import record_context

    s, sealed = house.session, house.sealed
    record = sealed.seal_record(db_session=s, purpose="test", context=record_context("note", "1"), value=b"secret")
    assert b"secret" not in record.ciphertext
    assert sealed.open_record(db_session=s, key_id=record.key_id, ciphertext=record.ciphertext,
                              context=record_context("note", "1")) == b"secret"
    with pytest.raises(IntegrityError):  # moved to another object: refused
        sealed.open_record(db_session=s, key_id=record.key_id, ciphertext=record.ciphertext,
                           context=record_context("note", "2"))
    assert sealed.destroy_record(db_session=s, key_id=record.key_id)
    s.flush()  # the key row goes with the caller's transaction
    with pytest.raises(DataKeyNotFound):
        sealed.open_record(db_session=s, key_id=record.key_id, ciphertext=record.ciphertext,
                           context=record_context("note", "1"))
    assert not sealed.destroy_record(db_session=s, key_id=record.key_id)
