"""What siteopt may overwrite: its own result folders and workbooks, nothing else.

A result folder is recognised by its summary.json, which lists the files of its run; a
workbook by the creator siteopt stamps into it (`files.save_workbook`) or, for workbooks of
earlier versions, by siteopt's sheet names.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

from siteopt.export.files import CREATOR
from siteopt.inputs.errors import InputError, Problem

MARKER = "summary.json"
_PLAN_SHEETS = {"Summary", "About this run"}
_COMPARISON_SHEETS = {"Comparison", "Assumption changes", "Scenarios"}
_MAX_WORKBOOK_XML = 1 << 20


def is_siteopt_workbook(path: Path) -> bool:
    """Whether `path` is an .xlsx workbook siteopt wrote."""
    try:
        with zipfile.ZipFile(path) as z:
            names = set(z.namelist())
            core = _small(z, "docProps/core.xml") if "docProps/core.xml" in names else ""
            creator = re.search(r"<dc:creator>([^<]*)</dc:creator>", core)
            if creator and creator.group(1) == CREATOR:
                return True
            book = _small(z, "xl/workbook.xml") if "xl/workbook.xml" in names else ""
    except (OSError, zipfile.BadZipFile, ValueError):
        return False
    sheets = set(re.findall(r'<sheet [^>]*name="([^"]*)"', book))
    return sheets >= _PLAN_SHEETS or sheets >= _COMPARISON_SHEETS


def _small(z: zipfile.ZipFile, name: str) -> str:
    if z.getinfo(name).file_size > _MAX_WORKBOOK_XML:
        return ""
    return z.read(name).decode("utf-8", errors="replace")


def enclosing_result_folder(path: Path) -> Path | None:
    """The nearest folder above `path` that is a result folder."""
    for parent in Path(path).resolve().parents:
        if (parent / MARKER).is_file():
            return parent
    return None


def listed_files(folder: Path) -> set[str]:
    """Files a result folder's summary.json lists (empty when it cannot be read)."""
    import json

    try:
        files = json.loads((folder / MARKER).read_text(encoding="utf-8")).get("files")
    except (OSError, ValueError, AttributeError):
        return set()
    if not isinstance(files, list):
        return {MARKER}
    return {f for f in files if isinstance(f, str)} | {MARKER}


def check_workbook_target(target: Path, own_folder: Path | None = None) -> None:
    """Refuse a workbook path that would overwrite anything but a siteopt workbook, or land
    inside a result folder; `own_folder`'s plan.xlsx is what `report` rebuilds."""
    target = Path(target)
    where = str(target)
    if target.suffix.lower() != ".xlsx":
        raise InputError([Problem(where, "the workbook must be an .xlsx file (got "
                                         f"'{target.name}')")])
    folder = enclosing_result_folder(target)
    is_own_plan = own_folder is not None and folder is not None and \
        folder == Path(own_folder).resolve() and target.resolve().parent == folder and \
        target.name == "plan.xlsx"
    if folder is not None and not is_own_plan:
        relative = target.resolve().relative_to(folder).as_posix()
        if relative in listed_files(folder):
            raise InputError([Problem(where, f"is a result file of {folder} (listed in its "
                                             "summary.json); not overwriting it: write the "
                                             "workbook elsewhere")])
        raise InputError([Problem(where, f"is inside the result folder {folder}, which holds "
                                         "only the files of its run: write the workbook "
                                         "elsewhere")])
    if target.is_symlink() or (target.exists() and not target.is_file()):
        raise InputError([Problem(where, "exists and is not a plain file; not overwriting "
                                         "it")])
    if target.exists() and not is_siteopt_workbook(target):
        raise InputError([Problem(where, "exists and is not a workbook siteopt wrote; not "
                                         "overwriting it: choose another name, or move the "
                                         "file away")])
