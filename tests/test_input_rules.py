"""The rules every input follows (issue 12): numbers read one way, every number in a range with
its unit, one rule for percentages, months in one calendar window, no duplicates in lists,
rows named by their id, files that stay inside the project, short escaped excerpts, scenario
names that are safe folder names, and derived values checked before a solve."""

from __future__ import annotations

import zipfile
from pathlib import Path

import openpyxl
import pytest
import yaml

from siteopt.inputs import load_inputs
from siteopt.inputs.errors import InputError
from siteopt.inputs.schema import CAMPUSES, OFFERS, TABLES

KEY_DEFAULTS = {  # a valid value for every scenario key the tests below vary one at a time
    "horizon": {"start": "2027-01", "months": 12},
    "market": {"btc_price_usd": 90000, "network_hashrate_ehs": 1000},
    "finance": {"debt": {"max_ltc_pct": 80, "rate_pct_per_year": 8, "tenor_months": 120}},
    "uncertainty": {"commit_months": 1, "scenarios": [{"name": "only", "probability_pct": 100}]},
    "sample": {"count": 2}, "btc_price": {"vol_pct_per_year": 10},
    "network_hashrate": {"vol_pct_per_year": 10}, "tenant_default": {"pct_per_year": 1},
}


def problems(scenario: Path, **kwargs) -> list[str]:
    with pytest.raises(InputError) as err:
        load_inputs(scenario, **kwargs)
    return [str(p) for p in err.value.problems]


def set_key(scenario: Path, key: str, value) -> None:
    settings = yaml.safe_load(scenario.read_text(encoding="utf-8"))
    *sections, leaf = key.split(".")
    node = settings
    for part in sections:
        node = node.setdefault(part, dict(KEY_DEFAULTS.get(part, {})) if part != "debt" else
                               dict(KEY_DEFAULTS["finance"]["debt"]))
        if part == "uncertainty" and key.startswith("uncertainty.sample."):
            node.pop("scenarios", None)  # sampled futures only: they share all of 100 %
    node[leaf] = value
    scenario.write_text(yaml.safe_dump(settings, sort_keys=False), encoding="utf-8")


def rules():
    from siteopt.inputs.schema import number_rules

    return number_rules()


def scenario_keys() -> list[str]:
    return [k for k in rules() if k.split(".")[0] not in TABLES]


def columns() -> list[str]:
    return [k for k in rules() if k.split(".")[0] in TABLES]


def column_value(table: str, column: str, value) -> dict:
    """case() arguments that put `value` into one cell of `table`."""
    if table == "offer_phases":
        return {"offers": [{"it_mw": 20}], "phases": [
            {"offer_id": "O1", "phase": 1, "it_mw": 10, "months_after_start": 0},
            {"offer_id": "O1", "phase": 2, "it_mw": 10, "months_after_start": 6, column: value}]}
    if table == "offers":
        return {"offers": [{column: value}]}
    if table == "construction":
        return {"construction": [{"campus_id": "C1", "it_mw": 10, "ready_month": "2027-06",
                                  "capex_remaining_usd": 1e6, column: value}]}
    return {"campuses": [{column: value}]}


# ---------------------------------------------------------------------------------------------
# 5. Numbers written as text
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "message"), [
    ("42,50", "expected a number (got '42,50' — a decimal comma? write 42.50)"),
    ("2.500,0", "expected a number (got '2.500,0' — a decimal comma? write 2500.0)"),
    ("1,0", "expected a number (got '1,0' — a decimal comma? write 1.0)"),
    ("1,00,000", "expected a number (got '1,00,000'; a comma is read only as a thousands "
                 "separator, as in 1,234,567)"),
    ("1,234,56", "expected a number (got '1,234,56'; a comma is read only as a thousands "
                 "separator, as in 1,234,567)"),
    ("1_0", "expected a number (got '1_0')"),
    ("12 000", "expected a number (got '12 000')"),
    ("0x10", "expected a number (got '0x10')"),
])
def test_a_comma_that_is_not_a_thousands_separator_is_refused(case, text, message):
    scenario = case(campuses=[{"power_price_usd_per_mwh": text}])

    assert problems(scenario) == [
        f"campuses.csv row 2 (campus C1), power_price_usd_per_mwh: {message}"]


