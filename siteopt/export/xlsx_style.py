"""Cells, formats and layout shared by every workbook siteopt writes.

- `set_cell` writes a value safely: text from inputs is always literal text (never a formula),
  numpy scalars become Python numbers, NaN becomes an empty cell.
- `column_style` turns a result column name into a header with its unit and an Excel number
  format (`*_usd` → USD millions, `*_mw` → MW, `*_pct` → %, `*month` → a real date).
- `write_table` writes a DataFrame as a named Excel table; `fit_widths` and `report_sheet`
  finish a sheet for reading and printing.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.filters import AutoFilter
from openpyxl.worksheet.table import Table, TableColumn, TableStyleInfo
from openpyxl.worksheet.worksheet import Worksheet

from siteopt.contract import LINE

if TYPE_CHECKING:
    from siteopt.export.xlsx_rows import SheetRows

# ---------------------------------------------------------------------------------------------
# Formats and styles
# ---------------------------------------------------------------------------------------------

USD_M = "#,##0.0,,;(#,##0.0,,)"  # USD shown in millions, negatives in parentheses
MUSD = "#,##0.0;(#,##0.0)"  # a number already in millions
MW = "#,##0.0"
PCT = "0.0%"
PCT_INPUT = "0.0##%"
MONTH = "mmm yyyy"
INT = "#,##0"
NUMBER = "#,##0.0##"
TEXT = "@"

NAVY = "1F3864"
TITLE_FONT = Font(bold=True, size=16, color=NAVY)
SUBTITLE_FONT = Font(italic=True, size=11, color="595959")
HEADING_FONT = Font(bold=True, size=12, color=NAVY)
BOLD = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor=NAVY)
HEADER_FONT = Font(bold=True, color="FFFFFF")
BAND_FILL = PatternFill("solid", fgColor="D9E1F2")
STATUS_FILLS = {"good": PatternFill("solid", fgColor="C6EFCE"),
                "warn": PatternFill("solid", fgColor="FFEB9C"),
                "bad": PatternFill("solid", fgColor="FFC7CE")}
STATUS_FONTS = {"good": Font(bold=True, size=13, color="006100"),
                "warn": Font(bold=True, size=13, color="9C5700"),
                "bad": Font(bold=True, size=13, color="9C0006")}
WRAP = Alignment(wrap_text=True, vertical="top")
TABLE_STYLE = "TableStyleMedium2"

@dataclass(frozen=True)
class Look:
    """How a cell looks: number format (applied to numbers and dates only, as `set_cell`
    does), font and fill (applied to every cell, empty ones included)."""

    number_format: str | None = None
    font: Font | None = None
    fill: PatternFill | None = None
    alignment: Alignment | None = None

    @cached_property
    def bold(self) -> bool:
        """Bold text is measured 10 % wider when columns are fitted."""
        return bool(self.font is not None and self.font.b)


# ---------------------------------------------------------------------------------------------
# Safe cells
# ---------------------------------------------------------------------------------------------

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_MONTH_LABEL = re.compile(r"^(\d{4})-(\d{2})$")


def clean_text(value: str) -> str:
    """Text without the control characters a workbook cannot hold."""
    return _CONTROL.sub("", value)


def set_cell(cell: Cell, value: Any, number_format: str | None = None) -> Cell:
    """Write a value; strings are stored as literal text, never as formulas."""
    if isinstance(value, str):
        text = clean_text(value)
        cell.value = text
        cell.data_type = "s"
        if text.startswith(_FORMULA_PREFIXES):
            cell.quotePrefix = True
    elif value is None or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        cell.value = None
    elif isinstance(value, pd.Timestamp):
        cell.value = value.to_pydatetime()
    elif hasattr(value, "item") and not isinstance(value, (dt.date, dt.datetime)):
        item = value.item()  # numpy scalars
        cell.value = None if isinstance(item, float) and math.isnan(item) else item
    else:
        cell.value = value
    if number_format and cell.value is not None and not isinstance(cell.value, (str, bool)):
        cell.number_format = number_format
    return cell


def put(ws: Worksheet, row: int, column: int, value: Any, number_format: str | None = None,
        font: Font | None = None) -> Cell:
    cell = set_cell(ws.cell(row=row, column=column), value, number_format)
    if font is not None:
        cell.font = font
    return cell


def month_date(value: Any) -> Any:
    """`YYYY-MM` → the first of that month as a date; anything else unchanged."""
    if isinstance(value, str):
        match = _MONTH_LABEL.match(value.strip())
        if match and 1 <= int(match.group(2)) <= 12:
            return dt.date(int(match.group(1)), int(match.group(2)), 1)
    return value


def number(value: Any) -> float | None:
    """A finite float, or None (for text, empty cells and NaN)."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return out if math.isfinite(out) else None


