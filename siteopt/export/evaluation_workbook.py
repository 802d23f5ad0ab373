"""evaluation.xlsx: a plan judged on fresh futures — the measures first, the NPV histogram,
fan charts (percentiles by month) of cash and IT MW ready, and one row per future."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.chart import BarChart, LineChart, Reference

from siteopt.export.charts import AXIS_MUSD, COLORS, _axes, _color, _finish, _monthly_axis
from siteopt.export.files import save_workbook
from siteopt.export.xlsx_style import (
    BOLD,
    USD_M,
    fit_widths,
    key_values,
    month_date,
    put,
    report_sheet,
    sheet_title,
    write_table,
)

BINS = 20
FAN_PERCENTILES = (5, 25, 50, 75, 95)
ROW_COLUMNS = ["future", "status", "npv_usd", "cash_floor", "reason", "changes", "seconds"]


def _measure_rows(summary: dict[str, Any]) -> list[tuple[str, Any, str | None]]:
    m = summary["measures"]
    pct = "0.0"
    return [
        ("Plan", summary["plan"], None),
        ("Plan kind", summary["plan_kind"], None),
        ("Futures", m["futures"], "#,##0"),
        ("Seed", summary["seed"], None),
        ("Expected NPV (USD m)", m.get("expected_npv_usd"), USD_M),
        ("95 % CI low (USD m)", m.get("ci95_low_usd"), USD_M),
        ("95 % CI high (USD m)", m.get("ci95_high_usd"), USD_M),
        (f"CVaR {m['cvar_alpha_pct']:g} % (USD m)", m.get("cvar_npv_usd"), USD_M),
        ("P5 NPV (USD m)", m.get("p5_npv_usd"), USD_M),
        ("Median NPV (USD m)", m.get("median_npv_usd"), USD_M),
        ("P95 NPV (USD m)", m.get("p95_npv_usd"), USD_M),
        ("Cash floor breached (% of futures)", m.get("p_cash_floor_breach_pct")
         if m.get("cash_floor_tracked") else "no cash floor (finance.opening_cash_usd unset)",
         pct),
        ("Commitments cannot be kept (futures)", m.get("infeasible"), "#,##0"),
        ("Errors (futures)", m.get("errors"), "#,##0"),
        ("Committed months", summary["commit_months"], "#,##0"),
        ("Scenario", summary["scenario_file"], None),
        ("Seconds", summary["seconds"], "#,##0.0"),
    ]


def histogram(npvs: list[float], bins: int = BINS) -> pd.DataFrame:
    """Futures per NPV bin (label: the bin's lower edge to upper edge in USD m)."""
    counts, edges = np.histogram(np.array(npvs, dtype=float), bins=min(bins, max(1, len(npvs))))
    labels = [f"{lo / 1e6:,.0f} to {hi / 1e6:,.0f}" for lo, hi in zip(edges[:-1], edges[1:])]
    return pd.DataFrame({"NPV bin (USD m)": labels, "futures": counts.astype(int)})


def fan(rows: list[dict[str, Any]], key: str, months: list[str]) -> pd.DataFrame:
    """Percentiles by month of a path over the futures that have it."""
    paths = [r[key] for r in rows if r.get(key) and len(r[key]) == len(months)]
    if not paths:
        return pd.DataFrame()
    values = np.percentile(np.array(paths, dtype=float), FAN_PERCENTILES, axis=0)
    frame = pd.DataFrame({"month": months})
    for p, series in zip(FAN_PERCENTILES, values):
        frame[f"P{p}"] = series
    return frame


def write_evaluation_workbook(summary: dict[str, Any], rows: list[dict[str, Any]],
                              months: list[str], target: Path) -> None:
    wb = Workbook()
    ws = wb.active
    ws.title = "Evaluation"
    data_ws = wb.create_sheet("Chart data")
    m = summary["measures"]
    row = sheet_title(ws, "Out-of-sample evaluation",
                      f"{summary['plan']}: its decisions before month "
                      f"{summary['commit_months']} kept in {m['futures']} fresh futures "
                      f"(seed {summary['seed']}), everything after re-optimised in each")
    row = key_values(ws, _measure_rows(summary), row) + 1
    put(ws, row, 1, summary["note"])
    row += 2
    npvs = [r["npv_usd"] for r in rows if r.get("npv_usd") is not None]
    anchor = row
    if npvs:
        hist = histogram(npvs)
        put(data_ws, 1, 1, "NPV distribution", font=BOLD)
        first, last = write_table(data_ws, hist, "tblHistogram", top=2, left=1)
        chart = BarChart()
        chart.type = "col"
        chart.gapWidth = 10
        chart.add_data(Reference(data_ws, min_col=2, min_row=2, max_row=last),
                       titles_from_data=True)
        chart.set_categories(Reference(data_ws, min_col=1, min_row=first, max_row=last))
        _color(chart.series[0], COLORS["npv"])
        _axes(chart, "NPV (USD m)", "futures", "#,##0")
        _finish(chart, f"NPV across {len(npvs)} futures (futures per bin)")
        ws.add_chart(chart, f"A{anchor}")
        anchor += 20
    column = 4
    for key, title, unit, fmt in (("cash_usd", "Cash by month (P5–P95 over futures)",
                                   "USD m", AXIS_MUSD),
                                  ("it_ready_mw", "IT MW ready by month (P5–P95 over "
                                   "futures)", "IT MW", "#,##0")):
        frame = fan(rows, key, months)
        if frame.empty:
            continue
        shown = frame.assign(month=frame["month"].map(month_date))
        put(data_ws, 1, column, title, font=BOLD)
        first, last = write_table(data_ws, shown, f"tblFan{key.split('_')[0].title()}",
                                  top=2, left=column,
                                  formats={c: USD_M if unit == "USD m" else "#,##0"
                                           for c in shown.columns if c != "month"})
        chart = LineChart()
        chart.add_data(Reference(data_ws, min_col=column + 1,
                                 max_col=column + len(FAN_PERCENTILES), min_row=2,
                                 max_row=last), titles_from_data=True)
        chart.set_categories(Reference(data_ws, min_col=column, min_row=first, max_row=last))
        for series, shade in zip(chart.series, ("9DC3E6", "2E75B6", "1F4E79", "2E75B6",
                                                "9DC3E6")):
            series.marker.symbol = "none"
            _color(series, shade, line=True)
        _axes(chart, None, unit, fmt)
        _monthly_axis(chart)
        _finish(chart, title)
        ws.add_chart(chart, f"A{anchor}")
        anchor += 20
        column += len(FAN_PERCENTILES) + 2
    futures = wb.create_sheet("Futures")
    table = pd.DataFrame([{c: r.get(c) for c in ROW_COLUMNS} for r in rows],
                         columns=ROW_COLUMNS)
    write_table(futures, table, "tblFutures", top=1, left=1)
    futures.freeze_panes = "B2"
    for sheet in (ws, futures):
        report_sheet(sheet)
    fit_widths(ws, maximum=60)
    fit_widths(futures, maximum=80)
    fit_widths(data_ws)
    save_workbook(wb, target)
