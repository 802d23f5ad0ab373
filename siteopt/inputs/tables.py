"""Portfolio tables from a folder of CSV files or one .xlsx workbook, parsed by the schema.

Every cell is parsed against its column's kind and range; every problem is collected with
its location and the row's id (`campuses.csv row 4 (campus TX-ROCK), hpc_pue` or
`portfolio.xlsx campuses!J4 (campus TX-ROCK), hpc_pue`) and raised once. Row numbers are what
a spreadsheet shows: the header is row 1. Messages quote cells only as short, escaped excerpts.
"""

from __future__ import annotations

import csv
import datetime as dt
import difflib
import io
import re
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pandas as pd

from siteopt.inputs.errors import InputError, Problem, Problems, excerpt
from siteopt.inputs.months import label, parse_input_month
from siteopt.inputs.schema import MAX_ID_CHARS, Column, Table

MAX_CSV_BYTES = 50_000_000
MAX_XLSX_BYTES = 50_000_000
MAX_XLSX_UNZIPPED_BYTES = 200_000_000
MAX_XLSX_ENTRIES = 2_000
MAX_ROWS = 100_000
MAX_XLSX_CELLS = 5_000_000  # a row with one cell in column XFD is 16,384 cells wide
_ID = re.compile(rf"[A-Za-z0-9_.\-]{{1,{MAX_ID_CHARS}}}")
_TRUE = {"true", "yes", "1", "y", "t"}
_FALSE = {"false", "no", "0", "n", "f"}


@dataclass(frozen=True)
class RawRow:
    """Cells of one data row keyed by column name, with a way to name each cell's location."""

    row: int
    cells: dict[str, Any]
    formats: dict[str, str]
    letters: dict[str, str]


class _Reported:
    """A cell whose problem the reader has already reported (a formula without a saved
    value, a merged cell): it reads as empty and gets no second message."""

    def __repr__(self) -> str:
        return "<reported>"


REPORTED = _Reported()


@dataclass(frozen=True)
class RawTable:
    source: str  # 'campuses.csv' or 'portfolio.xlsx campuses'
    header: list[str]
    rows: list[RawRow]
    excel: bool
    row_label: tuple[tuple[str, str], ...] = ()  # (key column, noun): 'row 2 (offer A1)'
    problems: tuple[Problem, ...] = ()  # found while reading, reported with the cell problems

    def where(self, row: RawRow | None, column: str | None = None) -> str:
        if row is None:
            return self.source if column is None else \
                f"{self.source}, column {excerpt(column)}"
        # a problem with the key cell itself quotes the key in its message
        name = "" if column in dict(self.row_label) else self.row_name(row)
        named = f" ({name})" if name else ""
        if self.excel:
            cell = f"!{row.letters.get(column, '')}{row.row}" if column else f" row {row.row}"
            return f"{self.source}{cell}{named}" + (f", {column}" if column else "")
        return f"{self.source} row {row.row}{named}" + (f", {column}" if column else "")

    def row_name(self, row: RawRow) -> str:
        """'offer A1', 'offer O2 phase 1': the row's key as read, when it reads as an id."""
        parts = []
        for column, noun in self.row_label:
            text = _text(row.cells.get(column)) if not _empty(row.cells.get(column)) else ""
            if _ID.fullmatch(text):
                parts.append(f"{noun} {text}")
        return " ".join(parts)


# ---------------------------------------------------------------------------------------------
# Reading raw cells
# ---------------------------------------------------------------------------------------------


