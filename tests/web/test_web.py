"""The web UI over HTTP (TestClient): who may open which page and post which form, CSRF, the session cookie, and
that a researcher's session reaches nothing but the anonymised library.

Rules under test:
- every page and form route: not signed in -> 303 to /signin; the wrong role -> 403 page; the API's roles exactly;
- every state-changing form needs the session's CSRF token (missing, wrong or another session's -> 403, no change);
- the session cookie is HttpOnly, SameSite=Strict, Secure when configured, never the API token; it expires;
  sign-out kills it server-side;
- the cookie authenticates no API route, and an API token is no session;
- pages carry a strict CSP and no inline script, style or event handler.

Longer than the ~400-line house rule: the page x role x form matrix shares one app per back-end (the expensive
part); splitting it by page would build that app several times. To be split with shared fixtures in tests/support.
"""

from __future__ import annotations

import html
import io
import json
import re
import uuid
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
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
from tests.support.markup import lint_page
from tests.support.media import ffmpeg
from tests.support.paths import shared
from tests.support.voices import give_voices

ROLES = ("admin", "uploader", "reviewer", "researcher")
META = {"participant_code": "P07", "cohort": "police", "interview_date": interview_date()}
FAILED_ERROR = "processing failed after 3 attempts; it can be retried, and the worker log tells an admin why"
COUNTED = ("users", "user_identities", "api_tokens", "recordings", "jobs", "redaction_spans", "speaker_slots",
           "anonymised_transcripts", "audit_events")


@dataclass
class Site:
    app: Any
    runtime: Any
    tokens: dict[str, str]
    audio: bytes
    clients: dict[str, TestClient] = field(default_factory=dict)
    pending_id: str = ""  # needs review, hand-made transcript, no audio
    audio_id: str = ""  # uploaded through the web form, real audio, hand-made transcript: snippets work
    approved_id: str = ""  # in the library
    span_id: int = 0  # a span of audio_id
    receipt_id: str = ""  # a withdrawal made at set-up
    other_user_id: int = 0  # a researcher the admin may change
    sso_user_id: int = 0  # a single sign-on user made pending at set-up

    def client(self, role: str | None) -> TestClient:
        if role is None:
            return TestClient(self.app, follow_redirects=False)
        return self.clients[role]

    def csrf(self, role: str) -> str:
        page = self.clients[role].get("/recordings" if role != "researcher" else "/library")
        return re.search(r'name="csrf" value="([0-9a-f]{64})"', page.text).group(1)  # type: ignore[union-attr]

    def counts(self) -> dict[str, int]:
        with self.runtime.engine.connect() as conn:
            return {t: conn.execute(sa.text(f"SELECT COUNT(*) FROM {t}")).scalar_one() for t in COUNTED}

    def fresh_failed(self) -> str:
        """A recording of the uploader's, uploaded through the form, left as the worker leaves one whose every
        attempt failed (tests/recordings/test_jobs.py fails real ones)."""
        before = set(self.recording_ids())
        resp = self.clients["uploader"].post(f"/upload?csrf={self.csrf('uploader')}", data=META,
                                             files={"file": ("speech.m4a", self.audio)})
        assert resp.status_code == 303, resp.text
        [rid] = set(self.recording_ids()) - before
        with self.runtime.engine.begin() as conn:
            conn.execute(sa.text("UPDATE jobs SET state = 'failed', attempts = 3, error = :e WHERE recording_id = :r"),
                         {"r": rid, "e": FAILED_ERROR})
        return rid

    def fresh_sso_pending(self) -> int:
        """Someone the provider knows who signed in once and waits for an admin (tests/auth/test_sso.py makes them
        through the real round trip)."""
        from service.auth import sso
        from service.core.db import session_scope

        with session_scope(self.runtime.sessions) as s:
            return sso.create_pending(db_session=s, issuer=sso.issuer_key(self.runtime.settings),
                                      subject=f"sub-{uuid.uuid4().hex}", email=None, claims={}).id

    def fresh_token(self, user_id: int) -> int:
        """A live API token of the user's, to be revoked (tests/auth/test_api_tokens.py covers the rest)."""
        from service.auth import tokens
        from service.core.db import session_scope

        with session_scope(self.runtime.sessions) as s:
            row, _ = tokens.create(db_session=s, user_id=user_id, name="to revoke", actor_id=None,
                                   limits=tokens.Limits(per_user=100, max_days=30))
            return row.id

    def user_of(self, role: str) -> int:
        with self.runtime.engine.connect() as conn:
            return conn.execute(sa.text("SELECT user_id FROM api_tokens WHERE token_hash = :h"),
                                {"h": _sha(self.tokens[role])}).scalar_one()

    def recording_ids(self) -> list[str]:
        with self.runtime.engine.connect() as conn:
            return list(conn.execute(sa.text("SELECT id FROM recordings")).scalars())

    def fresh_pending(self, code: str | None = None, approve: bool = False) -> str:
        users = corpus.user_ids(self.runtime)
        interview = replace(corpus.POLICE, code=code) if code else corpus.POLICE
        return corpus.make_transcript(self.runtime, interview, uploader_id=users["uploader"],
                                      approver_id=users["reviewer"] if approve else None, approve=approve)

    def fresh_enrollable(self) -> str:
        """Waiting for review, every slot keeping a voiceprint, S1 confirmed as Interviewer by a reviewer."""
        rid = self.fresh_pending()
        give_voices(self.runtime, rid, confirm={"S1": "Interviewer"})
        return rid

    def fresh_profile(self) -> str:
        """A voice profile enrolled from a fresh recording's S1 (tests/web/test_voice_web.py enrols through the
        page)."""
        from service.core.db import session_scope
        from service.recordings.models import Recording
        from service.speakers import voices

        rid = self.fresh_enrollable()
        with session_scope(self.runtime.sessions) as s:
            return voices.enrol_from_slot(db_session=s, sealed=self.runtime.sealed, recording=s.get(Recording, rid),
                                          slot="S1", actor_id=self.user_of("reviewer")).id


def _sha(token: str) -> str:
    import hashlib

    return hashlib.sha256(token.encode()).hexdigest()


def sign_in(client: TestClient, token: str, next_path: str = "/") -> httpx.Response:
    form = client.get("/signin")
    nonce = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)  # type: ignore[union-attr]
    return client.post("/signin", data={"csrf": nonce, "token": token, "next": next_path})


def attach_transcript(runtime: Any, recording_id: str, interview: corpus.Interview) -> None:
    """A hand-made raw transcript and detected spans for an uploaded recording: the worker's output minus Whisper."""
    from dataclasses import asdict

    from pipeline.redact import load_detector
    from service.core.db import session_scope
    from service.recordings import jobs
    from service.recordings.models import JobState
    from service.redaction import service as redaction
    from service.speakers import service as speakers
    from service.transcripts import service as transcripts

    raw = corpus.raw_transcript(interview.lines, interview.roles or {})
    found = load_detector(known_names=list(interview.known_names)).detect_document([s["text"] for s in raw["segments"]])
    with session_scope(runtime.sessions) as s:
        job = jobs.get_for_recording(db_session=s, recording_id=recording_id)
        job.state = JobState.needs_review.value  # type: ignore[union-attr]
        transcripts.save_raw(db_session=s, sealed=runtime.sealed, recording_id=recording_id, transcript=raw)
        speakers.init_from_transcript(db_session=s, recording_id=recording_id, speakers=raw["speakers"])
        redaction.replace_detected(db_session=s, recording_id=recording_id,
                                   detected=[[asdict(sp) for sp in spans] for spans in found])


