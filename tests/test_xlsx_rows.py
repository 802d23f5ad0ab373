"""Rows written straight into a sheet's XML (`siteopt.export.xlsx_rows`) read back exactly as
the openpyxl cells `set_cell` makes: values, types, formats, fonts, fills, the quote prefix
on text that looks like a formula, and the column widths `fit_widths` gives them."""

from __future__ import annotations

import datetime as dt

import numpy as np
import openpyxl
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from siteopt.export.xlsx_rows import BulkBook
from siteopt.export.xlsx_style import (
    BAND_FILL,
    BOLD,
    MONTH,
    MW,
    PCT,
    USD_M,
    Look,
    fit_widths,
    put,
    write_table,
)

LOOKS = [Look(), Look(USD_M), Look(MW, font=BOLD), Look(PCT), Look(MONTH),
         Look(fill=BAND_FILL), Look("0.00", font=BOLD, fill=BAND_FILL), Look("0")]
VALUES = [1.5, -2_345_678.25, 0.0, float("nan"), np.float64(3.25), np.int64(7), 12, True,
          np.bool_(False), None, "plain", '=HYPERLINK("http://x","y")', "+1", "-2", "@SUM(A1)",
          "\ttab", "a\x01b\x1fc", "  padded ", "", "a & <b>", "two\nlines",
          dt.date(2027, 3, 1), dt.datetime(2027, 3, 1, 12, 30), pd.Timestamp("2030-01-01"),
          pd.NaT, np.nan, 1e-7, 123456789012.0]


def _look(cell) -> tuple:
    return (cell.value, cell.data_type, cell.number_format, repr(cell.font), repr(cell.fill),
            repr(cell.alignment), cell.quotePrefix)


def _both(tmp_path, rows: list[list], looks: list[list[Look]], top: int = 3):
    """The same rows as openpyxl cells and as kept rows, saved and read back."""
    reference, fast = Workbook(), BulkBook(Workbook())
    for wb in (reference, fast.wb):
        put(wb.active, 1, 1, "Title", font=BOLD)
    kept = fast.rows(fast.wb.active)
    for i, (values, row_looks) in enumerate(zip(rows, looks), start=top):
        kept.append(i, 1, values, row_looks)
        for j, (value, look) in enumerate(zip(values, row_looks), start=1):
            cell = put(reference.active, i, j, value, look.number_format, font=look.font)
            if look.fill is not None:
                cell.fill = look.fill
    fit_widths(reference.active)
    fit_widths(fast.wb.active, bulk=kept)
    reference.save(tmp_path / "reference.xlsx")
    fast.save(tmp_path / "fast.xlsx")
    return (openpyxl.load_workbook(tmp_path / "reference.xlsx").active,
            openpyxl.load_workbook(tmp_path / "fast.xlsx").active)


def _same_sheets(a, b) -> None:
    cells_a = {k: _look(c) for k, c in a._cells.items() if c.value is not None or c.has_style}
    cells_b = {k: _look(c) for k, c in b._cells.items() if c.value is not None or c.has_style}
    assert cells_a == cells_b
    assert a.dimensions == b.dimensions
    assert {k: d.width for k, d in a.column_dimensions.items()} == \
        {k: d.width for k, d in b.column_dimensions.items()}


def test_every_kind_of_value_reads_back_as_set_cell_writes_it(tmp_path):
    rows = [VALUES[i:] + VALUES[:i] for i in range(len(LOOKS))]
    looks = [[LOOKS[(i + j) % len(LOOKS)] for j in range(len(VALUES))] for i in range(len(rows))]
    reference, fast = _both(tmp_path, rows, looks)
    _same_sheets(reference, fast)
    texts = [c for row in fast.iter_rows() for c in row if c.value in ("+1", "-2", "@SUM(A1)")]
    assert texts and all(c.data_type == "s" and c.quotePrefix for c in texts)
    assert not any(c.data_type == "f" for row in fast.iter_rows() for c in row)


def test_a_table_of_kept_rows_is_the_table_of_cells(tmp_path):
    frame = pd.DataFrame({"campus_id": ["C1", "-2", "=1+1"], "month": ["2027-01", "2027-02", ""],
                          "it_mw": [1.5, np.nan, 300.0], "capex_usd": [1e6, -2.5e7, 0.0],
                          "in_horizon": [True, False, True], "escalator_pct": [3.0, 2.5, None]})
    reference, fast = Workbook(), BulkBook(Workbook())
    write_table(reference.active, frame, "tblX", top=4)
    kept = fast.rows(fast.wb.active)
    write_table(fast.wb.active, frame, "tblX", top=4, bulk=kept)
    fit_widths(reference.active, skip_rows={4})
    fit_widths(fast.wb.active, skip_rows={4}, bulk=kept)
    reference.save(tmp_path / "reference.xlsx")
    fast.save(tmp_path / "fast.xlsx")
    a = openpyxl.load_workbook(tmp_path / "reference.xlsx").active
    b = openpyxl.load_workbook(tmp_path / "fast.xlsx").active
    _same_sheets(a, b)
    assert [c.name for c in b.tables["tblX"].tableColumns] == \
        [c.name for c in a.tables["tblX"].tableColumns]
    assert b.tables["tblX"].ref == a.tables["tblX"].ref == "A4:F7"


def test_kept_rows_go_below_the_cells_openpyxl_holds(tmp_path):
    book = BulkBook(Workbook())
    ws = book.wb.active
    put(ws, 5, 1, "held")
    book.rows(ws).append(5, 2, [1.0], [Look()])
    with pytest.raises(ValueError, match="openpyxl holds row 5"):
        book.save(tmp_path / "x.xlsx")
    with pytest.raises(ValueError, match="written after row 5"):
        book.rows(ws).append(4, 1, [1.0], [Look()])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(min_value=-1e12, max_value=1e12, allow_nan=False), min_size=1,
                max_size=12),
       st.sampled_from([USD_M, MW, PCT, "0", "0.00", "#,##0", "0.0##%", None]),
       st.booleans())
def test_widths_from_extremes_match_measuring_every_cell(values, fmt, bold):
    """Thousands-separated and percent formats are measured on the two extremes only; the
    width must be the one of measuring every cell."""
    reference, fast = Workbook(), BulkBook(Workbook())
    kept = fast.rows(fast.wb.active)
    look = Look(fmt, font=BOLD if bold else None)
    for i, value in enumerate(values, start=1):
        put(reference.active, i, 1, value, fmt, font=look.font)
        kept.append(i, 1, [value], [look])
    fit_widths(reference.active, minimum=0, maximum=1000)
    fit_widths(fast.wb.active, minimum=0, maximum=1000, bulk=kept)
    assert fast.wb.active.column_dimensions["A"].width == \
        reference.active.column_dimensions["A"].width
