"""sweep.xlsx: a tornado of NPV per varied input (one at a time), or the grid table."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference

from siteopt.export.files import write_atomic
from siteopt.export.xlsx_style import (
    fit_widths,
    report_sheet,
    sheet_title,
    write_table,
)


def write_sweep_workbook(target: Path, scenario: str, tornado: pd.DataFrame | None,
                         grid: pd.DataFrame, batch: pd.DataFrame) -> None:
    wb = Workbook()
    ws = wb.active
    ws.title = "Sweep"
    top = sheet_title(ws, f"Sensitivity of NPV — {scenario}",
                      "One input varied at a time around the base" if tornado is not None
                      else "Every combination of the varied inputs")
    if tornado is not None:
        frame = tornado.assign(
            low_delta_usd=tornado["low_npv_usd"] - tornado["base_npv_usd"],
            high_delta_usd=tornado["high_npv_usd"] - tornado["base_npv_usd"])
        first, last = write_table(ws, frame, "tblTornado", top=top + 1)
        if len(frame):
            chart = BarChart()
            chart.type = "bar"
            chart.grouping = "clustered"
            chart.overlap = 100
            chart.title = "NPV change against the base (USD m)"
            columns = list(frame.columns)
            for name in ("low_delta_usd", "high_delta_usd"):
                col = columns.index(name) + 1
                chart.add_data(Reference(ws, min_col=col, min_row=first - 1, max_row=last),
                               titles_from_data=True)
            chart.set_categories(Reference(ws, min_col=1, min_row=first, max_row=last))
            chart.x_axis.delete = False
            chart.y_axis.delete = False
            chart.y_axis.title = "USD m"
            chart.y_axis.numFmt = "#,##0,,"
            chart.x_axis.tickLblPos = "low"  # input names left of the plot, not over the bars
            chart.height, chart.width = 9, 22
            ws.add_chart(chart, f"A{last + 3}")
    else:
        write_table(ws, grid, "tblGrid", top=top + 1)
    report_sheet(ws)
    fit_widths(ws)
    runs = wb.create_sheet("Runs")
    write_table(runs, batch, "tblRuns")
    report_sheet(runs)
    fit_widths(runs)
    write_atomic(target, wb.save)
