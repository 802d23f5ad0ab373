"""What HiGHS says while a command solves: its log (`--solver-log`) and, on a terminal, a
MIP's progress every few seconds (best plan, bound, gap, elapsed)."""

from __future__ import annotations

import contextlib
import math
import os
import re
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

import click

from siteopt.solve_trace import Point

LOG_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]*\.log")
PROGRESS_EVERY_S = 5.0


def check_log_target(value: str | None) -> str | None:
    """`-` (stderr) or a file name for the result folder (`highs.log`); ValueError else."""
    if value is None or value == "-" or LOG_NAME.fullmatch(value):
        return value
    raise ValueError(f"expected - (stderr) or a file name ending in .log, written into the "
                     f"result folder (got {value!r})")


def _usd_m(objective: float) -> str:
    from siteopt.model.objective import USD_PER_OBJECTIVE_UNIT

    return f"{objective * USD_PER_OBJECTIVE_UNIT / 1e6:,.1f} M USD"


def progress_line(point: Point) -> str:
    """'  0:42  best plan 41.3 M USD · bound 43.0 M USD · gap 4.06 % · 1,234 nodes'."""
    seconds = int(point.seconds)
    plan = _usd_m(point.primal) if math.isfinite(point.primal) else "no plan yet"
    bound = _usd_m(point.dual) if math.isfinite(point.dual) else "none yet"
    gap = f"{point.gap_pct:.2f} %" if point.gap_pct is not None else "–"
    return (f"  {seconds // 60}:{seconds % 60:02d}  best plan {plan} · bound {bound} · "
            f"gap {gap} · {point.nodes:,} nodes")


class MipProgress:
    """Prints a progress line every `every_s` seconds of a solve (HiGHS's clock): a MIP
    done sooner prints nothing."""

    def __init__(self, echo: Callable[[str], None], every_s: float | None = None):
        self.echo = echo
        self.every_s = PROGRESS_EVERY_S if every_s is None else every_s
        self.last = 0.0

    def __call__(self, point: Point) -> None:
        if point.seconds < self.last:  # the next solve (the baseline): its clock starts at 0
            self.last = 0.0
        if point.seconds - self.last >= self.every_s:
            self.last = point.seconds
            self.echo(progress_line(point))


class SolverLog:
    """HiGHS's log lines: to stderr (`-`), or to a temporary file that `place` moves into the
    result folder once it is written (the folder is replaced as a whole by the run)."""

    def __init__(self, target: str):
        self.target = target
        self.file: IO[str] | None = None
        self.path: Path | None = None
        if target != "-":
            fd, name = tempfile.mkstemp(prefix="siteopt-highs-", suffix=".log")
            self.file, self.path = os.fdopen(fd, "w", encoding="utf-8"), Path(name)

    def __call__(self, line: str) -> None:
        if self.file is None:
            click.echo(line, err=True, nl=False)
        else:
            self.file.write(line)

    def place(self, outdir: Path) -> Path | None:
        """Move the log into `outdir` (after the run wrote it); returns where it went."""
        if self.file is None or self.path is None:
            return None
        import shutil

        from siteopt.export.files import write_atomic

        self.file.close()
        target = outdir / self.target
        write_atomic(target, lambda p: shutil.copyfile(self.path, p))
        self.path.unlink()
        self.path = None
        return target

    def close(self) -> None:
        if self.file is not None and not self.file.closed:
            self.file.close()


def stderr_is_terminal() -> bool:
    return sys.stderr.isatty()


@contextlib.contextmanager
def solver_talk(log: SolverLog | None, quiet: bool) -> Iterator[None]:
    """HiGHS's log to `log`; a MIP's progress on stderr when it is a terminal and not quiet."""
    from siteopt.solve import solver_output

    progress = None
    if not quiet and stderr_is_terminal() and (log is None or log.target != "-"):
        progress = MipProgress(lambda text: click.echo(text, err=True))
    with solver_output(log=log, progress=progress):
        try:
            yield
        finally:
            if log is not None:
                log.close()
