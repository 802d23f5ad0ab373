"""Everyday ergonomics (issue 19): help that lists what is written, CSVs for people without
float tails, located messages for bad paths, verbosity flags and solver logs."""

from __future__ import annotations

import fnmatch
import json
import re

import pandas as pd
from click.testing import CliRunner

from siteopt.cli import main
from siteopt.contract import RESULT_FILES
from siteopt.export.files import rounded_for_people, write_people_csv


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
