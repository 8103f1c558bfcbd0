"""The API document is valid OpenAPI, and the API keeps to it: schemathesis sends generated requests to every
operation (authenticated as an admin, so they get past the token check) and no answer is a server error, an
undeclared status, content type or a body that does not match its declared schema.

A bounded number of examples per operation keeps this inside CI's budget; it is a smoke net for 500s and
document drift, not an exhaustive search.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from openapi_spec_validator import validate
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.support.apps import create_users, make_settings

EXAMPLES = 25
ADMIN: dict[str, str] = {}


def test_the_document_is_valid_openapi(tmp_path: Path) -> None:
    from service.app import create_app

    doc = create_app(make_settings(tmp_path, f"sqlite:///{tmp_path / 'data' / 'a.db'}")).openapi()
    validate(doc)
    # The two responses that declared bare strings as media-type objects, and a domain 422's string detail.
    for path in ("/api/v1/recordings/{recording_id}/transcript", "/api/v1/recordings/{recording_id}/anonymised"):
        for media in doc["paths"][path]["get"]["responses"]["200"]["content"].values():
            assert isinstance(media, dict) and "schema" in media
    unprocessable = doc["paths"]["/api/v1/users/{user_id}"]["patch"]["responses"]["422"]
    refs = {s["$ref"] for s in unprocessable["content"]["application/json"]["schema"]["anyOf"]}
    assert refs == {"#/components/schemas/ValidationErrors", "#/components/schemas/ErrorMessage"}


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from service.app import create_app

    tmp = tmp_path_factory.mktemp("openapi")
    # The embedded default, workers and all (so /readyz is ready: its 503 would be a real failure here).
    app = create_app(make_settings(tmp, f"sqlite:///{tmp / 'data' / 'anonscribe.db'}"))
    with TestClient(app):
        ADMIN["Authorization"] = f"Bearer {create_users(app.state.runtime, roles=('admin',))['admin']}"
        yield app


def _describe(exc: BaseException) -> str:
    parts = [str(exc)]
    for sub in getattr(exc, "exceptions", ()):
        parts.append(f"  {type(sub).__name__}: {str(sub)[:500]}")
    return "\n".join(parts)


CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def test_the_api_keeps_to_its_document(served: Any) -> None:
    # One Hypothesis run per operation inside one test (schemathesis's pytest fixture loader does not work with
    # this pytest); every operation runs, and all failures are reported together.
    schema = schemathesis.openapi.from_asgi("/openapi.json", served)
    failures, ran = [], 0
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])
        def run(case: Any) -> None:
            case.call_and_validate(headers=ADMIN, checks=CHECKS)

        try:
            run()
        except (Exception, BaseExceptionGroup) as exc:  # collected: one run reports every failing operation
            failures.append(f"{operation.method.upper()} {operation.path}: {_describe(exc)[:1500]}")
        ran += 1
    assert ran >= 25  # every operation of the document (26 today)
    assert not failures, "\n\n".join(failures)