def read_csv_table(path: Path, row_label: tuple[tuple[str, str], ...] = ()) -> RawTable:
    source = path.name
    try:
        with path.open("rb") as f:  # at most one byte more than allowed, whatever stat says
            data = f.read(MAX_CSV_BYTES + 1)
    except OSError as exc:
        raise InputError([Problem(source, f"cannot be read ({exc.strerror or exc})")]) from None
    if len(data) > MAX_CSV_BYTES:
        raise InputError([Problem(source, f"file is larger than {MAX_CSV_BYTES:,} bytes")])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError([Problem(
            f"{source} row {line}",
            f"not UTF-8 text (byte 0x{data[exc.start]:02x}); save the file as CSV UTF-8")]
        ) from None
    # strict: a quote left open would otherwise swallow the rest of the file into one cell
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    start = 1  # first line of the record being read, where a problem with it is shown
    try:
        header = [h.strip() for h in next(reader, [])]
        rows = []
        start = reader.line_num + 1
        for cells in reader:
            if any(c.strip() for c in cells):
                if len(rows) >= MAX_ROWS:
                    raise InputError([Problem(source, f"more than {MAX_ROWS:,} rows")])
                rows.append(RawRow(reader.line_num, _by_header(header, cells), {}, {}))
            start = reader.line_num + 1
    except csv.Error as exc:
        hint = " (a quoted value is never closed)" if "end of data" in str(exc) else ""
        raise InputError([Problem(f"{source} row {start}",
                                  f"not valid CSV: {str(exc)[:200]}{hint}")]) from None
    return RawTable(source, header, rows, excel=False, row_label=row_label)


def _by_header(header: list[str], cells: list[Any]) -> dict[str, Any]:
    values = dict(zip(header, cells))
    values.pop("", None)
    for index, cell in enumerate(cells):
        # a value under an empty header cell (or past the header) would otherwise be dropped
        if (index >= len(header) or not header[index]) and not _empty(cell):
            values[f"(column {index + 1})"] = cell
    return values


def check_xlsx_container(path: Path) -> None:
    """Refuse files that are not xlsx zips, or that would unzip to something huge."""
    where = path.name
    if path.stat().st_size > MAX_XLSX_BYTES:
        raise InputError([Problem(where, f"file is larger than {MAX_XLSX_BYTES:,} bytes")])
    if not zipfile.is_zipfile(path):
        raise InputError([Problem(where, "not an .xlsx workbook (an .xls or a renamed CSV?); "
                                         "save it as Excel Workbook (.xlsx)")])
    with zipfile.ZipFile(path) as zf:
        infos = zf.infolist()
    if len(infos) > MAX_XLSX_ENTRIES:
        raise InputError([Problem(where, f"workbook has {len(infos):,} parts; "
                                         f"at most {MAX_XLSX_ENTRIES:,} are read")])
    unzipped = sum(i.file_size for i in infos)
    if unzipped > MAX_XLSX_UNZIPPED_BYTES:
        raise InputError([Problem(where, f"workbook unzips to {unzipped:,} bytes; at most "
                                         f"{MAX_XLSX_UNZIPPED_BYTES:,} are read (zip bomb?)")])
    if any(i.filename.lower().endswith("vbaproject.bin") for i in infos):
        raise InputError([Problem(where, "workbook contains macros; save it as a macro-free "
                                         ".xlsx workbook")])


def read_xlsx_tables(path: Path, names: list[str],
                     row_labels: dict[str, tuple[tuple[str, str], ...]] | None = None
                     ) -> dict[str, RawTable]:
    """Sheets named like the tables; a missing sheet is simply absent from the result."""
    import openpyxl

    check_xlsx_container(path)
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True, keep_vba=False,
                                    keep_links=False)
    except Exception as exc:  # openpyxl, zipfile, zlib and defusedxml errors alike
        raise InputError([Problem(path.name, _unreadable(exc))]) from None
    tables: dict[str, RawTable] = {}
    try:
        for name in names:
            if name not in wb.sheetnames:
                continue
            where = f"{path.name} {name}"
            try:
                ws = wb[name]
                table = _read_sheet(ws, where, (row_labels or {}).get(name, ()))
                tables[name] = _with_hidden_cells(table, _scan_sheet(ws))
            except InputError:
                raise
            except Exception as exc:  # sheets are parsed lazily: a damaged one fails here
                raise InputError([Problem(where, _unreadable(exc))]) from None
    finally:
        wb.close()
    return tables


