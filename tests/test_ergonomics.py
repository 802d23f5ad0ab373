"""Everyday ergonomics (issue 19): help that lists what is written, CSVs for people without
float tails, located messages for bad paths, verbosity flags and solver logs."""

from __future__ import annotations

import fnmatch
import json
import re
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from siteopt.cli import main
from siteopt.contract import RESULT_FILES
from siteopt.export.files import rounded_for_people, write_people_csv

ROOT = Path(__file__).resolve().parents[1]


def run(*args, **kwargs):
    result = CliRunner().invoke(main, [str(a) for a in args], **kwargs)
    assert result.exception is None or isinstance(result.exception, SystemExit), \
        result.exc_info
    return result


def _unwrapped(text: str) -> str:
    """Help text without click's line breaks (it also breaks after a hyphen)."""
    return re.sub(r"-\s*\n\s*", "-", re.sub(r"(?<!-)\s*\n\s*", " ", text))


# -- item 4: solve --help, sweep --no-workbook, CSVs for people ------------------------------


def test_solve_help_lists_every_result_file_of_the_contract():
    help_text = _unwrapped(run("solve", "--help").stdout)

    for name, _when in RESULT_FILES:
        assert name in help_text
    assert "company_month.csv" in help_text and "kpis.csv" in help_text


def test_a_solved_folder_holds_only_files_the_contract_lists(case, tmp_path):
    outdir = tmp_path / "out"
    result = run("solve", case(), "-o", outdir)

    assert result.exit_code == 0, result.stderr
    written = json.loads((outdir / "summary.json").read_text())["files"]
    patterns = [name.replace("<future>", "*").rstrip("/") + ("*" if name.endswith("/") else "")
                for name, _ in RESULT_FILES]
    for file in [*written, "summary.json"]:
        assert any(fnmatch.fnmatch(file, p) for p in patterns), file


def test_people_csv_rounds_money_to_cents_and_seconds_to_milliseconds(tmp_path):
    frame = pd.DataFrame({"scenario": ["a"], "npv_usd": [1234567.891234],
                          "solve_seconds": [41.728999999999999], "time_limit_s": [0.12345],
                          "mip_gap_pct": [0.123456789]})
    write_people_csv(frame, tmp_path / "batch.csv")

    text = (tmp_path / "batch.csv").read_text()
    assert text.splitlines()[1] == "a,1234567.89,41.729,0.123,0.123456789"
    assert rounded_for_people(frame)["npv_usd"].iloc[0] == 1234567.89
    assert frame["npv_usd"].iloc[0] == 1234567.891234  # the caller's frame is unchanged


def test_sweep_no_workbook_writes_the_runs_and_batch_csv_but_no_sweep_workbook(case, tmp_path):
    outdir = tmp_path / "sweep"
    result = run("sweep", case(), "--vary", "market.btc_price_usd=60000,120000", "-o", outdir,
                 "--workers", "1", "--no-workbook")

    assert result.exit_code == 0, result.stderr
    assert (outdir / "batch.csv").is_file()
    assert not (outdir / "sweep.xlsx").exists()
    table = pd.read_csv(outdir / "batch.csv", dtype=str, keep_default_na=False)
    assert len(table) == 3
    for column, decimals in (("npv_usd", 2), ("solve_seconds", 3), ("total_seconds", 3)):
        for text in table[column]:
            assert len(text.partition(".")[2]) <= decimals, (column, text)


# -- item 7: bad paths show where they were looked for and the near names --------------------


def test_a_mistyped_portfolio_shows_the_absolute_path_and_near_names(case, tmp_path):
    scenario = case(portfolio="portfolo")
    result = run("validate", scenario)

    assert result.exit_code == 1
    assert (f"scenario scenario.yaml: portfolio: not found ({scenario.parent / 'portfolo'}); "
            f"did you mean 'portfolio'?") in result.stderr


def test_a_relative_portfolio_path_is_shown_resolved(case, tmp_path, monkeypatch):
    scenario = case(portfolio="../nowhere/portfolio")
    monkeypatch.chdir(scenario.parent)
    result = run("validate", "scenario.yaml")

    assert result.exit_code == 1
    assert f"not found ({scenario.parent.parent / 'nowhere' / 'portfolio'})" in result.stderr
    assert ".." not in result.stderr


