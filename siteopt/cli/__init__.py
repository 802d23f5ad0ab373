"""Command line: argument parsing and messages only; the work is done by the API it calls.

Exit codes: 0 plan found (or input valid), 1 invalid input or infeasible scenario,
2 usage error (a scenario file that does not exist too), 3 limit reached with no plan,
130 interrupted.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click

from siteopt import __version__
from siteopt.contract import result_files_text
from siteopt.inputs.errors import InputError, Problem

EXIT_OK, EXIT_INPUT, EXIT_USAGE, EXIT_NO_SOLUTION, EXIT_INTERRUPTED = 0, 1, 2, 3, 130


def _err(text: str) -> None:
    click.echo(text, err=True)


def _quiet() -> bool:
    ctx = click.get_current_context(silent=True)
    return bool(ctx and (ctx.find_root().obj or {}).get("quiet"))


def _note(text: str) -> None:
    """What a command is doing ("Solving ...", "Results in ..."): silent with -q; problems,
    warnings and results are always shown."""
    if not _quiet():
        _err(text)


def _sentence(exc: Exception) -> str:
    text = str(exc)
    return text[:1].upper() + text[1:]


class Terminated(KeyboardInterrupt):
    """SIGTERM (`kill`, a scheduler stopping the job), handled as Ctrl-C is: HiGHS stops,
    staging is removed and the previous result stays."""


def _terminate(_signum: int, _frame: Any) -> None:
    raise Terminated()


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread() or \
            signal.getsignal(signal.SIGTERM) is signal.SIG_IGN:
        yield
        return
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


class _StderrNotes(logging.Handler):
    """What the library tells the user in passing (a repaired result folder) on stderr."""

    def emit(self, record: logging.LogRecord) -> None:
        _err(record.getMessage())


@contextlib.contextmanager
def _notes_on_stderr() -> Iterator[None]:
    """The library's log on stderr at the level -v/-q chose (warnings by default)."""
    ctx = click.get_current_context(silent=True)
    level = (ctx.find_root().obj or {}).get("log_level", logging.WARNING) if ctx else \
        logging.WARNING
    logger, handler = logging.getLogger("siteopt"), _StderrNotes(level)
    previous = logger.level
    logger.setLevel(min(level, logger.getEffectiveLevel()))
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)


