"""Market engine: monthly BTC price, network hashrate, block reward and hashprice.

    hashprice(m) [USD per PH/s per day] = 144 × (subsidy(m) + fees(m)) × btc_price(m)
                                          ÷ (network_hashrate_ehs(m) × 1000)

144 blocks a day; 1 EH/s = 1000 PH/s. The subsidy halves from each halving month on. BTC price
and network hashrate grow at annual rates: x(m) = x(0) × (1 + g)^(m / 12), m = 0 being the
horizon's first month. A `paths` CSV overrides any series month by month; a hashprice given
there (or `hashprice_usd_per_ph_day` in the scenario) overrides the formula.
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from siteopt.inputs.errors import Problems
from siteopt.inputs.months import days, label, parse_input_month, parse_month
from siteopt.inputs.schema import Market, NumberRule, field_numbers
from siteopt.inputs.tables import read_csv_table

BLOCKS_PER_DAY = 144
PATH_COLUMNS = ("btc_price_usd", "network_hashrate_ehs", "fees_btc_per_block",
                "hashprice_usd_per_ph_day")
# 16,000 times today's margin of about 60,000 USD per MW-month: beyond it something compounded
# out of all proportion, and the solver would be handed numbers it cannot scale.
MAX_MINING_MARGIN_USD_PER_MW_MONTH = 1e9


def path_rule(column: str) -> NumberRule:
    """A paths column takes the range (and reading rule) of the scenario key of its name."""
    return field_numbers(Market, column).scalar  # type: ignore[union-attr, return-value]


def hashprice_usd_per_ph_day(subsidy_btc, fees_btc, btc_price_usd, network_ehs):
    """The hashprice formula; works on scalars and arrays alike."""
    return BLOCKS_PER_DAY * (subsidy_btc + fees_btc) * btc_price_usd / (network_ehs * 1000.0)


def market_path(market: Market, start: str, months: int,
                paths: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per horizon month: month, days, btc_price_usd, network_hashrate_ehs,
    block_subsidy_btc, fees_btc_per_block, hashprice_usd_per_ph_day."""
    first = parse_month(start)
    m = np.arange(months)
    ordinals = first + m
    halvings = sorted(parse_month(h) for h in market.halving_months)
    halvings_passed = np.searchsorted(np.array(halvings, dtype=int), ordinals, side="right")
    frame = pd.DataFrame({
        "month": [label(o) for o in ordinals],
        "days": [days(o) for o in ordinals],
        "btc_price_usd": market.btc_price_usd
        * (1 + market.btc_price_growth_pct_per_year / 100) ** (m / 12),
        "network_hashrate_ehs": market.network_hashrate_ehs
        * (1 + market.network_hashrate_growth_pct_per_year / 100) ** (m / 12),
        "block_subsidy_btc": market.block_subsidy_btc / 2.0 ** halvings_passed,
        "fees_btc_per_block": float(market.fees_btc_per_block),
    })
    override = pd.Series(np.nan, index=frame.index)
    if market.hashprice_usd_per_ph_day is not None:
        override[:] = market.hashprice_usd_per_ph_day
    if paths is not None and frame["month"].isin(paths["month"]).any():
        by_month = paths.set_index("month")
        rows = frame["month"].isin(by_month.index)
        for column in ("btc_price_usd", "network_hashrate_ehs", "fees_btc_per_block"):
            if column in by_month:
                given = frame.loc[rows, "month"].map(by_month[column])
                frame.loc[rows, column] = given.where(given.notna(), frame.loc[rows, column])
        if "hashprice_usd_per_ph_day" in by_month:
            given = frame.loc[rows, "month"].map(by_month["hashprice_usd_per_ph_day"])
            override[rows] = given.where(given.notna(), override[rows])
    formula = hashprice_usd_per_ph_day(frame["block_subsidy_btc"], frame["fees_btc_per_block"],
                                       frame["btc_price_usd"], frame["network_hashrate_ehs"])
    frame["hashprice_usd_per_ph_day"] = override.where(override.notna(), formula)
    return frame


