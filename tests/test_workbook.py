"""plan.xlsx and comparison.xlsx as a user opens them: sheets, named tables, charts over the
right ranges with visible axes, number formats by unit, literal text from inputs, the status
banner, the Diagnosis sheet, the assumptions, `siteopt report` / `compare`, and a rendering
by LibreOffice when it is installed."""

from __future__ import annotations

import re
import shutil
import subprocess
import zipfile
from dataclasses import replace
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from cases import cli as run
from render import needs_libreoffice, pdf_pages, render_pdf

from siteopt.api import solve_scenario
from siteopt.export import plan_frames
from siteopt.export.assumptions import typed
from siteopt.export.comparison import assumption_differences, build_comparison
from siteopt.export.plan_workbook import NO_PLAN_SHEETS, PLAN_SHEETS, build_plan_workbook
from siteopt.export.results_folder import load_results, write_results
from siteopt.export.xlsx_style import MONTH, MW, PCT_INPUT, USD_M, column_style
from siteopt.inputs.schema import CAMPUSES
from siteopt.results.extract import LEASE_COLUMNS

INJECTIONS = ['=HYPERLINK("http://x","y")', "+1", "@SUM(A1)", "-2"]


@pytest.fixture(scope="module")
def book(base_plan):
    """The plan.xlsx that `write_results` wrote for the solved base scenario."""
    _, folder = base_plan
    return openpyxl.load_workbook(folder / "plan.xlsx")


def tables(wb) -> dict[str, tuple[str, object]]:
    return {table.displayName: (ws.title, table) for ws in wb.worksheets
            for table in ws.tables.values()}


def table_frame(wb, name: str) -> pd.DataFrame:
    title, table = tables(wb)[name]
    rows = [[c.value for c in row] for row in wb[title][table.ref]]
    return pd.DataFrame(rows[1:], columns=rows[0])


