"""`siteopt solve --decompose`: progressive hedging over MPI (mpi-sppy) against the extensive
form on a hand-sized case, and the messages when MPI is missing.

The case: one campus (20 MW of HPC room), one 10 IT MW offer at 130 USD/kW-month signed
now, three futures (BTC × 0.5, × 1.0, × 1.3; 30/40/30 %) committing the first month. The
extensive form starts a block in January and signs the lease (34,342,187.5 USD expected):
the bear future wants the lease, the bull one would rather mine, and hedging takes it. The
decomposed run must commit the same and land within the gap it reports.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from cases import CAMPUS, MARKET, OFFER
from click.testing import CliRunner

from siteopt.cli import main
from siteopt.stochastic import decompose

MPI = decompose.installed("mpi4py") and decompose.mpiexec() is not None
needs_mpi = pytest.mark.skipif(not MPI, reason="mpi4py or mpiexec missing: pip install "
                                              "'siteopt[mpi]'")

THREE_FUTURES = {"commit_months": 1, "scenarios": [
    {"name": name, "probability_pct": p, "set": {"market.btc_price_usd": f"*{scale}"}}
    for name, scale, p in (("bear", 0.5, 30), ("base", 1.0, 40), ("bull", 1.3, 30))]}


def _three(case) -> Path:
    return case(campuses=[{**CAMPUS, "hpc_max_it_mw": 20}],
                offers=[{**OFFER, "rate_usd_per_kw_month": 130}], market=MARKET,
                uncertainty=THREE_FUTURES)


def _solve(scenario: Path, outdir: Path, *extra: str) -> dict:
    # a real process: mpiexec's ranks write to file descriptors, which CliRunner has not
    done = subprocess.run([sys.executable, "-m", "siteopt", "-q", "solve", str(scenario),
                           "-o", str(outdir), "--no-workbook", "--json", *extra],
                          capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@needs_mpi
def test_decomposed_plan_commits_what_the_extensive_form_commits(case, tmp_path):
    scenario = _three(case)
    ef = _solve(scenario, tmp_path / "ef")
    dec = _solve(scenario, tmp_path / "dec", "--decompose", "--ranks", "3")

    now = ["kind", "campus_id", "offer_id", "month", "value"]
    ef_now = pd.read_csv(tmp_path / "ef" / "here_and_now.csv")[now]
    dec_now = pd.read_csv(tmp_path / "dec" / "here_and_now.csv")[now]
    pd.testing.assert_frame_equal(dec_now, ef_now)
    assert len(ef_now) == 2  # a block in January and the lease: not a trivial agreement

    run = dec["stochastic"]["decomposition"]
    assert run["ranks"] == 3 and run["iterations"] >= 1
    gap_usd = dec["best_bound_usd"] - dec["objective_usd"]
    assert gap_usd >= -1e-6
    assert dec["mip_gap_pct"] == pytest.approx(100 * gap_usd / abs(dec["best_bound_usd"]))
    assert abs(ef["npv_usd"] - dec["npv_usd"]) <= gap_usd + 1e-6
    assert ef["best_bound_usd"] <= dec["best_bound_usd"] + 1e-6  # a valid outer bound
    # the same result folder: every file of the extensive form's, each future's plan audited
    assert sorted(p.name for p in (tmp_path / "dec").iterdir()) == \
        sorted(p.name for p in (tmp_path / "ef").iterdir())
    assert dec["audit"]["passed"]


@needs_mpi
def test_under_mpiexec_the_ranks_run_in_place_and_rank_0_writes(case, tmp_path):
    """As on a cluster (srun/mpiexec starting siteopt itself): no second launch, and
    nothing of mpi-sppy's (its hub.log, xhatclp.log …) left in the working folder."""
    scenario = _three(case)
    work = tmp_path / "work"
    work.mkdir()
    done = subprocess.run([decompose.mpiexec(), "-n", "3", sys.executable, "-m", "siteopt",
                           "-q", "solve", str(scenario), "-o", str(tmp_path / "dec"),
                           "--no-workbook", "--decompose"],
                          capture_output=True, text=True, timeout=600, check=False, cwd=work)
    assert done.returncode == 0, done.stderr
    assert list(work.iterdir()) == []
    summary = json.loads((tmp_path / "dec" / "summary.json").read_text(encoding="utf-8"))
    assert summary["stochastic"]["decomposition"]["ranks"] == 3
    assert len(pd.read_csv(tmp_path / "dec" / "here_and_now.csv")) == 2


def _cli(*args: str):
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert result.exception is None or isinstance(result.exception, SystemExit), \
        result.exc_info
    return result


def test_without_mpi4py_the_message_names_the_extra(case, monkeypatch, tmp_path):
    monkeypatch.setattr(decompose, "installed", lambda module: module != "mpi4py")
    result = _cli("solve", _three(case), "-o", tmp_path / "out", "--decompose")
    assert result.exit_code == 2
    assert "pip install 'siteopt[mpi]'" in result.stderr
    assert "mpi4py" in result.stderr and "Traceback" not in result.output
    assert not (tmp_path / "out").exists()


def test_without_mpiexec_the_message_names_the_extra(case, monkeypatch, tmp_path):
    monkeypatch.setattr(decompose, "installed", lambda module: True)
    monkeypatch.setattr(decompose, "mpiexec", lambda: None)
    monkeypatch.setattr(decompose, "under_mpi", lambda: False)
    result = _cli("solve", _three(case), "-o", tmp_path / "out", "--decompose")
    assert result.exit_code == 2
    assert "mpiexec" in result.stderr and "siteopt[mpi]" in result.stderr


def test_ranks_come_in_threes(case, monkeypatch, tmp_path):
    monkeypatch.setattr(decompose, "installed", lambda module: True)
    monkeypatch.setattr(decompose, "mpiexec", lambda: "mpiexec")
    monkeypatch.setattr(decompose, "under_mpi", lambda: False)
    result = _cli("solve", _three(case), "-o", tmp_path / "out", "--decompose", "--ranks", "4")
    assert result.exit_code == 2
    assert "multiple of 3" in result.stderr


def test_decompose_needs_an_uncertainty_section(case, tmp_path):
    plain = case(campuses=[CAMPUS], offers=[OFFER], market=MARKET)
    result = _cli("solve", plain, "-o", tmp_path / "out", "--decompose")
    assert result.exit_code == 2
    assert "uncertainty section" in result.stderr