def read_paths(path: Path, problems: Problems, start: str, months: int) -> pd.DataFrame | None:
    """The `market.paths` CSV: a month column and any of PATH_COLUMNS, each number in the
    range of the scenario key of its name; at least one month inside the horizon."""
    raw = read_csv_table(path, (("month", "month"),))
    if "month" not in raw.header:
        problems.add(raw.source, "missing required column 'month'")
        return None
    _check_path_columns(raw, problems)
    records, seen = [], {}
    for row in raw.rows:
        record = _path_record(raw, row, problems)
        if record is None:
            continue
        if record["month"] in seen:
            problems.add(raw.where(row, "month"), f"duplicate month {record['month']} "
                                                  f"(first on row {seen[record['month']]})")
        seen[record["month"]] = row.row
        records.append(record)
    if not raw.rows:
        problems.add(raw.source, "no rows")
    if not records:
        return None
    first, last = parse_month(start), parse_month(start) + months - 1
    given = sorted(parse_month(r["month"]) for r in records)
    if not any(first <= m <= last for m in given):
        problems.add(raw.source, f"no month inside the horizon ({label(first)} to "
                                 f"{label(last)}): its months run from {label(given[0])} to "
                                 f"{label(given[-1])}, so it would change nothing")
    return pd.DataFrame.from_records(records)


def _check_path_columns(raw, problems: Problems) -> None:
    for name in raw.header:
        if name != "month" and name not in PATH_COLUMNS:
            close = difflib.get_close_matches(name[:100], ("month", *PATH_COLUMNS), n=1)
            hint = f"did you mean '{close[0]}'? " if close else ""
            problems.add(raw.where(None, name),
                         f"unknown column ({hint}expected: month, {', '.join(PATH_COLUMNS)})")


def _path_record(raw, row, problems: Problems) -> dict | None:
    """One row's month and values (None when its month cannot be read)."""
    try:
        record = {"month": label(parse_input_month(row.cells.get("month")))}
    except ValueError as exc:
        problems.add(raw.where(row, "month"), str(exc))
        return None
    for column in PATH_COLUMNS:
        text = str(row.cells.get(column) or "").strip()
        if not text:
            continue
        try:
            record[column] = path_rule(column).parse(text)
        except ValueError as exc:
            problems.add(raw.where(row, column), str(exc))
    return record


@dataclass(frozen=True)
class OutOfRange:
    """The first month in which a derived series leaves its range."""

    column: str
    month: str
    value: float
    allowed: str


def check_path(frame: pd.DataFrame) -> list[OutOfRange]:
    """BTC price, network hashrate and hashprice of every month within the range of the
    scenario key of that name (growth compounds past any range over a long horizon)."""
    found = []
    for column in ("btc_price_usd", "network_hashrate_ehs", "hashprice_usd_per_ph_day"):
        rule = path_rule(column)
        for month, value in zip(frame["month"], frame[column]):
            if not (math.isfinite(value) and rule.within(value)):
                found.append(OutOfRange(column, month, float(value), rule.range_text()))
                break
    return found


def check_margins(frame: pd.DataFrame, campus: pd.Series) -> OutOfRange | None:
    """The first month whose mining margin at a campus is not a finite, sane amount."""
    limit = MAX_MINING_MARGIN_USD_PER_MW_MONTH
    margin = mining_margin_usd_per_mw_month(frame, campus)
    for month, value in zip(frame["month"], margin):
        if not (math.isfinite(value) and abs(value) <= limit):
            return OutOfRange("mining margin", month, float(value),
                              f"between -{limit:,.0f} and {limit:,.0f} USD/MW-month")
    return None


def mining_margin_usd_per_mw_month(market: pd.DataFrame, campus: pd.Series) -> pd.Series:
    """Cash margin of one MW mining for a month at a campus: revenue − power − opex."""
    ph_per_mw = 1000.0 / campus["fleet_efficiency_j_per_th"]
    revenue = market["hashprice_usd_per_ph_day"] * ph_per_mw * market["days"]
    power = 24.0 * market["days"] * campus["power_price_usd_per_mwh"]
    return revenue - power - campus["mining_opex_usd_per_mw_month"]
