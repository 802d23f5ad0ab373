"""What a stochastic plan says, as DataFrames and sentences: for the terminal and plan.xlsx.

Everything here reads a result (summary.json's `stochastic` block, here_and_now.csv,
scenarios.csv and the futures' own tables); nothing prices or solves.
"""

from __future__ import annotations

from typing import Any

import pandas as pd


def _musd(usd: float | None) -> str:
    return "—" if usd is None else f"{usd / 1e6:,.1f} M USD"


def commit_month(summary: dict[str, Any]) -> str:
    """The first month decided later, YYYY-MM: decisions before it are taken now."""
    start = str((summary.get("horizon") or {}).get("start", ""))
    months = int((summary.get("stochastic") or {}).get("commit_months") or 0)
    if len(start) != 7:
        return f"month {months}"
    ordinal = int(start[:4]) * 12 + int(start[5:]) - 1 + months
    return f"{ordinal // 12}-{ordinal % 12 + 1:02d}"


def measures(summary: dict[str, Any]) -> pd.DataFrame:
    """One row per measure: its name, value in USD and one plain sentence."""
    block = summary.get("stochastic") or {}
    alpha = block.get("cvar_alpha_pct")
    vss, evpi = block.get("vss_usd"), block.get("evpi_usd")
    rows = [
        ("Expected NPV", block.get("expected_npv_usd"),
         "the probability-weighted NPV of the plan over the futures."),
        (f"CVaR {alpha:g} %" if alpha is not None else "CVaR", block.get("cvar_npv_usd"),
         f"the mean NPV of the worst {alpha:g} % of probability: what the plan earns when "
         f"things go badly." if alpha is not None else ""),
        ("Expected-value plan", block.get("ev_plan_expected_npv_usd"),
         "the expected NPV when the decisions taken now are those of a plan for the average "
         "future, every future then doing its best with them."
         if block.get("ev_plan_expected_npv_usd") is not None else
         f"not available: {block.get('ev_plan_note') or 'not solved'}."),
        ("VSS", vss,
         (f"deciding with the uncertainty in view is worth {_musd(vss)} over planning on the "
          f"average future." if vss is not None and vss >= 0 else
          f"planning on the average future did {_musd(-vss)} better here (within the MIP gaps "
          f"of the solves, or because the objective weighs risk)." if vss is not None else
          "not available: the expected-value plan is not.")),
        ("Wait-and-see NPV", block.get("wait_and_see_npv_usd"),
         "the expected NPV if the future were known before deciding (each future planned "
         "alone)."),
        ("EVPI", evpi,
         (f"knowing the future before committing would be worth {_musd(evpi)}: the most "
          f"worth paying to learn it first." if evpi is not None and evpi >= 0 else
          "0 within the MIP gaps of the solves: the plan loses nothing for not knowing the "
          "future." if evpi is not None else "not available.")),
    ]
    return pd.DataFrame(rows, columns=["measure", "usd", "meaning"])


def futures_frame(summary: dict[str, Any], scenarios: pd.DataFrame | None) -> pd.DataFrame:
    """Futures ranked by NPV, worst first, with their probability and changes."""
    block = summary.get("stochastic") or {}
    rows = pd.DataFrame(block.get("scenarios") or [],
                        columns=["name", "probability_pct", "npv_usd", "status",
                                 "baseline_npv_usd", "wait_and_see_npv_usd", "changes"])
    if scenarios is not None and len(scenarios) and "leases_taken" in scenarios:
        extra = scenarios.set_index("scenario")[["leases_taken", "it_mw_ready_at_end"]]
        rows = rows.join(extra, on="name")
    return rows.sort_values("npv_usd", kind="stable").reset_index(drop=True)


def here_and_now_lines(table: pd.DataFrame | None, limit: int | None = None) -> list[str]:
    """The decisions taken now, in words; leases first, then blocks, then the rest."""
    if table is None or not len(table):
        return ["nothing is committed now: every decision waits for the future to unfold"]
    rank = {"lease_accepted": 0, "split_start": 0, "split_blocks": 1, "blocks_started": 2,
            "miners_sold_mw": 3, "debt_draw": 4, "btc_sold": 5}
    ordered = table.assign(_r=table["kind"].map(rank).fillna(9)).sort_values(
        ["_r", "month"], kind="stable")
    lines = [str(d) for d in ordered["description"]]
    if limit is not None and len(lines) > limit:
        lines = lines[:limit] + [f"… and {len(lines) - limit} more (here_and_now.csv)"]
    return lines


def fan(futures: dict[str, Any], column: str) -> pd.DataFrame:
    """A company_month column over the horizon, one column per future (month as index)."""
    out = {}
    for name, results in futures.items():
        cm = results.company_month
        cm = cm[cm["in_horizon"].astype(bool)]
        out[name] = pd.Series(cm[column].to_numpy(float), index=cm["month"].to_numpy())
    return pd.DataFrame(out)
