"""Why a plan declines an offer, read from the plan's tables and the run's inputs.

For each eligible campus and a few start months of the offer's window, the offer is laid
beside the plan as it stands — its blocks built just in time, their capex, rent, HPC opex and
the mining margin the halls' power would have earned — and checked against what the plan
already uses of each limit of the formulation (docs/formulation.md), by the names used there:

- no start month can be served: `permit` + build months, the start window, the horizon;
- `leases_fit_in_whole_blocks`: the site's hpc_max_it_mw (in whole blocks) is taken;
- (`power_shared_with_mining` never stops a lease alone: inputs keep hpc_max_it_mw × PUE
  within grid_mw, so halls can always take the power from mining — given up mining margin
  counts in the offer's value instead);
- `tenant_share_cap`, `it_started_per_year_cap`, `region_it_started_per_year_cap`,
  `capex_within_budget`, `cash_balance` (the cash floor);
- otherwise its value alone: the present value it would add on its own.

This is an estimate beside a fixed plan, not a solve: a reason it gives is a limit that the
offer would break, or a value below zero; when neither holds the plan is better without it
for reasons the tables do not show (it competes with other decisions), and the text says so.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from siteopt.export import plan_inputs as pi
from siteopt.export.plan_frames import inside
from siteopt.inputs.market import mining_margin_usd_per_mw_month
from siteopt.results.extract import Results

EPS = 1e-6
STARTS_TRIED = 3  # start months tried per campus: the window's first, middle and last
# What each limit is called in the text, after the formulation's name
LIMIT_WORDS = {
    "permit": "permit and build time",
    "leases_fit_in_whole_blocks": "site capacity",
    "tenant_share_cap": "tenant share",
    "it_started_per_year_cap": "supply cap",
    "region_it_started_per_year_cap": "regional supply cap",
    "capex_within_budget": "capex budget",
    "cash_balance": "cash floor",
    "value_alone": "value alone",
    "withdrawn": "withdrawn",
    "other": "other decisions",
}


PLACE_LIMITS = ("leases_fit_in_whole_blocks",)


@dataclass
class Plan:
    """What the plan already uses, per campus and month (inside the horizon) and per year."""

    start: str
    months: int
    campuses: dict[str, pd.Series]
    market: pd.DataFrame | None
    mining: dict[str, np.ndarray]
    built: dict[str, np.ndarray]
    leased: dict[str, np.ndarray]
    idle: dict[str, np.ndarray]
    started_by_year: dict[int, float]
    started_by_region_year: dict[tuple[str, int], float]
    landlord_capex_by_year: dict[int, float]
    cash_headroom: np.ndarray | None
    tenant_mw: dict[str, float]
    hosted: dict[str, list[str]]
    margins: dict[str, np.ndarray]  # USD per MW-month mining would make, per campus and month
    limits: dict  # cap, regions, share, budgets: the scenario's limits
    beyond_horizon: bool  # finance.value_beyond_horizon: committed cash after it counts
    discount: np.ndarray = field(repr=False, default_factory=lambda: np.array([]))


def plan_context(results: Results) -> Plan:
    cm = inside(results.campus_month)
    co = inside(results.company_month)
    start = str(co["month"].iloc[0])
    months = len(co)
    arrays: dict[str, dict[str, np.ndarray]] = {k: {} for k in ("mining", "built", "leased",
                                                                "idle")}
    for campus_id, rows in cm.groupby("campus_id", sort=False):
        rows = rows.sort_values("month")
        ready = rows["it_ready_mw"].astype(float).to_numpy()
        leased = rows["it_leased_mw"].astype(float).to_numpy()
        spot = rows["spot_mw"].astype(float).to_numpy() if "spot_mw" in rows else 0 * ready
        arrays["mining"][str(campus_id)] = rows["mining_mw"].astype(float).to_numpy()
        arrays["built"][str(campus_id)] = rows["it_under_construction_mw"].astype(float) \
            .to_numpy() + ready
        arrays["leased"][str(campus_id)] = leased
        arrays["idle"][str(campus_id)] = np.clip(ready - leased - spot, 0, None)
    campuses = pi.rows_by_id(results, "campuses", "campus_id")
    by_year, by_region = _started(cm, campuses)
    capex = co.groupby(co["month"].astype(str).str[:4].astype(int))["landlord_capex_usd"] \
        .sum().to_dict() if "landlord_capex_usd" in co else {}
    headroom = None
    if pi.scenario_value(results, "finance.opening_cash_usd") is not None:
        floor = pi.number(pi.scenario_value(results, "finance.min_cash_usd")) or 0.0
        headroom = co["cash_balance_usd"].astype(float).to_numpy() - floor
    tenant_mw, hosted = _accepted(results.leases)
    return Plan(start, months, campuses, results.assumptions.get("market"), **arrays,
                started_by_year=by_year, started_by_region_year=by_region,
                landlord_capex_by_year={int(k): float(v) for k, v in capex.items()},
                cash_headroom=headroom, tenant_mw=tenant_mw, hosted=hosted,
                margins=_margins(results.assumptions.get("market"), campuses),
                limits=_scenario_limits(results),
                beyond_horizon=results.summary.get("value_beyond_horizon", True) is not False,
                discount=pi.discount_factors(results, months + 720))


def _margins(market: pd.DataFrame | None, campuses: dict[str, pd.Series]
             ) -> dict[str, np.ndarray]:
    """Each campus's mining margin per MW-month along the run's market path (once: the
    offers' placements all read it)."""
    if market is None or "hashprice_usd_per_ph_day" not in market:
        return {}
    try:
        path = market.astype({"hashprice_usd_per_ph_day": float, "days": float})
    except (KeyError, TypeError, ValueError):
        return {}
    out = {}
    for campus_id, campus in campuses.items():
        values = {k: pi.number(campus.get(k)) for k in ("fleet_efficiency_j_per_th",
                                                        "power_price_usd_per_mwh",
                                                        "mining_opex_usd_per_mw_month")}
        if values["fleet_efficiency_j_per_th"] and None not in values.values():
            out[campus_id] = mining_margin_usd_per_mw_month(path, pd.Series(values)) \
                .to_numpy(dtype=float)
    return out


def _started(cm: pd.DataFrame, campuses: dict[str, pd.Series]
             ) -> tuple[dict[int, float], dict[tuple[str, int], float]]:
    by_year: dict[int, float] = {}
    by_region: dict[tuple[str, int], float] = {}
    for campus_id, rows in cm.groupby("campus_id", sort=False):
        rows = rows.sort_values("month")
        block = pi.number(campuses.get(str(campus_id), {}).get("hpc_block_it_mw")) or 0.0
        region = str(campuses.get(str(campus_id), {}).get("region", "") or "")
        for month, blocks in zip(rows["month"].astype(str), rows["blocks_started"]):
            mw = float(blocks) * block
            if mw > EPS:
                year = int(month[:4])
                by_year[year] = by_year.get(year, 0.0) + mw
                by_region[(region, year)] = by_region.get((region, year), 0.0) + mw
    return by_year, by_region


def _accepted(leases: pd.DataFrame) -> tuple[dict[str, float], dict[str, list[str]]]:
    """IT MW under accepted leases per tenant (each lease once, at its full MW), and the
    offers each campus hosts."""
    tenant_mw: dict[str, float] = {}
    hosted: dict[str, list[str]] = {}
    if leases.empty:
        return tenant_mw, hosted
    taken = leases[leases["accepted"].map(pi.truthy).to_numpy()]
    for offer_id, rows in taken.groupby("offer_id", sort=False):
        tenant = str(rows["tenant"].iloc[0])
        tenant_mw[tenant] = tenant_mw.get(tenant, 0.0) + float(rows["offer_it_mw"].iloc[0])
        for campus_id in dict.fromkeys(rows["campus_id"].astype(str)):
            hosted.setdefault(campus_id, []).append(str(offer_id))
    return tenant_mw, hosted


@dataclass
class Reason:
    """Why an offer is declined: the limit (formulation name), the sentence, and the best
    value the offer would add on its own (USD, None when it could not be placed at all)."""

    limit: str
    text: str
    value_usd: float | None = None
    limits: tuple[str, ...] = ()  # every limit that binds, the first being `limit`


def declined_reason(results: Results, plan: Plan, offer: pd.Series) -> Reason:
    """The reason a declined offer is declined (see the module's docstring)."""
    if pi.truthy(offer.get("withdrawn", False)):
        return Reason("withdrawn", "withdrawn: the tenant walks away in this scenario")
    width = _window(plan, offer)
    if width is None:
        return Reason("permit", "its start window ends before the horizon starts")
    candidates = _candidates(results, plan, offer, *width)
    if not candidates:
        return Reason("permit", _no_start_text(results, plan, offer, width))
    share = _tenant_share_blocks(results, plan, offer)
    best = max(candidates, key=lambda c: c.value)
    if best.value <= 0:
        return Reason("value_alone", f"its value alone: at best {_musd(best.value)} at "
                                     f"{best.campus} from {_month(plan, best.start)} "
                                     f"({best.parts})", best.value)
    free = [c for c in candidates if c.value > 0 and not c.blocks and not share]
    if free:
        pick = max(free, key=lambda c: c.value)
        return Reason("other", f"the plan is better without it, though on its own it would "
                               f"add {_musd(pick.value)} at {pick.campus} from "
                               f"{_month(plan, pick.start)}: it competes with the plan's other "
                               f"decisions (the plan with it forced in was not solved)",
                      pick.value)
    limits = _binding(candidates, share)
    text = "; ".join(limits.values())
    return Reason(next(iter(limits)), f"{text} (on its own it would add up to "
                                      f"{_musd(best.value)})", best.value, tuple(limits))


def _binding(candidates: list[Candidate], share: str | None) -> dict[str, str]:
    """Each limit that blocks some positive-value start, named once with its details (the
    years or campuses where it binds, each once)."""
    out: dict[str, str] = {}
    if share:
        out["tenant_share_cap"] = share
    details: dict[str, dict[str, list[str]]] = {}
    for cand in candidates:
        if cand.value <= 0:
            continue
        for limit, (prefix, item) in cand.blocks.items():
            items = details.setdefault(limit, {}).setdefault(prefix, [])
            # years (or a month) are merged over the starts tried; campus details kept whole
            parts = [item] if limit in PLACE_LIMITS else item.split(", ")
            items += [p for p in parts if p not in items]
    for limit, by_prefix in details.items():
        shown = []
        for prefix, items in by_prefix.items():
            items = items if limit in PLACE_LIMITS else sorted(items)
            if limit == "cash_balance":  # the first month it would fall below the floor
                items = [pd.Timestamp(f"{items[0]}-01").strftime("%b %Y")]
            shown.append(f"{prefix}{', '.join(items)}")
        out[limit] = f"{LIMIT_WORDS[limit]} (`{limit}`): " + "; ".join(shown)
    return out


def _musd(usd: float) -> str:
    value = usd / 1e6
    text = f"{abs(value):,.0f}" if abs(value) >= 10 else f"{abs(value):,.1f}"
    return f"{'−' if value < 0 else ''}{text} M USD"


def _month(plan: Plan, index: int) -> str:
    label = pi.month_label(plan.start, index)
    return pd.Timestamp(f"{label}-01").strftime("%b %Y")


def _window(plan: Plan, offer: pd.Series) -> tuple[int, int] | None:
    first = pi.month_index(plan.start, offer["earliest_start"])
    last = pi.month_index(plan.start, offer["latest_start"])
    if first is None or last is None:
        return None
    last += int(pi.number(offer.get("max_delay_months")) or 0)
    if last < 0:
        return None
    return max(first, 0), last


def _no_start_text(results: Results, plan: Plan, offer: pd.Series,
                   window: tuple[int, int]) -> str:
    ends = _month(plan, min(window[1], plan.months - 1))
    parts = []
    for campus_id in pi.campus_eligible(offer, list(plan.campuses)):
        campus = plan.campuses[campus_id]
        ready = _first_ready(plan, campus)
        if (pi.number(campus.get("hpc_max_it_mw")) or 0) <= EPS:
            parts.append(f"{campus_id} cannot convert")
        elif ready >= plan.months:
            parts.append(f"{campus_id} not before the horizon ends")
        else:
            parts.append(f"{campus_id} {_month(plan, ready)} at the earliest")
    where = "; ".join(parts) if parts else "no eligible campus in the portfolio"
    return (f"permit and build time: no eligible campus can have halls ready within its "
            f"start window, which ends {ends} ({where})")


def _first_ready(plan: Plan, campus: pd.Series) -> int:
    permit = pi.month_index(plan.start, campus.get("permit_ready")) or 0
    return max(permit, 0) + int(pi.number(campus.get("build_months")) or 0)


@dataclass
class Candidate:
    campus: str
    start: int
    value: float
    parts: str
    blocks: dict[str, tuple[str, str]]  # limit → (detail prefix, item)


def _starts(plan: Plan, campus: pd.Series, first: int, last: int) -> list[int]:
    lo = max(first, _first_ready(plan, campus))
    hi = min(last, plan.months - 1)
    if lo > hi:
        return []
    picks = np.linspace(lo, hi, min(STARTS_TRIED, hi - lo + 1))
    return sorted({int(round(p)) for p in picks})


def _candidates(results: Results, plan: Plan, offer: pd.Series, first: int, last: int
                ) -> list[Candidate]:
    phases = pi.offer_phases(results, offer)
    split = pi.truthy(offer.get("split", False))
    eligible = pi.campus_eligible(offer, list(plan.campuses))
    room_all = sum(_room(plan, c) for c in eligible)
    out = []
    for campus_id in eligible:
        campus = plan.campuses[campus_id]
        if (pi.number(campus.get("hpc_max_it_mw")) or 0) <= EPS:
            continue
        for s in _starts(plan, campus, first, last):
            out.append(_candidate(plan, offer, campus_id, campus, s, phases,
                                  room_all if split else None))
    return out


def _room(plan: Plan, campus_id: str) -> float:
    campus = plan.campuses[campus_id]
    block = pi.number(campus.get("hpc_block_it_mw")) or 1.0
    cap = math.floor((pi.number(campus.get("hpc_max_it_mw")) or 0) / block + EPS) * block
    built = plan.built.get(campus_id)
    return cap - (float(built.max()) if built is not None and len(built) else 0.0)


def _candidate(plan: Plan, offer: pd.Series, campus_id: str, campus: pd.Series, s: int,
               phases: list[tuple[float, int]], split_room: float | None) -> Candidate:
    block = pi.number(campus.get("hpc_block_it_mw")) or 1.0
    build = int(pi.number(campus.get("build_months")) or 1)
    idle = plan.idle.get(campus_id)
    reuse = float(idle[min(s, len(idle) - 1)]) if idle is not None and len(idle) else 0.0
    new = []  # (IT MW of new blocks, month they start)
    for mw, after in phases:
        need = max(0.0, mw - reuse)
        reuse = max(0.0, reuse - mw)
        if need > EPS:
            new.append((math.ceil(need / block - EPS) * block, s + after - build))
    value, parts, flows = _value(plan, offer, campus, s, phases, new)
    blocks = _limits(plan, offer, campus_id, campus, new, flows, split_room)
    return Candidate(campus_id, s, value, parts, blocks)


def _value(plan: Plan, offer: pd.Series, campus: pd.Series, s: int,
           phases: list[tuple[float, int]], new: list[tuple[float, int]]
           ) -> tuple[float, str, dict[str, np.ndarray]]:
    """Present value the offer adds at this campus from month s, and its monthly lines."""
    term = int(pi.number(offer["term_months"]) or 0)
    n = max(plan.months, s + term) + 1
    t = np.arange(n)
    rate = (pi.number(offer["rate_usd_per_kw_month"]) or 0.0) * 1000
    escalator = (pi.number(offer.get("escalator_pct_per_year")) or 0.0) / 100
    tenant_share = (pi.number(offer.get("tenant_capex_pct")) or 0.0) / 100
    k = pi.number(campus.get("capex_usd_per_it_mw")) or 0.0
    build = int(pi.number(campus.get("build_months")) or 1)
    opex = pi.number(campus.get("hpc_opex_usd_per_it_mw_month")) or 0.0
    rent = np.zeros(n)
    for mw, after in phases:
        on = (t >= s + after) & (t < s + term)
        rent += on * mw * rate * (1 + escalator) ** np.floor(np.maximum(t - s, 0) / 12)
    capex, hpc_opex, started = np.zeros(n), np.zeros(n), np.zeros(n)
    for mw, begin in new:
        building = (t >= begin) & (t < begin + build)
        capex += building * mw * k * (1 - tenant_share) / build
        hpc_opex += ((t >= begin + build) & (t < s + term)) * mw * opex
        started += (t >= begin) * mw
    lost = _lost_margin(plan, campus, started)
    discount = plan.discount[:n].copy()
    if not plan.beyond_horizon:  # cash after the horizon does not count in this scenario
        discount[plan.months:] = 0.0
    pv = {name: float((line * discount).sum()) for name, line in
          (("rent", rent), ("capex", capex), ("opex", hpc_opex), ("margin", lost))}
    value = pv["rent"] - pv["capex"] - pv["opex"] - pv["margin"]
    parts = (f"rent {_musd(pv['rent'])}, capex {_musd(pv['capex'])}, HPC opex "
             f"{_musd(pv['opex'])}" + (f", mining margin given up {_musd(pv['margin'])}"
                                       if pv["margin"] > 0.5e6 else "") + ", in present value")
    return value, parts, {"capex": capex, "net": rent - capex - hpc_opex - lost}


def _lost_margin(plan: Plan, campus: pd.Series, started: np.ndarray) -> np.ndarray:
    """Mining margin the new halls' power takes from the plan's mining (inside the horizon,
    where the market path is known; only where mining pays)."""
    out = np.zeros(len(started))
    campus_id = str(campus["campus_id"])
    mining = plan.mining.get(campus_id)
    margin = plan.margins.get(campus_id)
    if mining is None or margin is None:
        return out
    grid = pi.number(campus.get("grid_mw")) or 0.0
    pue = pi.number(campus.get("hpc_pue")) or 1.0
    n = min(len(mining), len(margin), len(started))
    free = grid - mining[:n] - pue * plan.built[campus_id][:n]
    lost_mw = np.minimum(mining[:n], np.maximum(0.0, pue * started[:n] - free))
    out[:n] = lost_mw * np.maximum(margin[:n], 0.0)
    return out


def _limits(plan: Plan, offer: pd.Series, campus_id: str, campus: pd.Series,
            new: list[tuple[float, int]], flows: dict[str, np.ndarray],
            split_room: float | None) -> dict[str, tuple[str, str]]:
    """The limits this placement would break, each with its detail."""
    out: dict[str, tuple[str, str]] = {}
    new_mw = sum(mw for mw, _ in new)
    room = _room(plan, campus_id) if split_room is None else split_room
    if new_mw > room + EPS:
        hosts = plan.hosted.get(campus_id, [])
        taken = f" (it hosts {', '.join(hosts)})" if hosts and split_room is None else ""
        where = "the eligible campuses have" if split_room is not None else f"{campus_id} has"
        out["leases_fit_in_whole_blocks"] = ("", f"{where} room for {max(room, 0):,.0f} more "
                                                f"IT MW, {new_mw:,.0f} new needed{taken}")
    out.update(_yearly_limits(plan, campus, new, flows))
    return out


def _yearly_limits(plan: Plan, campus: pd.Series, new: list[tuple[float, int]],
                   flows: dict[str, np.ndarray]) -> dict[str, tuple[str, str]]:
    out: dict[str, tuple[str, str]] = {}
    limits = plan.limits
    region = str(campus.get("region", "") or "")
    by_year: dict[int, float] = {}
    for mw, begin in new:
        year = int(pi.month_label(plan.start, begin)[:4])
        by_year[year] = by_year.get(year, 0.0) + mw
    cap = limits.get("cap")
    over = [y for y, mw in by_year.items()
            if cap is not None and plan.started_by_year.get(y, 0.0) + mw > cap + EPS]
    if over:
        out["it_started_per_year_cap"] = (f"{cap:,.0f} IT MW/yr in ",
                                          ", ".join(map(str, sorted(over))))
    region_cap = limits.get("regions", {}).get(region)
    over = [y for y, mw in by_year.items() if region_cap is not None
            and plan.started_by_region_year.get((region, y), 0.0) + mw > region_cap + EPS]
    if over:
        out["region_it_started_per_year_cap"] = (f"{region} {region_cap:,.0f} IT MW/yr in ",
                                                 ", ".join(map(str, sorted(over))))
    budgets = limits.get("budgets", {})
    capex = flows["capex"]
    over = []
    for year, budget in budgets.items():
        months = [i for i in range(min(len(capex), plan.months))
                  if int(pi.month_label(plan.start, i)[:4]) == year]
        extra = float(capex[months].sum()) if months else 0.0
        if extra > EPS and plan.landlord_capex_by_year.get(year, 0.0) + extra > budget + 1.0:
            over.append(year)
    if over:
        out["capex_within_budget"] = ("full in ", ", ".join(map(str, sorted(over))))
    if plan.cash_headroom is not None:
        n = min(len(plan.cash_headroom), len(flows["net"]))
        low = plan.cash_headroom[:n] + np.cumsum(flows["net"][:n])
        if n and low.min() < -1.0:
            first = int(np.argmax(low < -1.0))
            out["cash_balance"] = ("cash would fall below the floor from ",
                                   pi.month_label(plan.start, first))
    return out


def _scenario_limits(results: Results) -> dict:
    regions = {k: float(v) for k, v in pi.scenario_map(
        results, "limits.max_it_mw_started_per_year_by_region").items()
        if pi.number(v) is not None}
    return {"cap": pi.number(pi.scenario_value(results, "limits.max_it_mw_started_per_year")),
            "regions": regions,
            "share": pi.number(pi.scenario_value(results, "limits.max_tenant_share_pct")),
            "budgets": pi.capex_budgets(results)}


def _tenant_share_blocks(results: Results, plan: Plan, offer: pd.Series) -> str | None:
    share = plan.limits.get("share")
    if share is None:
        return None
    mw = pi.number(offer["it_mw"]) or 0.0
    tenant = str(offer["tenant"])
    total = sum(plan.tenant_mw.values()) + mw
    held = plan.tenant_mw.get(tenant, 0.0) + mw
    if held <= share / 100 * total + EPS:
        return None
    return (f"tenant share (`tenant_share_cap`): {tenant} would hold {held:,.0f} of "
            f"{total:,.0f} leased IT MW, {100 * held / total:.0f} % against the "
            f"{share:g} % limit")
