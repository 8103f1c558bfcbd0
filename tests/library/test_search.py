"""Full-text search of the library and the reading page, on both database back-ends (FTS5 and PostgreSQL full-text
search): the same query syntax gives the same turns on both; phrases, prefixes, exclusions and OR; cohort, role and
month filters; snippets with highlight offsets linking to the reading page's `#turn-N`; anonymised text only (names
are never found, unapproved transcripts never indexed); user input never reaches a back-end as syntax (200 or a
clean 422, never a 500); searches audited with counts, not the words; withdrawal takes the participant's rows out
of the index (and, on SQLite, out of the database file); re-indexing is idempotent."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from service.core.db import session_scope
from tests.library.test_library import _study
from tests.support import corpus
from tests.support.lifecycle import files_containing
from tests.support.study import Study

SEARCH = "/api/v1/library/search"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def lib(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Study]:
    yield from _study(tmp_path_factory.mktemp(f"search-{request.param}"), request.param)


def search(lib: Study, q: str, as_role: str = "researcher", **params: Any) -> dict[str, Any]:
    resp = lib.client.get(SEARCH, headers=lib.h(as_role), params={"q": q, **params})
    assert resp.status_code == 200, resp.text
    assert resp.headers["cache-control"] == "no-store"
    return resp.json()


def hits(lib: Study, q: str, **params: Any) -> list[tuple[str, int]]:
    """(recording key in the study, turn) of each hit, sorted."""
    names = {rid: name for name, rid in lib.ids.items()}
    return sorted((names[h["id"]], h["turn"]) for h in search(lib, q, per_page=100, **params)["items"])


def test_words_phrases_prefixes_exclusions_and_or(lib: Study) -> None:
    # VICTIM_FOLLOW_UP turn 2: "Yes. [Person 1] called me back and the images were taken down."
    assert hits(lib, '"taken down"') == [("victim_follow_up", 2)]
    assert hits(lib, "down taken") == [("victim_follow_up", 2)]  # words: any order
    assert hits(lib, '"down taken"') == []  # a phrase: this order, adjacent
    assert hits(lib, '"images taken"') == []  # not adjacent ("images were taken")
    assert hits(lib, "images") == [("police", 5), ("victim_follow_up", 2)]
    assert hits(lib, "images -taken") == [("police", 5)]
    assert hits(lib, 'images -"taken down"') == [("police", 5)]
    assert hits(lib, "images NOT taken") == [("police", 5)]
    assert hits(lib, "images OR email") == [("police", 5), ("victim", 4), ("victim_follow_up", 2)]
    assert hits(lib, "phone OR email images") == [("police", 5)]  # (phone OR email) AND images
    assert hits(lib, "protect*") == [("police", 3)]  # "protection"
    assert hits(lib, "IMAGES AND Taken") == [("victim_follow_up", 2)]  # case ignored, AND the default
    # Consecutive segments of one speaker are one turn: a phrase across them is found (VICTIM turn 4 joins two).
    assert hits(lib, '"if you need i live near"') == [("victim", 4)]


def test_only_anonymised_approved_text_is_searched(lib: Study) -> None:
    for ident in ("Bellamy", "Sarah", "Mitchell", "Manchester", "Longsight", "Priya", "07700", '"third of march"'):
        assert search(lib, ident)["total"] == 0, ident
    # The tags that replaced them are text like any other.
    assert hits(lib, '"person 2"') == [("police", 5), ("police", 6), ("victim", 2)]
    # The unapproved interview ("Where do you work?") is not in the index.
    assert search(lib, '"where do you work"')["total"] == 0


def test_filters_cohort_role_month(lib: Study) -> None:
    assert hits(lib, "images", cohort="police") == [("police", 5)]
    assert hits(lib, "images", cohort=["police", "victim"]) == [("police", 5), ("victim_follow_up", 2)]
    assert hits(lib, "images", month="2025-06") == [("victim_follow_up", 2)]
    assert hits(lib, "images", month="2025-05") == []
    # Role: who said the turn ("Officer 1" and "Officer 2" are Officers).
    assert hits(lib, "person", role="Officer") == [("police", 2), ("police", 3), ("police", 5), ("police", 6)]
    assert hits(lib, "person", role="victim") == [("victim", 2), ("victim", 4), ("victim_follow_up", 2)]
    assert hits(lib, "you", role="Interviewer", cohort="victim") == [("victim", 1), ("victim", 3)]
    assert hits(lib, "you", role="Interviewer") == [("police", 1), ("police", 4), ("victim", 1), ("victim", 3)]
    for bad in ({"month": "2025-13"}, {"cohort": "martians"}, {"role": "x" * 33}):
        resp = lib.client.get(SEARCH, headers=lib.h(), params={"q": "images", **bad})
        assert resp.status_code == 422, (bad, resp.text)


def test_hits_carry_snippet_highlights_and_the_turn_link(lib: Study) -> None:
    body = search(lib, "IMAGES appeared", cohort="police")
    assert (body["total"], body["documents"], body["page"], body["per_page"]) == (1, 1, 1, 20)
    [hit] = body["items"]
    rid = lib.ids["police"]
    assert hit["id"] == rid and hit["document"] == f"POL-01_{rid[:8]}" and hit["turn"] == 5
    assert hit["url"] == f"/library/{rid}#turn-5"
    assert hit["speaker"] == "Officer 1" and hit["cohort"] == "police" and hit["interview_month"] == "2025-03"
    _, start = corpus.expected_turns(corpus.POLICE)[4]
    assert hit["start"] == pytest.approx(start)
    assert hit["snippet"] == "Mostly by phone. One victim, [Person 2], rang us on [Phone] after the images appeared."
    assert [hit["snippet"][a:b] for a, b in hit["highlights"]] == ["images", "appeared"]
    # Paging: the same hits, split.
    everything = search(lib, "person", per_page=100)
    pages = search(lib, "person", per_page=3)["items"] + search(lib, "person", per_page=3, page=2)["items"] + \
        search(lib, "person", per_page=3, page=3)["items"]
    assert [(h["id"], h["turn"]) for h in pages] == [(h["id"], h["turn"]) for h in everything["items"]]
    assert everything["total"] == len(everything["items"]) == 7 and everything["documents"] == 3


def full_width(word: str) -> str:
    return "".join(chr(0xFF00 + ord(c) - 0x20) for c in word)


FULL_WIDTH = full_width("images")
# Backend syntax of FTS5 (NEAR, column filters, ^, *, quotes) and PostgreSQL tsquery (& | ! <-> :*), SQL, escapes.
HOSTILE = [
    'NEAR(images taken)', 'terms: images', '{terms}: images', '^images', 'images*', '"images', 'images"', '"""',
    '*', '-', 'OR', 'NOT', 'AND', 'OR images', 'images OR', 'images OR -taken', '- images', '!images',
    'images & taken', 'images | email', 'images <-> taken', "images:*", "'images'", "images:A", "(images)",
    "images) OR (1=1", "'; DROP TABLE library_search; --", '" OR 1=1 --', "\\", "images\\", "%", "_", "images%",
    "\x00images", "émages", FULL_WIDTH, "images 🙂", "a" * 500, " ".join(["images"] * 17), "x*",
    '"' + " ".join(["w"] * 33) + '"', "-images", "NOT images", "rank:images", "library_search",
]


