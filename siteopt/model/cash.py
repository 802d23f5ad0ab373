"""Shared cash collector: each family records the cash one unit of its variables brings.

An entry says: one unit of variable `var[key]` moves `usd_per_unit` USD on `line` at campus
`campus_id` in month `month`; a constant entry moves a fixed amount. Company-level lines
(financing, valuation) use the campus id COMPANY. The objective is the discounted sum of all
entries times their variables; after a solve the same entries times the solution values are
the cash-flow tables. One set of numbers therefore drives both, and NPV reconciles with the
written cash by construction. Entries in months that do not count are dropped here, once,
for every family.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd
import pyomo.environ as pyo

COMPANY = ""  # campus_id of company-level entries

# line → (sign in net cash, kind). Costs are recorded and reported as positive amounts.
# operating and investing lines are campus cash; financing and valuation are company-level.
LINE_KINDS: dict[str, tuple[int, str]] = {
    "mining_revenue_usd": (+1, "operating"),
    "power_cost_usd": (-1, "operating"),
    "mining_opex_usd": (-1, "operating"),
    "lease_revenue_usd": (+1, "operating"),
    "spot_revenue_usd": (+1, "operating"),
    "prepayment_usd": (+1, "operating"),
    "prepayment_credit_usd": (-1, "operating"),
    "late_penalty_usd": (-1, "operating"),
    "hpc_opex_usd": (-1, "operating"),
    "asic_salvage_usd": (+1, "investing"),
    "capex_usd": (-1, "investing"),
    "tenant_capex_usd": (+1, "investing"),
    "debt_draw_usd": (+1, "financing"),
    "interest_usd": (-1, "financing"),
    "principal_usd": (-1, "financing"),
    "btc_sale_usd": (+1, "financing"),
    "hpc_terminal_value_usd": (+1, "valuation"),
    "mining_terminal_value_usd": (+1, "valuation"),
    "btc_treasury_value_usd": (+1, "valuation"),
    "debt_outstanding_usd": (-1, "valuation"),
    "prepayment_liability_usd": (-1, "valuation"),
    "tenant_capex_receivable_usd": (+1, "valuation"),
}
LINES: dict[str, int] = {name: sign for name, (sign, _) in LINE_KINDS.items()}
CAMPUS_LINES: dict[str, int] = {name: sign for name, (sign, kind) in LINE_KINDS.items()
                                if kind in ("operating", "investing")}
CONSTANT = "__constant__"
USD_PER_MUSD = 1e6  # money inside the model (objective, funding rows) is in million USD
_COLUMNS = ["var", "line", "position", "campus_id", "month", "usd_per_unit"]


def _pick(values, mask: np.ndarray):
    """`values[mask]` for an array of per-entry values; a scalar stays a scalar."""
    return np.asarray(values, dtype=object)[mask] if np.ndim(values) else values


class CashLedger:
    def __init__(self, cash_months: int, discount_factor: np.ndarray):
        self.cash_months = cash_months
        self.discount_factor = discount_factor
        self._parts: list[pd.DataFrame] = []
        self._frame: pd.DataFrame | None = None

    def add(self, line: str, var: pyo.Var, position, campus_id, month, usd_per_unit) -> None:
        """Record entries for `var`'s elements at `position` (their order in `var`)."""
        self._add(line, var.local_name, position, campus_id, month, usd_per_unit)

    def add_constant(self, line: str, campus_id: str, month: int, usd: float) -> None:
        """A fixed amount that no decision changes (e.g. the BTC held at the start)."""
        self._add(line, CONSTANT, [0], campus_id, [month], [usd])

    def _add(self, line: str, var_name: str, position, campus_id, month, usd_per_unit) -> None:
        if line not in LINES:
            raise KeyError(f"unknown cash line {line!r}")
        part = pd.DataFrame({"position": np.asarray(position, dtype=np.int64),
                             "campus_id": campus_id, "month": np.asarray(month, dtype=np.int64),
                             "usd_per_unit": np.asarray(usd_per_unit, dtype=float)})
        part = part[(part["month"] < self.cash_months) & (part["usd_per_unit"] != 0)]
        part.insert(0, "line", line)
        part.insert(0, "var", var_name)
        self._parts.append(part)
        self._frame = None

    def add_settled(self, line: str, settle_line: str, var: pyo.Var, position, campus_id,
                    month, usd_per_unit) -> None:
        """Entries on `line`; those in months whose cash does not count (after the horizon
        when nothing after it is valued) are recorded instead on the company's
        `settle_line` in the last counted month, at their present value there.

        For amounts already settled inside the horizon but owed or due after it (rent still
        to be credited against a prepayment received, tenant capex still to come for capex
        already paid): leaving them out would count one side of a deal and not the other.
        """
        month = np.asarray(month, dtype=np.int64)
        usd = np.broadcast_to(np.asarray(usd_per_unit, dtype=float), month.shape)
        position = np.broadcast_to(np.asarray(position, dtype=np.int64), month.shape)
        later = month >= self.cash_months
        self.add(line, var, position[~later], _pick(campus_id, ~later), month[~later],
                 usd[~later])
        if later.any():
            last = self.cash_months - 1
            at_last = usd[later] * self.discount_factor[month[later]] \
                / self.discount_factor[last]
            self.add(settle_line, var, position[later], COMPANY,
                     np.full(int(later.sum()), last), at_last)

    def derive(self, line: str, from_lines: Iterable[str], months: Iterable[int], at_month: int,
               factor: float) -> None:
        """New company-level entries: `factor` × the signed entries of `from_lines` in
        `months`, all moved to `at_month` (e.g. a multiple of the last 12 months' EBITDA)."""
        f = self.frame
        signs = f["line"].map(LINES)
        rows = f[f["line"].isin(list(from_lines)) & f["month"].isin(list(months))]
        for name, group in rows.groupby("var"):
            self._add(line, name, group["position"], COMPANY, np.full(len(group), at_month),
                      factor * group["usd_per_unit"] * signs[group.index] * LINES[line])

    @property
    def frame(self) -> pd.DataFrame:
        if self._frame is None:
            self._frame = pd.concat(self._parts, ignore_index=True) if self._parts else \
                pd.DataFrame(columns=_COLUMNS)
        return self._frame

    def objective_coefficients(self) -> tuple[dict[str, pd.Series], float]:
        """Per variable: discounted net USD per unit, indexed by position; and the constant."""
        f = self.frame
        signed = f["usd_per_unit"] * f["line"].map(LINES) * self.discount_factor[f["month"]]
        grouped = signed.groupby([f["var"], f["position"]]).sum()
        constant = float(grouped.xs(CONSTANT, level="var").sum()) \
            if CONSTANT in grouped.index.unique("var") else 0.0
        return ({name: grouped.xs(name, level="var") for name in grouped.index.unique("var")
                 if name != CONSTANT}, constant)

    def monthly_expressions(self, m: pyo.ConcreteModel,
                            lines: Iterable[str]) -> dict[int, pyo.Expression]:
        """Σ over campuses of the chosen lines (signed), per month, in million USD — the
        scale of the model's money variables, so funding rows stay well conditioned."""
        f = self.frame
        f = f[f["line"].isin(list(lines))]
        usd = f["usd_per_unit"] * f["line"].map(LINES) / USD_PER_MUSD
        elements = {name: list(m.component(name).values()) for name in f["var"].unique()
                    if name != CONSTANT}
        out = {}
        for month, rows in f.groupby("month"):
            terms = [u if v == CONSTANT else u * elements[v][p]
                     for v, p, u in zip(rows["var"], rows["position"], usd[rows.index])]
            out[int(month)] = pyo.quicksum(terms)
        return out

    def evaluate(self, values: dict[str, np.ndarray]) -> pd.DataFrame:
        """Cash by campus, month and line (positive amounts for costs) for a solution."""
        f = self.frame
        x = np.zeros(len(f))
        x[(f["var"] == CONSTANT).to_numpy()] = 1.0
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