def _read_sheet(ws: Any, where: str, row_label: tuple[tuple[str, str], ...] = ()) -> RawTable:
    from openpyxl.utils import get_column_letter

    # The <dimension> a sheet declares can lie: a tiny file declaring A1:XFD1048576 would
    # otherwise be padded to 17 billion empty cells. Read the cells that are there instead.
    ws.reset_dimensions()
    header: list[str] = []
    letters: dict[str, str] = {}
    rows: list[RawRow] = []
    cells = 0
    for r, row in enumerate(ws.iter_rows(), start=1):
        if r > MAX_ROWS + 1:  # empty rows count too: they cost time all the same
            raise InputError([Problem(where, f"more than {MAX_ROWS:,} rows (something is "
                                             f"written below row {MAX_ROWS + 1:,})")])
        cells += len(row)
        if cells > MAX_XLSX_CELLS:
            raise InputError([Problem(where, f"more than {MAX_XLSX_CELLS:,} cells up to row "
                                             f"{r:,}; is something written far to the right?")])
        if r == 1:
            header = ["" if c.value is None else str(c.value).strip() for c in row]
            letters = {h: get_column_letter(i + 1) for i, h in enumerate(header)}
            continue
        values = [c.value for c in row]
        if all(v is None or (isinstance(v, str) and not v.strip()) for v in values):
            continue
        formats = {h: getattr(c, "number_format", "") or "" for h, c in zip(header, row)}
        rows.append(RawRow(r, _by_header(header, values), formats, letters))
    return RawTable(where, header, rows, excel=True, row_label=row_label)


@dataclass(frozen=True)
class _SheetScan:
    formulas: dict[tuple[int, int], str]  # (row, column) → formula text, no value saved
    merged: list[str]  # ranges such as 'C2:C4'


def _scan_sheet(ws: Any) -> _SheetScan:
    """What openpyxl's read-only mode hides: merged ranges (their cells read as empty) and
    formulas without a saved value (they read as empty when only values are loaded). One
    more pass over the sheet's XML, which has already passed the size and shape guards."""
    from defusedxml.ElementTree import iterparse
    from openpyxl.utils.cell import coordinate_to_tuple

    formulas: dict[tuple[int, int], str] = {}
    merged: list[str] = []
    row = column = 0
    # ReadOnlyWorksheet keeps the sheet's part; there is no public way to reach its XML.
    with ws._get_source() as source:
        for event, element in iterparse(source, events=("start", "end")):
            tag = element.tag.rsplit("}", 1)[-1]
            if event == "start":
                if tag == "row":  # rows and cells may leave out their position (r)
                    row, column = int(element.get("r") or row + 1), 0
                continue
            if tag == "c":
                where = element.get("r")
                row, column = coordinate_to_tuple(where) if where else (row, column + 1)
                formula = value = None
                for child in element:
                    part = child.tag.rsplit("}", 1)[-1]
                    if part == "f":
                        formula = child.text or ""
                    elif part == "v":
                        value = child.text
                # a text result may be empty (t="str"); an empty number was never calculated
                calculated = bool(value) or element.get("t") in ("str", "inlineStr")
                if formula is not None and not calculated:
                    formulas[row, column] = formula
                element.clear()
            elif tag == "row":
                element.clear()
            elif tag == "mergeCell" and element.get("ref"):
                merged.append(element.get("ref"))
    return _SheetScan(formulas, merged)


MAX_HIDDEN_REPORTED = 50  # merged ranges or formulas listed one by one; the rest counted