@pytest.mark.parametrize(("text", "value"), [
    ("1,234,567", 1_234_567), ("1,234", 1234), ("+12", 12), (".5", 0.5), ("5.", 5),
    ("1e3", 1000), (" 42.50 ", 42.5), ("999,999.999", 999_999.999), ("1,000.", 1000),
])
def test_plain_and_thousands_grouped_numbers_are_read(case, text, value):
    scenario = case(campuses=[{"asic_salvage_usd_per_mw": text}])

    assert load_inputs(scenario).campuses.loc["C1", "asic_salvage_usd_per_mw"] == \
        pytest.approx(value)


def test_signed_numbers_in_text():
    from siteopt.inputs.schema import parse_number_text

    assert parse_number_text("-1,234.5") == -1234.5
    assert parse_number_text("-0.25") == -0.25


def test_a_decimal_comma_in_the_paths_csv_is_refused(case):
    scenario = case(market={"paths": "paths.csv"})
    (scenario.parent / "paths.csv").write_text('month,fees_btc_per_block\n2027-01,"0,25"\n',
                                               encoding="utf-8")

    assert problems(scenario) == [
        "paths.csv row 2 (month 2027-01), fees_btc_per_block: expected a number (got '0,25' — "
        "a decimal comma? write 0.25)"]


def test_thousands_separators_in_the_paths_csv_are_read(case):
    scenario = case(market={"paths": "paths.csv"}, horizon={"start": "2027-01", "months": 2})
    (scenario.parent / "paths.csv").write_text('month,btc_price_usd\n2027-02,"100,000"\n',
                                               encoding="utf-8")

    assert load_inputs(scenario).market["btc_price_usd"].tolist() == [90000, 100000]


def test_a_decimal_comma_in_a_quoted_yaml_number_is_refused(case):
    scenario = case(market={"btc_price_usd": "90000,50"})

    assert problems(scenario) == [
        "scenario scenario.yaml: market.btc_price_usd: expected a number (got '90000,50' — a "
        "decimal comma? write 90000.50)"]


def test_a_decimal_comma_in_an_xlsx_text_cell_is_refused(case):
    scenario = case()
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for table in (CAMPUSES, OFFERS):
        wb.create_sheet(table.name).append(table.column_names)
    wb["campuses"].append(["C1", "x", "", 100, "40,5", 100, 20, 0, 50, 10, 1.25, 1e7, 6])
    wb.save(scenario.parent / "book.xlsx")
    set_key(scenario, "portfolio", "book.xlsx")

    assert problems(scenario) == [
        "book.xlsx campuses!E2 (campus C1), power_price_usd_per_mwh: expected a number (got "
        "'40,5' — a decimal comma? write 40.5)"]


# ---------------------------------------------------------------------------------------------
# 6. xlsx cells that read as empty: formulas without a saved value, merged cells
# ---------------------------------------------------------------------------------------------


def workbook_case(case, edit) -> Path:
    """The default case as portfolio.xlsx, written by openpyxl after `edit(workbook)`."""
    scenario = case(campuses=[{"campus_id": "C1"}, {"campus_id": "C2"}])
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for table in (CAMPUSES, OFFERS):
        wb.create_sheet(table.name).append(table.column_names)
    for campus in ("C1", "C2"):
        wb["campuses"].append([campus, "x", "", 100, 40, 100, 20, 0, 50, 10, 1.25, 1e7, 6])
    edit(wb)
    wb.save(scenario.parent / "portfolio.xlsx")
    set_key(scenario, "portfolio", "portfolio.xlsx")
    return scenario


def test_a_formula_without_a_saved_value_is_refused(case):
    def formula(wb):  # openpyxl, like a script, saves formulas without calculating them
        wb["campuses"]["D3"] = "=D2*2"
    scenario = workbook_case(case, formula)

    assert problems(scenario) == [
        "portfolio.xlsx campuses!D3 (campus C2), grid_mw: formula '=D2*2' has no saved value; "
        "recalculate and save in Excel"]


def test_a_formula_with_its_saved_value_is_read(case):
    scenario = workbook_case(case, lambda wb: None)
    book = scenario.parent / "portfolio.xlsx"
    with zipfile.ZipFile(book) as zf:
        parts = {i.filename: zf.read(i) for i in zf.infolist()}
    sheet = next(n for n in parts if n.startswith("xl/worksheets/") and b"C2" in parts[n])
    xml = parts[sheet].decode()
    cell = xml[xml.index('<c r="D3"'):]
    cell = cell[:cell.index("</c>") + 4]
    parts[sheet] = xml.replace(cell, '<c r="D3"><f>D2*0.9</f><v>90</v></c>').encode()
    with zipfile.ZipFile(book, "w") as zf:
        for name, data in parts.items():
            zf.writestr(name, data)

    assert load_inputs(scenario).campuses.loc["C2", "grid_mw"] == 90


