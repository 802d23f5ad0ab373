"""Atomic file writes: a temporary file in the target's folder, then `os.replace`.

An interrupted run therefore never leaves a half-written file where a result was. Every CSV
siteopt writes goes through `write_csv`, which neutralises text a spreadsheet would run as a
formula; `restore_text` undoes it when siteopt reads its own CSV back.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from siteopt.export import leftovers

_UMASK = os.umask(0)
os.umask(_UMASK)

CREATOR = "siteopt"  # the creator of every workbook siteopt writes: tells its own files apart

# A cell starting with one of these is a formula (or a DDE command) in Excel, LibreOffice and
# Google Sheets (OWASP "CSV injection"); an apostrophe in front makes it text. A text that
# already starts with an apostrophe gets one more, so that reading back is exact.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
QUOTE = "'"


class WriteError(OSError):
    """A file or folder could not be written; `path` is where, `reason` why (strerror)."""

    def __init__(self, path: Path | str, reason: str, code: int | None = None):
        super().__init__(code or 0, reason, str(path))
        self.path, self.reason = Path(path), reason

    def __str__(self) -> str:
        return f"cannot write {self.path}: {self.reason}"


def reason(exc: OSError) -> str:
    """What went wrong, as the system says it (“No space left on device”)."""
    if exc.strerror:
        return exc.strerror
    return os.strerror(exc.errno) if exc.errno else str(exc) or type(exc).__name__


def neutralise_text(value: Any) -> Any:
    if isinstance(value, str) and value.startswith((*FORMULA_PREFIXES, QUOTE)):
        return QUOTE + value
    return value


def restore_text(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(QUOTE):
        return value[1:]
    return value


def _is_text(series: pd.Series) -> bool:
    return pd.api.types.is_object_dtype(series.dtype) or \
        pd.api.types.is_string_dtype(series.dtype) or \
        isinstance(series.dtype, pd.CategoricalDtype)


def csv_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` with every text cell made inert for spreadsheets; numbers stay numbers."""
    out = frame.copy()
    for column in out.columns:
        if _is_text(out[column]):
            out[column] = out[column].astype(object).map(neutralise_text)
    return out


def restored(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame as it was before `csv_safe` (text cells read back from a siteopt CSV)."""
    out = frame.copy()
    for column in out.columns:
        if _is_text(out[column]):
            out[column] = out[column].map(restore_text)
    return out


@contextlib.contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary path next to `target`; move it into place if the block succeeds.

    Any OSError becomes a `WriteError` naming `target`; the temporary file never stays."""
    target = Path(target)
    tmp_path: Path | None = None
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        leftovers.remove_stale_files(target)
        fd, tmp = tempfile.mkstemp(prefix=leftovers.temp_prefix(target), suffix=".tmp",
                                   dir=target.parent)
        os.close(fd)
        tmp_path = Path(tmp)
        os.chmod(tmp_path, 0o666 & ~_UMASK)  # mkstemp makes 0600; results are ordinary files
        yield tmp_path
        os.replace(tmp_path, target)
    except PermissionError as exc:
        if tmp_path is not None and tmp_path.exists() and target.is_file():
            raise WriteError(target, f"cannot be replaced ({reason(exc)}): is it open in "
                                     "Excel? Close it and run again", exc.errno) from None
        raise WriteError(target, reason(exc), exc.errno) from None
    except WriteError:
        raise
    except OSError as exc:
        raise WriteError(target, reason(exc), exc.errno) from None
    finally:
        if tmp_path is not None:
            with contextlib.suppress(OSError):
                tmp_path.unlink()


def write_atomic(target: Path, write: Callable[[Path], Any]) -> None:
    with atomic_path(target) as tmp:
        write(tmp)


def write_csv(frame: pd.DataFrame, target: Path) -> None:
    """Write `frame` as CSV, atomically, with formula-like text neutralised."""
    # repr-precision floats so that sums over the file reconcile to the cent
    safe = csv_safe(frame)
    write_atomic(target, lambda p: safe.to_csv(p, index=False, float_format="%.17g"))


# Columns of CSVs read by people (batch.csv) rounded by their unit: money to the cent,
# durations to the millisecond; other numbers keep full precision.
_PEOPLE_DECIMALS = (("_usd", 2), ("_seconds", 3), ("_s", 3))


def rounded_for_people(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` with money columns (`*_usd`) rounded to cents and durations (`*_seconds`,
    `*_s`) to milliseconds, so that a CSV shows 41.729, not 41.728999999999999."""
    rounded = frame.copy()
    for column in frame.columns:
        decimals = next((d for end, d in _PEOPLE_DECIMALS if str(column).endswith(end)), None)
        if decimals is not None and pd.api.types.is_float_dtype(frame[column]):
            rounded[column] = frame[column].round(decimals)
    return rounded


def write_people_csv(frame: pd.DataFrame, target: Path) -> None:
    """Write a CSV meant to be read by people (not read back to reconcile): rounded by unit
    (`rounded_for_people`) and written at the shortest precision that shows those values."""
    safe = csv_safe(rounded_for_people(frame))
    write_atomic(target, lambda p: safe.to_csv(p, index=False))


def write_json(data: dict[str, Any], target: Path) -> None:
    text = json.dumps(data, indent=2, allow_nan=False, default=str) + "\n"
    write_atomic(target, lambda p: p.write_text(text, encoding="utf-8"))


def save_workbook(wb: Any, target: Path) -> None:
    """Save an openpyxl workbook atomically, stamped as siteopt's (see `is_siteopt_workbook`)."""
    wb.properties.creator = CREATOR
    wb.properties.lastModifiedBy = CREATOR
    write_atomic(Path(target), wb.save)


def check_name_lengths(path: Path) -> None:
    """Raise `WriteError` when a part of `path` is longer than its file system allows."""
    path = Path(path)
    existing = path.parent
    while existing != existing.parent and not _exists(existing):
        existing = existing.parent
    name_max = _name_max(existing)
    for part in path.parts:
        size = len(os.fsencode(part))
        if size > name_max:
            raise WriteError(path, f"name too long ({size} bytes; this file system allows "
                                   f"{name_max})", errno.ENAMETOOLONG)


def _exists(path: Path) -> bool:
    try:
        return path.exists()
    except OSError:
        return False


def probe_writable(folder: Path) -> None:
    """Raise `WriteError` unless a file can be created, written and removed in `folder`, or
    in its nearest existing ancestor when `folder` does not exist yet (it is not created)."""
    folder = Path(folder)
    check_name_lengths(folder)
    existing = folder
    while not _exists(existing) and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise WriteError(existing, "is a file, not a folder", errno.ENOTDIR)
    try:
        fd, probe = tempfile.mkstemp(prefix=f".siteopt-probe.{os.getpid()}.", dir=existing)
    except OSError as exc:
        raise WriteError(existing, reason(exc), exc.errno) from None
    try:
        os.write(fd, b"\0" * 4096)
        os.fsync(fd)
    except OSError as exc:
        raise WriteError(existing, reason(exc), exc.errno) from None
    finally:
        os.close(fd)
        with contextlib.suppress(OSError):
            os.unlink(probe)


def _name_max(folder: Path) -> int:
    try:
        return os.pathconf(folder, "PC_NAME_MAX")
    except (OSError, ValueError, AttributeError):
        return 255
