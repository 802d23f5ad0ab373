"""Hand a built Pyomo model to a HiGHS object we own, and read back status and solution.

Pyomo's standard-form compiler turns the model into sparse matrices that go to HiGHS with
`passModel`; owning the `Highs` object gives the gap, bound, times and (later) IIS and warm
starts directly. Options are set explicitly so two runs of one scenario behave the same.
"""

from __future__ import annotations

import contextlib
import contextvars
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import highspy
import numpy as np
import pyomo.environ as pyo
from pyomo.repn.plugins.standard_form import LinearStandardFormCompiler

from siteopt.inputs.schema import Solver
from siteopt.model.objective import USD_PER_OBJECTIVE_UNIT
from siteopt.solve_trace import Point, SolveTrace

INF = highspy.kHighsInf


@dataclass(frozen=True)
class SolverOutput:
    """Where HiGHS talks while it solves, chosen by the caller (the command line) for every
    solve of a run — plan, baseline, finance start — without passing it through each."""

    log: Callable[[str], None] | None = None  # every line of HiGHS's log
    progress: Callable[[Point], None] | None = None  # a MIP's best plan, bound, gap over time


_OUTPUT: contextvars.ContextVar[SolverOutput | None] = contextvars.ContextVar(
    "siteopt_solver_output", default=None)


@contextlib.contextmanager
def solver_output(log: Callable[[str], None] | None = None,
                  progress: Callable[[Point], None] | None = None) -> Iterator[None]:
    """HiGHS's log lines to `log` and a MIP's progress to `progress` for the solves inside."""
    token = _OUTPUT.set(SolverOutput(log, progress))
    try:
        yield
    finally:
        _OUTPUT.reset(token)


@dataclass
class SolveOutcome:
    status: str  # optimal | feasible | infeasible | no_solution
    highs_status: str
    npv_objective_usd: float | None
    best_bound_usd: float | None
    mip_gap_pct: float | None
    compile_seconds: float
    solve_seconds: float
    values: dict[str, np.ndarray] = field(default_factory=dict)
    columns: int = 0
    rows: int = 0
    integers: int = 0
    trace: SolveTrace | None = None  # MIPs: first plan, root bound, time to each gap
    start_used: bool = False  # a starting plan was handed to HiGHS and accepted


@dataclass
class Compiled:
    """A model in HiGHS's form, kept so a price-only variant can be solved without Pyomo."""

    lp: highspy.HighsLp
    columns: list
    integer: np.ndarray
    positions: list[tuple[str, int]]  # column → (variable component, position in it)
    compile_seconds: float
    row_names: list[str] = field(default_factory=list)  # row → its constraint component

    def columns_of(self, names: set[str]) -> np.ndarray:
        return np.array([j for j, (name, _) in enumerate(self.positions) if name in names],
                        dtype=np.int64)

    def rows_of(self, names: set[str]) -> np.ndarray:
        return np.array([i for i, name in enumerate(self.row_names) if name in names],
                        dtype=np.int64)


@dataclass(frozen=True)
class BoundChanges:
    """Bounds changed for one solve only (the compiled model stays as it is)."""

    columns: np.ndarray  # indices
    column_lower: np.ndarray
    column_upper: np.ndarray
    rows: np.ndarray
    row_lower: np.ndarray
    row_upper: np.ndarray

    def apply(self, h: highspy.Highs) -> None:
        if len(self.columns):
            h.changeColsBounds(len(self.columns), self.columns, self.column_lower,
                               self.column_upper)
        if len(self.rows):
            h.changeRowsBounds(len(self.rows), self.rows, self.row_lower, self.row_upper)


