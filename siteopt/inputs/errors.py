"""Input problems: collected with their location, raised once, shown without a traceback."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

EXCERPT_CHARS = 60  # a message quotes at most this much of what a file holds
MAX_PROBLEM_CHARS = 2_000
# Control characters (C0, DEL, C1) and the invisible format characters that reorder or hide
# text in a terminal (bidi overrides, zero-width): a message must show them, not obey them.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]")


def escape_controls(text: str) -> str:
    """`text` with every control or invisible format character written as an escape."""
    return _UNSAFE.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


def excerpt(value: Any, limit: int = EXCERPT_CHARS) -> str:
    """A short, printable quotation of something read from an input: text is quoted (its
    control characters escaped), anything else shown as it prints; cut at `limit` characters."""
    text = value if isinstance(value, str) else str(value)
    cut = len(text) > limit
    text = text[:limit]
    shown = repr(text) if isinstance(value, str) else escape_controls(text)
    return f"{shown}… ({len(value if isinstance(value, str) else str(value)):,} characters)" \
        if cut else shown


def clip(text: str, limit: int = EXCERPT_CHARS) -> str:
    """Unquoted `excerpt`: for names read from inputs that a message lists (regions, keys)."""
    text = escape_controls(text)
    return text if len(text) <= limit else text[:limit] + "…"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the inputs, located as a user would find it."""

    where: str
    message: str

    def __str__(self) -> str:
        # last line of defence: file names and keys come from users too
        text = escape_controls(f"{self.where}: {self.message}")
        return text if len(text) <= MAX_PROBLEM_CHARS else text[:MAX_PROBLEM_CHARS] + "…"


class InputError(Exception):
    """Raised once with every problem found in a pass over the inputs."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


@dataclass
class Problems:
    """Collector: validation adds to it and raises once at the end."""

    items: list[Problem] = field(default_factory=list)

    def add(self, where: str, message: str) -> None:
        self.items.append(Problem(where, message))

    def __bool__(self) -> bool:
        return bool(self.items)

    def raise_if_any(self) -> None:
        if self.items:
            raise InputError(self.items)


MAX_NEAR_NAMES = 3
MAX_LISTED_ENTRIES = 2_000  # a huge folder is not scanned for near names


def not_found(path: Any, what: str = "not found") -> str:
    """'not found (/abs/path/portfolo); did you mean portfolio?': the path as the file system
    resolved it (a relative path is relative to the folder a run started in, which the
    user may not have in mind) and the names in its folder that are close to it."""
    import difflib
    import itertools
    import os
    from pathlib import Path

    given = Path(path)
    resolved = Path(os.path.abspath(given))
    text = f"{what} ({escape_controls(str(resolved))})"
    try:
        entries = [p.name for p in itertools.islice(resolved.parent.iterdir(),
                                                    MAX_LISTED_ENTRIES)]
    except OSError:
        return text
    near = difflib.get_close_matches(resolved.name, entries, n=MAX_NEAR_NAMES, cutoff=0.6)
    if near:
        shown = [excerpt(n) for n in near]
        text += "; did you mean " + (f"{', '.join(shown[:-1])} or " if len(shown) > 1
                                     else "") + shown[-1] + "?"
    return text