@pytest.mark.parametrize("q", HOSTILE)
def test_backend_syntax_in_a_query_gives_results_or_a_clean_422(lib: Study, q: str) -> None:
    resp = lib.client.get(SEARCH, headers=lib.h(), params={"q": q})
    assert resp.status_code in (200, 422), (q, resp.status_code, resp.text)
    body = resp.json()
    if resp.status_code == 422:
        assert isinstance(body["detail"], str) and q not in body["detail"]
    else:
        # Whatever it found holds a word of the query (each hit has a highlight): the syntax was only text.
        assert all(h["highlights"] for h in body["items"]), body


def test_hostile_queries_mean_their_words(lib: Study) -> None:
    assert hits(lib, "NEAR(images taken)") == hits(lib, "near images taken") == []
    assert hits(lib, "{terms}: images") == hits(lib, "terms images") == []
    # Punctuation separates words: these are the word "images"; "images:A" is the phrase "images a".
    assert hits(lib, "^images") == hits(lib, "(images)") == hits(lib, "'images'") == hits(lib, "images:*") == \
        hits(lib, "images")
    assert len(hits(lib, "images")) == 2 and hits(lib, "images:A") == hits(lib, '"images a"') == []
    assert hits(lib, "images & taken") == hits(lib, "images <-> taken") == [("victim_follow_up", 2)]
    assert hits(lib, FULL_WIDTH) == hits(lib, "IMAGES")  # full-width folds to the same word
    for q in ("", "   ", '"', "-images", "NOT images", "*", "x*", "a" * 501, " ".join(["images"] * 17)):
        resp = lib.client.get(SEARCH, headers=lib.h(), params={"q": q})
        assert resp.status_code == 422, q
    with lib.runtime.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM library_search")).scalar_one() > 0


