"""Who may call what: every endpoint x every role, and every way of not being authenticated.

Rules under test:
- every /api/v1 endpoint needs a valid bearer token; anything else is a 401 and an `auth.failed` event;
- researchers never reach recordings (metadata, audio or raw transcripts): 403 on every recordings route;
- raw transcripts are for reviewers and admins; user management is for admins;
- retrying and deleting: admins any recording (deleting in any state), uploaders their own failed ones;
- an uploader sees only their own recordings: another uploader's id answers exactly like a missing one;
- /healthz and /readyz need no token and say nothing beyond status and per-check booleans;
- tokens are stored only as SHA-256.

One app per DB back-end serves the whole module (no inline workers: the one transcript needed is made
synchronously in the fixture), so the ~350 cases stay fast.

Longer than the ~400-line house rule: the endpoint x role table is one matrix, kept whole so a new endpoint
cannot be added without a row.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from tests.support import corpus
from tests.support.apps import create_users, make_settings
from tests.support.databases import pg_create, pg_drop
from tests.support.dates import interview_date

API = "/api/v1"
RECS = f"{API}/recordings"
ROLES = ("admin", "uploader", "reviewer", "researcher")
META = {"participant_code": "P07", "cohort": "police", "interview_date": interview_date()}
TABLES = ("users", "api_tokens", "recordings", "jobs", "data_keys", "raw_transcripts", "audit_events",
          "voice_profiles")


def sha256(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass
class World:
    client: TestClient
    runtime: Any
    tokens: dict[str, str]
    audio: bytes
    own_id: str = ""  # uploaded by "uploader", transcribed
    other_id: str = ""  # uploaded by "uploader2", not transcribed
    approved_id: str = ""  # a hand-made transcript, approved: what the library serves
    spare_user_id: int = 0  # whose role PATCH /users/{id} changes (never one of the tokens above)
    extra_tokens: dict[str, str] = field(default_factory=dict)  # deactivated user, revoked token

    def h(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}

    def upload(self, role: str) -> httpx.Response:
        return self.client.post(RECS, headers=self.h(role), data=META, files={"file": ("a.m4a", self.audio)})

    def counts(self) -> dict[str, int]:
        with self.runtime.engine.connect() as conn:
            return {t: conn.execute(sa.text(f"SELECT COUNT(*) FROM {t}")).scalar_one() for t in TABLES}

    def last_events(self, n: int) -> list[tuple[str, int | None, dict]]:
        with self.runtime.engine.connect() as conn:
            rows = conn.execute(
                sa.text("SELECT action, actor_id, details FROM audit_events ORDER BY id DESC LIMIT :n"), {"n": n}
            ).all()
        return [(a, actor, d if isinstance(d, dict) else json.loads(d)) for a, actor, d in rows]

    def user_id(self, role: str) -> int:
        with self.runtime.engine.connect() as conn:
            return int(conn.execute(sa.text("SELECT user_id FROM api_tokens WHERE token_hash = :h"),
                                    {"h": sha256(self.tokens[role])}).scalar_one())

    def dump(self) -> str:
        out = []
        with self.runtime.engine.connect() as conn:
            for table in sa.inspect(conn).get_table_names():
                for row in conn.execute(sa.text(f"SELECT * FROM {table}")):
                    out.append(" | ".join(_text(v) for v in row))
        return "\n".join(out)


def fail(w: World, recording_id: str) -> None:
    """As the worker leaves a recording whose every attempt failed (tests/recordings/test_jobs.py fails real ones)."""
    with w.runtime.engine.begin() as conn:
        conn.execute(sa.text("UPDATE jobs SET state = 'failed', attempts = 3, error = 'x' WHERE recording_id = :r"),
                     {"r": recording_id})


def _text(value: object) -> str:
    if isinstance(value, memoryview):
        value = bytes(value)
    return value.decode("latin-1") if isinstance(value, bytes) else str(value)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, media: dict[str, Path]
) -> Iterator[World]:
    from service.app import create_app
    from workers import tasks

    tmp = tmp_path_factory.mktemp(f"auth-{request.param}")
    pg = pg_create() if request.param == "postgresql" else None
    url = pg.url if pg else f"sqlite:///{tmp / 'data' / 'anonscribe.db'}"
    app = create_app(make_settings(tmp, url), start_workers=False)
    try:
        with TestClient(app) as client:
            runtime = app.state.runtime
            tokens = create_users(runtime)
            tokens["uploader2"] = create_users(runtime, roles=("uploader",))["uploader"]
            w = World(client=client, runtime=runtime, tokens=tokens, audio=media["m4a"].read_bytes())
            w.extra_tokens = {
                "deactivated": create_users(runtime, roles=("reviewer",))["reviewer"],
                "revoked": create_users(runtime, roles=("admin",))["admin"],
            }
            with runtime.engine.begin() as conn:
                conn.execute(
                    sa.text(
                        "UPDATE users SET active = :f WHERE id = (SELECT user_id FROM api_tokens WHERE token_hash = :h)"
                    ),
                    {"f": False, "h": sha256(w.extra_tokens["deactivated"])},
                )
                conn.execute(
                    sa.text("UPDATE api_tokens SET revoked = :t WHERE token_hash = :h"),
                    {"t": True, "h": sha256(w.extra_tokens["revoked"])},
                )
            spare = client.post(f"{API}/users", headers=w.h("admin"), json={"name": "spare-user", "role": "uploader"})
            w.spare_user_id = spare.json()["id"]
            for role, attr in (("uploader", "own_id"), ("uploader2", "other_id")):
                resp = w.upload(role)
                assert resp.status_code == 202, resp.text
                setattr(w, attr, resp.json()["id"])
            job_id = client.get(f"{RECS}/{w.own_id}", headers=w.h("admin")).json()["job"]["id"]
            assert tasks.process_recording(job_id, runtime=runtime) == "needs_review"
            users = corpus.user_ids(runtime)
            w.approved_id = corpus.make_transcript(runtime, corpus.VICTIM, uploader_id=users["uploader"],
                                                   approver_id=users["reviewer"])
            yield w
    finally:
        if pg:
            pg_drop(pg)


# ---- every endpoint x every role ----------------------------------------------------------------------

# endpoint -> the status each role gets
MATRIX: dict[str, dict[str, int]] = {
    "GET /me": {"admin": 200, "uploader": 200, "reviewer": 200, "researcher": 200},
    "GET /users": {"admin": 200, "uploader": 403, "reviewer": 403, "researcher": 403},
    "POST /users": {"admin": 201, "uploader": 403, "reviewer": 403, "researcher": 403},
    "POST /recordings": {"admin": 202, "uploader": 202, "reviewer": 403, "researcher": 403},
    "GET /recordings": {"admin": 200, "uploader": 200, "reviewer": 200, "researcher": 403},
    "GET /recordings/{id}": {"admin": 200, "uploader": 200, "reviewer": 200, "researcher": 403},
    "GET /recordings/{id}/transcript": {"admin": 200, "uploader": 403, "reviewer": 200, "researcher": 403},
    # The whole recording for the review page's player: not even its uploader may listen again.
    "GET /recordings/{id}/audio": {"admin": 206, "uploader": 403, "reviewer": 206, "researcher": 403},
    # Allowed roles act on a failed recording of the uploader's (admins delete in any state: a queued one here).
    "DELETE /recordings/{id}": {"admin": 204, "uploader": 204, "reviewer": 403, "researcher": 403},
    "POST /recordings/{id}/retry": {"admin": 202, "uploader": 202, "reviewer": 403, "researcher": 403},
    "GET /recordings/{id}/speakers": {"admin": 200, "uploader": 200, "reviewer": 200, "researcher": 403},
    "PATCH /recordings/{id}/speakers": {"admin": 200, "uploader": 200, "reviewer": 200, "researcher": 403},
    # Enrolling a research-staff voice is for reviewers and admins; they pass the role check and find no slot S9.
    "POST /recordings/{id}/speakers/{slot}/voice-profile": {"admin": 404, "uploader": 403, "reviewer": 404,
                                                            "researcher": 403},
    "GET /voice-profiles": {"admin": 200, "uploader": 403, "reviewer": 200, "researcher": 403},
    # Deleting a voice profile is for admins only; they find no such profile.
    "DELETE /voice-profiles/{id}": {"admin": 404, "uploader": 403, "reviewer": 403, "researcher": 403},
    "GET /recordings/{id}/review": {"admin": 200, "uploader": 403, "reviewer": 200, "researcher": 403},
    "POST /recordings/{id}/review/spans": {"admin": 201, "uploader": 403, "reviewer": 201, "researcher": 403},
    # Allowed roles pass the role check and then find no such span.
    "PATCH /recordings/{id}/review/spans/{span}": {"admin": 404, "uploader": 403, "reviewer": 404, "researcher": 403},
    "GET /recordings/{id}/review/spans/{span}/audio": {"admin": 404, "uploader": 403, "reviewer": 404,
                                                       "researcher": 403},
    "POST /recordings/{id}/review/approve": {"admin": 200, "uploader": 403, "reviewer": 200, "researcher": 403},
    # Correcting the transcript: reviewers and admins, like every review step. The shared recording is left as it
    # is (a segment that does not exist, nothing to undo); tests/redaction/test_corrections.py edits for real.
    "PATCH /recordings/{id}/segments/{n}": {"admin": 404, "uploader": 403, "reviewer": 404, "researcher": 403},
    "POST /recordings/{id}/segments/{n}/split": {"admin": 404, "uploader": 403, "reviewer": 404, "researcher": 403},
    "POST /recordings/{id}/segments/merge": {"admin": 404, "uploader": 403, "reviewer": 404, "researcher": 403},
    "POST /recordings/{id}/segments/undo": {"admin": 409, "uploader": 403, "reviewer": 409, "researcher": 403},
    # Reopening an approved review is for admins only (409 here: the shared recording was never approved).
    "POST /recordings/{id}/review/reopen": {"admin": 409, "uploader": 403, "reviewer": 403, "researcher": 403},
    # Not approved yet: allowed roles are told so, others never learn it.
    "GET /recordings/{id}/anonymised": {"admin": 409, "uploader": 403, "reviewer": 409, "researcher": 403},
    # The researcher library: approved anonymised transcripts, for researchers (and admins) only.
    "GET /library": {"admin": 200, "uploader": 403, "reviewer": 403, "researcher": 200},
    "GET /library/{id}": {"admin": 200, "uploader": 403, "reviewer": 403, "researcher": 200},
    "GET /library/export": {"admin": 200, "uploader": 403, "reviewer": 403, "researcher": 200},
    "GET /library/search": {"admin": 200, "uploader": 403, "reviewer": 403, "researcher": 200},
    "PATCH /users/{id}": {"admin": 200, "uploader": 403, "reviewer": 403, "researcher": 403},
    "GET /audit": {"admin": 200, "uploader": 403, "reviewer": 403, "researcher": 403},
    "GET /retention": {"admin": 200, "uploader": 403, "reviewer": 403, "researcher": 403},
    # Admins pass the role check and find no such participant or receipt (the shared recordings must survive).
    "POST /participants/{code}/withdrawal": {"admin": 404, "uploader": 403, "reviewer": 403, "researcher": 403},
    "GET /withdrawals/{receipt}": {"admin": 404, "uploader": 403, "reviewer": 403, "researcher": 403},
    # Everyone manages their own API tokens; the id here is nobody's (an own one is revoked in test_api_tokens.py).
    "GET /tokens": {"admin": 200, "uploader": 200, "reviewer": 200, "researcher": 200},
    "POST /tokens": {"admin": 201, "uploader": 201, "reviewer": 201, "researcher": 201},
    "DELETE /tokens/{id}": {"admin": 404, "uploader": 404, "reviewer": 404, "researcher": 404},
    # Anyone's tokens: admins only.
    "GET /users/{id}/tokens": {"admin": 200, "uploader": 403, "reviewer": 403, "researcher": 403},
    "POST /users/{id}/tokens": {"admin": 201, "uploader": 403, "reviewer": 403, "researcher": 403},
    "DELETE /users/{id}/tokens/{token}": {"admin": 404, "uploader": 403, "reviewer": 403, "researcher": 403},
}


def call(w: World, endpoint: str, headers: dict[str, str], rid: str | None = None) -> httpx.Response:
    c, rid = w.client, rid or w.own_id
    requests: dict[str, Callable[[], httpx.Response]] = {
        "GET /me": lambda: c.get(f"{API}/me", headers=headers),
        "GET /users": lambda: c.get(f"{API}/users", headers=headers),
        "POST /users": lambda: c.post(
            f"{API}/users", headers=headers, json={"name": f"new-{uuid.uuid4().hex[:8]}", "role": "researcher"}
        ),
        "POST /recordings": lambda: c.post(RECS, headers=headers, data=META, files={"file": ("a.m4a", w.audio)}),
        "GET /recordings": lambda: c.get(RECS, headers=headers),
        "GET /recordings/{id}": lambda: c.get(f"{RECS}/{rid}", headers=headers),
        "GET /recordings/{id}/transcript": lambda: c.get(f"{RECS}/{rid}/transcript", headers=headers),
        "GET /recordings/{id}/audio": lambda: c.get(f"{RECS}/{rid}/audio", headers={**headers, "Range": "bytes=0-99"}),
        "DELETE /recordings/{id}": lambda: c.delete(f"{RECS}/{rid}", headers=headers),
        "POST /recordings/{id}/retry": lambda: c.post(f"{RECS}/{rid}/retry", headers=headers),
        "GET /recordings/{id}/speakers": lambda: c.get(f"{RECS}/{rid}/speakers", headers=headers),
        "PATCH /recordings/{id}/speakers": lambda: c.patch(
            f"{RECS}/{rid}/speakers", headers=headers, json={"roles": {"S1": "Interviewer"}}
        ),
        "POST /recordings/{id}/speakers/{slot}/voice-profile": lambda: c.post(
            f"{RECS}/{rid}/speakers/S9/voice-profile", headers=headers
        ),
        "GET /voice-profiles": lambda: c.get(f"{API}/voice-profiles", headers=headers),
        "DELETE /voice-profiles/{id}": lambda: c.delete(f"{API}/voice-profiles/{'0' * 32}", headers=headers),
        "GET /recordings/{id}/review": lambda: c.get(f"{RECS}/{rid}/review", headers=headers),
        "POST /recordings/{id}/review/spans": lambda: c.post(
            f"{RECS}/{rid}/review/spans", headers=headers, json={"segment": 0, "start": 0, "end": 3, "label": "PERSON"}
        ),
        "PATCH /recordings/{id}/review/spans/{span}": lambda: c.patch(
            f"{RECS}/{rid}/review/spans/999999", headers=headers, json={"action": "accept"}
        ),
        "GET /recordings/{id}/review/spans/{span}/audio": lambda: c.get(
            f"{RECS}/{rid}/review/spans/999999/audio", headers=headers
        ),
        "POST /recordings/{id}/review/approve": lambda: c.post(f"{RECS}/{rid}/review/approve", headers=headers),
        "PATCH /recordings/{id}/segments/{n}": lambda: c.patch(f"{RECS}/{rid}/segments/99999", headers=headers,
                                                               json={"text": "x"}),
        "POST /recordings/{id}/segments/{n}/split": lambda: c.post(f"{RECS}/{rid}/segments/99999/split",
                                                                   headers=headers, json={"word": 1}),
        "POST /recordings/{id}/segments/merge": lambda: c.post(f"{RECS}/{rid}/segments/merge", headers=headers,
                                                               json={"segment": 99999}),
        "POST /recordings/{id}/segments/undo": lambda: c.post(f"{RECS}/{rid}/segments/undo", headers=headers),
        "POST /recordings/{id}/review/reopen": lambda: c.post(f"{RECS}/{rid}/review/reopen", headers=headers),
        "GET /recordings/{id}/anonymised": lambda: c.get(f"{RECS}/{rid}/anonymised", headers=headers),
        "GET /library": lambda: c.get(f"{API}/library", headers=headers),
        "GET /library/{id}": lambda: c.get(f"{API}/library/{w.approved_id}?format=docx", headers=headers),
        "GET /library/export": lambda: c.get(f"{API}/library/export?format=qdpx", headers=headers),
        "GET /library/search": lambda: c.get(f"{API}/library/search", params={"q": "the"}, headers=headers),
        "PATCH /users/{id}": lambda: c.patch(f"{API}/users/{w.spare_user_id}", headers=headers,
                                             json={"role": "researcher"}),
        "GET /audit": lambda: c.get(f"{API}/audit", headers=headers),
        "GET /retention": lambda: c.get(f"{API}/retention", headers=headers),
        "POST /participants/{code}/withdrawal": lambda: c.post(f"{API}/participants/NOSUCH42/withdrawal",
                                                               headers=headers),
        "GET /withdrawals/{receipt}": lambda: c.get(f"{API}/withdrawals/WR-0000-0000-0000-0000", headers=headers),
        "GET /tokens": lambda: c.get(f"{API}/tokens", headers=headers),
        "POST /tokens": lambda: c.post(f"{API}/tokens", headers=headers, json={"name": "matrix", "expires_in_days": 5}),
        "DELETE /tokens/{id}": lambda: c.delete(f"{API}/tokens/2147483647", headers=headers),
        "GET /users/{id}/tokens": lambda: c.get(f"{API}/users/{w.spare_user_id}/tokens", headers=headers),
        "POST /users/{id}/tokens": lambda: c.post(f"{API}/users/{w.spare_user_id}/tokens", headers=headers,
                                                  json={"name": "matrix"}),
        "DELETE /users/{id}/tokens/{token}": lambda: c.delete(f"{API}/users/{w.spare_user_id}/tokens/2147483647",
                                                              headers=headers),
    }
    return requests[endpoint]()


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("endpoint", list(MATRIX))
def test_role_matrix(world: World, endpoint: str, role: str) -> None:
    expected = MATRIX[endpoint][role]
    rid = None
    if endpoint.startswith("DELETE") and expected == 204:
        rid = world.upload("uploader").json()["id"]  # a victim of its own, not the shared recording
        if role == "uploader":
            fail(world, rid)
    if endpoint.endswith("/retry") and expected == 202:
        rid = world.upload("uploader").json()["id"]
        fail(world, rid)
    if endpoint.endswith("/approve") and expected == 200:
        from workers import tasks

        rid = world.upload("uploader").json()["id"]  # approval is one-way: its own recording
        job_id = world.client.get(f"{RECS}/{rid}", headers=world.h("admin")).json()["job"]["id"]
        assert tasks.process_recording(job_id, runtime=world.runtime) == "needs_review"
    before = world.counts()
    resp = call(world, endpoint, world.h(role), rid)
    assert resp.status_code == expected, resp.text
    after = world.counts()
    if expected == 403:
        assert resp.json()["detail"].startswith("your role may not"), resp.text
        # A refused call writes nothing at all (not even an audit row: the caller is authenticated).
        assert after == before
        return
    body = resp.json() if resp.content and resp.headers["content-type"] == "application/json" else None
    if endpoint == "GET /me":
        assert body["role"] == role and set(body) == {"id", "name", "role", "active", "created_at"}
    elif endpoint == "GET /users":
        assert {u["role"] for u in body} >= set(ROLES)
        assert all("token" not in u for u in body)
    elif endpoint == "POST /users":
        assert body["role"] == "researcher" and body["token"].startswith("ast_")
        assert world.client.get(f"{API}/me", headers={"Authorization": f"Bearer {body['token']}"}).json() == {
            k: v for k, v in body.items() if k != "token"
        }
        assert after["users"] == before["users"] + 1
    elif endpoint == "POST /recordings":
        assert body["status"] == "queued" and after["recordings"] == before["recordings"] + 1
    elif endpoint == "GET /recordings":
        ids = {r["id"] for r in body["items"]}
        assert world.own_id in ids
        # Uploaders see only their own; everyone else who may list sees everyone's.
        assert (world.other_id in ids) == (role != "uploader")
    elif endpoint == "GET /recordings/{id}":
        assert body["id"] == world.own_id and body["status"] == "needs_review"
    elif endpoint == "GET /recordings/{id}/transcript":
        assert body["segments"] and resp.headers["cache-control"] == "no-store"
    elif endpoint == "GET /recordings/{id}/audio":
        assert resp.content[:4] == b"RIFF" and len(resp.content) == 100
        assert resp.headers["content-range"].startswith("bytes 0-99/")
        assert resp.headers["cache-control"] == "no-store"
        [(action, actor, details)] = world.last_events(1)
        assert (action, actor, details) == ("recording.listen", world.user_id(role), {})
    elif endpoint == "DELETE /recordings/{id}":
        assert resp.content == b""
        assert world.client.get(f"{RECS}/{rid}", headers=world.h("admin")).status_code == 404
        assert after["recordings"] == before["recordings"] - 1
        assert after["data_keys"] == before["data_keys"] - 1  # crypto-shredded
    elif endpoint == "POST /recordings/{id}/retry":
        assert body["id"] == rid and body["status"] == "queued"
        assert body["job"]["attempts"] == 0 and body["job"]["error"] is None
        [(action, actor, details)] = world.last_events(1)
        assert action == "recording.retry" and actor == world.user_id(role)
        assert details["failed_attempts"] == 3
    elif endpoint == "GET /recordings/{id}/speakers":
        assert body[0]["slot"] == "S1"
        assert all(sp["label"] in ("Interviewer", "Officer", "Other") or sp["label"][:-2] in ("Interviewer", "Officer",
                   "Other") for sp in body)
    elif endpoint == "GET /voice-profiles":
        assert body == []  # none enrolled in this world
    elif endpoint.endswith("/voice-profile") or endpoint == "DELETE /voice-profiles/{id}":
        assert body["detail"] in ("unknown speaker slot S9", "no such voice profile") and after == before
    elif endpoint == "GET /recordings/{id}/review":
        assert body["recording_id"] == world.own_id and body["state"] == "needs_review"
        assert resp.headers["cache-control"] == "no-store"
    elif endpoint == "POST /recordings/{id}/review/spans":
        # New spans come back; if a span already covered the range, nothing is duplicated.
        assert all(x["status"] == "accepted" for x in body)
        review = world.client.get(f"{RECS}/{world.own_id}/review", headers=world.h("admin")).json()
        assert any(x["segment"] == 0 and x["start"] < 3 and x["end"] > 0 for x in review["spans"])
    elif endpoint == "POST /recordings/{id}/review/approve":
        assert body["status"] == "completed"
        assert world.client.get(f"{RECS}/{rid}", headers=world.h("admin")).json()["status"] == "completed"
    elif endpoint == "GET /library":
        # Approved transcripts only: not the shared recording, which waits for review.
        ids = [i["id"] for i in body["items"]]
        assert world.approved_id in ids and world.own_id not in ids and world.other_id not in ids
        assert all("participant_code" not in i for i in body["items"])
    elif endpoint == "GET /library/{id}":
        assert resp.headers["content-disposition"].endswith('.docx"') and resp.content[:2] == b"PK"
    elif endpoint == "GET /library/export":
        assert resp.headers["content-disposition"] == 'attachment; filename="anonscribe-all.qdpx"'
    elif endpoint == "GET /library/search":
        # Approved transcripts only, and the search audited with counts.
        ids = {h["id"] for h in body["items"]}
        assert world.approved_id in ids and world.other_id not in ids
        [(action, actor, details)] = world.last_events(1)
        assert action == "library.search" and actor == world.user_id(role) and set(details) == {
            "terms", "hits", "documents", "filters"}
    elif endpoint == "PATCH /users/{id}":
        assert body["id"] == world.spare_user_id and body["role"] == "researcher"
    elif endpoint == "GET /audit":
        assert body["total"] >= len(body["items"]) > 0
        assert {"hash", "prev_hash", "action"} <= set(body["items"][0])
    elif endpoint == "GET /retention":
        assert {"policy", "audio_kept", "upcoming"} <= set(body)
    elif endpoint in ("GET /tokens", "GET /users/{id}/tokens"):
        assert body and all(set(t) == {"id", "name", "prefix", "created_at", "last_used_at", "expires_at", "revoked",
                                       "state"} for t in body)
        assert all(t["prefix"].startswith("ast_") for t in body)  # never a web session
        if endpoint == "GET /tokens":
            assert world.tokens[role][:12] in {t["prefix"] for t in body}
    elif endpoint in ("POST /tokens", "POST /users/{id}/tokens"):
        assert body["token"].startswith("ast_") and body["name"] == "matrix" and body["state"] == "live"
        owner = world.client.get(f"{API}/me", headers={"Authorization": f"Bearer {body['token']}"}).json()["id"]
        assert owner == (world.spare_user_id if "/users/" in endpoint else world.user_id(role))
        assert after["api_tokens"] == before["api_tokens"] + 1
        [(action, actor, details)] = world.last_events(1)
        assert (action, actor, details["by"]) == ("token.create", world.user_id(role),
                                          "admin" if "/users/" in endpoint else "owner")
    elif endpoint in ("DELETE /tokens/{id}", "DELETE /users/{id}/tokens/{token}"):
        assert body == {"detail": "no such token"} and after == before
    elif endpoint == "PATCH /recordings/{id}/speakers":
        s1 = next(sp for sp in body if sp["slot"] == "S1")
        assert s1["role"] == "Interviewer" and s1["guessed"] is False


def test_uploader_cannot_see_another_uploaders_recording(world: World) -> None:
    missing = uuid.uuid4().hex
    other = world.client.get(f"{RECS}/{world.other_id}", headers=world.h("uploader"))
    absent = world.client.get(f"{RECS}/{missing}", headers=world.h("uploader"))
    # Same answer as for an id that does not exist: an uploader can't probe for others' recordings.
    assert other.status_code == absent.status_code == 404
    assert other.json() == absent.json() == {"detail": "no such recording"}
    for role, mine, theirs in (("uploader", world.own_id, world.other_id), ("uploader2", world.other_id, world.own_id)):
        body = world.client.get(RECS, headers=world.h(role)).json()
        ids = {r["id"] for r in body["items"]}
        assert mine in ids and theirs not in ids
        assert body["total"] == len(body["items"])
    # The other uploader's recording is untouched by any of the attempts, and answers as a missing one.
    fail(world, world.other_id)
    for resp in (
        world.client.delete(f"{RECS}/{world.other_id}", headers=world.h("uploader")),
        world.client.post(f"{RECS}/{world.other_id}/retry", headers=world.h("uploader")),
    ):
        assert (resp.status_code, resp.json()) == (404, {"detail": "no such recording"})
    assert world.client.get(f"{RECS}/{world.other_id}/transcript", headers=world.h("uploader")).status_code == 403
    assert world.client.get(f"{RECS}/{world.other_id}", headers=world.h("uploader2")).status_code == 200


def test_retry_and_delete_only_a_failed_recording(world: World) -> None:
    """An uploader retries or deletes only what failed (409 otherwise, nothing changes); an admin retries only what
    failed too, but may delete in any state."""
    h = world.h("uploader")
    before = world.counts()
    for resp, message in (
        (world.client.post(f"{RECS}/{world.own_id}/retry", headers=h), "only a recording whose processing failed"),
        (world.client.post(f"{RECS}/{world.own_id}/retry", headers=world.h("admin")), "only a recording whose"),
        (world.client.delete(f"{RECS}/{world.own_id}", headers=h), "only a recording whose processing failed can be"),
    ):
        assert resp.status_code == 409 and resp.json()["detail"].startswith(message), resp.text
    assert world.counts() == before
    missing = uuid.uuid4().hex
    for role in ("uploader", "admin"):
        assert world.client.post(f"{RECS}/{missing}/retry", headers=world.h(role)).status_code == 404


def test_researcher_gets_403_even_for_missing_ids(world: World) -> None:
    resp = world.client.get(f"{RECS}/{uuid.uuid4().hex}", headers=world.h("researcher"))
    assert resp.status_code == 403


def test_researcher_gets_403_on_every_recordings_route_for_missing_ids_too(world: World) -> None:
    """The routes gated by role before any lookup: same 403 whether or not the id exists."""
    missing = uuid.uuid4().hex
    h = world.h("researcher")
    for resp in (
        world.client.get(RECS, headers=h),
        world.client.get(f"{RECS}/{missing}/transcript", headers=h),
        world.client.delete(f"{RECS}/{missing}", headers=h),
        world.client.post(f"{RECS}/{missing}/retry", headers=h),
        world.client.post(RECS, headers=h, data=META, files={"file": ("a.m4a", world.audio)}),
    ):
        assert resp.status_code == 403, resp.text


def test_admin_user_management_validates(world: World) -> None:
    taken = world.client.get(f"{API}/me", headers=world.h("reviewer")).json()["name"]
    h = world.h("admin")
    assert world.client.post(f"{API}/users", headers=h, json={"name": taken, "role": "admin"}).status_code == 409
    for bad in ({"name": "../etc", "role": "admin"}, {"name": "x", "role": "root"}, {"name": "", "role": "admin"}):
        assert world.client.post(f"{API}/users", headers=h, json=bad).status_code == 422, bad


# ---- not authenticated ---------------------------------------------------------------------------------


def _bad_auth(w: World, kind: str) -> dict[str, str]:
    admin = w.tokens["admin"]
    return {
        "no-header": {},
        "empty-bearer": {"Authorization": "Bearer"},
        "basic": {"Authorization": "Basic YWRtaW46YWRtaW4="},
        "token-scheme": {"Authorization": f"Token {admin}"},
        "no-scheme": {"Authorization": admin},
        "garbage": {"Authorization": "Bearer not-a-token"},
        "unknown-token": {"Authorization": f"Bearer ast_{uuid.uuid4().hex}{uuid.uuid4().hex}"},
        "too-long": {"Authorization": f"Bearer {admin}{'x' * 200}"},
        "stored-hash-as-token": {"Authorization": f"Bearer {sha256(admin)}"},
        "stored-prefix-as-token": {"Authorization": f"Bearer {admin[:12]}"},
        "deactivated-user": {"Authorization": f"Bearer {w.extra_tokens['deactivated']}"},
        "revoked-token": {"Authorization": f"Bearer {w.extra_tokens['revoked']}"},
    }[kind]


BAD_AUTH = [
    "no-header",
    "empty-bearer",
    "basic",
    "token-scheme",
    "no-scheme",
    "garbage",
    "unknown-token",
    "too-long",
    "stored-hash-as-token",
    "stored-prefix-as-token",
    "deactivated-user",
    "revoked-token",
]
# HTTPBearer hands over no credentials at all for these: audited as a missing token.
MISSING = {"no-header", "empty-bearer", "basic", "token-scheme", "no-scheme"}
# A real token refused: the log says why (the answer is the same 401). Expired: tests/auth/test_api_tokens.py.
REASONS = {"deactivated-user": "disabled", "revoked-token": "revoked_token"}


@pytest.mark.parametrize("kind", BAD_AUTH)
@pytest.mark.parametrize("endpoint", list(MATRIX))
def test_unauthenticated_is_401_and_audited(world: World, endpoint: str, kind: str) -> None:
    before = world.counts()
    resp = call(world, endpoint, _bad_auth(world, kind))
    assert resp.status_code == 401, resp.text
    assert resp.json() == {"detail": "missing or invalid API token"}
    assert resp.headers["www-authenticate"] == "Bearer"
    # Exactly one row written anywhere: the content-free auth.failed event.
    assert world.counts() == dict(before, audit_events=before["audit_events"] + 1)
    [(action, actor, details)] = world.last_events(1)
    reason = "missing_token" if kind in MISSING else REASONS.get(kind, "invalid_token")
    assert (action, actor, details) == ("auth.failed", None, {"reason": reason})


def test_failed_logins_are_audited_without_the_presented_token(world: World) -> None:
    from service.audit import service as audit
    from service.core.db import session_scope

    presented = f"ast_{uuid.uuid4().hex}-presented"
    world.client.get(f"{API}/me")
    world.client.get(f"{API}/me", headers={"Authorization": f"Bearer {presented}"})
    assert [(a, d["reason"]) for a, _, d in world.last_events(2)] == [
        ("auth.failed", "invalid_token"),
        ("auth.failed", "missing_token"),
    ]
    assert presented not in world.dump() and sha256(presented) not in world.dump()
    with session_scope(world.runtime.sessions) as s:
        verdict = audit.verify(db_session=s)
        assert (verdict.ok, verdict.first_bad_id, verdict.reason) == (True, None, "ok")


def test_tokens_are_stored_only_as_sha256(world: World) -> None:
    created = world.client.post(
        f"{API}/users", headers=world.h("admin"), json={"name": f"t-{uuid.uuid4().hex[:8]}", "role": "reviewer"}
    ).json()["token"]
    tokens = [*world.tokens.values(), *world.extra_tokens.values(), created]
    dump = world.dump()
    with world.runtime.engine.connect() as conn:
        hashes = set(conn.execute(sa.text("SELECT token_hash FROM api_tokens")).scalars())
    for token in tokens:
        assert len(token) > 40 and token not in dump
        # Only the public 12-character prefix is kept in the clear; the secret part is nowhere.
        assert token[12:] not in dump and token[12:32] not in dump
        assert sha256(token) in hashes


# ---- unauthenticated by design ---------------------------------------------------------------------------


@pytest.mark.parametrize("auth", [{}, {"Authorization": "Bearer not-a-token"}], ids=["no-token", "bad-token"])
def test_health_probes_need_no_token_and_reveal_nothing(world: World, auth: dict[str, str]) -> None:
    before = world.counts()
    health = world.client.get("/healthz", headers=auth)
    assert health.status_code == 200 and health.json() == {"status": "ok"}
    ready = world.client.get("/readyz", headers=auth)
    body = ready.json()
    assert set(body) == {"status", "checks"}
    assert set(body["checks"]) == {"database", "queue", "storage", "model"}
    assert all(isinstance(v, bool) for v in body["checks"].values())
    assert body["checks"]["database"] is True and body["checks"]["storage"] is True
    ok = all(body["checks"].values())
    assert (ready.status_code, body["status"]) == ((200, "ok") if ok else (503, "unavailable"))
    for resp in (health, ready):
        assert set(resp.headers) <= {"content-type", "content-length"}
    # Not an authentication attempt: nothing audited, nothing written.
    assert world.counts() == before


def test_openapi_documents_upload_fields_and_bearer_auth(world: World) -> None:
    doc = world.client.get("/openapi.json").json()
    body = doc["paths"][RECS]["post"]["requestBody"]
    schema = body["content"]["multipart/form-data"]["schema"]
    assert body["required"] is True
    assert set(schema["properties"]) == {
        "file",
        "participant_code",
        "cohort",
        "interview_date",
        "withdrawal_deadline",
        "num_speakers",
        "min_speakers",
        "max_speakers",
    }
    assert set(schema["required"]) == {"file", "participant_code", "cohort", "interview_date"}
    assert schema["properties"]["file"] == {"type": "string", "format": "binary"}
    assert schema["properties"]["cohort"]["enum"] == ["police", "victim", "other"]
    assert schema["properties"]["interview_date"]["format"] == "date"
    # Every /api/v1 operation declares the bearer scheme; the probes declare none.
    assert doc["components"]["securitySchemes"]["HTTPBearer"] == {"type": "http", "scheme": "bearer"}
    operations = [(p, m, op) for p, ops in doc["paths"].items() for m, op in ops.items()]
    assert {(p, m) for p, m, _ in operations if p.startswith(API)} == {
        (f"{API}/me", "get"),
        (f"{API}/users", "get"),
        (f"{API}/users", "post"),
        (RECS, "get"),
        (RECS, "post"),
        (f"{RECS}/{{recording_id}}", "get"),
        (f"{RECS}/{{recording_id}}", "delete"),
        (f"{RECS}/{{recording_id}}/retry", "post"),
        (f"{RECS}/{{recording_id}}/transcript", "get"),
        (f"{RECS}/{{recording_id}}/audio", "get"),
        (f"{RECS}/{{recording_id}}/speakers", "get"),
        (f"{RECS}/{{recording_id}}/speakers", "patch"),
        (f"{RECS}/{{recording_id}}/speakers/{{slot}}/voice-profile", "post"),
        (f"{API}/voice-profiles", "get"),
        (f"{API}/voice-profiles/{{profile_id}}", "delete"),
        (f"{RECS}/{{recording_id}}/review", "get"),
        (f"{RECS}/{{recording_id}}/review/spans", "post"),
        (f"{RECS}/{{recording_id}}/review/spans/{{span_id}}", "patch"),
        (f"{RECS}/{{recording_id}}/review/spans/{{span_id}}/audio", "get"),
        (f"{RECS}/{{recording_id}}/review/approve", "post"),
        (f"{RECS}/{{recording_id}}/review/reopen", "post"),
        (f"{RECS}/{{recording_id}}/segments/{{segment}}", "patch"),
        (f"{RECS}/{{recording_id}}/segments/{{segment}}/split", "post"),
        (f"{RECS}/{{recording_id}}/segments/merge", "post"),
        (f"{RECS}/{{recording_id}}/segments/undo", "post"),
        (f"{RECS}/{{recording_id}}/anonymised", "get"),
        (f"{API}/library", "get"),
        (f"{API}/library/export", "get"),
        (f"{API}/library/search", "get"),
        (f"{API}/library/{{recording_id}}", "get"),
        (f"{API}/users/{{user_id}}", "patch"),
        (f"{API}/audit", "get"),
        (f"{API}/retention", "get"),
        (f"{API}/participants/{{participant_code}}/withdrawal", "post"),
        (f"{API}/withdrawals/{{receipt_id}}", "get"),
        (f"{API}/tokens", "get"),
        (f"{API}/tokens", "post"),
        (f"{API}/tokens/{{token_id}}", "delete"),
        (f"{API}/users/{{user_id}}/tokens", "get"),
        (f"{API}/users/{{user_id}}/tokens", "post"),
        (f"{API}/users/{{user_id}}/tokens/{{token_id}}", "delete"),
    }, "an endpoint was added: add it to MATRIX"
    for path, method, op in operations:
        assert (op.get("security") == [{"HTTPBearer": []}]) == path.startswith(API), (path, method)
