"""Files → one validated, frozen `Inputs` object. Nothing downstream re-reads or re-validates."""

from __future__ import annotations

import difflib
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from siteopt.inputs.as_built import (
    check_capacity,
    check_construction,
    check_running_leases,
    is_running,
)
from siteopt.inputs.errors import InputError, Problem, Problems, clip, excerpt, not_found
from siteopt.inputs.market import check_margins, check_path, market_path, read_paths
from siteopt.inputs.months import label, parse_month
from siteopt.inputs.overrides import Override, apply_to_tables
from siteopt.inputs.scenario import LoadedScenario, guard_path, load_scenario, project_root, resolve
from siteopt.inputs.schema import CONSTRUCTION, TABLES, Scenario
from siteopt.inputs.tables import RawTable, parse_table, read_csv_table, read_xlsx_tables


@dataclass(frozen=True)
class Inputs:
    """Everything a solve needs, validated. Tables are indexed by their id column."""

    scenario: Scenario
    scenario_path: Path
    settings: dict[str, Any]
    portfolio_path: Path
    campuses: pd.DataFrame
    offers: pd.DataFrame
    offer_phases: pd.DataFrame  # every offer's ramp; an offer without phases has one at 0
    market: pd.DataFrame
    input_hash: str
    warnings: tuple[str, ...]
    # halls under construction at the horizon start (campus_id, it_mw, ready_month,
    # capex_remaining_usd); empty when the company builds nothing yet
    construction: pd.DataFrame = field(default_factory=lambda: empty_construction())
    # the command-line changes it was loaded with (a sweep's): each future of an uncertainty
    # section is loaded again with these and its own
    overrides: tuple[Override, ...] = ()

    @property
    def months(self) -> list[str]:
        return list(self.market["month"])


def load_inputs(scenario_path: str | Path, portfolio: str | Path | None = None,
                overrides: list[Override] | None = None) -> Inputs:
    """Load and validate a scenario with its portfolio and market paths; raise InputError.

    Paths inside scenario files must stay in the project folder; `portfolio`, given by the
    user on the command line, overrides the scenario's and may point anywhere. `overrides`
    (sweeps) change scenario keys and table cells before validation.
    """
    loaded = load_scenario(scenario_path, overrides)
    scenario = loaded.scenario
    problems = Problems()
    warnings: list[str] = []
    root = project_root(loaded.path)

    if portfolio is not None:
        # given on the command line: may be anywhere, but what it holds stays inside it
        portfolio_path = Path(portfolio)
        boundary = (resolve(portfolio_path, f"--portfolio {portfolio_path}"),
                    "the portfolio folder")
    else:
        portfolio_path = loaded.origin_dir("portfolio") / scenario.portfolio
        guard_path(portfolio_path, root, f"scenario {_origin_name(loaded, 'portfolio')}: "
                                         f"portfolio")
        boundary = (root, "the project folder")
    raw = _read_portfolio(portfolio_path, loaded, boundary)
    frames = {}
    for name, table in TABLES.items():
        if name not in raw:
            if table.required:
                problems.add(_portfolio_where(portfolio_path, name), f"missing table {name!r}")
            continue
        frames[name] = parse_table(table, raw[name], problems)
    _check_references(frames, raw, problems)
    problems.raise_if_any()
    if overrides:
        apply_to_tables(frames, overrides)

    paths = None
    if scenario.market.paths:
        paths_file = loaded.origin_dir("market", "paths") / scenario.market.paths
        guard_path(paths_file, root, f"scenario {_origin_name(loaded, 'market', 'paths')}: "
                                     f"market.paths")
        if not paths_file.is_file():
            problems.add(f"scenario {loaded.path.name}: market.paths",
                         not_found(paths_file, "file not found"))
        else:
            paths = read_paths(paths_file, problems, scenario.horizon.start,
                               scenario.horizon.months)
    campuses, offers = frames["campuses"], frames["offers"]
    _check_campuses(campuses, raw["campuses"], problems)
    _check_offers(offers, raw["offers"], campuses, scenario, problems, warnings)
    phases = _phases(offers, frames.get("offer_phases"), raw.get("offer_phases"), problems)
    _check_prepayment_terms(offers, phases, raw["offers"], problems)
    construction = _construction(frames, raw, campuses, scenario, problems)
    check_running_leases(offers, raw["offers"], campuses, phases,
                         parse_month(scenario.horizon.start), problems)
    _check_horizon(campuses, raw["campuses"], scenario, warnings)
    _check_regions(campuses, scenario, loaded, problems)
    problems.raise_if_any()

    market = market_path(scenario.market, scenario.horizon.start, scenario.horizon.months, paths)
    # Ranges keep every input plausible; what compounds from them (growth over 50 years, a
    # hashrate shrinking every year) is checked here, before anything is solved.
    _check_derived(market, campuses, raw["campuses"], loaded, problems)
    problems.raise_if_any()
    campuses = campuses.set_index("campus_id").drop(columns="row")
    offers = offers.set_index("offer_id").drop(columns="row")
    all_ids = tuple(campuses.index)
    # an empty cell takes the column default, the text '*', not the parsed ('*',)
    offers["campuses"] = [all_ids if "*" in ids else ids for ids in offers["campuses"]]
    if overrides:
        scenario = scenario.model_copy(update={"description": "; ".join(
            [scenario.description, *(o.label for o in overrides)]).strip("; ")})
    return Inputs(
        scenario=scenario,
        scenario_path=loaded.path,
        settings=loaded.settings,
        portfolio_path=portfolio_path,
        campuses=campuses,
        offers=offers,
        offer_phases=phases,
        market=market,
        input_hash=_hash(scenario, campuses, offers, phases, market,
                         *([construction] if len(construction) else [])),
        warnings=tuple(warnings),
        construction=construction,
        overrides=tuple(overrides or ()),
    )


