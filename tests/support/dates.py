"""Interview dates relative to the service's clock, so no test is bound to the calendar.

A fixed date goes stale: its withdrawal deadline (interview + 28 days) passes and the suite turns red by itself.
Under `tests.support.lifecycle.frozen` these follow the frozen clock; otherwise they follow today.
"""

from __future__ import annotations

from datetime import date, timedelta

from service.core import clock


def interview_day(days_ago: int = 3) -> date:
    return clock.utcnow().date() - timedelta(days=days_ago)


def interview_date(days_ago: int = 3) -> str:
    return interview_day(days_ago).isoformat()
