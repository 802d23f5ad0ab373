"""comparison.xlsx: solved scenarios side by side, the first one as the baseline.

`write_comparison(results, target)` takes a list of `Results` (solved in this process or read
back with `load_results`) and writes: Comparison (headline KPIs per scenario, differences
against the baseline, an NPV chart), MW by year, Capex by year, Assumption changes (every
input that differs from the baseline, said plainly), Scenarios (what each run was) and the
Chart data behind the chart. `assumption_differences` is the same list as data.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment
from openpyxl.worksheet.pagebreak import Break
from openpyxl.worksheet.worksheet import Worksheet

from siteopt.export import charts, plan_frames
from siteopt.export.assumptions import (
    TABLE_ORDER,
    is_text_column,
    scenario_key_is_text,
    typed,
)
from siteopt.export.files import save_workbook
from siteopt.export.plan_workbook import status_banner
from siteopt.export.xlsx_style import (
    BOLD,
    MONTH,
    MUSD,
    MW,
    PCT,
    USD_M,
    WRAP,
    ColumnStyle,
    add_table,
    fit_row_heights,
    fit_widths,
    put,
    report_sheet,
    sheet_title,
    unique_headers,
    write_table,
)
from siteopt.inputs.schema import TABLES
from siteopt.results.extract import Results

SHEETS = ("Comparison", "Decisions", "MW by year", "Capex by year", "Assumption changes",
          "Scenarios", "Chart data")
IGNORED_KEYS = {"name", "description"}
MONTH_DIFF = '+0" months";-0" months";0'

# (kpi, label, unit, kind): kind usd | pct | month | mw | count | text
KPIS = (
    ("status", "Status", "", "text"),
    ("npv_usd", "NPV of equity cash", "USD m", "usd"),
    ("value_added_usd", "Value added over mining-only", "USD m", "usd"),
    ("baseline_npv_usd", "NPV if every campus keeps mining", "USD m", "usd"),
    ("unlevered_npv_usd", "Unlevered NPV", "USD m", "usd"),
    ("irr_pct", "IRR of converting", "per year", "pct"),
    # the value is a month (Jan 2035): no unit beside it; the difference reads "+6 months"
    ("payback_month", "Payback of converting", "", "month"),
    ("peak_funding_usd", "Peak funding need", "USD m", "usd"),
    ("capex_gross_usd", "Total capex", "USD m", "usd"),
    ("capex_net_usd", "Landlord capex (after tenants' share)", "USD m", "usd"),
    ("debt_drawn_usd", "Debt drawn", "USD m", "usd"),
    ("it_mw_converted", "IT MW converted", "IT MW", "mw"),
    ("offers_accepted", "Offers accepted or delivered", "offers", "count"),
    ("mip_gap_pct", "MIP gap", "%", "gap"),
    # stochastic plans (an uncertainty section); empty for a plan of one future
    ("cvar_npv_usd", "CVaR of NPV (stochastic)", "USD m", "usd"),
    ("vss_usd", "Value of the stochastic solution", "USD m", "usd"),
    ("evpi_usd", "Value of perfect information", "USD m", "usd"),
)


@dataclass(frozen=True)
class Difference:
    """One input that differs from the baseline."""

    scenario: str
    where: str  # 'scenario', 'campuses', 'offers', 'offer_phases', 'market'
    item: str  # 'market.btc_price_usd' or 'TX-ROCK capex_usd_per_it_mw'
    baseline: str
    value: str

    @property
    def text(self) -> str:
        prefix = self.item if self.where == "scenario" else f"{self.where} {self.item}"
        if self.where == "market" and self.item != "months":
            return f"{prefix}: {self.value} ({self.baseline})"
        return f"{prefix}: {self.baseline} → {self.value}"


# ---------------------------------------------------------------------------------------------
# Differences in assumptions
# ---------------------------------------------------------------------------------------------


def show(value: Any) -> str:
    """A value as people read it: 90,000 / 0.025 / true / none."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return f"{int(value):,}"
        digits = len(str(int(abs(value)))) if abs(value) >= 1 else 0
        text = f"{value:,.{max(0, 6 - digits)}f}".rstrip("0").rstrip(".")
        return text if text not in ("0", "-0") else f"{value:.3g}"
    return str(value)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and \
            not isinstance(a, bool) and not isinstance(b, bool):
        return abs(float(a) - float(b)) <= 1e-9 * max(1.0, abs(float(a)), abs(float(b)))
    return a == b


def _scenario_map(results: Results) -> dict[str, Any]:
    frame = results.assumptions.get("scenario")
    if frame is None or frame.empty:
        return {}
    return {str(k): typed(v, scenario_key_is_text(str(k)))
            for k, v in zip(frame["key"], frame["value"])}


