"""The run's inputs as the result folder keeps them (inputs/*.csv), read for the narrative.

Result folders carry every input that drove a run (`Results.assumptions`); these helpers
read single values from them without ever going back to the scenario files, so a folder
written earlier explains itself the same way.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from siteopt.results.extract import Results


def number(value: Any) -> float | None:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return out if math.isfinite(out) else None


def truthy(value: Any) -> bool:
    return str(value).strip().lower() in ("true", "1", "yes")


def scenario_value(results: Results, key: str) -> Any:
    """One key of the scenario (inputs/scenario.csv), None when empty or absent."""
    frame = results.assumptions.get("scenario")
    if frame is None or frame.empty or "key" not in frame:
        return None
    hit = frame.loc[frame["key"].astype(str) == key, "value"]
    value = hit.iloc[0] if len(hit) else None
    return None if value is None or str(value).strip() in ("", "nan", "None") else value


def scenario_map(results: Results, key: str) -> dict[str, Any]:
    """A map key (`limits.max_it_mw_started_per_year_by_region.ERCOT` → {'ERCOT': …})."""
    frame = results.assumptions.get("scenario")
    if frame is None or frame.empty or "key" not in frame:
        return {}
    prefix = f"{key}."
    return {str(k)[len(prefix):]: v for k, v in zip(frame["key"], frame["value"])
            if str(k).startswith(prefix) and str(v).strip() not in ("", "nan", "None")}


def capex_budgets(results: Results) -> dict[int, float]:
    """finance.capex_budget_usd_per_year as year → USD for the horizon's years (a single
    number applies to every year)."""
    years = sorted({int(str(m)[:4]) for m in results.company_month.get("month", [])})
    single = number(scenario_value(results, "finance.capex_budget_usd_per_year"))
    if single is not None:
        return dict.fromkeys(years, single)
    return {int(k): float(v) for k, v in
            scenario_map(results, "finance.capex_budget_usd_per_year").items()
            if k.isdigit() and number(v) is not None}


def rows_by_id(results: Results, table: str, key: str) -> dict[str, pd.Series]:
    frame = results.assumptions.get(table)
    if frame is None or key not in frame:
        return {}
    return {str(row[key]): row for _, row in frame.iterrows()}


def offer_phases(results: Results, offer: pd.Series) -> list[tuple[float, int]]:
    """(IT MW, months after start) of each phase of an offer; one phase when it has none."""
    frame = results.assumptions.get("offer_phases")
    if frame is not None and "offer_id" in frame:
        rows = frame[frame["offer_id"].astype(str) == str(offer["offer_id"])]
        if len(rows):
            rows = rows.sort_values("months_after_start")
            return [(float(mw), int(float(a))) for mw, a in
                    zip(rows["it_mw"], rows["months_after_start"])]
    return [(float(offer["it_mw"]), 0)]


def month_index(start: str, label: Any) -> int | None:
    """Months from the horizon start `start` (YYYY-MM) to `label`; None when not a month."""
    text = str(label)
    if len(text) < 7 or text[4] != "-" or not text[:4].isdigit():
        return None
    return (int(text[:4]) - int(start[:4])) * 12 + int(text[5:7]) - int(start[5:7])


def month_label(start: str, index: int) -> str:
    total = int(start[:4]) * 12 + int(start[5:7]) - 1 + index
    return f"{total // 12:04d}-{total % 12 + 1:02d}"


def campus_eligible(offer: pd.Series, campus_ids: list[str]) -> list[str]:
    text = str(offer.get("campuses", "*")).strip()
    if text in ("", "*", "nan", "None"):
        return list(campus_ids)
    wanted = [c.strip() for c in text.split(";") if c.strip()]
    return [c for c in wanted if c in campus_ids]


def monthly_discount(results: Results) -> float:
    rate = number(results.summary.get("discount_rate_pct_per_year"))
    if rate is None:
        rate = number(scenario_value(results, "finance.discount_rate_pct_per_year")) or 0.0
    return (1 + rate / 100) ** (1 / 12) - 1


def discount_factors(results: Results, months: int) -> np.ndarray:
    """Discount factor of months 0..months-1, as the plan's company_month has them where it
    has them (the ledger's own convention), extended at the scenario's rate after them."""
    known = results.company_month["discount_factor"].astype(float).to_numpy() \
        if "discount_factor" in results.company_month else np.array([])
    monthly = monthly_discount(results)
    out = (1 + monthly) ** -(np.arange(months, dtype=float) + 1)
    if len(known):
        n = min(len(known), months)
        out[:n] = known[:n]
        if months > n and known[n - 1] > 0:
            out[n:] = known[n - 1] * (1 + monthly) ** -(np.arange(1, months - n + 1))
    return out
