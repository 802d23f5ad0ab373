"""Scenario transformations: data in, data out, applied before a model is built.

The model never branches on what a scenario is called; a variant is a change of inputs.
"""

from __future__ import annotations

from dataclasses import replace

from siteopt.inputs.load import Inputs


def mining_only(inputs: Inputs) -> Inputs:
    """The same scenario with conversion switched off: no offers and nothing can convert."""
    campuses = inputs.campuses.copy()
    campuses["hpc_max_it_mw"] = 0.0
    return replace(inputs, campuses=campuses, offers=inputs.offers.iloc[0:0],
                   offer_phases=inputs.offer_phases.iloc[0:0])