def _rows(table: str, frame: pd.DataFrame) -> dict[tuple[str, ...], dict[str, Any]]:
    keys = list(TABLES[table].key_columns) if table in TABLES else ["month"]
    keys = [k for k in keys if k in frame.columns]
    out = {}
    for record in frame.to_dict("records"):
        values = {c: typed(v, is_text_column(table, c)) for c, v in record.items()}
        out[tuple(show(values[k]) for k in keys)] = values
    return out


def _table_differences(name: str, table: str, base: pd.DataFrame,
                       other: pd.DataFrame) -> list[Difference]:
    old, new = _rows(table, base), _rows(table, other)
    keys = [k for k in (TABLES[table].key_columns if table in TABLES else ("month",))]
    out = []
    for key in [k for k in old if k not in new]:
        out.append(Difference(name, table, " ".join(key), "present", "only in the baseline"))
    for key in [k for k in new if k not in old]:
        out.append(Difference(name, table, " ".join(key), "absent", "added"))
    columns = [c for c in other.columns if c in base.columns and c not in keys]
    for key in [k for k in new if k in old]:
        for column in columns:
            a, b = old[key].get(column), new[key].get(column)
            if not _same(a, b):
                out.append(Difference(name, table, f"{' '.join(key)} {column}", show(a),
                                      show(b)))
    return out


def _market_differences(name: str, base: pd.DataFrame, other: pd.DataFrame) -> list[Difference]:
    """Per market column: how many months differ, with the first and last change."""
    old, new = _rows("market", base), _rows("market", other)
    months = [m for m in new if m in old]
    out = []
    if set(old) != set(new):
        out.append(Difference(name, "market", "months",
                              f"{min(old)[0]} to {max(old)[0]}" if old else "none",
                              f"{min(new)[0]} to {max(new)[0]}" if new else "none"))
    columns = [c for c in other.columns if c in base.columns and c != "month"]
    for column in columns:
        changed = [m for m in months if not _same(old[m].get(column), new[m].get(column))]
        if not changed:
            continue
        first, last = changed[0], changed[-1]
        summary = f"{show(old[first][column])} → {show(new[first][column])} in {first[0]}"
        if last != first:
            summary += f", {show(old[last][column])} → {show(new[last][column])} in {last[0]}"
        out.append(Difference(name, "market", column,
                              f"{len(changed)} of {len(months)} months differ", summary))
    return out


def assumption_differences(base: Results, other: Results) -> list[Difference]:
    """Every input of `other` that differs from `base`: scenario keys (name and
    description aside), table cells by row id, and the market path summarised per column."""
    name = str(other.summary.get("scenario", ""))
    out = []
    old, new = _scenario_map(base), _scenario_map(other)
    for key in [*old, *(k for k in new if k not in old)]:
        if key in IGNORED_KEYS:
            continue
        if not _same(old.get(key), new.get(key)):
            out.append(Difference(name, "scenario", key, show(old.get(key)),
                                  show(new.get(key))))
    for table in TABLE_ORDER:
        a, b = base.assumptions.get(table), other.assumptions.get(table)
        if a is None or b is None:
            continue
        if table == "market":
            out += _market_differences(name, a, b)
        else:
            out += _table_differences(name, table, a, b)
    return out


# ---------------------------------------------------------------------------------------------
# KPIs side by side
# ---------------------------------------------------------------------------------------------


def kpi_values(results: Results) -> dict[str, Any]:
    summary = results.summary
    k = dict(summary.get("kpis") or {})
    k["status"] = status_banner(summary)[0]
    k.setdefault("npv_usd", summary.get("npv_usd"))
    k["mip_gap_pct"] = summary.get("mip_gap_pct")
    stochastic = summary.get("stochastic") or {}
    for key in ("cvar_npv_usd", "vss_usd", "evpi_usd"):
        k[key] = stochastic.get(key)
    if plan_frames.has_plan(results):
        decisions = plan_frames.campus_decisions(results)
        k["it_mw_converted"] = float(decisions["IT MW converted"].sum()) if len(decisions) \
            else 0.0
        leases = plan_frames.lease_decisions(results.leases)
        k["offers_accepted"] = int(leases.loc[leases["Decision"] != "Decline", "Offer"]
                                   .nunique()) if len(leases) else 0
    return k


def _months(label: Any) -> int | None:
    day = plan_frames.first_of_month(label) if label else None
    return None if day is None else day.year * 12 + day.month - 1


def _cell(kind: str, value: Any) -> tuple[Any, str | None]:
    if value is None:
        return None, None
    if kind == "text":
        return str(value), None
    if kind == "month":
        return plan_frames.first_of_month(value), MONTH
    if kind == "pct":
        return float(value) / 100, PCT
    if kind == "gap":
        return float(value) / 100, "0.00%"
    if kind == "usd":
        return float(value), USD_M
    if kind == "mw":
        return float(value), MW
    return value, "0"


