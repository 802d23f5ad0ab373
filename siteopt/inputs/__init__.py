"""Inputs layer: the schema, scenario files, portfolio tables and market path, validated into
one frozen `Inputs` object (`load_inputs`). Nothing downstream re-reads or re-validates.

`Inputs` and `load_inputs` are imported lazily, so that modules needing only the schema or
the error types (the command line's start-up) do not pull in pandas.
"""

from __future__ import annotations

from typing import Any

__all__ = ["Inputs", "load_inputs"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from siteopt.inputs import load

        return getattr(load, name)
    raise AttributeError(f"module 'siteopt.inputs' has no attribute {name!r}")
