"""Batch progress on a terminal: which scenarios run, for how long, and the time left."""

from __future__ import annotations

import pytest

from siteopt.cli.progress import progress_text, remaining_seconds, time_limits
from siteopt.runs.batch import Task


def test_the_text_names_the_running_scenarios_longest_first():
    text = progress_text(5, 1, {"base": 42.0, "funded": 190.0}, 290.0)
    assert text == "solved 5, failed 1 · running funded 3:10, base 0:42 · ≈ 4:50 left"


def test_a_long_list_of_running_scenarios_is_cut_with_its_count():
    running = {f"variant-{i:02d}": float(i) for i in range(12)}
    text = progress_text(0, 0, running, None, width=40)
    assert "… (12 running)" in text and text.endswith("time left unknown")
    assert "variant-11 0:11" in text  # the longest running first


def test_a_running_scenario_past_the_typical_time_is_bounded_by_its_time_limit():
    """Finished ones took 10 s; 'funded' has run 100 s of a 300 s limit (plan and baseline:
    at most 2 × 300 + 5 s in all), so up to 505 s are left."""
    left = remaining_seconds({"funded": 100.0}, {"funded": 300.0}, [10.0, 10.0], 0, 2)
    assert left == (pytest.approx(505.0), True)
    assert progress_text(3, 0, {"funded": 100.0}, *left[:1], bounded=left[1]).endswith(
        "running funded 1:40 · at most 8:25 left")


def test_queued_scenarios_take_the_typical_time_spread_over_the_workers():
    """One running for 4 s of a typical 10 s (6 s left) and 4 queued on 2 workers (20 s)."""
    left = remaining_seconds({"a": 4.0}, {"a": 300.0}, [9.0, 10.0, 11.0], 4, 2)
    assert left == (pytest.approx(6.0 + 20.0), False)


def test_without_anything_finished_the_time_limits_bound_the_estimate():
    assert remaining_seconds({"a": 0.0}, {"a": 60.0}, [], 0, 1) == (pytest.approx(125.0),
                                                                     True)
    assert remaining_seconds({"a": 0.0}, {"a": None}, [], 0, 1) == (None, False)


def test_time_limits_come_from_the_override_or_the_scenario(case):
    path = case(solver={"time_limit_s": 77})
    tasks = [Task("own", str(path), "out/own"),
             Task("fast", str(path), "out/fast", solver={"time_limit_s": 5}),
             Task("missing", "nowhere.yaml", "out/missing")]
    assert time_limits(tasks) == {"own": 77, "fast": 5, "missing": None}
