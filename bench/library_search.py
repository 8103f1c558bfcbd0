"""Library search on a study-sized index, on SQLite (FTS5) and PostgreSQL (tsvector + GIN).

What is measured: with ``--docs`` approved transcripts of ``--turns`` speaker turns each (default 300 x 200:
an hour-long interview has 150-300 turns, ~25 words each), the time to index them (`service.library.index.replace`,
what approval calls, per transcript), the median and worst time of `index.search` (page 1, 20 hits, counts
included) for a set of queries (a rare, a mid and a common word, a phrase, a prefix, OR, an exclusion, with and
without filters), and the time to remove one transcript (what withdrawal calls; on SQLite with the FTS5
'optimize' merge).

How: fresh databases (a temp SQLite file; a scratch PostgreSQL database on the test server, bench.common's
PG_ADMIN_URL), migrated; recordings rows inserted directly (no audio: not what is measured); turn text drawn from a
fixed vocabulary with a Zipf-like frequency, a few planted phrases and redaction tags, seeded so runs compare.

Run from the repository root: ``python -m bench.library_search`` (a few minutes on 2 cores) or ``--docs 50``.
Writes bench/results/library_search.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import statistics
import tempfile
import time
import uuid
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from bench.common import PG_ADMIN_URL, RESULTS
from harness.databases import create_database, drop_database

VOCAB = str.split(
    "the and i to a you it of that was in we he they so what but me had just like know on with there were then "
    "police officer victim images online report phone called said felt support case evidence station statement "
    "months weeks family friend school work help scared angry relieved specialist unit team")
QUERIES = {
    "rare word": ("zanzibar", {}),
    "mid word": ("relieved", {}),
    "common word": ("police", {}),
    "phrase": ('"specialist officer called"', {}),
    "prefix": ("spec*", {}),
    "or": ("scared OR angry", {}),
    "exclusion": ("images -online", {}),
    "phrase + filters": ('"specialist officer called"', {"cohorts": ["victim"], "role": "Interviewer"}),
}


def turn_text(rng: random.Random) -> str:
    words = rng.choices(VOCAB, weights=[1 / (i + 1) for i in range(len(VOCAB))], k=rng.randint(8, 45))
    if rng.random() < 0.02:
        words[len(words) // 2 : len(words) // 2] = ["specialist", "officer", "called"]
    if rng.random() < 0.001:
        words.append("zanzibar")
    if rng.random() < 0.1:
        words.insert(rng.randrange(len(words)), "[Person 3]")
    return " ".join(words) + "."


def document(rng: random.Random, turns: int) -> dict[str, Any]:
    segments, t = [], 0.0
    for i in range(turns):
        text = turn_text(rng)
        end = t + 0.4 * len(text.split())
        segments.append({"start": t, "end": end, "text": text, "speaker_label": "Interviewer" if i % 2 else "Victim",
                         "redactions": []})
        t = end + 0.5
    return {"segments": segments}


def run(url: str, docs: int, turns: int) -> dict[str, Any]:
    from service.auth import service as auth
    from service.auth.models import Role
    from service.core.db import make_engine, make_session_factory, run_migrations, session_scope
    from service.library import index
    from service.library import query as q
    from service.recordings.models import Recording

    run_migrations(url)
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    rng = random.Random(7)
    with session_scope(sessions) as s:
        uploader, _ = auth.create_user(db_session=s, name="bench", role=Role.uploader)
        uid = uploader.id
    ids = [uuid.uuid4().hex for _ in range(docs)]
    with session_scope(sessions) as s:
        for i, rid in enumerate(ids):
            s.add(Recording(id=rid, uploader_id=uid, participant_code=f"B{i:04d}", study="default",
                            cohort="victim" if i % 2 else "police", interview_date=date(2026, 1 + i % 12, 1),
                            withdrawal_deadline=date(2027, 1, 1), container="wav", duration_s=3600.0, size_bytes=1,
                            sha256="0" * 64, blob_id=None, key_id=None, created_at=datetime(2026, 1, 1, tzinfo=UTC)))
    documents = [document(rng, turns) for _ in ids]
    t = time.perf_counter()
    for rid, doc in zip(ids, documents, strict=True):
        with session_scope(sessions) as s:
            index.replace(db_session=s, recording_id=rid, document=f"B_{rid[:8]}", study="default", cohort="victim",
                          interview_month="2026-01", anonymised=doc)
    index_s = time.perf_counter() - t
    if engine.dialect.name == "postgresql":
        # Planner statistics, as autovacuum gathers them after a bulk of inserts (without them the planner guesses
        # one row per filter and walks the documents first: 3x slower on filtered phrases).
        with engine.connect() as conn:
            conn.execute(sa.text("ANALYZE"))
            conn.commit()
    searches: dict[str, Any] = {}
    for name, (text, filters) in QUERIES.items():
        parsed = q.parse(text)
        times, found = [], None
        for _ in range(7):
            with session_scope(sessions) as s:
                t = time.perf_counter()
                found = index.search(db_session=s, query=parsed, limit=20, offset=0, **filters)
                times.append((time.perf_counter() - t) * 1000)
        assert found is not None
        searches[name] = {"median_ms": round(statistics.median(times), 1), "max_ms": round(max(times), 1),
                          "hits": found.total}
    with session_scope(sessions) as s:
        t = time.perf_counter()
        gone = index.remove(db_session=s, recording_ids=[ids[0]])
        remove_ms = (time.perf_counter() - t) * 1000
    assert gone == turns
    engine.dispose()
    return {"index_s": round(index_s, 2), "index_ms_per_transcript": round(index_s / docs * 1000, 1),
            "search": searches, "remove_one_ms": round(remove_ms, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=300)
    parser.add_argument("--turns", type=int, default=200)
    args = parser.parse_args()
    results: dict[str, Any] = {"docs": args.docs, "turns": args.turns, "machine": platform.platform()}
    with tempfile.TemporaryDirectory(prefix="anonscribe-search-bench-") as tmp:
        results["sqlite"] = run(f"sqlite:///{Path(tmp) / 'bench.db'}", args.docs, args.turns)
    db = create_database(PG_ADMIN_URL, prefix="anonscribe_bench_", digits=10)
    try:
        results["postgresql"] = run(db.url, args.docs, args.turns)
    finally:
        drop_database(PG_ADMIN_URL, db)
    print(json.dumps(results, indent=2))
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "library_search.json").write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
