"""A run's status is said in the same words on the terminal and in the workbooks."""

from __future__ import annotations

import dataclasses

import pytest

from siteopt.export.plan_workbook import build_plan_workbook
from siteopt.export.status import status_banner
from siteopt.export.terminal import print_plan


@pytest.mark.parametrize("gap, words", [
    (None, "Best plan found — distance to optimal unknown (limit reached)"),
    (0.52, "Best plan found — within 0.52 % of optimal"),
    (12.345, "Best plan found — within 12.3 % of optimal"),
])
def test_terminal_states_a_best_plan_as_the_workbook_does(base_plan, capsys, gap, words):
    results, _ = base_plan
    feasible = dataclasses.replace(results, summary={**results.summary, "status": "feasible",
                                                     "mip_gap_pct": gap})
    print_plan(feasible)
    printed = " ".join(capsys.readouterr().err.split())

    assert status_banner(feasible.summary) == (words, "warn")
    assert f"{results.summary['scenario']}: {words}. NPV" in printed
    if gap is None:  # the workbook's stamp, read from the sheet itself
        summary = build_plan_workbook(feasible)["Summary"]
        assert words in [c.value for row in summary.iter_rows() for c in row]


def test_terminal_states_an_optimal_plan_as_the_workbook_does(base_plan, capsys):
    results, _ = base_plan
    print_plan(results)

    assert status_banner(results.summary) == ("Optimal", "good")
    assert f"{results.summary['scenario']}: Optimal. NPV" in \
        " ".join(capsys.readouterr().err.split())
