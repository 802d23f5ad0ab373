"""Measures over the futures: CVaR of a discrete distribution, and the expected tables.

The expected tables weigh each future's campus_month and company_month by its probability,
row by row (a row a future lacks counts 0): NPV is linear in cash and every future shares
the discount rate, so the expected table's discounted net cash is the expected NPV.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def cvar(values: list[float], probabilities: list[float], alpha: float) -> float:
    """Mean of the worst `alpha` of probability mass (the lowest values; the future at the
    boundary counts with the part of its probability that fits)."""
    order = np.argsort(values, kind="stable")
    left, total = alpha, 0.0
    for i in order:
        take = min(probabilities[i], left)
        total += take * values[i]
        left -= take
        if left <= 1e-15:
            break
    return total / alpha


def expected(frames: list[pd.DataFrame], probabilities: list[float], keys: list[str],
             columns: list[str]) -> pd.DataFrame:
    """The probability-weighted mean of tables with the same columns, row by row on `keys`
    (a row a future lacks counts 0 there). The discount factor, flags and text are the
    row's own; a balance that is empty (after the horizon) in every future stays empty."""
    shared = {"discount_factor", "in_horizon"}
    numbers = [c for c in columns if c not in keys and c not in shared
               and pd.api.types.is_numeric_dtype(frames[0][c])]
    rest = [c for c in columns if c not in keys and c not in numbers]
    stacked = pd.concat([f.assign(_p=p) for f, p in zip(frames, probabilities)],
                        ignore_index=True)
    weighted = stacked[numbers].mul(stacked["_p"], axis=0)
    weighted[keys] = stacked[keys]
    sums = weighted.groupby(keys, sort=False)[numbers].sum(min_count=1)
    out = sums.join(stacked.groupby(keys, sort=False)[rest].first()).reset_index()
    rank = {k: i for i, k in enumerate(dict.fromkeys(stacked[keys[0]]))}
    out = out.sort_values(keys, key=lambda s: s.map(rank) if s.name == keys[0] else s)
    return out[columns].reset_index(drop=True)
