"""The researcher library on both database back-ends: only approved, anonymised transcripts are listed; filters by
cohort, interview month and speaker role; paging; participants as pseudonyms and dates as months; participant codes
only with the admin setting; researchers reach nothing else (raw transcripts, review, audio)."""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.support import corpus
from tests.support.apps import create_users, make_settings
from tests.support.databases import pg_create, pg_drop
from tests.support.study import Study, assert_no_identifiers

LIB = "/api/v1/library"
RECS = "/api/v1/recordings"


def _study(tmp: Path, backend: str, **settings: Any) -> Iterator[Study]:
    from service.app import create_app

    pg = pg_create() if backend == "postgresql" else None
    url = pg.url if pg else f"sqlite:///{tmp / 'data' / 'anonscribe.db'}"
    try:
        app = create_app(make_settings(tmp, url, **settings), start_workers=False)
        with TestClient(app) as client:
            runtime = app.state.runtime
            tokens = create_users(runtime)
            yield Study(client=client, runtime=runtime, tokens=tokens, ids=corpus.build_study(runtime))
    finally:
        if pg:
            pg_drop(pg)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def lib(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Study]:
    yield from _study(tmp_path_factory.mktemp(f"library-{request.param}"), request.param)


def listing(lib: Study, as_role: str = "researcher", **params: Any) -> dict[str, Any]:
    resp = lib.client.get(LIB, headers=lib.h(as_role), params=params)
    assert resp.status_code == 200, resp.text
    return resp.json()


def test_lists_approved_transcripts_only_with_neutral_metadata(lib: Study) -> None:
    body = listing(lib)
    assert body["total"] == 3 and (body["page"], body["per_page"]) == (1, 50)
    items = body["items"]
    assert {i["id"] for i in items} == {lib.ids["police"], lib.ids["victim"], lib.ids["victim_follow_up"]}
    assert lib.ids["unapproved"] not in json.dumps(body)
    # Oldest interview first; months, never days; pseudonyms, never participant codes.
    assert [i["interview_month"] for i in items] == ["2025-03", "2025-04", "2025-06"]
    for item in items:
        assert set(item) == {"id", "document", "participant", "cohort", "interview_month", "study", "speakers",
                             "roles", "duration_s", "revision"}
        assert item["document"] == f"{item['participant']}_{item['id'][:8]}"
    police, victim, follow_up = items
    assert police["participant"] == "POL-01" and police["cohort"] == "police"
    assert police["speakers"] == ["Interviewer", "Officer 1", "Officer 2"] and police["roles"] == ["Interviewer",
                                                                                                  "Officer"]
    # Two interviews of one participant share the pseudonym.
    assert victim["participant"] == follow_up["participant"] == "VIC-01"
    assert victim["roles"] == ["Interviewer", "Victim"]
    text = json.dumps(body).lower()
    assert not any(ident in text for ident in corpus.IDENTIFIERS)
    assert listing(lib, as_role="admin")["total"] == 3


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"cohort": "police"}, ["police"]),
        ({"cohort": "victim"}, ["victim", "victim_follow_up"]),
        ({"cohort": ["police", "victim"]}, ["police", "victim", "victim_follow_up"]),
        ({"cohort": "other"}, []),
        ({"month": "2025-04"}, ["victim"]),
        ({"month": "2025-03"}, ["police"]),  # the unapproved March interview stays hidden
        ({"month": "2025-12"}, []),
        ({"role": "Officer"}, ["police"]),
        ({"role": "victim"}, ["victim", "victim_follow_up"]),
        ({"role": "Interviewer"}, ["police", "victim", "victim_follow_up"]),
        ({"role": "Officer 1"}, []),  # roles, not numbered voices
        ({"cohort": "victim", "month": "2025-06"}, ["victim_follow_up"]),
    ],
)
def test_filters(lib: Study, params: dict[str, Any], expected: list[str]) -> None:
    body = listing(lib, **params)
    assert [i["id"] for i in body["items"]] == [lib.ids[n] for n in expected]
    assert body["total"] == len(expected)


