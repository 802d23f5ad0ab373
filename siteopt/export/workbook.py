"""plan.xlsx: the result tables as sheets, text from inputs always written as text."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.table import Table, TableStyleInfo

from siteopt.export.files import write_atomic
from siteopt.results import Results

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def set_cell(cell: Cell, value: Any) -> None:
    """Write a value; strings are stored as literal text, never as formulas."""
    if isinstance(value, str):
        text = _CONTROL.sub("", value)
        cell.value = text
        cell.data_type = "s"
        if text.startswith(_FORMULA_PREFIXES):
            cell.quotePrefix = True
    elif value is None or (isinstance(value, float) and value != value):
        cell.value = None
    elif hasattr(value, "item"):  # numpy scalars
        cell.value = value.item()
    else:
        cell.value = value


def write_frame(wb: Workbook, title: str, frame: pd.DataFrame, table_name: str) -> None:
    ws = wb.create_sheet(title)
    for j, column in enumerate(frame.columns, start=1):
        set_cell(ws.cell(row=1, column=j), str(column))
    for i, row in enumerate(frame.itertuples(index=False), start=2):
        for j, value in enumerate(row, start=1):
            set_cell(ws.cell(row=i, column=j), value)
    if len(frame.columns):
        last = f"{get_column_letter(len(frame.columns))}{max(2, len(frame) + 1)}"
        table = Table(displayName=table_name, ref=f"A1:{last}")
        table.tableStyleInfo = TableStyleInfo(name="TableStyleMedium2", showRowStripes=True)
        ws.add_table(table)
    ws.freeze_panes = "B2"
    for j, column in enumerate(frame.columns, start=1):
        width = max([len(str(column))] + [len(f"{v}") for v in frame[column].head(200)])
        ws.column_dimensions[get_column_letter(j)].width = min(60, width + 2)


def write_plan_workbook(results: Results, target: Path) -> None:
    wb = Workbook()
    ws = wb.active
    ws.title = "Summary"
    flat = [(k, json.dumps(v) if isinstance(v, (dict, list)) else v)
            for k, v in results.summary.items()]
    for i, (key, value) in enumerate(flat, start=1):
        set_cell(ws.cell(row=i, column=1), key)
        set_cell(ws.cell(row=i, column=2), value)
    ws.column_dimensions["A"].width = 28
    ws.column_dimensions["B"].width = 60
    write_frame(wb, "Campus plan", results.campus_month, "tblCampusMonth")
    write_frame(wb, "Leases", results.leases, "tblLeases")
    write_atomic(target, wb.save)