def _guard(func: Callable[..., Any]) -> Callable[..., Any]:
    """Turn input problems, write failures and interrupts (Ctrl-C, SIGTERM) into messages
    and exit codes, never tracebacks."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            with _sigterm_as_interrupt(), _notes_on_stderr():
                return func(*args, **kwargs)
        except InputError as exc:
            count = len(exc.problems)
            title = getattr(exc, "title", "Invalid input")
            _err(f"{title} ({count} problem{'s' if count != 1 else ''}):")
            for problem in exc.problems:
                _err(f"  {problem}")
            sys.exit(EXIT_INPUT)
        except KeyboardInterrupt as exc:
            how = " (SIGTERM)" if isinstance(exc, Terminated) else ""
            written = getattr(exc, "written", None)
            if written is not None:
                _err(f"Interrupted{how} after the new results were written to {written}/.")
            else:
                _err(f"Interrupted{how}; previous results are unchanged.")
            sys.exit(EXIT_INTERRUPTED)
        except OSError as exc:  # a WriteError from the writers, or a file that cannot be read
            from siteopt.export.files import WriteError, reason

            _err(_sentence(exc) if isinstance(exc, WriteError) else
                 f"Cannot access {exc.filename or 'a file'}: {reason(exc)}")
            sys.exit(EXIT_INPUT)

    return wrapper


def _futures_count(uncertainty) -> str:
    """'3', '200' or '3 + 200 sampled' (paths: '+ the paths file's')."""
    drawn = [f"{uncertainty.sample.count} sampled"] if uncertainty.sample else []
    drawn += ["those of " + uncertainty.paths] if uncertainty.paths else []
    listed = [str(len(uncertainty.scenarios))] if uncertainty.scenarios else []
    return " + ".join(listed + drawn)


def _warn(warnings: tuple[str, ...]) -> None:
    for warning in warnings:
        _err(f"warning: {warning}")


def _existing_scenario(_ctx: click.Context, _param: click.Parameter,
                       value: Path | None) -> Path | None:
    """A scenario file that does not exist is a usage error (exit 2), as a mistyped option
    is; the files it names (portfolio, market.paths, extends) are input errors (exit 1)."""
    if value is None or value.exists() or value.is_symlink():
        return value
    from siteopt.inputs.errors import not_found

    raise click.BadParameter(f"scenario {value.name}: {not_found(value, 'file not found')}")


def _solver_log_target(_ctx: click.Context, _param: click.Parameter,
                       value: str | None) -> str | None:
    from siteopt.cli.solver_output import check_log_target

    try:
        return check_log_target(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


SCENARIO = click.argument("scenario", type=click.Path(path_type=Path, dir_okay=False),
                          callback=_existing_scenario)
MIP_GAP = click.option("--mip-gap-pct", type=click.FloatRange(min=0, max=100),
                       help="Stop at this relative MIP gap (%), overriding the scenario.")
TIME_LIMIT = click.option("--time-limit", "time_limit_s",
                          type=click.FloatRange(min=0, min_open=True),
                          help="Seconds HiGHS may run, overriding the scenario.")
PORTFOLIO = click.option(
    "--portfolio", type=click.Path(path_type=Path),
    help="Portfolio folder or .xlsx to use instead of the scenario's (may be outside the "
         "project).")


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="siteopt")
@click.option("-v", "--verbose", count=True,
              help="Say more on stderr: -v what siteopt does (INFO), -vv details (DEBUG).")
@click.option("-q", "--quiet", is_flag=True,
              help="Only problems, warnings and results: no progress or notes on stderr.")
@click.pass_context
def main(ctx: click.Context, verbose: int, quiet: bool) -> None:
    """Plan which mining campuses to convert to AI/HPC colocation, when, and for which tenant.

    \b
    Example:
      siteopt validate scenarios/base.yaml
      siteopt solve scenarios/base.yaml -o out/base

    Exit codes: 0 plan found / input valid, 1 invalid input or infeasible,
    2 usage error (or no such scenario file), 3 limit reached with no plan, 130 interrupted.
    """
    if verbose and quiet:
        raise click.UsageError("-v and -q contradict each other: give one of them")
    ctx.obj = {"quiet": quiet, "log_level": logging.ERROR if quiet else
               (logging.WARNING, logging.INFO, logging.DEBUG)[min(verbose, 2)]}


@main.command()
@SCENARIO
@PORTFOLIO
@_guard
def validate(scenario: Path, portfolio: Path | None) -> None:
    """Check a scenario and its portfolio; report every problem with its location.

    \b
    Example:
      siteopt validate scenarios/base.yaml
    """
    from siteopt.inputs import load_inputs

    inputs = load_inputs(scenario, portfolio)
    _warn(inputs.warnings)
    futures = ""
    if inputs.scenario.uncertainty is not None:
        from siteopt.stochastic.futures import future_inputs

        futures = f", {len(future_inputs(inputs))} futures"
    click.echo(f"{scenario}: valid — {len(inputs.campuses)} campuses, {len(inputs.offers)} "
               f"offers, {inputs.scenario.horizon.months} months from "
               f"{inputs.scenario.horizon.start}{futures} (input hash {inputs.input_hash})")


@main.command()
@SCENARIO
@click.option("--yearly", is_flag=True, help="One row per calendar year (averages).")
@click.option("--csv", "as_csv", is_flag=True, help="Write CSV to stdout instead of a table.")
@_guard
def hashprice(scenario: Path, yearly: bool, as_csv: bool) -> None:
    """Print the market path: BTC price, network EH/s, subsidy, hashprice and each campus's
    mining margin per MW-month.

    \b
    Example:
      siteopt hashprice scenarios/base.yaml --yearly
    """
    from siteopt.export.terminal import hashprice_table, print_frame
    from siteopt.inputs import load_inputs

    inputs = load_inputs(scenario)
    _warn(inputs.warnings)
    frame = hashprice_table(inputs, yearly=yearly)
    if as_csv:
        click.echo(frame.to_csv(index=False, float_format="%.2f"), nl=False)
    else:
        print_frame(frame, title=f"Market path — {inputs.scenario.name}")


@main.command()
@click.option("--format", "fmt", type=click.Choice(["markdown", "json"]), default="markdown",
              show_default=True)
def schema(fmt: str) -> None:
    """Print the input contract: every table column and scenario key with unit and meaning.

    \b
    Example:
      siteopt schema > docs/inputs.md
    """
    from siteopt.inputs.schema_docs import schema_json, schema_markdown

    click.echo(schema_markdown() if fmt == "markdown" else json.dumps(schema_json(), indent=2),
               nl=fmt != "markdown")


@main.command()
@SCENARIO
@click.option("-o", "--outdir", type=click.Path(path_type=Path, file_okay=False),
              help="Result folder [default: out/<scenario name>].")
@MIP_GAP
@TIME_LIMIT
@click.option("--threads", type=click.IntRange(min=1), help="HiGHS threads.")
@click.option("--json", "as_json", is_flag=True, help="Print summary.json to stdout.")
@click.option("--no-workbook", is_flag=True, help="Skip plan.xlsx.")
@click.option("--expected-value", is_flag=True,
              help="With an uncertainty section: solve the single average future instead "
                   "(numbers averaged by probability, other values at their most probable).")
@click.option("--solver-log", metavar="-|NAME.log", callback=_solver_log_target,
              help="HiGHS's log: - for stderr, or a file name written into OUTDIR with the "
                   "results (e.g. highs.log).")
@click.option("--decompose", is_flag=True,
              help="With an uncertainty section: progressive hedging over MPI (mpi-sppy) "
                   "instead of the extensive form; stops at the MIP gap or the time limit. "
                   "Needs pip install 'siteopt[mpi]'.")
@click.option("--ranks", type=click.IntRange(min=3), default=3, show_default=True,
              help="With --decompose: MPI ranks to launch (a multiple of 3); ignored when "
                   "siteopt is already started by mpiexec/srun.")
@PORTFOLIO
@_guard
def solve(scenario: Path, outdir: Path | None, mip_gap_pct: float | None,
          time_limit_s: float | None, threads: int | None, as_json: bool,
          no_workbook: bool, expected_value: bool, solver_log: str | None,
          decompose: bool, ranks: int, portfolio: Path | None) -> None:
    """Solve a scenario: which MW mine, which convert when, which offers to sign.

    Writes to OUTDIR: {result_files}.

    On a terminal a long MIP prints its progress every few seconds (best plan, bound, gap,
    elapsed) unless -q.

    \b
    Example:
      siteopt solve scenarios/base.yaml -o out/base --mip-gap-pct 0.5
    """
    from siteopt.api import expected_value_scenario, solve_inputs, with_solver_options
    from siteopt.export.results_folder import check_outdir
    from siteopt.export.terminal import print_plan
    from siteopt.inputs import load_inputs

    inputs = with_solver_options(load_inputs(scenario, portfolio), mip_gap_pct=mip_gap_pct,
                                 time_limit_s=time_limit_s, threads=threads)
    _warn(inputs.warnings)
    uncertainty = inputs.scenario.uncertainty
    if expected_value:
        inputs = expected_value_scenario(inputs)
    if decompose and (expected_value or uncertainty is None):
        raise click.UsageError("--decompose solves a scenario with an uncertainty section "
                               "(and not with --expected-value)")
    outdir = outdir or Path("out") / inputs.scenario.name
    check_outdir(outdir)  # before minutes of solving: may it be replaced, can it be written?
    futures = "" if expected_value or uncertainty is None else \
        (f", {_futures_count(uncertainty)} futures, committing the first "
         f"{uncertainty.commit_months} month{'s' if uncertainty.commit_months != 1 else ''}")
    _note(f"Solving {inputs.scenario.name} ({len(inputs.campuses)} campuses, "
          f"{len(inputs.offers)} offers, {inputs.scenario.horizon.months} months{futures})...")
    from siteopt.cli.solver_output import SolverLog, solver_talk

    log = SolverLog(solver_log) if solver_log else None
    with solver_talk(log, _quiet()):
        if decompose:
            results = _decomposed(inputs, scenario, portfolio, ranks, mip_gap_pct=mip_gap_pct,
                                  time_limit_s=time_limit_s, threads=threads)
            if results is None:
                return  # one MPI rank of several: rank 0 writes the results
        else:
            results = _explain_declines(inputs, solve_inputs(inputs))
    _write_run(results, outdir, no_workbook, as_json, f"Scenario {inputs.scenario.name} is "
                                                      f"infeasible: no plan meets every "
                                                      f"requirement.", log)
    print_plan(results)
    workbook = "" if no_workbook else f" (the workbook for people: {outdir / 'plan.xlsx'})"
    _note(f"Results in {outdir}/{workbook}")


def _explain_declines(inputs: Any, results: Any) -> Any:
    """Offers declined for no reason the tables show: solved again with each forced in, so
    the narrative can say how much worse the plan is with it (siteopt.api.explain_declines)."""
    from siteopt.api import declines_to_force_in, explain_declines

    unexplained = declines_to_force_in(results)
    if unexplained:
        _note(f"Solving the plan with {', '.join(unexplained)} forced in, to say why "
              f"{'it is' if len(unexplained) == 1 else 'they are'} declined...")
    return explain_declines(inputs, results) if unexplained else results


def _decomposed(inputs: Any, scenario: Path, portfolio: Path | None, ranks: int,
                **solver_overrides: Any) -> Any:
    """The stochastic plan by decomposition (siteopt.stochastic.decompose); None on the MPI
    ranks other than 0. Without MPI: a message naming the extra to install, exit 2."""
    from siteopt.stochastic.decompose import (
        STOP_REASONS,
        Decomposition,
        MpiUnavailable,
        incumbent,
        solve_decomposed,
    )

    try:
        found = incumbent(inputs, scenario, portfolio, solver_overrides,
                          Decomposition(ranks=ranks), quiet=_quiet())
    except MpiUnavailable as exc:
        _err(f"Cannot decompose: {exc}.")
        sys.exit(EXIT_USAGE)
    if found is None:
        return None
    results = solve_decomposed(inputs, found)
    run = results.summary.get("stochastic", {}).get("decomposition")
    if run:
        def musd(usd: float | None) -> str:
            return "—" if usd is None else f"{usd / 1e6:,.1f} M USD"

        gap = "—" if run["gap_pct"] is None else f"{run['gap_pct']:.2f} %"
        stopped = STOP_REASONS.get(run.get("stop_reason"), "stopped")
        _note(f"Decomposition: {run['iterations']} PH iterations on {run['ranks']} ranks in "
              f"{run['seconds']:.0f} s ({stopped}); incumbent objective "
              f"{musd(run['incumbent_objective_usd'])}, outer bound "
              f"{musd(run['outer_bound_usd'])}, gap {gap}; expected NPV "
              f"{musd(results.summary['stochastic']['expected_npv_usd'])}.")
    return results


# the list of files comes from the output contract, so the help cannot fall behind the writers
solve.help = (solve.help or "").replace("{result_files}", result_files_text())


def _write_run(results: Any, outdir: Path, no_workbook: bool, as_json: bool,
               infeasible: str, log: Any = None) -> None:
    """Write a run's result folder and say how it ended; returns only when it has a plan.
    Without a plan (a limit reached) nothing is written (exit 3); an infeasible run is
    written with its diagnosis (exit 1); a failed write leaves the previous run (exit 1)."""
    from siteopt.export.files import WriteError
    from siteopt.export.results_folder import write_results
    from siteopt.export.swap import FolderBusy

    status = results.summary["status"]
    if status == "no_solution":
        _err("No plan found within the limits (time limit too short?); nothing was written.")
        if log is not None and log.path is not None:
            _err(f"HiGHS's log: {log.path}")
        sys.exit(EXIT_NO_SOLUTION)
    try:
        write_results(results, outdir, workbook=not no_workbook)
        if log is not None:
            log.place(outdir)
    except FolderBusy:
        raise
    except WriteError as exc:
        _err(f"{_sentence(exc)}; the previous results in {outdir} are unchanged.")
        sys.exit(EXIT_INPUT)
    if as_json:
        click.echo((outdir / "summary.json").read_text(encoding="utf-8"), nl=False)
    if status == "infeasible":
        _err(infeasible)
        for line in results.summary.get("diagnosis", []):
            _err(f"  {line}")
        sys.exit(EXIT_INPUT)


@main.command()
@click.argument("result_dir", type=click.Path(path_type=Path, file_okay=False))
@click.option("--from", "from_month", required=True, metavar="YYYY-MM",
              help="First month to re-plan; decisions before it stay as they were.")
@click.option("--scenario", type=click.Path(path_type=Path, dir_okay=False),
              help="New scenario (same horizon start) [default: the plan's own scenario].")
@click.option("--actuals", type=click.Path(path_type=Path, dir_okay=False),
              help="actuals.csv: what really happened per campus and month before --from.")
@click.option("-o", "--outdir", type=click.Path(path_type=Path, file_okay=False),
              required=True, help="Result folder of the new plan (never RESULT_DIR itself).")
@MIP_GAP
@TIME_LIMIT
@click.option("--json", "as_json", is_flag=True, help="Print summary.json to stdout.")
@click.option("--no-workbook", is_flag=True, help="Skip plan.xlsx.")
@_guard
def replan(result_dir: Path, from_month: str, scenario: Path | None, actuals: Path | None,
           outdir: Path, mip_gap_pct: float | None, time_limit_s: float | None,
           as_json: bool, no_workbook: bool) -> None:
    """Re-plan a solved plan from a month on, keeping what it did before that month.

    Fixes every decision that takes effect before --from (blocks started, leases started,
    miners sold, mining, debt drawn, BTC sold) to what RESULT_DIR's plan did (or to
    --actuals), and re-optimises the rest under the plan's own scenario or --scenario.
    Writes a normal result folder plus changes.csv (every decision from --from on that
    differs) and npv_bridge.csv (old NPV → new NPV), also in plan.xlsx ("What changed").

    \b
    Example:
      siteopt replan out/base --from 2027-07 --scenario scenarios/bear-btc.yaml -o out/replan
    """
    from siteopt.export.results_folder import check_outdir
    from siteopt.export.terminal import print_plan
    from siteopt.replan import replan as replan_plan

    if outdir.resolve() == result_dir.resolve():
        raise InputError([Problem("-o", f"{outdir} is the plan being re-planned: write the "
                                        f"new plan to another folder")])
    check_outdir(outdir)
    _note(f"Re-planning {result_dir} from {from_month}"
          + (f" with {scenario}" if scenario else "") + "...")
    overrides = {"mip_gap_pct": mip_gap_pct, "time_limit_s": time_limit_s}
    results = replan_plan(result_dir, from_month, scenario, actuals, solver_overrides=overrides)
    _write_run(results, outdir, no_workbook, as_json,
               f"The re-plan from {from_month} is infeasible:")
    print_plan(results)
    for step in results.summary["replan"]["bridge"]:
        _err(f"  {step['step']:<52} {step['usd'] / 1e6:>14,.1f} M USD")
        if step["note"]:  # why a stage could not be valued; whole in npv_bridge.csv
            note = step["note"] if len(step["note"]) <= 200 else step["note"][:199] + "…"
            _err(f"      ({note})")
    _err(f"{results.summary['replan']['changed_decisions']} decisions changed from "
         f"{from_month} (changes.csv). Results in {outdir}/")


# Defaults of the library (overrides.MAX_VARIANTS, batch.WORKER_TIMEOUT_S), written out so
# that `siteopt --help` need not import pandas; a test keeps them equal.
MAX_VARIANTS, WORKER_TIMEOUT_S = 1000, 120.0


def _scheduler_address(_ctx: click.Context, _param: click.Parameter,
                       value: str | None) -> str | None:
    """A malformed address is a usage error at once (Dask took 40 s to give up on one)."""
    from siteopt.runs.batch import check_scheduler_address

    if value is None:
        return None
    try:
        return check_scheduler_address(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


BATCH_OPTIONS = [
    click.option("--workers", type=click.IntRange(min=1),
                 help="Local worker processes [default: one per core]."),
    click.option("--scheduler", metavar="ADDRESS", callback=_scheduler_address,
                 help="Send the scenarios to an existing Dask cluster (tcp://host:8786; "
                      "schemes tcp, tls, ucx, inproc)."),
    click.option("--worker-timeout", "worker_timeout_s", type=click.FloatRange(min=0,
                 min_open=True), default=WORKER_TIMEOUT_S, show_default=True,
                 help="With --scheduler: seconds to wait while the cluster has no worker "
                      "before giving up the scenarios not yet run."),
    click.option("--resume", is_flag=True,
                 help="Skip scenarios whose folder holds a finished run of the same inputs."),
    click.option("--fail-fast", is_flag=True, help="Stop at the first scenario that fails."),
    click.option("--json", "as_json", is_flag=True,
                 help="Print one JSON line per scenario as it finishes."),
]


def _batch_options(func: Callable[..., Any]) -> Callable[..., Any]:
    for option in reversed(BATCH_OPTIONS):
        func = option(func)
    return func


@main.command()
@click.argument("scenarios", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("-o", "--outdir", required=True, type=click.Path(path_type=Path, file_okay=False),
              help="Folder for one result folder per scenario, batch.csv and comparison.xlsx.")
@_batch_options
@click.option("--no-workbook", is_flag=True, help="Skip each scenario's plan.xlsx.")
@_guard
def batch(scenarios: tuple[Path, ...], outdir: Path, workers: int | None,
          scheduler: str | None, worker_timeout_s: float, resume: bool, fail_fast: bool,
          as_json: bool, no_workbook: bool) -> None:
    """Solve many scenarios (files or folders of .yaml) on worker processes or a Dask cluster.

    Each scenario goes to OUTDIR/<name>/ (the files of `solve`); OUTDIR/batch.csv has one row
    per scenario (status, NPV, gap, times, error) and OUTDIR/comparison.xlsx puts the solved
    ones side by side. Exit code 0 only when every scenario solved. A worker process that
    dies (out of memory) fails only its own scenario; a Dask cluster without workers for
    --worker-timeout seconds gives up the scenarios not yet run.

    \b
    Example:
      siteopt batch scenarios/ -o out/batch --workers 2
      siteopt batch scenarios/base.yaml scenarios/bear-btc.yaml -o out/b --scheduler tcp://10.0.0.5:8786
    """
    from siteopt.cli.progress import run_and_report
    from siteopt.runs.batch import plan_tasks, scenario_files

    tasks = plan_tasks(scenario_files(scenarios), outdir, workbook=not no_workbook)
    table = run_and_report(tasks, outdir, workers, scheduler, fail_fast, resume, as_json,
                           worker_timeout_s)
    _print_batch(table, as_json)
    if (~table["status"].isin(["optimal", "feasible"])).any():
        sys.exit(EXIT_INPUT)


# More solved runs than this: the terminal gets the KPI table only (comparison.xlsx has all)
DECISIONS_SHOWN_UP_TO = 30


def _print_batch(table: Any, as_json: bool) -> None:
    """The solved runs' KPIs and the decisions that differ (stderr with --json, whose stdout
    is one JSON line per run)."""
    from siteopt.export.comparison import labels
    from siteopt.export.decision_diff import kpi_frame
    from siteopt.export.result_checks import UnreadableResults
    from siteopt.export.results_folder import load_results
    from siteopt.export.terminal import print_comparison, print_frame

    solved = table[table["status"].isin(["optimal", "feasible"])]
    try:
        plans = [load_results(Path(p)) for p in solved["outdir"]]
    except UnreadableResults:
        return  # the runs are reported in batch.csv; nothing more to show
    if len(plans) < 2:
        return
    names = labels(plans)
    if len(plans) > DECISIONS_SHOWN_UP_TO:
        print_frame(kpi_frame(plans, names), "Scenarios side by side (USD m)", places=1,
                    stderr=as_json)
    else:
        print_comparison(plans, names, stderr=as_json)


@main.command()
@SCENARIO
@click.option("--vary", "specs", multiple=True, required=True, metavar="KEY=VALUES",
              help="A scenario key or table column and its values: start:stop:step, or a "
                   "list of *x (scale), +x (shift), =x or x (set); one row: "
                   "campuses[ID].column. Repeat for more inputs.")
@click.option("--grid", "mode", flag_value="grid", help="Every combination of the values.")
@click.option("--one-at-a-time", "mode", flag_value="one", default=True,
              help="Each value alone around the base (default).")
@click.option("-o", "--outdir", type=click.Path(path_type=Path, file_okay=False),
              help="Folder for the runs, batch.csv and sweep.xlsx [default: out/sweep-<name>].")
@click.option("--max-variants", type=click.IntRange(min=1), default=MAX_VARIANTS,
              show_default=True,
              help="Refuse a sweep of more variants than this (counted before any is made).")
@_batch_options
@click.option("--no-workbook", is_flag=True,
              help="Skip sweep.xlsx (the variants' folders never hold a plan.xlsx); batch.csv "
                   "and comparison.xlsx are still written.")
@_guard
def sweep(scenario: Path, specs: tuple[str, ...], mode: str, outdir: Path | None,
          max_variants: int, workers: int | None, scheduler: str | None,
          worker_timeout_s: float, resume: bool, fail_fast: bool, as_json: bool,
          no_workbook: bool) -> None:
    """Sensitivity of NPV to inputs: generate variants, solve them, chart them.

    Writes a tornado chart of NPV per input (one at a time) or the grid table into
    OUTDIR/sweep.xlsx, plus every run's folder and batch.csv. The variants (the sum of the
    values given, or their product with --grid) are counted first and refused above
    --max-variants; every variant is checked before any is solved.

    \b
    Example:
      siteopt sweep scenarios/base.yaml --vary market.btc_price_usd=50000:150000:25000 \\
          --vary campuses.capex_usd_per_it_mw=*0.8,*1.0,*1.2
      siteopt sweep scenarios/base.yaml --vary campuses[TX-ROCK].build_months=+6 --grid
    """
    from siteopt.export.sweep_workbook import write_sweep_workbook
    from siteopt.inputs import load_inputs
    from siteopt.runs.sweep import check_variants, grid_table, sweep_tasks, tornado

    base_inputs = load_inputs(scenario)
    name = base_inputs.scenario.name
    outdir = outdir or Path("out") / f"sweep-{name}"
    tasks = sweep_tasks(scenario, list(specs), outdir, grid=mode == "grid",
                        max_variants=max_variants)
    check_variants(tasks[1:])
    from siteopt.cli.progress import run_and_report

    table = run_and_report(tasks, outdir, workers, scheduler, fail_fast, resume, as_json,
                           worker_timeout_s)
    if not no_workbook:
        rows = table.to_dict("records")
        write_sweep_workbook(outdir / "sweep.xlsx", name,
                             tornado(rows, tasks, base_inputs) if mode != "grid" else None,
                             grid_table(rows), table)
        _note(f"Sweep workbook: {outdir / 'sweep.xlsx'}")
    if (~table["status"].isin(["optimal", "feasible"])).any():
        sys.exit(EXIT_INPUT)


@main.command()
@click.option("--sizes", default="S,M,L,XL", show_default=True,
              help="Comma-separated sizes: S (5 campuses, 60 months, 5 offers), M (20, 120, "
                   "20), L (60, 120, 60), XL (150, 180, 150).")
@click.option("--seeds", type=click.IntRange(min=1), default=3, show_default=True,
              help="Portfolios per size (seeds 1..N); the table shows median and range.")
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False),
              default=Path("bench_results.csv"), show_default=True,
              help="CSV with one row per run; the batch rows go to <name>-batch.csv.")
@click.option("--time-limit", "time_limit_s", type=click.FloatRange(min=0, min_open=True),
              default=120.0, show_default=True, help="Seconds HiGHS may run per solve.")
@click.option("--mip-gap-pct", type=click.FloatRange(min=0, max=100), default=1.0,
              show_default=True, help="Relative MIP gap (%) to stop at.")
@click.option("--batch", "batch_count", type=click.IntRange(min=0), default=16,
              show_default=True,
              help="Base-size scenarios solved one after another and in parallel (0 = skip).")
@click.option("--workers", type=click.IntRange(min=1), default=2, show_default=True,
              help="Worker processes of the batch measurement.")
@click.option("--batch-repeats", type=click.IntRange(min=1), default=3, show_default=True,
              help="Times the batch is measured (one-worker and parallel alternate).")
@click.option("--no-workbook", is_flag=True, help="Do not write (and time) plan.xlsx.")
@click.option("--profile", "profile_dir", type=click.Path(path_type=Path, file_okay=False),
              help="Write a cProfile dump of every run into this folder (slows runs).")
@click.option("--wait-idle", "wait_idle_s", type=click.FloatRange(min=0), default=0.0,
              show_default=True,
              help="Before each run wait up to this many seconds for other processes to "
                   "leave the CPUs idle (busy machines distort timings).")
@click.option("--variants", default="plan", show_default=True,
              help="Comma-separated: plan (as generated) and/or funded (the finance of "
                   "scenarios/funded.yaml scaled to the portfolio: cash floor, BTC treasury, "
                   "project debt, capex budget).")
@click.option("--futures", "futures_spec", metavar="N1,N2,...",
              help="Also plan each variant across N seeded futures (an uncertainty section; "
                   "the extensive form is timed without its measures), e.g. 1,5,10,20.")
@click.option("--compare", "compare_spec", metavar="KEY=V1,V2,...",
              help="Solve every portfolio once per value of a solver key, side by side "
                   "(e.g. finance_start=true,false); prints each one's ratio to the first.")
@click.option("--decompose", "with_decompose", is_flag=True,
              help="With --futures: solve each portfolio by the extensive form and by "
                   "decomposition (solve --decompose, 3 MPI ranks), side by side.")
@_guard
def bench(sizes: str, seeds: int, output: Path, time_limit_s: float, mip_gap_pct: float,
          batch_count: int, workers: int, batch_repeats: int, no_workbook: bool,
          profile_dir: Path | None, wait_idle_s: float, variants: str,
          futures_spec: str | None, compare_spec: str | None, with_decompose: bool) -> None:
    """Benchmark build, HiGHS, extract and write times on synthetic portfolios.

    Each size and seed is a seeded synthetic portfolio written as CSV and solved (plan only,
    HiGHS on one thread) in a fresh process, so its peak memory is its own. Prints median
    [min–max] per size and writes every run to OUTPUT.

    \b
    Example:
      siteopt bench --sizes S,M,L --seeds 3 -o bench_results.csv
      siteopt bench --sizes S --seeds 1 --batch 0
      siteopt bench --sizes S,M --variants funded --compare finance_start=true,false --batch 0
    """
    from siteopt.runs import bench as b
    from siteopt.runs.bench.synthetic import VARIANTS

    chosen_variants = tuple(v.strip() for v in variants.split(",") if v.strip())
    if not chosen_variants or any(v not in VARIANTS for v in chosen_variants):
        raise click.BadParameter(f"choose from {', '.join(VARIANTS)} (found {variants!r})",
                                 param_hint="--variants")
    if futures_spec:
        try:
            counts = [int(n) for n in futures_spec.split(",") if n.strip()]
        except ValueError:
            counts = []
        if not counts or any(not 1 <= n <= 200 for n in counts):
            raise click.BadParameter(f"expected whole numbers 1-200 separated by commas "
                                     f"(found {futures_spec!r})", param_hint="--futures")
        chosen_variants = tuple(f"{v}@{n}" for v in chosen_variants for n in counts)
    candidates = _bench_candidates(compare_spec)
    if with_decompose:
        if not futures_spec or candidates:
            raise click.UsageError("--decompose compares the extensive form and the "
                                   "decomposition: give --futures, without --compare")
        candidates = {"extensive form": {}, b.DECOMPOSE: {b.DECOMPOSE: True}}

    chosen = [s.strip().upper() for s in sizes.split(",") if s.strip()]
    unknown = [s for s in chosen if s not in b.SIZES]
    if unknown or not chosen:
        raise click.BadParameter(f"unknown size {', '.join(unknown) or '(none)'}; choose from "
                                 f"{', '.join(b.SIZES)}", param_hint="--sizes")
    if profile_dir is not None:
        profile_dir.mkdir(parents=True, exist_ok=True)

    finished: list[dict[str, Any]] = []

    def progress(row: dict[str, Any]) -> None:
        what = " ".join(str(x) for x in (row["size"], row.get("variant"), row.get("candidate"))
                        if x and x != "plan")
        gap = row.get("mip_gap_pct")
        _err(f"  {what} seed {row['seed']}: {row['status']}"
             f"{'' if gap is None else f' (gap {gap:.2f} %)'}, total "
             f"{row.get('total_s') or 0:.1f} s (HiGHS {row.get('highs_s') or 0:.1f} s), "
             f"peak {row.get('peak_mb') or 0:.0f} MB, other load "
             f"{row.get('others_cores') or 0:.1f} cores {row.get('error') or ''}".rstrip())
        finished.append(row)  # written as it comes: a run stopped halfway keeps its rows
        b.write_rows(finished, output, b.RUN_COLUMNS)

    _note(f"Benchmark: sizes {', '.join(chosen)}, {seeds} seed(s) each, time limit "
          f"{time_limit_s:g} s, gap {mip_gap_pct:g} %")
    rows = b.bench_sizes(chosen, seeds, time_limit_s, mip_gap_pct, workbook=not no_workbook,
                         profile_dir=profile_dir, wait_idle_s=wait_idle_s, on_row=progress,
                         variants=chosen_variants, candidates=candidates)
    b.write_rows(rows, output, b.RUN_COLUMNS)
    batch_rows = None
    if batch_count:
        _note(f"Batch: {batch_count} base-size scenarios on 1 and {workers} worker(s), "
              f"{batch_repeats} time(s)...")
        batch_rows = b.bench_batch(batch_count, workers, time_limit_s, mip_gap_pct,
                                   workbook=not no_workbook, wait_idle_s=wait_idle_s,
                                   repeats=batch_repeats)
        b.write_rows(batch_rows, output.with_name(f"{output.stem}-batch.csv"), b.BATCH_COLUMNS)
    b.print_summary(rows, batch_rows)
    _err(f"Runs in {output}")


def _bench_candidates(spec: str | None) -> dict[str, dict[str, Any]] | None:
    """--compare KEY=V1,V2 as {label: {key: value}}; the key must be a solver setting."""
    if not spec:
        return None
    from siteopt.inputs.schema import Solver

    key, _, values = spec.partition("=")
    key = key.strip().removeprefix("solver.")
    if key not in Solver.model_fields or not values.strip():
        raise click.BadParameter(f"expected KEY=V1,V2 with KEY one of "
                                 f"{', '.join(Solver.model_fields)} (found {spec!r})",
                                 param_hint="--compare")

    def value(text: str) -> Any:
        lowered = text.strip().lower()
        if lowered in ("true", "false"):
            return lowered == "true"
        try:
            return float(text) if "." in text or "e" in lowered else int(text)
        except ValueError:
            return text.strip()

    return {f"{key}={v.strip()}": {key: value(v)} for v in values.split(",") if v.strip()}


def _write_or_exit(write: Callable[[], Any], target: Path) -> None:
    """Run a workbook writer; a file held open or an unwritable folder is one line."""
    from siteopt.export.files import WriteError, reason

    try:
        write()
    except WriteError as exc:
        _err(_sentence(exc))
        sys.exit(EXIT_INPUT)
    except OSError as exc:
        _err(f"Cannot write {target}: {reason(exc)}")
        sys.exit(EXIT_INPUT)


def _note_unsolved(outdir: Path, summary: dict[str, Any]) -> None:
    status = summary.get("status")
    if status not in ("optimal", "feasible"):
        _err(f"note: {outdir} holds a run without a plan (status {status}); its workbook "
             "shows the diagnosis only")


@main.command()
@click.argument("outdir", type=click.Path(path_type=Path, file_okay=False))
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False),
              help="Workbook to write (.xlsx; never a file of a result folder, nor a file "
                   "siteopt did not write) [default: OUTDIR/plan.xlsx].")
