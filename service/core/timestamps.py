"""Times in a recording as people read them, by one rule everywhere (web pages, exports, the CLI).

The rule is the subtitle one: a time is cut to the millisecond first (what cues carry), then a whole-second stamp
truncates, never rounds up. Speech starting at 9.6 s is heard during second 9, its cue reads 00:00:09,600, so
every page and file says 00:00:09 — never 0:10 in one place and 00:00:09 in another.
"""

from __future__ import annotations


def _ms(seconds: float) -> int:
    return round(max(0.0, float(seconds)) * 1000)


def cue_time(seconds: float, *, sep: str = ".") -> str:
    """HH:MM:SS.mmm (WebVTT) or HH:MM:SS,mmm (SRT, sep=",")."""
    ms = _ms(seconds)
    h, rem = divmod(ms, 3_600_000)
    m, rem = divmod(rem, 60_000)
    s, ms = divmod(rem, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def stamp(seconds: float | None) -> str:
    """HH:MM:SS, truncated to the whole second: the one human-readable time (empty for an unknown time)."""
    if seconds is None:
        return ""
    return cue_time(seconds)[:8]
