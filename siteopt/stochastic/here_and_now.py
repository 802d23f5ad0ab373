r"""Here-and-now decisions: what is committed now, the same in every future.

A commitment variable (siteopt.model.commitments: blocks started, miners sold, BTC sold,
debt drawn, leases accepted with their campus and start, split blocks) is here-and-now when
it takes effect before month C = `uncertainty.commit_months`: a block, a sale or a draw in a
month t < C, an offer whose signing month is before C. Each future's model gets one copy
`here_and_now[k]` per decision k of the union K over the futures, and

.. math::

    \text{here\_and\_now}_{s,k} = x_{s,k}
        \quad k \in K_s                       \quad\text{(here\_and\_now\_link)}

    \text{here\_and\_now}_{s,k} = 0
        \quad k \notin K_s,\ \text{offer of } k \text{ not withdrawn in } s

    \text{here\_and\_now}_{s,k} = \text{here\_and\_now}_{s',k}
        \quad \forall s, s'                   \quad\text{(non-anticipativity, mpi-sppy)}

where K_s are the decisions the model of future s has. A decision a future cannot take (a
block before its permit there, an option that cannot be delivered) is therefore forbidden
in every future: it is committed before anyone knows which future comes. An offer withdrawn
in a future has no link there: accepting it now means "take it if the tenant signs".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pyomo.environ as pyo

from siteopt.model import commitments
from siteopt.model.data import ModelData

# kinds whose values are whole numbers (blocks) or yes/no (an offer accepted)
_INTEGER = {"blocks_started", "split_blocks"}
_BINARY = {"lease_accepted", "split_start"}
LEASE_KINDS = {"lease_accepted", "split_start", "split_blocks"}
UNITS = {"blocks_started": "blocks", "miners_sold_mw": "MW", "btc_sold": "BTC",
         "debt_draw": "million USD", "lease_accepted": "0/1", "split_start": "0/1",
         "split_blocks": "blocks"}


@dataclass(frozen=True)
class Decision:
    kind: str  # the commitment variable
    index: Any  # its index in that variable

    @property
    def offer_id(self) -> str | None:
        return self.index[0] if self.kind in LEASE_KINDS else None


def decisions(data: ModelData, commit_months: int) -> list[Decision]:
    """The here-and-now decisions of one future's model, in a fixed order."""
    kinds = set(commitments(data))
    months = range(min(commit_months, data.horizon_months))
    out: list[Decision] = []
    for kind in ("blocks_started", "miners_sold_mw"):
        if kind in kinds:
            out += [Decision(kind, (c, t)) for c in data.campus_ids for t in months]
    for kind in ("btc_sold", "debt_draw"):
        if kind in kinds:
            out += [Decision(kind, t) for t in months]
    now = {o for o, s in data.signing_month.items() if s < commit_months}
    out += [Decision("lease_accepted", (o.offer_id, o.campus_id, o.start))
            for o in data.lease_options if o.offer_id in now]
    out += [Decision("split_start", key) for key in data.split_starts if key[0] in now]
    out += [Decision("split_blocks", (b.offer_id, b.phase, b.campus_id, b.start))
            for b in data.split_blocks if b.offer_id in now]
    return out


def union(per_future: list[list[Decision]]) -> list[Decision]:
    return list(dict.fromkeys(d for decisions_ in per_future for d in decisions_))


def add_here_and_now(m: pyo.ConcreteModel, keys: list[Decision], withdrawn: frozenset[str]
                     ) -> None:
    """The copies of the here-and-now decisions in one future's model, linked to its own
    variables (see the module docstring)."""
    def domain(_, i):
        kind = keys[i].kind
        return pyo.Binary if kind in _BINARY else \
            pyo.NonNegativeIntegers if kind in _INTEGER else pyo.NonNegativeReals

    m.HERE_AND_NOW = pyo.RangeSet(0, len(keys) - 1) if keys else pyo.Set(initialize=[])
    m.here_and_now = pyo.Var(m.HERE_AND_NOW, domain=domain,
                             doc="a decision taken now, the same in every future")
    linked = []
    for i, key in enumerate(keys):
        var = m.component(key.kind)
        if var is not None and key.index in var:
            linked.append(i)
        elif key.offer_id is None or key.offer_id not in withdrawn:
            m.here_and_now[i].setub(0)  # this future cannot take it: so no future may

    @m.Constraint(linked, doc="the copy is the future's own decision")
    def here_and_now_link(m, i):
        key = keys[i]
        return m.here_and_now[i] == m.component(key.kind)[key.index]


def describe(key: Decision, value: float, data: ModelData) -> dict[str, Any]:
    """One here-and-now decision as a row of here_and_now.csv."""
    kind, index = key.kind, key.index
    campus = offer = phase = month = None
    if kind in ("blocks_started", "miners_sold_mw"):
        campus, t = index
    elif kind in ("btc_sold", "debt_draw"):
        t = index
    elif kind == "lease_accepted":
        offer, campus, t = index
    elif kind == "split_start":
        offer, t = index
    else:
        offer, phase, campus, t = index
    month = data.month_label(int(t))
    words = {
        "blocks_started": lambda: f"start {value:g} block(s) "
                                  f"({value * float(data.campuses.at[campus, 'hpc_block_it_mw']):g}"
                                  f" IT MW) at {campus} in {month}",
        "miners_sold_mw": lambda: f"sell {value:g} MW of miners at {campus} in {month}",
        "btc_sold": lambda: f"sell {value:g} BTC from the treasury in {month}",
        "debt_draw": lambda: f"draw {value:,.3f} million USD of project debt in {month}",
        "lease_accepted": lambda: (f"deliver signed lease {offer} at {campus} from {month}"
                                   if bool(data.offers.at[offer, "signed"]) else
                                   f"sign {offer} at {campus}, lease from {month}"),
        "split_start": lambda: f"sign split offer {offer}, lease from {month}",
        "split_blocks": lambda: f"serve phase {phase} of {offer} with {value:g} block(s) at "
                                f"{campus}",
    }[kind]()
    usd = value * 1e6 if kind == "debt_draw" else value
    return {"kind": kind, "campus_id": campus, "offer_id": offer, "phase": phase,
            "month": month, "value": usd, "unit": "USD" if kind == "debt_draw" else UNITS[kind],
            "description": words}

