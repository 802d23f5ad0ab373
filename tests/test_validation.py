"""Validation: one test per rule, each asserting the exact message a user reads."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
import yaml

from siteopt.inputs import load_inputs
from siteopt.inputs.errors import InputError, escape_controls, excerpt
from siteopt.inputs.schema import CAMPUSES, OFFERS, Scenario, Solver

CAMPUS_COLUMNS = ", ".join(CAMPUSES.column_names)
SCENARIO_KEYS = ", ".join(sorted(Scenario.model_fields))
SOLVER_KEYS = ", ".join(sorted(Solver.model_fields))


def problems(scenario: Path) -> list[str]:
    with pytest.raises(InputError) as err:
        load_inputs(scenario)
    assert str(err.value) == "\n".join(str(p) for p in err.value.problems)
    return [str(p) for p in err.value.problems]


def table(scenario: Path, name: str) -> Path:
    return scenario.parent / "portfolio" / f"{name}.csv"


def edit_text(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def add_column(path: Path, header: str, values: list[str]) -> None:
    """Append a column (header and one value per data row) to a CSV."""
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(values) == len(lines) - 1
    path.write_text("".join(f"{line},{cell}\n" for line, cell in zip(lines, [header, *values])),
                    encoding="utf-8")


def drop_column(path: Path, name: str) -> None:
    rows = [line.split(",") for line in path.read_text(encoding="utf-8").splitlines()]
    drop = rows[0].index(name)
    path.write_text("".join(",".join(r[:drop] + r[drop + 1:]) + "\n" for r in rows),
                    encoding="utf-8")


def edit_yaml(scenario: Path, change) -> None:
    settings = yaml.safe_load(scenario.read_text(encoding="utf-8"))
    change(settings)
    scenario.write_text(yaml.safe_dump(settings, sort_keys=False), encoding="utf-8")


THREE = [{"campus_id": "C1"}, {"campus_id": "C2"}, {"campus_id": "C3"}]


def test_the_default_case_is_valid(case):
    inputs = load_inputs(case(offers=[{}]))

    assert inputs.warnings == ()
    assert list(inputs.campuses.index) == ["C1"]
    assert inputs.offers.loc["O1", "campuses"] == ("C1",)  # '*' = every campus


# ---------------------------------------------------------------------------------------------
# Cells
# ---------------------------------------------------------------------------------------------


def test_required_value_missing(case):
    scenario = case(campuses=[{"grid_mw": ""}])

    assert problems(scenario) == [
        "campuses.csv row 2 (campus C1), grid_mw: required value is missing"]


def test_optional_value_missing_takes_its_default(case):
    inputs = load_inputs(case(campuses=[{"region": "", "mining_opex_usd_per_mw_month": ""}],
                              offers=[{"escalator_pct_per_year": "", "campuses": "",
                                       "signed": ""}]))

    assert inputs.campuses.loc["C1", "region"] == ""
    assert inputs.campuses.loc["C1", "mining_opex_usd_per_mw_month"] == 0.0
    assert inputs.campuses.loc["C1", "permit_ready"] is None
    offer = inputs.offers.loc["O1"]
    assert (offer["escalator_pct_per_year"], offer["campuses"], offer["signed"]) == \
        (0.0, ("C1",), False)


def test_lower_bound_ge(case):
    scenario = case(campuses=[*THREE[:2], {"campus_id": "C3", "hpc_pue": 0.9}])

    assert problems(scenario) == [
        "campuses.csv row 4 (campus C3), hpc_pue: must be between 1 and 3 MW/IT MW (got 0.9)"]


def test_lower_bound_gt(case):
    scenario = case(campuses=[{"grid_mw": 0}])

    assert problems(scenario) == [
        "campuses.csv row 2 (campus C1), grid_mw: must be above 0 and at most 10,000 MW (got 0)"]


def test_upper_bound_le(case):
    scenario = case(campuses=[{"hpc_pue": 3.5, "build_months": 61}])

    assert problems(scenario) == [
        "campuses.csv row 2 (campus C1), hpc_pue: must be between 1 and 3 MW/IT MW (got 3.5)",
        "campuses.csv row 2 (campus C1), build_months: must be between 1 and 60 months (got 61)"]


def test_bounds_are_inclusive(case):
    inputs = load_inputs(case(campuses=[{"hpc_pue": 1.0, "build_months": 60, "miner_mw": 0}]))

    assert inputs.campuses.loc["C1", ["hpc_pue", "build_months", "miner_mw"]].tolist() == \
        [1.0, 60, 0.0]


def test_not_a_number(case):
    scenario = case(campuses=[{"grid_mw": "lots"}])

    assert problems(scenario) == [
        "campuses.csv row 2 (campus C1), grid_mw: expected a number (got 'lots')"]


def test_not_a_finite_number(case):
    scenario = case(campuses=[{"grid_mw": "inf"}])

    assert problems(scenario) == [
        "campuses.csv row 2 (campus C1), grid_mw: must be a finite number (got 'inf')"]


def test_numbers_may_have_thousands_separators_and_percent_signs(case):
    inputs = load_inputs(case(campuses=[{"capex_usd_per_it_mw": "10,000,000"}],
                              offers=[{"escalator_pct_per_year": "3%"}]))

    assert inputs.campuses.loc["C1", "capex_usd_per_it_mw"] == 10_000_000
    assert inputs.offers.loc["O1", "escalator_pct_per_year"] == 3.0


def test_whole_number(case):
    scenario = case(campuses=[{"build_months": "6.5"}])

    assert problems(scenario) == [
        "campuses.csv row 2 (campus C1), build_months: expected a whole number (got '6.5')"]


def test_month_format(case):
    scenario = case(campuses=[{"permit_ready": "2027-13"}],
                    offers=[{"earliest_start": "Jan 2027"}])

    assert problems(scenario) == [
        "campuses.csv row 2 (campus C1), permit_ready: expected a month as YYYY-MM (got "
        "'2027-13')",
        "offers.csv row 2 (offer O1), earliest_start: expected a month as YYYY-MM (got "
        "'Jan 2027')",
    ]


def test_bool(case):
    scenario = case(offers=[{"signed": "maybe"}])

    assert problems(scenario) == [
        "offers.csv row 2 (offer O1), signed: expected true or false (got 'maybe')"]


@pytest.mark.parametrize(("text", "value"), [("TRUE", True), ("yes", True), ("0", False),
                                             ("No", False)])
def test_bool_spellings(case, text, value):
    inputs = load_inputs(case(offers=[{"signed": text, "it_mw": 10}]))

    assert inputs.offers.loc["O1", "signed"] is value


def test_id_format(case):
    scenario = case(campuses=[{"campus_id": "C 1"}])

    assert problems(scenario) == [
        "campuses.csv row 2, campus_id: expected an id of letters, digits, '-', '_' or '.' "
        "(at most 64 characters; got 'C 1')"]


def test_id_list(case):
    scenario = case(campuses=THREE[:2], offers=[{"campuses": "C1, C2"}])

    assert problems(scenario) == [
        "offers.csv row 2 (offer O1), campuses: expected ids separated by ';' or '*' "
        "(got 'C1, C2')"]


def test_id_list_accepts_semicolons_and_spaces(case):
    inputs = load_inputs(case(campuses=THREE, offers=[{"campuses": " C1 ; C3 ;"}]))

    assert inputs.offers.loc["O1", "campuses"] == ("C1", "C3")


def test_duplicate_id(case):
    scenario = case(campuses=[{"campus_id": "C1"}, {"campus_id": "C2"}, {"campus_id": "C1"}])

    assert problems(scenario) == [
        "campuses.csv row 4, campus_id: duplicate id 'C1' (first on row 2)"]


def test_fraction_hint_in_a_table(case):
    scenario = case(offers=[{"escalator_pct_per_year": 0.03}])

    assert problems(scenario) == [
        "offers.csv row 2 (offer O1), escalator_pct_per_year: 0.03 looks like a fraction; "
        "write percent (3)"]


def test_row_numbers_are_file_lines_even_after_blank_lines(case):
    scenario = case(campuses=THREE)
    path = table(scenario, "campuses")
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[3] = lines[3].replace(",1.25,", ",0.9,")
    path.write_text("\n".join([*lines[:2], "", *lines[2:]]) + "\n", encoding="utf-8")

    assert problems(scenario) == [
        "campuses.csv row 5 (campus C3), hpc_pue: must be between 1 and 3 MW/IT MW (got 0.9)"]


def test_xlsx_problems_name_the_sheet_and_cell(case):
    scenario = case(campuses=THREE)
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, columns in (("campuses", CAMPUSES.column_names), ("offers", OFFERS.column_names)):
        ws = wb.create_sheet(name)
        ws.append(columns)
    for campus_id in ("C1", "C2", "C3"):
        wb["campuses"].append([campus_id, "x", "", 100, 40, 100, 20, 0, 50, 10,
                               0.9 if campus_id == "C3" else 1.25, 1e7, 6, None, 0])
    wb.save(scenario.parent / "portfolio.xlsx")
    edit_yaml(scenario, lambda s: s.update(portfolio="portfolio.xlsx"))

    assert problems(scenario) == [
        "portfolio.xlsx campuses!K4 (campus C3), hpc_pue: must be between 1 and 3 MW/IT MW "
        "(got 0.9)"]


# ---------------------------------------------------------------------------------------------
# Columns and tables
# ---------------------------------------------------------------------------------------------


def test_unknown_column_suggests_the_closest_name(case):
    scenario = case()
    edit_text(table(scenario, "campuses"), ",hpc_pue,", ",hpc_peu,")

    assert problems(scenario) == [
        f"campuses.csv, column 'hpc_peu': unknown column (did you mean 'hpc_pue'? "
        f"expected: {CAMPUS_COLUMNS})",
        "campuses.csv: missing required column 'hpc_pue'",
    ]


def test_unknown_column_without_a_close_match(case):
    scenario = case()
    add_column(table(scenario, "campuses"), "zzz", ["1"])

    assert problems(scenario) == [
        f"campuses.csv, column 'zzz': unknown column (expected: {CAMPUS_COLUMNS})"]


def test_missing_required_column(case):
    scenario = case(campuses=THREE)
    drop_column(table(scenario, "campuses"), "hpc_pue")

    # one problem for the column, none for each of its rows
    assert problems(scenario) == ["campuses.csv: missing required column 'hpc_pue'"]


def test_optional_column_may_be_left_out(case):
    scenario = case(offers=[{}])
    for column in ("region", "permit_ready"):
        drop_column(table(scenario, "campuses"), column)
    for column in ("escalator_pct_per_year", "campuses", "signed"):
        drop_column(table(scenario, "offers"), column)

    inputs = load_inputs(scenario)

    assert inputs.campuses.loc["C1", "region"] == ""
    assert inputs.campuses.loc["C1", "permit_ready"] is None
    offer = inputs.offers.loc["O1"]
    assert (offer["escalator_pct_per_year"], offer["campuses"], offer["signed"]) == \
        (0.0, ("C1",), False)


def test_duplicate_column(case):
    scenario = case()
    add_column(table(scenario, "campuses"), "grid_mw", ["999"])

    assert problems(scenario) == [
        "campuses.csv, column 'grid_mw': appears more than once in the header"]


def test_value_in_a_column_without_a_header(case):
    scenario = case()
    path = table(scenario, "campuses")
    add_column(path, "", ["stray"])  # an empty header cell with a value below
    add_column(path, "", [""])
    edit_text(path, ",,\n", ",\n")  # the header ends one column before its data row ...
    add_column(path, "", ["more"])  # ... whose last value has no header cell at all
    column = len(CAMPUSES.column_names) + 1

    assert problems(scenario) == [
        f"campuses.csv row 2 (campus C1): value in column {column}, which has no header",
        f"campuses.csv row 2 (campus C1): value in column {column + 2}, which has no header"]


def test_missing_table(case):
    scenario = case()
    table(scenario, "offers").unlink()

    assert problems(scenario) == ["portfolio/offers.csv: missing table 'offers'"]


def test_missing_sheet(case):
    scenario = case()
    wb = openpyxl.Workbook()
    wb.active.title = "campuses"
    wb.active.append(CAMPUSES.column_names)
    wb.active.append(["C1", "x", "", 100, 40, 100, 20, 0, 50, 10, 1.25, 1e7, 6, None, 0])
    wb.save(scenario.parent / "book.xlsx")
    edit_yaml(scenario, lambda s: s.update(portfolio="book.xlsx"))

    assert problems(scenario) == ["book.xlsx: missing table 'offers'"]


def test_no_campuses(case):
    scenario = case()
    path = table(scenario, "campuses")
    path.write_text(path.read_text(encoding="utf-8").splitlines()[0] + "\n", encoding="utf-8")

    assert problems(scenario) == ["campuses.csv: no rows: at least one campus is needed"]


def test_non_utf8_csv(case):
    scenario = case(campuses=[{"campus_id": "C1"}, {"campus_id": "C2", "name": "Montréal"}])
    path = table(scenario, "campuses")
    path.write_bytes(path.read_text(encoding="utf-8").encode("latin-1"))

    assert problems(scenario) == [
        "campuses.csv row 3: not UTF-8 text (byte 0xe9); save the file as CSV UTF-8"]


def test_utf8_with_bom_is_fine(case):
    scenario = case(campuses=[{"name": "Montréal"}])
    path = table(scenario, "campuses")
    path.write_bytes(path.read_text(encoding="utf-8").encode("utf-8-sig"))

    assert load_inputs(scenario).campuses.loc["C1", "name"] == "Montréal"


# ---------------------------------------------------------------------------------------------
# Portfolio path
# ---------------------------------------------------------------------------------------------


def test_portfolio_path_not_found(case):
    scenario = case(portfolio="nowhere")

    assert problems(scenario) == [
        f"scenario scenario.yaml: portfolio: not found ({scenario.parent / 'nowhere'})"]


def test_portfolio_that_is_neither_folder_nor_workbook(case):
    scenario = case(portfolio="portfolio/campuses.csv")

    assert problems(scenario) == [
        "scenario scenario.yaml: portfolio: expected a folder of CSV files or an .xlsx workbook "
        "(got campuses.csv)"]


def test_portfolio_workbook_that_is_not_a_workbook(case):
    scenario = case(portfolio="book.xlsx")
    (scenario.parent / "book.xlsx").write_text("campus_id,name\n", encoding="utf-8")

    assert problems(scenario) == [
        "book.xlsx: not an .xlsx workbook (an .xls or a renamed CSV?); save it as Excel "
        "Workbook (.xlsx)"]


# ---------------------------------------------------------------------------------------------
# Cross-table and campus rules
# ---------------------------------------------------------------------------------------------


def test_offer_naming_an_unknown_campus(case):
    scenario = case(campuses=THREE[:2], offers=[{"campuses": "C1;C9"}])

    assert problems(scenario) == [
        "offers.csv row 2 (offer O1), campuses: unknown campus 'C9' (known: C1, C2)"]


def test_latest_start_before_earliest_start(case):
    scenario = case(offers=[{"earliest_start": "2027-06", "latest_start": "2027-01"}])

    assert problems(scenario) == [
        "offers.csv row 2 (offer O1), latest_start: 2027-01 is before earliest_start 2027-06"]


def test_signing_after_the_last_possible_start(case):
    """A lease starts once it is signed: signing after latest_start + max_delay_months
    leaves no month to start in."""
    scenario = case(offers=[{"latest_start": "2027-06", "max_delay_months": 2,
                             "signing_month": "2027-09"}])

    assert problems(scenario) == [
        "offers.csv row 2 (offer O1), signing_month: 2027-09 is after the last month offer O1 "
        "may start (2027-08); a lease starts once signed"]


def test_prepayment_credited_faster_than_the_rent_it_offsets(case):
    """10 IT MW at 150 USD/kW-month = 1,500,000 of rent a month; 3,100,000 over 2 months is
    1,550,000 a month of credit: more than the rent it is credited against."""
    scenario = case(offers=[{"prepayment_usd": 3_100_000, "prepayment_credit_months": 2}])

    assert problems(scenario) == [
        "offers.csv row 2 (offer O1), prepayment_usd: offer O1: 3,100,000.00 credited over 2 "
        "months is 1,550,000.00 USD a month, more than the 1,500,000.00 USD of rent due in its "
        "first month; credit it over more months or lower it"]


def test_prepayment_credit_is_against_the_first_phase_of_a_ramp(case):
    """20 IT MW delivered as 5 at the start and 15 later: the first month's rent is
    5 × 1000 × 150 = 750,000, so 1,000,000 a month of credit is refused."""
    scenario = case(offers=[{"it_mw": 20, "prepayment_usd": 2_000_000,
                             "prepayment_credit_months": 2}],
                    phases=[{"offer_id": "O1", "phase": 1, "it_mw": 5, "months_after_start": 0},
                            {"offer_id": "O1", "phase": 2, "it_mw": 15,
                             "months_after_start": 3}])

    assert [p.split(":")[0] for p in problems(scenario)] == [
        "offers.csv row 2 (offer O1), prepayment_usd"]
    load_inputs(case(offers=[{"it_mw": 20, "prepayment_usd": 1_500_000,
                              "prepayment_credit_months": 2}],
                     phases=[{"offer_id": "O1", "phase": 1, "it_mw": 5,
                              "months_after_start": 0},
                             {"offer_id": "O1", "phase": 2, "it_mw": 15,
                              "months_after_start": 3}]))


def test_signed_lease_window_after_the_horizon(case):
    scenario = case(offers=[{"signed": "true", "earliest_start": "2028-01",
                             "latest_start": "2028-06"}])

    assert problems(scenario) == [
        "offers.csv row 2 (offer O1), earliest_start: signed lease O1: its start window opens "
        "(2028-01) "
        "after the horizon ends (2027-12)"]


def test_signed_lease_window_before_the_horizon(case):
    scenario = case(offers=[{"signed": "true", "earliest_start": "2026-01",
                             "latest_start": "2026-12"}])

    assert problems(scenario) == [
        "offers.csv row 2 (offer O1), latest_start: signed lease O1: its start window closes "
        "(2026-12) "
        "before the horizon starts (2027-01); a lease already running is entered with "
        "earliest_start = latest_start = the month it started"]


def test_signed_lease_window_before_the_horizon_even_with_delay(case):
    scenario = case(offers=[{"signed": "true", "earliest_start": "2026-01",
                             "latest_start": "2026-06", "max_delay_months": 3}])

    assert problems(scenario) == [
        "offers.csv row 2 (offer O1), latest_start: signed lease O1: its start window closes "
        "(2026-09, "
        "with 3 months' delay) before the horizon starts (2027-01); a lease already running is "
        "entered with earliest_start = latest_start = the month it started"]


def test_signed_lease_bigger_than_any_eligible_campus(case):
    scenario = case(campuses=[{"campus_id": "C1", "hpc_max_it_mw": 50},
                              {"campus_id": "C2", "hpc_max_it_mw": 70}],
                    offers=[{"signed": "true", "it_mw": 60, "campuses": "C1"}])

    assert problems(scenario) == [
        "offers.csv row 2 (offer O1), it_mw: signed lease O1: 60 IT MW is more than the eligible "
        "campuses can host (largest hpc_max_it_mw: 50)"]


def test_block_larger_than_hpc_max_it_mw(case):
    scenario = case(campuses=[{"hpc_max_it_mw": 50, "hpc_block_it_mw": 60}])

    assert problems(scenario) == [
        "campuses.csv row 2 (campus C1), hpc_block_it_mw: block of 60 IT MW does not fit in "
        "hpc_max_it_mw 50"]


def test_a_campus_that_cannot_convert_may_have_any_block(case):
    inputs = load_inputs(case(campuses=[{"hpc_max_it_mw": 0, "hpc_block_it_mw": 60}]))

    assert inputs.campuses.loc["C1", "hpc_max_it_mw"] == 0


def test_hpc_facility_load_above_the_grid_connection(case):
    scenario = case(campuses=[{"grid_mw": 100, "hpc_max_it_mw": 90, "hpc_pue": 1.25}])

    assert problems(scenario) == [
        "campuses.csv row 2 (campus C1), hpc_max_it_mw: hpc_max_it_mw × hpc_pue = 90 × 1.25 = "
        "112.5 MW "
        "exceeds grid_mw 100"]


def test_hpc_facility_load_equal_to_the_grid_connection_is_fine(case):
    inputs = load_inputs(case(campuses=[{"grid_mw": 100, "hpc_max_it_mw": 80, "hpc_pue": 1.25}]))

    assert inputs.campuses.loc["C1", "grid_mw"] == 100


# ---------------------------------------------------------------------------------------------
# Warnings
# ---------------------------------------------------------------------------------------------


def test_unsigned_offer_outside_the_horizon_is_a_warning(case):
    inputs = load_inputs(case(offers=[{"earliest_start": "2028-01", "latest_start": "2028-06"}]))

    assert inputs.warnings == (
        "offers.csv row 2 (offer O1): offer O1 cannot start inside the horizon: its start "
        "window opens "
        "(2028-01) after the horizon ends (2027-12); it is ignored",)


def test_unsigned_offer_bigger_than_any_campus_is_a_warning(case):
    inputs = load_inputs(case(offers=[{"it_mw": 60}]))

    assert inputs.warnings == (
        "offers.csv row 2 (offer O1), it_mw: offer O1: 60 IT MW is more than the eligible "
        "campuses can "
        "host (largest hpc_max_it_mw: 50); it can never be accepted",)


def test_permit_after_the_horizon_is_a_warning(case):
    inputs = load_inputs(case(campuses=[{"permit_ready": "2028-01"}]))

    assert inputs.warnings == (
        "campuses.csv row 2 (campus C1), permit_ready: 2028-01 is after the horizon ends "
        "(2027-12); "
        "campus C1 cannot convert",)


def test_permit_in_the_last_month_is_not_a_warning(case):
    assert load_inputs(case(campuses=[{"permit_ready": "2027-12"}])).warnings == ()


# ---------------------------------------------------------------------------------------------
# One pass, many problems
# ---------------------------------------------------------------------------------------------


def test_three_errors_in_a_file_give_three_problems(case):
    scenario = case(campuses=[{"campus_id": "C1", "grid_mw": "x"},
                              {"campus_id": "C2", "hpc_pue": 0.5, "build_months": 0}])

    assert problems(scenario) == [
        "campuses.csv row 2 (campus C1), grid_mw: expected a number (got 'x')",
        "campuses.csv row 3 (campus C2), hpc_pue: must be between 1 and 3 MW/IT MW (got 0.5)",
        "campuses.csv row 3 (campus C2), build_months: must be between 1 and 60 months (got 0)",
    ]


def test_problems_in_both_tables_come_together(case):
    scenario = case(campuses=[{"grid_mw": -1}], offers=[{"it_mw": 0, "term_months": 0.5}])

    assert problems(scenario) == [
        "campuses.csv row 2 (campus C1), grid_mw: must be above 0 and at most 10,000 MW (got -1)",
        "offers.csv row 2 (offer O1), it_mw: must be above 0 and at most 10,000 IT MW (got 0)",
        "offers.csv row 2 (offer O1), term_months: expected a whole number (got '0.5')",
    ]


def test_three_errors_in_a_scenario_give_three_problems(case):
    scenario = case(horizon={"months": 0}, market={"btc_price_usd": "lots"},
                    finance={"discount_rate_pct_per_year": 0.1})

    assert problems(scenario) == [
        "scenario scenario.yaml: horizon.months: must be between 1 and 600 months (got 0)",
        "scenario scenario.yaml: market.btc_price_usd: expected a number (got 'lots')",
        "scenario scenario.yaml: finance.discount_rate_pct_per_year: 0.1 looks like a fraction; "
        "write percent (10)",
    ]


# ---------------------------------------------------------------------------------------------
# Scenario YAML
# ---------------------------------------------------------------------------------------------


def test_unknown_scenario_key_suggests_the_closest_one(case):
    scenario = case()
    edit_yaml(scenario, lambda s: s.update(horizn=s.pop("horizon")))

    assert problems(scenario) == [
        "scenario scenario.yaml: horizon: required key is missing",
        f"scenario scenario.yaml: horizn: unknown key (did you mean 'horizon'? expected one of: "
        f"{SCENARIO_KEYS})",
    ]


def test_unknown_nested_scenario_key(case):
    scenario = case(solver={"time_limit": 5})

    assert problems(scenario) == [
        "scenario scenario.yaml: solver.time_limit: unknown key (did you mean 'time_limit_s'? "
        f"expected one of: {SOLVER_KEYS})"]


def test_missing_scenario_key(case):
    scenario = case()
    edit_yaml(scenario, lambda s: s["market"].pop("btc_price_usd"))

    assert problems(scenario) == [
        "scenario scenario.yaml: market.btc_price_usd: required key is missing"]


@pytest.mark.parametrize(("section", "value", "message"), [
    ("horizon", {"months": "twelve"}, "horizon.months: expected a whole number (got 'twelve')"),
    ("horizon", {"months": 12.5}, "horizon.months: expected a whole number (got 12.5)"),
    ("market", {"btc_price_usd": [1]}, "market.btc_price_usd: expected a number (got [1])"),
    ("market", {"halving_months": "2028-04"},
     "market.halving_months: expected a list (got '2028-04')"),
    ("finance", {"value_beyond_horizon": "maybe"},
     "finance.value_beyond_horizon: expected true or false (got 'maybe')"),
    ("finance", 5, "finance: expected a mapping of keys (got 5)"),
    ("description", ["a"], "description: expected text (got ['a'])"),
])
def test_wrong_type_in_yaml(case, section, value, message):
    scenario = case()
    edit_yaml(scenario, lambda s: s.update({section: value}) if not isinstance(value, dict)
              else s[section].update(value))

    assert problems(scenario) == [f"scenario scenario.yaml: {message}"]


@pytest.mark.parametrize(("section", "value", "message"), [
    ("horizon", {"start": "2027-13"}, "horizon.start: expected a month as YYYY-MM (got '2027-13')"),
    ("market", {"halving_months": ["2028-4"]},
     "market.halving_months: expected a month as YYYY-MM (got '2028-4')"),
])
def test_month_format_in_yaml(case, section, value, message):
    scenario = case(**{section: value})

    assert problems(scenario) == [f"scenario scenario.yaml: {message}"]


@pytest.mark.parametrize(("section", "value", "message"), [
    ("market", {"network_hashrate_ehs": 0},
     "market.network_hashrate_ehs: must be between 0.1 and 100,000,000 EH/s (got 0)"),
    ("market", {"btc_price_growth_pct_per_year": -100},
     "market.btc_price_growth_pct_per_year: must be between -90 and 300 %/yr (got -100)"),
    ("finance", {"discount_rate_pct_per_year": 150},
     "finance.discount_rate_pct_per_year: must be between 0 and 100 %/yr (got 150)"),
    ("solver", {"threads": 0}, "solver.threads: must be between 1 and 256 threads (got 0)"),
])
def test_bounds_in_yaml(case, section, value, message):
    scenario = case(**{section: value})

    assert problems(scenario) == [f"scenario scenario.yaml: {message}"]


def test_fraction_hint_in_yaml(case):
    scenario = case(finance={"discount_rate_pct_per_year": 0.08})
    scenario = scenario.rename(scenario.parent / "base.yaml")

    assert problems(scenario) == [
        "scenario base.yaml: finance.discount_rate_pct_per_year: 0.08 looks like a fraction; "
        "write percent (8)"]


def test_not_valid_yaml(case):
    scenario = case()
    scenario.write_text("name: x\nhorizon: {start: 2027-01\nmarket: 3\n", encoding="utf-8")

    assert problems(scenario) == [
        "scenario scenario.yaml: not valid YAML at line 3, column 7: expected ',' or '}', "
        "but got ':'"]


def test_yaml_that_is_not_a_mapping(case):
    scenario = case()
    scenario.write_text("- name\n- portfolio\n", encoding="utf-8")

    assert problems(scenario) == ["scenario scenario.yaml: expected a mapping of keys (got list)"]


def test_non_utf8_yaml(case):
    scenario = case()
    scenario.write_bytes("name: café\n".encode("latin-1"))

    assert problems(scenario) == [
        "scenario scenario.yaml: not UTF-8 text (byte 0xe9 at offset 9); save the file as UTF-8"]


def test_scenario_file_not_found(tmp_path):
    assert problems(tmp_path / "nope.yaml") == [
        f"scenario nope.yaml: file not found ({tmp_path / 'nope.yaml'})"]


@pytest.mark.parametrize("name", ["a/b", "x:y", " padded", "..", ".hidden", "-flag", "a\nb",
                                  "nul\x00byte", "trailing.", "x" * 101, "é"])
def test_invalid_scenario_name(case, name):
    scenario = case(name=name)

    assert problems(scenario) == [
        f"scenario scenario.yaml: name: {escape_controls(excerpt(name))} cannot name a folder; "
        f"use letters, digits, - and _ (and '.' after the first character), at most 100 "
        f"characters"]


@pytest.mark.parametrize("name", ["batch.csv", "Comparison.XLSX", "sweep.xlsx", "summary.json",
                                  "plan.xlsx", "inputs", "scenarios", "kpis.csv"])
def test_scenario_name_of_a_file_siteopt_writes(case, name):
    assert problems(case(name=name)) == [
        f"scenario scenario.yaml: name: {name!r} cannot name a folder: siteopt writes a file or "
        f"folder of that name in output folders; choose another name"]


@pytest.mark.parametrize("name", ["CON", "nul", "com1", "LPT9.txt", "aux.backup"])
def test_scenario_name_of_a_windows_device(case, name):
    assert problems(case(name=name)) == [
        f"scenario scenario.yaml: name: {name!r} cannot name a folder: Windows reserves that "
        f"name for a device; choose another name"]


@pytest.mark.parametrize("name", ["base", "bear-btc", "a.b", "x" * 100, "_1", "con-edison",
                                  "Q3_2027.v2"])
def test_valid_scenario_names(case, name):
    assert load_inputs(case(name=name)).scenario.name == name


def test_empty_scenario_name(case):
    assert problems(case(name="")) == ["scenario scenario.yaml: name: must not be empty"]


# ---------------------------------------------------------------------------------------------
# market.paths CSV
# ---------------------------------------------------------------------------------------------


def test_paths_file_not_found(case):
    scenario = case(market={"paths": "paths.csv"})

    assert problems(scenario) == [
        f"scenario scenario.yaml: market.paths: file not found ({scenario.parent / 'paths.csv'})"]


@pytest.mark.parametrize(("text", "expected"), [
    ("when,btc_price_usd\n2027-01,1\n", ["paths.csv: missing required column 'month'"]),
    ("month,btc_price\n2027-01,1\n",
     ["paths.csv, column 'btc_price': unknown column (did you mean 'btc_price_usd'? expected: "
      "month, btc_price_usd, network_hashrate_ehs, fees_btc_per_block, "
      "hashprice_usd_per_ph_day)"]),
    ("month,btc_price_usd\n2027-13,1\n",
     ["paths.csv row 2, month: expected a month as YYYY-MM (got '2027-13')"]),
    ("month,btc_price_usd\n2027-01,1\n2027-02,1\n2027-01,2\n",
     ["paths.csv row 4, month: duplicate month 2027-01 (first on row 2)"]),
    ("month,btc_price_usd\n2027-01,lots\n",
     ["paths.csv row 2 (month 2027-01), btc_price_usd: expected a number (got 'lots')"]),
    ("month,network_hashrate_ehs,hashprice_usd_per_ph_day\n2027-01,0,-3\n",
     ["paths.csv row 2 (month 2027-01), network_hashrate_ehs: must be between 0.1 and "
      "100,000,000 EH/s (got 0)",
      "paths.csv row 2 (month 2027-01), hashprice_usd_per_ph_day: must be above 0 and at most "
      "100,000 USD/PH/s/day (got -3)"]),
    ("month,fees_btc_per_block\n2027-01,-0.1\n",
     ["paths.csv row 2 (month 2027-01), fees_btc_per_block: must be between 0 and 50 BTC/block "
      "(got -0.1)"]),
    ("month,btc_price_usd\n", ["paths.csv: no rows"]),
])
def test_paths_csv_problems(case, text, expected):
    scenario = case(market={"paths": "paths.csv"})
    (scenario.parent / "paths.csv").write_text(text, encoding="utf-8")

    assert problems(scenario) == expected


def test_paths_csv_zero_fees_are_fine(case):
    scenario = case(market={"paths": "paths.csv", "fees_btc_per_block": 0.1})
    (scenario.parent / "paths.csv").write_text("month,fees_btc_per_block\n2027-01,0\n",
                                               encoding="utf-8")

    assert load_inputs(scenario).market["fees_btc_per_block"].tolist()[:2] == [0.0, 0.1]