# ---------------------------------------------------------------------------------------------
# Headers and formats from column names
# ---------------------------------------------------------------------------------------------

_WORDS = {"it": "IT", "hpc": "HPC", "btc": "BTC", "npv": "NPV", "asic": "ASIC", "id": "ID",
          "ebitda": "EBITDA", "irr": "IRR", "mw": "MW", "usd": "USD", "kw": "kW",
          "ph": "PH", "ltc": "LTC", "pue": "PUE"}


@dataclass(frozen=True)
class ColumnStyle:
    header: str
    number_format: str | None = None
    scale: float = 1.0  # value × scale is written (percent → fraction)
    month: bool = False  # YYYY-MM labels become dates

    def value(self, value: Any) -> Any:
        if self.month:
            return month_date(value)
        if self.scale != 1.0 and number(value) is not None:
            return float(value) * self.scale
        return value


_SPECIAL = {
    "campus_id": ColumnStyle("Campus"),
    "offer_id": ColumnStyle("Offer"),
    "tenant": ColumnStyle("Tenant"),
    "month": ColumnStyle("Month", MONTH, month=True),
    "year": ColumnStyle("Year", "0"),
    "in_horizon": ColumnStyle("In horizon"),
    "hashrate_ph_s": ColumnStyle("Hashrate (PH/s)", INT),
    "blocks_started": ColumnStyle("Blocks started", "0"),
    "discount_factor": ColumnStyle("Discount factor", "0.0000"),
    "rate_usd_per_kw_month": ColumnStyle("Rate (USD/kW-month)", "#,##0.00"),
    "phase": ColumnStyle("Phase", "0"),
    "offer_it_mw": ColumnStyle("Offer IT MW", MW),
    "it_mw": ColumnStyle("IT MW", MW),
}


def words(name: str) -> str:
    text = " ".join(_WORDS.get(w, w) for w in name.split("_") if w)
    return text[:1].upper() + text[1:]


def column_style(name: str) -> ColumnStyle:
    """Header with unit and number format for a result column, from its name (a cash line's
    header is its label in the output contract)."""
    if name in _SPECIAL:
        return _SPECIAL[name]
    if name in LINE:
        return ColumnStyle(f"{LINE[name].label} (USD m)", USD_M)
    for suffix, unit, fmt, scale in (("_pct_per_year", "%/yr", PCT, 0.01),
                                     ("_pct", "%", PCT, 0.01),
                                     ("_usd", "USD m", USD_M, 1.0),
                                     ("_mw", "MW", MW, 1.0),
                                     ("_btc", "BTC", "#,##0.00", 1.0),
                                     ("_months", "months", "0", 1.0)):
        if name.endswith(suffix):
            return ColumnStyle(f"{words(name[: -len(suffix)])} ({unit})", fmt, scale)
    if name.endswith("_month"):
        return ColumnStyle(words(name), MONTH, month=True)
    return ColumnStyle(words(name))


# ---------------------------------------------------------------------------------------------
# Tables and layout
# ---------------------------------------------------------------------------------------------


def style_header(ws: Worksheet, row: int, first: int, last: int) -> None:
    for column in range(first, last + 1):
        cell = ws.cell(row=row, column=column)
        cell.font = HEADER_FONT
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)


def unique_headers(headers: list[str]) -> list[str]:
    """Table headers must be unique (case-insensitive) non-empty text."""
    seen: set[str] = set()
    out = []
    for header in headers:
        text = clean_text(str(header)).replace("\n", " ").strip() or "column"
        candidate, n = text, 2
        while candidate.lower() in seen:
            candidate, n = f"{text} ({n})", n + 1
        seen.add(candidate.lower())
        out.append(candidate)
    return out