def _difference(kind: str, value: Any, base: Any) -> tuple[Any, str | None]:
    if value is None or base is None or kind in ("text", "gap"):
        return None, None
    if kind == "month":
        a, b = _months(value), _months(base)
        return (None, None) if a is None or b is None else (a - b, MONTH_DIFF)
    number, fmt = _cell(kind, value)
    base_number, _ = _cell(kind, base)
    if kind == "pct":  # percentage points
        return (number - base_number) * 100, '+0.0" pp";-0.0" pp";0.0" pp"'
    return number - base_number, fmt


def labels(results: list[Results]) -> list[str]:
    names = [str(r.summary.get("scenario", f"scenario {i + 1}")) for i, r in enumerate(results)]
    return unique_headers(names)


def _kpi_sheet(ws: Worksheet, results: list[Results], names: list[str]) -> int:
    top = sheet_title(ws, "Scenario comparison",
                      f"Baseline: {names[0]}. Differences are each scenario minus the baseline "
                      "(IRR in percentage points, payback in months). USD in millions.")
    values = [kpi_values(r) for r in results]
    headers = ["Measure", "Unit", *names, *(f"{n} − {names[0]}" for n in names[1:])]
    headers = unique_headers(headers)
    for j, header in enumerate(headers, start=1):
        put(ws, top, j, header)
    for i, (key, label, unit, kind) in enumerate(KPIS, start=top + 1):
        put(ws, i, 1, label)
        put(ws, i, 2, unit)
        for j, v in enumerate(values):
            value, fmt = _cell(kind, v.get(key))
            put(ws, i, 3 + j, value, fmt).alignment = Alignment(horizontal="right")
        for j, v in enumerate(values[1:]):
            value, fmt = _difference(kind, v.get(key), values[0].get(key))
            put(ws, i, 3 + len(values) + j, value, fmt)
    bottom = top + len(KPIS)
    add_table(ws, "tblCompareKpis", top, 1, bottom, len(headers))
    fit_widths(ws, minimum=12, maximum=36, skip_rows={1, 2})
    ws.freeze_panes = ws.cell(row=top + 1, column=3)
    return bottom


def _by_year_sheet(ws: Worksheet, results: list[Results], names: list[str], column: str,
                   title: str, subtitle: str, table: str, fmt: str) -> None:
    top = sheet_title(ws, title, subtitle)
    series = {}
    for name, r in zip(names, results):
        if plan_frames.has_plan(r):
            years = plan_frames.by_year(r)
            series[name] = pd.Series(years[column].to_numpy(), index=years["year"].astype(int))
    frame = pd.DataFrame(series).reindex(columns=names).sort_index()
    frame.index.name = "Year"
    frame = frame.reset_index()
    if len(frame):
        total = {"Year": "Total", **{n: frame[n].sum(min_count=1) for n in names}}
        frame = pd.concat([frame.astype({"Year": object}), pd.DataFrame([total])],
                          ignore_index=True)
    styles = {n: ColumnStyle(n, fmt) for n in names}
    styles["Year"] = ColumnStyle("Year", "0")
    first, last = write_table(ws, frame, table, top=top, styles=styles)
    if len(frame):
        for cell in ws[last]:
            cell.font = BOLD
    ws.freeze_panes = ws.cell(row=top + 1, column=2)
    fit_widths(ws, minimum=12, maximum=30, skip_rows={1, 2})
    report_sheet(ws, title_rows=f"{top}:{top}")


def _changes_sheet(ws: Worksheet, results: list[Results], names: list[str]) -> None:
    top = sheet_title(ws, "Assumption changes against the baseline",
                      f"Every input that differs from {names[0]} (name and description "
                      "aside); the market path is summarised per column.")
    rows = []
    for name, r in zip(names[1:], results[1:]):
        differences = assumption_differences(results[0], r)
        if not differences:
            rows.append((name, "no input differs from the baseline", "", "", "", ""))
        rows += [(name, d.text, d.where, d.item, d.baseline, d.value) for d in differences]
    frame = pd.DataFrame(rows, columns=["Scenario", "Change", "Input", "Item", "Baseline",
                                        "This scenario"])
    styles = {c: ColumnStyle(c) for c in frame.columns}
    first, last = write_table(ws, frame, "tblAssumptionChanges", top=top, styles=styles)
    for row in ws.iter_rows(min_row=first, max_row=last):
        for cell in row:
            cell.alignment = WRAP
    ws.freeze_panes = ws.cell(row=top + 1, column=1)
    fit_widths(ws, minimum=10, maximum=40, skip_rows={1, 2})
    ws.column_dimensions["B"].width = 70
    fit_row_heights(ws, first_row=first)
    report_sheet(ws, title_rows=f"{top}:{top}")


