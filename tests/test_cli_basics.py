"""CLI skeleton: help texts, exit codes, located messages without tracebacks, hashprice CSV."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from siteopt import __version__
from siteopt.cli import main
from siteopt.inputs.schema import CAMPUSES, OFFERS

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))


def run(*args: str):
    result = CliRunner().invoke(main, [str(a) for a in args])
    # an exception other than a deliberate exit would be a traceback for the user
    assert result.exception is None or isinstance(result.exception, SystemExit), \
        result.exc_info
    return result


def test_top_level_help_has_an_example():
    result = run("--help")

    assert result.exit_code == 0
    assert "Example" in result.stdout
    assert "siteopt validate scenarios/base.yaml" in result.stdout
    for command in main.commands:
        assert command in result.stdout


@pytest.mark.parametrize("command", sorted(main.commands))
def test_every_subcommand_help_has_an_example(command):
    result = run(command, "--help")

    assert result.exit_code == 0
    assert f" {command} [OPTIONS]" in result.stdout.splitlines()[0]
    assert "Example" in result.stdout


def test_short_help_option():
    assert run("validate", "-h").exit_code == 0


def test_version():
    result = run("--version")

    assert result.exit_code == 0
    assert __version__ in result.stdout


def test_there_are_example_scenarios():
    assert len(SCENARIOS) >= 5


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda p: p.name)
def test_validate_every_example_scenario(scenario):
    result = run("validate", scenario)

    assert result.exit_code == 0, result.stderr
    assert "valid" in result.stdout
    assert "input hash" in result.stdout
    assert "Traceback" not in result.output


def test_validate_bad_case_exits_1_with_the_located_message(case):
    scenario = case(campuses=[{"campus_id": "C1"}, {"campus_id": "C2"},
                              {"campus_id": "C3", "hpc_pue": 0.9}])

    result = run("validate", scenario)

    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        "Invalid input (1 problem):",
        "  campuses.csv row 4 (campus C3), hpc_pue: must be between 1 and 3 MW/IT MW (got 0.9)",
    ]
    assert "Traceback" not in result.output


def test_validate_reports_every_problem(case):
    scenario = case(campuses=[{"grid_mw": "x", "hpc_pue": 5}], offers=[{"signed": "maybe"}])

    result = run("validate", scenario)

    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "Invalid input (3 problems):",
        "  campuses.csv row 2 (campus C1), grid_mw: expected a number (got 'x')",
        "  campuses.csv row 2 (campus C1), hpc_pue: must be between 1 and 3 MW/IT MW (got 5)",
        "  offers.csv row 2 (offer O1), signed: expected true or false (got 'maybe')",
    ]


def test_validate_missing_scenario_file_is_a_usage_error_exit_2(tmp_path):
    result = run("validate", tmp_path / "nope.yaml")

    assert result.exit_code == 2
    assert "Usage:" in result.stderr
    assert f"scenario nope.yaml: file not found ({tmp_path / 'nope.yaml'})" in result.stderr
    assert "Traceback" not in result.output


def test_validate_bad_yaml_exits_1(tmp_path):
    (tmp_path / "s.yaml").write_text("name: [unclosed\n", encoding="utf-8")

    result = run("validate", tmp_path / "s.yaml")

    assert result.exit_code == 1
    assert "scenario s.yaml: not valid YAML at line 2" in result.stderr


def test_validate_prints_warnings_on_stderr_and_succeeds(case):
    scenario = case(campuses=[{"permit_ready": "2030-01"}])

    result = run("validate", scenario)

    assert result.exit_code == 0
    assert result.stderr.splitlines() == [
        "warning: campuses.csv row 2 (campus C1), permit_ready: 2030-01 is after the horizon "
        "ends (2027-12); campus C1 cannot convert"]
    assert "valid — 1 campuses, 0 offers, 12 months from 2027-01" in result.stdout


def test_hashprice_yearly_csv():
    result = run("hashprice", ROOT / "scenarios" / "base.yaml", "--yearly", "--csv")

    assert result.exit_code == 0, result.stderr
    header = result.stdout.splitlines()[0].split(",")
    assert header[0] == "year"
    assert "hashprice_usd_per_ph_day" in header
    assert "margin_TX-BARB_usd_per_mw_month" in header
    frame = pd.read_csv(io.StringIO(result.stdout))
    assert frame["year"].tolist() == list(range(2027, 2037))
    # 2027: no halving, BTC +8 %/yr, network +12 %/yr, so the hashprice drifts down from
    # 144 × 3.15 × 90000 / 1,050,000 = 38.88; 2028 halves from April.
    assert 36 < frame["hashprice_usd_per_ph_day"].iloc[0] < 38.88
    assert frame["hashprice_usd_per_ph_day"].iloc[1] < frame["hashprice_usd_per_ph_day"].iloc[0]


def test_hashprice_monthly_csv_starts_at_the_formula_value():
    result = run("hashprice", ROOT / "scenarios" / "base.yaml", "--csv")

    assert result.exit_code == 0, result.stderr
    frame = pd.read_csv(io.StringIO(result.stdout))
    assert len(frame) == 120
    assert frame["month"].iloc[0] == "2027-01"
    assert frame["hashprice_usd_per_ph_day"].iloc[0] == pytest.approx(38.88, abs=0.005)


def test_hashprice_table_for_people():
    result = run("hashprice", ROOT / "scenarios" / "bear-btc.yaml", "--yearly")

    assert result.exit_code == 0, result.stderr
    assert "Market path — bear-btc" in result.stdout


def test_hashprice_bad_case_exits_1(case):
    result = run("hashprice", case(horizon={"months": 0}), "--csv")

    assert result.exit_code == 1
    assert result.stdout == ""
    assert "scenario scenario.yaml: horizon.months: must be between 1 and 600 months (got 0)" \
        in result.stderr


def test_schema_lists_every_column():
    markdown = run("schema")
    as_json = run("schema", "--format", "json")

    assert markdown.exit_code == 0 and as_json.exit_code == 0
    for column in (*CAMPUSES.column_names, *OFFERS.column_names):
        assert f"`{column}`" in markdown.stdout
    assert "scenario" in json.loads(as_json.stdout)


@pytest.mark.parametrize("args", [
    [],  # no subcommand: click prints usage
    ["validate"],  # missing argument
    ["nosuchcommand"],
    ["hashprice", "scenarios/base.yaml", "--bogus"],
    ["schema", "--format", "xml"],
    ["solve", "scenarios/base.yaml", "--threads", "0"],
    ["solve", "scenarios/base.yaml", "--mip-gap-pct", "-1"],
])
def test_usage_errors_exit_2(args):
    result = run(*args)

    assert result.exit_code == 2
    assert "Usage:" in result.output
    assert "Traceback" not in result.output