def empty_construction() -> pd.DataFrame:
    return pd.DataFrame({c.name: pd.Series(dtype="float64" if c.kind == "float" else object)
                         for c in CONSTRUCTION.columns})


def _construction(frames: dict[str, pd.DataFrame], raw: dict[str, RawTable],
                  campuses: pd.DataFrame, scenario: Scenario, problems: Problems
                  ) -> pd.DataFrame:
    """Halls under construction, checked against the horizon and their campus's room."""
    given = frames.get("construction")
    construction = empty_construction() if given is None else given.drop(columns="row")
    if given is not None:
        check_construction(given, raw["construction"], campuses,
                           parse_month(scenario.horizon.start), scenario.horizon.months,
                           problems)
    check_capacity(campuses, raw["campuses"], construction, problems)
    return construction.reset_index(drop=True)


def _origin_name(loaded: LoadedScenario, *key: str) -> str:
    return loaded.origins.get(tuple(key), loaded.path).name


def _portfolio_where(path: Path, table: str) -> str:
    workbook = path.suffix.lower() in {".xlsx", ".xlsm", ".xls"}
    return f"{path.name}" if workbook else f"{path.name}/{table}.csv"


def _read_portfolio(path: Path, loaded: LoadedScenario,
                    boundary: tuple[Path, str]) -> dict[str, RawTable]:
    where = f"scenario {loaded.origins.get(('portfolio',), loaded.path).name}: portfolio"
    labels = {name: table.row_label for name, table in TABLES.items()}
    if path.is_dir():
        tables = {}
        for name in TABLES:
            file = path / f"{name}.csv"
            if file.is_file() or file.is_symlink():
                # each file too: a link in the folder must not reach outside it
                guard_path(file, boundary[0], f"{path.name}/{file.name}", boundary[1],
                           hint="; copy the file into the portfolio folder instead", named=True)
                tables[name] = read_csv_table(file, labels[name])
        return tables
    if path.is_file() and path.suffix.lower() in {".xlsx", ".xlsm", ".xls"}:
        return read_xlsx_tables(path, list(TABLES), labels)
    if path.is_file():
        raise InputError([Problem(where, f"expected a folder of CSV files or an .xlsx workbook "
                                         f"(got {path.name})")])
    raise InputError([Problem(where, not_found(path))])


