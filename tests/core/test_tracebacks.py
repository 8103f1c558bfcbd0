"""The content-free traceback: frames and exception types, never a message or a value."""

from __future__ import annotations

import inspect
import json
import re

from service.core.tracebacks import MAX_FRAMES, content_free

SECRET = "Jaspreet-Kaur-lives-at-12-Elm-Road"


class TranscriptProblem(Exception):
    pass


def _lineno_of(fn: object, needle: str) -> int:
    lines, first = inspect.getsourcelines(fn)  # type: ignore[arg-type]
    return first + next(i for i, line in enumerate(lines) if needle in line)


def _parse(text: str) -> None:
    secret_local = SECRET  # a frame's local value must not appear either
    raise ValueError(f"cannot parse {secret_local!r}")


def _save(text: str) -> None:
    try:
        _parse(text)
    except ValueError as exc:
        raise TranscriptProblem(SECRET, {"text": text}) from exc


def _encode() -> None:
    try:
        _save(SECRET)
    except TranscriptProblem:
        json.dumps({"flag": object(), "name": SECRET})  # raises TypeError while handling the first


def _caught(fn) -> BaseException:  # type: ignore[no-untyped-def]
    try:
        fn()
    except BaseException as exc:
        return exc
    raise AssertionError("did not raise")


def test_frames_and_types_are_kept_and_messages_are_not() -> None:
    exc = _caught(_encode)
    text = content_free(exc)
    assert SECRET not in text and "Jaspreet" not in text and "Elm" not in text
    assert "cannot parse" not in text and "not JSON serializable" not in text
    assert "\n" not in text  # one log line
    here = __name__
    # Most recent call last, per exception; then what it was raised while handling, then that one's cause.
    newest, handling, cause = text.split("; ")
    assert newest.startswith("TypeError at ")
    assert f"{here}:{_lineno_of(_caught, 'fn()')}:_caught" in newest
    assert f"{here}:{_lineno_of(_encode, 'json.dumps')}:_encode" in newest
    assert re.search(r" > json\.encoder:\d+:JSONEncoder\.default$", newest), newest
    assert handling.startswith(f"while handling {here}.TranscriptProblem at ")
    assert handling.endswith(f"{here}:{_lineno_of(_save, 'raise TranscriptProblem')}:_save")
    assert cause == (
        f"from ValueError at {here}:{_lineno_of(_save, '_parse(text)')}:_save > "
        f"{here}:{_lineno_of(_parse, 'raise ValueError')}:_parse"
    )


def test_an_exception_never_raised_has_its_type_only() -> None:
    assert content_free(KeyError(SECRET)) == "KeyError"


def test_suppressed_context_and_cycles_are_not_followed() -> None:
    def explicit_none() -> None:
        try:
            raise ValueError(SECRET)
        except ValueError:
            raise RuntimeError(SECRET) from None

    text = content_free(_caught(explicit_none))
    assert text.startswith("RuntimeError at ") and "ValueError" not in text and SECRET not in text
    a, b = ValueError(SECRET), KeyError(SECRET)
    a.__cause__, b.__cause__ = b, a
    assert content_free(a) == "ValueError; from KeyError"


def test_deep_recursion_keeps_the_innermost_frames() -> None:
    def down(n: int) -> None:
        if n == 0:
            raise RecursionError(SECRET)
        down(n - 1)

    text = content_free(_caught(lambda: down(100)))
    frames = text.split(" at ", 1)[1].split(" > ")
    assert len(frames) == MAX_FRAMES + 1 and frames[0].endswith("outer frames left out)")
    assert frames[-1] == f"{__name__}:{_lineno_of(down, 'raise RecursionError')}:" + (
        "test_deep_recursion_keeps_the_innermost_frames.<locals>.down"
    )
