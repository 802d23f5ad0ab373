"""Large blocks of cells written straight into a sheet's XML when the workbook is saved.

openpyxl spends ~30 µs per cell (a `Cell` object, its style descriptors, then an XML element
serialised on save): on a synthetic L portfolio's 300k cells that was most of plan.xlsx's
time. `BulkBook` keeps the rows of the big data sheets as plain values with a style id each
and writes them as `<row>`/`<c>` XML into the sheet openpyxl saved (everything else on the
sheet — title, header, table, widths, print setup, charts — stays openpyxl's).

The cells are the ones `set_cell` would have made: text is always an inline string (never a
formula) with the quote prefix on `= + - @` tab and CR, control characters removed; numpy
scalars become Python numbers; NaN and None leave the cell empty; dates are Excel serials in
their format (openpyxl's default date format when none is given). Widths: `longest` gives
`fit_widths` the shown length of every column, measured by the same rules.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import re
import zipfile
from typing import Any
from xml.sax.saxutils import escape

from openpyxl import Workbook
from openpyxl.cell.cell import TIME_FORMATS, Cell
from openpyxl.utils import get_column_letter
from openpyxl.utils.cell import range_boundaries
from openpyxl.utils.datetime import to_excel
from openpyxl.worksheet.worksheet import Worksheet

from siteopt.export.xlsx_style import _FORMULA_PREFIXES, Look, _shown_length, clean_text

_MAX_TEXT = 32767  # Excel's limit; openpyxl truncates longer text the same way


class _Styles:
    """Excel style ids (cellXfs indices) of looks, registered in the workbook's own style
    list so that openpyxl writes them into styles.xml."""

    def __init__(self, ws: Worksheet) -> None:
        self._ws = ws
        self._ids: dict[tuple, str] = {}

    def attr(self, look: Look, kind: str) -> str:
        """` s="N"` for a look and value kind (number, text, quoted text, date, bool, empty),
        or "" for the default style (openpyxl writes no `s` then)."""
        key = (look, kind)
        found = self._ids.get(key)
        if found is None:
            found = self._ids[key] = self._register(look, kind)
        return found

    def _register(self, look: Look, kind: str) -> str:
        cell = Cell(self._ws)
        if kind in ("number", "date", "datetime") and look.number_format:
            cell.number_format = look.number_format
        elif kind in ("date", "datetime"):  # openpyxl's own format for a date without one
            cell.number_format = TIME_FORMATS[dt.datetime if kind == "datetime" else dt.date]
        if look.font is not None:
            cell.font = look.font
        if look.fill is not None:
            cell.fill = look.fill
        if look.alignment is not None:
            cell.alignment = look.alignment
        if kind == "quoted":
            cell.quotePrefix = True
        return f' s="{cell.style_id}"' if cell.has_style else ""


class _Widths:
    """The longest shown value per column, by the rules of `fit_widths` (bold counts 10 %
    more), kept as extremes so that each cell costs a comparison, not a formatting."""

    def __init__(self) -> None:
        self._numbers: dict[tuple[int, str, bool], list[float]] = {}
        self._general: dict[tuple[int, bool], set[float]] = {}
        self._other: dict[int, int] = {}

    def number(self, column: int, value: float, fmt: str | None, bold: bool) -> None:
        fmt = fmt or ""
        if not any(mark in fmt for mark in (",", "%")):
            self._general.setdefault((column, bold), set()).add(value)
            return
        extremes = self._numbers.get((column, fmt, bold))
        if extremes is None:
            self._numbers[(column, fmt, bold)] = [value, value]
        elif value < extremes[0]:
            extremes[0] = value
        elif value > extremes[1]:
            extremes[1] = value

    def other(self, column: int, length: int, bold: bool) -> None:
        if bold:
            length = int(length * 1.1) + 1
        if length > self._other.get(column, 0):
            self._other[column] = length

    def longest(self) -> dict[int, int]:
        """Column → longest shown length. Thousands-separated and percent formats grow with
        the magnitude on each side of zero, so the smallest and largest value decide."""
        out = dict(self._other)
        for (column, fmt, bold), extremes in self._numbers.items():
            for value in extremes:
                self._keep(out, column, _shown_length(value, fmt), bold)
        for (column, bold), values in self._general.items():
            for value in values:
                self._keep(out, column, _shown_length(value, ""), bold)
        return out

    @staticmethod
    def _keep(out: dict[int, int], column: int, length: int, bold: bool) -> None:
        if bold:
            length = int(length * 1.1) + 1
        out[column] = max(out.get(column, 0), length)


class SheetRows:
    """Rows of one sheet kept as XML text until the workbook is saved."""

    def __init__(self, ws: Worksheet) -> None:
        self.ws = ws
        self._styles = _Styles(ws)
        self._widths = _Widths()
        self._xml: list[str] = []
        self._letters: list[str] = [""]
        self.first_row: int | None = None
        self.last_row = 0
        self.last_column = 0

    def append(self, row: int, left: int, values: list[Any], looks: list[Look]) -> None:
        """Cells `values[j]` at (`row`, `left + j`) looking like `looks[j]`; rows come in
        increasing order, below every cell openpyxl holds on the sheet."""
        if row <= self.last_row:
            raise ValueError(f"row {row} written after row {self.last_row}")
        right = left + len(values) - 1
        while len(self._letters) <= right:
            self._letters.append(get_column_letter(len(self._letters)))
        parts = [f'<row r="{row}">']
        letters, styles, widths = self._letters, self._styles, self._widths
        for column, value, look in zip(range(left, right + 1), values, looks):
            ref = f"{letters[column]}{row}"
            if type(value) is float and math.isfinite(value):  # most cells: the short way
                widths.number(column, value, look.number_format, look.bold)
                parts.append(f'<c r="{ref}"{styles.attr(look, "number")} t="n">'
                             f"<v>{value:.16g}</v></c>")
            else:
                parts.append(self._cell(ref, column, value, look))
        parts.append("</row>")
        self._xml.append("".join(parts))
        self.first_row = row if self.first_row is None else self.first_row
        self.last_row = row
        self.last_column = max(self.last_column, right)

    def longest(self) -> dict[int, int]:
        return self._widths.longest()

    def xml(self) -> str:
        return "".join(self._xml)

    def _cell(self, ref: str, column: int, value: Any, look: Look) -> str:
        value = _plain(value)
        bold = look.bold
        if value is None:
            style = self._styles.attr(look, "empty")
            return f'<c r="{ref}"{style}/>' if style else ""
        if isinstance(value, str):
            text = clean_text(value)[:_MAX_TEXT]
            if not text:  # openpyxl writes an empty text cell without a value
                self._widths.other(column, 0, bold)
                return f'<c r="{ref}"{self._styles.attr(look, "text")} t="inlineStr"/>'
            kind = "quoted" if text.startswith(_FORMULA_PREFIXES) else "text"
            self._widths.other(column, _shown_length(text, ""), bold)
            space = ' xml:space="preserve"' if text.strip() and text != text.strip() else ""
            return (f'<c r="{ref}"{self._styles.attr(look, kind)} t="inlineStr"><is>'
                    f"<t{space}>{escape(text)}</t></is></c>")
        if isinstance(value, bool):
            self._widths.other(column, 5, bold)
            return f'<c r="{ref}"{self._styles.attr(look, "bool")} t="b"><v>{value:d}</v></c>'
        if isinstance(value, (dt.date, dt.datetime)):
            kind = "datetime" if isinstance(value, dt.datetime) else "date"
            self._widths.other(column, _shown_length(value, look.number_format or ""), bold)
            serial = to_excel(value, self.ws.parent.epoch)
            return f'<c r="{ref}"{self._styles.attr(look, kind)} t="n"><v>{serial:.16g}</v></c>'
        if isinstance(value, (int, float)):
            finite = math.isfinite(value)
            if finite:
                self._widths.number(column, value, look.number_format, bold)
            else:
                self._widths.other(column, _shown_length(value, look.number_format or ""), bold)
            shown = f"{value:.16g}" if finite else ""
            return f'<c r="{ref}"{self._styles.attr(look, "number")} t="n"><v>{shown}</v></c>'
        raise ValueError(f"cannot write {type(value).__name__} {value!r} to {ref}")


def _plain(value: Any) -> Any:
    """Python value of a cell as `set_cell` stores it (None for NaN)."""
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        return None if math.isnan(value) else value
    if isinstance(value, dt.datetime) and hasattr(value, "to_pydatetime"):
        return None if value != value else value.to_pydatetime()  # pd.NaT is not equal to itself
    if hasattr(value, "item") and not isinstance(value, (dt.date, dt.datetime)):
        return _plain(value.item())  # numpy scalars
    return value


class BulkBook:
    """An openpyxl workbook plus rows written into its sheets' XML on `save`. Reads like the
    workbook (`book["Summary"]`, `book.sheetnames`) for everything openpyxl holds."""

    def __init__(self, wb: Workbook) -> None:
        self.wb = wb
        self._rows: dict[str, SheetRows] = {}

    def rows(self, ws: Worksheet) -> SheetRows:
        if ws.title not in self._rows:
            self._rows[ws.title] = SheetRows(ws)
        return self._rows[ws.title]

    def __getitem__(self, title: str) -> Worksheet:
        return self.wb[title]

    @property
    def sheetnames(self) -> list[str]:
        return self.wb.sheetnames

    @property
    def worksheets(self) -> list[Worksheet]:
        return self.wb.worksheets

    @property
    def properties(self) -> Any:
        return self.wb.properties

    def save(self, path: Any) -> None:
        """openpyxl saves the workbook; the kept rows then go into their sheets' XML."""
        for rows in self._rows.values():
            _check_below(rows)
        buffer = io.BytesIO()
        self.wb.save(buffer)
        parts = {rows.ws.path.lstrip("/"): rows for rows in self._rows.values()
                 if rows.first_row is not None}
        with zipfile.ZipFile(buffer) as source, \
                zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
            for info in source.infolist():
                data = source.read(info)
                if info.filename in parts:
                    data = _with_rows(data.decode("utf-8"), parts[info.filename]).encode()
                target.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED)