def test_an_unknown_scenario_file_is_exit_2_with_near_names(tmp_path):
    (tmp_path / "base.yaml").write_text("name: x\n", encoding="utf-8")
    for command in ("validate", "solve", "hashprice"):
        result = run(command, tmp_path / "bse.yaml")

        assert result.exit_code == 2
        assert "Usage:" in result.stderr and "Traceback" not in result.output
        assert (f"scenario bse.yaml: file not found ({tmp_path / 'bse.yaml'}); "
                f"did you mean 'base.yaml'?") in result.stderr


# -- item 1: -v/-q, --solver-log, progress of a MIP on a terminal ----------------------------


def test_verbosity_flags_are_accepted_and_contradicting_ones_refused(case):
    scenario = case()
    for flags in (["-v"], ["-vv"], ["--verbose"], ["-q"], ["--quiet"]):
        assert run(*flags, "validate", scenario).exit_code == 0, flags
    both = run("-v", "-q", "validate", scenario)
    assert both.exit_code == 2 and "contradict" in both.stderr


def test_quiet_solve_prints_no_notes_but_the_plan(case, tmp_path):
    loud = run("solve", case(), "-o", tmp_path / "loud", "--no-workbook")
    quiet = run("-q", "solve", case(), "-o", tmp_path / "quiet", "--no-workbook")

    assert loud.exit_code == quiet.exit_code == 0
    assert "Solving case" in loud.stderr and "Results in" in loud.stderr
    assert "Solving" not in quiet.stderr and "Results in" not in quiet.stderr
    assert "case: Optimal. NPV" in quiet.stderr  # the plan is the result: always shown


def test_solver_log_to_a_file_in_the_result_folder(case, tmp_path):
    outdir = tmp_path / "out"
    result = run("solve", case(), "-o", outdir, "--solver-log", "highs.log", "--no-workbook")

    assert result.exit_code == 0, result.stderr
    log = (outdir / "highs.log").read_text()
    assert log.startswith("Running HiGHS") and log.count("Running HiGHS") >= 2  # + baseline
    assert "Running HiGHS" not in result.stderr + result.stdout
    again = run("solve", case(), "-o", outdir, "--no-workbook")  # the folder stays replaceable
    assert again.exit_code == 0, again.stderr
    assert not (outdir / "highs.log").exists()


def test_solver_log_to_stderr_and_bad_targets(case, tmp_path):
    result = run("solve", case(), "-o", tmp_path / "out", "--solver-log", "-", "--no-workbook")
    assert result.exit_code == 0
    assert "Running HiGHS" in result.stderr and "Running HiGHS" not in result.stdout
    bad = run("solve", case(), "-o", tmp_path / "o2", "--solver-log", "../x.log")
    assert bad.exit_code == 2 and "file name ending in .log" in bad.stderr


def test_mip_progress_on_a_terminal_only_and_not_with_quiet(case, tmp_path, monkeypatch):
    from siteopt.cli import solver_output

    scenario = case(offers=[{"offer_id": "O1"}, {"offer_id": "O2", "it_mw": 20}])
    assert "best plan" not in run("solve", scenario, "-o", tmp_path / "a").stderr  # a pipe
    monkeypatch.setattr(solver_output, "stderr_is_terminal", lambda: True)
    monkeypatch.setattr(solver_output, "PROGRESS_EVERY_S", 0.0)
    shown = run("solve", scenario, "-o", tmp_path / "b", "--no-workbook").stderr
    assert re.search(r"\d+:\d\d  best plan .* M USD · bound .* · gap .* · .* nodes", shown), shown
    assert "best plan" not in run("-q", "solve", scenario, "-o", tmp_path / "c").stderr


def test_progress_line_reads_in_millions_with_the_gap():
    from siteopt.cli.solver_output import progress_line
    from siteopt.model.objective import USD_PER_OBJECTIVE_UNIT
    from siteopt.solve_trace import Point

    point = Point(62.4, 40e6 / USD_PER_OBJECTIVE_UNIT, 41e6 / USD_PER_OBJECTIVE_UNIT, 1234)
    assert progress_line(point) == \
        "  1:02  best plan 40.0 M USD · bound 41.0 M USD · gap 2.50 % · 1,234 nodes"
    assert "no plan yet" in progress_line(Point(1, float("-inf"), 5.0, 0))