def _with_hidden_cells(table: RawTable, scan: _SheetScan) -> RawTable:
    """The table with formula cells without a value and merged cells reported (located like
    any cell, with the row's id) and blanked, so they never silently take a default."""
    import bisect

    from openpyxl.utils import get_column_letter
    from openpyxl.utils.cell import range_boundaries

    if not scan.formulas and not scan.merged:
        return table
    by_row = {row.row: row for row in table.rows}
    numbers = sorted(by_row)
    names = dict(enumerate(table.header, start=1))
    problems: list[Problem] = []
    hidden: dict[int, set[str]] = {}

    def where(r: int, c: int | None, ref: str) -> str:
        row, column = by_row.get(r), names.get(c) if c else None
        if row is not None and column:
            return table.where(row, column)
        name = table.row_name(row) if row is not None else ""
        return f"{table.source}!{ref}" + (f" ({name})" if name else "") + \
            (f", {column}" if column else "")

    for ref in scan.merged[:MAX_HIDDEN_REPORTED]:
        c1, r1, c2, r2 = range_boundaries(ref)
        problems.append(Problem(where(r1, c1 if c1 == c2 else None, ref),
                                f"merged cells {ref}; unmerge them and fill in each cell (a "
                                f"merged range keeps its value in its first cell only)"))
        covered = {n for c, n in names.items() if c1 <= c <= c2 and n}
        for r in numbers[bisect.bisect_left(numbers, r1):bisect.bisect_right(numbers, r2)]:
            hidden.setdefault(r, set()).update(covered)
    for n, ((r, c), formula) in enumerate(sorted(scan.formulas.items())):
        if n < MAX_HIDDEN_REPORTED:
            problems.append(Problem(where(r, c, f"{get_column_letter(c)}{r}"),
                                    f"formula {excerpt('=' + formula, 40)} has no saved value; "
                                    f"recalculate and save in Excel"))
        if names.get(c):
            hidden.setdefault(r, set()).add(names[c])
    for found, what in ((scan.merged, "merged ranges"),
                        (scan.formulas, "formulas without a saved value")):
        if len(found) > MAX_HIDDEN_REPORTED:
            problems.append(Problem(table.source, f"{len(found) - MAX_HIDDEN_REPORTED:,} more "
                                                  f"{what}"))
    rows = [RawRow(row.row, {**row.cells, **dict.fromkeys(hidden.get(row.row, ()), REPORTED)},
                   row.formats, row.letters) for row in table.rows]
    return RawTable(table.source, table.header, rows, table.excel, table.row_label,
                    (*table.problems, *problems))


def _unreadable(exc: BaseException) -> str:
    """What a user can do with an error openpyxl raised: one line, without its advice to
    'see the exception'."""
    from defusedxml import DefusedXmlException

    chain = [exc]
    while chain[-1].__cause__ or chain[-1].__context__:
        chain.append(chain[-1].__cause__ or chain[-1].__context__)
    if any(isinstance(e, DefusedXmlException) for e in chain):
        return "refused: its XML declares entities or a DTD (an XML bomb?); save it again " \
               "from Excel as .xlsx"
    if any(isinstance(e, (zipfile.BadZipFile, zlib.error, EOFError)) for e in chain):
        return "the file is damaged (it does not unzip); save it again from Excel as .xlsx"
    bad_xml = next((e for e in chain if isinstance(e, ElementTree.ParseError)), None)
    if bad_xml is not None:
        return f"the file is damaged (not valid XML: {bad_xml}); save it again from Excel " \
               f"as .xlsx"
    first = (str(exc).splitlines() or [""])[0].strip().rstrip(".") or type(exc).__name__
    return f"cannot be read as an .xlsx workbook ({first[:120]})"


# ---------------------------------------------------------------------------------------------
# Parsing cells by kind
# ---------------------------------------------------------------------------------------------


