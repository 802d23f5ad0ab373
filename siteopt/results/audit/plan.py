"""What every audit check reads: the inputs and the written tables, with month numbers."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from siteopt.inputs import Inputs
from siteopt.inputs.as_built import is_running
from siteopt.inputs.months import parse_month
from siteopt.inputs.schema import Scenario

MW_TOL = 1e-6
USD_TOL = 0.005  # half a cent
# HiGHS solves money rows in million USD to its feasibility tolerance: a running sum of
# billions (debt against capex, cash against the floor) can miss by 1e-12 of itself
RELATIVE_TOL = 1e-12


def limit_tol(amount) -> float | np.ndarray:
    """Tolerance of a limit on a running sum of USD: half a cent, or 1e-12 of the amount."""
    return USD_TOL + RELATIVE_TOL * np.abs(amount)
SHOWN = 5  # rows named per kind of problem


@dataclass(frozen=True)
class Plan:
    """campus_month with each row's month number t (0 = horizon start) and its campus's
    inputs joined; leases as written."""

    inputs: Inputs
    cm: pd.DataFrame
    leases: pd.DataFrame
    first: int  # month ordinal of t = 0
    horizon: int

    @property
    def scenario(self) -> Scenario:
        return self.inputs.scenario

    @property
    def counts_after(self) -> bool:
        """Cash after the horizon counts (else amounts due then are settled at its end)."""
        finance = self.scenario.finance
        return finance.value_beyond_horizon and \
            finance.terminal_value.method == "beyond_horizon"

    def halls(self, campus_id: str) -> list[tuple[int, float, float]]:
        """(ready month number, IT MW, remaining capex) of the campus's halls under
        construction at the horizon start."""
        rows = self.inputs.construction[self.inputs.construction["campus_id"] == campus_id]
        return [(parse_month(h.ready_month) - self.first, float(h.it_mw),
                 float(h.capex_remaining_usd)) for h in rows.itertuples()]

    def running(self, offer_id: str) -> bool:
        # a row reads its columns as attributes, as is_running reads an offer
        return is_running(self.inputs.offers.loc[offer_id], self.first)

    def zeros(self) -> pd.Series:
        return pd.Series(0.0, index=self.cm.index)

    def at_rows(self, mask, text: str) -> list[str]:
        """`text` for the first campus_month rows where `mask` holds."""
        if not np.asarray(mask).any():
            return []
        return [f"{row.campus_id} {row.month}: {text}"
                for row in self.cm[mask].head(SHOWN).itertuples()]

    def month_numbers(self, months: pd.Series) -> list[int]:
        return [parse_month(m) - self.first for m in months]

    def discount_factor(self, t) -> np.ndarray:
        rate = self.scenario.finance.discount_rate_pct_per_year / 100
        return (1 + rate) ** (-(np.asarray(t) + 1) / 12)

    def settled(self, months: range, usd: float) -> float:
        """Present value at the horizon's last month of `usd` a month in the months whose
        cash is not counted (after the horizon when nothing after it is valued)."""
        if self.counts_after or not usd:
            return 0.0
        rate = self.scenario.finance.discount_rate_pct_per_year / 100
        last = self.horizon - 1
        return sum(usd * (1 + rate) ** (-(m - last) / 12) for m in months if m > last)


def read_plan(inputs: Inputs, campus_month: pd.DataFrame, leases: pd.DataFrame) -> Plan:
    first = parse_month(inputs.scenario.horizon.start)
    cm = campus_month.copy()
    cm["t"] = [parse_month(m) - first for m in cm["month"]]
    return Plan(inputs, cm.join(inputs.campuses, on="campus_id"), leases, first,
                inputs.scenario.horizon.months)


def differs(found: pd.Series, expected, tol: float = USD_TOL) -> pd.Series:
    """Where a written column is off its expected value (absolute, plus 1e-9 relative)."""
    return (found - expected).abs() > tol + 1e-9 * np.abs(expected)