def _unknown(kind: str, name: str, known: list[str]) -> str:
    """'unknown campus 'TX-ROKC' (did you mean 'TX-ROCK'? known: ...)', the list cut short."""
    close = difflib.get_close_matches(name, known, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    listed = ", ".join(known[:10]) + (f", … ({len(known)} in all)" if len(known) > 10 else "")
    return f"unknown {kind} {excerpt(name)} ({hint}known: {listed})"


def _check_references(frames: dict[str, pd.DataFrame], raw: dict[str, RawTable],
                      problems: Problems) -> None:
    """Ids one table names in another, checked in the same pass as the cells."""
    if "campuses" in frames and frames["campuses"].empty:
        problems.add(raw["campuses"].source, "no rows: at least one campus is needed")
    elif "campuses" in frames and "offers" in frames:
        known = sorted(set(frames["campuses"]["campus_id"].dropna()))
        for row, ids in zip(raw["offers"].rows, frames["offers"]["campuses"]):
            for campus in [i for i in (ids or ()) if i != "*" and i not in known]:
                problems.add(raw["offers"].where(row, "campuses"),
                             _unknown("campus", campus, known))
    if "offers" in frames and "offer_phases" in frames:
        known = [o for o in frames["offers"]["offer_id"] if o is not None]
        for row, offer in zip(raw["offer_phases"].rows, frames["offer_phases"]["offer_id"]):
            if offer is not None and offer not in known:
                problems.add(raw["offer_phases"].where(row, "offer_id"),
                             _unknown("offer", offer, known))


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
        if o.signed and o.withdrawn:
            problems.add(raw.where(row, "withdrawn"),
                         f"signed lease {o.offer_id} cannot be withdrawn: a signed lease "
                         f"must be delivered (set signed: false to model a tenant who may "
                         f"walk away before signing)")
        if o.earliest_start is None or o.latest_start is None:
            continue
        early, late = parse_month(o.earliest_start), parse_month(o.latest_start)
        if late < early:
            problems.add(raw.where(row, "latest_start"),
                         f"{o.latest_start} is before earliest_start {o.earliest_start}")
            continue
        late += int(o.max_delay_months or 0)
        outside = _outside_horizon(o, early, late, first, last)
        if outside and o.signed:
            problems.add(raw.where(row, "latest_start" if late < first else "earliest_start"),
                         f"signed lease {o.offer_id}: {outside}" + (
                             "; a lease already running is entered with earliest_start = "
                             "latest_start = the month it started" if late < first else ""))
        elif outside:
            warnings.append(f"{raw.where(row)}: offer {o.offer_id} cannot start inside the "
                            f"horizon: {outside}; it is ignored")
        if o.prepayment_credit_months and o.term_months and \
                o.prepayment_credit_months > o.term_months:
            problems.add(raw.where(row, "prepayment_credit_months"),
                         f"must be <= term_months {o.term_months} (got "
                         f"{o.prepayment_credit_months}): the credit runs against rent")
        if o.prepayment_usd and not o.prepayment_credit_months:
            problems.add(raw.where(row, "prepayment_credit_months"),
                         f"must be >= 1 when prepayment_usd is given (got "
                         f"{o.prepayment_credit_months})")
        eligible = known if "*" in ids else [i for i in ids if i in known]
        rooms = [capacity[i] or 0 for i in eligible]
        room = sum(rooms) if o.split else max(rooms, default=0)
        if o.it_mw is not None and eligible and o.it_mw > room:
            message = (f"{o.it_mw:g} IT MW is more than the eligible campuses can host "
                       f"({'together' if o.split else 'largest'} hpc_max_it_mw: {room:g})")
            if o.signed:
                problems.add(raw.where(row, "it_mw"), f"signed lease {o.offer_id}: {message}")
            else:
                warnings.append(f"{raw.where(row, 'it_mw')}: offer {o.offer_id}: {message}; "
                                f"it can never be accepted")


def _outside_horizon(o: Any, early: int, late: int, first: int, last: int) -> str | None:
    """Why an offer's start window (`late` with its delay) misses the horizon, or None; a
    lease already running is checked in as_built."""
    delay = int(o.max_delay_months or 0)
    if is_running(o, first):
        return None
    if late < first:
        closes = f"{label(late)}, with {delay} months' delay" if delay else label(late)
        return f"its start window closes ({closes}) before the horizon starts ({label(first)})"
    if early > last:
        return f"its start window opens ({o.earliest_start}) after the horizon ends " \
               f"({label(last)})"
    return None


def _check_prepayment_terms(offers: pd.DataFrame, phases: pd.DataFrame, raw: RawTable,
                            problems: Problems) -> None:
    """A lease is signed before it starts, and a prepayment is credited against rent: it can
    never take back more a month than the rent due (that would be the tenant giving money
    away, or the landlord owing it back — neither is a prepayment)."""
    first_mw = phases[phases["months_after_start"] == 0].groupby("offer_id")["it_mw"].sum()
    for row, o in zip(raw.rows, offers.itertuples()):
        if o.signing_month and o.latest_start:
            closes = parse_month(o.latest_start) + int(o.max_delay_months or 0)
            if parse_month(o.signing_month) > closes:
                problems.add(raw.where(row, "signing_month"),
                             f"{o.signing_month} is after the last month offer {o.offer_id} "
                             f"may start ({label(closes)}); a lease starts once signed")
        if not (o.prepayment_usd and o.prepayment_credit_months and o.rate_usd_per_kw_month):
            continue
        credit = o.prepayment_usd / o.prepayment_credit_months
        rent = float(first_mw.get(o.offer_id, 0.0)) * 1000 * o.rate_usd_per_kw_month
        if credit > rent + 0.005:
            problems.add(raw.where(row, "prepayment_usd"),
                         f"offer {o.offer_id}: {o.prepayment_usd:,.2f} credited over "
                         f"{o.prepayment_credit_months} months is {credit:,.2f} USD a month, "
                         f"more than the {rent:,.2f} USD of rent due in its first month; "
                         f"credit it over more months or lower it")


def _phases(offers: pd.DataFrame, given: pd.DataFrame | None, raw: RawTable | None,
            problems: Problems) -> pd.DataFrame:
    """Each offer's delivery ramp; offers without rows in offer_phases deliver all at once."""
    columns = ["offer_id", "phase", "it_mw", "months_after_start"]
    single = pd.DataFrame({"offer_id": offers["offer_id"], "phase": 1,
                           "it_mw": offers["it_mw"], "months_after_start": 0})[columns]
    if given is None or given.empty:
        return single.reset_index(drop=True)
    offer = offers.set_index("offer_id")
    rows = dict(zip(given.index, raw.rows))
    for i, p in given.iterrows():
        if p["offer_id"] not in offer.index:
            continue  # reported with the cells
        if p["months_after_start"] is not None and offer.at[p["offer_id"], "term_months"] \
                and p["months_after_start"] >= offer.at[p["offer_id"], "term_months"]:
            problems.add(raw.where(rows[i], "months_after_start"),
                         f"{p['months_after_start']} is not inside the lease term "
                         f"({offer.at[p['offer_id'], 'term_months']} months)")
    for offer_id, ramp in given.groupby("offer_id", sort=False):
        if offer_id not in offer.index or ramp["it_mw"].isna().any():
            continue
        first_row = rows[ramp.index[0]]
        total, expected = ramp["it_mw"].sum(), offer.at[offer_id, "it_mw"]
        if expected is not None and abs(total - expected) > 1e-6:
            problems.add(raw.where(first_row, "it_mw"),
                         f"phases of {offer_id} add up to {total:g} IT MW but the offer's it_mw "
                         f"is {expected:g}")
        if ramp["months_after_start"].notna().all() and ramp["months_after_start"].min() != 0:
            problems.add(raw.where(first_row, "months_after_start"),
                         f"the first phase of {offer_id} must be delivered at 0 months after "
                         f"the start (got {ramp['months_after_start'].min()})")
    phased = set(given["offer_id"])
    merged = pd.concat([single[~single["offer_id"].isin(phased)], given[columns]])
    order = {o: i for i, o in enumerate(offers["offer_id"])}
    merged = merged.sort_values(["offer_id", "phase"], key=lambda s: s.map(order)
                                if s.name == "offer_id" else s)
    return merged.astype({"phase": int, "months_after_start": int}).reset_index(drop=True)


_SOURCES = {  # the keys a derived series is computed from, the one to change first
    "btc_price_usd": ("market.btc_price_growth_pct_per_year",
                      "market.btc_price_usd growing at market.btc_price_growth_pct_per_year"),
    "network_hashrate_ehs": ("market.network_hashrate_growth_pct_per_year",
                             "market.network_hashrate_ehs growing at "
                             "market.network_hashrate_growth_pct_per_year"),
    "hashprice_usd_per_ph_day": ("market", "the BTC price, network hashrate, "
                                 "block_subsidy_btc and fees_btc_per_block of that month"),
}


def _check_derived(market: pd.DataFrame, campuses: pd.DataFrame, raw: RawTable,
                   loaded: LoadedScenario, problems: Problems) -> None:
    """Finite, sane magnitudes for what is computed from the inputs, located at the inputs
    that produced them."""
    path_problems = check_path(market)
    for out in path_problems:
        key, source = _SOURCES[out.column]
        origin = _origin_name(loaded, *key.split("."))
        given = " or market.paths" if loaded.scenario.market.paths else ""
        problems.add(f"scenario {origin}: {key}",
                     f"{out.column} reaches {out.value:.3g} in {out.month} (from {source}"
                     f"{given}); it must stay {out.allowed}")
    if path_problems:
        return  # every margin follows from the path: the path is what to change
    for row, (_, campus) in zip(raw.rows, campuses.iterrows()):
        out = check_margins(market, campus)
        if out is not None:
            problems.add(raw.where(row, "fleet_efficiency_j_per_th"),
                         f"the mining margin reaches {out.value:.3g} USD/MW-month in "
                         f"{out.month} (hashprice × 1000 / fleet_efficiency_j_per_th × days − "
                         f"power − opex); it must stay {out.allowed}")


def _check_regions(campuses: pd.DataFrame, scenario: Scenario, loaded: LoadedScenario,
                   problems: Problems) -> None:
    regions = sorted(set(campuses["region"].dropna()))
    shown = ", ".join(clip(r, 30) for r in regions[:10]) + \
        (f", … ({len(regions)} in all)" if len(regions) > 10 else "")
    for region in scenario.limits.max_it_mw_started_per_year_by_region:
        if region not in regions:
            key = ("limits", "max_it_mw_started_per_year_by_region", region)
            where = loaded.origins.get(key, loaded.path).name
            problems.add(f"scenario {where}: limits.max_it_mw_started_per_year_by_region."
                         f"{clip(region, 30)}",
                         f"no campus is in region {excerpt(region)} (regions: {shown})")


def _check_horizon(campuses: pd.DataFrame, raw: RawTable, scenario: Scenario,
                   warnings: list[str]) -> None:
    last = parse_month(scenario.horizon.start) + scenario.horizon.months - 1
    for row, c in zip(raw.rows, campuses.itertuples()):
        if c.permit_ready and parse_month(c.permit_ready) > last:
            warnings.append(f"{raw.where(row, 'permit_ready')}: {c.permit_ready} is after the "
                            f"horizon ends ({label(last)}); campus {c.campus_id} cannot convert")


def _hash(scenario: Scenario, *frames: pd.DataFrame) -> str:
    """Hash of what drives a solve: settings (without file paths) and table contents."""
    settings = scenario.model_dump(mode="json", exclude={"portfolio", "description", "name"})
    settings["market"].pop("paths", None)
    digest = hashlib.sha256()
    digest.update(json.dumps(settings, sort_keys=True).encode())
    for frame in frames:
        digest.update(frame.to_csv(float_format="%.12g").encode())
    return digest.hexdigest()[:16]
