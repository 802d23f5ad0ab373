"""Re-planning a solved plan from a month on: what is done stays done.

`replan` takes a result folder, fixes every decision that takes effect before `--from` to
what that plan did (or to the actuals), and re-optimises the rest under the old scenario's
inputs or a new scenario's, on the same horizon. It returns the new plan's Results with two
more tables — `changes` (every decision from --from on that differs from the old plan) and
`npv_bridge` (old NPV → new NPV in additive steps) — and `summary["replan"]`.

The bridge values each stage of the way from the old plan to the new one with the same
model, every step the difference of two NPVs:

1. old NPV (summary.json of the old plan);
2. + what happened before --from: the old plan with the actuals in place, under the old
   inputs (only with --actuals);
3. + new inputs: the same plan (all its decisions fixed) under the new inputs (prices,
   permits, offers);
4. + re-optimisation: the new plan, free from --from on;
5. = new NPV.

A stage that cannot be valued (the old plan is not possible under the new inputs) is merged
into the next step, and the step says why.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd

from siteopt.inputs import Inputs, load_inputs
from siteopt.inputs.errors import InputError, Problem
from siteopt.inputs.months import label, parse_month
from siteopt.model import BuiltModel, prepare
from siteopt.replan.actuals import apply_actuals, check_ready, read_actuals
from siteopt.replan.changes import changed_decisions, fixed_part_usd
from siteopt.replan.decisions import PlanDecisions, plan_decisions
from siteopt.replan.diagnose import explain_fixed_infeasibility
from siteopt.replan.fixing import bound_changes, conflicts, with_closed_lease_options
from siteopt.results.tables import Results
from siteopt.solve import Compiled


@dataclass(frozen=True)
class PlanFixings:
    """The `Fixings` of siteopt.api: decisions fixed for one solve."""

    decisions: list
    until: int  # lease options starting before this month are closed unless taken
    where: str  # where the decisions come from, for messages

    def fixed(self, built: BuiltModel) -> list:
        """The decisions, and a 0 for every lease option before `until` not taken."""
        return with_closed_lease_options(self.decisions, built.model, self.until)

    def changes(self, built: BuiltModel, compiled: Compiled):
        fixed = self.fixed(built)
        found = conflicts(fixed, built.model, built.data, self.where)
        return (None, found) if found else (bound_changes(fixed, compiled), [])

    def diagnose(self, inputs: Inputs, built: BuiltModel, compiled: Compiled) -> list[str]:
        return explain_fixed_infeasibility(inputs, built, compiled, self.fixed(built),
                                           self.where)


def replan(result_dir: Path, from_month: str, scenario: Path | None = None,
           actuals: Path | None = None, log: bool = False,
           solver_overrides: dict | None = None) -> Results:
    """The plan in `result_dir` re-planned from `from_month` (YYYY-MM) on."""
    from siteopt.api import solve_inputs, with_solver_options
    from siteopt.export.results_folder import load_results

    old = load_results(result_dir)
    summary = old.summary
    if summary.get("status") not in ("optimal", "feasible") or not len(old.campus_month):
        raise InputError([Problem(str(result_dir), f"holds no plan to re-plan (status "
                                                   f"{summary.get('status')})")])
    if summary.get("stochastic"):
        raise InputError([Problem(str(result_dir), "holds a plan across several futures (its "
                                  "tables are expected values); re-plan one future's own "
                                  "plan instead: its folder is in scenarios/ inside, with "
                                  "--scenario naming that future's inputs")])
    old_inputs = _old_inputs(result_dir, summary, required=scenario is None)
    inputs = load_inputs(scenario) if scenario is not None else old_inputs
    if inputs.scenario.uncertainty is not None:
        raise InputError([Problem(f"scenario {inputs.scenario_path.name}: uncertainty",
                                  "a re-plan solves one future: give --scenario a scenario "
                                  "without an uncertainty section")])
    inputs = with_solver_options(inputs, **(solver_overrides or {}))
    until = _check_months(result_dir, summary, inputs, from_month, scenario)
    data = prepare(inputs)
    where = f"{result_dir} before {from_month}"
    plan = plan_decisions(old.campus_month, old.leases, old.company_month, data)
    past = plan.before(until)
    full = list(plan.decisions)
    if actuals is not None:
        frame, raw = read_actuals(actuals, data, until)
        past = apply_actuals(past, frame, data)
        full = apply_actuals(full, frame, data)
        check_ready(frame, raw, full, data)
        where = f"{result_dir} with {Path(actuals).name}, before {from_month}"
    results = solve_inputs(inputs, log=log, fixings=PlanFixings(past, until, where))
    bridge = _bridge(old, old_inputs, inputs, plan, full, actuals is not None, results, until)
    changes = changed_decisions(old, results, until, inputs) \
        if results.summary["status"] in ("optimal", "feasible") else pd.DataFrame()
    results.summary["replan"] = {
        "from": from_month, "old_result": str(result_dir),
        "old_scenario_file": summary.get("scenario_file"),
        "old_input_hash": summary.get("input_hash"),
        "old_npv_usd": summary.get("npv_usd"),
        "actuals": None if actuals is None else str(actuals),
        "fixed_decisions": len(past),
        "changed_decisions": len(changes),
        "bridge": bridge.to_dict(orient="records"),
    }
    return replace(results, extra={"changes": changes, "npv_bridge": bridge})


def _old_inputs(result_dir: Path, summary: dict, required: bool) -> Inputs | None:
    """The old plan's inputs, re-read from its scenario file when that still holds the same
    inputs (its input hash); None (or, when `required`, an error) otherwise."""
    path = summary.get("scenario_file_resolved") or summary.get("scenario_file")
    hint = "; give the scenario to re-plan with: --scenario FILE"
    if not path or not Path(path).is_file():
        if required:
            raise InputError([Problem(str(result_dir), f"was solved from {path or 'a scenario'}"
                                                       f", which is not found here{hint}")])
        return None
    try:
        inputs = load_inputs(path)
    except InputError:
        if required:
            raise
        return None
    if inputs.input_hash != summary.get("input_hash"):
        if required:
            raise InputError([Problem(str(result_dir), f"was solved from {path}, whose inputs "
                                                       f"have changed since (input hash "
                                                       f"{summary.get('input_hash')}, now "
                                                       f"{inputs.input_hash}){hint}")])
        return None
    return inputs


def _check_months(result_dir: Path, summary: dict, inputs: Inputs, from_month: str,
                  scenario: Path | None) -> int:
    """--from as a month of the horizon (both plans share its start)."""
    old_start = (summary.get("horizon") or {}).get("start")
    new = inputs.scenario.horizon
    if old_start != new.start:
        raise InputError([Problem(f"scenario {scenario}: horizon.start",
                                  f"{new.start}, but the plan in {result_dir} starts "
                                  f"{old_start}: a re-plan keeps the horizon start (the months "
                                  f"before --from are the old plan's)")])
    try:
        t = parse_month(from_month) - parse_month(new.start)
    except ValueError:
        raise InputError([Problem("--from", f"expected a month YYYY-MM, found "
                                             f"{from_month!r}")]) from None
    months = min(new.months, int((summary.get("horizon") or {}).get("months") or new.months))
    if not 0 <= t < months:
        raise InputError([Problem("--from", f"{from_month} is outside the horizon of both "
                                             f"plans ({new.start} to "
                                             f"{label(parse_month(new.start) + months - 1)})")])
    return t


def _valued(inputs: Inputs, decisions: list, horizon: int, where: str) -> tuple[float | None,
                                                                                 str]:
    """NPV of a plan with every decision fixed, under `inputs`; None and why if impossible."""
    from siteopt.api import solve_inputs

    r = solve_inputs(inputs, baseline=False, fixings=PlanFixings(decisions, horizon, where))
    if r.summary["status"] in ("optimal", "feasible"):
        return r.summary["npv_usd"], ""
    reasons = r.summary.get("diagnosis") or [f"status {r.summary['status']}"]
    return None, reasons[0]


def _bridge(old: Results, old_inputs: Inputs | None, inputs: Inputs, plan: PlanDecisions,
            full: list, with_actuals: bool, new: Results, until: int) -> pd.DataFrame:
    horizon = inputs.scenario.horizon.months
    steps = [("NPV of the old plan", old.summary["npv_usd"], "")]
    stages = []
    if with_actuals:
        if old_inputs is not None:
            value, why = _valued(old_inputs, full, horizon, "the old plan with the actuals")
        else:
            value, why = None, "the old plan's inputs are not at hand"
        stages.append(("what happened before --from (actuals)", value, why))
    if new.summary["status"] in ("optimal", "feasible"):
        value, why = _valued(inputs, full, horizon, "the old plan under the new inputs")
        stages.append(("new inputs (same decisions)", value, why))
        stages.append(("re-optimisation from --from", new.summary["npv_usd"], ""))
    previous, merged, notes = old.summary["npv_usd"], [], []
    for name, value, why in stages:
        merged.append(name)
        if why:
            notes.append(why)
        if value is None:
            continue
        steps.append((" and ".join(merged), value - previous, "; ".join(notes)))
        previous, merged, notes = value, [], []
    if new.summary["status"] in ("optimal", "feasible"):
        steps.append(("NPV of the new plan", new.summary["npv_usd"], ""))
        steps.append(("of which fixed before --from (old plan)",
                      fixed_part_usd(old.company_month, until), ""))
        steps.append(("of which fixed before --from (new plan)",
                      fixed_part_usd(new.company_month, until), ""))
    frame = pd.DataFrame(steps, columns=["step", "usd", "note"])
    frame["usd"] = frame["usd"].astype(float).round(2) + 0.0  # cents; never −0.00
    return frame
