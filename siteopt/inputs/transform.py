"""Scenario transformations: data in, data out, applied before a model is built.

The model never branches on what a scenario is called; a variant is a change of inputs.
"""

from __future__ import annotations

from dataclasses import replace

from siteopt.inputs.as_built import running_offer_ids
from siteopt.inputs.load import Inputs
from siteopt.inputs.months import parse_month


def mining_only(inputs: Inputs) -> Inputs:
    """The same scenario with conversion switched off: no new offers and nothing more can
    convert. What the company has today stays: halls ready or under construction, and
    leases already running (signed)."""
    campuses = inputs.campuses.copy()
    building = inputs.construction.groupby("campus_id")["it_mw"].sum()
    campuses["hpc_max_it_mw"] = campuses["hpc_ready_it_mw"] + building.reindex(
        campuses.index, fill_value=0.0)
    first = parse_month(inputs.scenario.horizon.start)
    running = running_offer_ids(inputs.offers, first)
    return replace(inputs, campuses=campuses, offers=inputs.offers.loc[running],
                   offer_phases=inputs.offer_phases[inputs.offer_phases["offer_id"]
                                                    .isin(running)])

