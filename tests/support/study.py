"""A study's library as researchers reach it over the API, and the check that no identifier leaks from it."""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from fastapi.testclient import TestClient

from tests.support import corpus

LIB = "/api/v1/library"


@dataclass
class Study:
    client: TestClient
    runtime: Any
    tokens: dict[str, str]
    ids: dict[str, str]

    def h(self, role: str = "researcher") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}

    def get(self, path: str, role: str = "researcher", **params: Any):  # type: ignore[no-untyped-def]
        resp = self.client.get(f"{LIB}{path}", headers=self.h(role), params=params)
        assert resp.status_code == 200, resp.text
        return resp

    def events(self, action: str) -> list[tuple[str, dict]]:
        with self.runtime.engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT object_id, details FROM audit_events WHERE action = :a ORDER BY id"),
                                {"a": action}).all()
        return [(oid, d if isinstance(d, dict) else json.loads(d)) for oid, d in rows]


def expand(name: str, data: bytes) -> Iterator[tuple[str, bytes]]:
    """Every member of every archive (DOCX inside ZIP included), with its name."""
    yield name, data
    if data[:4] == b"PK\x03\x04":
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            for member in z.namelist():
                yield from expand(f"{name}!{member}", z.read(member))


def assert_no_identifiers(resp: Any) -> None:
    disposition = resp.headers["content-disposition"]
    for name, data in expand(disposition, resp.content):
        for text in (name.lower(), data.decode("utf-8", errors="ignore").lower()):
            for ident in corpus.IDENTIFIERS:
                assert not re.search(rf"(?<![a-z0-9]){re.escape(ident)}(?![a-z0-9])", text), (ident, name)
