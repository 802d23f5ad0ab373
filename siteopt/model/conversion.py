r"""Conversion family: blocks of IT MW that start construction, and the capacity they become.

.. math::

    \text{blocks\_started}_{c,t} \in \mathbb{Z}_{\ge 0}, \quad
        \text{blocks\_started}_{c,t} = 0 \text{ for } t < \text{permit}_c
        \text{ or } t + L_c > H - 1

    \text{it\_started\_balance}: \; S_{c,t} = S_{c,t-1} + b_c \cdot \text{blocks\_started}_{c,t},
        \quad S_{c,-1} = R^0_c + \textstyle\sum_h W_h

    \text{it\_ready\_balance}: \; R_{c,t} = R_{c,t-1} + b_c \cdot \text{blocks\_started}_{c,t-L_c}
        + \textstyle\sum_{h:\, r_h = t} W_h, \quad R_{c,-1} = R^0_c

    0 \le R_{c,t} \le S_{c,t} \le \text{hpc\_max\_it\_mw}_c

    \text{capex}_{c,t} = \sum_{\tau = t-L_c+1}^{t} b_c \cdot \text{blocks\_started}_{c,\tau}
        \cdot K_c / L_c

    \text{hpc\_opex}_{c,t} = R_{c,t} \cdot o^{hpc}_c   \quad (t < H)

S is IT MW started (under construction or ready), R is IT MW ready for service, b the block
size, L the build months and K the capex per IT MW. The as-built state enters as constants:
R^0_c (``hpc_ready_it_mw``) is ready from month 0, and each hall h under construction at c
(``construction``: W_h IT MW ready from month r_h ≥ 1) is started from month 0 — it takes its
grid power from then — and ready from r_h; its remaining capex C_h is paid evenly,
C_h / r_h in each month 0 .. r_h − 1, whatever the plan does (a constant of the objective).
Conversion is one-way: S never falls.
A block is started only if it can be ready inside the horizon: one ready later could serve no
lease, and with `value_beyond_horizon` off its capex would be cut at the horizon while the
mining it displaces (and any miners sold) counted in full.
"""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo

from siteopt.model.cash import CashLedger
from siteopt.model.data import ModelData
from siteopt.model.start_months import allowed_block_starts


def define_conversion(m: pyo.ConcreteModel, data: ModelData, cash: CashLedger) -> None:
    campuses = data.campuses
    block = campuses["hpc_block_it_mw"].to_dict()
    build = campuses["build_months"].astype(int).to_dict()
    max_it = campuses["hpc_max_it_mw"].to_dict()
    initial = {c: data.initial_it_mw(c) for c in data.campus_ids}
    ready0 = data.ready_it_mw
    max_blocks = {c: int(np.floor((max_it[c] - initial[c]) / block[c] + 1e-9))
                  for c in data.campus_ids}
    finished: dict[tuple[str, int], float] = {}
    for hall in data.halls:
        key = (hall.campus_id, hall.ready)
        finished[key] = finished.get(key, 0.0) + hall.it_mw
    permit = data.permit_month

    last = data.horizon_months - 1
    allowed = allowed_block_starts(data)

    def start_bounds(_, c, t):
        # a re-plan fixes the months before data.fixed_before: the reduction (a dominance
        # rule that moves starts later) holds for the free months only
        possible = permit[c] <= t <= last - build[c] and (
            allowed is None or t in allowed[c] or t < data.fixed_before)
        return (0, max_blocks[c] if possible else 0)

    m.blocks_started = pyo.Var(
        m.CAMPUS_MONTHS, domain=pyo.NonNegativeIntegers, bounds=start_bounds,
        doc="conversion blocks whose construction starts in the month [blocks]")
    m.it_started_mw = pyo.Var(m.CAMPUS_MONTHS, bounds=lambda _, c, t: (0.0, max_it[c]),
                              doc="IT MW under construction or ready [IT MW]")
    m.it_ready_mw = pyo.Var(m.CAMPUS_MONTHS, bounds=lambda _, c, t: (0.0, max_it[c]),
                            doc="IT MW ready for service [IT MW]")

    @m.Constraint(m.CAMPUS_MONTHS, doc="IT MW started accumulates block starts [IT MW]")
    def it_started_balance(m, c, t):
        before = m.it_started_mw[c, t - 1] if t > 0 else initial[c]
        return m.it_started_mw[c, t] == before + block[c] * m.blocks_started[c, t]

    @m.Constraint(m.CAMPUS_MONTHS, doc="IT MW becomes ready build_months after its start")
    def it_ready_balance(m, c, t):
        before = m.it_ready_mw[c, t - 1] if t > 0 else ready0[c]
        done = block[c] * m.blocks_started[c, t - build[c]] if t >= build[c] else 0.0
        return m.it_ready_mw[c, t] == before + done + finished.get((c, t), 0.0)


def record_conversion_cash(m: pyo.ConcreteModel, data: ModelData, cash: CashLedger) -> None:
    position, campus_of, start = data.campus_month_arrays()
    build = data.per_campus_month("build_months").astype(int)
    per_month = data.per_campus_month("hpc_block_it_mw") \
        * data.per_campus_month("capex_usd_per_it_mw") / build
    # Capex of a block started in month s is paid evenly in months s .. s + L - 1.
    offsets = np.concatenate([np.arange(n) for n in build])
    rows = np.repeat(np.arange(len(build)), build)
    cash.add("capex_usd", m.blocks_started, position[rows], campus_of[rows],
             start[rows] + offsets, per_month[rows])

    cash.add("hpc_opex_usd", m.it_ready_mw, position, campus_of, start,
             data.per_campus_month("hpc_opex_usd_per_it_mw_month"))
    for hall in data.halls:  # remaining capex of halls under construction, evenly until ready
        for month in range(hall.ready):
            cash.add_constant("capex_usd", hall.campus_id, month,
                              hall.capex_remaining_usd / hall.ready)