def compile_model(model: pyo.ConcreteModel, sense: int = pyo.maximize) -> Compiled:
    started = time.perf_counter()
    repn = LinearStandardFormCompiler().write(model, mixed_form=True, set_sense=None)
    columns = repn.columns
    integer = np.array([v.is_integer() or v.is_binary() for v in columns], dtype=bool)

    lp = highspy.HighsLp()
    lp.num_col_ = len(columns)
    lp.num_row_ = len(repn.rows)
    lp.col_cost_ = np.asarray(repn.c.toarray()).ravel() if repn.c.shape[0] else \
        np.zeros(len(columns))
    lp.offset_ = float(repn.c_offset[0]) if len(repn.c_offset) else 0.0
    bounds = np.array([v.bounds for v in columns], dtype=float).reshape(-1, 2)  # None → nan
    lp.col_lower_ = np.nan_to_num(bounds[:, 0], nan=-INF)
    lp.col_upper_ = np.nan_to_num(bounds[:, 1], nan=INF)
    rhs = np.asarray(repn.rhs, dtype=float)
    kinds = np.array([row.bound_type for row in repn.rows], dtype=int)
    lp.row_lower_ = np.where(kinds <= 0, rhs, -INF)
    lp.row_upper_ = np.where(kinds >= 0, rhs, INF)
    a = repn.A.tocsc()
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = a.indptr
    lp.a_matrix_.index_ = a.indices
    lp.a_matrix_.value_ = a.data
    lp.a_matrix_.num_col_ = a.shape[1]
    lp.a_matrix_.num_row_ = a.shape[0]
    lp.sense_ = highspy.ObjSense.kMaximize if sense == pyo.maximize else \
        highspy.ObjSense.kMinimize
    lp.integrality_ = [highspy.HighsVarType.kInteger if i else highspy.HighsVarType.kContinuous
                       for i in integer]
    where = {}
    for var in model.component_objects(pyo.Var, active=True):
        name = var.local_name  # once per component: it is not a cheap attribute
        where.update((id(v), (name, pos)) for pos, v in enumerate(var.values()))
    row_of = {}
    for con in model.component_objects(pyo.Constraint, active=True):
        name = con.local_name
        row_of.update((id(c), name) for c in con.values())
    return Compiled(lp, columns, integer, [where[id(v)] for v in columns],
                    time.perf_counter() - started,
                    [row_of.get(id(row.constraint), "") for row in repn.rows])


def set_objective(compiled: Compiled, coefficients: dict, constant: float) -> None:
    """New objective costs (per variable position, in objective units) on a compiled model."""
    cost = np.zeros(len(compiled.columns))
    for j, (name, pos) in enumerate(compiled.positions):
        series = coefficients.get(name)
        if series is not None:
            cost[j] = series.get(pos, 0.0)
    compiled.lp.col_cost_ = cost
    compiled.lp.offset_ = constant


def solve(model: pyo.ConcreteModel, options: Solver, log: bool = False,
          sense: int = pyo.maximize) -> SolveOutcome:
    return solve_compiled(model, compile_model(model, sense), options, log)


def start_vector(compiled: Compiled, values: dict[tuple[str, object], float]) -> np.ndarray:
    """A column vector from values by (variable name, index); missing ones are 0."""
    x = np.zeros(len(compiled.columns))
    for j, ((name, _), var) in enumerate(zip(compiled.positions, compiled.columns)):
        x[j] = values.get((name, var.index()), 0.0)
    x[compiled.integer] = np.round(x[compiled.integer])
    return np.clip(x, compiled.lp.col_lower_, compiled.lp.col_upper_)


def solution_by_name(model: pyo.ConcreteModel) -> dict[tuple[str, object], float]:
    """Every variable's value by (component name, index): what start_vector reads."""
    return {(var.local_name, index): float(v.value)
            for var in model.component_objects(pyo.Var, active=True)
            for index, v in var.items() if v.value is not None}


def highs_for(compiled: Compiled, options: Solver, time_limit_s: float, gap_pct: float,
              changes: BoundChanges | None = None, log: bool = False,
              log_to: Callable[[str], None] | None = None) -> highspy.Highs:
    """A HiGHS holding the compiled model (with `changes`), set as the solver options say
    but for its time limit and gap; its log to stdout (`log`) or to `log_to` alone, from
    its first line on (so the callback is attached before the model is passed)."""
    h = highspy.Highs()
    h.setOptionValue("output_flag", bool(log))
    h.setOptionValue("log_to_console", bool(log))
    h.setOptionValue("mip_rel_gap", gap_pct / 100)
    h.setOptionValue("time_limit", float(time_limit_s))
    h.setOptionValue("threads", int(options.threads))
    h.setOptionValue("random_seed", int(options.random_seed))
    if log_to is not None:
        h.setOptionValue("output_flag", True)  # to the callback only, not to stdout
        h.cbLogging += lambda event: log_to(event.message)
    h.passModel(compiled.lp)
    if changes is not None:
        changes.apply(h)
    return h


