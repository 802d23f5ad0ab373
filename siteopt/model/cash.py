"""Shared cash collector: each family records the cash one unit of its variables brings.

An entry says: one unit of variable `var[key]` moves `usd_per_unit` USD on `line` at campus
`campus_id` in month `month`; a constant entry moves a fixed amount. Company-level lines
(financing, valuation) use the campus id COMPANY. The objective is the discounted sum of all
entries times their variables; after a solve the same entries times the solution values are
the cash-flow tables. One set of numbers therefore drives both, and NPV reconciles with the
written cash by construction. Entries in months that do not count (before the horizon, or after
it when nothing after it is valued) are dropped here, once, for every family.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd
import pyomo.environ as pyo

from siteopt.contract import LINE, SIGN

COMPANY = ""  # campus_id of company-level entries

CONSTANT = "__constant__"
USD_PER_MUSD = 1e6  # money inside the model (objective, funding rows) is in million USD
_COLUMNS = ["var", "line", "position", "campus_id", "month", "usd_per_unit", "detail",
            "nominal_usd_per_unit"]


def _pick(values, mask: np.ndarray):
    """`values[mask]` for an array of per-entry values; a scalar stays a scalar."""
    return np.asarray(values, dtype=object)[mask] if np.ndim(values) else values


class CashLedger:
    def __init__(self, cash_months: int, discount_factor: np.ndarray):
        self.cash_months = cash_months
        self.discount_factor = discount_factor
        self._parts: list[pd.DataFrame] = []
        self._frame: pd.DataFrame | None = None
        self.flows: dict[str, dict] = {}  # monthly flows the funding rows share (model.flows)

    def add(self, line: str, var: pyo.Var, position, campus_id, month, usd_per_unit,
            detail=0) -> None:
        """Record entries for `var`'s elements at `position` (their order in `var`).

        `detail` tells entries of one element apart where a table needs them apart (a lease
        phase). A line the contract marks `settles_to` (an amount settled inside the horizon
        but owed or due after it) is not dropped in months whose cash does not count: those
        entries go to the company's `settles_to` line in the last counted month, at their
        present value there — leaving them out would count one side of a deal and not the
        other (a prepayment received but not the rent it is credited against).
        """
        settles_to = LINE[line].settles_to if line in LINE else None
        if settles_to is None:
            self._add(line, var.local_name, position, campus_id, month, usd_per_unit, detail)
            return
        month = np.atleast_1d(np.asarray(month, dtype=np.int64))
        shape = month.shape
        usd = np.broadcast_to(np.asarray(usd_per_unit, dtype=float), shape)
        position = np.broadcast_to(np.asarray(position, dtype=np.int64), shape)
        detail = np.broadcast_to(np.asarray(detail, dtype=np.int64), shape)
        later = month >= self.cash_months
        self._add(line, var.local_name, position[~later], _pick(campus_id, ~later),
                  month[~later], usd[~later], detail[~later])
        if later.any():
            last = self.cash_months - 1
            at_last = usd[later] * self.discount_factor[month[later]] \
                / self.discount_factor[last]
            self._add(settles_to, var.local_name, position[later], COMPANY,
                      np.full(int(later.sum()), last), at_last, detail[later],
                      nominal=usd[later])

    def add_constant(self, line: str, campus_id: str, month: int, usd: float) -> None:
        """A fixed amount that no decision changes (e.g. the BTC held at the start)."""
        self._add(line, CONSTANT, [0], campus_id, [month], [usd])

    def _add(self, line: str, var_name: str, position, campus_id, month, usd_per_unit,
             detail=0, nominal=None) -> None:
        """`nominal`: the amount as it fell due, where `usd_per_unit` is its value settled
        at the horizon (`add`); otherwise the two are the same."""
        if line not in SIGN:
            raise KeyError(f"unknown cash line {line!r}")
        part = pd.DataFrame({"position": np.asarray(position, dtype=np.int64),
                             "campus_id": campus_id, "month": np.asarray(month, dtype=np.int64),
                             "usd_per_unit": np.asarray(usd_per_unit, dtype=float),
                             "detail": np.asarray(detail, dtype=np.int64),
                             "nominal_usd_per_unit": np.asarray(
                                 usd_per_unit if nominal is None else nominal, dtype=float)})
        # months before the horizon (a running lease's past rent) are history, not plan
        part = part[(part["month"] >= 0) & (part["month"] < self.cash_months)
                    & (part["usd_per_unit"] != 0)]
        part.insert(0, "line", line)
        part.insert(0, "var", var_name)
        self._parts.append(part)
        self._frame = None

    def derive(self, line: str, from_lines: Iterable[str], months: Iterable[int], at_month: int,
               factor: float) -> None:
        """New company-level entries: `factor` × the signed entries of `from_lines` in
        `months`, all moved to `at_month` (e.g. a multiple of the last 12 months' EBITDA)."""
        f = self.frame
        signs = f["line"].map(SIGN)
        rows = f[f["line"].isin(list(from_lines)) & f["month"].isin(list(months))]
        for name, group in rows.groupby("var"):
            self._add(line, name, group["position"], COMPANY, np.full(len(group), at_month),
                      factor * group["usd_per_unit"] * signs[group.index] * SIGN[line])

    @property
    def frame(self) -> pd.DataFrame:
        if self._frame is None:
            self._frame = pd.concat(self._parts, ignore_index=True) if self._parts else \
                pd.DataFrame(columns=_COLUMNS)
        return self._frame

    def objective_coefficients(self) -> tuple[dict[str, pd.Series], float]:
        """Per variable: discounted net USD per unit, indexed by position; and the constant."""
        f = self.frame
        signed = f["usd_per_unit"] * f["line"].map(SIGN) * self.discount_factor[f["month"]]
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
        usd = f["usd_per_unit"] * f["line"].map(SIGN) / USD_PER_MUSD
        elements = {name: list(m.component(name).values()) for name in f["var"].unique()
                    if name != CONSTANT}
        out = {}
        for month, rows in f.groupby("month"):
            terms = [u if v == CONSTANT else u * elements[v][p]
                     for v, p, u in zip(rows["var"], rows["position"], usd[rows.index])]
            out[int(month)] = pyo.quicksum(terms)
        return out

    def evaluate_units(self, values: dict[str, np.ndarray], var_names: Iterable[str]
                       ) -> pd.DataFrame:
        """Cash of each element of the named variables that is not 0 in the solution, by
        line and detail: var, position, detail, line, usd, its present value pv_usd and
        nominal_usd (on a settled line, the amounts as they fell due after the horizon
        rather than their value at its end), per unit times the element's value; costs as
        positive amounts."""
        f = self.frame
        f = f[f["var"].isin(list(var_names))]
        x = np.zeros(len(f))
        for name in f["var"].unique():
            rows = (f["var"] == name).to_numpy()
            x[rows] = values[name][f.loc[rows, "position"].to_numpy()]
        keep = np.abs(x) > 1e-9
        f = f[keep]
        usd = f["usd_per_unit"].to_numpy() * x[keep]
        out = pd.DataFrame({"var": f["var"].to_numpy(), "position": f["position"].to_numpy(),
                            "detail": f["detail"].to_numpy(), "line": f["line"].to_numpy(),
                            "usd": usd,
                            "pv_usd": usd * self.discount_factor[f["month"].to_numpy()],
                            "nominal_usd": f["nominal_usd_per_unit"].to_numpy() * x[keep]})
        return out.groupby(["var", "position", "detail", "line"], as_index=False)[
            ["usd", "pv_usd", "nominal_usd"]].sum()

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
