"""Tracebacks an operator can read and a log can keep: where it failed, never what the data said.

An exception's message, its arguments and a frame's local values can quote a transcript, a name or a key (a
library's `ValueError(f"... {text!r}")`), so none of them is ever read here. What is kept is code: each frame's
module, line and function, and the exception's type, with the types and frames of the exceptions it was raised
from or while handling.
"""

from __future__ import annotations

from types import TracebackType

MAX_FRAMES = 30  # per exception, innermost kept: the frames nearest the failure say the most
MAX_CHAIN = 5


def type_name(exc: BaseException) -> str:
    cls = type(exc)
    return cls.__qualname__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__qualname__}"


def _frames(tb: TracebackType | None) -> list[str]:
    out = []
    while tb is not None:
        code = tb.tb_frame.f_code
        module = tb.tb_frame.f_globals.get("__name__")
        where = module if isinstance(module, str) else code.co_filename.rsplit("/", 1)[-1]
        out.append(f"{where}:{tb.tb_lineno}:{code.co_qualname}")
        tb = tb.tb_next
    if len(out) > MAX_FRAMES:
        out = [f"({len(out) - MAX_FRAMES} outer frames left out)", *out[-MAX_FRAMES:]]
    return out


def _one(exc: BaseException) -> str:
    frames = _frames(exc.__traceback__)
    return f"{type_name(exc)} at {' > '.join(frames)}" if frames else type_name(exc)


def content_free(exc: BaseException) -> str:
    """One line: `Type at module:line:function > ... (most recent call last)`, then `; from Type at ...` for an
    explicit cause (`raise ... from`) or `; while handling Type at ...` for the exception being handled."""
    parts = [_one(exc)]
    seen = {id(exc)}
    current: BaseException | None = exc
    while current is not None and len(parts) <= MAX_CHAIN:
        if current.__cause__ is not None:
            current, how = current.__cause__, "from"
        elif current.__context__ is not None and not current.__suppress_context__:
            current, how = current.__context__, "while handling"
        else:
            break
        if id(current) in seen:
            break
        seen.add(id(current))
        parts.append(f"{how} {_one(current)}")
    return "; ".join(parts)
