r"""One future's model as an mpi-sppy scenario: `scenario_creator(name, ensemble=...)`.

The model of a future is siteopt's own (`build_model`), with its here-and-now copies
(siteopt.stochastic.here_and_now) attached to mpi-sppy's root node and its probability set.
With a CVaR weight w > 0 (Rockafellar–Uryasev), the future's objective becomes

.. math::

    (1 - w)\,\text{NPV}_s + w\,\big(\eta - \text{shortfall}_s / \alpha\big),
    \qquad \text{shortfall}_s \ge \eta - \text{NPV}_s,\ \text{shortfall}_s \ge 0

with the value-at-risk η a here-and-now variable; summed with the probabilities p_s this is
(1 − w)·E[NPV] + w·max_η (η − E[(η − NPV)⁺]/α) = (1 − w)·E[NPV] + w·CVaR_α(NPV), the mean NPV
of the worst α of probability mass. The same creator serves the extensive form here and a
decomposition across processes (mpi-sppy's PH) in the next step.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import io
from dataclasses import dataclass

import pyomo.environ as pyo

from siteopt.model import BuiltModel, ModelData, build_model, prepare
from siteopt.stochastic.futures import FutureInputs
from siteopt.stochastic.here_and_now import Decision, add_here_and_now, decisions, union


@functools.lru_cache(maxsize=1)
def sputils():
    """mpi-sppy's utilities, imported without the banner it prints to stdout (stdout may be
    a --json summary), and without MPI when mpi4py is absent (one process)."""
    with contextlib.redirect_stdout(io.StringIO()):
        from mpisppy.utils import sputils as module
    return module


@dataclass(frozen=True)
class Ensemble:
    """Everything a scenario creator needs: the futures, their model data, the union of
    their here-and-now decisions and the risk measure."""

    futures: tuple[FutureInputs, ...]
    data: tuple[ModelData, ...]
    keys: tuple[Decision, ...]
    present: tuple[frozenset[Decision], ...]  # the here-and-now decisions each future has
    commit_months: int
    cvar_alpha: float  # 0..1
    cvar_weight: float  # 0..1

    @property
    def names(self) -> list[str]:
        """mpi-sppy's scenario names (block names of the extensive form)."""
        return [f"future_{i}" for i in range(len(self.futures))]

    def position(self, name: str) -> int:
        return self.names.index(name)


def ensemble(futures: list[FutureInputs], commit_months: int, cvar_alpha_pct: float,
             cvar_weight_pct: float) -> Ensemble:
    # months before C are free of the block-start reduction (a dominance that moves starts
    # later holds for a plan's free months only, as in a re-plan)
    data = [dataclasses.replace(prepare(f.inputs), fixed_before=commit_months) for f in futures]
    own = [decisions(d, commit_months) for d in data]
    return Ensemble(tuple(futures), tuple(data), tuple(union(own)),
                    tuple(frozenset(k) for k in own), commit_months,
                    cvar_alpha_pct / 100, cvar_weight_pct / 100)


def withdrawn(future: FutureInputs) -> frozenset[str]:
    offers = future.inputs.offers
    return frozenset(offers.index[offers["withdrawn"].astype(bool)])


def scenario_creator(name: str, ensemble: Ensemble) -> pyo.ConcreteModel:
    i = ensemble.position(name)
    future, data = ensemble.futures[i], ensemble.data[i]
    built = build_model(data)
    m = built.model
    add_here_and_now(m, list(ensemble.keys), withdrawn(future))
    first_stage = [m.here_and_now]
    if ensemble.cvar_weight > 0:
        _add_cvar(m, ensemble.cvar_alpha, ensemble.cvar_weight)
        first_stage.append(m.value_at_risk_musd)
    sputils().attach_root_node(m, 0.0, first_stage)
    m._mpisppy_probability = future.probability
    m._siteopt_built = built
    return m


def _add_cvar(m: pyo.ConcreteModel, alpha: float, weight: float) -> None:
    npv = m.npv.expr
    m.value_at_risk_musd = pyo.Var(domain=pyo.Reals,
                                   doc="NPV below which the worst α of futures fall "
                                       "[million USD]")
    m.shortfall_musd = pyo.Var(domain=pyo.NonNegativeReals,
                               doc="NPV short of the value at risk [million USD]")
    m.shortfall_below_var = pyo.Constraint(expr=m.shortfall_musd >= m.value_at_risk_musd - npv)
    m.npv.deactivate()
    m.risk_adjusted_npv = pyo.Objective(
        expr=(1 - weight) * npv + weight * (m.value_at_risk_musd - m.shortfall_musd / alpha),
        sense=pyo.maximize, doc="(1 - w) NPV + w (VaR - shortfall / alpha) [million USD]")


def extensive_form(ens: Ensemble) -> tuple[pyo.ConcreteModel, list[BuiltModel]]:
    """mpi-sppy's extensive form of the futures, and each future's model in it (one future:
    the EF is that future's model)."""
    ef = sputils().create_EF(ens.names, scenario_creator, {"ensemble": ens},
                             suppress_warnings=True)
    blocks = [ef] if len(ens.names) == 1 else [ef.component(n) for n in ens.names]
    built = [block._siteopt_built for block in blocks]
    # each future planned for its own NPV (the risk-neutral objective): what the mining-only
    # baseline, the expected-value plan's futures and, at a CVaR weight of 100 %, the futures
    # outside the tail are solved for
    ef.expected_npv = pyo.Objective(
        expr=pyo.quicksum(f.probability * b.model.npv.expr for f, b in zip(ens.futures, built)),
        sense=pyo.maximize, doc="expected NPV [million USD]")
    ef.expected_npv.deactivate()
    return ef, built


def objectives(ef: pyo.ConcreteModel) -> list[pyo.Objective]:
    return list(ef.component_data_objects(pyo.Objective, active=True, descend_into=True))


@contextlib.contextmanager
def expected_objective(ef: pyo.ConcreteModel):
    """The extensive form with the expected NPV as its only active objective, meanwhile."""
    active = objectives(ef)
    for objective in active:
        objective.deactivate()
    ef.expected_npv.activate()
    try:
        yield ef
    finally:
        ef.expected_npv.deactivate()
        for objective in active:
            objective.activate()
