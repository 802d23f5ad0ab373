"""Many scenarios at once: local worker processes or an existing Dask cluster, same tasks.

A task is plain data (scenario file, command-line changes, output folder), so it travels to
any worker; a worker solves one scenario with HiGHS on one thread and writes its result
folder. One failing scenario never stops the others unless asked to.
"""

from __future__ import annotations

import os
import queue
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from siteopt.inputs.errors import InputError, Problem
from siteopt.inputs.overrides import Override

if TYPE_CHECKING:
    import pandas as pd

BATCH_COLUMNS = ["scenario", "scenario_file", "changes", "status", "npv_usd", "value_added_usd",
                 "mip_gap_pct", "build_seconds", "solve_seconds", "total_seconds", "input_hash",
                 "outdir", "resumed", "error"]
SUCCESS = ("optimal", "feasible")


@dataclass(frozen=True)
class Task:
    name: str
    scenario_file: str
    outdir: str
    overrides: tuple[Override, ...] = ()
    workbook: bool = True
    solver: dict[str, Any] = field(default_factory=dict)


def scenario_files(paths: Iterable[str | Path]) -> list[Path]:
    """Scenario files named directly, and every *.yaml / *.yml in named folders."""
    found: list[Path] = []
    for given in paths:
        path = Path(given)
        if path.is_dir():
            found += sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml")
                            and not p.name.startswith("."))
        elif path.is_file():
            found.append(path)
        else:
            raise InputError([Problem(str(path), "no such scenario file or folder")])
    if not found:
        raise InputError([Problem(", ".join(map(str, paths)), "no scenario files found")])
    return found


def plan_tasks(files: list[Path], outdir: Path, workbook: bool = True,
               solver: dict[str, Any] | None = None) -> list[Task]:
    """One task per file, named by its scenario name (file stem when it cannot be read)."""
    from siteopt.inputs.scenario import load_scenario

    tasks, used = [], set()
    for file in files:
        try:
            name = load_scenario(file).scenario.name
        except InputError:
            name = file.stem  # the worker reports the problem in batch.csv
        unique, n = name, 2
        while unique in used:
            unique, n = f"{name}-{n}", n + 1
        used.add(unique)
        tasks.append(Task(unique, str(file), str(outdir / unique), workbook=workbook,
                          solver=dict(solver or {})))
    return tasks


def run_task(task: Task) -> dict[str, Any]:
    """Solve one scenario and write its folder; never raises for a bad scenario."""
    from siteopt.api import solve_inputs, with_solver_options
    from siteopt.export.results_folder import write_results
    from siteopt.inputs import load_inputs

    started = time.perf_counter()
    row = task_row(task)
    try:
        inputs = load_inputs(task.scenario_file, overrides=list(task.overrides))
        inputs = with_solver_options(inputs, **{"threads": 1, **task.solver})
        row["input_hash"] = inputs.input_hash
        results = solve_inputs(inputs)
        row = summary_row(task, results.summary, inputs.input_hash)
        if results.summary["status"] != "no_solution":
            write_results(results, Path(task.outdir), workbook=task.workbook)
    except InputError as exc:
        row.update(status="invalid", error=" | ".join(str(p) for p in exc.problems))
    except Exception as exc:  # a worker must report, not die: the batch goes on
        row.update(status="error", error=f"{type(exc).__name__}: {exc}")
    row["total_seconds"] = round(time.perf_counter() - started, 3)
    return row


def task_row(task: Task, **fields: Any) -> dict[str, Any]:
    """The columns of a batch row that the task itself gives, then `fields`."""
    return {"scenario": task.name, "scenario_file": task.scenario_file,
            "changes": "; ".join(o.label for o in task.overrides),
            "outdir": task.outdir, "resumed": False, "error": "", **fields}


def summary_row(task: Task, summary: dict[str, Any], input_hash: str | None,
                **fields: Any) -> dict[str, Any]:
    """The batch row of a run's summary: solved now, or found finished in its folder."""
    status = summary["status"]
    error = ""
    if status == "no_solution":
        error = "no plan found within the time limit"
    elif status == "infeasible":
        error = " | ".join(summary.get("diagnosis") or ["infeasible"])
    return task_row(task, status=status, npv_usd=summary.get("npv_usd"),
                    value_added_usd=(summary.get("kpis") or {}).get("value_added_usd"),
                    mip_gap_pct=summary.get("mip_gap_pct"),
                    build_seconds=summary.get("build_seconds"),
                    solve_seconds=summary.get("solve_seconds"), input_hash=input_hash,
                    error=error, **fields)


