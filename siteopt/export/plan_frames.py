"""The views of a plan that people read, derived from the result tables (never the model).

Each function takes the DataFrames of a `Results` (as solved, or as read back from a result
folder) and returns a small DataFrame for one block of the workbook.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd

from siteopt.contract import LINE
from siteopt.export.plan_inputs import number
from siteopt.inputs.market import mining_margin_usd_per_mw_month
from siteopt.results.extract import Results
from siteopt.results.kpis import HPC_EBITDA, HPC_REVENUE, MINING_EBITDA, PAYBACK_NEVER

MUSD = 1e6
MW_EPS = 1e-6  # below this a MW figure is solver round-off
KINDS = ("operating", "investing", "financing", "valuation")
SUBTOTALS = {"operating": "operating_cash_usd", "investing": "investing_cash_usd",
             "financing": "financing_cash_usd", "valuation": "valuation_usd"}


def has_plan(results: Results) -> bool:
    return results.summary.get("status") in ("optimal", "feasible") and \
        len(results.company_month) > 0


def _bools(series: pd.Series) -> pd.Series:
    return series.map(lambda v: str(v).strip().lower() in ("true", "1", "yes"))


def inside(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows inside the horizon (files also carry committed months after it)."""
    if "in_horizon" not in frame:
        return frame
    return frame[_bools(frame["in_horizon"]).to_numpy()].reset_index(drop=True)


def first_of_month(label: Any) -> dt.date | None:
    text = str(label)
    if len(text) < 7 or text[4] != "-":
        return None
    return dt.date(int(text[:4]), int(text[5:7]), 1)


def payback_shown(kpis: dict[str, Any]) -> dt.date | str:
    """Payback of converting as people read it: its month, or 'none (why)' / 'never (why)'
    (summary.json's payback_note; result folders older than the note kept only None, which
    then meant never)."""
    month = first_of_month(kpis.get("payback_month") or "")
    if month is not None:
        return month
    if kpis.get("payback_note"):
        return str(kpis["payback_note"])
    return PAYBACK_NEVER if "payback_month" in kpis else "none (no mining-only baseline)"


