"""Index sets shared by every family."""

from __future__ import annotations

import pyomo.environ as pyo

from siteopt.model.cash import CashLedger
from siteopt.model.data import ModelData


def define_sets(m: pyo.ConcreteModel, data: ModelData, cash: CashLedger) -> None:
    """CAMPUSES, MONTHS (0..H-1) and CAMPUS_MONTHS, ordered campus-major.

    The position of (c, t) in CAMPUS_MONTHS is index(c) × H + t; the families use it to
    record cash per variable without looking elements up one by one.
    """
    m.CAMPUSES = pyo.Set(initialize=data.campus_ids, ordered=True, doc="campuses")
    m.MONTHS = pyo.Set(initialize=range(data.horizon_months), ordered=True,
                       doc="months of the horizon, 0 = horizon.start")
    m.CAMPUS_MONTHS = pyo.Set(initialize=m.CAMPUSES * m.MONTHS, dimen=2, ordered=True,
                              doc="campus × month")
