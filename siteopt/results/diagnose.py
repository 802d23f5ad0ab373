"""Why a scenario cannot be planned, said in the words of its inputs.

Structural checks run before the solve: they catch what no plan could satisfy and say what
would fix it.
"""

from __future__ import annotations

from siteopt.model.data import ModelData


def undeliverable_signed_leases(data: ModelData) -> list[str]:
    """Signed leases that no eligible campus can be ready for inside their start window."""
    offered = {o.offer_id for o in data.lease_options} | {o for o, _ in data.split_starts}
    messages = []
    for offer_id, offer in data.offers.iterrows():
        if not offer["signed"] or offer_id in offered:
            continue
        delay = int(offer["max_delay_months"])
        closes = data.latest_start[offer_id] + delay
        window = data.month_label(closes) + (f" (latest_start + {delay} months' delay)"
                                             if delay else "")
        campuses = data.campuses.loc[list(offer["campuses"])]
        fits = campuses[campuses["hpc_max_it_mw"] + 1e-9 >= (
            0 if offer["split"] else offer["it_mw"])]
        if fits.empty:
            messages.append(f"Signed lease {offer_id} needs {offer['it_mw']:g} IT MW but no "
                            f"eligible campus can host that much.")
            continue
        ready = {c: data.permit_month[c] + int(row["build_months"])
                 for c, row in fits.iterrows()}
        best = min(ready, key=ready.get)
        row = fits.loc[best]
        permit = row["permit_ready"] or "already permitted"
        late = ready[best] - closes
        messages.append(
            f"Signed lease {offer_id} needs {offer['it_mw']:g} IT MW by {window}. The earliest "
            f"ready month at an eligible campus is {data.month_label(ready[best])} at {best} "
            f"(permit {permit} + {int(row['build_months'])} months build). Options: allow "
            f"{late} months' delay (max_delay_months = {delay + late}), an earlier permit or a "
            f"shorter build at {best}.")
    return messages


# Business requirements that may give way in the elastic re-solve: constraint name → (unit of
# its slack, penalty per unit). A missed signed lease weighs far more than money or MW, so
# the minimal-violation plan keeps signed leases whenever anything else can give.
ELASTIC: dict[str, tuple[str, float]] = {
    "offer_accepted_once": ("lease", 1e7),
    "capex_within_budget": ("M USD", 1.0),
    "it_started_per_year_cap": ("IT MW", 1.0),
    "region_it_started_per_year_cap": ("IT MW", 1.0),
    "tenant_share_cap": ("IT MW", 1.0),
    "cash_floor": ("M USD", 1.0),
}
SLACK_TOL = 1e-6


def explain_infeasibility(inputs, built=None, time_limit_s: float = 120.0) -> list[str]:
    """Re-solve with a priced slack on each hard business requirement and say, in the words
    of the inputs, what the minimal-violation plan had to break and by how much. `built` is
    the model that was found infeasible (built again when not given); it is changed."""
    import pyomo.environ as pyo

    from siteopt.model import build_model, prepare
    from siteopt.solve import solve

    if built is None:
        built = build_model(prepare(inputs))
    data = built.data
    m = built.model
    signed = data.offers["signed"].to_dict()
    slacks = _make_elastic(m, signed)
    m.npv.deactivate()
    m.violation = pyo.Objective(
        expr=pyo.quicksum(ELASTIC[family][1] * var for (family, _), var in slacks.items()),
        sense=pyo.minimize)
    options = inputs.scenario.solver.model_copy(update={
        "time_limit_s": min(time_limit_s, inputs.scenario.solver.time_limit_s),
        "mip_gap_pct": 1.0})
    outcome = solve(m, options, sense=pyo.minimize)
    if outcome.status not in ("optimal", "feasible"):
        return ["No plan meets the physical limits (grid power, site capacity, permits and "
                "build times) even with every business requirement relaxed; check that each "
                "signed lease fits an eligible campus."]
    messages = []
    short = {t: var.value for (family, t), var in slacks.items()
             if family == "cash_floor" and (var.value or 0.0) > SLACK_TOL}
    for (family, index), var in slacks.items():
        amount = var.value or 0.0
        if amount > SLACK_TOL and family != "cash_floor":
            messages.append(_describe(family, index, amount, data))
    if short:
        messages.append(_cash_shortfall(short, data))
    return messages or ["The scenario is infeasible, but no single business requirement "
                        "explains it; the solver may have hit a limit."]