def _show(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()[:10]
    return excerpt(value)


def _empty(value: Any) -> bool:
    if value is None or value is REPORTED:
        return True
    return isinstance(value, str) and not value.strip()


def parse_cell(column: Column, value: Any, fmt: str = "") -> Any:
    """Parse one cell; raises ValueError with the message a user sees."""
    kind = column.kind
    if kind in ("float", "int"):
        return column.rule.parse(value, fmt)
    if kind == "month":
        return label(parse_input_month(value))
    if kind == "bool":
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if isinstance(value, (int, float)) and value in (0, 1):
            return bool(value)
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise ValueError(f"expected true or false (got {_show(value)})")
    if kind == "id":
        text = _text(value)
        if not _ID.fullmatch(text):
            raise ValueError(f"expected an id of letters, digits, '-', '_' or '.' (at most "
                             f"{MAX_ID_CHARS} characters; got {_show(text)})")
        return text
    if kind == "id_list":
        return _id_list(_text(value))
    return _text(value)


def _id_list(text: str) -> tuple[str, ...]:
    if text == "*":
        return ("*",)
    ids = tuple(part.strip() for part in text.split(";") if part.strip())
    if "*" in ids:
        raise ValueError(f"'*' (every campus) stands alone (got {_show(text)})")
    if not ids or any(not _ID.fullmatch(i) for i in ids):
        raise ValueError(f"expected ids separated by ';' or '*' (got {_show(text)})")
    twice = sorted({i for i in ids if ids.count(i) > 1})
    if twice:  # listed twice, a campus would count twice wherever capacity is summed
        raise ValueError(f"{', '.join(map(repr, twice))} listed more than once (got "
                         f"{_show(text)}); list each id once")
    return ids


def _text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def parse_table(table: Table, raw: RawTable, problems: Problems) -> pd.DataFrame:
    """Typed DataFrame of a table (one column per schema column, `row` = spreadsheet row)."""
    _check_header(table, raw, problems)
    for problem in raw.problems:
        problems.add(problem.where, problem.message)
    header = set(raw.header)
    records = [_parse_row(table, raw, row, header, problems) for row in raw.rows]
    frame = pd.DataFrame({"row": pd.Series([r["row"] for r in records], dtype="int64")})
    for col in table.columns:
        values = [r[col.name] for r in records]
        # object dtype keeps None as None (pandas 3 would turn text columns into str with NaN)
        numeric = col.kind == "float" or (col.kind == "int" and None not in values)
        dtype = {"float": "float64", "int": "int64"}.get(col.kind) if numeric else object
        frame[col.name] = pd.Series(values, dtype=dtype)
    _check_unique(table, raw, frame, problems)
    return frame


def _check_header(table: Table, raw: RawTable, problems: Problems) -> None:
    """Columns named twice, unknown columns (with the nearest name) and missing ones."""
    known = set(table.column_names)
    for name in sorted({h for h in raw.header if h and raw.header.count(h) > 1}):
        problems.add(raw.where(None, name), "appears more than once in the header")
    for name in raw.header:
        if name and name not in known:
            close = difflib.get_close_matches(name[:100], table.column_names, n=1)
            hint = f"did you mean '{close[0]}'? " if close else ""
            problems.add(raw.where(None, name),
                         f"unknown column ({hint}expected: {', '.join(table.column_names)})")
    header = set(raw.header)
    for col in table.columns:
        if col.required and col.name not in header:
            problems.add(raw.source, f"missing required column {col.name!r}")


def _parse_row(table: Table, raw: RawTable, row: RawRow, header: set[str],
               problems: Problems) -> dict[str, Any]:
    """One row's cells parsed by their columns; a cell that fails takes the default (its
    problem is recorded)."""
    record: dict[str, Any] = {"row": row.row}
    for extra in row.cells:
        if extra.startswith("(column"):
            problems.add(raw.where(row), f"value in {extra[1:-1]}, which has no header")
    for col in table.columns:
        value = row.cells.get(col.name)
        if _empty(value):
            if col.required and col.name in header and value is not REPORTED:
                problems.add(raw.where(row, col.name), "required value is missing")
            record[col.name] = col.default
            continue
        try:
            record[col.name] = parse_cell(col, value, row.formats.get(col.name, ""))
        except ValueError as exc:
            problems.add(raw.where(row, col.name), str(exc))
            record[col.name] = col.default
    return record


def _check_unique(table: Table, raw: RawTable, frame: pd.DataFrame, problems: Problems) -> None:
    first: dict[Any, int] = {}
    columns = list(table.key_columns)
    for row, key in zip(raw.rows, frame[columns].itertuples(index=False, name=None)):
        if any(k is None for k in key):
            continue
        shown = key[0] if len(key) == 1 else key
        if key in first:
            label = "id" if len(key) == 1 else " + ".join(columns)
            problems.add(raw.where(row, columns[-1]),
                         f"duplicate {label} {excerpt(shown)} (first on row {first[key]})")
        else:
            first[key] = row.row