def test_merged_cells_are_refused(case):
    def merge(wb):
        wb["campuses"]["D3"] = None
        wb["campuses"].merge_cells("D2:D3")
    scenario = workbook_case(case, merge)

    assert problems(scenario) == [
        "portfolio.xlsx campuses!D2 (campus C1), grid_mw: merged cells D2:D3; unmerge them and "
        "fill in each cell (a merged range keeps its value in its first cell only)"]


def test_a_merged_range_over_several_columns_is_located_at_the_row(case):
    def merge(wb):
        wb["campuses"].merge_cells("B3:C3")
    scenario = workbook_case(case, merge)

    assert problems(scenario) == [
        "portfolio.xlsx campuses!B3:C3 (campus C2): merged cells B3:C3; unmerge them and fill in "
        "each cell (a merged range keeps its value in its first cell only)"]


# ---------------------------------------------------------------------------------------------
# 7. true/false is not a number
# ---------------------------------------------------------------------------------------------


MAPPINGS = ("limits.max_it_mw_started_per_year_by_region",  # no number alone: entries only
            "uncertainty.sample.offer_withdrawn_pct", "uncertainty.sample.permit_slip_months")


@pytest.mark.parametrize("key", [k for k in scenario_keys() if k not in MAPPINGS])
def test_true_is_not_a_number_for_any_scenario_key(case, key):
    scenario = case()
    set_key(scenario, key, True)
    whole = rules()[key].kind == "int"

    assert problems(scenario) == [f"scenario scenario.yaml: {key}: expected a "
                                  f"{'whole number' if whole else 'number'}, not true/false "
                                  f"(got true)"]


@pytest.mark.parametrize(("key", "value", "at"), [
    ("finance.capex_budget_usd_per_year", {2027: True}, "2027"),
    ("limits.max_it_mw_started_per_year_by_region", {"ERCOT": False}, "ERCOT"),
])
def test_true_is_not_a_number_in_a_mapping(case, key, value, at):
    scenario = case()
    set_key(scenario, key, value)
    shown = str(list(value.values())[0]).lower()

    assert problems(scenario) == [f"scenario scenario.yaml: {key}.{at}: expected a number, not "
                                  f"true/false (got {shown})"]


@pytest.mark.parametrize("key", columns())
def test_true_is_not_a_number_in_any_table_column(case, key):
    table, column = key.split(".")
    scenario = case(**column_value(table, column, "true"))
    whole = rules()[key].kind == "int"

    assert any(f", {column}: expected a {'whole number' if whole else 'number'} (got 'true')"
               in p for p in problems(scenario))


def test_true_is_not_a_number_in_an_xlsx_cell(case):
    scenario = workbook_case(case, lambda wb: wb["campuses"].cell(2, 13, True))

    assert problems(scenario) == [
        "portfolio.xlsx campuses!M2 (campus C1), build_months: expected a whole number, not "
        "true/false (got true)"]


def test_true_is_not_a_number_in_the_paths_csv(case):
    scenario = case(market={"paths": "paths.csv"})
    (scenario.parent / "paths.csv").write_text("month,btc_price_usd\n2027-01,true\n",
                                               encoding="utf-8")

    assert problems(scenario) == [
        "paths.csv row 2 (month 2027-01), btc_price_usd: expected a number (got 'true')"]


# ---------------------------------------------------------------------------------------------
# 8. Lists name each thing once
# ---------------------------------------------------------------------------------------------


def test_a_halving_month_listed_twice_is_refused(case):
    scenario = case(market={"halving_months": ["2028-04", "2032-04", "2028-04"]})

    assert problems(scenario) == [
        "scenario scenario.yaml: market.halving_months: 2028-04 listed more than once; each "
        "halving is listed once"]


def test_a_halving_month_given_as_a_date_and_as_text_is_the_same_month(case):
    scenario = case()
    text = scenario.read_text(encoding="utf-8").replace("halving_months: []",
                                                        "halving_months: [2028-04-01, '2028-04']")
    scenario.write_text(text, encoding="utf-8")

    assert problems(scenario) == [
        "scenario scenario.yaml: market.halving_months: 2028-04 listed more than once; each "
        "halving is listed once"]