@pytest.fixture(scope="module")
def audio_file(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    path = tmp_path_factory.mktemp("web-media") / "speech.m4a"
    ffmpeg("-ss", "0", "-t", "8", "-i", str(shared("azure_en_general_test.wav")), "-c:a", "aac", "-b:a", "48k",
           str(path))
    return path.read_bytes()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def site(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, audio_file: bytes) -> Iterator[Site]:
    from service.app import create_app

    tmp = tmp_path_factory.mktemp(f"web-{request.param}")
    pg = pg_create() if request.param == "postgresql" else None
    url = pg.url if pg else f"sqlite:///{tmp / 'data' / 'anonscribe.db'}"
    # Single sign-on configured (its pages are in the matrix); no provider is needed for them.
    app = create_app(make_settings(tmp, url, oidc_issuer="http://127.0.0.1:9", oidc_client_id="anonscribe"),
                     start_workers=False)
    try:
        with TestClient(app):
            runtime = app.state.runtime
            s = Site(app=app, runtime=runtime, tokens=create_users(runtime), audio=audio_file)
            for role in ROLES:
                s.clients[role] = TestClient(app, follow_redirects=False)
                assert sign_in(s.clients[role], s.tokens[role]).status_code == 303
            users = corpus.user_ids(runtime)
            s.pending_id = s.fresh_pending()
            s.approved_id = corpus.make_transcript(runtime, corpus.VICTIM, uploader_id=users["uploader"],
                                                   approver_id=users["reviewer"])
            resp = s.clients["uploader"].post(f"/upload?csrf={s.csrf('uploader')}", data=META,
                                              files={"file": ("speech.m4a", audio_file)})
            assert resp.status_code == 303, resp.text
            with runtime.engine.connect() as conn:
                s.audio_id = conn.execute(sa.text("SELECT id FROM recordings WHERE blob_id IS NOT NULL")).scalar_one()
            attach_transcript(runtime, s.audio_id, corpus.POLICE)
            with runtime.engine.connect() as conn:
                s.span_id = conn.execute(sa.text("SELECT MIN(id) FROM redaction_spans WHERE recording_id = :r"),
                                         {"r": s.audio_id}).scalar_one()
            from service.retention import withdrawal

            s.fresh_pending("WD-SETUP")
            s.receipt_id = withdrawal.withdraw(runtime=runtime, participant_code="WD-SETUP", actor_id=users["admin"],
                                               override_reason="set-up").receipt_id
            other = create_users(runtime, roles=("researcher",))["researcher"]
            with runtime.engine.connect() as conn:
                s.other_user_id = conn.execute(sa.text(
                    "SELECT user_id FROM api_tokens WHERE token_hash = :h"), {"h": _sha(other)}).scalar_one()
            s.sso_user_id = s.fresh_sso_pending()
            yield s
    finally:
        if pg:
            pg_drop(pg)


# ---- the role matrix: every page and form route x every role ------------------------------------------------

OK_GET, OK_POST = 200, 303
# route -> the roles that get through (everyone else signed in gets 403; nobody signed in gets 303 to /signin)
PAGES: dict[str, tuple[str, ...]] = {
    "GET /upload": ("admin", "uploader"),
    "POST /upload": ("admin", "uploader"),
    "GET /recordings": ("admin", "uploader", "reviewer"),
    "GET /recordings/rows": ("admin", "uploader", "reviewer"),
    "POST /recordings/{recording_id}/retry": ("admin", "uploader"),
    "POST /recordings/{recording_id}/delete": ("admin", "uploader"),
    "GET /review": ("admin", "reviewer"),
    "GET /review/{recording_id}": ("admin", "reviewer"),
    "POST /review/{recording_id}/spans/{span_id}": ("admin", "reviewer"),
    "POST /review/{recording_id}/spans": ("admin", "reviewer"),
    "POST /review/{recording_id}/speakers": ("admin", "reviewer"),
    "POST /review/{recording_id}/approve": ("admin", "reviewer"),
    "POST /review/{recording_id}/segments/{segment}": ("admin", "reviewer"),
    "POST /review/{recording_id}/segments/{segment}/split": ("admin", "reviewer"),
    "POST /review/{recording_id}/segments/merge": ("admin", "reviewer"),
    "POST /review/{recording_id}/segments/undo": ("admin", "reviewer"),
    "POST /review/{recording_id}/reopen": ("admin",),
    "POST /review/{recording_id}/speakers/{slot}/voice-profile": ("admin", "reviewer"),
    "GET /review/{recording_id}/spans/{span_id}/audio": ("admin", "reviewer"),
    "GET /review/{recording_id}/audio": ("admin", "reviewer"),
    "GET /library": ("admin", "researcher"),
    "GET /library/export": ("admin", "researcher"),
    "GET /library/{recording_id}/download": ("admin", "researcher"),
    "GET /library/search": ("admin", "researcher"),
    "GET /library/{recording_id}": ("admin", "researcher"),
    "GET /admin/users": ("admin",),
    "POST /admin/users": ("admin",),
    "POST /admin/users/{user_id}": ("admin",),
    "GET /admin/audit": ("admin",),
    "GET /admin/retention": ("admin",),
    "GET /admin/voices": ("admin",),
    "POST /admin/voices/{profile_id}/delete": ("admin",),
    "GET /admin/withdrawal": ("admin",),
    "POST /admin/withdrawal": ("admin",),
    "GET /admin/withdrawals/{receipt_id}": ("admin",),
    "GET /admin/sso": ("admin",),
    "POST /admin/sso/users": ("admin",),
    "POST /admin/sso/users/{user_id}/approve": ("admin",),
    "POST /admin/users/{user_id}/link": ("admin",),
    "POST /admin/users/{user_id}/reset-factor": ("admin",),
    "POST /admin/users/{user_id}/unlock": ("admin",),
    "GET /account": ROLES,
    "POST /account/password": ROLES,
    "GET /account/totp": ROLES,
    "POST /account/totp": ROLES,
    "POST /account/tokens": ROLES,
    "POST /account/tokens/{token_id}/revoke": ROLES,
    "GET /admin/users/{user_id}/tokens": ("admin",),
    "POST /admin/users/{user_id}/tokens": ("admin",),
    "POST /admin/users/{user_id}/tokens/{token_id}/revoke": ("admin",),
}
# Forms that answer with a page (a new token, a link, a receipt) rather than a redirect.
PAGE_POSTS = {"POST /admin/users", "POST /admin/withdrawal", "POST /admin/users/{user_id}/link",
              "POST /account/tokens", "POST /admin/users/{user_id}/tokens"}
# Forms the matrix posts with input their own checks refuse (two different new passwords, a wrong code): the role
# check let them through. Their success paths are in tests/web/test_accounts_web.py.
REFUSED_INPUT = {"POST /account/password": 422, "POST /account/totp": 422}
# Open to anyone signed in, or to nobody in particular: checked on their own below (the pages before a session:
# tests/web/test_accounts_web.py).
OPEN = {"GET /", "GET /signin", "POST /signin", "POST /signout", "GET /signin/sso", "GET /signin/sso/callback",
        "GET /signin/code", "POST /signin/code",
        "GET /signin/enrol", "POST /signin/enrol", "GET /account/setup/{link}", "POST /account/setup/{link}"}


def request(site: Site, route: str, client: TestClient, csrf: str, rid: str | None = None) -> httpx.Response:
    rid = rid or site.audio_id
    form = {"csrf": csrf}
    calls: dict[str, Callable[[], httpx.Response]] = {
        "GET /upload": lambda: client.get("/upload"),
        "POST /upload": lambda: client.post(f"/upload?csrf={csrf}", data=META, files={"file": ("a.m4a", site.audio)}),
        "GET /recordings": lambda: client.get("/recordings"),
        "GET /recordings/rows": lambda: client.get("/recordings/rows"),
        "POST /recordings/{recording_id}/retry": lambda: client.post(f"/recordings/{rid}/retry", data=form),
        "POST /recordings/{recording_id}/delete": lambda: client.post(f"/recordings/{rid}/delete", data=form),
        "GET /review": lambda: client.get("/review"),
        "GET /review/{recording_id}": lambda: client.get(f"/review/{rid}"),
        "POST /review/{recording_id}/spans/{span_id}": lambda: client.post(
            f"/review/{rid}/spans/{site.span_id}", data={**form, "action": "accept", "label": "PERSON"}),
        "POST /review/{recording_id}/spans": lambda: client.post(
            f"/review/{rid}/spans", data={**form, "segment": "0", "text": "talk", "label": "PERSON"}),
        "POST /review/{recording_id}/speakers": lambda: client.post(
            f"/review/{rid}/speakers", data={**form, "role_S1": "Interviewer"}),
        "POST /review/{recording_id}/approve": lambda: client.post(f"/review/{rid}/approve", data=form),
        "POST /review/{recording_id}/segments/{segment}": lambda: client.post(
            f"/review/{rid}/segments/0", data={**form, "text": "Corrected words here", "speaker": "S1"}),
        "POST /review/{recording_id}/segments/{segment}/split": lambda: client.post(
            f"/review/{rid}/segments/0/split", data={**form, "word": "1"}),
        "POST /review/{recording_id}/segments/merge": lambda: client.post(
            f"/review/{rid}/segments/merge", data={**form, "segment": "0"}),
        "POST /review/{recording_id}/segments/undo": lambda: client.post(f"/review/{rid}/segments/undo", data=form),
        "POST /review/{recording_id}/reopen": lambda: client.post(f"/review/{rid}/reopen", data=form),
        "POST /review/{recording_id}/speakers/{slot}/voice-profile": lambda: client.post(
            f"/review/{rid}/speakers/S1/voice-profile", data=form),
        "GET /review/{recording_id}/spans/{span_id}/audio": lambda: client.get(
            f"/review/{rid}/spans/{site.span_id}/audio"),
        "GET /review/{recording_id}/audio": lambda: client.get(f"/review/{rid}/audio"),
        "GET /library": lambda: client.get("/library"),
        "GET /library/export": lambda: client.get("/library/export?format=zip"),
        "GET /library/{recording_id}/download": lambda: client.get(f"/library/{site.approved_id}/download?format=docx"),
        "GET /library/search": lambda: client.get("/library/search?q=the"),
        "GET /library/{recording_id}": lambda: client.get(f"/library/{site.approved_id}"),
        "GET /admin/users": lambda: client.get("/admin/users"),
        "POST /admin/users": lambda: client.post(
            "/admin/users", data={**form, "name": f"u-{uuid.uuid4().hex[:8]}", "role": "researcher"}),
        "POST /admin/users/{user_id}": lambda: client.post(
            f"/admin/users/{site.other_user_id}", data={**form, "role": "researcher", "active": "yes"}),
        "GET /admin/audit": lambda: client.get("/admin/audit?page=1"),
        "GET /admin/retention": lambda: client.get("/admin/retention"),
        "GET /admin/voices": lambda: client.get("/admin/voices"),
        # A refused role is sent with a recording's id: refused before anything is looked up.
        "POST /admin/voices/{profile_id}/delete": lambda: client.post(f"/admin/voices/{rid}/delete", data=form),
        "GET /admin/withdrawal": lambda: client.get("/admin/withdrawal"),
        "POST /admin/withdrawal": lambda: client.post("/admin/withdrawal", data={
            **form, "participant_code": rid if rid.startswith("WD-") else "WD-NONE", "confirm": "yes",
            "override_reason": "matrix test"}),
        "GET /admin/withdrawals/{receipt_id}": lambda: client.get(f"/admin/withdrawals/{site.receipt_id}?format=txt"),
        "GET /admin/sso": lambda: client.get("/admin/sso"),
        "POST /admin/sso/users": lambda: client.post("/admin/sso/users", data={
            **form, "name": f"s-{uuid.uuid4().hex[:8]}", "role": "researcher", "match": f"sub-{uuid.uuid4().hex}"}),
        "POST /admin/sso/users/{user_id}/approve": lambda: client.post(
            f"/admin/sso/users/{rid if rid.isdigit() else site.sso_user_id}/approve",
            data={**form, "role": "researcher"}),
        "POST /admin/users/{user_id}/link": lambda: client.post(f"/admin/users/{site.other_user_id}/link", data=form),
        "POST /admin/users/{user_id}/reset-factor": lambda: client.post(
            f"/admin/users/{site.other_user_id}/reset-factor", data=form),
        "POST /admin/users/{user_id}/unlock": lambda: client.post(f"/admin/users/{site.other_user_id}/unlock",
                                                                  data=form),
        "GET /account": lambda: client.get("/account"),
        "POST /account/password": lambda: client.post("/account/password", data={
            **form, "current": "x", "password": "one pass phrase here", "confirm": "another pass phrase"}),
        "GET /account/totp": lambda: client.get("/account/totp"),
        "POST /account/totp": lambda: client.post("/account/totp", data={**form, "code": "12"}),
        "POST /account/tokens": lambda: client.post("/account/tokens", data={
            **form, "token_name": "matrix", "expires_days": "7"}),
        "POST /account/tokens/{token_id}/revoke": lambda: client.post(
            f"/account/tokens/{rid if rid.isdigit() else 2147483647}/revoke", data=form),
        "GET /admin/users/{user_id}/tokens": lambda: client.get(f"/admin/users/{site.other_user_id}/tokens"),
        "POST /admin/users/{user_id}/tokens": lambda: client.post(f"/admin/users/{site.other_user_id}/tokens", data={
            **form, "token_name": "matrix", "expires_days": "never"}),
        "POST /admin/users/{user_id}/tokens/{token_id}/revoke": lambda: client.post(
            f"/admin/users/{site.other_user_id}/tokens/{rid if rid.isdigit() else 2147483647}/revoke", data=form),
    }
    return calls[route]()


def web_routes() -> set[str]:
    from service.web import ROUTERS
    from service.web.templating import WebRoute

    routes = [r for router in ROUTERS for r in router.routes]
    assert all(isinstance(r, WebRoute) for r in routes)  # every one gets the security headers
    return {f"{m} {r.path}" for r in routes for m in r.methods}  # type: ignore[attr-defined]


def test_every_web_route_is_in_the_matrix(site: Site) -> None:
    assert web_routes() == set(PAGES) | OPEN, "a web route was added or removed: update PAGES"


def test_web_routes_stay_out_of_the_api_document(site: Site) -> None:
    paths = site.client(None).get("/openapi.json").json()["paths"]
    assert all(p.startswith("/api/v1") or p in ("/healthz", "/readyz") for p in paths)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("route", list(PAGES))
def test_page_role_matrix(site: Site, route: str, role: str) -> None:
    allowed = role in PAGES[route]
    rid = site.fresh_pending() if route.endswith("/approve") and allowed else None  # approval is one-way
    if "/segments/" in route and allowed:
        rid = site.pending_id  # corrections change its text (the tests that read it do not depend on it)
    if route.endswith("/reopen") and allowed:
        rid = site.fresh_pending(approve=True)
    if route.endswith("/voice-profile") and allowed:
        rid = site.fresh_enrollable()
    if route == "POST /admin/sso/users/{user_id}/approve" and allowed:
        rid = str(site.fresh_sso_pending())
    if route.endswith(("/retry", "/delete")) and allowed:
        rid = site.fresh_failed()
    if route == "POST /admin/voices/{profile_id}/delete" and allowed:
        rid = site.fresh_profile()
    if route.endswith("/tokens/{token_id}/revoke") and allowed:
        rid = str(site.fresh_token(site.other_user_id if route.startswith("POST /admin") else site.user_of(role)))
    if route == "POST /admin/withdrawal" and allowed:
        rid = f"WD-{uuid.uuid4().hex[:8]}"  # a participant of its own: withdrawal deletes for good
        site.fresh_pending(rid)
    before = site.counts()
    resp = request(site, route, site.clients[role], site.csrf(role), rid)
    if not allowed:
        assert resp.status_code == 403, resp.text
        assert "Not for your role" in resp.text and resp.headers["content-type"].startswith("text/html")
        assert site.counts() == before  # refused before anything is read or written (not even an audit row)
        return
    expected = OK_POST if route.startswith("POST") and route not in PAGE_POSTS else OK_GET
    expected = REFUSED_INPUT.get(route, expected)
    assert resp.status_code == expected, resp.text[:2000]
    if expected == OK_POST:
        assert not resp.headers["location"].startswith("/signin")


@pytest.mark.parametrize("route", list(PAGES))
def test_not_signed_in_is_sent_to_sign_in(site: Site, route: str) -> None:
    before = site.counts()
    for client in (site.client(None), _with_cookie(site, "aws_" + "x" * 43), _with_cookie(site, site.tokens["admin"])):
        resp = request(site, route, client, "0" * 64)
        assert resp.status_code == 303, (route, resp.status_code)
        location = resp.headers["location"]
        assert location.startswith("/signin?next=")
        if route.startswith("GET"):
            # Back to the page after signing in (a path on this site only).
            assert location.split("next=", 1)[1].startswith("/")
    assert site.counts() == before


def _with_cookie(site: Site, value: str) -> TestClient:
    client = site.client(None)
    client.cookies.set("anonscribe_session", value)
    return client


def test_home_sends_each_role_to_its_start_page(site: Site) -> None:
    starts = {"admin": "/upload", "uploader": "/upload", "reviewer": "/recordings", "researcher": "/library"}
    for role, target in starts.items():
        assert site.clients[role].get("/").headers["location"] == target
        assert site.clients[role].get("/signin").headers["location"] == target
    assert site.client(None).get("/").headers["location"] == "/signin"


# ---- CSRF ----------------------------------------------------------------------------------------------------

FORMS = [r for r in PAGES if r.startswith("POST")]


@pytest.mark.parametrize("route", FORMS)
def test_csrf_missing_or_wrong_is_rejected(site: Site, route: str) -> None:
    role = PAGES[route][-1]
    other = site.client(None)
    sign_in(other, site.tokens[role])  # a second, valid session of the same user: its token is not this one's
    rid = site.fresh_pending() if route.endswith("/approve") else None
    before = site.counts()
    own = site.csrf(role)
    for token in ("", "0" * 64, own[:-1] + ("1" if own.endswith("0") else "0"), _csrf_of(other)):
        resp = request(site, route, site.clients[role], token, rid)
        assert resp.status_code == 403, (route, token, resp.status_code)
        assert "Form expired" in resp.text
    assert site.counts() == before
    if route == "POST /upload":
        resp = site.clients[role].post("/upload", data=META, files={"file": ("a.m4a", site.audio)})
        assert resp.status_code == 403


def _csrf_of(client: TestClient) -> str:
    return re.search(r'name="csrf" value="([0-9a-f]{64})"', client.get("/signin", follow_redirects=True).text).group(1)  # type: ignore[union-attr]


def test_upload_csrf_header_is_accepted_and_checked_before_the_body(site: Site) -> None:
    client = site.clients["uploader"]
    before = site.counts()
    ok = client.post("/upload", headers={"X-CSRF-Token": site.csrf("uploader"), "Accept": "application/json"},
                     data=META, files={"file": ("a.m4a", site.audio)})
    assert ok.status_code == 202 and ok.json()["status"] == "queued"
    assert site.counts()["recordings"] == before["recordings"] + 1
    bad = client.post("/upload", headers={"X-CSRF-Token": "0" * 64}, data=META,
                      files={"file": ("a.m4a", site.audio)})
    assert bad.status_code == 403
    assert site.counts()["recordings"] == before["recordings"] + 1


def test_sign_out_needs_csrf_and_kills_the_session(site: Site) -> None:
    client = site.client(None)
    sign_in(client, site.tokens["reviewer"])
    cookie = client.cookies["anonscribe_session"]
    assert client.post("/signout", data={"csrf": "0" * 64}).status_code == 403
    assert client.get("/review").status_code == 200
    token = _csrf_of(client)
    resp = client.post("/signout", data={"csrf": token})
    assert resp.status_code == 303 and resp.headers["location"] == "/signin?signed_out=true"
    assert 'anonscribe_session=""' in resp.headers["set-cookie"]
    # A copy of the old cookie is worthless: the session is revoked server-side, not just forgotten by the browser.
    replay = _with_cookie(site, cookie)
    assert replay.get("/review").status_code == 303
    assert replay.post("/review/x/approve", data={"csrf": token}).status_code == 303


def test_sign_in_form_is_protected_against_login_csrf(site: Site) -> None:
    client = site.client(None)
    resp = client.post("/signin", data={"csrf": "forged", "token": site.tokens["admin"]})
    assert resp.status_code == 403 and "anonscribe_session" not in resp.headers.get("set-cookie", "")
    client.get("/signin")
    resp = client.post("/signin", data={"csrf": "not-the-cookie", "token": site.tokens["admin"]})
    assert resp.status_code == 403 and "anonscribe_session" not in resp.headers.get("set-cookie", "")


# ---- the session cookie --------------------------------------------------------------------------------------


def _cookie_attrs(resp: httpx.Response, name: str) -> dict[str, str]:
    header = next(h for h in resp.headers.get_list("set-cookie") if h.startswith(f"{name}="))
    parts = [p.strip() for p in header.split(";")]
    return {p.split("=", 1)[0].lower(): (p.split("=", 1)[1] if "=" in p else "") for p in parts}


def test_session_cookie_flags_and_value(site: Site) -> None:
    client = site.client(None)
    resp = sign_in(client, site.tokens["researcher"], "/library?cohort=victim")
    assert resp.status_code == 303 and resp.headers["location"] == "/library?cohort=victim"
    attrs = _cookie_attrs(resp, "anonscribe_session")
    value = attrs["anonscribe_session"]
    assert "httponly" in attrs and attrs["samesite"].lower() == "strict" and attrs["path"] == "/"
    assert "secure" not in attrs  # plain HTTP, not configured: a Secure cookie would never come back
    assert int(attrs["max-age"]) == site.runtime.settings.web_session_max_age_s
    # Not the API token, nor derived from it; stored only hashed.
    token = site.tokens["researcher"]
    assert value != token and value.startswith("aws_") and token[4:] not in value and len(value) >= 40
    with site.runtime.engine.connect() as conn:
        dump = " ".join(str(v) for row in conn.execute(sa.text("SELECT * FROM api_tokens")) for v in row)
    assert value not in dump and value[12:] not in dump
    import hashlib

    assert hashlib.sha256(value.encode()).hexdigest() in dump


def test_session_id_is_no_api_token_and_api_token_no_session(site: Site) -> None:
    client = site.client(None)
    sign_in(client, site.tokens["reviewer"])
    session_id = client.cookies["anonscribe_session"]
    api = site.client(None)
    assert api.get("/api/v1/me", headers={"Authorization": f"Bearer {session_id}"}).status_code == 401
    assert api.get("/api/v1/me", cookies={"anonscribe_session": session_id}).status_code == 401
    assert _with_cookie(site, site.tokens["reviewer"]).get("/review").status_code == 303


@pytest.mark.parametrize("secure", [True, None, False])
def test_secure_cookie_when_configured_or_over_https(tmp_path: Path, secure: bool | None) -> None:
    from service.app import create_app

    app = create_app(make_settings(tmp_path, f"sqlite:///{tmp_path / 'data' / 'a.db'}", web_cookie_secure=secure),
                     start_workers=False)
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as client:
        token = create_users(app.state.runtime, roles=("admin",))["admin"]
        form = client.get("/signin")
        assert ("secure" in _cookie_attrs(form, "anonscribe_signin")) is (secure is not False)
        resp = sign_in(client, token)
        assert resp.status_code == 303
        # Unset: Secure because the request came over HTTPS; False: an operator's explicit choice.
        assert ("secure" in _cookie_attrs(resp, "anonscribe_session")) is (secure is not False)


def test_bad_token_is_refused_and_audited(site: Site) -> None:
    client = site.client(None)
    before = site.counts()
    resp = sign_in(client, "ast_" + "y" * 43)
    assert resp.status_code == 401 and "not accepted" in resp.text
    assert "anonscribe_session" not in resp.headers.get("set-cookie", "")
    after = site.counts()
    assert after == dict(before, audit_events=before["audit_events"] + 1)
    with site.runtime.engine.connect() as conn:
        action, details = conn.execute(sa.text("SELECT action, details FROM audit_events ORDER BY id DESC")).first()  # type: ignore[misc]
    assert action == "auth.failed" and "y" * 10 not in str(details)


def test_open_redirects_are_refused(site: Site) -> None:
    for target in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        client = site.client(None)
        assert sign_in(client, site.tokens["researcher"], target).headers["location"] == "/library"


def test_sessions_expire_when_idle_and_absolutely(site: Site) -> None:
    from service.core.clock import set_clock

    settings = site.runtime.settings
    client = site.client(None)
    sign_in(client, site.tokens["researcher"])
    start = datetime.now(UTC)
    try:
        step = timedelta(seconds=settings.web_session_idle_s - 30)
        t = start
        # Kept alive by use until the absolute lifetime runs out, however active the user is.
        while t + step < start + timedelta(seconds=settings.web_session_max_age_s):
            t += step
            set_clock(lambda t=t: t)  # type: ignore[misc]
            assert client.get("/library").status_code == 200, t - start
        set_clock(lambda: start + timedelta(seconds=settings.web_session_max_age_s + 1))
        assert client.get("/library").status_code == 303
        # Idle: a fresh session left alone longer than the idle timeout.
        set_clock(None)
        idle = site.client(None)
        sign_in(idle, site.tokens["researcher"])
        set_clock(lambda: datetime.now(UTC) + timedelta(seconds=settings.web_session_idle_s + 1))
        assert idle.get("/library").status_code == 303
    finally:
        set_clock(None)


def test_disabled_user_loses_the_session(site: Site) -> None:
    from service.auth import service as auth
    from service.core.db import session_scope

    token = create_users(site.runtime, roles=("reviewer",))["reviewer"]
    client = site.client(None)
    sign_in(client, token)
    assert client.get("/review").status_code == 200
    with session_scope(site.runtime.sessions) as s:
        auth.authenticate(db_session=s, token=token).active = False  # type: ignore[union-attr]
    assert client.get("/review").status_code == 303


# ---- a researcher's session reaches the library and nothing else ----------------------------------------------


def test_researcher_cannot_reach_raw_transcripts_or_audio_by_url(site: Site) -> None:
    client = site.clients["researcher"]
    rid, span = site.audio_id, site.span_id
    for path in (f"/review/{rid}", f"/review/{rid}/spans/{span}/audio", f"/review/{uuid.uuid4().hex}", "/review",
                 "/recordings", "/recordings/rows", "/upload", "/admin/users"):
        resp = client.get(path)
        assert resp.status_code == 403, path
        assert "Mark Bellamy" not in resp.text and "P07" not in resp.text
    # The API does not take the session cookie at all.
    for path in (f"/api/v1/recordings/{rid}/transcript", f"/api/v1/recordings/{rid}/review",
                 f"/api/v1/recordings/{rid}/review/spans/{span}/audio", f"/api/v1/recordings/{rid}",
                 f"/api/v1/recordings/{rid}/anonymised", f"/api/v1/library/{site.approved_id}?format=txt"):
        assert client.get(path).status_code == 401, path
    # A library download of an unapproved recording: the library does not know it.
    assert client.get(f"/library/{site.pending_id}/download?format=txt").status_code == 404
    assert client.get(f"/library/{rid}/download?format=json").status_code == 404


def test_library_page_and_downloads_show_only_anonymised_text(site: Site) -> None:
    import docx

    client = site.clients["researcher"]
    page = client.get("/library?cohort=victim&month=&role=")
    assert page.status_code == 200 and "VIC-" in page.text
    assert site.approved_id in page.text and site.pending_id not in page.text and site.audio_id not in page.text
    for fmt in ("txt", "docx", "vtt", "srt", "json", "csv"):
        assert f"/library/{site.approved_id}/download?format={fmt}" in page.text
    assert client.get("/library?month=2025-13").status_code == 422
    assert "No approved transcripts" in client.get("/library?month=1999-01").text
    got = client.get(f"/library/{site.approved_id}/download?format=docx")
    assert got.status_code == 200 and re.match(r'attachment; filename="VIC-\d+_[0-9a-f]{8}\.docx"',
                                               got.headers["content-disposition"])
    text = "\n".join(p.text for p in docx.Document(io.BytesIO(got.content)).paragraphs)
    assert "Interviewer" in text and "[Person" in text
    corpus_zip = client.get("/library/export?cohort=victim&format=zip&include=txt&include=csv&timestamps=no")
    assert corpus_zip.headers["content-disposition"] == 'attachment; filename="anonscribe-victim.zip"'
    names = zipfile.ZipFile(io.BytesIO(corpus_zip.content)).namelist()
    assert "manifest.csv" in names and any(n.endswith(".csv") and n != "manifest.csv" for n in names)
    qdpx = client.get("/library/export?format=qdpx&cohort=victim")
    assert "project.qde" in zipfile.ZipFile(io.BytesIO(qdpx.content)).namelist()
    blobs = page.text + got.content.decode("latin-1") + text
    for z in (corpus_zip.content, qdpx.content):
        with zipfile.ZipFile(io.BytesIO(z)) as zf:
            blobs += " ".join(zf.read(n).decode("utf-8", "replace") for n in zf.namelist()) + " ".join(zf.namelist())
    for identifier in corpus.IDENTIFIERS:
        assert identifier not in blobs.lower(), identifier
    with site.runtime.engine.connect() as conn:
        actions = [r[0] for r in conn.execute(sa.text("SELECT action FROM audit_events ORDER BY id DESC LIMIT 5"))]
    assert actions[:1] == ["library.export"]


def test_reading_page_shows_turns_roles_and_tags_and_search_links_to_a_turn(site: Site) -> None:
    client = site.clients["researcher"]
    rid = site.approved_id
    assert f'href="/library/{rid}"' in client.get("/library").text  # the list links to the reading page
    page = client.get(f"/library/{rid}")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    # VICTIM: five segments, four turns (the participant's last two segments are one turn).
    assert re.findall(r'id="turn-(\d+)"', page.text) == ["1", "2", "3", "4"]
    assert re.findall(r'class="turn role-([a-z-]+)"', page.text) == ["interviewer", "victim", "interviewer", "victim"]
    for tag in ("[Person 2]", "[Email]"):
        assert f'<span class="redaction">{tag}</span>' in page.text
    for identifier in corpus.IDENTIFIERS:
        assert identifier not in page.text.lower(), identifier
    with site.runtime.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT action FROM audit_events ORDER BY id DESC")).scalar() == "library.read"
    for missing in (site.pending_id, site.audio_id, uuid.uuid4().hex, "nope"):
        assert client.get(f"/library/{missing}").status_code == 404, missing

    found = client.get("/library/search", params={"q": '"came with me"', "cohort": "victim", "month": "", "role": ""})
    assert found.status_code == 200
    assert f'<a href="/library/{rid}#turn-4">' in found.text and "<mark>came with me</mark>" in found.text
    assert "1 turn in 1 transcript" in " ".join(found.text.split())
    # Markup in a query is text: escaped in the form, words to the index.
    hostile = client.get("/library/search", params={"q": '<script>alert("x")</script> NEAR('})
    assert hostile.status_code == 200 and "<script>alert" not in hostile.text
    assert "0 turns in 0" in " ".join(hostile.text.split())
    refused = client.get("/library/search", params={"q": "-came"})
    assert refused.status_code == 422 and 'id="search-error"' in refused.text and 'value="-came"' in refused.text
    before = site.counts()["audit_events"]
    assert 'id="hits"' not in client.get("/library/search").text  # the empty form: nothing searched, no event
    assert site.counts()["audit_events"] == before


# ---- uploader: the form without JavaScript -------------------------------------------------------------------


def test_upload_form_streams_without_a_temp_file(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    import starlette.formparsers

    def no_spooling(*args: object, **kwargs: object) -> None:
        raise AssertionError("the upload was spooled to a temporary file")

    monkeypatch.setattr(starlette.formparsers, "SpooledTemporaryFile", no_spooling)
    client = site.clients["uploader"]
    before = site.counts()
    # What a browser sends for the form with only the required fields filled: every other input, empty.
    blank = {"withdrawal_deadline": "", "num_speakers": "", "min_speakers": "", "max_speakers": "",
             "known_names": ""}
    resp = client.post(f"/upload?csrf={site.csrf('uploader')}", data={**META, **blank},
                       files={"file": ("Interview with someone.m4a", site.audio),
                              "teams_transcript": ("", b"", "application/octet-stream")})
    assert resp.status_code == 303 and resp.headers["location"] == "/recordings?uploaded=1"
    assert site.counts()["recordings"] == before["recordings"] + 1
    listing = client.get("/recordings?uploaded=1")
    assert "Upload received" in listing.text and "queued" in listing.text
    assert '<meta http-equiv="refresh"' in listing.text  # without JS the page refreshes while jobs run
    assert "Interview with someone" not in listing.text  # the client's file name is never kept
    rows = client.get("/recordings/rows")
    assert rows.text.lstrip().startswith("<tr") and 'data-state="queued"' in rows.text
    # The other uploader does not see this one's recordings; the reviewer sees everyone's.
    other = site.client(None)
    sign_in(other, create_users(site.runtime, roles=("uploader",))["uploader"])
    assert "P07" not in other.get("/recordings").text
    assert site.clients["reviewer"].get("/recordings").text.count("<tr id=") >= 2


def test_upload_errors_come_back_on_the_form(site: Site) -> None:
    client = site.clients["uploader"]
    before = site.counts()
    bad = client.post(f"/upload?csrf={site.csrf('uploader')}",
                      data={**META, "participant_code": "Jane Doe", "interview_date": "yesterday"},
                      files={"file": ("a.m4a", site.audio)})
    assert bad.status_code == 422
    assert "Participant code:" in bad.text and "Interview date:" in bad.text and "Jane Doe" not in bad.text
    junk = client.post(f"/upload?csrf={site.csrf('uploader')}", headers={"Accept": "application/json"}, data=META,
                       files={"file": ("a.m4a", b"not audio at all " * 200)})
    assert junk.status_code == 415 and "not a recognised audio" in junk.json()["detail"][0]
    assert site.counts()["recordings"] == before["recordings"]


# ---- reviewer -----------------------------------------------------------------------------------------------


def test_review_page_decide_add_relabel_listen_approve(site: Site) -> None:
    client = site.clients["reviewer"]
    rid = site.fresh_pending()
    page = client.get(f"/review/{rid}")
    assert page.status_code == 200
    # Transcript with its spans highlighted, linked to their decision forms.
    spans = [int(x) for x in re.findall(r'<li id="span-(\d+)"', page.text)]
    assert spans and all(f'href="#span-{s}"' in page.text for s in spans[:3])
    assert 'class="span span-pending' in page.text and "Mark Bellamy" in page.text
    assert "<audio" not in page.text  # this transcript has no audio (hand-made)
    token = site.csrf("reviewer")
    first, second = spans[0], spans[1]
    assert client.post(f"/review/{rid}/spans/{first}", data={"csrf": token, "action": "reject"}).status_code == 303
    resp = client.post(f"/review/{rid}/spans/{second}", data={"csrf": token, "action": "accept", "label": "OFFICER"})
    assert resp.headers["location"] == f"/review/{rid}?msg=accepted#span-{second}"
    bad = client.post(f"/review/{rid}/spans/{second}", data={"csrf": token, "action": "accept", "label": "NAME"})
    assert bad.status_code == 422
    added = client.post(f"/review/{rid}/spans", data={"csrf": token, "segment": "3", "text": "victims",
                                                      "label": "GROUP"})
    assert added.headers["location"].startswith(f"/review/{rid}?msg=added")
    missing = client.post(f"/review/{rid}/spans", data={"csrf": token, "segment": "0", "text": "zebra",
                                                        "label": "PERSON"})
    assert missing.headers["location"] == f"/review/{rid}?msg=notfound#add-span"
    assert client.post(f"/review/{rid}/speakers", data={"csrf": token, "role_S1": "Interviewer",
                                                        "role_S2": "Participant", "merge_S3": "S2"}).status_code == 303
    review = client.get(f"/review/{rid}?msg=added")
    assert "every other occurrence" in review.text
    assert 'class="span span-rejected' in review.text and 'class="span span-accepted' in review.text
    bearer = {"Authorization": f"Bearer {site.tokens['reviewer']}"}
    api = site.client(None).get(f"/api/v1/recordings/{rid}/review", headers=bearer).json()
    by_id = {s["id"]: s for s in api["spans"]}
    assert by_id[first]["status"] == "rejected" and by_id[second]["label"] == "OFFICER"
    assert any(s["origin"] in ("added", "propagated") and s["label"] == "GROUP" for s in api["spans"])
    speakers = site.client(None).get(f"/api/v1/recordings/{rid}/speakers", headers=bearer).json()
    assert next(s for s in speakers if s["slot"] == "S3")["merged_into"] == "S2"
    resp = client.post(f"/review/{rid}/approve", data={"csrf": token})
    assert resp.headers["location"] == "/review?approved=true"
    assert "Transcript approved" in client.get("/review?approved=true").text
    again = client.post(f"/review/{rid}/approve", data={"csrf": token})
    assert again.status_code == 409 and "waiting for review" in again.text
    assert "This transcript has been approved" in client.get(f"/review/{rid}").text
    with site.runtime.engine.connect() as conn:
        actions = {r[0] for r in conn.execute(sa.text(
            "SELECT action FROM audit_events WHERE object_id = :r"), {"r": rid})}
    assert {"redaction.decide", "redaction.add", "speakers.update", "transcript.approve",
            "transcript.view_raw"} <= actions


def test_review_page_corrects_the_transcript(site: Site) -> None:
    """Each segment's edit form (plain POSTs, no script needed): text and speaker, split, merge, undo; approval makes
    the page read-only, and an admin may reopen it."""
    client = site.clients["reviewer"]
    rid = site.fresh_pending()
    bearer = {"Authorization": f"Bearer {site.tokens['reviewer']}"}

    def api() -> dict:
        return site.client(None).get(f"/api/v1/recordings/{rid}/review", headers=bearer).json()

    page = client.get(f"/review/{rid}").text
    assert 'id="edit-0"' in page and "Undo last edit" not in page
    text0 = html.unescape(re.search(r'<textarea id="text-0"[^>]*>([^<]*)</textarea>', page).group(1))  # type: ignore[union-attr]
    assert text0 == api()["segments"][0]["text"].strip()
    token = site.csrf("reviewer")
    typed = text0.replace("How long", "Tell me, Dawn Okafor, how long")
    resp = client.post(f"/review/{rid}/segments/0", data={"csrf": token, "text": typed, "speaker": "S1"})
    assert resp.headers["location"] == f"/review/{rid}?msg=edited#seg-0"
    body = api()
    assert body["segments"][0]["text"] == typed and body["segments"][0]["edited"] is True
    assert any(s["segment"] == 0 and "Okafor" in s["text"] for s in body["spans"])  # the typed name is redacted
    page = client.get(f"/review/{rid}?msg=edited").text
    assert "Segment saved" in page and "corrected</span>" in page and "Undo last edit (edit)" in page
    # The typed words are marked (their times are estimates); the words left alone are not.
    edited_words = re.findall(r'<span class="w w-edited" data-start="[\d.]+" title="Corrected[^"]*">([^<]*)</span>',
                              page)
    assert {"Tell", "me,", "how"} <= {w.strip() for w in edited_words} and "Thank" not in edited_words
    # Saved unchanged: said so, and nothing to undo was added.
    resp = client.post(f"/review/{rid}/segments/0", data={"csrf": token, "text": typed, "speaker": "S1"})
    assert resp.headers["location"].endswith("msg=unchanged#seg-0") and api()["history"]["edits"] == 1
    assert client.post(f"/review/{rid}/segments/0", data={"csrf": token, "text": " ", "speaker": "S1"}
                       ).headers["location"].endswith("msg=badedit#seg-0")
    # Relabel, split and merge.
    assert client.post(f"/review/{rid}/segments/3", data={"csrf": token, "text": body["segments"][3]["text"],
                                                          "speaker": "S2"}).status_code == 303
    assert api()["segments"][3]["speaker"] == "S2"
    count = len(body["segments"])
    assert client.post(f"/review/{rid}/segments/1/split", data={"csrf": token, "word": "2"}
                       ).headers["location"].endswith("msg=split#seg-1")
    assert len(api()["segments"]) == count + 1
    assert client.post(f"/review/{rid}/segments/merge", data={"csrf": token, "segment": "1"}
                       ).headers["location"].endswith("msg=merged#seg-1")
    assert len(api()["segments"]) == count
    # Undo, back to the first edit.
    for _ in range(3):
        assert client.post(f"/review/{rid}/segments/undo", data={"csrf": token}).headers["location"].endswith(
            "msg=undone")
    assert api()["history"] == {"edits": 1, "undo": "edit"} and api()["segments"][3]["speaker"] == "S1"

    assert client.post(f"/review/{rid}/approve", data={"csrf": token}).status_code == 303
    page = client.get(f"/review/{rid}").text
    assert 'id="edit-0"' not in page and "reopen-form" not in page  # read-only; reviewers do not reopen
    assert client.post(f"/review/{rid}/segments/0", data={"csrf": token, "text": "x", "speaker": "S1"}
                       ).status_code == 409
    assert client.post(f"/review/{rid}/reopen", data={"csrf": token}).status_code == 403
    admin = site.clients["admin"]
    assert 'id="reopen-form"' in admin.get(f"/review/{rid}").text
    resp = admin.post(f"/review/{rid}/reopen", data={"csrf": site.csrf("admin")})
    assert resp.headers["location"] == f"/review/{rid}?msg=reopened"
    page = client.get(f"/review/{rid}").text
    assert 'id="edit-0"' in page and html.escape(typed, quote=False) in page
    # Approved again: the library's entry says it was revised.
    assert client.post(f"/review/{rid}/approve", data={"csrf": token}).status_code == 303
    library = site.clients["researcher"].get("/library").text
    row = next(r for r in library.split("<tr>") if rid[:8] in r)
    assert ">revised</span>" in row
    reading = site.clients["researcher"].get(f"/library/{rid}").text
    assert 'id="revised"' in reading and "revision 2" in reading
    # Deleted (admins may, in any state), so the shared pages' lists stay as the other tests expect them.
    assert admin.post(f"/recordings/{rid}/delete", data={"csrf": site.csrf("admin")}).status_code == 303


def test_review_page_and_exports_show_one_time_for_a_segment(site: Site) -> None:
    """One rounding rule: a segment starting at 9.6 s is 00:00:09 on the review page and in the TXT and DOCX
    exports (truncated to the second, as its subtitle cue 00:00:09,600 is) — not 0:10 on one and 00:00:09 on the
    other."""
    from docx import Document

    users = corpus.user_ids(site.runtime)
    interview = replace(corpus.POLICE, code="TIME-96", start_s=9.6)
    rid = corpus.make_transcript(site.runtime, interview, uploader_id=users["uploader"], approver_id=None,
                                 approve=False)
    page = site.clients["reviewer"].get(f"/review/{rid}").text
    times = re.findall(r'<a class="time"[^>]*>([^<]*)</a>', page)
    assert times[0] == "00:00:09", times
    assert "0:10" not in times
    resp = site.clients["reviewer"].post(f"/review/{rid}/approve", data={"csrf": site.csrf("reviewer")})
    assert resp.status_code == 303
    bearer = {"Authorization": f"Bearer {site.tokens['researcher']}"}
    txt = site.client(None).get(f"/api/v1/library/{rid}", params={"format": "txt"}, headers=bearer)
    assert txt.status_code == 200 and txt.text.startswith("[00:00:09] Interviewer: ")
    docx = site.client(None).get(f"/api/v1/library/{rid}", params={"format": "docx"}, headers=bearer)
    turns = [p.text for p in Document(io.BytesIO(docx.content)).paragraphs if p.text.startswith("[")]
    assert turns[0].startswith("[00:00:09] Interviewer: ")
    srt_cue = site.client(None).get(f"/api/v1/library/{rid}", params={"format": "srt"}, headers=bearer).text
    assert "00:00:09,600 --> " in srt_cue


def _options(page: str, slot: str) -> tuple[list[str], list[str]]:
    """The options of a slot's role list, and the selected ones."""
    select = re.search(rf'<select id="role-{slot}"[^>]*>(.*?)</select>', page, re.S).group(1)  # type: ignore[union-attr]
    options = re.findall(r'<option value="([^"]*)"( selected)?>', select)
    return [v for v, _ in options], [v for v, sel in options if sel]


def test_one_role_vocabulary_per_cohort_in_api_web_and_exports(site: Site) -> None:
    """A slot shown as "Victim" is offered as "Victim" (not "Participant"), the API takes the cohort's word and
    refuses another cohort's with the allowed list, and the exports say the same word."""
    users = corpus.user_ids(site.runtime)
    victim = corpus.make_transcript(site.runtime, replace(corpus.VICTIM, code="ROLES-V"),
                                    uploader_id=users["uploader"], approver_id=None, approve=False)
    police = site.fresh_pending("ROLES-P")
    client, bearer = site.clients["reviewer"], {"Authorization": f"Bearer {site.tokens['reviewer']}"}
    api = site.client(None)

    page = client.get(f"/review/{victim}").text
    assert _options(page, "S1") == (["Interviewer", "Victim", "Other"], ["Interviewer"])
    assert _options(page, "S2") == (["Interviewer", "Victim", "Other"], ["Victim"])
    assert _options(client.get(f"/review/{police}").text, "S2") == (["Interviewer", "Officer", "Other"], ["Officer"])

    url = "/api/v1/recordings/{}/speakers"
    refused = api.patch(url.format(victim), headers=bearer, json={"roles": {"S2": "Officer"}})
    assert refused.status_code == 422
    assert refused.json()["detail"] == ("'Officer' is not a speaker role for a victim recording; "
                                        "choose one of: Interviewer, Victim, Other")
    assert api.patch(url.format(police), headers=bearer, json={"roles": {"S3": "Victim"}}).status_code == 422
    ok = api.patch(url.format(police), headers=bearer, json={"roles": {"S1": "Officer", "S2": "Interviewer"}})
    assert ok.status_code == 200, ok.text
    assert {s["slot"]: (s["role"], s["label"]) for s in ok.json()} == {
        "S1": ("Officer", "Officer 1"), "S2": ("Interviewer", "Interviewer"), "S3": ("Officer", "Officer 2")}
    # "Participant" stays the generic word for the cohort's participant; case does not matter.
    ok = api.patch(url.format(victim), headers=bearer, json={"roles": {"S1": "interviewer", "S2": "Participant"}})
    assert [s["role"] for s in ok.json()] == ["Interviewer", "Victim"]
    ok = api.patch(url.format(victim), headers=bearer, json={"roles": {"S2": "Other"}})
    assert [s["role"] for s in ok.json()] == ["Interviewer", "Other"]

    # The web form takes the cohort's word, refuses another cohort's, and shows what was chosen.
    token = site.csrf("reviewer")
    bad = client.post(f"/review/{victim}/speakers", data={"csrf": token, "role_S2": "Officer"})
    assert bad.status_code == 422 and "Interviewer, Victim, Other" in bad.text
    assert client.post(f"/review/{victim}/speakers", data={"csrf": token, "role_S2": "Victim"}).status_code == 303
    assert _options(client.get(f"/review/{victim}").text, "S2")[1] == ["Victim"]

    assert client.post(f"/review/{victim}/approve", data={"csrf": token}).status_code == 303
    research = {"Authorization": f"Bearer {site.tokens['researcher']}"}

    def export(fmt: str) -> str:
        resp = api.get(f"/api/v1/library/{victim}", params={"format": fmt}, headers=research)
        assert resp.status_code == 200, resp.text
        return resp.text

    assert "] Victim: " in export("txt") and "\nVictim: " in export("srt") and "<v Victim>" in export("vtt")
    doc = json.loads(export("json"))
    assert {(sp["label"], sp["role"]) for sp in doc["speakers"]} == {("Interviewer", "Interviewer"),
                                                                    ("Victim", "Victim")}
    assert "Participant" not in json.dumps(doc["speakers"])


def test_review_audio_snippet_through_the_session(site: Site) -> None:
    client = site.clients["reviewer"]
    page = client.get(f"/review/{site.audio_id}")
    assert f'src="/review/{site.audio_id}/spans/{site.span_id}/audio"' in page.text
    audio = client.get(f"/review/{site.audio_id}/spans/{site.span_id}/audio")
    assert audio.status_code == 200 and audio.headers["content-type"] == "audio/wav"
    assert audio.content[:4] == b"RIFF" and len(audio.content) > 16_000  # at least half a second of 16 kHz PCM
    assert client.get(f"/review/{site.audio_id}/spans/999999/audio").status_code == 404
    # The API's route serves the same service (with its own padding parameter), one audit event per snippet.
    with site.runtime.engine.connect() as conn:
        before = dict(conn.execute(sa.text("SELECT action, COUNT(*) FROM audit_events GROUP BY action")).all())
    api = site.client(None).get(f"/api/v1/recordings/{site.audio_id}/review/spans/{site.span_id}/audio?pad=0.5",
                                headers={"Authorization": f"Bearer {site.tokens['reviewer']}"})
    assert api.status_code == 200 and api.content[:4] == b"RIFF" and len(api.content) < len(audio.content)
    with site.runtime.engine.connect() as conn:
        after = dict(conn.execute(sa.text("SELECT action, COUNT(*) FROM audit_events GROUP BY action")).all())
    assert {k: after[k] - before.get(k, 0) for k in after if after[k] != before.get(k, 0)} == {
        "review.audio_snippet": 1}
    assert client.get(f"/review/{site.pending_id}/spans/{site.span_id}/audio").status_code == 404


def test_review_page_player_through_the_session(site: Site) -> None:
    """The whole recording's player (the API's service, cookie-authenticated), segments with their times, and a
    notice instead of the player once there is no audio."""
    client = site.clients["reviewer"]
    page = client.get(f"/review/{site.audio_id}").text
    assert f'<audio id="player" controls preload="none" src="/review/{site.audio_id}/audio"' in page
    assert '<script src="/static/player.js" defer></script>' in page and "Keyboard shortcuts" in page
    assert 'id="audio-gone"' not in page
    starts = re.findall(r'<li id="seg-\d+" data-segment="\d+" data-start="([\d.]+)" data-end="[\d.]+"', page)
    assert len(starts) == len(corpus.POLICE.lines) and float(starts[1]) > float(starts[0]) > 0
    assert len(re.findall(r'<span class="w" data-start="[\d.]+">', page)) > 20  # every word can be clicked
    # Each segment's text reads exactly as stored (what selecting it for "add a missed identifier" relies on).
    texts = re.findall(r'<span class="text">(.*?)</span>\s*(?:<span class="flag flag-edited"|<details|</li>)', page,
                       re.S)
    plain = [re.sub(r'<span class="visually-hidden">.*?</span>|<[^>]+>', "", t) for t in texts]
    assert [html.unescape(t) for t in plain] == [text for _, text in corpus.POLICE.lines]
    whole = client.get(f"/review/{site.audio_id}/audio")
    part = client.get(f"/review/{site.audio_id}/audio", headers={"Range": "bytes=1000-1999"})
    assert whole.status_code == 200 and whole.content[:4] == b"RIFF" and whole.headers["accept-ranges"] == "bytes"
    assert part.status_code == 206 and part.content == whole.content[1000:2000]
    # No audio (a hand-made transcript): a notice, and the route answers 410 as a page.
    page = client.get(f"/review/{site.pending_id}").text
    assert 'id="audio-gone"' in page and '<audio id="player"' not in page
    gone = client.get(f"/review/{site.pending_id}/audio")
    assert gone.status_code == 410 and "has been deleted" in gone.text


def test_review_of_unknown_or_unready_recording(site: Site) -> None:
    client = site.clients["reviewer"]
    assert client.get(f"/review/{uuid.uuid4().hex}").status_code == 404
    queued = site.clients["uploader"].post("/upload", headers={"X-CSRF-Token": site.csrf("uploader"),
                                                                "Accept": "application/json"},
                                           data=META, files={"file": ("a.m4a", site.audio)}).json()["id"]
    resp = client.get(f"/review/{queued}")
    assert resp.status_code == 409 and "not ready for review" in resp.text


def _edits(site: Site, rid: str) -> list[object]:
    """Everything a review edit could change, and the audit log."""
    with site.runtime.engine.connect() as conn:
        return [
            conn.execute(sa.text(f"SELECT * FROM {table} WHERE recording_id = :r ORDER BY id"), {"r": rid}).all()
            for table in ("redaction_spans", "speaker_slots", "anonymised_transcripts")
        ] + [conn.execute(sa.text("SELECT COUNT(*) FROM audit_events")).scalar_one()]


def test_approved_review_page_is_read_only(site: Site) -> None:
    page = site.clients["reviewer"].get(f"/review/{site.approved_id}")
    assert page.status_code == 200
    assert "This transcript has been approved, so this page is read-only" in page.text
    forms = re.findall(r'<form[^>]*action="([^"]+)"', page.text)
    assert forms == ["/signout"], forms  # no decision, added span, speaker or approval form
    assert "<select" not in page.text and "Approve transcript" not in page.text and "Add span" not in page.text
    assert re.search(r'<li id="span-\d+"', page.text) and "Speakers" in page.text  # still shown
    pending = site.clients["reviewer"].get(f"/review/{site.fresh_pending()}").text
    assert "read-only" not in pending and "Approve transcript" not in pending.split('id="approve-h"')[0]
    assert len(re.findall(r'<form[^>]*action="/review/', pending)) > 3


def test_edits_after_approval_answer_409_and_change_nothing(site: Site) -> None:
    rid = site.approved_id
    with site.runtime.engine.connect() as conn:
        span = conn.execute(sa.text("SELECT MIN(id) FROM redaction_spans WHERE recording_id = :r"), {"r": rid}).scalar()
    assert span is not None
    before = _edits(site, rid)
    api, token = site.client(None), site.csrf("reviewer")
    bearer = {role: {"Authorization": f"Bearer {site.tokens[role]}"} for role in ("reviewer", "uploader", "admin")}
    calls = [
        api.patch(f"/api/v1/recordings/{rid}/review/spans/{span}", headers=bearer["reviewer"],
                  json={"action": "reject"}),
        api.patch(f"/api/v1/recordings/{rid}/review/spans/{span}", headers=bearer["admin"], json={"action": "accept"}),
        api.post(f"/api/v1/recordings/{rid}/review/spans", headers=bearer["reviewer"],
                 json={"segment": 0, "start": 0, "end": 2, "label": "PERSON"}),
    ]
    for resp in calls:
        assert resp.status_code == 409, resp.text
        assert resp.json()["detail"].startswith("this transcript has been approved; its redactions can no longer")
    for role in ("reviewer", "uploader"):
        resp = api.patch(f"/api/v1/recordings/{rid}/speakers", headers=bearer[role], json={"roles": {"S1": "Other"}})
        assert resp.status_code == 409, resp.text
        assert resp.json()["detail"].startswith("this transcript has been approved; its speaker roles can no longer")
    web = site.clients["reviewer"]
    pages = [
        web.post(f"/review/{rid}/spans/{span}", data={"csrf": token, "action": "reject"}),
        web.post(f"/review/{rid}/spans", data={"csrf": token, "segment": "1", "text": "Mitchell", "label": "PERSON"}),
        web.post(f"/review/{rid}/speakers", data={"csrf": token, "role_S1": "Other"}),
        web.post(f"/review/{rid}/speakers", data={"csrf": token}),  # nothing changed: still not "saved"
    ]
    for resp in pages:
        assert resp.status_code == 409, resp.text
        assert "Not possible now" in resp.text and "This transcript has been approved; its" in resp.text
    assert _edits(site, rid) == before


# ---- uploader: failed recordings --------------------------------------------------------------------------------


def _row(html: str, rid: str) -> str:
    return html.split(f'<tr id="rec-{rid}"', 1)[1].split("</tr>", 1)[0]


def test_failed_recording_shows_plain_words_and_retry_and_delete_buttons(site: Site) -> None:
    rid = site.fresh_failed()
    uploader = site.clients["uploader"]
    row = _row(uploader.get("/recordings").text, rid)
    assert FAILED_ERROR in row and "Error" not in row
    assert f'action="/recordings/{rid}/retry"' in row and f'action="/recordings/{rid}/delete"' in row
    assert row.count(f'name="csrf" value="{site.csrf("uploader")}"') == 2
    assert f'action="/recordings/{rid}/retry"' in _row(uploader.get("/recordings/rows").text, rid)  # the poller's
    assert f'action="/recordings/{rid}/retry"' in _row(site.clients["admin"].get("/recordings").text, rid)
    assert "/retry" not in _row(site.clients["reviewer"].get("/recordings").text, rid)
    # Only failed rows have them.
    assert "/retry" not in _row(site.clients["admin"].get("/recordings").text, site.audio_id)

    # Another uploader can neither see nor act on it.
    other = site.client(None)
    sign_in(other, create_users(site.runtime, roles=("uploader",))["uploader"])
    other_token = re.search(r'name="csrf" value="([0-9a-f]{64})"', other.get("/recordings").text).group(1)  # type: ignore[union-attr]
    before = site.counts()
    for action in ("retry", "delete"):
        assert other.post(f"/recordings/{rid}/{action}", data={"csrf": other_token}).status_code == 404
    assert site.counts() == before

    retried = uploader.post(f"/recordings/{rid}/retry", data={"csrf": site.csrf("uploader")})
    assert retried.status_code == 303 and retried.headers["location"] == "/recordings?done=retried"
    listing = uploader.get(retried.headers["location"]).text
    assert "queued for transcription again" in listing and "/retry" not in _row(listing, rid)
    with site.runtime.engine.connect() as conn:
        state, attempts = conn.execute(sa.text("SELECT state, attempts FROM jobs WHERE recording_id = :r"),
                                       {"r": rid}).one()
        action = conn.execute(sa.text("SELECT action FROM audit_events ORDER BY id DESC LIMIT 1")).scalar_one()
    assert (state, attempts, action) == ("queued", 0, "recording.retry")
    again = uploader.post(f"/recordings/{rid}/retry", data={"csrf": site.csrf("uploader")})
    assert again.status_code == 409 and "Only a recording whose processing failed can be retried." in again.text
    refused = uploader.post(f"/recordings/{rid}/delete", data={"csrf": site.csrf("uploader")})
    assert refused.status_code == 409 and "an admin can delete any" in refused.text

    doomed = site.fresh_failed()
    deleted = uploader.post(f"/recordings/{doomed}/delete", data={"csrf": site.csrf("uploader")})
    assert deleted.status_code == 303 and deleted.headers["location"] == "/recordings?done=deleted"
    assert "its audio and its key were deleted" in uploader.get(deleted.headers["location"]).text
    assert doomed not in site.recording_ids()
    assert uploader.post(f"/recordings/{doomed}/delete", data={"csrf": site.csrf("uploader")}).status_code == 404


# ---- admin ----------------------------------------------------------------------------------------------------


def test_admin_creates_a_user_and_sees_the_token_once(site: Site) -> None:
    client = site.clients["admin"]
    name = f"researcher-{uuid.uuid4().hex[:6]}"
    resp = client.post("/admin/users", data={"csrf": site.csrf("admin"), "name": name, "role": "researcher"})
    assert resp.status_code == 200 and resp.headers["cache-control"] == "no-store"
    token = re.search(r'id="new-token" class="token-value" readonly value="(ast_[^"]+)"', resp.text).group(1)  # type: ignore[union-attr]
    me = site.client(None).get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).json()
    assert me["name"] == name and me["role"] == "researcher"
    listing = client.get("/admin/users").text
    assert name in listing and token not in listing and token[12:] not in listing
    taken = client.post("/admin/users", data={"csrf": site.csrf("admin"), "name": name, "role": "admin"})
    assert taken.status_code == 409 and "exists" in taken.text
    for bad in ({"name": "../x", "role": "admin"}, {"name": "ok-name", "role": "root"}):
        assert client.post("/admin/users", data={"csrf": site.csrf("admin"), **bad}).status_code == 422


def test_account_page_makes_shows_once_and_revokes_own_tokens(site: Site) -> None:
    client = site.clients["researcher"]
    made = client.post("/account/tokens", data={"csrf": site.csrf("researcher"), "token_name": "library sync",
                                                 "expires_days": "30"})
    assert made.status_code == 200 and made.headers["cache-control"] == "no-store"
    token = re.search(r'id="new-api-token" class="token-value" readonly value="(ast_[^"]+)"', made.text).group(1)  # type: ignore[union-attr]
    api = site.client(None)
    assert api.get("/api/v1/library", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    page = client.get("/account").text
    assert "library sync" in page and token[:12] in page and token[12:] not in page
    # Web sessions are not tokens: the researcher's own session is not in the list.
    assert "aws_" not in page and "web session" not in page
    token_id = next(t["id"] for t in api.get("/api/v1/tokens", headers={"Authorization": f"Bearer {token}"}).json()
                    if t["name"] == "library sync")
    for bad, status, words in (({"token_name": " ", "expires_days": "7"}, 422, "1-64 printable"),
                               ({"token_name": "x", "expires_days": "9999"}, 422, "days from now"),
                               ({"token_name": "x", "expires_days": "-1"}, 422, "days from now")):
        resp = client.post("/account/tokens", data={"csrf": site.csrf("researcher"), **bad})
        assert resp.status_code == status and words in resp.text, resp.text[:500]
    # Someone else's token (the uploader's page): the 404 page, and the token keeps working.
    other = site.clients["uploader"].post(f"/account/tokens/{token_id}/revoke", data={"csrf": site.csrf("uploader")})
    assert other.status_code == 404
    assert api.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    gone = client.post(f"/account/tokens/{token_id}/revoke", data={"csrf": site.csrf("researcher")})
    assert gone.status_code == 303 and gone.headers["location"] == "/account?revoked=true"
    assert "The token is revoked." in client.get(gone.headers["location"]).text
    assert api.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_admin_lists_makes_and_revokes_a_users_tokens(site: Site) -> None:
    admin, uid = site.clients["admin"], site.other_user_id
    assert f'href="/admin/users/{uid}/tokens"' in admin.get("/admin/users").text
    made = admin.post(f"/admin/users/{uid}/tokens", data={"csrf": site.csrf("admin"), "token_name": "lab script",
                                                           "expires_days": "never"})
    token = re.search(r'id="new-api-token" class="token-value" readonly value="(ast_[^"]+)"', made.text).group(1)  # type: ignore[union-attr]
    me = site.client(None).get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).json()
    assert me["id"] == uid and "It works until revoked." in made.text
    listing = admin.get(f"/admin/users/{uid}/tokens").text
    ids = re.findall(rf'action="/admin/users/{uid}/tokens/(\d+)/revoke"', listing)
    with site.runtime.engine.connect() as conn:
        new_id = conn.execute(sa.text("SELECT id FROM api_tokens WHERE token_hash = :h"),
                              {"h": _sha(token)}).scalar_one()
    assert str(new_id) in ids and token[12:] not in listing
    resp = admin.post(f"/admin/users/{uid}/tokens/{new_id}/revoke", data={"csrf": site.csrf("admin")})
    assert resp.status_code == 303 and "The token is revoked." in admin.get(resp.headers["location"]).text
    assert site.client(None).get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    # The pair must match: this token is not the admin's own.
    mine = site.user_of("admin")
    wrong = admin.post(f"/admin/users/{mine}/tokens/{new_id}/revoke", data={"csrf": site.csrf("admin")})
    assert wrong.status_code == 404
    assert admin.get("/admin/users/2147483647/tokens").status_code == 404
    with site.runtime.engine.connect() as conn:
        actions = conn.execute(sa.text("SELECT action, details FROM audit_events WHERE object_id = :i AND action "
                                       "LIKE 'token.%' ORDER BY id"), {"i": str(new_id)}).all()
    assert [(a, (d if isinstance(d, dict) else json.loads(d))["by"]) for a, d in actions] == [
        ("token.create", "admin"), ("token.revoke", "admin")]


# ---- markup and headers -----------------------------------------------------------------------------------------

PAGES_TO_LINT = {
    "admin": ["/upload", "/recordings", "/review", "/library", "/admin/users", "/admin/audit?verify=true",
              "/admin/retention", "/admin/voices", "/admin/withdrawal", "/account",
              "/admin/users/{other_user_id}/tokens"],
    "reviewer": ["/review/{audio_id}", "/review/{pending_id}", "/review/{approved_id}"],
    "uploader": ["/recordings"],
}


def test_pages_have_a_strict_csp_and_no_inline_code(site: Site) -> None:
    anon = site.client(None).get("/signin")
    pages = [anon]
    for role, paths in PAGES_TO_LINT.items():
        for path in paths:
            pages.append(site.clients[role].get(path.format(audio_id=site.audio_id, pending_id=site.pending_id,
                                                            approved_id=site.approved_id,
                                                            other_user_id=site.other_user_id)))
    for resp in pages:
        lint_page(resp)
    static = site.client(None).get("/static/app.css")
    assert static.status_code == 200 and static.headers["x-content-type-options"] == "nosniff"
    assert ":focus-visible" in static.text


def _error_page(resp: httpx.Response) -> tuple[int, str, str]:
    title = re.search(r"<h1>(.*?)</h1>", resp.text, re.S).group(1)  # type: ignore[union-attr]
    message = re.search(r'<p class="error" role="alert">(.*?)</p>', resp.text, re.S).group(1)  # type: ignore[union-attr]
    return resp.status_code, title, message


def test_domain_refusals_read_the_same_on_pages_and_in_the_api(site: Site) -> None:
    """One handler answers every domain refusal: the API with `{"detail": message}`, a page with the error page in
    the page's words (the wording each view used to spell out itself)."""
    reviewer, uploader, admin, researcher = (site.clients[r] for r in ("reviewer", "uploader", "admin", "researcher"))
    missing = uuid.uuid4().hex
    assert _error_page(reviewer.get(f"/review/{missing}")) == (404, "Not found", "There is no such recording.")
    assert _error_page(uploader.post(f"/recordings/{missing}/retry", data={"csrf": site.csrf("uploader")})) == (
        404, "Not found", "There is no such recording.")
    assert _error_page(admin.get("/admin/withdrawals/WR-0000?format=txt")) == (
        404, "Not found", "There is no such receipt.")
    assert _error_page(reviewer.get(f"/review/{site.audio_id}/spans/999999/audio")) == (
        404, "Not found", "No such span.")
    # The library pages show the service's words as they are.
    assert _error_page(researcher.get(f"/library/{site.pending_id}/download?format=txt")) == (
        404, "Not found", "no approved transcript with this id")
    police = site.fresh_pending("REFUSED-P")
    wrong_role = reviewer.post(f"/review/{police}/speakers", data={"csrf": site.csrf("reviewer"), "role_S2": "Victim"})
    assert _error_page(wrong_role) == (422, "Not accepted", "Choose a role from the list: Interviewer, Officer, Other.")
    merge_self = reviewer.post(f"/review/{police}/speakers", data={"csrf": site.csrf("reviewer"), "merge_S2": "S2"})
    assert _error_page(merge_self) == (422, "Not accepted", "Cannot merge a speaker into itself.")

    api = site.client(None)

    def call(role: str, method: str, url: str, **kwargs: Any) -> tuple[int, object]:
        resp = api.request(method, url, headers={"Authorization": f"Bearer {site.tokens[role]}"}, **kwargs)
        assert resp.headers["content-type"] == "application/json", resp.text
        return resp.status_code, resp.json()

    assert call("researcher", "GET", "/api/v1/recordings") == (403, {"detail": "your role may not list recordings"})
    assert call("researcher", "GET", f"/api/v1/recordings/{missing}") == (
        403, {"detail": "your role may not see recordings"})
    assert call("reviewer", "GET", f"/api/v1/recordings/{site.audio_id}/review/spans/999999/audio") == (
        404, {"detail": "no such span"})
    assert call("admin", "GET", "/api/v1/withdrawals/WR-0000") == (404, {"detail": "no such receipt"})
    assert call("admin", "POST", "/api/v1/participants/NOBODY-1/withdrawal") == (
        404, {"detail": "no data for this participant code"})
    assert call("admin", "POST", "/api/v1/participants/P%217/withdrawal") == (422, {"detail": "not a participant code"})
    assert call("admin", "PATCH", "/api/v1/users/999999", json={"active": True}) == (404, {"detail": "no such user"})
    twice = {"name": f"twice-{uuid.uuid4().hex[:6]}", "role": "researcher"}
    assert call("admin", "POST", "/api/v1/users", json=twice)[0] == 201
    assert call("admin", "POST", "/api/v1/users", json=twice) == (409, {"detail": "a user with that name exists"})
    assert call("reviewer", "PATCH", f"/api/v1/recordings/{police}/speakers", json={"merge": [
        {"source": "S2", "target": "S2"}]}) == (422, {"detail": "cannot merge a speaker into itself"})


def test_error_pages_keep_the_headers(site: Site) -> None:
    resp = site.clients["researcher"].get("/admin/users")
    assert resp.status_code == 403 and "frame-ancestors 'none'" in resp.headers["content-security-policy"]
    redirect = site.client(None).get("/library")
    assert redirect.status_code == 303 and redirect.headers["x-frame-options"] == "DENY"


def test_health_probes_are_untouched_by_the_web_ui(site: Site) -> None:
    resp = site.client(None).get("/healthz")
    assert set(resp.headers) <= {"content-type", "content-length"} and resp.json() == {"status": "ok"}
    assert json.loads(site.client(None).get("/readyz").text)["checks"]["database"] is True


# ---- admin: users, audit, retention, withdrawal ---------------------------------------------------------------


def test_admin_changes_roles_and_disables_users_but_keeps_an_admin(site: Site) -> None:
    client = site.clients["admin"]
    token = create_users(site.runtime, roles=("reviewer",))["reviewer"]
    target = site.client(None)
    sign_in(target, token)
    assert target.get("/review").status_code == 200
    with site.runtime.engine.connect() as conn:
        user_id = conn.execute(sa.text("SELECT user_id FROM api_tokens WHERE token_hash = :h"),
                               {"h": _sha(token)}).scalar_one()
    resp = client.post(f"/admin/users/{user_id}", data={"csrf": site.csrf("admin"), "role": "researcher",
                                                        "active": "yes"})
    assert resp.headers["location"] == "/admin/users?saved=true"
    # The role is read at every request: the open session now gets the researcher's pages only.
    assert target.get("/review").status_code == 403 and target.get("/library").status_code == 200
    client.post(f"/admin/users/{user_id}", data={"csrf": site.csrf("admin"), "role": "researcher", "active": "no"})
    assert target.get("/library").status_code == 303
    assert site.client(None).get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    me = site.client(None).get("/api/v1/me", headers={"Authorization": f"Bearer {site.tokens['admin']}"}).json()
    last = client.post(f"/admin/users/{me['id']}", data={"csrf": site.csrf("admin"), "role": "admin", "active": "no"})
    assert last.status_code == 409 and "no active admin" in last.text
    assert client.post("/admin/users/999999", data={"csrf": site.csrf("admin"), "role": "admin",
                                                    "active": "yes"}).status_code == 404
    with site.runtime.engine.connect() as conn:
        changes = conn.execute(sa.text("SELECT COUNT(*) FROM audit_events WHERE action = 'user.update'")).scalar_one()
    assert changes >= 2


def test_audit_log_pages_filters_and_verifies(site: Site) -> None:
    client = site.clients["admin"]
    first = client.get("/admin/audit")
    ids = [int(x) for x in re.findall(r"<tr>\s*<td>(\d+)</td>", first.text)]
    assert len(ids) == 50 and ids == sorted(ids, reverse=True)
    older = client.get("/admin/audit?page=2")
    assert max(int(x) for x in re.findall(r"<tr>\s*<td>(\d+)</td>", older.text)) == ids[-1] - 1
    only = client.get("/admin/audit?action=auth.session_start")
    actions = re.findall(r"<td><code>([a-z_.]+)</code></td>", only.text)
    assert actions and set(actions) == {"auth.session_start"}
    verified = client.get("/admin/audit?verify=true")
    assert re.search(r'id="verdict">Chain intact: \d+ entries', verified.text)
    # Content-free: no transcript text, no participant codes, no tokens.
    for page_no in range(1, 4):
        text = client.get(f"/admin/audit?page={page_no}").text.lower()
        assert "bellamy" not in text and "pcx-5521" not in text and "p07" not in text
        assert all(t[4:20].lower() not in text for t in site.tokens.values())


def test_retention_page_lists_the_audio_due_for_deletion(site: Site) -> None:
    page = site.clients["admin"].get("/admin/retention")
    assert page.status_code == 200
    assert "Audio kept at most (from upload)" in page.text and "30 days" in page.text
    assert site.audio_id[:12] in page.text  # the one recording with audio


def test_withdrawal_confirms_asks_for_a_reason_past_the_deadline_and_gives_a_receipt(site: Site) -> None:
    client = site.clients["admin"]
    code = f"WD-{uuid.uuid4().hex[:6]}"
    rid = site.fresh_pending(code)
    form = {"csrf": site.csrf("admin"), "participant_code": code}
    assert client.post("/admin/withdrawal", data=form).status_code == 422  # not confirmed
    unknown = client.post("/admin/withdrawal", data={**form, "participant_code": "NOBODY-1", "confirm": "yes"})
    assert unknown.status_code == 404
    late = client.post("/admin/withdrawal", data={**form, "confirm": "yes"})
    assert late.status_code == 409 and "deadline (2025-04-11) has passed" in late.text
    assert 'name="override_reason" rows="3" maxlength="2000" required' in late.text
    done = client.post("/admin/withdrawal", data={**form, "confirm": "yes", "override_reason": "Asked by phone"})
    assert done.status_code == 200 and "Everything of this participant has been deleted" in done.text
    receipt_id = re.search(r'id="receipt-id">(WR-[0-9A-F-]+)<', done.text).group(1)  # type: ignore[union-attr]
    assert code not in done.text and "Asked by phone" not in done.text
    pdf = client.get(f"/admin/withdrawals/{receipt_id}?format=pdf")
    assert pdf.content.startswith(b"%PDF") and pdf.headers["content-disposition"].endswith(f'{receipt_id}.pdf"')
    assert client.get(f"/admin/withdrawals/{receipt_id}?format=txt").text.startswith("anonscribe - Withdrawal")
    assert client.get("/admin/withdrawals/WR-0000?format=txt").status_code == 404
    assert site.clients["reviewer"].get(f"/review/{rid}").status_code == 404
    with site.runtime.engine.connect() as conn:
        via = conn.execute(sa.text("SELECT details FROM audit_events WHERE action = 'participant.withdraw' "
                                   "ORDER BY id DESC")).first()[0]  # type: ignore[index]
    assert (via if isinstance(via, dict) else json.loads(via))["via"] == "web"


# ---- integers past what the database holds: 422 at the boundary, never a 500 from the driver --------------------

HUGE = 10**23


def huge_calls(site: Site) -> dict[str, Callable[[], httpx.Response]]:
    """Every integer path and query parameter (and integer body field) of the API and the web pages, sent 10**23.
    The web pages answer a malformed parameter as the API does (FastAPI's 422), as they already did for `page=x`."""
    api, admin = TestClient(site.app), site.clients["admin"]
    h = {"Authorization": f"Bearer {site.tokens['admin']}"}
    rid, csrf = site.audio_id, site.csrf("admin")
    review = f"/api/v1/recordings/{rid}/review/spans"
    return {
        "GET /api/v1/audit?page": lambda: api.get(f"/api/v1/audit?page={HUGE}", headers=h),
        "GET /api/v1/recordings?page": lambda: api.get(f"/api/v1/recordings?page={HUGE}", headers=h),
        "GET /api/v1/library?page": lambda: api.get(f"/api/v1/library?page={HUGE}", headers=h),
        "PATCH /api/v1/users/{user_id}": lambda: api.patch(f"/api/v1/users/{HUGE}", headers=h,
                                                           json={"role": "researcher"}),
        "PATCH review/spans/{span_id}": lambda: api.patch(f"{review}/{HUGE}", headers=h, json={"action": "accept"}),
        "GET review/spans/{span_id}/audio": lambda: api.get(f"{review}/{HUGE}/audio", headers=h),
        "POST review/spans (body)": lambda: api.post(review, headers=h, json={
            "segment": HUGE, "start": HUGE, "end": HUGE + 1, "label": "PERSON"}),
        "GET /recordings?page": lambda: admin.get(f"/recordings?page={HUGE}"),
        "GET /recordings/rows?page": lambda: admin.get(f"/recordings/rows?page={HUGE}"),
        "GET /library?page": lambda: admin.get(f"/library?page={HUGE}"),
        "GET /admin/audit?page": lambda: admin.get(f"/admin/audit?page={HUGE}"),
        "POST /admin/users/{user_id}": lambda: admin.post(f"/admin/users/{HUGE}", data={
            "csrf": csrf, "role": "researcher", "active": "yes"}),
        "POST /review/{id}/spans/{span_id}": lambda: admin.post(f"/review/{rid}/spans/{HUGE}", data={
            "csrf": csrf, "action": "accept", "label": "PERSON"}),
        "GET /review/{id}/spans/{span_id}/audio": lambda: admin.get(f"/review/{rid}/spans/{HUGE}/audio"),
        "POST /review/{id}/spans (form)": lambda: admin.post(f"/review/{rid}/spans", data={
            "csrf": csrf, "segment": str(HUGE), "text": "talk", "label": "PERSON"}),
    }


HUGE_CALLS = [  # the keys of huge_calls(), for the test ids
    "GET /api/v1/audit?page", "GET /api/v1/recordings?page", "GET /api/v1/library?page",
    "PATCH /api/v1/users/{user_id}", "PATCH review/spans/{span_id}", "GET review/spans/{span_id}/audio",
    "POST review/spans (body)", "GET /recordings?page", "GET /recordings/rows?page", "GET /library?page",
    "GET /admin/audit?page", "POST /admin/users/{user_id}", "POST /review/{id}/spans/{span_id}",
    "GET /review/{id}/spans/{span_id}/audio", "POST /review/{id}/spans (form)",
]


@pytest.mark.parametrize("call", HUGE_CALLS)
def test_huge_integers_are_refused_with_422(site: Site, call: str) -> None:
    calls = huge_calls(site)
    assert set(calls) == set(HUGE_CALLS)
    assert calls[call]().status_code == 422


def test_every_integer_parameter_is_bounded(site: Site) -> None:
    """New routes too: an int path or query parameter without an upper bound would reach the driver unchecked."""
    import importlib

    from fastapi.routing import APIRoute

    from service.web import ROUTERS
    from tests.support.paths import ROOT

    api_routers = [importlib.import_module(f"service.{v.parent.name}.views").router
                   for v in sorted((ROOT / "service").glob("*/views.py"))]

    def params(dependant: Any) -> Iterator[Any]:
        yield from (*dependant.path_params, *dependant.query_params)
        for sub in dependant.dependencies:
            yield from params(sub)

    unbounded, checked = [], 0
    for route in (r for router in (*api_routers, *ROUTERS) for r in router.routes):
        assert isinstance(route, APIRoute)
        for param in params(route.dependant):
            if param.field_info.annotation is int:
                checked += 1
                if not any(getattr(m, "le", None) is not None for m in param.field_info.metadata):
                    unbounded.append(f"{route.path} {param.name}")
    assert unbounded == []
    assert checked >= 12  # the check sees the parameters (pages, per_page, ids) at all
