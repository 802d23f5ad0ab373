"""What a run hands to the writers: its summary and its result tables (README "Results")."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from siteopt.contract import CAMPUS_MONTH_COLUMNS, COMPANY_MONTH_COLUMNS, LEASE_COLUMNS


@dataclass(frozen=True)
class Results:
    summary: dict[str, Any]
    campus_month: pd.DataFrame
    leases: pd.DataFrame
    company_month: pd.DataFrame
    kpis: pd.DataFrame | None = None
    assumptions: dict[str, pd.DataFrame] = field(default_factory=dict)
    # tables only some runs have, written as <name>.csv (a re-plan's changes and NPV bridge)
    extra: dict[str, pd.DataFrame] = field(default_factory=dict)
    # a stochastic plan: each future's own results, written as scenarios/<name>/
    futures: dict[str, Results] = field(default_factory=dict)


def empty_tables() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """campus_month, leases and company_month of a run without a plan."""
    return (pd.DataFrame(columns=CAMPUS_MONTH_COLUMNS), pd.DataFrame(columns=LEASE_COLUMNS),
            pd.DataFrame(columns=COMPANY_MONTH_COLUMNS))
