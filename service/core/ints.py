"""Bounds for integers that come from a request and reach the database.

Python's ints are unbounded; the drivers' are not (SQLite raises OverflowError past 64 bits, and our id columns
are 32-bit INTEGER on PostgreSQL). Bounding them where they are parsed turns `?page=10**23` into a 422 instead
of a 500, and shows the limits in the API document.
"""

from __future__ import annotations

from typing import Annotated

from annotated_types import Interval

INT32_MAX = 2**31 - 1

# A row id (users, redaction spans): the columns are INTEGER.
RowId = Annotated[int, Interval(ge=1, le=INT32_MAX)]
# A page number: with at most a few hundred per page, its OFFSET stays far inside 64 bits.
PageNo = Annotated[int, Interval(ge=1, le=INT32_MAX)]
# A position (segment index, character offset) stored in an INTEGER column.
Position = Annotated[int, Interval(ge=0, le=INT32_MAX)]
