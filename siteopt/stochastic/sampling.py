r"""Futures drawn from distributions (`uncertainty.sample`) or read as paths (`uncertainty.paths`).

Every draw comes from numpy's PCG64 generator seeded with `sample.seed`, one independent
stream per kind of uncertainty (SeedSequence(seed).spawn), so the same seed gives the same
futures on every machine and worker, and adding a permit distribution leaves the BTC paths
as they were. With a month step Δ = 1/12 year, months m = 0 … M−1 and the scenario's own
path B(m) (its BTC price and growth, or its market.paths), the BTC price follows a geometric
Brownian motion around that path:

.. math::

    \ln\frac{S(m)}{S(m-1)} = \ln\frac{B(m)}{B(m-1)} - \tfrac12\sigma^2\Delta
        + \sigma\sqrt{\Delta}\,Z_m, \qquad S(0) = B(0),\ Z_m \sim N(0, 1)

so E[S(m)] = B(m). The network hashrate moves the same way around its own path with σ_h and
shocks ρ Z_m + √(1−ρ²) Z'_m (ρ = correlation_with_btc). A campus's permit slips k months
with the probability given for k; an offer is withdrawn with its probability; with
`tenant_default`, a running lease's tenant defaults in month m with the monthly hazard
h = 1 − (1 − p)^{1/12} of the annual rate p (first default month: geometric); its hall then
stays empty for `recovery_months` before it can be re-let (offers.vacant_months_after_end).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from siteopt.contract import FUTURES_COLUMNS
from siteopt.inputs import Inputs
from siteopt.inputs.as_built import running_offer_ids
from siteopt.inputs.errors import InputError, Problem, Problems, excerpt, not_found
from siteopt.inputs.market import PATH_COLUMNS, _path_record, check_path, hashprice_usd_per_ph_day
from siteopt.inputs.months import label, parse_month
from siteopt.inputs.overrides import Override
from siteopt.inputs.scenario import guard_path, load_scenario, project_root
from siteopt.inputs.schema import Sample, check_scenario_name
from siteopt.inputs.tables import read_csv_table

MONTH_YEARS = 1 / 12
_STREAMS = ("btc_price", "network_hashrate", "permits", "offers", "tenant_default")


@dataclass(frozen=True)
class Draw:
    """One drawn future before it is loaded: its name, changes to the inputs and the factors
    its BTC price and network hashrate take over the scenario's path (1 at month 0)."""

    name: str
    changes: tuple[Override, ...]
    btc_factor: np.ndarray
    hashrate_factor: np.ndarray
    note: str


def _streams(seed: int) -> dict[str, np.random.Generator]:
    children = np.random.SeedSequence(seed).spawn(len(_STREAMS))
    return {name: np.random.Generator(np.random.PCG64(child))
            for name, child in zip(_STREAMS, children)}


def gbm_factors(z: np.ndarray, vol_pct_per_year: float) -> np.ndarray:
    """exp(σ W(t) − σ² t / 2) at months 0 … M−1 for each row of shocks z (count × M−1)."""
    sigma = vol_pct_per_year / 100
    steps = -0.5 * sigma**2 * MONTH_YEARS + sigma * np.sqrt(MONTH_YEARS) * z
    walk = np.concatenate([np.zeros((z.shape[0], 1)), np.cumsum(steps, axis=1)], axis=1)
    return np.exp(walk)


def market_factors(sample: Sample, months: int, streams: dict[str, np.random.Generator]
                   ) -> tuple[np.ndarray, np.ndarray]:
    """The BTC and hashrate factors of every sampled future (count × months)."""
    shape = (sample.count, months - 1)
    # both streams are drawn whatever is sampled, so one setting never shifts another's draws
    z_btc = streams["btc_price"].standard_normal(shape)
    z_own = streams["network_hashrate"].standard_normal(shape)
    btc = np.ones((sample.count, months)) if sample.btc_price is None else \
        gbm_factors(z_btc, sample.btc_price.vol_pct_per_year)
    if sample.network_hashrate is None:
        return btc, np.ones((sample.count, months))
    rho = sample.network_hashrate.correlation_with_btc
    z_hash = rho * z_btc + np.sqrt(1 - rho**2) * z_own
    return btc, gbm_factors(z_hash, sample.network_hashrate.vol_pct_per_year)