def test_paging(lib: Study) -> None:
    pages = [listing(lib, per_page=2, page=p) for p in (1, 2, 3)]
    assert [len(p["items"]) for p in pages] == [2, 1, 0] and {p["total"] for p in pages} == {3}
    assert [i["id"] for p in pages for i in p["items"]] == [i["id"] for i in listing(lib)["items"]]


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"month": "2025-13"}, 422),
        ({"month": "March"}, 422),
        ({"cohort": "officers"}, 422),
        ({"per_page": 0}, 422),
        ({"per_page": 201}, 422),
        ({"page": 0}, 422),
        ({"role": "x" * 40}, 422),
        # Codes are hidden unless the admin allows them, and so is filtering by them.
        ({"participant_code": corpus.VICTIM.code}, 403),
    ],
)
def test_bad_filters_are_4xx(lib: Study, params: dict[str, Any], status: int) -> None:
    resp = lib.client.get(LIB, headers=lib.h(), params=params)
    assert resp.status_code == status, resp.text


def test_downloads_need_an_approved_transcript(lib: Study) -> None:
    h = lib.h()
    for rid in (lib.ids["unapproved"], uuid.uuid4().hex):
        resp = lib.client.get(f"{LIB}/{rid}", headers=h, params={"format": "txt"})
        # Not approved and not there answer alike: the library doesn't reveal which recordings exist.
        assert resp.status_code == 404 and resp.json() == {"detail": "no approved transcript with this id"}
    assert lib.client.get(f"{LIB}/not-an-id", headers=h).status_code == 422
    assert lib.client.get(f"{LIB}/{lib.ids['police']}", headers=h, params={"format": "pdf"}).status_code == 422
    assert lib.client.get(f"{LIB}/export", headers=h, params={"format": "tar"}).status_code == 422
    assert lib.client.get(f"{LIB}/export", headers=h, params={"include": "rttm"}).status_code == 422
    empty = lib.client.get(f"{LIB}/export", headers=h, params={"cohort": "other"})
    assert empty.status_code == 404 and "no approved transcripts" in empty.json()["detail"]
    ok = lib.client.get(f"{LIB}/{lib.ids['police']}", headers=h, params={"format": "txt"})
    assert ok.status_code == 200 and ok.headers["cache-control"] == "no-store"


def test_researchers_reach_nothing_but_the_library(lib: Study) -> None:
    """Raw transcripts, review (identifying text), audio snippets and recordings: 403 for researchers, even for an
    approved recording they can download from the library."""
    rid = lib.ids["police"]
    h = lib.h()
    for path in (f"{RECS}/{rid}/transcript", f"{RECS}/{rid}/transcript?format=txt", f"{RECS}/{rid}/review",
                 f"{RECS}/{rid}/review/spans/1/audio", f"{RECS}/{rid}/anonymised", f"{RECS}/{rid}",
                 f"{RECS}/{rid}/speakers", RECS):
        resp = lib.client.get(path, headers=h)
        assert resp.status_code == 403, (path, resp.text)
    # ...and uploaders and reviewers don't get the library (reviewers read anonymised text in the review API).
    for role in ("uploader", "reviewer"):
        for path in (LIB, f"{LIB}/{rid}", f"{LIB}/export"):
            assert lib.client.get(path, headers=lib.h(role)).status_code == 403, (role, path)


@pytest.fixture(scope="module")
def codes_allowed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Study]:
    yield from _study(tmp_path_factory.mktemp("library-codes"), "sqlite", library_show_participant_codes=True)


def test_participant_codes_only_with_the_admin_setting(codes_allowed: Study) -> None:
    lib = codes_allowed
    items = listing(lib)["items"]
    assert {i["participant_code"] for i in items} == {corpus.POLICE.code, corpus.VICTIM.code}
    found = listing(lib, participant_code=corpus.VICTIM.code.lower())["items"]
    assert [i["id"] for i in found] == [lib.ids["victim"], lib.ids["victim_follow_up"]]
    # The manifest carries codes; transcripts and file names still don't.
    resp = lib.client.get(f"{LIB}/export", headers=lib.h(), params={"format": "zip", "include": ["txt", "json"]})
    z = zipfile.ZipFile(io.BytesIO(resp.content))
    manifest = json.loads(z.read("manifest.json"))
    assert {r["participant_code"] for r in manifest["transcripts"]} == {corpus.POLICE.code, corpus.VICTIM.code}
    for name in z.namelist():
        assert corpus.VICTIM.code not in name and corpus.POLICE.code not in name
        if not name.startswith("manifest"):
            assert corpus.VICTIM.code.encode() not in z.read(name) and corpus.POLICE.code.encode() not in z.read(name)
    one = lib.client.get(f"{LIB}/{lib.ids['victim']}", headers=lib.h(), params={"format": "docx"})
    assert_no_identifiers(one)