def _decisions_sheet(ws: Worksheet, results: list[Results], names: list[str]) -> None:
    """The decisions that differ between the scenarios (offers taken or declined, where and
    from when; campuses converted, how many IT MW from when), as `compare` prints them."""
    from siteopt.export.decision_diff import decisions_that_differ

    top = sheet_title(ws, "Decisions that differ", "Offers: the campuses and lease start, or "
                      "declined; campuses: IT MW converted and the first construction month. "
                      "Decisions the same in every scenario are left out.")
    frame = decisions_that_differ(results, names).rename(columns={"decision": "Decision"})
    if frame.empty:
        put(ws, top, 1, "Every scenario takes the same decisions.")
        report_sheet(ws)
        return
    write_table(ws, frame, "tblDecisionsDiffer", top=top,
                styles={c: ColumnStyle(c) for c in frame.columns})
    fit_widths(ws, minimum=12, maximum=40, skip_rows={1, 2})
    report_sheet(ws, title_rows=f"{top}:{top}")


def _scenarios_sheet(ws: Worksheet, results: list[Results], names: list[str]) -> None:
    top = sheet_title(ws, "Scenarios compared", "What each run was; the first is the baseline.")
    rows = []
    for name, r in zip(names, results):
        s = r.summary
        rows.append({"Scenario": name, "Description": s.get("description") or "",
                     "Status": status_banner(s)[0], "Scenario file": s.get("scenario_file"),
                     "Input hash": s.get("input_hash"), "Finished at": s.get("finished_at"),
                     "siteopt": (s.get("versions") or {}).get("siteopt")})
    frame = pd.DataFrame(rows)
    first, last = write_table(ws, frame, "tblScenarios", top=top,
                              styles={c: ColumnStyle(c) for c in frame.columns})
    for row in ws.iter_rows(min_row=first, max_row=last):
        for cell in row:
            cell.alignment = WRAP
    fit_widths(ws, minimum=10, maximum=50, skip_rows={1, 2})
    fit_row_heights(ws, first_row=first)
    report_sheet(ws, title_rows=f"{top}:{top}")


def build_comparison(results: list[Results]) -> Workbook:
    if not results:
        raise ValueError("nothing to compare: no results given")
    names = labels(results)
    wb = Workbook()
    wb.remove(wb.active)
    for title in SHEETS:
        wb.create_sheet(title)
    bottom = _kpi_sheet(wb["Comparison"], results, names)

    data = wb["Chart data"]
    values = [kpi_values(r) for r in results]
    frame = pd.DataFrame({
        "Scenario": names,
        "NPV (USD m)": [None if v.get("npv_usd") is None else v["npv_usd"] / 1e6
                        for v in values],
        "Value added (USD m)": [None if v.get("value_added_usd") is None
                                else v["value_added_usd"] / 1e6 for v in values]})
    put(data, 1, 1, "NPV by scenario")
    first, last = write_table(data, frame, "tblChartNpv", top=2, styles={
        "Scenario": ColumnStyle("Scenario"), "NPV (USD m)": ColumnStyle("NPV (USD m)", MUSD),
        "Value added (USD m)": ColumnStyle("Value added (USD m)", MUSD)})
    fit_widths(data, minimum=12, maximum=40)
    report_sheet(data)
    chart = charts.npv_by_scenario(data, 2, last, 1, 2, 3)
    wb["Comparison"].add_chart(chart, f"A{bottom + 3}")
    report_sheet(wb["Comparison"])
    # the chart starts a page of its own: a page break never cuts it in two
    wb["Comparison"].row_breaks.append(Break(id=bottom + 2))

    _by_year_sheet(wb["MW by year"], results, names, "it_mw_started", "IT MW started by year",
                   "IT MW that start construction in each calendar year, per scenario.",
                   "tblCompareMwByYear", MW)
    _by_year_sheet(wb["Capex by year"], results, names, "capex_usd", "Capex by year",
                   "Fit-out capex paid in each calendar year (USD m), per scenario.",
                   "tblCompareCapexByYear", USD_M)
    _changes_sheet(wb["Assumption changes"], results, names)
    _decisions_sheet(wb["Decisions"], results, names)
    _scenarios_sheet(wb["Scenarios"], results, names)
    wb.active = 0
    return wb


def write_comparison(results: list[Results], target: Path) -> None:
    """Build comparison.xlsx from `results` (the first is the baseline) and move it into
    place atomically."""
    wb = build_comparison(list(results))
    save_workbook(wb, Path(target))