def resumable(task: Task) -> dict[str, Any] | None:
    """The row of a finished run already in the task's folder for the same inputs."""
    import json

    from siteopt.inputs import load_inputs

    summary_path = Path(task.outdir) / "summary.json"
    if not summary_path.is_file():
        return None
    try:
        summary = json.loads(summary_path.read_text(encoding="utf-8"))
        inputs = load_inputs(task.scenario_file, overrides=list(task.overrides))
    except (InputError, ValueError, OSError):
        return None
    if summary.get("input_hash") != inputs.input_hash or summary.get("status") not in SUCCESS:
        return None
    return summary_row(task, summary, inputs.input_hash, total_seconds=0.0, resumed=True)


def write_batch_outputs(rows: list[dict[str, Any]], outdir: Path) -> pd.DataFrame:
    """OUTDIR/batch.csv (one row per scenario) and, when any solved, OUTDIR/comparison.xlsx
    (the solved ones side by side); returns the batch table."""
    import pandas as pd

    from siteopt.export.files import write_people_csv

    outdir.mkdir(parents=True, exist_ok=True)
    table = pd.DataFrame(rows).reindex(columns=BATCH_COLUMNS)
    write_people_csv(table, outdir / "batch.csv")
    solved = [Path(r["outdir"]) for r in rows if r.get("status") in SUCCESS]
    if solved:
        from siteopt.export.comparison import write_comparison
        from siteopt.export.results_folder import load_results

        write_comparison([load_results(p) for p in solved], outdir / "comparison.xlsx")
    return table


Callback = Callable[[str, dict[str, Any] | None], None]  # event, row ("note": a message)
WORKER_TIMEOUT_S = 120.0  # default of --worker-timeout: a Dask cluster with no worker for so long


def run_batch(tasks: list[Task], workers: int | None = None, scheduler: str | None = None,
              fail_fast: bool = False, resume: bool = False,
              on_event: Callback | None = None,
              worker_timeout_s: float = WORKER_TIMEOUT_S) -> list[dict[str, Any]]:
    """Run tasks locally (worker processes) or on a Dask cluster; rows in task order."""
    notify = on_event or (lambda event, row: None)
    rows: dict[str, dict[str, Any]] = {}
    todo = []
    for task in tasks:
        done = resumable(task) if resume else None
        if done is not None:
            rows[task.name] = done
            notify("done", done)
        else:
            todo.append(task)
    if scheduler:
        found = _run_dask(todo, scheduler, fail_fast, notify, worker_timeout_s)
    else:
        found = _run_local(todo, workers, fail_fast, notify)
    for row in found:
        rows[row["scenario"]] = row
    for task in tasks:
        rows.setdefault(task.name, task_row(
            task, status="skipped", error="not run: an earlier scenario failed (--fail-fast)"))
    return [rows[t.name] for t in tasks]


def _failed(row: dict[str, Any]) -> bool:
    return row.get("status") not in SUCCESS


def _error_row(task: Task, error: str) -> dict[str, Any]:
    """The row of a task that produced no row of its own (its worker died, it never ran)."""
    return task_row(task, status="error", error=error)


def _run_local(tasks: list[Task], workers: int | None, fail_fast: bool,
               notify: Callback) -> Iterable[dict[str, Any]]:
    from siteopt.runs.local_pool import Died, Raised, run_jobs

    if not tasks:
        return
    workers = max(1, min(workers or os.cpu_count() or 1, len(tasks)))
    answers = run_jobs(tasks, run_task, workers,
                       on_start=lambda task: notify("started", {"scenario": task.name}),
                       stop_after=lambda answer: fail_fast and (
                           not isinstance(answer, dict) or _failed(answer)))
    for task, answer in answers:
        if isinstance(answer, Died):
            row = _error_row(task, f"worker died ({answer.reason})")
        elif isinstance(answer, Raised):
            row = _error_row(task, answer.error)
        else:
            row = answer
        notify("done", row)
        yield row


# -- Dask ---------------------------------------------------------------------------------

SCHEDULER_SCHEMES = ("tcp", "tls", "ucx", "inproc")


def check_scheduler_address(address: str) -> str:
    """The address of a Dask scheduler, or ValueError saying what is wrong with it. Checked
    before connecting: Dask takes 40 s to give up on an address it cannot even parse."""
    scheme, sep, rest = address.strip().partition("://")
    example = "e.g. tcp://10.0.0.5:8786"
    if not sep:
        raise ValueError(f"{address!r} is not a scheduler address; expected SCHEME://HOST:PORT "
                         f"with scheme {', '.join(SCHEDULER_SCHEMES)} ({example})")
    if scheme not in SCHEDULER_SCHEMES:
        raise ValueError(f"unknown scheme {scheme!r}; expected one of "
                         f"{', '.join(SCHEDULER_SCHEMES)} ({example})")
    if scheme == "inproc":
        if not rest:
            raise ValueError("an inproc address names its process (inproc://HOST/PID/N)")
        return address.strip()
    parts = urlsplit(f"//{rest}")
    try:
        port = parts.port
    except ValueError:
        port = -1
    if parts.path or parts.query or parts.fragment or parts.username or not parts.hostname \
            or not re.fullmatch(r"[A-Za-z0-9.\-_:]+", parts.hostname):
        raise ValueError(f"{address!r}: expected {scheme}://HOST:PORT ({example})")
    if port is None or not 0 < port < 65536:
        raise ValueError(f"{address!r}: expected a port number 1–65535 after the host "
                         f"({example})")
    return address.strip()