@_guard
def report(outdir: Path, output: Path | None) -> None:
    """Rebuild the plan workbook from a result folder, without solving.

    \b
    Example:
      siteopt report out/base
      siteopt report out/base -o board/base-plan.xlsx
    """
    from siteopt.export import swap
    from siteopt.export.results_folder import load_results
    from siteopt.export.targets import check_workbook_target
    from siteopt.export.workbook import write_plan_workbook

    results = load_results(outdir)
    target = output or outdir / "plan.xlsx"
    check_workbook_target(target, own_folder=outdir)
    _note_unsolved(outdir, results.summary)
    if target.resolve().parent == outdir.resolve():  # into the folder: not during a swap
        def write() -> None:
            with swap.folder_lock(outdir):
                write_plan_workbook(results, target)
    else:
        def write() -> None:
            write_plan_workbook(results, target)
    _write_or_exit(write, target)
    _note(f"Wrote {target}")


@main.command()
@click.argument("outdirs", nargs=-1, required=True,
                type=click.Path(path_type=Path, file_okay=False))
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False),
              default=Path("comparison.xlsx"), show_default=True,
              help="Workbook to write (.xlsx; never inside a result folder, nor over a file "
                   "siteopt did not write).")
@_guard
def compare(outdirs: tuple[Path, ...], output: Path) -> None:
    """Put solved scenarios side by side: KPIs, MW and capex by year, NPV chart and the
    inputs that differ. The first result folder is the baseline.

    \b
    Example:
      siteopt compare out/base out/bear-btc out/spec-build -o comparison.xlsx
    """
    from siteopt.export.comparison import write_comparison
    from siteopt.export.targets import check_workbook_target

    check_workbook_target(output)
    results = _load_all(outdirs)
    for outdir, r in zip(outdirs, results):
        _note_unsolved(outdir, r.summary)
    _write_or_exit(lambda: write_comparison(results, output), output)
    from siteopt.export.comparison import labels
    from siteopt.export.terminal import print_comparison

    print_comparison(results, labels(results))
    _note(f"Wrote {output} ({len(results)} scenarios, baseline {outdirs[0]})")


