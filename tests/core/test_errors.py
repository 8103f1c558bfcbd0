"""One error type for the domains' refusals (service/core/errors.py), answered in one place: API views do not catch
them per call. The wording clients see is pinned in tests/web/test_web.py (pages and API) and the API tests."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

from service.core.errors import DomainError
from service.library.service import LibraryError
from service.recordings.service import Conflict, Forbidden, InvalidMetadata, RecordingNotFound
from service.redaction.service import ReviewError, TextNotFound
from service.speakers.roles import UnknownRole
from service.speakers.service import SpeakerError
from service.web.errors import PageError
from tests.support.paths import ROOT


def test_the_message_is_the_api_detail_and_a_sentence_on_a_page() -> None:
    err = DomainError(409, "the transcript is not ready for review")
    assert (err.status, err.message, err.detail, str(err)) == (409, *["the transcript is not ready for review"] * 3)
    assert err.sentence == "The transcript is not ready for review."
    assert DomainError(422, "Already a sentence.").sentence == "Already a sentence."


@pytest.mark.parametrize(
    ("error", "status", "detail", "sentence"),
    [
        (RecordingNotFound("0" * 32), 404, "no such recording", "There is no such recording."),
        (Forbidden(), 403, "your role may not see recordings", "Your role may not see recordings."),
        (Conflict("only a failed one"), 409, "only a failed one", "Only a failed one."),
        (SpeakerError("cannot merge a speaker into itself"), 422, "cannot merge a speaker into itself",
         "Cannot merge a speaker into itself."),
        (SpeakerError("approved", status=409), 409, "approved", "Approved."),
        (TextNotFound(422, "that text is not in the segment"), 422, "that text is not in the segment",
         "That text is not in the segment."),
        (LibraryError(404, "no approved transcript with this id"), 404, "no approved transcript with this id",
         "no approved transcript with this id"),
        (UnknownRole("Victim", cohort="police"), 422,
         "'Victim' is not a speaker role for a police recording; choose one of: Interviewer, Officer, Other",
         "Choose a role from the list: Interviewer, Officer, Other."),
        (PageError(422, "Choose the segment the text is in."), 422, "Choose the segment the text is in.",
         "Choose the segment the text is in."),
    ],
)
def test_each_refusal_keeps_its_status_and_words(error: DomainError, status: int, detail: str,
                                                 sentence: str) -> None:
    assert isinstance(error, DomainError)
    assert (error.status, error.detail, error.sentence) == (status, detail, sentence)


def test_invalid_metadata_answers_the_list_of_problems() -> None:
    problems: list[dict[str, object]] = [{"loc": ["cohort"], "msg": "bad", "type": "enum"}]
    err = InvalidMetadata(problems)
    assert (err.status, err.detail) == (422, problems)
    assert isinstance(ReviewError(404, "no such span"), DomainError)


def _caught(module_path: Path) -> list[tuple[int, str, type]]:
    """Every class an `except` clause of the module names, resolved in the module's own namespace."""
    rel = module_path.relative_to(ROOT).with_suffix("")
    module = importlib.import_module(".".join(rel.parts))
    found = []
    for node in ast.walk(ast.parse(module_path.read_text())):
        if isinstance(node, ast.ExceptHandler) and node.type is not None:
            types = node.type.elts if isinstance(node.type, ast.Tuple) else [node.type]
            for expr in types:
                found.append((node.lineno, ast.unparse(expr), eval(ast.unparse(expr), vars(module))))  # noqa: S307
    return found


def test_api_views_let_domain_errors_through_to_the_one_handler() -> None:
    views = sorted((ROOT / "service").rglob("views.py"))
    assert len(views) >= 7
    translated = [f"{path.relative_to(ROOT)}:{line} catches {name}" for path in views
                  for line, name, cls in _caught(path) if issubclass(cls, DomainError)]
    assert translated == []