def _pick(u: float, table: dict[int, float]) -> int:
    """The outcome whose cumulative probability first exceeds u (outcomes in ascending order)."""
    keys = sorted(table)
    cumulative = np.cumsum([table[k] / 100 for k in keys])
    return keys[min(int(np.searchsorted(cumulative, u, side="right")), len(keys) - 1)]


def _check_names(inputs: Inputs, sample: Sample, where: str, problems: Problems) -> None:
    campuses, offers = inputs.campuses, inputs.offers
    for campus in sample.permit_slip_months:
        if campus not in campuses.index:
            problems.add(f"{where}.permit_slip_months.{excerpt(campus)}",
                         f"unknown campus (expected one of: {', '.join(campuses.index)})")
    for offer in sample.offer_withdrawn_pct:
        if offer not in offers.index:
            problems.add(f"{where}.offer_withdrawn_pct.{excerpt(offer)}",
                         f"unknown offer (expected one of: {', '.join(offers.index)})")
        elif bool(offers.at[offer, "signed"]):
            problems.add(f"{where}.offer_withdrawn_pct.{offer}",
                         "a signed lease cannot be withdrawn (expected an offer not signed)")
    market = inputs.scenario.market
    for key in ("btc_price", "network_hashrate"):
        if getattr(sample, key) is not None and market.hashprice_usd_per_ph_day is not None:
            problems.add(f"{where}.{key}", "market.hashprice_usd_per_ph_day fixes the "
                                           "hashprice, so a sampled path would change no "
                                           "revenue; remove one of them")


def _permit_changes(inputs: Inputs, sample: Sample, rng: np.random.Generator
                    ) -> list[list[Override]]:
    start = parse_month(inputs.scenario.horizon.start)
    u = rng.random((sample.count, len(sample.permit_slip_months)))
    out: list[list[Override]] = [[] for _ in range(sample.count)]
    for j, (campus, table) in enumerate(sample.permit_slip_months.items()):
        given = inputs.campuses.at[campus, "permit_ready"]
        base = parse_month(given) if isinstance(given, str) and given else start
        for i in range(sample.count):
            slip = _pick(u[i, j], table)
            if slip:
                out[i].append(Override("campuses.permit_ready", "set",
                                       label(base + slip), campus))
    return out


def _offer_changes(sample: Sample, rng: np.random.Generator) -> list[list[Override]]:
    u = rng.random((sample.count, len(sample.offer_withdrawn_pct)))
    out: list[list[Override]] = [[] for _ in range(sample.count)]
    for j, (offer, pct) in enumerate(sample.offer_withdrawn_pct.items()):
        for i in range(sample.count):
            if u[i, j] < pct / 100:
                out[i].append(Override("offers.withdrawn", "set", True, offer))
    return out


def _default_changes(inputs: Inputs, sample: Sample, rng: np.random.Generator
                     ) -> list[list[Override]]:
    """A running lease whose tenant defaults in month m ≥ 1 of the horizon ends there: its
    term is cut to the months it ran, and its hall stays empty for recovery_months (then it
    is free to re-let, or stays idle)."""
    first = parse_month(inputs.scenario.horizon.start)
    months = inputs.scenario.horizon.months
    running = running_offer_ids(inputs.offers, first)
    out: list[list[Override]] = [[] for _ in range(sample.count)]
    if sample.tenant_default is None:
        return out
    p = sample.tenant_default.pct_per_year / 100
    recovery = sample.tenant_default.recovery_months
    hazard = 1 - (1 - p) ** MONTH_YEARS
    # month of the first default counted from month 1 (month 0 is today: no default)
    first_default = rng.geometric(hazard, (sample.count, len(running))) if hazard > 0 else \
        np.full((sample.count, len(running)), months)
    for j, offer in enumerate(running):
        start = parse_month(inputs.offers.at[offer, "latest_start"])
        term = int(inputs.offers.at[offer, "term_months"])
        for i in range(sample.count):
            end = first + int(first_default[i, j])
            if end < min(first + months, start + term):
                out[i].append(Override("offers.term_months", "set", end - start, offer))
                if recovery:
                    out[i].append(Override("offers.vacant_months_after_end", "set", recovery,
                                           offer))
    return out


