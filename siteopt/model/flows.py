r"""Monthly cash flows for the funding rows, written sparsely (an exact reformulation).

The funding families (capex budget, project debt, cash balance) need, for each month t, the
sum of chosen cash lines over every variable: F_t = Σ_e u_{e,t} x_e. Written out, a lease
accepted for a ten-year term appears in 120 rows, a block started in its build months; the
rows get dense and every LP iteration, cut round and node pays for it. Most of these amounts
are constant over long runs of months (a year's rent, a build's capex), so

.. math::

    F_t = F_{t-1} + \sum_{e \in R} (u_{e,t} - u_{e,t-1}) \, x_e, \quad F_{-1} = 0

    \text{flow}_t = F_t + \sum_{e \notin R} u_{e,t} \, x_e + \text{constant}_t

holds for any split of the elements into R (carried by the running variable F) and the rest
(written directly): summing the first equation telescopes to F_t = Σ_{e∈R} u_{e,t} x_e. An
element joins R when it changes value in fewer months than it is non-zero (rent changes at
the start, each anniversary, each phase and the end); one that moves cash in a single month
(mining, a debt draw, BTC sold) stays direct. F is a free variable; the optimum is unchanged.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

import pyomo.environ as pyo

from siteopt.contract import SIGN
from siteopt.model.cash import CONSTANT, USD_PER_MUSD, CashLedger


def monthly_flows(m: pyo.ConcreteModel, cash: CashLedger, lines: Iterable[str], name: str,
                  doc: str) -> dict[int, object]:
    """Σ of `lines` (signed, million USD) per month, as expressions over a running variable
    `name` (built once per model and name: families that share flows share the rows)."""
    cached = cash.flows.get(name)
    if cached is not None:
        return cached
    f = cash.frame
    f = f[f["line"].isin(list(lines))]
    usd = (f["usd_per_unit"] * f["line"].map(SIGN) / USD_PER_MUSD).to_numpy()
    months = f["month"].to_numpy()
    last = int(months.max()) if len(months) else -1
    per_element = _by_element(f["var"].to_numpy(), f["position"].to_numpy(), months, usd)
    direct: dict[int, list] = defaultdict(list)
    changes: dict[int, list] = defaultdict(list)
    # once per variable, not once per element: listing a variable's values per element
    # made building an L funded model quadratic (minutes)
    names = {v for v, _ in per_element if v != CONSTANT}
    elements = {v: list(m.component(v).values()) for v in names}
    for (var, position), by_month in per_element.items():
        if var == CONSTANT:
            for month, amount in by_month.items():
                direct[month].append(amount)
            continue
        x = elements[var][position]
        steps = _steps(by_month, last)
        if len(steps) < len(by_month):
            for month, step in steps.items():
                changes[month].append(step * x)
        else:
            for month, amount in by_month.items():
                direct[month].append(amount * x)
    out: dict[int, object] = {}
    if changes:
        horizon = range(min(changes), last + 1)
        running = pyo.Var(horizon, doc=doc)
        m.add_component(name, running)

        def rule(m, t):
            before = running[t - 1] if t - 1 in horizon else 0.0
            return running[t] == before + pyo.quicksum(changes.get(t, []))

        m.add_component(f"{name}_running", pyo.Constraint(
            horizon, rule=rule, doc="the running flow changes where its amounts change"))
        for t in horizon:
            out[t] = running[t]
    for t, terms in direct.items():
        out[t] = out.get(t, 0.0) + pyo.quicksum(terms)
    cash.flows[name] = out
    return out


def _by_element(variables, positions, months, usd) -> dict[tuple[str, int], dict[int, float]]:
    """Million USD per month of each ledger element (variable name, position)."""
    per_element: dict[tuple[str, int], dict[int, float]] = defaultdict(lambda: defaultdict(float))
    for var, position, month, amount in zip(variables, positions, months, usd):
        per_element[var, int(position)][int(month)] += amount
    return per_element


def _steps(by_month: dict[int, float], last: int) -> dict[int, float]:
    """Where an element's monthly amount changes, and by how much (0 before its first
    month; months after `last` never matter)."""
    steps = {}
    previous = 0.0
    for month in range(min(by_month), max(by_month) + 2):
        if month > last:
            break
        amount = by_month.get(month, 0.0)
        if abs(amount - previous) > 1e-15:
            steps[month] = amount - previous
        previous = amount
    return steps
