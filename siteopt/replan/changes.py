"""What a re-plan changed: every decision from --from on that differs from the old plan, and
the present value of the months before --from (the part that was fixed)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from siteopt.inputs import Inputs
from siteopt.inputs.months import parse_month
from siteopt.results.tables import Results

CHANGE_COLUMNS = ["kind", "campus_id", "offer_id", "month", "old_value", "new_value", "unit",
                  "description"]
CAMPUS_MONTH_KINDS = {"blocks_started": "blocks", "miners_sold_mw": "MW sold in the month",
                      "mining_mw": "MW", "spot_mw": "IT MW"}
COMPANY_MONTH_KINDS = {"debt_draw_usd": "USD", "btc_sold_btc": "BTC"}
TOLERANCE = 1e-6


def fixed_part_usd(company_month: pd.DataFrame, until: int) -> float:
    """Present value of the net cash of the horizon's first `until` months."""
    rows = company_month[company_month["in_horizon"].astype(bool)].iloc[:until]
    return float((rows["net_cash_usd"] * rows["discount_factor"]).sum())


def changed_decisions(old: Results, new: Results, until: int, inputs: Inputs) -> pd.DataFrame:
    """One row per decision from month `until` on that differs between the two plans: leases
    first (accepted or not, where, from when), then block starts, miners sold, mining, spot,
    debt and BTC sales, each in month order."""
    first = parse_month(inputs.scenario.horizon.start)
    rows = _lease_changes(old.leases, new.leases, first + until)
    rows += _table_changes(old.campus_month, new.campus_month, CAMPUS_MONTH_KINDS, first + until,
                           by_campus=True)
    rows += _table_changes(old.company_month, new.company_month, COMPANY_MONTH_KINDS,
                           first + until, by_campus=False)
    return pd.DataFrame.from_records(rows, columns=CHANGE_COLUMNS)


def _lease_summary(leases: pd.DataFrame) -> dict[str, tuple[str, str, float]]:
    """offer → (start month, 'campus IT MW; …', IT MW) of each accepted offer."""
    out = {}
    for offer_id, rows in leases[leases["accepted"].astype(bool)].groupby("offer_id",
                                                                          sort=False):
        by_campus = rows.groupby("campus_id", sort=False)["it_mw"].sum()
        where = "; ".join(f"{c} {mw:g} IT MW" for c, mw in by_campus.items())
        out[offer_id] = (rows["start_month"].iloc[0], where, float(by_campus.sum()))
    return out


def _lease_changes(old: pd.DataFrame, new: pd.DataFrame, until: int) -> list[dict]:
    before, after = _lease_summary(old), _lease_summary(new)
    rows = []
    for offer_id in dict.fromkeys([*old["offer_id"], *new["offer_id"]]):
        a, b = before.get(offer_id), after.get(offer_id)
        if a == b:
            continue
        starts = [parse_month(x[0]) for x in (a, b) if x is not None]
        if starts and max(starts) < until:
            continue  # both before --from: fixed (only actuals can move it)
        old_text = "declined" if a is None else f"from {a[0]} at {a[1]}"
        new_text = "declined" if b is None else f"from {b[0]} at {b[1]}"
        month = (b or a)[0]
        campus = "; ".join(sorted({part.split(" ")[0] for x in (a, b) if x is not None
                                   for part in x[1].split("; ")}))
        rows.append({"kind": "lease", "campus_id": campus, "offer_id": offer_id,
                     "month": month, "old_value": 0.0 if a is None else a[2],
                     "new_value": 0.0 if b is None else b[2], "unit": "IT MW",
                     "description": f"lease {offer_id}: {old_text} → {new_text}"})
    return rows


def _table_changes(old: pd.DataFrame, new: pd.DataFrame, kinds: dict[str, str], until: int,
                   by_campus: bool) -> list[dict]:
    keys = ["campus_id", "month"] if by_campus else ["month"]
    a = _monthly(old[old["in_horizon"].astype(bool)]).set_index(keys)
    b = _monthly(new[new["in_horizon"].astype(bool)]).set_index(keys)
    rows = []
    for column, unit in kinds.items():
        if column not in a and column not in b:
            continue
        left = a[column] if column in a else pd.Series(0.0, index=a.index)
        right = b[column] if column in b else pd.Series(0.0, index=b.index)
        both = pd.concat([left.rename("old"), right.rename("new")], axis=1).fillna(0.0)
        months = np.array([parse_month(k[-1] if isinstance(k, tuple) else k)
                           for k in both.index])
        differs = (months >= until) & ((both["old"] - both["new"]).abs() > TOLERANCE).to_numpy()
        for key, (o, n) in both[differs].iterrows():
            campus = key[0] if by_campus else ""
            month = key[-1] if isinstance(key, tuple) else key
            where = f"{campus} {month}" if by_campus else month
            rows.append({"kind": column, "campus_id": campus, "offer_id": "", "month": month,
                         "old_value": float(o), "new_value": float(n), "unit": unit,
                         "description": f"{where}: {column} {float(o):,.6g} → "
                                        f"{float(n):,.6g} {unit}"})
    order = list(kinds)
    rows.sort(key=lambda r: (order.index(r["kind"]), r["month"], r["campus_id"]))
    return rows


def _monthly(frame: pd.DataFrame) -> pd.DataFrame:
    """miners_sold_mw is cumulative in the tables; a change is told as the month's sale."""
    if "miners_sold_mw" not in frame or "campus_id" not in frame:
        return frame
    frame = frame.copy()
    frame["miners_sold_mw"] = frame.groupby("campus_id")["miners_sold_mw"].diff().fillna(
        frame["miners_sold_mw"])
    return frame
