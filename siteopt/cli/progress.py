"""Batch and sweep runs for the command line: progress on a terminal, rows as JSON lines."""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from siteopt.runs.batch import (
    BATCH_COLUMNS,
    SUCCESS,
    WORKER_TIMEOUT_S,
    Task,
    run_batch,
    write_batch_outputs,
)

if TYPE_CHECKING:
    import pandas as pd


def _clock(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}" if seconds >= 3600 \
        else f"{seconds // 60}:{seconds % 60:02d}"


def remaining_seconds(running: dict[str, float], limits: dict[str, float | None],
                      durations: list[float], queued: int, workers: int
                      ) -> tuple[float | None, bool]:
    """Seconds until the batch ends, estimated: a running scenario takes the median time of
    those finished (or, once it has run longer than that or when none has finished, up to its
    time limit — twice, plan and mining-only baseline); a queued one the median, spread over
    the workers. Returns (seconds, whether they are an upper bound from a time limit); None
    seconds when nothing tells (no scenario finished and no time limit known)."""
    typical = statistics.median(durations) if durations else None
    left, bounded = [], False
    for name, elapsed in running.items():
        limit = limits.get(name)
        cap = None if limit is None else 2 * limit + 5.0 - elapsed
        if typical is not None and elapsed < typical:
            left.append(typical - elapsed if cap is None else min(typical - elapsed, cap))
        elif cap is not None:
            left.append(max(cap, 0.0))
            bounded = True
        elif typical is None:
            return None, False
        else:
            left.append(0.0)
    if queued and typical is None:
        known = [v for v in limits.values() if v is not None]
        if not known:
            return None, False
        typical, bounded = 2 * statistics.median(known), True
    queue = queued * (typical or 0.0) / max(1, workers)
    return (max(left) if left else 0.0) + queue, bounded


def progress_text(solved: int, failed: int, running: dict[str, float], eta: float | None,
                  width: int = 60, bounded: bool = False) -> str:
    """'solved 5, failed 0 · running funded 3:10, base 0:42 · ≈ 4:50 left' ('at most' when
    the time left is bounded by time limits), the running list cut to `width` characters."""
    names = ", ".join(f"{name} {_clock(elapsed)}" for name, elapsed in
                      sorted(running.items(), key=lambda item: -item[1]))
    if len(names) > width:
        names = names[: width - 1].rsplit(",", 1)[0] + f", … ({len(running)} running)"
    parts = [f"solved {solved}, failed {failed}"]
    if running:
        parts.append(f"running {names}")
    parts.append("time left unknown" if eta is None else
                 f"{'at most' if bounded else '≈'} {_clock(eta)} left")
    return " · ".join(parts)


class Progress:
    """A rich progress bar on stderr when it is a terminal; silent otherwise. It names the
    scenarios running with their elapsed time and estimates the time left from the
    scenarios finished and the time limits of those running (`remaining_seconds`)."""

    def __init__(self, total: int, as_json: bool, limits: dict[str, float | None] | None = None,
                 workers: int = 1):
        self.total, self.as_json = total, as_json
        self.limits, self.workers = limits or {}, workers
        self.done = self.failed = 0
        self.running: dict[str, float] = {}  # name → when it started
        self.durations: list[float] = []
        self.started = time.perf_counter()
        self.bar = None
        ctx = click.get_current_context(silent=True)
        quiet = bool(ctx and (ctx.find_root().obj or {}).get("quiet"))  # siteopt -q
        if sys.stderr.isatty() and not quiet:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                TextColumn,
                TimeElapsedColumn,
            )
            from rich.progress import Progress as Bar

            self.bar = Bar(BarColumn(bar_width=20), MofNCompleteColumn(), TimeElapsedColumn(),
                           TextColumn("{task.description}"),
                           console=Console(stderr=True), transient=False)
            self.task = self.bar.add_task(self._text(), total=total)
            self.bar.start()
            self._ticker()

    def _ticker(self) -> None:
        """Refresh the elapsed times every second while the batch runs."""
        import threading

        def tick() -> None:
            while self.bar is not None and not self._stopped.wait(1.0):
                self.bar.update(self.task, description=self._text())

        self._stopped = threading.Event()
        threading.Thread(target=tick, daemon=True).start()

    def _text(self) -> str:
        now = time.perf_counter()
        running = {name: now - t for name, t in self.running.items()}
        width = max(20, (self.bar.console.width if self.bar else 80) - 60)
        queued = self.total - self.done - len(running)
        eta, bounded = remaining_seconds(running, self.limits, self.durations, queued,
                                         self.workers)
        return progress_text(self.done - self.failed, self.failed, running, eta, width, bounded)

    def __call__(self, event: str, row: dict[str, Any] | None) -> None:
        if event == "note":  # always shown: a batch that waits must say why
            if self.bar is not None:
                self.bar.console.print(row["message"])
            else:
                click.echo(row["message"], err=True)
            return
        if event == "started":
            self.running[row["scenario"]] = time.perf_counter()
        else:
            self.done += 1
            started = self.running.pop((row or {}).get("scenario"), None)
            if started is not None:
                self.durations.append(time.perf_counter() - started)
            if row and row.get("status") not in SUCCESS:
                self.failed += 1
            if self.as_json and row is not None:
                click.echo(json.dumps({k: row.get(k) for k in BATCH_COLUMNS}, default=str))
        if self.bar is not None:
            self.bar.update(self.task, completed=self.done, description=self._text())

    def close(self) -> None:
        if self.bar is not None:
            self._stopped.set()
            self.bar.stop()


def time_limits(tasks: list[Task]) -> dict[str, float | None]:
    """Each task's HiGHS time limit: its solver override, else its scenario's (None when the
    scenario cannot be read: the task itself will say why)."""
    from siteopt.inputs.errors import InputError
    from siteopt.inputs.scenario import load_scenario

    by_file: dict[str, float | None] = {}  # a sweep's variants share one file
    limits: dict[str, float | None] = {}
    for task in tasks:
        limit = task.solver.get("time_limit_s")
        if limit is None:
            if task.scenario_file not in by_file:
                try:
                    found = load_scenario(task.scenario_file).scenario.solver.time_limit_s
                except (InputError, OSError):
                    found = None
                by_file[task.scenario_file] = found
            limit = by_file[task.scenario_file]
        limits[task.name] = limit
    return limits


def run_and_report(tasks: list[Task], outdir: Path, workers: int | None, scheduler: str | None,
                   fail_fast: bool, resume: bool, as_json: bool,
                   worker_timeout_s: float = WORKER_TIMEOUT_S) -> pd.DataFrame:
    """Run the tasks with progress shown, write batch.csv and comparison.xlsx (the runs
    layer does), say what failed; return the batch table."""
    outdir.mkdir(parents=True, exist_ok=True)
    progress = Progress(len(tasks), as_json, time_limits(tasks) if sys.stderr.isatty() else {},
                        workers or os.cpu_count() or 1)
    try:
        rows = run_batch(tasks, workers=workers, scheduler=scheduler, fail_fast=fail_fast,
                         resume=resume, on_event=progress, worker_timeout_s=worker_timeout_s)
    finally:
        progress.close()
    table = write_batch_outputs(rows, outdir)
    failed = table[~table["status"].isin(SUCCESS)]
    click.echo(f"{len(table) - len(failed)} of {len(table)} scenarios solved; results in "
               f"{outdir}/ (batch.csv, comparison.xlsx)", err=True)
    for row in failed.itertuples():
        click.echo(f"  {row.scenario}: {row.status} — {row.error}", err=True)
    return table
