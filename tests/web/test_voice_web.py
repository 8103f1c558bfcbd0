"""The interviewer's voice in the web UI (TestClient, SQLite): a reviewer confirms the Interviewer slot and enrols its
voice from the review page; a participant's slot is never offered and is refused if posted; uploaders and
researchers are refused; an admin lists and deletes profiles; the audit trail holds ids, never names.
The role matrix of these routes is in tests/web/test_web.py (PAGES); the API and the worker's voice match are in
tests/speakers/test_voice_profiles.py."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from tests.support import corpus
from tests.support.apps import create_users, make_settings
from tests.support.markup import lint_page
from tests.support.voices import give_voices

ROLES = ("admin", "uploader", "reviewer", "researcher")


@dataclass
class Site:
    runtime: Any
    clients: dict[str, TestClient]
    names: dict[str, str]

    def csrf(self, role: str) -> str:
        page = self.clients[role].get("/account")
        return re.search(r'name="csrf" value="([0-9a-f]{64})"', page.text).group(1)  # type: ignore[union-attr]

    def rows(self, sql: str, **params: object) -> list[tuple]:
        with self.runtime.engine.connect() as conn:
            return [tuple(r) for r in conn.execute(sa.text(sql), params)]

    def pending(self) -> str:
        users = corpus.user_ids(self.runtime)
        return corpus.make_transcript(self.runtime, corpus.POLICE, uploader_id=users["uploader"], approver_id=None,
                                      approve=False)

    def enrol(self, role: str, rid: str, slot: str) -> Any:
        return self.clients[role].post(f"/review/{rid}/speakers/{slot}/voice-profile",
                                       data={"csrf": self.csrf(role)})


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    from service.app import create_app

    tmp: Path = tmp_path_factory.mktemp("voice-web")
    app = create_app(make_settings(tmp, f"sqlite:///{tmp / 'data' / 'anonscribe.db'}"), start_workers=False)
    with TestClient(app):
        runtime = app.state.runtime
        tokens = create_users(runtime)
        clients = {}
        for role in ROLES:
            clients[role] = TestClient(app, follow_redirects=False)
            form = clients[role].get("/signin")
            nonce = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)  # type: ignore[union-attr]
            assert clients[role].post("/signin", data={"csrf": nonce, "token": tokens[role], "next": "/"}
                                      ).status_code == 303
        with runtime.engine.connect() as conn:
            names = dict(conn.execute(sa.text("SELECT role, name FROM users")).all())
        yield Site(runtime=runtime, clients=clients, names=names)


def _speakers_form(site: Site, rid: str, roles: dict[str, str]) -> None:
    data = {"csrf": site.csrf("reviewer"), **{f"role_{slot}": word for slot, word in roles.items()}}
    assert site.clients["reviewer"].post(f"/review/{rid}/speakers", data=data).status_code == 303


def test_reviewer_confirms_then_enrols_the_interviewer_and_never_a_participant(site: Site) -> None:
    rid = site.pending()
    give_voices(site.runtime, rid)  # S1 guessed Interviewer, S2 and S3 guessed Officer (police cohort)
    page = site.clients["reviewer"].get(f"/review/{rid}")
    lint_page(page)
    # A guess is not a confirmation: no button yet, a pointer to the speakers form instead; nothing for participants.
    assert 'id="confirm-S1"' in page.text and 'id="enrol-S1"' not in page.text
    assert "/speakers/S2/voice-profile" not in page.text and "/speakers/S3/voice-profile" not in page.text

    # Saving the speakers form as it stands confirms the roles it shows.
    _speakers_form(site, rid, {"S1": "Interviewer", "S2": "Officer", "S3": "Officer"})
    page = site.clients["reviewer"].get(f"/review/{rid}")
    lint_page(page)
    assert 'id="enrol-S1"' in page.text and "Enrol S1's voice as the study's interviewer" in page.text
    assert "/speakers/S2/voice-profile" not in page.text

    # Posted anyway, a participant's slot is refused with the service's reason; nothing is made.
    refused = site.enrol("reviewer", rid, "S2")
    assert refused.status_code == 422 and "research staff" in html.unescape(refused.text)
    # Uploaders and researchers are refused before anything is read.
    for role in ("uploader", "researcher"):
        assert site.enrol(role, rid, "S1").status_code == 403
    assert site.rows("SELECT id FROM voice_profiles WHERE source_recording_id = :r", r=rid) == []

    done = site.enrol("reviewer", rid, "S1")
    assert done.status_code == 303 and done.headers["location"] == f"/review/{rid}?msg=enrolled#speakers"
    [(pid, study, role, slot)] = site.rows(
        "SELECT id, study, role, source_slot FROM voice_profiles WHERE source_recording_id = :r", r=rid)
    assert (study, role, slot) == (site.runtime.settings.study, "Interviewer", "S1")
    page = site.clients["reviewer"].get(f"/review/{rid}?msg=enrolled")
    assert 'id="enrolled-S1"' in page.text and 'id="enrol-S1"' not in page.text
    assert "Voice enrolled" in page.text

    # The audit event names ids only: no user name, participant code, or voiceprint. Its object is the recording
    # (a withdrawal blanks it there) and the details hold the profile id and the slot.
    [(actor, details)] = site.rows("SELECT actor_id, details FROM audit_events WHERE action = 'voice_profile.enrol' "
                                   "AND object_id = :r", r=rid)
    text = str(details)
    assert set(details if isinstance(details, dict) else json.loads(details)) == {"profile", "slot"}
    assert pid in text and "S1" in text and rid not in text
    assert actor == corpus.user_ids(site.runtime)["reviewer"]
    assert not any(name in text for name in site.names.values()) and corpus.POLICE.code not in text


def test_a_slot_labelled_by_voice_shows_its_score_and_still_needs_confirming(site: Site) -> None:
    rid = site.pending()
    give_voices(site.runtime, rid)
    with site.runtime.engine.begin() as conn:
        conn.execute(sa.text("UPDATE speaker_slots SET voice_match = 0.71 WHERE recording_id = :r AND slot = 'S1'"),
                     {"r": rid})
    page = site.clients["reviewer"].get(f"/review/{rid}").text
    assert "Interviewer (voice match 0.71)" in page
    assert 'id="confirm-S1"' in page  # a voice match is a guess too


def test_admin_lists_and_deletes_profiles_others_cannot(site: Site) -> None:
    rid = site.pending()
    give_voices(site.runtime, rid, confirm={"S1": "Interviewer"})
    assert site.enrol("admin", rid, "S1").status_code == 303  # admins may enrol as reviewers do
    [(pid, key_id)] = site.rows("SELECT id, key_id FROM voice_profiles WHERE source_recording_id = :r", r=rid)

    listing = site.clients["admin"].get("/admin/voices")
    lint_page(listing)
    row = re.search(rf'<tr id="profile-{pid}">(.*?)</tr>', listing.text, re.S).group(1)  # type: ignore[union-attr]
    assert site.runtime.settings.study in row and f'href="/review/{rid}"' in row and site.names["admin"] in row
    for role in ("reviewer", "uploader", "researcher"):
        assert site.clients[role].get("/admin/voices").status_code == 403
        resp = site.clients[role].post(f"/admin/voices/{pid}/delete", data={"csrf": site.csrf(role)})
        assert resp.status_code == 403
    assert site.rows("SELECT id FROM voice_profiles WHERE id = :p", p=pid) == [(pid,)]

    resp = site.clients["admin"].post(f"/admin/voices/{pid}/delete", data={"csrf": site.csrf("admin")})
    assert resp.status_code == 303 and resp.headers["location"] == "/admin/voices?deleted=true"
    assert site.rows("SELECT id FROM voice_profiles WHERE id = :p", p=pid) == []
    assert site.rows("SELECT id FROM data_keys WHERE id = :k", k=key_id) == []  # crypto-shredded
    after = site.clients["admin"].get("/admin/voices?deleted=true").text
    assert "Voice profile deleted" in after and f"profile-{pid}" not in after
    [(details,)] = site.rows("SELECT details FROM audit_events WHERE action = 'voice_profile.delete' "
                             "AND object_id = :p", p=pid)
    assert not any(name in str(details) for name in site.names.values())
    # Gone is gone: a second delete finds nothing.
    assert site.clients["admin"].post(f"/admin/voices/{pid}/delete",
                                      data={"csrf": site.csrf("admin")}).status_code == 404
