r"""Power family: conversion takes grid power away from mining from construction start on.

.. math::

    \text{power\_shared\_with\_mining}: \;
        \text{mining\_mw}_{c,t} + \text{pue}_c \cdot S_{c,t} \le \text{grid\_mw}_c

A block reserves its facility power (IT MW × PUE) from the month its construction starts:
the hall stops mining while it is built.
"""

from __future__ import annotations

import pyomo.environ as pyo

from siteopt.model.cash import CashLedger
from siteopt.model.data import ModelData


def define_power_sharing(m: pyo.ConcreteModel, data: ModelData, cash: CashLedger) -> None:
    grid = data.campuses["grid_mw"].to_dict()
    pue = data.campuses["hpc_pue"].to_dict()

    @m.Constraint(m.CAMPUS_MONTHS, doc="mining + PUE × IT MW started ≤ grid [MW]")
    def power_shared_with_mining(m, c, t):
        return m.mining_mw[c, t] + pue[c] * m.it_started_mw[c, t] <= grid[c]