def chart_xml(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as zf:
        return [zf.read(n).decode() for n in sorted(zf.namelist())
                if re.match(r"xl/charts/chart\d+\.xml", n)]


# ---------------------------------------------------------------------------------------------
# Plan workbook
# ---------------------------------------------------------------------------------------------


def test_sheets_come_in_reading_order_summary_first(book):
    assert book.sheetnames == list(PLAN_SHEETS)
    assert book.active.title == "Summary"


def test_named_tables_are_unique_with_the_documented_headers(book):
    found = tables(book)
    names = [n.lower() for n in found]
    assert len(names) == len(set(names))
    for name in ("tblHeadline", "tblByYear", "tblCampusDecisions", "tblLeaseDecisions",
                 "tblLeases", "tblCashFlowByYear", "tblCashFlowMonthly", "tblCashDebt",
                 "tblCampusMonth", "tblScenario", "tblInputCampuses", "tblInputOffers",
                 "tblInputOfferPhases", "tblInputMarket", "tblAbout", "tblChartMonthly",
                 "tblChartYearly", "tblChartTimeline"):
        assert name in found, name
    assert list(table_frame(book, "tblLeases").columns) == \
        [column_style(c).header for c in LEASE_COLUMNS]
    assert list(table_frame(book, "tblHeadline").columns) == ["Measure", "Value", "Unit"]
    leases = book["Leases"]
    assert leases.freeze_panes == "B5"
    assert leases["A4"].value == "Offer"


def test_summary_stamps_status_and_headline_kpis(base_plan, book):
    results, _ = base_plan
    ws = book["Summary"]
    texts = [c.value for row in ws.iter_rows(max_row=6) for c in row if c.value]
    assert "Optimal" in texts
    headline = table_frame(book, "tblHeadline").set_index("Measure")
    kpis = results.summary["kpis"]
    assert headline.at["NPV of equity cash", "Value"] == pytest.approx(kpis["npv_usd"])
    assert headline.at["Value added over mining-only", "Value"] == \
        pytest.approx(kpis["value_added_usd"])
    assert headline.at["IRR of converting (incremental cash)", "Value"] == \
        pytest.approx(kpis["irr_pct"] / 100)
    assert headline.at["Total capex", "Value"] == pytest.approx(kpis["capex_gross_usd"])
    # MW converted by year: the kpis rows 'it_mw_started'
    by_year = table_frame(book, "tblByYear").set_index("Year")["IT MW started"]
    started = results.kpis[results.kpis["kpi"] == "it_mw_started"]
    assert dict(by_year) == pytest.approx(dict(zip(started["year"].astype(int),
                                                   started["value"].astype(float))))
    # decisions: every campus once; every offer at least once
    decisions = table_frame(book, "tblCampusDecisions")
    assert list(decisions["Campus"]) == list(dict.fromkeys(results.campus_month["campus_id"]))
    converted = decisions.set_index("Campus")["IT MW converted"]
    assert converted.sum() == pytest.approx(started["value"].sum())
    offers = table_frame(book, "tblLeaseDecisions")
    assert set(offers["Offer"]) == set(results.leases["offer_id"])
    signed = offers[offers["Offer"] == "OF-B"]
    assert set(signed["Decision"]) == {"Signed: deliver"}


def test_summary_decisions_follow_the_mining_in_the_plan(base_plan, book):
    """Each campus's decision is read from its campus_month rows: 'Keeps mining' only when it
    mines every month of the horizon. In the base plan ND-PRAI and QC-ESTR mine 0 MW from the
    April 2028 halving and WA-COLM from the start, each at a negative margin; NY-ERIE and
    ND-PRAI start with halls as built (ready, under construction)."""
    results, folder = base_plan
    decisions = table_frame(book, "tblCampusDecisions").set_index("Campus")["Decision"]
    cm = results.campus_month[results.campus_month["in_horizon"]]
    for campus_id, rows in cm.groupby("campus_id"):
        mines_throughout = bool((rows["mining_mw"] > 1e-6).all())
        says_it_stops = re.search(r"stops mining|part-time|no miners", decisions[campus_id],
                                  re.IGNORECASE)
        assert bool(says_it_stops) != mines_throughout, (campus_id, decisions[campus_id])
    assert decisions["QC-ESTR"].startswith("Stops mining from Apr 2028 (mining margin −")
    # the hall under construction at the horizon start is as built, not converted by the plan
    assert decisions["ND-PRAI"].startswith("Has 50 IT MW as built; stops mining from Apr 2028 "
                                           "(mining margin −")
    assert decisions["NY-ERIE"].startswith("Has 40 IT MW as built; converts 40 IT MW from ")
    assert decisions["WA-COLM"].startswith("Stops mining from Jan 2027 (mining margin −")
    assert decisions["TX-BARB"].startswith("Converts 200 IT MW from Sep 2027, 40 MW keep "
                                           "mining; stops mining from Apr 2032")
    # the same text from the result folder read back (what `siteopt report` rebuilds): the
    # narrative's campus sentences, which add idle halls to the decision
    from siteopt.export.narrative import campus_texts

    texts = plan_frames.campus_decision_texts(load_results(folder))
    assert campus_texts(load_results(folder)) == decisions.to_dict()
    assert all(decisions[c].startswith(t) for c, t in texts.items())


def test_payback_shows_a_month_with_no_unit_or_why_there_is_none(base_plan, book):
    results, _ = base_plan
    ws = book["Summary"]
    (row,) = [r for r in ws.iter_rows() if r[0].value == "Payback of converting"]
    month = results.summary["kpis"]["payback_month"]
    assert row[1].is_date and row[1].value.strftime("%Y-%m") == month
    assert row[1].number_format == MONTH
    assert row[2].value in (None, "")  # never "Jan 2035 month"
    same = {**results.summary["kpis"], "payback_month": None,
            "payback_note": "none (same as baseline)"}
    ws = build_plan_workbook(replace(results, summary={**results.summary, "kpis": same}))[
        "Summary"]
    (row,) = [r for r in ws.iter_rows() if r[0].value == "Payback of converting"]
    assert row[1].value == "none (same as baseline)"


def test_money_mw_percent_and_month_formats(book):
    ws = book["Leases"]
    header = {c.value: c.column for c in ws[4]}
    row = 5
    assert ws.cell(row, header["Lease NPV (USD m)"]).number_format == USD_M
    assert ws.cell(row, header["IT MW"]).number_format == MW
    assert ws.cell(row, header["Escalator (%/yr)"]).number_format == "0.0%"
    assert ws.cell(row, header["Escalator (%/yr)"]).value == pytest.approx(0.03)  # OF-R, 3 %
    start = ws.cell(row, header["Start month"])
    assert start.is_date and start.number_format == MONTH
    assert start.value.day == 1
    cash = book["Cash flow monthly"]
    header = {c.value: c.column for c in cash[4]}
    assert cash.cell(5, header["Capex (USD m)"]).number_format == USD_M
    assert cash.cell(5, header["Month"]).is_date
    assert book["Summary"].sheet_view.showGridLines is False
    assert book["Leases"].page_setup.orientation == "landscape"
    assert book["Leases"].print_title_rows == "$4:$4"


def test_campus_plan_is_wide_with_month_dates(base_plan, book):
    results, _ = base_plan
    ws = book["Campus plan"]
    months = [c.value for c in ws[4][1:]]
    assert months[0].year == 2027 and months[0].month == 1 and len(months) == 120
    assert ws.cell(4, 2).number_format == MONTH
    labels = [ws.cell(r, 1).value for r in range(5, ws.max_row + 1)]
    first_block = labels.index("Mining (MW at the meter)")
    campus = labels[first_block + 1]
    cm = results.campus_month
    expected = cm[(cm["campus_id"] == campus) & cm["in_horizon"]]["mining_mw"].tolist()
    row = 5 + first_block + 1
    assert [ws.cell(row, c).value for c in range(2, 122)] == pytest.approx(expected)


def test_charts_plot_the_chart_data_with_visible_axes(base_plan, book):
    _, folder = base_plan
    charts = book["Charts"]._charts
    assert len(charts) == 5
    area, cash, capex, revenue, timeline = charts
    data = book["Chart data"]
    monthly = table_frame(book, "tblChartMonthly")
    last = 2 + len(monthly)
    assert [s.val.numRef.f for s in area.series] == \
        [f"'Chart data'!${col}$3:${col}${last}" for col in "BCDEF"]
    assert [data.cell(2, c).value for c in range(2, 7)] == [
        "Mining (MW)", "Under construction (IT MW)", "HPC leased (IT MW)", "HPC idle (IT MW)",
        "Spot let (IT MW)"]
    assert [s.val.numRef.f for s in cash.series] == \
        [f"'Chart data'!$G$3:$G${last}", f"'Chart data'!$H$3:$H${last}"]
    years = len(table_frame(book, "tblChartYearly"))
    assert capex.series[0].val.numRef.f == f"'Chart data'!$K$3:$K${2 + years}"
    assert data["K2"].value == "Capex (USD m)"
    bars, line = revenue._charts
    assert [s.val.numRef.f for s in bars.series] == \
        [f"'Chart data'!$L$3:$L${2 + years}", f"'Chart data'!$M$3:$M${2 + years}"]
    assert line.series[0].val.numRef.f == f"'Chart data'!$N$3:$N${2 + years}"
    assert line.y_axis.axId == 200 and line.y_axis.crosses == "max"
    assert data["N2"].value == "EBITDA (USD m)"
    converting = table_frame(book, "tblChartTimeline")
    assert len(timeline.series) == 4 and timeline.type == "bar"
    assert timeline.series[0].graphicalProperties.noFill  # the offset is invisible
    assert len(converting) == 5  # campuses that convert in the base plan
    # every chart's numbers are on the sheet, as numbers (no formulas anywhere)
    assert all(isinstance(v, (int, float)) for v in monthly["Mining (MW)"])
    for ws in book.worksheets:
        assert not any(c.data_type == "f" for row in ws.iter_rows() for c in row)
    # every axis of every chart is written with <c:delete val="0"/>
    for xml in chart_xml(folder / "plan.xlsx"):
        axes = len(re.findall(r"<(?:\w+:)?(?:valAx|catAx|dateAx)>", xml))
        assert axes >= 2
        assert len(re.findall(r'<(?:\w+:)?delete val="0"\s*/>', xml)) == axes
        assert "USD m" in xml or "MW" in xml or "years" in xml  # units in titles


def test_assumptions_sheet_matches_the_inputs(base_plan, book):
    results, _ = base_plan
    settings = table_frame(book, "tblScenario").set_index("Key")
    given = results.assumptions["scenario"].set_index("key")["value"]
    assert list(settings.index) == list(given.index)
    assert settings.at["market.btc_price_usd", "Value"] == 90000
    assert settings.at["market.btc_price_growth_pct_per_year", "Value"] == pytest.approx(0.08)
    assert book["Assumptions"].cell(
        row=list(settings.index).index("market.btc_price_growth_pct_per_year")
        + _header_row(book, "tblScenario") + 1, column=2).number_format == PCT_INPUT
    assert settings.at["horizon.start", "Value"].year == 2027
    assert settings.at["name", "Value"] == "base"
    assert settings.at["market.btc_price_usd", "Unit"] == "USD/BTC"
    campuses = table_frame(book, "tblInputCampuses")
    inputs = results.assumptions["campuses"]
    # headers are the schema's labels, units in parentheses
    assert list(campuses.columns) == [CAMPUSES.column(c).label for c in inputs.columns]
    assert list(campuses["Campus ID"]) == list(inputs["campus_id"])
    assert list(campuses["Capex (USD/IT MW)"]) == list(inputs["capex_usd_per_it_mw"])
    assert campuses["Permit ready"].dropna().iloc[0].year == 2027
    for flag in ("finance.value_beyond_horizon", "solver.warm_start"):  # words, not 1/0
        assert settings.at[flag, "Value"] in ("true", "false")
    offers = table_frame(book, "tblInputOffers")
    assert list(offers["Signed"]) == ["true" if s else "false" for s in
                                      results.assumptions["offers"]["signed"]]
    assert len(table_frame(book, "tblInputMarket")) == 120


def _header_row(wb, name: str) -> int:
    _, table = tables(wb)[name]
    return int(re.match(r"[A-Z]+(\d+)", table.ref).group(1))


def test_about_this_run(base_plan, book):
    results, _ = base_plan
    about = table_frame(book, "tblAbout").set_index("Item")["Value"]
    summary = results.summary
    assert about["Input hash"] == summary["input_hash"]
    assert about["Scenario file"] == summary["scenario_file"]
    assert about["Version: siteopt"] == summary["versions"]["siteopt"]
    assert about["Version: highs"] == summary["versions"]["highs"]
    assert about["Solver option: time_limit_s"] == 300
    assert about["Status"] == "optimal"
    assert about["MIP gap (%)"] == pytest.approx(summary["mip_gap_pct"] / 100)
    assert about["Finished at (UTC)"].year >= 2024


def test_best_plan_found_banner_says_how_far_from_optimal(base_plan):
    results, _ = base_plan
    feasible = replace(results, summary={**results.summary, "status": "feasible",
                                         "mip_gap_pct": 0.5234})
    ws = build_plan_workbook(feasible)["Summary"]
    texts = [c.value for row in ws.iter_rows(max_row=6) for c in row if c.value]
    assert "Best plan found — within 0.52 % of optimal" in texts


def test_text_from_inputs_is_literal_never_a_formula(case, tmp_path):
    scenario = case(
        campuses=[{"campus_id": "C1", "name": INJECTIONS[0]},
                  {"campus_id": "-2", "name": INJECTIONS[2], "region": INJECTIONS[1]}],
        offers=[{"offer_id": "O1", "tenant": INJECTIONS[1], "campuses": "C1"},
                {"offer_id": "O2", "tenant": INJECTIONS[3], "it_mw": 20, "campuses": "-2"},
                {"offer_id": "O3", "tenant": INJECTIONS[0], "rate_usd_per_kw_month": 1}])
    results = solve_scenario(scenario)
    assert results.summary["status"] == "optimal"
    folder = tmp_path / "out"
    write_results(results, folder)
    rebuilt = tmp_path / "rebuilt.xlsx"
    assert run("report", folder, "-o", rebuilt).exit_code == 0  # via the CSV files
    for path in (folder / "plan.xlsx", rebuilt):
        wb = openpyxl.load_workbook(path)
        seen = {}
        for ws in wb.worksheets:
            for row in ws.iter_rows():
                for cell in row:
                    if cell.value in INJECTIONS or cell.value in ("-2", -2):
                        seen.setdefault(cell.value, []).append(cell)
        assert set(INJECTIONS) <= set(seen), seen.keys()
        assert -2 not in seen  # the campus id stays text
        for cells in seen.values():
            for cell in cells:
                assert cell.data_type == "s"
                assert cell.quotePrefix
        tenants = table_frame(wb, "tblLeases")["Tenant"]
        assert set(tenants) == {INJECTIONS[1], INJECTIONS[3], INJECTIONS[0]}


def test_infeasible_result_gets_a_diagnosis_instead_of_plan_sheets(case, tmp_path):
    scenario = case(
        campuses=[{"campus_id": "C1", "build_months": 12}],
        offers=[{"offer_id": "S1", "signed": "true", "earliest_start": "2027-01",
                 "latest_start": "2027-03"}])
    folder = tmp_path / "out"
    result = run("solve", scenario, "-o", folder)
    assert result.exit_code == 1
    wb = openpyxl.load_workbook(folder / "plan.xlsx")
    assert wb.sheetnames == list(NO_PLAN_SHEETS)
    texts = [c.value for row in wb["Summary"].iter_rows(max_row=6) for c in row if c.value]
    assert any(str(t).startswith("Infeasible") for t in texts)
    findings = table_frame(wb, "tblDiagnosis")["Finding"]
    diagnosis = load_results(folder).summary["diagnosis"]
    assert list(findings) == diagnosis and "S1" in diagnosis[0]
    assert "tblScenario" in tables(wb)


def test_report_rebuilds_the_workbook_from_a_result_folder(base_plan, tmp_path):
    results, folder = base_plan
    target = tmp_path / "board" / "plan.xlsx"
    result = run("report", folder, "-o", target)
    assert result.exit_code == 0, result.output
    wb = openpyxl.load_workbook(target)
    assert wb.sheetnames == list(PLAN_SHEETS)
    headline = table_frame(wb, "tblHeadline").set_index("Measure")["Value"]
    assert headline["NPV of equity cash"] == pytest.approx(results.summary["npv_usd"])
    assert len(wb["Charts"]._charts) == 5


def test_report_on_a_file_held_open_says_so_in_one_line(base_plan, tmp_path, monkeypatch):
    _, folder = base_plan
    target = tmp_path / "plan.xlsx"
    target.write_bytes((folder / "plan.xlsx").read_bytes())  # a workbook siteopt wrote
    held = target.read_bytes()

    def locked(src, dst):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("siteopt.export.files.os.replace", locked)
    result = run("report", folder, "-o", target)
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and str(target) in lines[0] and "Excel" in lines[0]
    assert target.read_bytes() == held
    assert not list(tmp_path.glob(".plan.xlsx.*"))


def test_report_refuses_a_folder_without_results(tmp_path):
    result = run("report", tmp_path)
    assert result.exit_code == 1
    assert "not a result folder" in result.stderr


# ---------------------------------------------------------------------------------------------
# Comparison
# ---------------------------------------------------------------------------------------------


def variant(results, name: str, btc: float, capex: float, npv_delta: float):
    """`results` as if solved with another BTC price and TX-ROCK capex."""
    settings = results.assumptions["scenario"].copy()
    settings.loc[settings["key"] == "name", "value"] = name
    settings.loc[settings["key"] == "market.btc_price_usd", "value"] = btc
    campuses = results.assumptions["campuses"].copy()
    campuses.loc[campuses["campus_id"] == "TX-ROCK", "capex_usd_per_it_mw"] = capex
    kpis = {**results.summary["kpis"], "npv_usd": results.summary["npv_usd"] + npv_delta}
    return replace(results, summary={**results.summary, "scenario": name, "kpis": kpis},
                   assumptions={**results.assumptions, "scenario": settings,
                                "campuses": campuses})


def test_compare_lists_inputs_that_differ_plainly(base_plan):
    results, _ = base_plan
    other = variant(results, "dear", 71091, 9_600_000, -1e8)
    texts = [d.text for d in assumption_differences(results, other)]
    assert texts == ["market.btc_price_usd: 90,000 → 71,091",
                     "campuses TX-ROCK capex_usd_per_it_mw: 8,000,000 → 9,600,000"]
    assert assumption_differences(results, results) == []


def test_compare_workbook_side_by_side(base_plan, tmp_path):
    results, folder = base_plan
    other = variant(results, "dear", 71091, 9_600_000, -1e8)
    write_results(other, tmp_path / "dear")
    target = tmp_path / "comparison.xlsx"
    result = run("compare", folder, tmp_path / "dear", "-o", target)
    assert result.exit_code == 0, result.output
    wb = openpyxl.load_workbook(target)
    assert wb.sheetnames == ["Comparison", "Decisions", "MW by year", "Capex by year",
                             "Assumption changes", "Scenarios", "Chart data"]
    kpis = table_frame(wb, "tblCompareKpis").set_index("Measure")
    assert list(kpis.columns) == ["Unit", "base", "dear", "dear − base"]
    assert kpis.at["NPV of equity cash", "dear − base"] == pytest.approx(-1e8)
    assert kpis.at["Status", "base"] == "Optimal"
    mw = table_frame(wb, "tblCompareMwByYear")
    assert list(mw.columns) == ["Year", "base", "dear"]
    started = results.kpis[results.kpis["kpi"] == "it_mw_started"]
    assert list(mw["base"][:-1]) == pytest.approx(list(started["value"].astype(float)))
    assert mw["Year"].iloc[-1] == "Total"
    capex = table_frame(wb, "tblCompareCapexByYear")
    assert capex["base"].iloc[-1] == pytest.approx(results.summary["kpis"]["capex_gross_usd"])
    assert wb["Capex by year"].cell(5, 2).number_format == USD_M
    changes = table_frame(wb, "tblAssumptionChanges")
    assert list(changes["Change"]) == [
        "market.btc_price_usd: 90,000 → 71,091",
        "campuses TX-ROCK capex_usd_per_it_mw: 8,000,000 → 9,600,000"]
    (chart,) = wb["Comparison"]._charts
    assert chart.series[0].val.numRef.f == "'Chart data'!$B$3:$B$4"
    assert wb["Chart data"]["B4"].value == pytest.approx(other.summary["kpis"]["npv_usd"] / 1e6)
    for xml in chart_xml(target):
        assert xml.count('delete val="0"') == 2
    # the NPV chart begins a page of its own (a break just above its anchor row)
    anchor_row = chart.anchor._from.row + 1
    assert [b.id for b in wb["Comparison"].row_breaks.brk] == [anchor_row - 1]
    assert pd.isna(kpis.at["Payback of converting", "Unit"])  # a month: no unit beside it


def test_compare_reads_assumptions_back_as_typed_values(base_plan):
    _, folder = base_plan
    loaded = load_results(folder)
    assert assumption_differences(loaded, loaded) == []
    assert typed("90000.0") == 90000 and typed("-2", text_only=True) == "-2"
    wb = build_comparison([loaded])
    assert table_frame(wb, "tblAssumptionChanges").dropna(how="all").empty


# ---------------------------------------------------------------------------------------------
# Rendering (optional: needs LibreOffice)
# ---------------------------------------------------------------------------------------------

def _check_rendered_plan(pdf: Path) -> None:
    assert pdf.is_file() and pdf.stat().st_size > 10_000
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", "-l", "3", str(pdf), "-"], check=True,
                              capture_output=True, text=True).stdout
        assert "Conversion plan — base" in text
        assert "Optimal" in text
        assert "Company MW by use" in text  # the charts were drawn
        assert "#####" not in text