def solve_compiled(model: pyo.ConcreteModel, compiled: Compiled, options: Solver,
                   log: bool = False, start: np.ndarray | None = None,
                   trace: SolveTrace | None = None,
                   changes: BoundChanges | None = None) -> SolveOutcome:
    """Run HiGHS on a compiled model and write the solution back into `model`'s variables.

    `start`: a plan to start from (a full column vector). HiGHS keeps it as the first
    incumbent when it is feasible; when it is not, HiGHS fixes its integer values and looks
    for the rest (an LP), and drops it if that fails — a start never changes the answer,
    only how soon a good plan is known."""
    started = time.perf_counter()
    lp, columns, integer = compiled.lp, compiled.columns, compiled.integer
    output = _OUTPUT.get() or SolverOutput()
    h = highs_for(compiled, options, options.time_limit_s, options.mip_gap_pct, changes, log,
                  log_to=None if log else output.log)
    if start is not None:
        given = highspy.HighsSolution()
        given.col_value = list(map(float, start))
        given.value_valid = True
        h.setSolution(given)
    if trace is None and integer.any():
        trace = SolveTrace()
    if trace is not None:
        if output.progress is not None and trace.listener is None:
            trace.listener = output.progress
        trace.attach(h)
    passed = time.perf_counter()
    run_interruptibly(h)
    solved = time.perf_counter()
    if trace is not None:
        trace.finish(h)

    model_status = h.getModelStatus()
    info = h.getInfo()
    has_solution = info.primal_solution_status == 2  # kSolutionStatusFeasible
    status = _status(model_status, has_solution)
    outcome = SolveOutcome(
        status=status, highs_status=h.modelStatusToString(model_status),
        npv_objective_usd=None, best_bound_usd=None, mip_gap_pct=None,
        compile_seconds=compiled.compile_seconds + passed - started,
        solve_seconds=solved - passed,
        columns=len(columns), rows=lp.num_row_, integers=int(integer.sum()), trace=trace,
        start_used=_start_was_kept(lp, start, trace, integer))
    if status in ("optimal", "feasible"):
        x = np.array(h.getSolution().col_value, dtype=float)
        x[integer] = np.round(x[integer])
        # HiGHS's round-off (1e-13 MW) depends on its path, a start changes the path; to a
        # nanounit every plan of the same optimum reads the same (and −0.0 reads 0.0)
        x[~integer] = np.round(x[~integer], 9) + 0.0
        x = np.clip(x, lp.col_lower_, lp.col_upper_)
        if changes is not None and len(changes.columns):
            x[changes.columns] = np.clip(x[changes.columns], changes.column_lower,
                                         changes.column_upper)
        for var, value in zip(columns, x):
            var.set_value(float(value), skip_validation=True)
        outcome.values = _component_values(model)
        outcome.npv_objective_usd = info.objective_function_value * USD_PER_OBJECTIVE_UNIT
        if integer.any():
            outcome.best_bound_usd = info.mip_dual_bound * USD_PER_OBJECTIVE_UNIT
            outcome.mip_gap_pct = max(0.0, info.mip_gap * 100)
        else:
            outcome.best_bound_usd = outcome.npv_objective_usd
            outcome.mip_gap_pct = 0.0
    return outcome


def _start_was_kept(lp: highspy.HighsLp, start: np.ndarray | None,
                    trace: SolveTrace | None, integer: np.ndarray) -> bool:
    """Whether HiGHS's first plan is the start: its objective, or — when HiGHS repaired the
    start (kept its whole numbers and re-solved the rest) — its whole numbers."""
    if start is None or trace is None or not trace.points:
        return False
    first = next((p.primal for p in trace.points if np.isfinite(p.primal)), None)
    value = float(np.dot(lp.col_cost_, start) + lp.offset_)
    if first is not None and abs(first - value) <= 1e-7 * max(1.0, abs(value)):
        return True
    plan = trace.first_plan
    return plan is not None and len(plan) == len(start) and bool(
        np.array_equal(np.round(np.asarray(plan)[integer]), np.round(start[integer])))


def run_interruptibly(h: highspy.Highs) -> None:
    """Run HiGHS in its worker thread so Ctrl-C reaches us; on Ctrl-C stop HiGHS cleanly and
    re-raise, so nothing is written and the caller exits with 130."""
    h.HandleUserInterrupt = True
    thread = h.startSolve()
    try:
        while thread.is_alive():
            thread.join(0.1)
    except KeyboardInterrupt:
        h.cancelSolve()
        thread.join()
        h.joinSolve()
        raise
    h.joinSolve()


def _status(model_status, has_solution: bool) -> str:
    ms = highspy.HighsModelStatus
    if model_status == ms.kOptimal:
        return "optimal"
    if model_status in (ms.kInfeasible, ms.kUnboundedOrInfeasible):
        return "infeasible"
    return "feasible" if has_solution else "no_solution"


def _component_values(model: pyo.ConcreteModel) -> dict[str, np.ndarray]:
    """Solution of every variable component, in index order; unused variables read as 0."""
    return {var.local_name: np.array([0.0 if v.value is None else v.value
                                      for v in var.values()], dtype=float)
            for var in model.component_objects(pyo.Var, active=True)}