# -- item 2: make says what it does before the quiet install ---------------------------------


def test_make_install_says_what_it_installs_before_pip_runs_quietly():
    makefile = (ROOT / "Makefile").read_text().splitlines()
    recipe = makefile[makefile.index("$(STAMP): pyproject.toml") + 1:]
    said = next(i for i, line in enumerate(recipe) if "installing siteopt and its dependencies"
                in line)
    assert said < next(i for i, line in enumerate(recipe) if "pip install" in line)


# -- item 3: terminal tables as wide as the terminal, units in the headers -------------------


@pytest.mark.parametrize("width", [80, 200])
def test_hashprice_yearly_fits_the_terminal_with_units(width):
    result = run("hashprice", ROOT / "scenarios" / "base.yaml", "--yearly",
                 env={"COLUMNS": str(width)})

    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert max(len(line) for line in lines) <= width
    assert "…" not in result.stdout  # headers wrap, never cut
    for number in ("93,254", "38.24", "-25,781"):  # 2027 BTC price, hashprice, 2036 margin
        assert number in result.stdout  # numbers are never broken over lines
    assert ("(continued)" in result.stdout) == (width == 80)  # more columns than 80 hold
    if width == 200:
        header = "\n".join(lines[:8])
        for text in ("BTC price USD", "network EH/s", "hashprice", "USD/PH/day", "TX-ROCK",
                     "margin", "USD/MW-month"):  # whole words: wrapped, not cut
            assert text in header, text


@pytest.mark.parametrize("width", [80, 200])
def test_solve_tables_fit_the_terminal(case, tmp_path, width):
    scenario = case(offers=[{"offer_id": "O1", "tenant": "A tenant with a long name " * 3}])
    result = run("solve", scenario, "-o", tmp_path / "out", "--no-workbook",
                 env={"COLUMNS": str(width)})

    assert result.exit_code == 0, result.stderr
    # a path is printed whole, so it can be copied (pytest-xdist's tmp paths are long)
    assert max(len(line) for line in result.stderr.splitlines()
               if not line.startswith("Results in ")) <= width
    assert "PV rent M USD" in result.stderr.replace("\n", " ") or width == 80


# -- item 5: the sweep tornado reads like a sensitivity table --------------------------------


def test_sweep_changes_read_as_percentages_and_the_values_they_give():
    from siteopt.inputs import load_inputs
    from siteopt.inputs.overrides import Override
    from siteopt.runs.sweep import base_value, change_text

    inputs = load_inputs(ROOT / "scenarios" / "base.yaml")
    price = inputs.scenario.market.btc_price_usd
    cases = {
        Override("market.btc_price_usd", "scale", 0.8): f"−20 % ({price * 0.8:,.0f})",
        Override("market.btc_price_usd", "shift", 5000.0): f"+5,000 ({price + 5000:,.0f})",
        Override("market.btc_price_usd", "set", 60000): "60,000",
        Override("campuses.capex_usd_per_it_mw", "scale", 1.2): "+20 %",  # rows differ
    }
    for change, text in cases.items():
        assert change_text(change, base_value(inputs, change)) == text
    row = Override("campuses.build_months", "shift", 6, "TX-ROCK")
    months = inputs.campuses.loc["TX-ROCK", "build_months"]
    assert change_text(row, base_value(inputs, row)) == f"+6 ({months + 6})"


def test_mip_progress_prints_every_interval_of_each_solve():
    from siteopt.cli.solver_output import MipProgress
    from siteopt.solve_trace import Point

    shown: list[str] = []
    progress = MipProgress(shown.append, every_s=5.0)
    for seconds in (0.5, 4.9, 5.2, 7.0, 10.3, 1.0, 5.5):  # then the baseline's solve
        progress(Point(seconds, 1.0, 2.0, 0))
    assert [line.split()[0] for line in shown] == ["0:05", "0:10", "0:05"]