@pytest.mark.parametrize(("ids", "message"), [
    ("C1;C1", "'C1' listed more than once (got 'C1;C1'); list each id once"),
    ("C1; C2 ;C1", "'C1' listed more than once (got 'C1; C2 ;C1'); list each id once"),
    ("C1;*", "'*' (every campus) stands alone (got 'C1;*')"),
])
def test_an_offer_names_each_campus_once(case, ids, message):
    scenario = case(campuses=[{"campus_id": "C1"}, {"campus_id": "C2"}],
                    offers=[{"campuses": ids}])

    assert problems(scenario) == [f"offers.csv row 2 (offer O1), campuses: {message}"]


# ---------------------------------------------------------------------------------------------
# 9. Every number has a range; months lie in one window; derived values are checked
# ---------------------------------------------------------------------------------------------


UNITLESS = {"offer_phases.phase", "solver.random_seed", "uncertainty.sample.seed",  # counts, ids
            "uncertainty.sample.network_hashrate.correlation_with_btc"}  # and ratios


@pytest.mark.parametrize("key", list(rules()))
def test_every_number_has_a_range_and_a_unit(key):
    rule = rules()[key]

    assert (rule.ge is not None or rule.gt is not None) and rule.le is not None, key
    assert rule.unit or key in UNITLESS, key


@pytest.mark.parametrize("key", list(rules()))
def test_out_of_range_says_the_range_with_its_unit(case, key):
    rule = rules()[key]
    too_big = int(rule.le * 10 + 10)
    section, name = key.rsplit(".", 1) if "." in key else ("", key)
    if section in TABLES:
        scenario = case(**column_value(section, name, str(too_big)))
    else:
        scenario = case()
        set_key(scenario, key, {2027: too_big} if key.endswith("capex_budget_usd_per_year")
                else {"ERCOT": too_big} if key.endswith("_by_region")
                else {"C1": {0: too_big}} if key.endswith("permit_slip_months")
                else {"O1": too_big} if key.endswith("offer_withdrawn_pct") else too_big)

    found = problems(scenario)

    assert any(p.endswith(f": must be {rule.range_text()} (got {too_big})") for p in found), \
        found
    assert rule.unit in rule.range_text()


@pytest.mark.parametrize(("key", "value", "message"), [
    ("market.network_hashrate_ehs", 1e-300,
     "must be between 0.1 and 100,000,000 EH/s (got 1e-300)"),
    ("market.btc_price_growth_pct_per_year", 1000, "must be between -90 and 300 %/yr (got 1000)"),
    ("solver.random_seed", 2**31, "must be between 0 and 2,147,483,647 (got 2147483648)"),
    ("finance.btc_treasury_btc", 22_000_000,
     "must be between 0 and 21,000,000 BTC (got 22000000)"),
    ("horizon.start", "9999-06", "must be a month between 2000-01 and 2199-12 (got 9999-06)"),
    ("horizon.start", "1999-12", "must be a month between 2000-01 and 2199-12 (got 1999-12)"),
])
def test_scenario_values_that_crashed_the_solve_are_refused(case, key, value, message):
    scenario = case()
    set_key(scenario, key, value)

    assert problems(scenario) == [f"scenario scenario.yaml: {key}: {message}"]


@pytest.mark.parametrize(("table", "column", "value", "message"), [
    ("campuses", "fleet_efficiency_j_per_th", "1e-300",
     "must be between 5 and 500 J/TH (got 1e-300)"),
    ("campuses", "hpc_block_it_mw", "1e-300",
     "must be between 0.1 and 10,000 IT MW (got 1e-300)"),
    ("campuses", "permit_ready", "0000-01",
     "must be a month between 2000-01 and 2199-12 (got 0000-01)"),
    ("offers", "signing_month", "2200-01",
     "must be a month between 2000-01 and 2199-12 (got 2200-01)"),
    ("offers", "rate_usd_per_kw_month", "1e9",
     "must be above 0 and at most 1,000 USD/IT kW-month (got 1000000000)"),
])
def test_table_values_that_crashed_the_solve_are_refused(case, table, column, value, message):
    scenario = case(**column_value(table, column, value))

    found = problems(scenario)

    assert f"({'campus C1' if table == 'campuses' else 'offer O1'}), {column}: {message}" in \
        found[0], found


