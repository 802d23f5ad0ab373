"""Why a scenario cannot be planned, said in the words of its inputs.

Structural checks run before the solve: they catch what no plan could satisfy and say what
would fix it.
"""

from __future__ import annotations

from siteopt.model.data import ModelData


def undeliverable_signed_leases(data: ModelData) -> list[str]:
    """Signed leases that no eligible campus can be ready for inside their start window."""
    offered = {o.offer_id for o in data.lease_options} | {o for o, _ in data.split_starts}
    messages = []
    for offer_id, offer in data.offers.iterrows():
        if not offer["signed"] or offer_id in offered:
            continue
        delay = int(offer["max_delay_months"])
        closes = data.latest_start[offer_id] + delay
        window = data.month_label(closes) + (f" (latest_start + {delay} months' delay)"
                                             if delay else "")
        campuses = data.campuses.loc[list(offer["campuses"])]
        fits = campuses[campuses["hpc_max_it_mw"] + 1e-9 >= (
            0 if offer["split"] else offer["it_mw"])]
        if fits.empty:
            messages.append(f"Signed lease {offer_id} needs {offer['it_mw']:g} IT MW but no "
                            f"eligible campus can host that much.")
            continue
        ready = {c: data.permit_month[c] + int(row["build_months"])
                 for c, row in fits.iterrows()}
        best = min(ready, key=ready.get)
        row = fits.loc[best]
        permit = row["permit_ready"] or "already permitted"
        late = ready[best] - closes
        messages.append(
            f"Signed lease {offer_id} needs {offer['it_mw']:g} IT MW by {window}. The earliest "
            f"ready month at an eligible campus is {data.month_label(ready[best])} at {best} "
            f"(permit {permit} + {int(row['build_months'])} months build). Options: allow "
            f"{late} months' delay (max_delay_months = {delay + late}), an earlier permit or a "
            f"shorter build at {best}.")
    return messages