def draws(inputs: Inputs, sample: Sample, where: str) -> list[Draw]:
    """The sampled futures of `sample` (raises InputError naming the key at fault)."""
    problems = Problems()
    _check_names(inputs, sample, where, problems)
    problems.raise_if_any()
    streams = _streams(sample.seed)
    btc, hashrate = market_factors(sample, inputs.scenario.horizon.months, streams)
    permits = _permit_changes(inputs, sample, streams["permits"])
    offers = _offer_changes(sample, streams["offers"])
    defaults = _default_changes(inputs, sample, streams["tenant_default"])
    width = len(str(sample.count))
    return [Draw(f"sample-{i + 1:0{width}d}", tuple(permits[i] + offers[i] + defaults[i]), btc[i],
                 hashrate[i], f"sampled #{i + 1} of seed {sample.seed}")
            for i in range(sample.count)]


def with_market(inputs: Inputs, market: pd.DataFrame, where: str, problems: Problems
                ) -> Inputs | None:
    """The inputs with another market path (checked in range like a scenario's own)."""
    for out in check_path(market):
        problems.add(where, f"{out.column} reaches {out.value:.3g} in {out.month}; it must "
                            f"stay {out.allowed} (a lower volatility or a shorter horizon "
                            f"keeps it in range)")
        return None
    from siteopt.inputs.load import _hash

    construction = [inputs.construction] if len(inputs.construction) else []
    digest = _hash(inputs.scenario, inputs.campuses, inputs.offers, inputs.offer_phases,
                   market, *construction)
    return dataclasses.replace(inputs, market=market, input_hash=digest)


def drawn_market(inputs: Inputs, draw: Draw) -> pd.DataFrame:
    """The future's market: the scenario's path times the draw's factors; the hashprice from
    the formula, except in months where the scenario's own market.paths fixes it."""
    base = inputs.market
    market = base.copy()
    market["btc_price_usd"] = base["btc_price_usd"].to_numpy() * draw.btc_factor
    market["network_hashrate_ehs"] = base["network_hashrate_ehs"].to_numpy() * \
        draw.hashrate_factor
    parts = ("block_subsidy_btc", "fees_btc_per_block", "btc_price_usd", "network_hashrate_ehs")
    from_formula = hashprice_usd_per_ph_day(*(base[c].to_numpy() for c in parts))
    fixed = ~np.isclose(base["hashprice_usd_per_ph_day"].to_numpy(), from_formula,
                        rtol=1e-12, atol=0.0)
    market["hashprice_usd_per_ph_day"] = np.where(
        fixed, base["hashprice_usd_per_ph_day"].to_numpy(),
        hashprice_usd_per_ph_day(*(market[c].to_numpy() for c in parts)))
    return market


def mean_market(inputs: Inputs, futures: list) -> pd.DataFrame:
    """The probability-weighted mean of the futures' BTC price and network hashrate month by
    month, over the scenario's market (hashprice from the formula where it is not fixed)."""
    mean = inputs.market[["month"]].copy()
    for column in ("btc_price_usd", "network_hashrate_ehs"):
        mean[column] = sum(f.probability * f.inputs.market[column].to_numpy() for f in futures)
    return path_market(inputs, mean)


# -- uncertainty.paths ----------------------------------------------------------------------