def test_a_month_in_the_paths_csv_lies_in_the_calendar_window(case):
    scenario = case(market={"paths": "paths.csv"})
    (scenario.parent / "paths.csv").write_text("month,btc_price_usd\n2027-01,1\n9999-01,1\n",
                                               encoding="utf-8")

    assert problems(scenario) == [
        "paths.csv row 3, month: must be a month between 2000-01 and 2199-12 (got 9999-01)"]


def test_a_budget_year_lies_in_the_calendar_window(case):
    scenario = case(finance={"capex_budget_usd_per_year": {2027: 1e6, 1066: 1e6}})

    assert problems(scenario) == [
        "scenario scenario.yaml: finance.capex_budget_usd_per_year.1066: must be a year between "
        "2000 and 2199 (got 1066)"]


def test_a_paths_csv_with_no_month_in_the_horizon_is_refused(case):
    scenario = case(market={"paths": "paths.csv"})
    (scenario.parent / "paths.csv").write_text("month,btc_price_usd\n2040-01,1\n2030-05,2\n",
                                               encoding="utf-8")

    assert problems(scenario) == [
        "paths.csv: no month inside the horizon (2027-01 to 2027-12): its months run from "
        "2030-05 to 2040-01, so it would change nothing"]


def test_growth_that_compounds_out_of_range_is_refused_before_a_solve(case):
    scenario = case(horizon={"months": 600},
                    market={"btc_price_growth_pct_per_year": 300})

    assert problems(scenario) == [
        "scenario scenario.yaml: market.btc_price_growth_pct_per_year: btc_price_usd reaches "
        "1.03e+08 in 2032-02 (from market.btc_price_usd growing at "
        "market.btc_price_growth_pct_per_year); it must stay between 1 and 100,000,000 USD/BTC",
        "scenario scenario.yaml: market: hashprice_usd_per_ph_day reaches 1.05e+05 in 2032-09 "
        "(from the BTC price, network hashrate, block_subsidy_btc and fees_btc_per_block of "
        "that month); it must stay above 0 and at most 100,000 USD/PH/s/day"]


def test_a_shrinking_network_is_refused_where_its_hashrate_leaves_the_range(case):
    scenario = case(horizon={"months": 600},
                    market={"network_hashrate_growth_pct_per_year": -50})
    (scenario.parent / "child.yaml").write_text(
        "extends: scenario.yaml\nname: child\n", encoding="utf-8")

    found = problems(scenario.parent / "child.yaml")

    assert found[0].startswith(
        "scenario scenario.yaml: market.network_hashrate_growth_pct_per_year: "
        "network_hashrate_ehs reaches 0.0969 in 2040-05 (from market.network_hashrate_ehs "
        "growing at market.network_hashrate_growth_pct_per_year); it must stay between 0.1 and "
        "100,000,000 EH/s")


def test_a_hashprice_path_is_checked_also_when_the_paths_file_sets_it(case):
    scenario = case(market={"paths": "paths.csv", "btc_price_usd": 100_000_000,
                            "network_hashrate_ehs": 0.1})

    (scenario.parent / "paths.csv").write_text("month,hashprice_usd_per_ph_day\n2027-01,40\n",
                                               encoding="utf-8")

    assert problems(scenario) == [
        "scenario scenario.yaml: market: hashprice_usd_per_ph_day reaches 4.5e+08 in 2027-02 "
        "(from the BTC price, network hashrate, block_subsidy_btc and fees_btc_per_block of "
        "that month or market.paths); it must stay above 0 and at most 100,000 USD/PH/s/day"]


def test_mining_margins_must_be_finite_and_sane():
    import pandas as pd

    from siteopt.inputs.market import check_margins

    market = pd.DataFrame({"month": ["2027-01", "2027-02"], "days": [31, 28],
                           "hashprice_usd_per_ph_day": [40.0, float("inf")]})
    campus = pd.Series({"fleet_efficiency_j_per_th": 20.0, "power_price_usd_per_mwh": 40.0,
                        "mining_opex_usd_per_mw_month": 0.0})

    found = check_margins(market, campus)

    assert (found.month, found.value) == ("2027-02", float("inf"))
    assert check_margins(market.iloc[:1], campus) is None


def test_the_shipped_scenarios_are_inside_every_range():
    root = Path(__file__).resolve().parents[1]
    for path in sorted((root / "scenarios").glob("*.yaml")):
        assert load_inputs(path).months, path.name


# ---------------------------------------------------------------------------------------------
# 10. One rule for every percentage
# ---------------------------------------------------------------------------------------------


