"""Results layer: a solved model turned into tidy tables (`extract`), the KPIs a board reads
(`kpis`), the independent audit of every written plan (`audit`) and the explanation of an
infeasible scenario (`diagnose`).

The names of `siteopt.results.extract` (Results, extract, the table columns) are re-exported
here lazily.
"""

from __future__ import annotations

from typing import Any

_SUBMODULES = {"extract", "kpis", "audit", "diagnose"}


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES or name.startswith("__"):
        raise AttributeError(name)  # submodules are imported as such, not through here
    from siteopt.results import extract

    try:
        return getattr(extract, name)
    except AttributeError:
        raise AttributeError(f"module 'siteopt.results' has no attribute {name!r}") from None
