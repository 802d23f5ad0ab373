"""Calendar months as `YYYY-MM` labels and as integer offsets from the horizon's first month.

Inside the model a month is an integer m = 0, 1, ... counted from `horizon.start`; labels are
only for people and files.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re

from siteopt.inputs.errors import excerpt

_LABEL = re.compile(r"^([0-9]{4})-([0-9]{2})$")

# Every month an input names lies in this window (scenario keys, table cells, paths files):
# wide enough for any plan, narrow enough that months derived from it (a horizon of up to 50
# years, leases running 50 more) stay far inside what calendar arithmetic handles.
INPUT_MONTHS = ("2000-01", "2199-12")


def parse_month(value: object) -> int:
    """Return the month ordinal (year * 12 + month - 1) of a `YYYY-MM` label or a date.

    Raises ValueError with a message fit for a user when the value is not a month.
    """
    if isinstance(value, (dt.date, dt.datetime)):
        return value.year * 12 + value.month - 1
    text = str(value).strip()
    match = _LABEL.match(text)
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise ValueError(f"expected a month as YYYY-MM (got {excerpt(value)})")
    return int(match.group(1)) * 12 + int(match.group(2)) - 1


def parse_input_month(value: object) -> int:
    """`parse_month` for a month read from an input: it must lie in INPUT_MONTHS."""
    ordinal = parse_month(value)
    first, last = (parse_month(m) for m in INPUT_MONTHS)
    if not first <= ordinal <= last:
        raise ValueError(f"must be a month between {INPUT_MONTHS[0]} and {INPUT_MONTHS[1]} "
                         f"(got {label(ordinal)})")
    return ordinal


def input_years() -> tuple[int, int]:
    """First and last calendar year of INPUT_MONTHS."""
    return tuple(parse_month(m) // 12 for m in INPUT_MONTHS)  # type: ignore[return-value]


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
