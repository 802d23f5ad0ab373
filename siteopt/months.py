"""Calendar months as `YYYY-MM` labels and as integer offsets from the horizon's first month.

Inside the model a month is an integer m = 0, 1, ... counted from `horizon.start`; labels are
only for people and files.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re

_LABEL = re.compile(r"^(\d{4})-(\d{2})$")


def parse_month(value: object) -> int:
    """Return the month ordinal (year * 12 + month - 1) of a `YYYY-MM` label or a date.

    Raises ValueError with a message fit for a user when the value is not a month.
    """
    if isinstance(value, (dt.date, dt.datetime)):
        return value.year * 12 + value.month - 1
    text = str(value).strip()
    match = _LABEL.match(text)
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise ValueError(f"expected a month as YYYY-MM (got {value!r})")
    return int(match.group(1)) * 12 + int(match.group(2)) - 1


def label(ordinal: int) -> str:
    """`YYYY-MM` label of a month ordinal."""
    return f"{ordinal // 12:04d}-{ordinal % 12 + 1:02d}"


def offset(month: object, start: object) -> int:
    """Months from `start` to `month` (both labels or ordinals)."""
    a = month if isinstance(month, int) else parse_month(month)
    b = start if isinstance(start, int) else parse_month(start)
    return a - b


def labels(start: str, count: int) -> list[str]:
    """Labels of `count` consecutive months from `start`."""
    first = parse_month(start)
    return [label(first + m) for m in range(count)]


def days(ordinal: int) -> int:
    """Calendar days in the month."""
    return calendar.monthrange(ordinal // 12, ordinal % 12 + 1)[1]


def year(ordinal: int) -> int:
    """Calendar year of the month."""
    return ordinal // 12