def _load_all(outdirs: tuple[Path, ...]) -> list[Any]:
    """Every folder read; the problems of all of them reported together."""
    from siteopt.export.result_checks import UnreadableResults
    from siteopt.export.results_folder import load_results

    results, problems = [], []
    for outdir in outdirs:
        try:
            results.append(load_results(outdir))
        except UnreadableResults as exc:
            problems += exc.problems
    if problems:
        raise UnreadableResults(problems)
    return results


@main.command()
@click.argument("folder", type=click.Path(path_type=Path, file_okay=False))
@click.option("--excel", is_flag=True,
              help="Portfolio as one portfolio.xlsx (README sheet, drop-downs, checked "
                   "ranges) instead of a folder of CSV files.")
@click.option("--force", is_flag=True, help="Overwrite files that already exist.")
@_guard
def init(folder: Path, excel: bool, force: bool) -> None:
    """Start a project: a scenario YAML with every key explained and the example portfolio.

    \b
    Example:
      siteopt init my-campuses --excel
      siteopt solve my-campuses/scenario.yaml -o out/mine
    """
    from siteopt.inputs.template import ExistingFiles, init_project

    try:
        files = init_project(folder, excel=excel, force=force)
    except ExistingFiles as exc:
        shown = ", ".join(str(p) for p in exc.paths)
        _err(f"Not overwriting existing files: {shown} (use --force to overwrite)")
        sys.exit(EXIT_INPUT)
    except OSError as exc:
        _err(f"Cannot write into {folder}: {exc.strerror or exc}")
        sys.exit(EXIT_INPUT)
    for path in files:
        _note(f"Wrote {path}")
    _note(f"Next: siteopt validate {folder / 'scenario.yaml'}")


def _register() -> None:
    """Commands that live in their own modules (imported after the helpers they use)."""
    from siteopt.cli.deck import deck
    from siteopt.cli.evaluate import evaluate

    main.add_command(deck)
    main.add_command(evaluate)


_register()
