"""Shared cash collector: each family records the cash one unit of its variables brings.

An entry says: one unit of variable `var[key]` moves `usd_per_unit` USD on `line` at campus
`campus_id` in month `month`. The objective is the discounted sum of all entries times their
variables; after a solve the same entries times the solution values are the cash-flow tables.
One set of numbers therefore drives both, and NPV reconciles with the written cash by
construction. Entries in months that do not count (after the horizon when
`value_beyond_horizon` is off) are dropped here, once, for every family.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyomo.environ as pyo

# line → sign in net cash. Costs are recorded and reported as positive amounts.
LINES: dict[str, int] = {
    "mining_revenue_usd": +1,
    "power_cost_usd": -1,
    "mining_opex_usd": -1,
    "asic_salvage_usd": +1,
    "lease_revenue_usd": +1,
    "spot_revenue_usd": +1,
    "prepayment_usd": +1,
    "prepayment_credit_usd": -1,
    "late_penalty_usd": -1,
    "hpc_opex_usd": -1,
    "capex_usd": -1,
    "tenant_capex_usd": +1,
}


class CashLedger:
    def __init__(self, cash_months: int, discount_factor: np.ndarray):
        self.cash_months = cash_months
        self.discount_factor = discount_factor
        self._parts: list[pd.DataFrame] = []
        self._frame: pd.DataFrame | None = None

    def add(self, line: str, var: pyo.Var, position, campus_id, month, usd_per_unit) -> None:
        """Record entries for `var`'s elements at `position` (their order in `var`)."""
        if line not in LINES:
            raise KeyError(f"unknown cash line {line!r}")
        part = pd.DataFrame({"position": np.asarray(position, dtype=np.int64),
                             "campus_id": campus_id, "month": np.asarray(month, dtype=np.int64),
                             "usd_per_unit": np.asarray(usd_per_unit, dtype=float)})
        part = part[(part["month"] < self.cash_months) & (part["usd_per_unit"] != 0)]
        part.insert(0, "line", line)
        part.insert(0, "var", var.local_name)
        self._parts.append(part)
        self._frame = None

    @property
    def frame(self) -> pd.DataFrame:
        if self._frame is None:
            self._frame = pd.concat(self._parts, ignore_index=True) if self._parts else \
                pd.DataFrame(columns=["var", "line", "position", "campus_id", "month",
                                      "usd_per_unit"])
        return self._frame

    def objective_coefficients(self) -> dict[str, pd.Series]:
        """Per variable: discounted net USD per unit, indexed by position."""
        f = self.frame
        signed = f["usd_per_unit"] * f["line"].map(LINES) * self.discount_factor[f["month"]]
        grouped = signed.groupby([f["var"], f["position"]]).sum()
        return {name: grouped.xs(name, level="var") for name in grouped.index.unique("var")}

    def evaluate(self, values: dict[str, np.ndarray]) -> pd.DataFrame:
        """Cash by campus, month and line (positive amounts) for a solution."""
        f = self.frame
        x = np.zeros(len(f))
        for name, vals in values.items():
            rows = (f["var"] == name).to_numpy()
            if rows.any():
                x[rows] = vals[f.loc[rows, "position"].to_numpy()]
        usd = f["usd_per_unit"].to_numpy() * x
        keep = usd != 0
        out = pd.DataFrame({"campus_id": f["campus_id"].to_numpy()[keep],
                            "month": f["month"].to_numpy()[keep],
                            "line": f["line"].to_numpy()[keep], "usd": usd[keep]})
        return out.groupby(["campus_id", "month", "line"], as_index=False)["usd"].sum()