@needs_libreoffice
def test_libreoffice_renders_the_first_pages_of_the_plan(base_plan, tmp_path):
    """The three pages the checks read (the whole plan is 100-odd pages and four times as
    long to render: `make test-all` renders it below)."""
    _, folder = base_plan
    pdf = render_pdf(folder / "plan.xlsx", tmp_path, pages="1-3")
    assert pdf_pages(pdf) >= 3  # 3, or every page on a LibreOffice before 7.4
    _check_rendered_plan(pdf)


@pytest.mark.slow
@needs_libreoffice
def test_libreoffice_renders_the_whole_plan_to_pdf(base_plan, tmp_path):
    _, folder = base_plan
    pdf = render_pdf(folder / "plan.xlsx", tmp_path)
    assert pdf_pages(pdf) > 3
    _check_rendered_plan(pdf)


def test_wide_tables_print_over_pages_across_at_a_legible_scale(book):
    """Cash flow monthly (about 40 columns) is not shrunk onto one page; the narrow Company
    cash & debt fits one page across; each names its rows on every page."""
    from siteopt.export.xlsx_style import pages_across

    monthly, cash = book["Cash flow monthly"], book["Company cash & debt"]
    assert monthly.page_setup.fitToWidth == pages_across(monthly) > 1
    assert monthly.print_title_cols == "$A:$A"
    assert cash.page_setup.fitToWidth == 1 and cash.sheet_properties.pageSetUpPr.fitToPage
    for ws in (monthly, cash):
        assert ws.page_setup.orientation == "landscape" and ws.page_setup.fitToHeight == 0


def test_about_this_run_says_plan_quality_not_jargon(book):
    items = [row[0].value for row in book["About this run"].iter_rows()]
    assert "Plan quality" in items and "Status stamped" not in items
