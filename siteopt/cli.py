"""Command line: argument parsing and messages only; the work is done by the API it calls.

Exit codes: 0 plan found (or input valid), 1 invalid input or infeasible scenario,
2 usage error, 3 limit reached with no plan, 130 interrupted.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from siteopt import __version__
from siteopt.errors import InputError

EXIT_OK, EXIT_INPUT, EXIT_USAGE, EXIT_NO_SOLUTION, EXIT_INTERRUPTED = 0, 1, 2, 3, 130


def _err(text: str) -> None:
    click.echo(text, err=True)


def _guard(func: Callable[..., Any]) -> Callable[..., Any]:
    """Turn input problems and interrupts into messages and exit codes, never tracebacks."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except InputError as exc:
            count = len(exc.problems)
            _err(f"Invalid input ({count} problem{'s' if count != 1 else ''}):")
            for problem in exc.problems:
                _err(f"  {problem}")
            sys.exit(EXIT_INPUT)
        except KeyboardInterrupt:
            _err("Interrupted; previous results are unchanged.")
            sys.exit(EXIT_INTERRUPTED)

    return wrapper


def _warn(warnings: tuple[str, ...]) -> None:
    for warning in warnings:
        _err(f"warning: {warning}")


SCENARIO = click.argument("scenario", type=click.Path(path_type=Path, dir_okay=False))
PORTFOLIO = click.option(
    "--portfolio", type=click.Path(path_type=Path),
    help="Portfolio folder or .xlsx to use instead of the scenario's (may be outside the "
         "project).")


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="siteopt")
def main() -> None:
    """Plan which mining campuses to convert to AI/HPC colocation, when, and for which tenant.

    \b
    Example:
      siteopt validate scenarios/base.yaml
      siteopt solve scenarios/base.yaml -o out/base

    Exit codes: 0 plan found / input valid, 1 invalid input or infeasible,
    2 usage error, 3 limit reached with no plan, 130 interrupted.
    """


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
    click.echo(f"{scenario}: valid — {len(inputs.campuses)} campuses, {len(inputs.offers)} "
               f"offers, {inputs.scenario.horizon.months} months from "
               f"{inputs.scenario.horizon.start} (input hash {inputs.input_hash})")


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
    from siteopt.inputs import load_inputs
    from siteopt.report_terminal import hashprice_table, print_frame

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
    from siteopt.schema_docs import schema_json, schema_markdown

    click.echo(schema_markdown() if fmt == "markdown" else json.dumps(schema_json(), indent=2),
               nl=fmt != "markdown")


@main.command()
@SCENARIO
@click.option("-o", "--outdir", type=click.Path(path_type=Path, file_okay=False),
              help="Result folder [default: out/<scenario name>].")
@click.option("--mip-gap-pct", type=click.FloatRange(min=0, max=100),
              help="Stop at this relative MIP gap (%), overriding the scenario.")
@click.option("--time-limit", "time_limit_s", type=click.FloatRange(min=0, min_open=True),
              help="Seconds HiGHS may run, overriding the scenario.")
@click.option("--threads", type=click.IntRange(min=1), help="HiGHS threads.")
@click.option("--json", "as_json", is_flag=True, help="Print summary.json to stdout.")
@click.option("--no-workbook", is_flag=True, help="Skip plan.xlsx.")
@PORTFOLIO
@_guard
def solve(scenario: Path, outdir: Path | None, mip_gap_pct: float | None,
          time_limit_s: float | None, threads: int | None, as_json: bool,
          no_workbook: bool, portfolio: Path | None) -> None:
    """Solve a scenario: which MW mine, which convert when, which offers to sign.

    Writes summary.json, campus_month.csv, leases.csv and plan.xlsx to OUTDIR.

    \b
    Example:
      siteopt solve scenarios/base.yaml -o out/base --mip-gap-pct 0.5
    """
    from siteopt.api import solve_inputs, with_solver_options
    from siteopt.export.results_folder import check_outdir, write_results
    from siteopt.inputs import load_inputs
    from siteopt.report_terminal import print_plan

    inputs = with_solver_options(load_inputs(scenario, portfolio), mip_gap_pct=mip_gap_pct,
                                 time_limit_s=time_limit_s, threads=threads)
    _warn(inputs.warnings)
    outdir = outdir or Path("out") / inputs.scenario.name
    check_outdir(outdir)
    _err(f"Solving {inputs.scenario.name} ({len(inputs.campuses)} campuses, "
         f"{len(inputs.offers)} offers, {inputs.scenario.horizon.months} months)...")
    results = solve_inputs(inputs)
    status = results.summary["status"]
    if status == "no_solution":
        _err("No plan found within the limits (time limit too short?); nothing was written.")
        sys.exit(EXIT_NO_SOLUTION)
    write_results(results, outdir, workbook=not no_workbook)
    if as_json:
        click.echo((outdir / "summary.json").read_text(encoding="utf-8"), nl=False)
    if status == "infeasible":
        _err(f"Scenario {inputs.scenario.name} is infeasible: no plan meets every requirement.")
        for line in results.summary.get("diagnosis", []):
            _err(f"  {line}")
        sys.exit(EXIT_INPUT)
    print_plan(results)
    _err(f"Results in {outdir}/")