def _next_month(day: dt.date) -> dt.date:
    return dt.date(day.year + day.month // 12, day.month % 12 + 1, 1)


# ---------------------------------------------------------------------------------------------
# Company MW, cash and years
# ---------------------------------------------------------------------------------------------


def mw_by_use(company_month: pd.DataFrame) -> pd.DataFrame:
    """Company MW per month inside the horizon: mining, under construction, leased, idle
    (ready − leased − spot) and spot; cash and debt balances in USD m."""
    co = inside(company_month)
    idle = (co["it_ready_mw"] - co["it_leased_mw"] - co["spot_mw"]).clip(lower=0.0)
    return pd.DataFrame({
        "month": [first_of_month(m) for m in co["month"]],
        "Mining (MW)": co["mining_mw"].astype(float),
        "Under construction (IT MW)": co["it_under_construction_mw"].astype(float),
        "HPC leased (IT MW)": co["it_leased_mw"].astype(float),
        "HPC idle (IT MW)": idle.round(9).astype(float),
        "Spot let (IT MW)": co["spot_mw"].astype(float),
        "Cash balance (USD m)": co["cash_balance_usd"].astype(float) / MUSD,
        "Debt balance (USD m)": co["debt_balance_usd"].astype(float) / MUSD,
    })


def by_year(results: Results) -> pd.DataFrame:
    """Per calendar year inside the horizon: capex, revenue by business, EBITDA (USD) and IT
    MW started — from kpis.csv, or from company_month when a folder has no KPIs."""
    names = ["capex_usd", "landlord_capex_usd", "mining_revenue_usd", "hpc_revenue_usd",
             "ebitda_usd", "it_mw_started"]
    kpis = results.kpis
    if kpis is not None and len(kpis) and kpis["year"].notna().any():
        yearly = kpis[kpis["year"].notna()].copy()
        yearly["year"] = yearly["year"].astype(float).astype(int)
        yearly["value"] = pd.to_numeric(yearly["value"], errors="coerce")
        table = yearly.pivot_table(index="year", columns="kpi", values="value", aggfunc="sum")
    else:
        co = inside(results.company_month)
        year = co["month"].str[:4].astype(int)
        table = pd.DataFrame({
            "capex_usd": co["capex_usd"], "landlord_capex_usd": co["landlord_capex_usd"],
            "mining_revenue_usd": co["mining_revenue_usd"],
            "hpc_revenue_usd": sum(co[c] for c in HPC_REVENUE),
            "ebitda_usd": sum(s * co[c] for c, s in {**MINING_EBITDA, **HPC_EBITDA}.items()),
        }).groupby(year).sum()
        table["it_mw_started"] = mw_started_by_year(results).reindex(table.index).fillna(0.0)
    for name in names:
        if name not in table:
            table[name] = 0.0
    out = table[names].fillna(0.0).reset_index()
    out.columns = ["year", *names]
    return out


def mw_started_by_year(results: Results) -> pd.Series:
    """IT MW that start construction per calendar year (from the MW under construction)."""
    cm = inside(results.campus_month)
    if cm.empty:
        return pd.Series(dtype=float)
    started = []
    for _, rows in cm.groupby("campus_id", sort=False):
        built = (rows["it_under_construction_mw"] + rows["it_ready_mw"]).astype(float)
        step = built.diff().fillna(built).clip(lower=0.0)
        started.append(pd.Series(step.to_numpy(), index=rows["month"].str[:4].astype(int)))
    return pd.concat(started).groupby(level=0).sum()


def cash_flow_by_year(company_month: pd.DataFrame) -> pd.DataFrame:
    """Cash lines (signed: inflows +, costs −) by calendar year inside the horizon, committed
    cash after it, the total and the present value. Lines that are zero throughout are left
    out; subtotals per kind and net cash always appear. Columns: line, kind, years...,
    'After horizon', 'Total', 'PV'."""
    co = company_month.copy()
    in_horizon = _bools(co["in_horizon"]).to_numpy()
    bucket = np.where(in_horizon, co["month"].str[:4], "After horizon")
    discount = co["discount_factor"].astype(float)
    years = sorted(set(bucket[in_horizon]))
    columns = years + (["After horizon"] if (~in_horizon).any() else [])
    rows = []

    def add(line: str, kind: str, signed: pd.Series) -> None:
        sums = signed.groupby(bucket).sum()
        rows.append({"line": line, "kind": kind,
                     **{c: float(sums.get(c, 0.0)) for c in columns},
                     "Total": float(signed.sum()), "PV": float((signed * discount).sum())})

    for kind in KINDS:
        subtotal = pd.Series(0.0, index=co.index)
        for line in LINE.values():
            if line.kind != kind or line.name not in co:
                continue
            signed = line.sign * co[line.name].astype(float)
            subtotal += signed
            if (signed.abs() > 0.005).any():
                add(line.name, kind, signed)
        add(SUBTOTALS[kind], kind, subtotal)
    net = sum(line.sign * co[line.name].astype(float) for line in LINE.values()
              if line.name in co)
    add("net_cash_usd", "net", net)
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------------------------
# Decisions per campus and lease, and the conversion timeline
# ---------------------------------------------------------------------------------------------


def _campus_names(results: Results) -> dict[str, str]:
    campuses = results.assumptions.get("campuses")
    if campuses is None or "campus_id" not in campuses or "name" not in campuses:
        return {}
    return {str(k): ("" if v is None or v != v else str(v))
            for k, v in zip(campuses["campus_id"], campuses["name"])}


def _campus_inputs(results: Results) -> dict[str, pd.Series]:
    """Each campus's input row (from the run's assumptions), by campus id."""
    campuses = results.assumptions.get("campuses")
    if campuses is None or "campus_id" not in campuses:
        return {}
    return {str(row["campus_id"]): row for _, row in campuses.iterrows()}


def _mining_margin(campus: pd.Series | None, market: pd.DataFrame | None,
                   month: str) -> float | None:
    """USD per MW-month one MW would have made mining at the campus that month (None when
    the run's market path or campus inputs are not at hand)."""
    if campus is None or market is None or "month" not in market:
        return None
    hit = market[market["month"].astype(str) == month]
    needed = ("fleet_efficiency_j_per_th", "power_price_usd_per_mwh",
              "mining_opex_usd_per_mw_month")
    values = {k: number(campus.get(k)) for k in needed}
    if hit.empty or None in values.values() or not values["fleet_efficiency_j_per_th"]:
        return None
    try:  # the one formula, on plain numbers (pandas per campus cost a second on L)
        month_row = hit.iloc[0]
        margin = mining_margin_usd_per_mw_month(
            {"hashprice_usd_per_ph_day": float(month_row["hashprice_usd_per_ph_day"]),
             "days": float(month_row["days"])}, values)
    except (KeyError, TypeError, ValueError):
        return None
    return number(margin)


def _why_no_mining(rows: pd.DataFrame, i: int, campus: pd.Series | None,
                   market: pd.DataFrame | None) -> str:
    """Why the campus mines nothing in row i, as far as the tables tell: the halls left no
    grid power for mining (mining + PUE × IT MW started ≤ grid), its miners were sold for
    the conversion, and/or one MW would have lost money mining that month."""
    reasons = []
    built = float(rows.at[i, "it_under_construction_mw"]) + float(rows.at[i, "it_ready_mw"])
    if campus is not None and built > MW_EPS:
        grid, pue, fleet = (number(campus.get(k)) for k in ("grid_mw", "hpc_pue", "miner_mw"))
        sold = number(rows.at[i, "miners_sold_mw"]) if "miners_sold_mw" in rows else None
        if grid is not None and pue is not None and grid - pue * built <= MW_EPS:
            reasons.append("conversion took the power")
        elif fleet is not None and sold and fleet - sold <= MW_EPS:
            reasons.append("miners sold for the conversion")
    margin = _mining_margin(campus, market, str(rows.at[i, "month"]))
    if margin is not None and margin < 0:
        reasons.append(f"mining margin {f'{margin:,.0f}'.replace('-', '−')} USD/MW-month")
    return f" ({'; '.join(reasons)})" if reasons else ""


def campus_decision(rows: pd.DataFrame, campus: pd.Series | None = None,
                    market: pd.DataFrame | None = None, as_built_mw: float = 0.0) -> str:
    """What one campus does over the horizon, read from its campus_month rows (inside the
    horizon, in month order) — never from what the model was allowed to do:

    'Keeps mining'; 'Converts 200 IT MW from Jun 2027, 40 MW keep mining';
    '… stops mining from Apr 2032 (why)'; 'Mines part-time (30 of 120 months, …)'.
    The why comes from the run's campus inputs and market path when given (see
    `_why_no_mining`); the Summary sheet and the terminal both show this text. IT MW ready
    or under construction at the horizon start (`as_built_mw`) are not converted by the
    plan: 'Has 40 IT MW as built; converts 40 IT MW from …'."""
    rows = rows.reset_index(drop=True)
    if rows.empty:
        return ""
    months = rows["month"].astype(str).tolist()
    mining = rows["mining_mw"].astype(float).to_numpy()
    built = (rows["it_under_construction_mw"].astype(float)
             + rows["it_ready_mw"].astype(float)).to_numpy() - as_built_mw
    on = mining > MW_EPS
    parts = [f"has {as_built_mw:,.0f} IT MW as built"] if as_built_mw > MW_EPS else []
    converted = float(built.max())
    if converted > MW_EPS:
        start = int(np.argmax(built > MW_EPS))
        full = int(np.argmax(built > converted - MW_EPS))
        beside = f", {mining[full]:,.0f} MW keep mining" if on[full] else ""
        parts.append(f"converts {converted:,.0f} IT MW from {_show_month(months[start])}{beside}")
    runs = int(on[0]) + int((on[1:] & ~on[:-1]).sum())
    if on.all():
        parts += [] if parts else ["keeps mining"]
    elif not on.any() and campus is not None and (number(campus.get("miner_mw")) or 0) <= 0:
        parts.append("no miners")
    elif runs <= 1 and (on[0] or not on.any()):
        stop = int(np.argmin(on))
        why = _why_no_mining(rows, stop, campus, market)
        parts.append(f"stops mining from {_show_month(months[stop])}{why}")
    else:
        last = len(on) - 1 - int(np.argmax(on[::-1]))
        end = "" if on[-1] else f", last in {_show_month(months[last])}"
        parts.append(f"mines part-time ({int(on.sum())} of {len(on)} months{end})")
    text = "; ".join(parts)
    return text[:1].upper() + text[1:]


def campus_decision_texts(results: Results) -> dict[str, str]:
    """`campus_decision` of every campus of a plan, by campus id."""
    cm = inside(results.campus_month)
    campuses = _campus_inputs(results)
    market = results.assumptions.get("market")
    built = as_built_mw(results)
    return {str(campus_id): campus_decision(group, campuses.get(str(campus_id)), market,
                                            built.get(str(campus_id), 0.0))
            for campus_id, group in cm.groupby("campus_id", sort=False)}


def as_built_mw(results: Results) -> dict[str, float]:
    """IT MW ready or under construction at the horizon start, by campus (from the run's
    assumptions: campuses.hpc_ready_it_mw and the construction table)."""
    out: dict[str, float] = {}
    campuses = results.assumptions.get("campuses")
    if campuses is not None and "hpc_ready_it_mw" in campuses:
        for campus_id, mw in zip(campuses["campus_id"], campuses["hpc_ready_it_mw"]):
            out[str(campus_id)] = number(mw) or 0.0
    halls = results.assumptions.get("construction")
    if halls is not None and "it_mw" in halls:
        for campus_id, mw in zip(halls["campus_id"], halls["it_mw"]):
            out[str(campus_id)] = out.get(str(campus_id), 0.0) + (number(mw) or 0.0)
    return out


def campus_decisions(results: Results) -> pd.DataFrame:
    """One row per campus: what it does (`campus_decision`), MW, construction starts,
    readiness and the leases it hosts."""
    cm = inside(results.campus_month)
    names = _campus_names(results)
    decided = campus_decision_texts(results)
    initial = as_built_mw(results)
    leases = results.leases
    accepted = leases[_bools(leases["accepted"]).to_numpy()] if len(leases) else leases
    rows = []
    for campus_id, group in cm.groupby("campus_id", sort=False):
        group = group.reset_index(drop=True)
        built = (group["it_under_construction_mw"] + group["it_ready_mw"]).astype(float) \
            - initial.get(str(campus_id), 0.0)  # what the plan converts, not the as-built
        step = built.diff().fillna(built)
        starts = [(first_of_month(m), mw) for m, mw in zip(group["month"], step) if mw > 1e-6]
        converted = float(built.max()) if len(built) else 0.0
        ready = group["it_ready_mw"].astype(float)
        first_ready = group.loc[ready > 1e-6, "month"]
        full_ready = group.loc[(ready > converted - 1e-6) & (ready > 1e-6), "month"]
        hosted = accepted[accepted["campus_id"].astype(str) == str(campus_id)]
        lease_text = "; ".join(
            f"{offer_id} {tenant} ({mw:,.0f} IT MW from {_show_month(start)})"
            for (offer_id, tenant), mw, start in (
                (key, float(g["it_mw"].sum()), g["start_month"].min())
                for key, g in hosted.groupby(["offer_id", "tenant"], sort=False)))
        rows.append({
            "Campus": str(campus_id),
            "Name": names.get(str(campus_id), ""),
            "Decision": decided[str(campus_id)],
            "IT MW converted": converted,
            "Construction starts": "; ".join(f"{d:%b %Y} ({mw:,.0f} MW)" for d, mw in starts),
            "First hall ready": first_of_month(first_ready.iloc[0]) if len(first_ready) else None,
            "Fully ready": first_of_month(full_ready.iloc[0]) if len(full_ready) else None,
            "Mining MW at the end": float(group["mining_mw"].iloc[-1]),
            "Leases hosted": lease_text,
        })
    return pd.DataFrame(rows)


def _show_month(label: Any) -> str:
    day = first_of_month(label)
    return f"{day:%b %Y}" if day else ""


def lease_decisions(leases: pd.DataFrame) -> pd.DataFrame:
    """One row per offer, campus and delivery month: signed / accept / decline, where, when
    the lease starts and when these IT MW are delivered (a phased lease has a row per
    phase: never '168 IT MW from Jun 2028' for 128 MW that come in December), PV of rent."""
    if leases.empty:
        return pd.DataFrame(columns=["Offer", "Tenant", "Decision", "Campus", "Lease start",
                                     "Delivered", "IT MW", "Rate (USD/kW-month)",
                                     "Term (months)", "PV of rent (USD m)"])
    rows = []
    frame = leases.copy()
    frame["_accepted"] = _bools(frame["accepted"])
    frame["_signed"] = _bools(frame["signed"])
    frame["_campus"] = frame["campus_id"].map(lambda v: "" if v is None or v != v else str(v))
    frame["_delivery"] = frame["delivery_month"].map(
        lambda v: "" if v is None or v != v else str(v))
    for (offer_id, campus, _), group in frame.groupby(["offer_id", "_campus", "_delivery"],
                                                       sort=False):
        first = group.iloc[0]
        accepted = bool(first["_accepted"])
        decision = ("Signed: deliver" if first["_signed"] else "Accept") if accepted \
            else "Decline"
        rows.append({
            "Offer": str(offer_id), "Tenant": str(first["tenant"]), "Decision": decision,
            "Campus": campus if accepted else "",
            "Lease start": first_of_month(first["start_month"]) if accepted else None,
            "Delivered": first_of_month(first["delivery_month"]) if accepted else None,
            "IT MW": float(group["it_mw"].sum()) if accepted else float(first["offer_it_mw"]),
            "Rate (USD/kW-month)": float(first["rate_usd_per_kw_month"]),
            "Term (months)": int(first["term_months"]),
            "PV of rent (USD m)": float(group["lease_npv_usd"].sum()),
        })
    return pd.DataFrame(rows)


def gantt(results: Results) -> pd.DataFrame:
    """Per converting campus: construction start as a decimal year (2027.5 = July 2027) and
    the years spent under construction, ready but not yet let, and let (leased or spot)
    until the horizon ends — the bars of the timeline — then the same months as dates."""
    cm = inside(results.campus_month)
    if cm.empty:
        return pd.DataFrame()
    end = _next_month(first_of_month(cm["month"].max()))
    rows = []
    for campus_id, group in cm.groupby("campus_id", sort=False):
        started = group.loc[group["blocks_started"].astype(float) > 0, "month"]
        if started.empty:
            continue
        start = first_of_month(started.iloc[0])
        ready_months = group.loc[group["it_ready_mw"].astype(float) > 1e-6, "month"]
        ready = first_of_month(ready_months.iloc[0]) if len(ready_months) else end
        let = group["it_leased_mw"].astype(float) + group["spot_mw"].astype(float)
        let_months = group.loc[let > 1e-6, "month"]
        leased = max(ready, first_of_month(let_months.iloc[0])) if len(let_months) else end
        rows.append({
            "Campus": str(campus_id),
            "Construction start (year)": start.year + (start.month - 1) / 12,
            "Under construction (years)": _months_between(start, ready) / 12,
            "Ready, not yet let (years)": _months_between(ready, leased) / 12,
            "Let (years)": _months_between(leased, end) / 12,
            "Construction start": start,
            "Ready": ready if ready < end else None,
            "Let from": leased if leased < end else None,
        })
    return pd.DataFrame(rows)


def _months_between(a: dt.date, b: dt.date) -> int:
    return (b.year - a.year) * 12 + b.month - a.month


def horizon_dates(results: Results) -> tuple[dt.date, dt.date] | None:
    """First day of the horizon and the first day after it."""
    co = inside(results.company_month)
    if co.empty:
        return None
    return first_of_month(co["month"].iloc[0]), _next_month(first_of_month(co["month"].iloc[-1]))
