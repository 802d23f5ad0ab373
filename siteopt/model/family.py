"""What a constraint family is: one object per family, walked in build order.

A family builds its variables and constraints (`build`) and records, in the shared cash
ledger, the USD that one unit of each of its variables moves (`record_cash`). `build_model`
calls both for every family that `applies` to the data; the reuse path (a price-only variant
on an already built model) calls only `record_cash`; the formulation page lists the families
in the same order. A family without `build` is a ledger step: it derives cash from what other
families recorded and adds nothing to the model (the EBITDA-multiple terminal value).
`commitments` names the decision variables that commit the company (blocks started, leases
accepted, miners sold, debt drawn, BTC sold): what must be the same in every future of a
stochastic plan when it falls in the months decided now.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pyomo.environ as pyo

from siteopt.model.cash import CashLedger
from siteopt.model.data import ModelData

Step = Callable[[pyo.ConcreteModel, ModelData, CashLedger], None]


def always(_data: ModelData) -> bool:
    return True


@dataclass(frozen=True)
class Family:
    name: str
    build: Step | None
    record_cash: Step | None = None
    applies: Callable[[ModelData], bool] = always
    commitments: tuple[str, ...] = ()
    when: str = "always"  # `applies` in words, for the formulation page

    @property
    def builder(self) -> str:
        """The function named on the formulation page: its builder, or a ledger step's."""
        step = self.build or self.record_cash
        return step.__name__

    @property
    def module(self) -> str:
        step = self.build or self.record_cash
        return step.__module__
