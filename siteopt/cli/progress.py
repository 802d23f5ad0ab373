"""Batch and sweep runs for the command line: progress on a terminal, rows as JSON lines."""

from __future__ import annotations

import json
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


class Progress:
    """A rich progress bar on stderr when it is a terminal; silent otherwise."""

    def __init__(self, total: int, as_json: bool):
        self.total, self.as_json = total, as_json
        self.done = self.failed = self.running = 0
        self.started = time.perf_counter()
        self.bar = None
        if sys.stderr.isatty():
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )
            from rich.progress import Progress as Bar

            self.bar = Bar(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                           TimeElapsedColumn(), TextColumn("remaining"), TimeRemainingColumn(),
                           console=Console(stderr=True), transient=False)
            self.task = self.bar.add_task(self._text(), total=total)
            self.bar.start()

    def _text(self) -> str:
        return f"solved {self.done - self.failed}, running {self.running}, failed {self.failed}"

    def __call__(self, event: str, row: dict[str, Any] | None) -> None:
        if event == "note":  # always shown: a batch that waits must say why
            if self.bar is not None:
                self.bar.console.print(row["message"])
            else:
                click.echo(row["message"], err=True)
            return
        if event == "started":
            self.running += 1
        else:
            self.done += 1
            self.running = max(0, self.running - (0 if row and row.get("resumed") else 1))
            if row and row.get("status") not in SUCCESS:
                self.failed += 1
            if self.as_json and row is not None:
                click.echo(json.dumps({k: row.get(k) for k in BATCH_COLUMNS}, default=str))
        if self.bar is not None:
            self.bar.update(self.task, completed=self.done, description=self._text())

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()


def run_and_report(tasks: list[Task], outdir: Path, workers: int | None, scheduler: str | None,
                   fail_fast: bool, resume: bool, as_json: bool,
                   worker_timeout_s: float = WORKER_TIMEOUT_S) -> pd.DataFrame:
    """Run the tasks with progress shown, write batch.csv and comparison.xlsx (the runs
    layer does), say what failed; return the batch table."""
    outdir.mkdir(parents=True, exist_ok=True)
    progress = Progress(len(tasks), as_json)
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
