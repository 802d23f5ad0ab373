"""Many scenarios at once: local worker processes or an existing Dask cluster, same tasks.

A task is plain data (scenario file, command-line changes, output folder), so it travels to
any worker; a worker solves one scenario with HiGHS on one thread and writes its result
folder. One failing scenario never stops the others unless asked to.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from siteopt.errors import InputError, Problem
from siteopt.overrides import Override

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
    from siteopt.scenario import load_scenario

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
    row: dict[str, Any] = {"scenario": task.name, "scenario_file": task.scenario_file,
                           "changes": "; ".join(o.label for o in task.overrides),
                           "outdir": task.outdir, "resumed": False, "error": ""}
    try:
        inputs = load_inputs(task.scenario_file, overrides=list(task.overrides))
        inputs = with_solver_options(inputs, **{"threads": 1, **task.solver})
        row["input_hash"] = inputs.input_hash
        results = solve_inputs(inputs)
        summary = results.summary
        row.update(status=summary["status"], npv_usd=summary.get("npv_usd"),
                   mip_gap_pct=summary.get("mip_gap_pct"),
                   build_seconds=summary.get("build_seconds"),
                   solve_seconds=summary.get("solve_seconds"),
                   value_added_usd=(summary.get("kpis") or {}).get("value_added_usd"))
        if summary["status"] == "no_solution":
            row["error"] = "no plan found within the time limit"
        else:
            write_results(results, Path(task.outdir), workbook=task.workbook)
        if summary["status"] == "infeasible":
            row["error"] = " | ".join(summary.get("diagnosis") or ["infeasible"])
    except InputError as exc:
        row.update(status="invalid", error=" | ".join(str(p) for p in exc.problems))
    except Exception as exc:  # a worker must report, not die: the batch goes on
        row.update(status="error", error=f"{type(exc).__name__}: {exc}")
    row["total_seconds"] = round(time.perf_counter() - started, 3)
    return row


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
    return {"scenario": task.name, "scenario_file": task.scenario_file,
            "changes": "; ".join(o.label for o in task.overrides),
            "status": summary["status"], "npv_usd": summary.get("npv_usd"),
            "value_added_usd": (summary.get("kpis") or {}).get("value_added_usd"),
            "mip_gap_pct": summary.get("mip_gap_pct"),
            "build_seconds": summary.get("build_seconds"),
            "solve_seconds": summary.get("solve_seconds"), "total_seconds": 0.0,
            "input_hash": inputs.input_hash, "outdir": task.outdir, "resumed": True,
            "error": ""}


Callback = Callable[[str, dict[str, Any] | None], None]  # event, row


def run_batch(tasks: list[Task], workers: int | None = None, scheduler: str | None = None,
              fail_fast: bool = False, resume: bool = False,
              on_event: Callback | None = None) -> list[dict[str, Any]]:
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
    runner = _run_dask if scheduler else _run_local
    for row in runner(todo, workers, scheduler, fail_fast, notify):
        rows[row["scenario"]] = row
    for task in tasks:
        rows.setdefault(task.name, {"scenario": task.name, "scenario_file": task.scenario_file,
                                    "outdir": task.outdir, "status": "skipped",
                                    "error": "not run: an earlier scenario failed (--fail-fast)",
                                    "resumed": False})
    return [rows[t.name] for t in tasks]


def _failed(row: dict[str, Any]) -> bool:
    return row.get("status") not in SUCCESS


def _run_local(tasks: list[Task], workers: int | None, _scheduler, fail_fast: bool,
               notify: Callback) -> Iterable[dict[str, Any]]:
    if not tasks:
        return
    workers = max(1, min(workers or os.cpu_count() or 1, len(tasks)))
    # spawn: HiGHS keeps threads of its own, which do not survive a fork
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        pending: dict[Future, Task] = {}
        queue = list(tasks)
        while queue or pending:
            while queue and len(pending) < workers:
                task = queue.pop(0)
                pending[pool.submit(run_task, task)] = task
                notify("started", {"scenario": task.name})
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                pending.pop(future)
                if future.cancelled():
                    continue
                row = future.result()
                notify("done", row)
                yield row
                if fail_fast and _failed(row):
                    queue.clear()
                    for other in pending:
                        other.cancel()


def _run_dask(tasks: list[Task], _workers, scheduler: str, fail_fast: bool,
              notify: Callback) -> Iterable[dict[str, Any]]:
    try:
        from distributed import Client, as_completed
    except ImportError:
        raise InputError([Problem("--scheduler", "Dask is not installed: pip install "
                                                 "'siteopt[dask]'")]) from None
    if not tasks:
        return
    try:
        client = Client(scheduler, timeout="20s", set_as_default=False)
    except OSError as exc:
        raise InputError([Problem(f"--scheduler {scheduler}",
                                  f"cannot reach the Dask scheduler ({exc})")]) from None
    try:
        futures = client.map(run_task, tasks, pure=False, key=[f"siteopt-{t.name}-{i}"
                                                              for i, t in enumerate(tasks)])
        for task in tasks:
            notify("started", {"scenario": task.name})
        for future in as_completed(futures, loop=client.loop):
            row = future.result()
            notify("done", row)
            yield row
            if fail_fast and _failed(row):
                client.cancel([f for f in futures if not f.done()])
                break
    finally:
        client.close()