def add_table(ws: Worksheet, name: str, top: int, left: int, bottom: int, right: int) -> Table:
    """A named Excel table over a written block (header row at `top`)."""
    ref = f"{get_column_letter(left)}{top}:{get_column_letter(right)}{max(bottom, top + 1)}"
    table = Table(displayName=name, ref=ref)
    table.tableStyleInfo = TableStyleInfo(name=TABLE_STYLE, showRowStripes=True)
    # columns named from the header here: left to openpyxl, saving reads the whole range
    # through `ws[ref]`, which makes a cell for every position of a large table
    table.tableColumns = [TableColumn(id=column, name=str(ws.cell(top, column).value))
                          for column in range(left, right + 1)]
    table.autoFilter = AutoFilter(ref=ref)
    ws.add_table(table)
    style_header(ws, top, left, right)  # viewers without table styles still see a header
    return table


def write_table(ws: Worksheet, frame: pd.DataFrame, name: str, top: int = 1, left: int = 1,
                styles: dict[str, ColumnStyle] | None = None,
                formats: dict[str, str] | None = None,
                bools: tuple[str, str] | None = ("yes", "no"),
                bulk: SheetRows | None = None) -> tuple[int, int]:
    """Write `frame` as a named table with its header at row `top`; return (first data row,
    last data row). Columns are styled by `styles` (default: `column_style` of the name);
    `formats` overrides number formats of raw columns (headers then stay the names).
    Booleans are written as the words `bools` (None: as Excel booleans). With `bulk` the
    data rows are kept there (written into the sheet's XML on save, see `xlsx_rows`)
    instead of as openpyxl cells: the same cells, at a fraction of the cost."""
    columns = list(frame.columns)
    if formats is not None:
        styles = {c: ColumnStyle(str(c), formats.get(c)) for c in columns}
    styles = styles or {c: column_style(str(c)) for c in columns}
    headers = unique_headers([styles[c].header for c in columns])
    for j, header in enumerate(headers):
        put(ws, top, left + j, header)
    shown = [_shown_values(frame[c], styles[c], bools) for c in columns]
    if bulk is not None:
        looks = [Look(styles[c].number_format) for c in columns]
        for i, row in enumerate(zip(*shown), start=top + 1):
            bulk.append(i, left, list(row), looks)
    else:
        for j, (column, values) in enumerate(zip(columns, shown)):
            fmt = styles[column].number_format
            for i, value in enumerate(values, start=top + 1):
                put(ws, i, left + j, value, fmt)
    bottom = top + len(frame)
    if columns:
        add_table(ws, name, top, left, bottom, left + len(columns) - 1)
    return top + 1, bottom


def _shown_values(values: pd.Series, style: ColumnStyle,
                  bools: tuple[str, str] | None) -> list[Any]:
    """A column's values as written: booleans as words, then the style's conversion."""
    out = []
    for value in values.tolist():
        if bools is not None and isinstance(value, (bool, np.bool_)):
            value = bools[0] if value else bools[1]
        out.append(style.value(value))
    return out


def key_values(ws: Worksheet, rows: list[tuple[str, Any, str | None]], top: int,
               left: int = 1, label_font: Font | None = BOLD) -> int:
    """Label | value rows (value formatted); returns the next free row."""
    for i, (label, value, fmt) in enumerate(rows):
        put(ws, top + i, left, label, font=label_font)
        put(ws, top + i, left + 1, value, fmt)
    return top + len(rows)


def _shown_length(value: Any, fmt: str) -> int:
    """Roughly how many characters Excel shows for a value in a format."""
    if value is None:
        return 0
    if isinstance(value, bool):
        return 5
    if isinstance(value, (dt.date, dt.datetime)):
        return 9 if fmt == MONTH else 12
    if isinstance(value, (int, float)):
        v = float(value)
        if ",," in fmt:
            return len(f"{abs(v) / 1e6:,.1f}") + 2
        if "%" in fmt:
            return len(f"{v * 100:.3f}") + 2
        if "," in fmt:
            decimals = len(fmt.split(".")[1].split(";")[0]) if "." in fmt else 0
            return len(f"{abs(v):,.{decimals}f}") + 2
        return len(f"{v:g}") + 1
    return max((len(line) for line in str(value).splitlines()), default=0)


