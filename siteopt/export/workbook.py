"""plan.xlsx: the workbook for people, written atomically.

The sheets are built by `siteopt.export.plan_workbook` from a `Results` (as solved, or read
back from a result folder by `load_results`); this module only saves them. `set_cell` (text
from inputs always stored as literal text) lives in `siteopt.export.xlsx_style`.
"""

from __future__ import annotations

from pathlib import Path

from siteopt.export.files import save_workbook
from siteopt.export.plan_workbook import build_plan_workbook
from siteopt.export.xlsx_style import set_cell
from siteopt.results.extract import Results

__all__ = ["set_cell", "write_plan_workbook"]


def write_plan_workbook(results: Results, target: Path) -> None:
    """Build the plan workbook and move it into place (a file held open in Excel gives a
    one-line message naming it)."""
    wb = build_plan_workbook(results)
    save_workbook(wb, Path(target))
