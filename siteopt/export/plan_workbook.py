"""plan.xlsx: the board-ready workbook of one run, built from a `Results` (never the model).

Sheets of a plan: Summary, Charts, Campus plan, Leases, Cash flow, Cash flow monthly,
Company cash & debt, Campus month, Assumptions, About this run, Chart data. A run without a
plan (infeasible) gets Summary, Diagnosis, Assumptions and About this run.
Every value is a number or literal text (no formulas): previewers without a calculation
engine show the same figures as Excel.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.pagebreak import Break
from openpyxl.worksheet.worksheet import Worksheet

from siteopt.contract import LINE
from siteopt.export import charts, plan_frames
from siteopt.export.assumptions import write_assumptions
from siteopt.export.narrative import narrative
from siteopt.export.status import status_banner
from siteopt.export.xlsx_rows import BulkBook, SheetRows
from siteopt.export.xlsx_style import (
    BAND_FILL,
    BOLD,
    HEADING_FONT,
    INT,
    MONTH,
    MUSD,
    MW,
    PCT,
    STATUS_FILLS,
    STATUS_FONTS,
    SUBTITLE_FONT,
    USD_M,
    ColumnStyle,
    Look,
    add_table,
    fit_legibly,
    fit_row_heights,
    fit_widths,
    put,
    report_sheet,
    sheet_title,
    style_header,
    write_table,
)
from siteopt.results.extract import Results

PLAN_SHEETS = ("Summary", "Charts", "Campus plan", "Leases", "Cash flow", "Cash flow monthly",
               "Company cash & debt", "Campus month", "Assumptions", "About this run",
               "Chart data")
NO_PLAN_SHEETS = ("Summary", "Diagnosis", "Assumptions", "About this run")


def build_plan_workbook(results: Results) -> BulkBook:
    """The workbook of a run; the large data sheets' rows are kept as XML until it is saved
    (`BulkBook.save`), the rest are openpyxl cells."""
    wb = Workbook()
    wb.remove(wb.active)
    book = BulkBook(wb)
    plan = plan_frames.has_plan(results)
    for title in PLAN_SHEETS if plan else NO_PLAN_SHEETS:
        wb.create_sheet(title)
    if plan and "changes" in results.extra:
        _what_changed(wb.create_sheet("What changed", 1), results)
    if plan and results.summary.get("stochastic"):
        from siteopt.export.uncertainty_sheet import uncertainty_sheet

        uncertainty_sheet(wb.create_sheet("Uncertainty", 1),
                          wb.create_sheet("Uncertainty data"), results)
    if plan:
        _summary(wb["Summary"], results)
        data = _chart_data(wb["Chart data"], results)
        _charts(wb["Charts"], wb["Chart data"], results, data)
        _campus_plan(book.rows(wb["Campus plan"]), results)
        _leases(book.rows(wb["Leases"]), results)
        _cash_flow(wb["Cash flow"], results)
        _detail(book.rows(wb["Cash flow monthly"]), "Cash flow by month (USD m; costs as "
                "positive amounts, as in company_month.csv)", results.company_month,
                "tblCashFlowMonthly")
        _cash_and_debt(book.rows(wb["Company cash & debt"]), results)
        _detail(book.rows(wb["Campus month"]), "Campus by month: MW by use and cash lines "
                "(as in campus_month.csv)", results.campus_month, "tblCampusMonth")
    else:
        _summary_no_plan(wb["Summary"], results)
        _diagnosis(wb["Diagnosis"], results)
    _assumptions(wb["Assumptions"], results)
    _about(wb["About this run"], results)
    wb.active = 0
    return book


# ---------------------------------------------------------------------------------------------
# Summary
# ---------------------------------------------------------------------------------------------


def _title_block(ws: Worksheet, summary: dict[str, Any], what: str) -> int:
    row = sheet_title(ws, f"{what} — {summary.get('scenario', '')}",
                      summary.get("description") or None)
    text, tone = status_banner(summary)
    cell = put(ws, row, 1, text, font=STATUS_FONTS[tone])
    for column in range(1, 9):
        ws.cell(row=row, column=column).fill = STATUS_FILLS[tone]
    cell.alignment = Alignment(vertical="center")
    ws.row_dimensions[row].height = 22
    return row + 1


def _headline(results: Results, decisions: pd.DataFrame
              ) -> list[tuple[str, Any, str | None, str]]:
    summary = results.summary
    k = summary.get("kpis") or {}

    def usd(key: str) -> Any:
        return k.get(key, summary.get(key) if key == "npv_usd" else None)

    irr = k.get("irr_pct")
    leases = plan_frames.lease_decisions(results.leases)
    accepted = leases[leases["Decision"] != "Decline"]["Offer"].nunique() if len(leases) else 0
    rows = [
        ("NPV of equity cash", usd("npv_usd"), USD_M, "USD m"),
        ("Value added over mining-only", usd("value_added_usd"), USD_M, "USD m"),
        ("NPV if every campus keeps mining", usd("baseline_npv_usd"), USD_M, "USD m"),
        ("IRR of converting (incremental cash)", None if irr is None else irr / 100, PCT,
         "per year"),
        # the value is a month (or why there is none), so no unit beside it
        ("Payback of converting", plan_frames.payback_shown(k), MONTH, ""),
        ("Peak funding need", usd("peak_funding_usd"), USD_M, "USD m"),
        ("Total capex", usd("capex_gross_usd"), USD_M, "USD m"),
    ]
    if (k.get("capex_tenant_funded_usd") or 0) > 0:
        rows.append(("of which paid by tenants", k["capex_tenant_funded_usd"], USD_M, "USD m"))
    if (k.get("debt_drawn_usd") or 0) > 0:
        rows.append(("Debt drawn", k["debt_drawn_usd"], USD_M, "USD m"))
    if (k.get("btc_sold_btc") or 0) > 0:
        rows.append(("BTC sold from treasury", k["btc_sold_btc"], "#,##0", "BTC"))
    if k.get("terminal_value_method") == "ebitda_multiple":
        rows.append(("Terminal value (EBITDA multiples)", k.get("terminal_value_usd"), USD_M,
                     "USD m"))
    if _opening_cash(results) is not None and k.get("min_cash_usd") is not None:
        rows.append(("Lowest cash balance", k["min_cash_usd"], USD_M, "USD m"))
    converted = float(decisions["IT MW converted"].sum()) if len(decisions) else 0.0
    rows.append(("IT MW converted", converted, MW, "IT MW"))
    rows.append(("Offers accepted or delivered", int(accepted), INT, "offers"))
    return rows


def _opening_cash(results: Results) -> Any:
    frame = results.assumptions.get("scenario")
    if frame is None or frame.empty:
        return None
    hit = frame.loc[frame["key"] == "finance.opening_cash_usd", "value"]
    value = hit.iloc[0] if len(hit) else None
    return None if value is None or str(value) in ("", "nan", "None") else value


def _summary(ws: Worksheet, results: Results) -> None:
    summary = results.summary
    row = _title_block(ws, summary, "Conversion plan")
    horizon = summary.get("horizon") or {}
    note = (f"NPV of equity cash at {summary.get('discount_rate_pct_per_year', '')} %/yr over "
            f"{horizon.get('months', '')} months from {horizon.get('start', '')}. Mining-only: "
            f"the same scenario with no conversion and no offers. USD in millions.")
    put(ws, row, 1, note, font=SUBTITLE_FONT)
    row += 2

    put(ws, row, 1, "Headline", font=HEADING_FONT)
    put(ws, row, 5, "By year", font=HEADING_FONT)
    header = row + 1
    decisions = plan_frames.campus_decisions(results)  # a second of text on L: made once
    # the words summary.json, the terminal and the deck show (made once when written)
    story = results.summary.get("narrative") or narrative(results)
    decisions["Decision"] = decisions["Campus"].map(story["campuses"]).fillna(
        decisions["Decision"])
    headline = _headline(results, decisions)
    for j, title in enumerate(("Measure", "Value", "Unit"), start=1):
        put(ws, header, j, title)
    for i, (label, value, fmt, unit) in enumerate(headline, start=header + 1):
        put(ws, i, 1, label)
        put(ws, i, 2, "—" if value is None else value, fmt).alignment = \
            Alignment(horizontal="right")
        put(ws, i, 3, unit).alignment = Alignment(horizontal="left", indent=1)
    add_table(ws, "tblHeadline", header, 1, header + len(headline), 3)

    years = plan_frames.by_year(results)
    yearly = pd.DataFrame({"Year": years["year"].astype(int),
                           "IT MW started": years["it_mw_started"],
                           "Capex (USD m)": years["capex_usd"],
                           "EBITDA (USD m)": years["ebitda_usd"]})
    write_table(ws, yearly, "tblByYear", top=header, left=5,
                styles={"Year": ColumnStyle("Year", "0"),
                        "IT MW started": ColumnStyle("IT MW started", MW),
                        "Capex (USD m)": ColumnStyle("Capex (USD m)", USD_M),
                        "EBITDA (USD m)": ColumnStyle("EBITDA (USD m)", USD_M)})
    row = header + max(len(headline), len(yearly)) + 3

    put(ws, row, 1, "Decisions by campus", font=HEADING_FONT)
    first, last = write_table(ws, decisions, "tblCampusDecisions", top=row + 1, styles={
        "Campus": ColumnStyle("Campus"), "Name": ColumnStyle("Name"),
        "Decision": ColumnStyle("Decision"),
        "IT MW converted": ColumnStyle("IT MW converted", MW),
        "Construction starts": ColumnStyle("Construction starts (IT MW)"),
        "First hall ready": ColumnStyle("First hall ready", MONTH),
        "Fully ready": ColumnStyle("Fully ready", MONTH),
        "Mining MW at the end": ColumnStyle("Mining MW at the end", MW),
        "Leases hosted": ColumnStyle("Leases hosted")})
    _align_rows(ws, first, last, wrap_columns=(2, 3, 5, 9))
    row = last + 3

    put(ws, row, 1, "Decisions by offer", font=HEADING_FONT)
    leases = plan_frames.lease_decisions(results.leases)
    first, last = write_table(ws, leases, "tblLeaseDecisions", top=row + 1, styles={
        "Offer": ColumnStyle("Offer"), "Tenant": ColumnStyle("Tenant"),
        "Decision": ColumnStyle("Decision"), "Campus": ColumnStyle("Campus"),
        "Lease start": ColumnStyle("Lease start", MONTH),
        "Delivered": ColumnStyle("Delivered", MONTH),
        "IT MW": ColumnStyle("IT MW", MW),
        "Rate (USD/kW-month)": ColumnStyle("Rate (USD/kW-month)", "#,##0.00"),
        "Term (months)": ColumnStyle("Term (months)", "0"),
        "PV of rent (USD m)": ColumnStyle("PV of rent (USD m)", USD_M)})
    _align_rows(ws, first, last, wrap_columns=(2,))
    words = [("The plan", story["headline"]), ("Funding", story["funding"])]
    words += [(offer_id, entry["text"]) for offer_id, entry in story["offers"].items()]
    _finish_summary(ws)
    _plain_words(ws, last + 3, words)


def _plain_words(ws: Worksheet, top: int, rows: list[tuple[str, str]]) -> None:
    """'In plain words': a subject in A and its sentence across B:I, wrapped, each row as
    tall as its text (merged cells are not measured by viewers)."""
    put(ws, top, 1, "In plain words", font=HEADING_FONT)
    width = sum((ws.column_dimensions[get_column_letter(c)].width or 8.43) for c in range(2, 10))
    for i, (subject, text) in enumerate(rows, start=top + 1):
        put(ws, i, 1, subject, font=BOLD).alignment = Alignment(vertical="top")
        cell = put(ws, i, 2, text)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        ws.merge_cells(start_row=i, start_column=2, end_row=i, end_column=9)
        ws.row_dimensions[i].height = 15.0 * max(1, math.ceil(len(text) / (width * 1.05)))


def _align_rows(ws: Worksheet, first: int, last: int, wrap_columns: tuple[int, ...]) -> None:
    """Rows of wrapped text: every cell of the row aligned to the top, text indented."""
    for row in ws.iter_rows(min_row=first, max_row=last):
        for cell in row:
            text = isinstance(cell.value, str)
            cell.alignment = Alignment(vertical="top", wrap_text=cell.column in wrap_columns,
                                       horizontal="left" if text else None,
                                       indent=1 if text else 0)


def _finish_summary(ws: Worksheet) -> None:
    fit_widths(ws, skip_rows={1, 2, 3, 4, 5})
    # C holds the campus decisions, a sentence each: wrapped at a readable width
    for letter, width in (("A", 34), ("B", 30), ("C", 44), ("E", 22), ("I", 46), ("J", 70)):
        current = ws.column_dimensions[letter].width or 0
        ws.column_dimensions[letter].width = min(max(current, 12), width)
    fit_row_heights(ws, first_row=6)
    report_sheet(ws)


def _summary_no_plan(ws: Worksheet, results: Results) -> None:
    summary = results.summary
    row = _title_block(ws, summary, "Conversion plan")
    row += 1
    put(ws, row, 1, "No plan was written: the Diagnosis sheet says why, in the words of the "
                    "inputs.")
    put(ws, row + 1, 1, "Assumptions lists every input of this run; About this run, how it "
                        "was solved.")
    row += 3
    facts = [("Scenario", summary.get("scenario"), None),
             ("Status", summary.get("status"), None),
             ("Solver status", summary.get("highs_status"), None),
             ("Findings", len(summary.get("diagnosis") or []), "0")]
    for i, (label, value, fmt) in enumerate(facts):
        put(ws, row + i, 1, label, font=BOLD)
        put(ws, row + i, 2, value, fmt).alignment = Alignment(horizontal="left")
    ws.column_dimensions["A"].width = 22
    ws.column_dimensions["B"].width = 60
    report_sheet(ws)


def _diagnosis(ws: Worksheet, results: Results) -> None:
    row = sheet_title(ws, "Diagnosis — why no plan meets every requirement",
                      str(results.summary.get("scenario", "")))
    lines = list(results.summary.get("diagnosis") or [])
    if not lines:
        lines = ["HiGHS proved that no plan meets every requirement, and no single cause was "
                 "found before solving. Look at signed leases (start windows, MW), permits, "
                 "build months, the start limits per year and region, and funding settings "
                 "(cash floor, capex budget)."]
    frame = pd.DataFrame({"#": range(1, len(lines) + 1), "Finding": lines})
    first, last = write_table(ws, frame, "tblDiagnosis", top=row,
                              styles={"#": ColumnStyle("#", "0"),
                                      "Finding": ColumnStyle("Finding")})
    _align_rows(ws, first, last, wrap_columns=(2,))
    ws.column_dimensions["A"].width = 6
    ws.column_dimensions["B"].width = 110
    fit_row_heights(ws, first_row=first)
    report_sheet(ws, title_rows=f"{row}:{row}")


# ---------------------------------------------------------------------------------------------
# Chart data and charts
# ---------------------------------------------------------------------------------------------


def _block(ws: Worksheet, frame: pd.DataFrame, name: str, title: str, left: int,
           styles: dict[str, ColumnStyle]) -> dict[str, Any]:
    put(ws, 1, left, title, font=HEADING_FONT)
    first, last = write_table(ws, frame, name, top=2, left=left, styles=styles)
    return {"header": 2, "first": first, "last": max(last, first),
            "columns": {c: left + j for j, c in enumerate(frame.columns)}}


def _chart_data(ws: Worksheet, results: Results) -> dict[str, dict[str, Any]]:
    """The numbers behind every chart (USD in millions), as named tables side by side."""
    blocks: dict[str, dict[str, Any]] = {}
    monthly = plan_frames.mw_by_use(results.company_month)
    styles = {c: ColumnStyle(c, MUSD if "USD" in c else MW) for c in monthly.columns}
    styles["month"] = ColumnStyle("Month", MONTH)
    blocks["monthly"] = _block(ws, monthly, "tblChartMonthly", "Per month", 1, styles)

    years = plan_frames.by_year(results)
    yearly = pd.DataFrame({
        "year": years["year"].astype(int).astype(str),
        "Capex (USD m)": years["capex_usd"] / plan_frames.MUSD,
        "Mining revenue (USD m)": years["mining_revenue_usd"] / plan_frames.MUSD,
        "HPC revenue (USD m)": years["hpc_revenue_usd"] / plan_frames.MUSD,
        "EBITDA (USD m)": years["ebitda_usd"] / plan_frames.MUSD,
        "IT MW started": years["it_mw_started"],
    })
    styles = {c: ColumnStyle(c, MUSD if "USD" in c else MW) for c in yearly.columns}
    styles["year"] = ColumnStyle("Year")
    left = len(monthly.columns) + 2
    blocks["yearly"] = _block(ws, yearly, "tblChartYearly", "Per year", left, styles)

    timeline = plan_frames.gantt(results)
    if len(timeline):
        left += len(yearly.columns) + 1
        styles = {c: ColumnStyle(c, MONTH if "(" not in c else "0.00") for c in timeline}
        styles["Campus"] = ColumnStyle("Campus")
        blocks["gantt"] = _block(ws, timeline, "tblChartTimeline",
                                 "Conversion timeline (decimal years: 2027.5 = Jul 2027)",
                                 left, styles)
    fit_widths(ws, minimum=9, maximum=26, skip_rows={1})
    for cell in ws[2]:
        cell.alignment = Alignment(wrap_text=True, horizontal="center", vertical="center")
    fit_row_heights(ws, first_row=2)
    ws.freeze_panes = "A3"
    report_sheet(ws, title_rows="2:2")
    return blocks


def _charts(ws: Worksheet, data_ws: Worksheet, results: Results,
            blocks: dict[str, dict[str, Any]]) -> None:
    sheet_title(ws, "Charts", f"{results.summary.get('scenario', '')}: data on the "
                "Chart data sheet; USD in millions")
    m = blocks["monthly"]
    c = m["columns"]
    area = charts.mw_by_use(data_ws, m["header"], m["last"], c["month"], c["Mining (MW)"],
                            c["Spot let (IT MW)"],
                            [charts.COLORS[k] for k in ("mining", "construction", "leased",
                                                        "idle", "spot")])
    ws.add_chart(area, "A4")
    cash = charts.cash_and_debt(data_ws, m["header"], m["last"], c["month"],
                                c["Cash balance (USD m)"], c["Debt balance (USD m)"])
    ws.add_chart(cash, "L4")

    y = blocks["yearly"]
    c = y["columns"]
    ws.add_chart(charts.capex_by_year(data_ws, y["header"], y["last"], c["year"],
                                      c["Capex (USD m)"]), "A23")
    years = plan_frames.by_year(results)
    revenue = (years["mining_revenue_usd"] + years["hpc_revenue_usd"]) / plan_frames.MUSD
    ebitda = years["ebitda_usd"] / plan_frames.MUSD
    low, high = _nice_range(min(0.0, float(ebitda.min()), float(revenue.min())),
                            max(float(revenue.max()), float(ebitda.max()), 1.0))
    ws.add_chart(charts.revenue_mix(data_ws, y["header"], y["last"], c["year"],
                                    c["Mining revenue (USD m)"], c["HPC revenue (USD m)"],
                                    c["EBITDA (USD m)"], low, high), "L23")
    if "gantt" in blocks:
        g = blocks["gantt"]
        c = g["columns"]
        first_day, end_day = plan_frames.horizon_dates(results)
        ws.add_chart(charts.conversion_timeline(
            data_ws, g["header"], g["last"], c["Campus"], c["Construction start (year)"],
            c["Let (years)"], first_day.year, end_day.year + (end_day.month > 1)), "A42")
    else:
        put(ws, 42, 1, "No campus converts in this plan: no conversion timeline.")
    ws.row_breaks.append(Break(id=41))  # four charts on the first page, the timeline next
    report_sheet(ws)


def _nice_range(low: float, high: float) -> tuple[float, float]:
    """Axis bounds on round numbers that contain [low, high]."""
    span = max(high - low, 1.0)
    step = 10 ** len(str(int(span))) / 10
    for factor in (1, 2, 5, 10):
        if span / (step * factor / 10) <= 10:
            step = step * factor / 10
            break
    return math.floor(low / step) * step, math.ceil(high / step) * step


# ---------------------------------------------------------------------------------------------
# Detail sheets
# ---------------------------------------------------------------------------------------------

CAMPUS_PLAN_MEASURES = (
    ("Mining (MW at the meter)", "mining_mw", MW),
    ("IT under construction (IT MW)", "it_under_construction_mw", MW),
    ("IT ready (IT MW)", "it_ready_mw", MW),
    ("IT leased (IT MW)", "it_leased_mw", MW),
    ("Spot let (IT MW)", "spot_mw", MW),
    ("Net cash (USD m)", "net_cash_usd", USD_M),
)


def _campus_plan(rows: SheetRows, results: Results) -> None:
    """Campus × month, one block per measure; months as dates across the top."""
    ws = rows.ws
    top = sheet_title(ws, "Campus plan by month", "Campuses as rows, months across; one "
                      "block per measure. USD in millions.")
    cm = plan_frames.inside(results.campus_month)
    months = list(dict.fromkeys(cm["month"]))
    campuses = list(dict.fromkeys(cm["campus_id"].astype(str)))
    header = top
    put(ws, header, 1, "Measure / campus")
    for j, month in enumerate(months, start=2):
        put(ws, header, j, plan_frames.first_of_month(month), MONTH)
    style_header(ws, header, 1, len(months) + 1)
    row = header + 1
    keyed = cm.assign(campus_id=cm["campus_id"].astype(str)).set_index(["campus_id", "month"])
    band = [Look(font=BOLD, fill=BAND_FILL)] + [Look(fill=BAND_FILL)] * len(months)
    for title, column, fmt in CAMPUS_PLAN_MEASURES:
        if column == "spot_mw" and not (cm[column].astype(float) > 0).any():
            continue
        rows.append(row, 1, [title] + [None] * len(months), band)
        row += 1
        values = keyed[column].astype(float)
        # a month missing for a campus shows 0, a month present keeps its value (NaN: empty)
        grid = values.unstack("month", fill_value=0.0).reindex(
            index=campuses, columns=months, fill_value=0.0)
        looks = [Look()] + [Look(fmt)] * len(months)
        for campus, line in zip(campuses, grid.to_numpy().tolist()):
            rows.append(row, 1, [campus, *line], looks)
            row += 1
        totals = values.groupby(level="month").sum().reindex(months, fill_value=0.0)
        rows.append(row, 1, ["Total", *totals.tolist()],
                    [Look(font=BOLD)] + [Look(fmt, font=BOLD)] * len(months))
        row += 2
    ws.freeze_panes = f"B{header + 1}"  # by name: a cell object would be created below
    fit_widths(ws, minimum=9, maximum=34, skip_rows={1, 2}, bulk=rows)
    report_sheet(ws, title_rows=f"{header}:{header}", title_columns="A:A", fit_to_width=False)
    ws.sheet_properties.pageSetUpPr.fitToPage = True  # every row on a page, months across
    ws.page_setup.fitToWidth = 0
    ws.page_setup.fitToHeight = 1


def _what_changed(ws: Worksheet, results: Results) -> None:
    """A re-plan: the NPV bridge from the old plan, then every decision that changed."""
    replan = results.summary.get("replan") or {}
    top = sheet_title(ws, f"What changed — re-plan from {replan.get('from', '')}",
                      f"Old plan: {replan.get('old_result', '')}. Decisions before "
                      f"{replan.get('from', '')} are the old plan's"
                      + (" with the actuals" if replan.get("actuals") else "")
                      + ". USD in millions.")
    bridge = results.extra["npv_bridge"].rename(columns={"step": "Step", "usd": "USD m",
                                                         "note": "Note"})
    first, last = write_table(ws, bridge, "tblNpvBridge", top=top, styles={
        "Step": ColumnStyle("Step"), "USD m": ColumnStyle("USD m", USD_M),
        "Note": ColumnStyle("Note")})
    row = last + 3
    changes = results.extra["changes"]
    put(ws, row, 1, f"Decisions from {replan.get('from', '')} on that differ from the old plan "
                    f"({len(changes)})", font=HEADING_FONT)
    shown = changes.rename(columns={
        "kind": "Decision", "campus_id": "Campus", "offer_id": "Offer", "month": "Month",
        "old_value": "Old", "new_value": "New", "unit": "Unit", "description": "What"})
    write_table(ws, shown, "tblChanges", top=row + 1, styles={
        "Decision": ColumnStyle("Decision"), "Campus": ColumnStyle("Campus"),
        "Offer": ColumnStyle("Offer"), "Month": ColumnStyle("Month", MONTH, month=True),
        "Old": ColumnStyle("Old", "#,##0.0##"), "New": ColumnStyle("New", "#,##0.0##"),
        "Unit": ColumnStyle("Unit"), "What": ColumnStyle("What")})
    ws.column_dimensions["A"].width = 44
    for letter, width in zip("BCDEFGH", (16, 12, 10, 12, 12, 22, 70)):
        ws.column_dimensions[letter].width = width
    report_sheet(ws, title_rows=f"{top}:{top}")


def _leases(rows: SheetRows, results: Results) -> None:
    top = sheet_title(rows.ws, "Leases", "One row per accepted offer, campus and phase; one "
                      "row per declined offer (as in leases.csv). USD in millions.")
    _table_sheet(rows, results.leases, "tblLeases", top)


def _detail(rows: SheetRows, title: str, frame: pd.DataFrame, name: str) -> None:
    top = sheet_title(rows.ws, title.split(" (")[0], title)
    _table_sheet(rows, frame, name, top)


def _table_sheet(rows: SheetRows, frame: pd.DataFrame, name: str, top: int,
                 styles: dict[str, ColumnStyle] | None = None) -> None:
    """A data table under the sheet's title; its rows kept in `rows` (no wrapped or bold
    cells among them, so widths and row heights come out as if they were cells)."""
    ws = rows.ws
    write_table(ws, frame, name, top=top, styles=styles, bulk=rows)
    for cell in ws[top]:
        cell.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")
    ws.freeze_panes = f"B{top + 1}"  # by name: a cell object would be created below
    fit_widths(ws, minimum=9, maximum=48, skip_rows={1, 2, top}, bulk=rows)
    _header_widths(ws, top)
    fit_row_heights(ws, first_row=top)
    report_sheet(ws, title_rows=f"{top}:{top}")
    fit_legibly(ws)  # a table of 40 columns (Cash flow monthly) is not shrunk onto one page


def _header_widths(ws: Worksheet, row: int) -> None:
    """Wrapped headers: wide enough for their longest word (and at most three lines)."""
    for cell in ws[row]:
        if cell.value is None:
            continue
        letter = get_column_letter(cell.column)
        text = str(cell.value)
        longest = max(len(w) for w in text.split())
        current = ws.column_dimensions[letter].width or 8
        ws.column_dimensions[letter].width = max(current, longest + 3, len(text) / 3 + 2)


def _cash_flow(ws: Worksheet, results: Results) -> None:
    """Cash lines by year, signed (inflows +, costs in parentheses), with subtotals, the
    committed cash after the horizon, total and present value (PV of net cash = NPV)."""
    top = sheet_title(ws, "Cash flow by year", "USD in millions; inflows positive, costs in "
                      "parentheses; lines that are zero throughout are left out. PV of net "
                      "cash = NPV.")
    flows = plan_frames.cash_flow_by_year(results.company_month)
    labels = {**{line: LINE[line].label for line in flows["line"] if line in LINE},
              "operating_cash_usd": "Operating cash", "investing_cash_usd": "Investing cash",
              "financing_cash_usd": "Financing cash", "valuation_usd": "Valuation at the end",
              "net_cash_usd": "Net cash (equity)"}
    frame = flows.drop(columns=["kind"]).copy()
    frame["line"] = [labels[line] for line in flows["line"]]
    frame = frame.rename(columns={"line": "Cash line (USD m)"})
    styles = {c: ColumnStyle(str(c), USD_M) for c in frame.columns}
    styles["Cash line (USD m)"] = ColumnStyle("Cash line (USD m)")
    first, _ = write_table(ws, frame, "tblCashFlowByYear", top=top, styles=styles)
    subtotal = set(plan_frames.SUBTOTALS.values()) | {"net_cash_usd"}
    for i, line in enumerate(flows["line"]):
        if line in subtotal:
            for cell in ws[first + i]:
                cell.font = BOLD
    ws.freeze_panes = ws.cell(row=top + 1, column=2)
    fit_widths(ws, minimum=10, maximum=40, skip_rows={1, 2})
    report_sheet(ws, title_rows=f"{top}:{top}", title_columns="A:A")


def _cash_and_debt(rows: SheetRows, results: Results) -> None:
    top = sheet_title(rows.ws, "Company cash & debt", "Per month inside the horizon: cash balance "
                      "(opening cash, or 0, plus cash flows), debt and BTC. USD in millions.")
    co = plan_frames.inside(results.company_month)
    columns = ["month", "operating_cash_usd", "investing_cash_usd", "financing_cash_usd",
               "cash_balance_usd", "landlord_capex_usd", "debt_draw_usd", "interest_usd",
               "principal_usd", "debt_balance_usd", "btc_sold_btc", "btc_held_btc"]
    _table_sheet(rows, co[[c for c in columns if c in co]], "tblCashDebt", top)


# ---------------------------------------------------------------------------------------------
# Assumptions and About
# ---------------------------------------------------------------------------------------------


def _assumptions(ws: Worksheet, results: Results) -> None:
    top = sheet_title(ws, "Assumptions", "Every input of this run: scenario settings and "
                      "portfolio tables, so this file stands alone.")
    headers = write_assumptions(ws, results.assumptions, top)
    fit_widths(ws, minimum=8, maximum=30, skip_rows={1, 2, *headers})
    for row in headers[1:]:
        _header_widths(ws, row)
    ws.column_dimensions["A"].width = max(12, min(50, max(
        (len(str(c.value)) + 2 for c in ws["A"][headers[0]:headers[1] - 3]), default=12)))
    ws.column_dimensions["D"].width = max(ws.column_dimensions["D"].width or 0, 40)
    for row in ws.iter_rows(min_row=top + 1):
        for cell in row:
            if cell.value is not None and not (cell.font and cell.font.sz == 12):
                cell.alignment = Alignment(wrap_text=isinstance(cell.value, str),
                                           vertical="top")
    fit_row_heights(ws, first_row=top + 1)
    report_sheet(ws)


def _finished_at(text: Any) -> Any:
    try:
        stamp = dt.datetime.fromisoformat(str(text))
    except ValueError:
        return text
    if stamp.tzinfo is not None:
        stamp = stamp.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return stamp


def about_rows(summary: dict[str, Any]) -> list[tuple[str, Any, str | None]]:
    versions = summary.get("versions") or {}
    options = summary.get("solver_options") or {}
    size = summary.get("size") or {}
    baseline = summary.get("baseline") or {}
    audit = summary.get("audit") or {}
    gap = summary.get("mip_gap_pct")
    rows: list[tuple[str, Any, str | None]] = [
        ("Scenario", summary.get("scenario"), None),
        ("Description", summary.get("description"), None),
        ("Scenario file", summary.get("scenario_file"), None),
        ("Input hash", summary.get("input_hash"), None),
        ("Status", summary.get("status"), None),
        ("Plan quality", status_banner(summary)[0], None),
        ("Solver status", summary.get("highs_status"), None),
        ("NPV of equity cash (USD m)", summary.get("npv_usd"), USD_M),
        ("Solver objective (USD m)", summary.get("objective_usd"), USD_M),
        ("Best bound (USD m)", summary.get("best_bound_usd"), USD_M),
        ("MIP gap (%)", None if gap is None else gap / 100, "0.00##%"),
        ("Finished at (UTC)", _finished_at(summary.get("finished_at")), "yyyy-mm-dd hh:mm:ss"),
        ("Build time (s)", summary.get("build_seconds"), "0.00"),
        ("Solve time (s)", summary.get("solve_seconds"), "0.00"),
        ("Extract time (s)", summary.get("extract_seconds"), "0.00"),
        ("Solver", summary.get("solver", "HiGHS"), None),
    ]
    rows += [(f"Solver option: {k}", v, None) for k, v in options.items()]
    rows += [(f"Model size: {k}", v, INT) for k, v in size.items()]
    rows += [(f"Version: {k}", v, None) for k, v in versions.items()]
    if baseline:
        rows += [("Mining-only baseline: status", baseline.get("status"), None),
                 ("Mining-only baseline: NPV (USD m)", baseline.get("npv_usd"), USD_M)]
    if audit:
        rows.append(("Independent audit passed", audit.get("passed"), None))
    for warning in summary.get("warnings") or []:
        rows.append(("Warning", warning, None))
    return rows


def _about(ws: Worksheet, results: Results) -> None:
    top = sheet_title(ws, "About this run", "How this plan was produced: inputs, software, "
                      "solver settings and timings.")
    rows = about_rows(results.summary)
    put(ws, top, 1, "Item")
    put(ws, top, 2, "Value")
    for i, (label, value, fmt) in enumerate(rows, start=top + 1):
        put(ws, i, 1, label)
        shown = ("yes" if value else "no") if isinstance(value, bool) else value \
            if isinstance(value, (int, float, dt.datetime)) or value is None else str(value)
        put(ws, i, 2, shown, fmt).alignment = Alignment(horizontal="left", wrap_text=True)
    add_table(ws, "tblAbout", top, 1, top + len(rows), 2)
    ws.column_dimensions["A"].width = 36
    ws.column_dimensions["B"].width = 90
    report_sheet(ws, title_rows=f"{top}:{top}")