def fit_widths(ws: Worksheet, minimum: float = 8, maximum: float = 60,
               skip_rows: set[int] | None = None, first_row: int = 1,
               bulk: SheetRows | None = None) -> None:
    """Column widths from the longest shown value (Excel has no autofit on open), of the
    cells openpyxl holds and of the rows kept in `bulk`."""
    widths: dict[int, int] = dict(bulk.longest()) if bulk is not None else {}
    looks = _Looks()
    for cell in _cells_from(ws, first_row):
        if cell.value is None or (skip_rows and cell.row in skip_rows):
            continue
        fmt, bold, _ = looks.of(cell)
        length = _shown_length(cell.value, fmt)
        if bold:
            length = int(length * 1.1) + 1
        widths[cell.column] = max(widths.get(cell.column, 0), length)
    for column, length in widths.items():
        ws.column_dimensions[get_column_letter(column)].width = \
            max(minimum, min(maximum, length + 2))


def fit_row_heights(ws: Worksheet, first_row: int = 1, line_points: float = 15.0) -> None:
    """Rows tall enough for their wrapped cells (viewers do not always re-measure them)."""
    lines: dict[int, int] = {}
    looks = _Looks()
    for cell in _cells_from(ws, first_row):
        if cell.value is None or not looks.of(cell)[2]:
            continue
        width = ws.column_dimensions[get_column_letter(cell.column)].width or 8.43
        per_line = max(1.0, width * 1.05 - 1)
        need = sum(max(1, math.ceil(len(part) / per_line))
                   for part in str(cell.value).split("\n"))
        lines[cell.row] = max(lines.get(cell.row, 1), need)
    for row, count in lines.items():
        if count > 1:
            ws.row_dimensions[row].height = line_points * count


def _cells_from(ws: Worksheet, first_row: int):
    """The cells written on a sheet from `first_row` on (no empty cells are created)."""
    return (cell for (row, _), cell in ws._cells.items() if row >= first_row)


class _Looks:
    """(number format, bold, wrapped) of a cell, read once per distinct cell style: reading
    openpyxl's style descriptors cell by cell is most of the cost of fitting a large sheet."""

    def __init__(self) -> None:
        self._seen: dict[tuple, tuple[str, bool, bool]] = {}

    def of(self, cell) -> tuple[str, bool, bool]:
        style = getattr(cell, "_style", None)
        key = tuple(style) if style is not None else None
        found = self._seen.get(key) if key is not None else None
        if found is None:
            font, alignment = cell.font, cell.alignment
            found = (cell.number_format, bool(font is not None and font.b),
                     bool(alignment is not None and alignment.wrap_text))
            if key is not None:
                self._seen[key] = found
        return found


def report_sheet(ws: Worksheet, title_rows: str | None = None, title_columns: str | None = None,
                 fit_to_width: bool = True) -> None:
    """Gridlines off; landscape pages, fitted to the page width, repeating header rows."""
    ws.sheet_view.showGridLines = False
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.page_margins.top = ws.page_margins.bottom = 0.5
    if fit_to_width:
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0
    if title_rows:
        ws.print_title_rows = title_rows
    if title_columns:
        ws.print_title_cols = title_columns
    ws.oddFooter.center.text = "&A — page &P of &N"
    ws.oddFooter.center.size = 8


# Characters of column width a landscape A4 page holds at a legible scale (about 70 %):
# a wider sheet prints over more pages across, its first column repeated, not shrunk to fit.
LEGIBLE_WIDTH_PER_PAGE = 200


def pages_across(ws: Worksheet) -> int:
    """Pages the sheet's columns (those given a width: the table's) need across at a
    legible scale."""
    total = sum(d.width or 0 for d in ws.column_dimensions.values())
    return max(1, math.ceil(total / LEGIBLE_WIDTH_PER_PAGE))


def fit_legibly(ws: Worksheet) -> None:
    """Fit to as many pages across as `pages_across` says, rows flowing down; with more than
    one, column A repeats on each page so every row stays named."""
    across = pages_across(ws)
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToWidth = across
    ws.page_setup.fitToHeight = 0
    if across > 1 and not ws.print_title_cols:
        ws.print_title_cols = "A:A"


def sheet_title(ws: Worksheet, title: str, subtitle: str | None = None) -> int:
    """Title (and subtitle) at the top of a report sheet; returns the next free row."""
    put(ws, 1, 1, title, font=TITLE_FONT)
    ws.row_dimensions[1].height = 24
    if subtitle:
        put(ws, 2, 1, subtitle, font=SUBTITLE_FONT)
        return 4
    return 3
