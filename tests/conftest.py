"""Shared helpers: write tiny scenarios to a temporary folder and solve them."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest
import yaml

from siteopt.inputs.schema import CAMPUSES, CONSTRUCTION, OFFER_PHASES, OFFERS

ROOT = Path(__file__).resolve().parents[1]

CAMPUS_DEFAULTS: dict[str, Any] = {
    "campus_id": "C1", "name": "Campus one", "region": "ERCOT", "grid_mw": 100,
    "power_price_usd_per_mwh": 40, "miner_mw": 100, "fleet_efficiency_j_per_th": 20,
    "mining_opex_usd_per_mw_month": 0, "hpc_max_it_mw": 50, "hpc_block_it_mw": 10,
    "hpc_pue": 1.25, "capex_usd_per_it_mw": 10_000_000, "build_months": 6, "permit_ready": "",
    "hpc_opex_usd_per_it_mw_month": 0,
}
OFFER_DEFAULTS: dict[str, Any] = {
    "offer_id": "O1", "tenant": "Tenant one", "it_mw": 10, "rate_usd_per_kw_month": 150,
    "escalator_pct_per_year": 0, "term_months": 120, "earliest_start": "2027-01",
    "latest_start": "2027-12", "campuses": "*", "signed": "false",
}
SCENARIO_DEFAULTS: dict[str, Any] = {
    "name": "case", "portfolio": "portfolio",
    "horizon": {"start": "2027-01", "months": 12},
    "market": {"btc_price_usd": 90000, "network_hashrate_ehs": 1000, "halving_months": []},
    "finance": {"discount_rate_pct_per_year": 0, "value_beyond_horizon": False},
    "solver": {"mip_gap_pct": 0, "time_limit_s": 60, "threads": 1},
}


def _deep_update(base: dict, extra: dict) -> dict:
    out = dict(base)
    for key, value in extra.items():
        out[key] = _deep_update(out[key], value) if isinstance(value, dict) and isinstance(
            out.get(key), dict) else value
    return out


def write_csv(path: Path, columns: list[str], rows: list[dict[str, Any]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: row.get(k, "") for k in columns})


def write_case(folder: Path, campuses: list[dict] | None = None, offers: list[dict] | None = None,
               phases: list[dict] | None = None, construction: list[dict] | None = None,
               **scenario: Any) -> Path:
    """Write a scenario YAML and its CSV portfolio; rows override the defaults above.

    Returns the scenario path. `scenario` keys deep-merge into SCENARIO_DEFAULTS. `phases`
    rows (offer_id, phase, it_mw, months_after_start) are written as offer_phases.csv; without
    them (None) no such file is written; `construction` rows likewise as construction.csv.
    """
    portfolio = folder / "portfolio"
    portfolio.mkdir(parents=True, exist_ok=True)
    campus_rows = [{**CAMPUS_DEFAULTS, **row} for row in (campuses or [{}])]
    offer_rows = [{**OFFER_DEFAULTS, **row} for row in (offers or [])]
    write_csv(portfolio / "campuses.csv", CAMPUSES.column_names, campus_rows)
    write_csv(portfolio / "offers.csv", OFFERS.column_names, offer_rows)
    if phases is not None:
        write_csv(portfolio / "offer_phases.csv", OFFER_PHASES.column_names, phases)
    if construction is not None:
        write_csv(portfolio / "construction.csv", CONSTRUCTION.column_names, construction)
    path = folder / "scenario.yaml"
    path.write_text(yaml.safe_dump(_deep_update(SCENARIO_DEFAULTS, scenario), sort_keys=False))
    return path


# Test files that read the session's base plan (base_plan below): `make test` (pytest-xdist,
# --dist loadfile) sends them to one worker together, so one worker solves base for all of
# them — each file its own unit of work, they would often be split over both workers and
# base solved twice.
BASE_PLAN_FILES = frozenset({"test_deck.py", "test_narrative.py", "test_workbook.py",
                             "test_failures.py", "test_scenarios.py"})


@pytest.hookimpl(optionalhook=True)  # pytest-xdist's hook: without xdist it is never called
def pytest_xdist_make_scheduler(config, log):
    """--dist loadfile with the BASE_PLAN_FILES as one unit of work. (--dist loadgroup
    would do it with marks, but pytest-xdist 3.8 cannot read them under pytest 9.)"""
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class LoadFileSharingBasePlan(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            file = super()._split_scope(nodeid)
            return "base_plan" if Path(file).name in BASE_PLAN_FILES else file

    return LoadFileSharingBasePlan(config, log)


@pytest.fixture
def case(tmp_path: Path):
    """`case(campuses=[...], offers=[...], phases=[...], horizon={...})` → scenario path in
    tmp_path (`phases` optional: rows of offer_phases.csv)."""
    counter = {"n": 0}

    def make(**kwargs: Any) -> Path:
        counter["n"] += 1
        return write_case(tmp_path / f"case{counter['n']}", **kwargs)

    return make


@pytest.fixture(scope="session")
def base_plan(tmp_path_factory) -> tuple[Any, Path]:
    """scenarios/base.yaml solved once per session and written to a result folder:
    (Results, folder). Tests must not change either. The files that use it are
    BASE_PLAN_FILES (one xdist worker solves it for all of them)."""
    from siteopt.api import solve_inputs
    from siteopt.export.results_folder import write_results
    from siteopt.inputs import load_inputs

    results = solve_inputs(load_inputs(ROOT / "scenarios" / "base.yaml"))
    folder = tmp_path_factory.mktemp("base-plan") / "base"
    write_results(results, folder)
    return results, folder
