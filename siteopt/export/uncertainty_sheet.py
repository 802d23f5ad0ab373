"""plan.xlsx's Uncertainty sheet: what is decided now, NPV by future, the measures in plain
sentences, and fan charts of IT MW ready and cash across the futures."""

from __future__ import annotations

import pandas as pd
from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.worksheet.worksheet import Worksheet

from siteopt.export import uncertainty_frames as frames
from siteopt.export.charts import COLORS, _axes, _color, _finish, _monthly_axis
from siteopt.export.xlsx_style import (
    BOLD,
    USD_M,
    fit_widths,
    put,
    report_sheet,
    sheet_title,
    write_table,
)
from siteopt.results.tables import Results


def uncertainty_sheet(ws: Worksheet, data_ws: Worksheet, results: Results) -> None:
    summary = results.summary
    block = summary["stochastic"]
    row = sheet_title(ws, "Deciding under uncertainty",
                      f"{len(block['scenarios'])} futures; decisions taking effect before "
                      f"{frames.commit_month(summary)} are taken now, the same in every "
                      f"future")
    put(ws, row, 1, "Decided now", font=BOLD)
    row += 1
    for line in frames.here_and_now_lines(results.extra.get("here_and_now"), limit=25):
        put(ws, row, 1, line)
        row += 1
    row += 1
    put(ws, row, 1, "What the plan is worth", font=BOLD)
    row += 1
    for measure in frames.measures(summary).itertuples():
        put(ws, row, 1, measure.measure)
        put(ws, row, 2, None if pd.isna(measure.usd) else float(measure.usd), USD_M)
        put(ws, row, 3, measure.meaning)
        row += 1
    put(ws, row, 1, block.get("note"))
    row += 2
    futures = frames.futures_frame(summary, results.extra.get("scenarios"))
    shown = pd.DataFrame({"future": [f"{n} ({p:g} %)" for n, p in
                                     zip(futures["name"], futures["probability_pct"])],
                          "probability_pct": futures["probability_pct"],
                          "npv_usd": futures["npv_usd"],
                          "baseline_npv_usd": futures["baseline_npv_usd"],
                          "changes": futures["changes"]})
    put(ws, row, 1, "NPV by future, worst first (USD m)", font=BOLD)
    first, last = write_table(ws, shown, "tblFutures", top=row + 1, left=1)
    chart = BarChart()
    chart.type = "bar"
    chart.add_data(Reference(ws, min_col=3, min_row=row + 1, max_row=last),
                   titles_from_data=True)
    chart.set_categories(Reference(ws, min_col=1, min_row=first, max_row=last))
    _color(chart.series[0], COLORS["npv"])
    _axes(chart, None, "USD m", USD_M)
    _finish(chart, "NPV by future, worst first (probability)")
    chart.height, chart.width = 7, 16
    ws.add_chart(chart, f"A{last + 2}")
    _fans(ws, data_ws, results, last + 18)
    report_sheet(ws)
    fit_widths(ws, maximum=70)
    fit_widths(data_ws)


def _fans(ws: Worksheet, data_ws: Worksheet, results: Results, anchor_row: int) -> None:
    """IT MW ready and cash balance (when tracked) by month, one line per future; the data
    the charts read on `data_ws`, side by side."""
    column, top = 1, 1
    for name, title, unit, fmt in (("it_ready_mw", "IT MW ready by future", "IT MW", "#,##0"),
                                   ("cash_balance_usd", "Cash balance by future", "USD m",
                                    USD_M)):
        fan = frames.fan(results.futures, name)
        if fan.empty or fan.isna().all().all():
            continue
        put(data_ws, top, column, "month", font=BOLD)
        for j, future in enumerate(fan.columns, start=1):
            put(data_ws, top, column + j, f"{future} {unit}", font=BOLD)
        for i, (month, values) in enumerate(fan.iterrows(), start=top + 1):
            put(data_ws, i, column, month)
            for j, value in enumerate(values, start=1):
                put(data_ws, i, column + j, None if pd.isna(value) else float(value),
                    USD_M if unit == "USD m" else "#,##0")
        last = top + len(fan)
        chart = LineChart()
        chart.add_data(Reference(data_ws, min_col=column + 1,
                                 max_col=column + len(fan.columns), min_row=top, max_row=last),
                       titles_from_data=True)
        chart.set_categories(Reference(data_ws, min_col=column, min_row=top + 1, max_row=last))
        for series in chart.series:
            series.marker.symbol = "none"
        _axes(chart, None, unit, fmt)
        _monthly_axis(chart)
        _finish(chart, title)
        chart.height, chart.width = 7, 16
        ws.add_chart(chart, f"A{anchor_row}")
        anchor_row += 16
        column += len(fan.columns) + 2