def percent_keys() -> list[str]:
    return [k for k, r in rules().items() if "_pct" in k.rsplit(".", 1)[-1]]


def test_every_percentage_is_named_pct_and_the_exemption_is_explicit():
    assert len(percent_keys()) >= 10
    assert all(r.unit.startswith("%") for k, r in rules().items() if k in percent_keys())
    # a mapping of months late → probability %, named by what its keys count; a default
    # rate of 0.5 %/yr is no fraction (the issue names both)
    named_by_keys = ["uncertainty.sample.permit_slip_months",
                     "uncertainty.sample.tenant_default.pct_per_year"]
    assert [k for k, r in rules().items() if r.unit.startswith("%")
            and k not in named_by_keys] == percent_keys()
    assert [k for k in percent_keys() if rules()[k].small_percent_ok] == ["solver.mip_gap_pct"]


@pytest.mark.parametrize("key", percent_keys())
def test_a_fraction_in_any_percentage_is_refused_unless_the_schema_exempts_it(case, key):
    section, column = key.rsplit(".", 1)
    if section in TABLES:
        scenario = case(**column_value(section, column, "0.08"))
    elif key.endswith("offer_withdrawn_pct"):  # a mapping: its entry is located
        scenario = case()
        set_key(scenario, key, {"O1": 0.08})
        column = f"{column}.O1"
    else:
        scenario = case()
        set_key(scenario, key, 0.08)

    if rules()[key].small_percent_ok:
        load_inputs(scenario)  # 0.01 % is a normal MIP gap
        return
    found = problems(scenario)
    assert len(found) == 1 and found[0].endswith(
        f"{column}: 0.08 looks like a fraction; write percent (8)"), found


# ---------------------------------------------------------------------------------------------
# 11. Rows named by their id; references checked with the cells
# ---------------------------------------------------------------------------------------------


def test_every_table_names_its_rows_by_their_key(case):
    scenario = case(campuses=[{"hpc_pue": 9}], offers=[{"it_mw": 20, "term_months": 0}],
                    phases=[{"offer_id": "O1", "phase": 1, "it_mw": 10, "months_after_start": 0},
                            {"offer_id": "O1", "phase": 2, "it_mw": -10,
                             "months_after_start": 6}])

    assert problems(scenario) == [
        "campuses.csv row 2 (campus C1), hpc_pue: must be between 1 and 3 MW/IT MW (got 9)",
        "offers.csv row 2 (offer O1), term_months: must be between 1 and 600 months (got 0)",
        "offer_phases.csv row 3 (offer O1 phase 2), it_mw: must be above 0 and at most 10,000 "
        "IT MW (got -10)"]


def test_unknown_campuses_come_with_the_cell_problems_and_a_suggestion(case):
    scenario = case(campuses=[{"campus_id": "TX-ROCK"}, {"campus_id": "TX-BARB"}],
                    offers=[{"campuses": "TX-ROKC;TX-BARB;ZZ", "it_mw": "lots"}])

    assert problems(scenario) == [
        "offers.csv row 2 (offer O1), it_mw: expected a number (got 'lots')",
        "offers.csv row 2 (offer O1), campuses: unknown campus 'TX-ROKC' (did you mean "
        "'TX-ROCK'? known: TX-BARB, TX-ROCK)",
        "offers.csv row 2 (offer O1), campuses: unknown campus 'ZZ' (known: TX-BARB, TX-ROCK)"]


def test_unknown_offers_in_phases_come_with_a_suggestion(case):
    scenario = case(offers=[{"offer_id": "OF-A", "it_mw": 10}],
                    phases=[{"offer_id": "OF-B", "phase": 1, "it_mw": 10,
                             "months_after_start": 0}])

    assert problems(scenario) == [
        "offer_phases.csv row 2, offer_id: unknown offer 'OF-B' (did you mean 'OF-A'? known: "
        "OF-A)"]


def test_a_long_list_of_known_ids_is_cut_short(case):
    campuses = [{"campus_id": f"C{i:02d}"} for i in range(15)]
    scenario = case(campuses=campuses, offers=[{"campuses": "XX"}])

    assert problems(scenario) == [
        "offers.csv row 2 (offer O1), campuses: unknown campus 'XX' (known: C00, C01, C02, C03, "
        "C04, C05, C06, C07, C08, C09, … (15 in all))"]


