"""Files → one validated, frozen `Inputs` object. Nothing downstream re-reads or re-validates."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from siteopt.errors import InputError, Problem, Problems
from siteopt.market import market_path, read_paths
from siteopt.months import label, parse_month
from siteopt.scenario import LoadedScenario, load_scenario
from siteopt.schema import TABLES, Scenario
from siteopt.tables import RawTable, parse_table, read_csv_table, read_xlsx_tables


@dataclass(frozen=True)
class Inputs:
    """Everything a solve needs, validated. Tables are indexed by their id column."""

    scenario: Scenario
    scenario_path: Path
    settings: dict[str, Any]
    portfolio_path: Path
    campuses: pd.DataFrame
    offers: pd.DataFrame
    market: pd.DataFrame
    input_hash: str
    warnings: tuple[str, ...]

    @property
    def months(self) -> list[str]:
        return list(self.market["month"])


def load_inputs(scenario_path: str | Path) -> Inputs:
    """Load and validate a scenario with its portfolio and market paths; raise InputError."""
    loaded = load_scenario(scenario_path)
    scenario = loaded.scenario
    problems = Problems()
    warnings: list[str] = []

    portfolio_path = loaded.origin_dir("portfolio") / scenario.portfolio
    raw = _read_portfolio(portfolio_path, loaded)
    frames = {}
    for name, table in TABLES.items():
        if name not in raw:
            if table.required:
                problems.add(_portfolio_where(portfolio_path, name), f"missing table {name!r}")
            continue
        frames[name] = parse_table(table, raw[name], problems)
    problems.raise_if_any()

    paths = None
    if scenario.market.paths:
        paths_file = loaded.origin_dir("market", "paths") / scenario.market.paths
        if not paths_file.is_file():
            problems.add(f"scenario {loaded.path.name}: market.paths",
                         f"file not found ({paths_file})")
        else:
            paths = read_paths(paths_file, problems)
    campuses, offers = frames["campuses"], frames["offers"]
    if campuses.empty:
        problems.add(raw["campuses"].source, "no rows: at least one campus is needed")
    _check_campuses(campuses, raw["campuses"], problems)
    _check_offers(offers, raw["offers"], campuses, scenario, problems, warnings)
    _check_horizon(campuses, raw["campuses"], scenario, warnings)
    problems.raise_if_any()

    market = market_path(scenario.market, scenario.horizon.start, scenario.horizon.months, paths)
    campuses = campuses.set_index("campus_id").drop(columns="row")
    offers = offers.set_index("offer_id").drop(columns="row")
    all_ids = tuple(campuses.index)
    offers["campuses"] = [all_ids if ids == ("*",) else ids for ids in offers["campuses"]]
    return Inputs(
        scenario=scenario,
        scenario_path=loaded.path,
        settings=loaded.settings,
        portfolio_path=portfolio_path,
        campuses=campuses,
        offers=offers,
        market=market,
        input_hash=_hash(scenario, campuses, offers, market),
        warnings=tuple(warnings),
    )


def _portfolio_where(path: Path, table: str) -> str:
    return f"{path.name}" if path.suffix.lower() == ".xlsx" else f"{path.name}/{table}.csv"


def _read_portfolio(path: Path, loaded: LoadedScenario) -> dict[str, RawTable]:
    where = f"scenario {loaded.origins.get(('portfolio',), loaded.path).name}: portfolio"
    if path.is_dir():
        return {name: read_csv_table(path / f"{name}.csv")
                for name in TABLES if (path / f"{name}.csv").is_file()}
    if path.is_file() and path.suffix.lower() in {".xlsx", ".xlsm", ".xls"}:
        return read_xlsx_tables(path, list(TABLES))
    if path.is_file():
        raise InputError([Problem(where, f"expected a folder of CSV files or an .xlsx workbook "
                                         f"(got {path.name})")])
    raise InputError([Problem(where, f"not found ({path})")])


def _check_campuses(campuses: pd.DataFrame, raw: RawTable, problems: Problems) -> None:
    for row, c in zip(raw.rows, campuses.itertuples()):
        if None in (c.hpc_max_it_mw, c.hpc_block_it_mw, c.hpc_pue, c.grid_mw):
            continue
        if c.hpc_max_it_mw > 0 and c.hpc_block_it_mw > c.hpc_max_it_mw:
            problems.add(raw.where(row, "hpc_block_it_mw"),
                         f"block of {c.hpc_block_it_mw:g} IT MW does not fit in hpc_max_it_mw "
                         f"{c.hpc_max_it_mw:g}")
        facility = c.hpc_max_it_mw * c.hpc_pue
        if facility > c.grid_mw + 1e-9:
            problems.add(raw.where(row, "hpc_max_it_mw"),
                         f"hpc_max_it_mw × hpc_pue = {c.hpc_max_it_mw:g} × {c.hpc_pue:g} = "
                         f"{facility:g} MW exceeds grid_mw {c.grid_mw:g}")


def _check_offers(offers: pd.DataFrame, raw: RawTable, campuses: pd.DataFrame,
                  scenario: Scenario, problems: Problems, warnings: list[str]) -> None:
    known = set(campuses["campus_id"].dropna())
    capacity = dict(zip(campuses["campus_id"], campuses["hpc_max_it_mw"]))
    first = parse_month(scenario.horizon.start)
    last = first + scenario.horizon.months - 1
    for row, o in zip(raw.rows, offers.itertuples()):
        ids = o.campuses or ("*",)
        unknown = [i for i in ids if i != "*" and i not in known]
        if unknown:
            problems.add(raw.where(row, "campuses"),
                         f"unknown campus {', '.join(map(repr, unknown))} "
                         f"(known: {', '.join(sorted(known))})")
        if o.earliest_start is None or o.latest_start is None:
            continue
        early, late = parse_month(o.earliest_start), parse_month(o.latest_start)
        if late < early:
            problems.add(raw.where(row, "latest_start"),
                         f"{o.latest_start} is before earliest_start {o.earliest_start}")
            continue
        outside = None
        if late < first:
            outside = f"its start window closes ({o.latest_start}) before the horizon starts " \
                      f"({label(first)})"
        elif early > last:
            outside = f"its start window opens ({o.earliest_start}) after the horizon ends " \
                      f"({label(last)})"
        if outside and o.signed:
            problems.add(raw.where(row, "latest_start" if late < first else "earliest_start"),
                         f"signed lease {o.offer_id}: {outside}")
        elif outside:
            warnings.append(f"{raw.where(row)}: offer {o.offer_id} cannot start inside the "
                            f"horizon: {outside}; it is ignored")
        eligible = known if "*" in ids else [i for i in ids if i in known]
        room = max((capacity[i] or 0 for i in eligible), default=0)
        if o.it_mw is not None and eligible and o.it_mw > room:
            message = (f"{o.it_mw:g} IT MW is more than any eligible campus can host "
                       f"(largest hpc_max_it_mw: {room:g})")
            if o.signed:
                problems.add(raw.where(row, "it_mw"), f"signed lease {o.offer_id}: {message}")
            else:
                warnings.append(f"{raw.where(row, 'it_mw')}: offer {o.offer_id}: {message}; "
                                f"it can never be accepted")


def _check_horizon(campuses: pd.DataFrame, raw: RawTable, scenario: Scenario,
                   warnings: list[str]) -> None:
    last = parse_month(scenario.horizon.start) + scenario.horizon.months - 1
    for row, c in zip(raw.rows, campuses.itertuples()):
        if c.permit_ready and parse_month(c.permit_ready) > last:
            warnings.append(f"{raw.where(row, 'permit_ready')}: {c.permit_ready} is after the "
                            f"horizon ends ({label(last)}); campus {c.campus_id} cannot convert")


def _hash(scenario: Scenario, campuses: pd.DataFrame, offers: pd.DataFrame,
          market: pd.DataFrame) -> str:
    """Hash of what drives a solve: settings (without file paths) and table contents."""
    settings = scenario.model_dump(mode="json", exclude={"portfolio", "description", "name"})
    settings["market"].pop("paths", None)
    digest = hashlib.sha256()
    digest.update(json.dumps(settings, sort_keys=True).encode())
    for frame in (campuses, offers, market):
        digest.update(frame.to_csv(float_format="%.12g").encode())
    return digest.hexdigest()[:16]