def _reachable(address: str, timeout_s: float = 5.0) -> str | None:
    """Why a TCP scheduler cannot be reached (refused, unknown host), or None. A quick test
    first: Dask would retry a refused connection until its own timeout, in silence."""
    import socket

    scheme, _, rest = address.partition("://")
    if scheme not in ("tcp", "tls"):
        return None
    parts = urlsplit(f"//{rest}")
    try:
        socket.create_connection((parts.hostname, parts.port), timeout=timeout_s).close()
    except OSError as exc:
        return exc.strerror or str(exc) or type(exc).__name__
    return None


def _worker_count(client: Any) -> int:
    try:
        return len(client.ncores())
    except Exception:  # the scheduler went away: as good as no workers
        return 0


def reachable_scheduler(scheduler: str) -> str:
    """The scheduler's address, checked and reached; InputError (located at --scheduler)
    when it is malformed or no scheduler answers there."""
    try:
        address = check_scheduler_address(scheduler)
    except ValueError as exc:
        raise InputError([Problem(f"--scheduler {scheduler}", str(exc))]) from None
    unreachable = _reachable(address)
    if unreachable:
        raise InputError([Problem(f"--scheduler {scheduler}",
                                  f"cannot reach the Dask scheduler ({unreachable})")])
    return address


def _run_dask(tasks: list[Task], scheduler: str, fail_fast: bool, notify: Callback,
              worker_timeout_s: float) -> Iterable[dict[str, Any]]:
    try:
        from distributed import Client
    except ImportError:
        raise InputError([Problem("--scheduler", "Dask is not installed: pip install "
                                                 "'siteopt[dask]'")]) from None
    if not tasks:
        return
    address = reachable_scheduler(scheduler)
    try:
        client = Client(address, timeout="20s", set_as_default=False)
    except (OSError, TimeoutError) as exc:
        raise InputError([Problem(f"--scheduler {scheduler}",
                                  f"cannot reach the Dask scheduler ({exc})")]) from None
    try:
        yield from _dask_rows(client, tasks, address, fail_fast, notify, worker_timeout_s)
    finally:
        client.close()


def _dask_rows(client: Any, tasks: list[Task], address: str, fail_fast: bool,
               notify: Callback, worker_timeout_s: float) -> Iterable[dict[str, Any]]:
    """Rows as the cluster finishes them. While the cluster has no worker (none yet, or all
    gone) the scenarios wait, for `worker_timeout_s` at most: then the rest are given up."""
    futures = client.map(run_task, tasks, pure=False,
                         key=[f"siteopt-{t.name}-{i}" for i, t in enumerate(tasks)])
    task_of = {f.key: t for f, t in zip(futures, tasks)}
    finished: queue.Queue = queue.Queue()
    for future in futures:
        future.add_done_callback(finished.put)
    for task in tasks:
        notify("started", {"scenario": task.name})
    pending = {f.key for f in futures}
    idle_since: float | None = None
    while pending:
        if _worker_count(client):
            idle_since = None
        elif idle_since is None:
            idle_since = time.monotonic()
            notify("note", {"message": f"scheduler at {address} has no workers; waiting up to "
                                       f"{worker_timeout_s:g} s (--worker-timeout)"})
        elif time.monotonic() - idle_since >= worker_timeout_s:
            notify("note", {"message": f"scheduler at {address} has had no workers for "
                                       f"{worker_timeout_s:g} s; giving up the {len(pending)} "
                                       f"scenario(s) not run"})
            client.cancel([f for f in futures if f.key in pending])
            for key in [f.key for f in futures if f.key in pending]:
                row = _error_row(task_of[key], f"not run: no Dask worker at {address} for "
                                               f"{worker_timeout_s:g} s (--worker-timeout)")
                notify("done", row)
                yield row
            return
        try:
            future = finished.get(timeout=min(1.0, worker_timeout_s / 4))
        except queue.Empty:
            continue
        if future.key not in pending or future.cancelled():
            continue
        pending.discard(future.key)
        task = task_of[future.key]
        if future.status == "error":
            exc = future.exception()
            row = _error_row(task, "worker died (every Dask worker that ran it died: out of "
                                   "memory?)" if type(exc).__name__ == "KilledWorker" else
                             f"{type(exc).__name__}: {exc}")  # e.g. siteopt not on a worker
        else:
            row = future.result()
        notify("done", row)
        yield row
        if fail_fast and _failed(row):
            client.cancel([f for f in futures if f.key in pending])
            return
