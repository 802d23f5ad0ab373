"""`siteopt evaluate`: argument parsing only; the work is siteopt.stochastic.evaluation's."""

from __future__ import annotations

from pathlib import Path

import click

from siteopt.cli import MIP_GAP, TIME_LIMIT, _guard, _note


def _musd(usd: float | None) -> str:
    return "n/a" if usd is None else f"{usd / 1e6:,.1f} M USD"


@click.command()
@click.argument("result_dir", type=click.Path(path_type=Path, file_okay=False, exists=True))
@click.option("--futures", "count", type=click.IntRange(min=1, max=10_000), required=True,
              help="Fresh futures to draw from the scenario's uncertainty.sample.")
@click.option("--seed", type=click.IntRange(min=0, max=2**32 - 1), required=True,
              help="Seed of the draws (use another than the plan's for out of sample).")
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True,
              help="Local worker processes (1: in this process).")
@click.option("--scheduler", metavar="ADDRESS",
              help="Solve on an existing Dask cluster (tcp://HOST:PORT) instead.")
@click.option("--scenario", type=click.Path(path_type=Path, dir_okay=False, exists=True),
              help="Scenario whose uncertainty section draws the futures (default: the one "
                   "the plan was solved from; a plain plan's often has none).")
@click.option("--cvar-alpha-pct", type=click.FloatRange(min=0, max=100, min_open=True),
              help="Worst share of futures whose mean NPV is the CVaR (default: the "
                   "scenario's uncertainty.risk.cvar_alpha_pct).")
@click.option("-o", "--outdir", type=click.Path(path_type=Path, file_okay=False),
              help="Folder for evaluation.json/.csv/.xlsx (default: RESULT_DIR-evaluation).")
@MIP_GAP
@TIME_LIMIT
@_guard
def evaluate(result_dir: Path, count: int, seed: int, workers: int, scheduler: str | None,
             scenario: Path | None, cvar_alpha_pct: float | None, outdir: Path | None,
             mip_gap_pct: float | None, time_limit_s: float | None) -> None:
    """Judge a solved plan out of sample: keep its decisions taken now in fresh futures.

    The plan's here-and-now decisions (blocks started, miners sold, debt drawn and BTC sold
    before uncertainty.commit_months; offers signed before it, taken or declined) are fixed
    in each of N futures drawn from uncertainty.sample with --seed; the rest is
    re-optimised there. Prints and writes the expected NPV with its 95 % confidence
    interval, the CVaR, the chance of breaching the cash floor and the futures in which the
    commitments cannot be kept. Works on a plain and a stochastic plan.

    \b
    Example:
      siteopt evaluate out/sampled --futures 100 --seed 99 --workers 2
      siteopt evaluate out/base --scenario scenarios/sampled.yaml --futures 50 --seed 1
    """
    from siteopt.stochastic.evaluation import (
        check_evaluation_outdir,
        default_outdir,
        evaluate_plan,
        write_evaluation,
    )

    if scheduler and workers != 1:
        raise click.UsageError("--workers and --scheduler exclude each other: give one")
    outdir = outdir or default_outdir(result_dir)
    check_evaluation_outdir(outdir, result_dir)
    solver = {k: v for k, v in {"mip_gap_pct": mip_gap_pct, "time_limit_s": time_limit_s,
                                "threads": 1}.items() if v is not None}
    done = {"n": 0}

    def progress(row):
        done["n"] += 1
        if done["n"] == count or done["n"] % max(1, count // 10) == 0:
            _note(f"  {done['n']}/{count} futures solved")

    _note(f"Evaluating {result_dir} on {count} futures (seed {seed})...")
    summary, rows, months = evaluate_plan(result_dir, count, seed, workers, scheduler,
                                          scenario, cvar_alpha_pct, solver, progress)
    write_evaluation(outdir, summary, rows, months)
    m = summary["measures"]
    ci = "" if m.get("ci95_low_usd") is None else \
        f" (95 % CI {_musd(m['ci95_low_usd'])} to {_musd(m['ci95_high_usd'])})"
    breach = "no cash floor" if not m["cash_floor_tracked"] else \
        f"{m['p_cash_floor_breach_pct']:.1f} % of futures"
    click.echo(f"Expected NPV {_musd(m.get('expected_npv_usd'))}{ci} over "
               f"{m['futures_with_npv']} of {m['futures']} futures")
    click.echo(f"CVaR {m['cvar_alpha_pct']:g} %: {_musd(m.get('cvar_npv_usd'))}; cash floor "
               f"breached: {breach}; commitments cannot be kept: {m['infeasible']} future(s)"
               + (f"; errors: {m['errors']}" if m["errors"] else ""))
    click.echo(f"Wrote {outdir}/ (evaluation.json, evaluation.csv, evaluation.xlsx) in "
               f"{summary['seconds']:.1f} s")
