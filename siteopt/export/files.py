"""Atomic file writes: a temporary file in the target's folder, then `os.replace`.

An interrupted run therefore never leaves a half-written file where a result was.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from siteopt.errors import InputError, Problem

_UMASK = os.umask(0)
os.umask(_UMASK)


@contextlib.contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary path next to `target`; move it into place if the block succeeds."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    os.chmod(tmp_path, 0o666 & ~_UMASK)  # mkstemp makes 0600; results are ordinary files
    try:
        yield tmp_path
        try:
            os.replace(tmp_path, target)
        except PermissionError:
            raise InputError([Problem(str(target), "cannot be replaced: is it open in Excel? "
                                                   "Close it and run again")]) from None
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def write_atomic(target: Path, write: Callable[[Path], Any]) -> None:
    with atomic_path(target) as tmp:
        write(tmp)


def write_csv(frame: pd.DataFrame, target: Path) -> None:
    # repr-precision floats so that sums over the file reconcile to the cent
    write_atomic(target, lambda p: frame.to_csv(p, index=False, float_format="%.17g"))


def write_json(data: dict[str, Any], target: Path) -> None:
    text = json.dumps(data, indent=2, allow_nan=False, default=str) + "\n"
    write_atomic(target, lambda p: p.write_text(text, encoding="utf-8"))
