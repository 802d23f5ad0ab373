"""`compare` and `batch` say which decisions differ and print a KPI table that fits the
terminal; comparison.xlsx has the same decisions on its Decisions sheet.

Two hand plans on the conftest campus (36 months from 2027-01): O1 (10 IT MW at 150
USD/kW-month) is taken in one and, at 1 USD/kW-month, declined in the other — so the offer
and the campus (10 IT MW converted, or no new halls) differ; nothing else does.
"""

from __future__ import annotations

import openpyxl
import pytest
from click.testing import CliRunner

from siteopt.api import solve_scenario
from siteopt.cli import main
from siteopt.export.decision_diff import decisions_that_differ, kpi_frame
from siteopt.export.results_folder import load_results, write_results

LONG = {"horizon": {"start": "2027-01", "months": 36},
        "finance": {"discount_rate_pct_per_year": 0, "value_beyond_horizon": True}}


def offer(rate: float) -> dict:
    return {"offer_id": "O1", "earliest_start": "2027-07", "latest_start": "2027-12",
            "rate_usd_per_kw_month": rate}


@pytest.fixture
def two_plans(case, tmp_path):
    folders = []
    for name, rate in (("taken", 150), ("declined", 1)):
        results = solve_scenario(case(offers=[offer(rate)], name=name, **LONG))
        folders.append(tmp_path / name)
        write_results(results, folders[-1], workbook=False)
    return folders


def test_only_the_decisions_that_differ_are_listed(two_plans):
    plans = [load_results(f) for f in two_plans]
    frame = decisions_that_differ(plans, ["taken", "declined"])
    assert list(frame.columns) == ["decision", "taken", "declined"]
    rows = frame.set_index("decision")
    assert list(rows.index) == ["offer O1", "campus C1"]
    assert rows.at["offer O1", "taken"].startswith("C1 from 2027-")
    assert rows.at["offer O1", "declined"] == "declined"
    assert rows.at["campus C1", "taken"].startswith("10 IT MW from ")
    assert rows.at["campus C1", "declined"] == "no new halls"
    assert decisions_that_differ([plans[0], plans[0]], ["a", "b"]).empty
    kpis = kpi_frame(plans, ["taken", "declined"]).set_index("scenario")
    assert kpis.at["taken", "NPV M USD"] == pytest.approx(plans[0].summary["npv_usd"] / 1e6)


@pytest.mark.parametrize("width", [80, 200])
def test_compare_prints_kpis_and_decisions_fitting_the_terminal(two_plans, tmp_path, width):
    target = tmp_path / "comparison.xlsx"
    result = CliRunner().invoke(main, ["compare", *map(str, two_plans), "-o", str(target)],
                                env={"COLUMNS": str(width)})
    assert result.exit_code == 0, result.output
    printed = result.stdout
    assert max(len(line) for line in printed.splitlines()) <= width
    for text in ("Scenarios side by side", "Decisions that differ", "offer O1", "no new halls",
                 "declined"):
        assert text in printed, text
    rows = list(openpyxl.load_workbook(target)["Decisions"].iter_rows(values_only=True))
    header = rows.index(("Decision", "taken", "declined"))
    assert [r[0] for r in rows[header + 1:]] == ["offer O1", "campus C1"]


def test_batch_prints_the_same(case, tmp_path):
    scenarios = [case(offers=[offer(rate)], name=name, **LONG)
                 for name, rate in (("taken", 150), ("declined", 1))]
    result = CliRunner().invoke(main, ["batch", *map(str, scenarios), "-o",
                                       str(tmp_path / "b"), "--workers", "1", "--no-workbook"],
                                env={"COLUMNS": "120"})
    assert result.exit_code == 0, result.output
    assert "Decisions that differ" in result.stdout and "offer O1" in result.stdout