# ---------------------------------------------------------------------------------------------
# 12. Files stay inside the project; messages quote short, escaped excerpts
# ---------------------------------------------------------------------------------------------


SECRET = "SECRET-LINE-root:x:0:0"


@pytest.fixture
def outside_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("elsewhere") / "secret.csv"
    path.write_text(f"{SECRET}\n{SECRET}\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("name", ["campuses", "offers", "offer_phases"])
def test_a_table_that_links_outside_the_project_is_not_read(case, outside_file, name):
    scenario = case()
    (scenario.parent / ".siteopt").touch()
    link = scenario.parent / "portfolio" / f"{name}.csv"
    link.unlink(missing_ok=True)
    link.symlink_to(outside_file)

    found = problems(scenario)

    assert found == [f"portfolio/{name}.csv: links outside the project folder "
                     f"{scenario.parent} (resolves to {outside_file}); copy the file into the "
                     f"portfolio folder instead"]
    assert SECRET not in "\n".join(found)


def test_a_portfolio_on_the_command_line_keeps_its_files_inside_it(case, outside_file):
    scenario = case()
    portfolio = scenario.parent / "portfolio"
    (portfolio / "campuses.csv").rename(scenario.parent / "campuses.csv")
    (portfolio / "campuses.csv").symlink_to(scenario.parent / "campuses.csv")

    found = problems(scenario, portfolio=portfolio)

    assert found == [f"portfolio/campuses.csv: links outside the portfolio folder {portfolio} "
                     f"(resolves to {scenario.parent / 'campuses.csv'}); copy the file into the "
                     f"portfolio folder instead"]


def test_links_that_stay_inside_are_fine(case):
    scenario = case()
    (scenario.parent / ".siteopt").touch()
    portfolio = scenario.parent / "portfolio"
    (portfolio / "campuses.csv").rename(portfolio / "campuses-2027.csv")
    (portfolio / "campuses.csv").symlink_to("campuses-2027.csv")

    assert list(load_inputs(scenario).campuses.index) == ["C1"]
    assert list(load_inputs(scenario, portfolio=portfolio).campuses.index) == ["C1"]


def test_a_paths_file_that_links_outside_the_project_is_not_read(case, outside_file):
    scenario = case(market={"paths": "paths.csv"})
    (scenario.parent / ".siteopt").touch()
    (scenario.parent / "paths.csv").symlink_to(outside_file)

    found = problems(scenario)

    assert found[0].startswith("scenario scenario.yaml: market.paths: ")
    assert "leaves the project folder" in found[0] and SECRET not in found[0]


def test_a_long_cell_with_control_characters_is_quoted_short_and_escaped(case):
    scenario = case(campuses=[{"grid_mw": "\x1b]0;pwned\x07" + "9" * 10_000}])

    (found,) = problems(scenario)

    assert found == ("campuses.csv row 2 (campus C1), grid_mw: expected a number (got "
                     "'\\x1b]0;pwned\\x07" + "9" * 50 + "'… (10,010 characters))")


def test_a_hostile_header_is_quoted_short_and_escaped(case):
    scenario = case()
    path = scenario.parent / "portfolio" / "campuses.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    header = "\u202eevil" + "x" * 500
    path.write_text(f'{lines[0]},"{header}"\n{lines[1]},1\n', encoding="utf-8")

    (found,) = problems(scenario)

    assert found.startswith("campuses.csv, column '\\u202eevil" + "x" * 55 + "'… (505 "
                            "characters): unknown column (expected: campus_id")
    assert "\u202e" not in found


def test_a_hostile_yaml_key_and_value_are_quoted_short_and_escaped(case):
    scenario = case()
    settings = yaml.safe_load(scenario.read_text(encoding="utf-8"))
    settings["market"]["btc_price_usd"] = list(range(5000))
    settings["market"]["evil\nkey" + "k" * 300] = 1
    scenario.write_text(yaml.safe_dump(settings), encoding="utf-8")

    found = problems(scenario)

    assert all(len(p) < 600 and "\n" not in p for p in found), found
    assert any(p.startswith("scenario scenario.yaml: market.'evil\\nkey") for p in found)
    assert any("market.btc_price_usd: expected a number (got [0, 1, 2" in p for p in found)


def test_problems_escape_control_characters_in_where_and_message():
    from siteopt.inputs.errors import Problem, excerpt

    assert str(Problem("a\nb.csv", "got \x1b[2J")) == "a\\nb.csv: got \\x1b[2J"
    assert excerpt("x" * 100, 5) == "'xxxxx'… (100 characters)"
    assert excerpt(["a\nb"]) == "['a\\nb']"


# ---------------------------------------------------------------------------------------------
# 14. Scenario names are safe folder names (the rules themselves: tests/test_validation.py)
# ---------------------------------------------------------------------------------------------


def test_every_file_siteopt_writes_next_to_scenario_folders_is_a_reserved_name():
    import re

    from siteopt.inputs.schema import RESERVED_NAMES

    root = Path(__file__).resolve().parents[1] / "siteopt"
    writers = [*root.glob("export/*.py"), *root.glob("cli/*.py"), *root.glob("runs/*.py")]
    written = {name for path in writers for name in
               re.findall(r"\"([a-z_]+\.(?:csv|xlsx|json))\"", path.read_text(encoding="utf-8"))}
    inputs_only = {"bench_results.csv"}  # the benchmark's default file in the working folder

    assert written - inputs_only <= RESERVED_NAMES, written - RESERVED_NAMES
    assert {"inputs", "scenarios"} <= RESERVED_NAMES


def test_solver_options_from_the_command_line_get_the_schema_ranges(case):
    from siteopt.api import with_solver_options

    inputs = load_inputs(case())

    with pytest.raises(InputError) as err:
        with_solver_options(inputs, time_limit_s=1e8, threads=True)

    assert [str(p) for p in err.value.problems] == [
        "solver.time_limit_s (command line): must be above 0 and at most 10,000,000 s (got "
        "100000000)",
        "solver.threads (command line): expected a whole number, not true/false (got true)"]


@pytest.mark.parametrize(("text", "message"), [
    ("start: 2027-02-30", "not valid YAML at line 4, column 10: '2027-02-30' cannot be read "
                          "(day is out of range for month)"),
    ("start: " + "9" * 5000, "not valid YAML at line 4, column 10: '" + "9" * 60 + "'… (5,000 "
                             "characters) cannot be read (Exceeds the limit (4300 digits)"),
])
def test_yaml_values_python_cannot_construct_are_located(case, text, message):
    scenario = case()
    source = scenario.read_text(encoding="utf-8")
    scenario.write_text(source.replace("start: 2027-01", text, 1), encoding="utf-8")

    (found,) = problems(scenario)

    assert found.startswith(f"scenario scenario.yaml: {message}"), found


def test_a_number_too_large_for_a_float_is_not_finite():
    from siteopt.inputs.schema import Market

    with pytest.raises(ValueError, match="btc_price_usd\n  Value error, must be a finite number"):
        Market(btc_price_usd=10**400, network_hashrate_ehs=1000)


def test_a_budget_year_given_twice_is_refused(case):
    scenario = case()  # two YAML keys, one year: a dict in Python cannot write it
    text = scenario.read_text(encoding="utf-8").replace(
        "finance:\n", "finance:\n  capex_budget_usd_per_year: {2027: 1000000, '2027': 2000}\n")
    scenario.write_text(text, encoding="utf-8")

    assert problems(scenario) == [
        "scenario scenario.yaml: finance.capex_budget_usd_per_year.2027: year 2027 is given "
        "more than once"]


def test_a_percent_formatted_xlsx_cell_is_what_it_shows(case):
    def half_percent(wb):  # 0.5 % typed into a cell formatted as percent is stored as 0.005
        ws = wb["offers"]
        ws.append(["O1", "T", 10, 150, 0.005, 120, "2027-01", "2027-12"])
        ws["E2"].number_format = "0.0%"
    scenario = workbook_case(case, half_percent)

    assert load_inputs(scenario).offers.loc["O1", "escalator_pct_per_year"] == \
        pytest.approx(0.5)


def test_a_percent_sign_in_text_says_the_value_is_a_percentage(case):
    inputs = load_inputs(case(offers=[{"escalator_pct_per_year": "0.5%"}]))

    assert inputs.offers.loc["O1", "escalator_pct_per_year"] == 0.5


@pytest.mark.parametrize("key", ["portfolio", "market.paths"])
def test_a_path_with_a_nul_byte_is_refused_not_a_traceback(case, key):
    scenario = case()
    set_key(scenario, key, "port\x00folio")

    assert problems(scenario) == [f"scenario scenario.yaml: {key}: {scenario.parent}/"
                                  f"port\\x00folio cannot be resolved (embedded null byte)"]