def _check_below(rows: SheetRows) -> None:
    """Kept rows go after openpyxl's: none of its cells may sit on or below them."""
    if rows.first_row is None or not rows.ws._cells:
        return
    held = max(row for row, _ in rows.ws._cells)
    if held >= rows.first_row:
        raise ValueError(f"{rows.ws.title}: openpyxl holds row {held}, kept rows start at "
                         f"{rows.first_row}")


_DIMENSION = re.compile(r'<dimension ref="([^"]*)"\s*/>')
_SHEET_DATA_END = re.compile(r"</sheetData>|<sheetData\s*/>")


def _with_rows(xml: str, rows: SheetRows) -> str:
    """The sheet XML with the kept rows at the end of sheetData and the used range grown."""
    found = _DIMENSION.search(xml)
    if found:
        min_col, min_row, max_col, _ = range_boundaries(_as_range(found.group(1)))
        ref = (f"{get_column_letter(min_col)}{min_row}:"
               f"{get_column_letter(max(max_col, rows.last_column))}{rows.last_row}")
        xml = f'{xml[:found.start()]}<dimension ref="{ref}" />{xml[found.end():]}'
    end = _SHEET_DATA_END.search(xml)
    if end is None:
        raise ValueError(f"{rows.ws.title}: no sheetData in the saved sheet")
    opening = "" if end.group(0) == "</sheetData>" else "<sheetData>"
    return f"{xml[:end.start()]}{opening}{rows.xml()}</sheetData>{xml[end.end():]}"


def _as_range(ref: str) -> str:
    """`A1` → `A1:A1` (a sheet of one cell has a one-cell dimension)."""
    return ref if ":" in ref else f"{ref}:{ref}"
