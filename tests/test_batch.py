"""Batch solves (local processes and Dask), resume and fail-fast, and sensitivity sweeps."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner

from siteopt.cli import main
from siteopt.inputs import load_inputs
from siteopt.inputs.errors import InputError
from siteopt.inputs.overrides import Override, parse_vary
from siteopt.runs.batch import (
    BATCH_COLUMNS,
    plan_tasks,
    run_batch,
    scenario_files,
    write_batch_outputs,
)
from siteopt.runs.sweep import sweep_tasks, tornado

CAMPUS = {"grid_mw": 100, "miner_mw": 100, "hpc_max_it_mw": 20, "hpc_block_it_mw": 10,
          "build_months": 6}
OFFER = {"it_mw": 10, "earliest_start": "2027-07", "latest_start": "2027-09",
         "term_months": 60}


@pytest.fixture
def three(case, tmp_path) -> Path:
    """A folder with three small scenarios: two solvable, one with an input error."""
    folder = tmp_path / "scenarios"
    folder.mkdir()
    for name, btc in (("low", 60000), ("high", 120000)):
        path = case(campuses=[CAMPUS], offers=[OFFER], name=name,
                    market={"btc_price_usd": btc, "network_hashrate_ehs": 1000,
                            "halving_months": []})
        (folder / f"{name}.yaml").write_text(path.read_text().replace(
            "portfolio: portfolio", f"portfolio: {path.parent.name}/portfolio"))
        (folder / path.parent.name).symlink_to(path.parent)
    (folder / "broken.yaml").write_text("name: broken\nportfolio: nowhere\n")
    return folder


def run(*args: str):
    result = CliRunner().invoke(main, list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def test_local_and_dask_routes_give_identical_results(three, tmp_path):
    distributed = pytest.importorskip("distributed")
    tasks = plan_tasks(scenario_files([three]), tmp_path / "local", workbook=False)
    local = run_batch(tasks, workers=2)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        remote_tasks = plan_tasks(scenario_files([three]), tmp_path / "dask", workbook=False)
        remote = run_batch(remote_tasks, scheduler=cluster.scheduler_address)
    assert [r["scenario"] for r in local] == ["broken", "high", "low"]
    for a, b in zip(local, remote):
        assert (a["scenario"], a["status"], a.get("npv_usd")) == \
            (b["scenario"], b["status"], b.get("npv_usd"))
        if a["status"] == "optimal":
            pd.testing.assert_frame_equal(
                pd.read_csv(Path(a["outdir"]) / "campus_month.csv"),
                pd.read_csv(Path(b["outdir"]) / "campus_month.csv"))
    assert local[1]["npv_usd"] > local[2]["npv_usd"]  # richer market, more value


def test_batch_cli_goes_on_after_a_failure_and_reports_it(three, tmp_path):
    outdir = tmp_path / "out"
    result = run("batch", str(three), "-o", str(outdir), "--workers", "2", "--json")
    assert result.exit_code == 1
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert sorted(r["scenario"] for r in rows) == ["broken", "high", "low"]
    table = pd.read_csv(outdir / "batch.csv")
    status = dict(zip(table["scenario"], table["status"]))
    assert status == {"broken": "invalid", "high": "optimal", "low": "optimal"}
    broken = table.set_index("scenario").loc["broken"]
    assert "required key is missing" in broken["error"]
    assert (outdir / "high" / "summary.json").is_file()
    assert (outdir / "comparison.xlsx").is_file()
    assert not (outdir / "broken").exists()


def test_fail_fast_stops_the_rest(three, tmp_path):
    result = run("batch", str(three / "broken.yaml"), str(three / "high.yaml"),
                 str(three / "low.yaml"), "-o", str(tmp_path / "out"), "--workers", "1",
                 "--fail-fast", "--no-workbook")
    assert result.exit_code == 1
    table = pd.read_csv(tmp_path / "out" / "batch.csv")
    assert list(table["status"]) == ["invalid", "skipped", "skipped"]


def test_resume_skips_finished_runs_of_the_same_inputs(three, tmp_path):
    outdir = tmp_path / "out"
    files = [str(three / "high.yaml"), str(three / "low.yaml")]
    assert run("batch", *files, "-o", str(outdir), "--no-workbook").exit_code == 0
    again = run("batch", *files, "-o", str(outdir), "--no-workbook", "--resume", "--json")
    assert again.exit_code == 0
    assert [json.loads(line)["resumed"] for line in again.stdout.splitlines()] == [True, True]
    # Change one input: that scenario's hash changes and it is solved again.
    campuses = three / "case1" / "portfolio" / "campuses.csv"
    campuses.write_text(campuses.read_text().replace(",40,", ",41,", 1))
    third = run("batch", *files, "-o", str(outdir), "--no-workbook", "--resume", "--json")
    resumed = {json.loads(line)["scenario"]: json.loads(line)["resumed"]
               for line in third.stdout.splitlines()}
    assert sorted(resumed.values()) == [False, True]


def test_python_api_writes_the_batch_files_and_resumes_to_the_same_rows(three, tmp_path):
    outdir = tmp_path / "api"
    tasks = plan_tasks(scenario_files([three / "high.yaml", three / "low.yaml"]), outdir,
                       workbook=False)
    solved = run_batch(tasks, workers=1)
    table = write_batch_outputs(solved, outdir)

    assert list(table.columns) == BATCH_COLUMNS
    assert list(pd.read_csv(outdir / "batch.csv")["status"]) == ["optimal", "optimal"]
    assert (outdir / "comparison.xlsx").is_file()
    resumed = run_batch(tasks, resume=True)
    same = [c for c in BATCH_COLUMNS if c not in ("resumed", "total_seconds")]
    for fresh, again in zip(solved, resumed):
        assert (fresh["resumed"], again["resumed"]) == (False, True)
        assert {c: again.get(c) for c in same} == {c: fresh.get(c) for c in same}


# -- sweeps -------------------------------------------------------------------------------


def test_vary_specs_parse_ranges_scales_shifts_and_sets():
    target, row, items = parse_vary("market.btc_price_usd=50000:150000:25000")
    assert (target, row) == ("market.btc_price_usd", None)
    assert [o.value for o in items] == [50000, 75000, 100000, 125000, 150000]
    _, row, items = parse_vary("campuses[TX-ROCK].capex_usd_per_it_mw=*0.8,+1000,=9e6")
    assert row == "TX-ROCK"
    assert [(o.op, o.value) for o in items] == [("scale", 0.8), ("shift", 1000),
                                                ("set", 9e6)]
    assert items[0].label == "campuses[TX-ROCK].capex_usd_per_it_mw=*0.8"
    for bad in ("market.btc_price_usd", "Market!=1", "market.btc_price_usd=9:1:1",
                "market[X].btc_price_usd=1", "campuses.grid_mw=*abc"):
        with pytest.raises(InputError):
            parse_vary(bad)


def test_overrides_change_inputs_before_validation(tmp_path):
    base = Path(__file__).resolve().parents[1] / "scenarios" / "base.yaml"
    inputs = load_inputs(base, overrides=[
        Override("market.btc_price_usd", "scale", 0.5),
        Override("campuses.capex_usd_per_it_mw", "scale", 1.2, row="TX-ROCK"),
        Override("offers.rate_usd_per_kw_month", "shift", -10)])
    plain = load_inputs(base)
    assert inputs.scenario.market.btc_price_usd == 45000
    assert inputs.campuses.at["TX-ROCK", "capex_usd_per_it_mw"] == pytest.approx(9_600_000)
    assert inputs.campuses.at["NY-ERIE", "capex_usd_per_it_mw"] == \
        plain.campuses.at["NY-ERIE", "capex_usd_per_it_mw"]
    assert (inputs.offers["rate_usd_per_kw_month"]
            == plain.offers["rate_usd_per_kw_month"] - 10).all()
    assert inputs.input_hash != plain.input_hash
    with pytest.raises(InputError, match="must be between 1 and 3 MW/IT MW"):
        load_inputs(base, overrides=[Override("campuses.hpc_pue", "set", 0.5)])
    with pytest.raises(InputError, match="no campuses row 'NOPE'"):
        load_inputs(base, overrides=[Override("campuses.grid_mw", "scale", 2, row="NOPE")])


def test_one_at_a_time_and_grid_sweeps_generate_the_right_variants(tmp_path):
    specs = ["market.btc_price_usd=60000,90000", "campuses.capex_usd_per_it_mw=*0.8,*1.2"]
    one = sweep_tasks(Path("s.yaml"), specs, tmp_path)
    grid = sweep_tasks(Path("s.yaml"), specs, tmp_path, grid=True)
    assert [t.name for t in one][0] == "base" and len(one) == 1 + 2 + 2
    assert len(grid) == 1 + 4
    assert all("*" not in t.name for t in one + grid)


def test_tornado_orders_inputs_by_swing():
    tasks = sweep_tasks(Path("s.yaml"), ["market.btc_price_usd=1,2", "finance."
                                         "discount_rate_pct_per_year=5,15"], Path("out"))
    npv = {"base": 100.0, tasks[1].name: 90.0, tasks[2].name: 130.0, tasks[3].name: 160.0,
           tasks[4].name: 40.0}
    rows = [{"scenario": n, "npv_usd": v, "status": "optimal"} for n, v in npv.items()]
    frame = tornado(rows, tasks)
    assert list(frame["input"]) == ["finance.discount_rate_pct_per_year",
                                    "market.btc_price_usd"]
    assert list(frame["swing_usd"]) == [120.0, 40.0]
    assert frame.loc[0, "low_change"] == "15" and frame.loc[0, "high_change"] == "5"


def test_sweep_cli_writes_a_tornado_workbook(case, tmp_path):
    path = case(campuses=[CAMPUS], offers=[OFFER])
    outdir = tmp_path / "sweep"
    result = run("sweep", str(path), "--vary", "market.btc_price_usd=60000,120000",
                 "--vary", "offers.rate_usd_per_kw_month=*0.5,*1.5", "-o", str(outdir),
                 "--workers", "2")
    assert result.exit_code == 0, result.stderr
    table = pd.read_csv(outdir / "batch.csv")
    assert len(table) == 5 and set(table["status"]) == {"optimal"}
    wb = openpyxl.load_workbook(outdir / "sweep.xlsx")
    ws = wb["Sweep"]
    assert len(ws._charts) == 1
    chart = ws._charts[0]
    assert chart.type == "bar" and len(chart.series) == 2
    assert not chart.x_axis.delete and not chart.y_axis.delete
    # title and ticks in the same unit; input names beside the plot, not over the bars
    assert chart.y_axis.numFmt.formatCode == "#,##0,," and chart.x_axis.tickLblPos == "low"
    assert "tblTornado" in ws.tables


# -- a worker that dies, a scheduler that is wrong or has no workers ----------------------


def die_when_named_high(task):
    """Stands in for run_task in the worker processes: the task named 'high' ends its worker
    as the out-of-memory killer would."""
    import os
    import signal

    from siteopt.runs.batch import run_task

    if task.name == "high":
        os.kill(os.getpid(), signal.SIGKILL)
    return run_task(task)


def test_a_killed_worker_fails_only_its_own_scenario(three, tmp_path, monkeypatch):
    import siteopt.runs.batch

    monkeypatch.setattr(siteopt.runs.batch, "run_task", die_when_named_high)
    outdir = tmp_path / "out"
    result = run("batch", str(three), "-o", str(outdir), "--workers", "2", "--no-workbook")
    assert result.exit_code == 1
    table = pd.read_csv(outdir / "batch.csv").set_index("scenario")
    assert dict(table["status"]) == {"broken": "invalid", "high": "error", "low": "optimal"}
    assert table.at["high", "error"] == "worker died (killed by signal 9: out of memory?)"
    assert (outdir / "comparison.xlsx").is_file()
    assert "high: error — worker died" in result.stderr


@pytest.mark.parametrize("address", ["garbage", "localhost", "http://10.0.0.5:8786",
                                     "tcp://10.0.0.5", "tcp://10.0.0.5:99999", "tcp://:8786",
                                     "tcp://10.0.0.5:8786/path", "tcp://10.0.0.5:port",
                                     "inproc://"])
def test_malformed_scheduler_addresses_are_refused(address):
    from siteopt.runs.batch import check_scheduler_address

    with pytest.raises(ValueError):
        check_scheduler_address(address)


@pytest.mark.parametrize("address", ["tcp://10.0.0.5:8786", "tls://scheduler.example:8786",
                                     "tcp://[::1]:8786", "ucx://10.0.0.5:13337",
                                     "inproc://10.0.0.5/4242/1"])
def test_well_formed_scheduler_addresses_are_accepted(address):
    from siteopt.runs.batch import check_scheduler_address

    assert check_scheduler_address(address) == address


def test_a_malformed_scheduler_is_a_usage_error_before_anything_runs(three, tmp_path):
    outdir = tmp_path / "out"
    result = run("batch", str(three), "-o", str(outdir), "--scheduler", "garbage")
    assert result.exit_code == 2
    assert "Invalid value for '--scheduler'" in result.stderr
    assert "tcp://" in result.stderr
    assert not outdir.exists()


def test_a_scheduler_without_workers_is_given_up_after_the_timeout(three, tmp_path):
    distributed = pytest.importorskip("distributed")
    outdir = tmp_path / "out"
    with distributed.LocalCluster(n_workers=0, dashboard_address=None) as cluster:
        address = cluster.scheduler_address
        result = run("batch", str(three / "high.yaml"), str(three / "low.yaml"), "-o",
                     str(outdir), "--scheduler", address, "--worker-timeout", "0.5")
    assert result.exit_code == 1
    assert f"scheduler at {address} has no workers; waiting up to 0.5 s" in result.stderr
    table = pd.read_csv(outdir / "batch.csv")
    assert list(table["status"]) == ["error", "error"]
    assert table["error"].str.startswith("not run: no Dask worker").all()


def test_a_task_whose_dask_workers_die_is_reported_not_raised(three, tmp_path, monkeypatch):
    distributed = pytest.importorskip("distributed")
    import dask

    import siteopt.runs.batch

    monkeypatch.setattr(siteopt.runs.batch, "run_task", die_when_named_high)
    tasks = plan_tasks(scenario_files([three / "high.yaml", three / "low.yaml"]),
                       tmp_path / "dask", workbook=False)
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}), \
            distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                     dashboard_address=None) as cluster:
        rows = run_batch(tasks, scheduler=cluster.scheduler_address)
    assert [(r["scenario"], r["status"]) for r in rows] == [("high", "error"),
                                                            ("low", "optimal")]
    assert rows[0]["error"].startswith("worker died")