def test_search_is_audited_with_counts_never_the_words(lib: Study) -> None:
    before = len(lib.events("library.search"))
    body = search(lib, "images Bellamy OR appeared", cohort="police", role="Officer")
    assert body["total"] == 1
    events = lib.events("library.search")
    assert len(events) == before + 1
    oid, details = events[-1]
    assert oid is None and details == {"terms": 3, "hits": 1, "documents": 1, "filters": 2}
    with lib.runtime.engine.connect() as conn:
        audit = json.dumps([list(map(str, r)) for r in conn.execute(sa.text("SELECT * FROM audit_events")).all()])
    assert "bellamy" not in audit.lower() and "appeared" not in audit
    # A refused query is not an event (nothing was searched).
    lib.client.get(SEARCH, headers=lib.h(), params={"q": "-x"})
    assert len(lib.events("library.search")) == before + 1


@pytest.mark.parametrize("role", ["uploader", "reviewer"])
def test_only_researchers_and_admins_search(lib: Study, role: str) -> None:
    resp = lib.client.get(SEARCH, headers=lib.h(role), params={"q": "images"})
    assert resp.status_code == 403
    assert search(lib, "images", as_role="admin")["total"] == 2
    assert lib.client.get(SEARCH, params={"q": "images"}).status_code == 401


def test_reindexing_is_idempotent_and_the_app_fills_gaps(lib: Study) -> None:
    from service.app import index_library
    from service.library import index

    def rows() -> dict[str, int]:
        with lib.runtime.engine.connect() as conn:
            return dict(conn.execute(sa.text(
                "SELECT recording_id, count(*) FROM library_search GROUP BY recording_id")).all())

    before = rows()
    assert before == {lib.ids["police"]: 6, lib.ids["victim"]: 4, lib.ids["victim_follow_up"]: 2}
    rid = lib.ids["victim"]
    # A re-approval replaces the rows (approve calls index.replace again): never doubles them.
    anonymised = lib.get(f"/{rid}", format="json").json()
    with session_scope(lib.runtime.sessions) as s:
        for _ in range(2):
            index.replace(db_session=s, recording_id=rid, document="VIC-01_x", study="default", cohort="victim",
                          interview_month="2025-04", anonymised=anonymised)
    assert rows() == before
    # Rows gone (as if approved before the index existed): the app indexes the transcript again at start.
    with session_scope(lib.runtime.sessions) as s:
        assert index.remove(db_session=s, recording_ids=[rid]) == 4
    assert hits(lib, "email") == []
    index_library(lib.runtime)
    assert rows() == before and hits(lib, "email") == [("victim", 4)]
    assert [oid for oid, _ in lib.events("library.index")] == [rid]
    index_library(lib.runtime)  # nothing missing: nothing opened
    assert len(lib.events("library.index")) == 1


def test_reading_page_numbers_turns_as_the_index_does(lib: Study) -> None:
    from service.library.exports.text import turns as export_turns
    from service.library.reading import turns

    for name in ("police", "victim", "victim_follow_up"):
        document = lib.get(f"/{lib.ids[name]}", format="json").json()
        reading = turns(document)
        assert [(t.speaker, t.start, t.text) for t in reading] == [
            (t.speaker, t.start, t.text) for t in export_turns(document)]
        assert [t.n for t in reading] == list(range(1, len(corpus.expected_turns(corpus.STUDY[name])) + 1))
        tagged = [p.text for t in reading for p in t.pieces if p.tag]
        assert tagged and all(re.fullmatch(r"\[[A-Z][A-Za-z]*( \w+)?\]", tag) for tag in tagged), tagged


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_withdrawal_removes_the_participants_rows(tmp_path: Path, backend: str) -> None:
    for study in _study(tmp_path, backend):
        victim = {study.ids["victim"], study.ids["victim_follow_up"]}
        assert hits(study, "friend") == [("victim", 4)]
        if backend == "sqlite":  # the index holds the anonymised words in clear, so the file scan below can fail
            assert files_containing(tmp_path / "data", [b"friend"])
        resp = study.client.post("/api/v1/participants/VXQ-4471/withdrawal", headers=study.h("admin"),
                                 json={"override_reason": "test: past the deadline"})
        assert resp.status_code == 200, resp.text
        assert search(study, "friend")["total"] == 0
        assert {h["id"] for h in search(study, "person", per_page=100)["items"]} == {study.ids["police"]}
        with study.runtime.engine.connect() as conn:
            left = conn.execute(sa.text("SELECT recording_id FROM library_search")).scalars().all()
            docs = conn.execute(sa.text("SELECT recording_id FROM library_search_documents")).scalars().all()
        assert set(left) == set(docs) == {study.ids["police"]} and not victim & set(left)
        if backend == "sqlite":
            # A word only the withdrawn transcripts said is gone from the file too (FTS5 segments merged, freed
            # pages zeroed, the write-ahead log folded back). FTS5 stores a term after the prefix it shares with the
            # one before it ("f" of "force"), so the scan looks for the rest of the word.
            assert not files_containing(tmp_path / "data", [b"friend", b"riend", study.ids["victim"].encode()])