def _make_elastic(m, signed: dict[str, bool]) -> dict[tuple[str, object], object]:
    """Add a non-negative slack to each relaxable row; return {(family, index): slack}."""
    import pyomo.environ as pyo

    slacks: dict[tuple[str, object], object] = {}
    m.ELASTIC_SLACKS = pyo.VarList(domain=pyo.NonNegativeReals)
    for family in ELASTIC:
        component = m.component(family)
        if component is None:
            continue
        for index, con in component.items():
            if family == "offer_accepted_once" and not signed.get(index):
                continue
            slack = m.ELASTIC_SLACKS.add()
            if con.equality:  # a signed lease: accepted + missed == 1
                con.set_value(con.body + slack == con.upper)
            else:
                con.set_value(con.body - slack <= con.upper)
            slacks[family, index] = slack
    if m.component("cash_musd") is not None:
        floor = {t: var.lb for t, var in m.cash_musd.items()}
        m.cash_floor = pyo.ConstraintList()
        for t, var in m.cash_musd.items():
            var.setlb(None)
            slack = m.ELASTIC_SLACKS.add()
            m.cash_floor.add(var + slack >= floor[t])
            slacks["cash_floor", t] = slack
    return slacks


def _cash_shortfall(short: dict[int, float], data: ModelData) -> str:
    worst = max(short, key=short.get)
    months = sorted(short)
    span = data.month_label(months[0]) + (f" to {data.month_label(months[-1])}"
                                          if len(months) > 1 else "")
    return (f"Cash falls below the floor (min_cash_usd "
            f"{data.finance.min_cash_usd / 1e6:,.1f} M USD) in {len(months)} month"
            f"{'s' if len(months) > 1 else ''} ({span}), by up to {short[worst]:,.1f} M USD in "
            f"{data.month_label(worst)}. Options: more opening_cash_usd, project debt "
            f"(finance.debt), selling BTC (finance.btc_treasury_btc), a lower min_cash_usd, "
            f"or later starts.")


def _describe(family: str, index, amount: float, data: ModelData) -> str:
    if family == "offer_accepted_once":
        offer = data.offers.loc[index]
        return (f"Signed lease {index} ({offer['it_mw']:g} IT MW for {offer['tenant']}, start "
                f"{offer['earliest_start']}–{offer['latest_start']}) cannot be delivered "
                f"together with the other requirements. Options: allow delay "
                f"(max_delay_months), more eligible campuses, earlier permits or shorter "
                f"builds, or relax the limits listed here.")
    if family == "capex_within_budget":
        return (f"{index}: the plan needs {amount:,.1f} M USD more landlord capex than "
                f"capex_budget_usd_per_year allows. Options: raise the {index} budget, "
                f"tenant-funded capex (tenant_capex_pct), or later or fewer signed MW.")
    if family == "it_started_per_year_cap":
        return (f"{index}: {amount:,.1f} IT MW more must start construction than "
                f"limits.max_it_mw_started_per_year "
                f"({data.max_it_mw_started_per_year:g}) allows.")
    if family == "region_it_started_per_year_cap":
        region, year = index
        return (f"{year}: {amount:,.1f} IT MW more must start construction in {region} than "
                f"limits.max_it_mw_started_per_year_by_region.{region} "
                f"({data.max_it_mw_started_per_year_by_region[region]:g}) allows.")
    return (f"Tenant {index} would hold {amount:,.1f} IT MW more than "
            f"limits.max_tenant_share_pct allows of all leased IT MW.")