def path_market(inputs: Inputs, paths: pd.DataFrame) -> pd.DataFrame:
    """The scenario's market with one future's path laid over it month by month (as
    market.paths is over the flat values)."""
    base = inputs.market
    market = base.copy()
    rows = market["month"].isin(paths["month"])
    by_month = paths.set_index("month")
    for column in ("btc_price_usd", "network_hashrate_ehs", "fees_btc_per_block"):
        if column in by_month:
            given = market.loc[rows, "month"].map(by_month[column])
            market.loc[rows, column] = given.where(given.notna(), market.loc[rows, column])
    parts = ("block_subsidy_btc", "fees_btc_per_block", "btc_price_usd", "network_hashrate_ehs")
    fixed = ~np.isclose(base["hashprice_usd_per_ph_day"].to_numpy(),
                        hashprice_usd_per_ph_day(*(base[c].to_numpy() for c in parts)),
                        rtol=1e-12, atol=0.0)
    hashprice = pd.Series(np.where(fixed, base["hashprice_usd_per_ph_day"].to_numpy(),
                                   hashprice_usd_per_ph_day(*(market[c].to_numpy()
                                                              for c in parts))),
                          index=market.index)
    if "hashprice_usd_per_ph_day" in by_month:
        given = market.loc[rows, "month"].map(by_month["hashprice_usd_per_ph_day"])
        hashprice[rows] = given.where(given.notna(), hashprice[rows])
    market["hashprice_usd_per_ph_day"] = hashprice
    return market


def read_future_paths(inputs: Inputs) -> dict[str, pd.DataFrame]:
    """`uncertainty.paths`: a scenario column and the market.paths columns; the rows of each
    scenario are one future's path (raises InputError located at the file's cells)."""
    uncertainty = inputs.scenario.uncertainty
    loaded = load_scenario(inputs.scenario_path, list(inputs.overrides))
    origin = loaded.origins.get(("uncertainty", "paths"), loaded.path)
    where = f"scenario {origin.name}: uncertainty.paths"
    path = guard_path(origin.parent / uncertainty.paths, project_root(loaded.path), where)
    if not Path(path).is_file():
        raise InputError([Problem(where, not_found(Path(path), "file not found"))])
    raw = read_csv_table(Path(path), (("scenario", "future"), ("month", "month")))
    problems = Problems()
    for column in ("scenario", "month"):
        if column not in raw.header:
            problems.add(raw.source, f"missing required column '{column}'")
    problems.raise_if_any()
    unknown = [c for c in raw.header if c not in ("scenario", "month", *PATH_COLUMNS)]
    for column in unknown:
        problems.add(raw.where(None, column), f"unknown column (expected: scenario, month, "
                                              f"{', '.join(PATH_COLUMNS)})")
    by_future: dict[str, list[dict]] = {}
    seen: dict[tuple[str, str], int] = {}
    for row in raw.rows:
        name = str(row.cells.get("scenario") or "").strip()
        try:
            check_scenario_name(name)
        except ValueError as exc:
            problems.add(raw.where(row, "scenario"), str(exc))
            continue
        record = _path_record(raw, row, problems)
        if record is None:
            continue
        if (name, record["month"]) in seen:
            problems.add(raw.where(row, "month"), f"duplicate month {record['month']} of "
                                                  f"{name} (first on row "
                                                  f"{seen[name, record['month']]})")
        seen[name, record["month"]] = row.row
        by_future.setdefault(name, []).append(record)
    if not raw.rows:
        problems.add(raw.source, "no rows")
    months = set(inputs.months)
    for name, records in by_future.items():
        if not any(r["month"] in months for r in records):
            problems.add(raw.source, f"future {name}: no month inside the horizon "
                                     f"({inputs.months[0]} to {inputs.months[-1]})")
    problems.raise_if_any()
    return {name: pd.DataFrame.from_records(records) for name, records in by_future.items()}


def futures_table(names: list[str], markets: list[pd.DataFrame]) -> pd.DataFrame:
    """futures.csv: every future's monthly BTC price and network hashrate (readable back as
    `uncertainty.paths`)."""
    frames = [m[["month", "btc_price_usd", "network_hashrate_ehs"]].assign(scenario=name)
              for name, m in zip(names, markets)]
    return pd.concat(frames, ignore_index=True)[list(FUTURES_COLUMNS)]