def test_snippet_cuts_long_turns_around_the_first_hit() -> None:
    from service.library import query

    words = [f"w{i}" for i in range(100)]
    words[50] = "Café"
    text = " ".join(words) + "."
    snippet, marks = query.snippet(text, query.parse("cafe"))
    assert snippet == "… " + " ".join(words[38:75]) + " …"
    assert [snippet[a:b] for a, b in marks] == ["Café"]
    # Phrases and prefixes are marked whole; a turn with few words is not cut.
    snippet, marks = query.snippet("Well, the police car was well-known.", query.parse('"police car" well*'))
    assert snippet == "Well, the police car was well-known." and \
        [snippet[a:b] for a, b in marks] == ["Well", "police car", "well"]
    assert query.tokens("Don't — l'été, ½ well_known") == ["don", "t", "l", "ete", "1", "2", "well", "known"]


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_migration_down_and_up_and_the_backfill_at_start(tmp_path: Path, backend: str) -> None:
    """0010 goes down cleanly and comes back empty; the app's start indexes what was approved meanwhile."""
    from alembic.config import Config

    from alembic import command
    from service.app import index_library
    from service.core.db import ALEMBIC_DIR

    for study in _study(tmp_path, backend):
        cfg = Config()
        cfg.set_main_option("script_location", str(ALEMBIC_DIR))
        cfg.attributes["database_url"] = study.runtime.settings.resolved_database_url
        expected = hits(study, "person")
        study.runtime.engine.dispose()
        command.downgrade(cfg, "0009")
        tables = set(sa.inspect(study.runtime.engine).get_table_names())
        assert not {t for t in tables if t.startswith("library_search")}, tables
        command.upgrade(cfg, "head")
        with study.runtime.engine.connect() as conn:
            if backend == "sqlite":
                ddl = conn.execute(sa.text("SELECT sql FROM sqlite_master WHERE name = 'library_search'")).scalar_one()
                assert "USING fts5" in ddl
            else:
                ddl = conn.execute(sa.text(
                    "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_library_search_terms'")).scalar_one()
                assert "USING gin (terms)" in ddl
        assert search(study, "person")["total"] == 0  # the migration can't open sealed documents
        index_library(study.runtime)
        assert hits(study, "person") == expected and len(expected) == 7
        assert len(study.events("library.index")) == 3


def test_odd_text_indexes_on_both_back_ends(lib: Study) -> None:
    """What an edited or glitched transcript could hold: a NUL, a 500-letter "word", a word said 300 times (PostgreSQL
    keeps 256 positions per lexeme), accents and full-width letters."""
    from service.library import index

    rid = lib.ids["unapproved"]  # a recordings row to hang the rows on; removed again below
    document = {"segments": [
        {"start": 0.0, "end": 1.0, "speaker_label": "Interviewer", "text": "nul\x00here " + "z" * 500 + " end"},
        {"start": 1.0, "end": 9.0, "speaker_label": "Officer 1",
         "text": "again " * 300 + "Crème brûlée " + full_width("final")},
    ]}
    try:
        with session_scope(lib.runtime.sessions) as s:
            assert index.replace(db_session=s, recording_id=rid, document="X", study="default", cohort="police",
                                 interview_month="2025-03", anonymised=document) == 2
        assert hits(lib, "nulhere end") == [("unapproved", 1)]  # the NUL is dropped, not a separator
        assert hits(lib, '"creme brulee final"') == [("unapproved", 2)]
        assert hits(lib, "again creme", role="Officer") == [("unapproved", 2)]
    finally:
        with session_scope(lib.runtime.sessions) as s:
            index.remove(db_session=s, recording_ids=[rid])
    assert search(lib, "again")["total"] == 0
