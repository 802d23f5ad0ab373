"""How a run's status is said to people, in the workbook and on the terminal alike."""

from __future__ import annotations

from typing import Any


def status_banner(summary: dict[str, Any]) -> tuple[str, str]:
    """The status of a run in words, and its tone (good / warn / bad)."""
    status = summary.get("status")
    if status == "optimal":
        return "Optimal", "good"
    if status == "feasible":
        gap = summary.get("mip_gap_pct")
        if gap is None:
            return "Best plan found — distance to optimal unknown (limit reached)", "warn"
        return f"Best plan found — within {_gap(gap)} % of optimal", "warn"
    if status == "infeasible":
        return "Infeasible — no plan meets every requirement (see Diagnosis)", "bad"
    return "No plan found within the limits", "bad"


def _gap(gap: float) -> str:
    return f"{gap:.2f}" if gap < 10 else f"{gap:.1f}"
