"""Running the benchmark: each portfolio in a fresh process, timed stage by stage.

`bench_sizes` solves every size × seed in its own subprocess (`python -m siteopt.runs.bench
--child`), so the peak memory read there (`ru_maxrss`) is that run's own. The child runs the
pipeline of `siteopt solve` (load_inputs → solve_inputs without the mining-only baseline →
write_results, then the workbook separately) and times the API's stages through its
`on_stage` callback. `bench_batch` solves base-size scenarios through siteopt.runs.batch on
one worker process and on several. The machine's load is read before and during each
measurement: on a small shared machine other processes distort timings.

Timings are wall-clock seconds. Tests never time anything; this is where speed is measured.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from siteopt.runs.bench.synthetic import (
    batch_scenarios,
    generate,
    with_variant,
    write_synthetic,
)

RUN_COLUMNS = [
    "size", "variant", "candidate", "seed", "commit", "campuses", "months", "offers",
    "variables", "constraints", "integers",
    "status", "mip_gap_pct", "npv_usd", "first_plan_s", "root_gap_pct", "to_1pct_s",
    "time_limit_s", "load_s", "prepare_s",
    "build_model_s", "compile_s", "finance_start_s", "build_s", "highs_s", "extract_s",
    "audit_s", "write_s", "workbook_s",
    "total_s", "outside_highs_pct", "wall_s", "import_s", "cpu_s", "peak_mb",
    "busy_cores_before", "others_cores", "error",
    # a decomposed run (candidate `decompose`): its outer bound, PH iterations, the largest
    # MPI rank's peak memory and the per-future re-solves after PH
    "best_bound_usd", "iterations", "rank_peak_mb", "recourse_s",
]
DECOMPOSE = "decompose"  # the candidate that solves by decomposition, not by a solver key
BATCH_COLUMNS = ["repeat", "scenarios", "workers", "runner", "seconds", "speedup", "solved",
                 "statuses", "highs_s_sum", "tasks_s_sum", "cpu_s", "busy_cores_before",
                 "others_cores", "mip_gap_pct", "time_limit_s"]
CHILD_MARK = "@@bench "  # the line of the child's stdout that carries its row

# ---------------------------------------------------------------------------- machine load


def _machine_busy_seconds() -> float | None:
    """CPU seconds all processes of the machine have used since boot (Linux), else None."""
    try:
        with open("/proc/stat", encoding="ascii") as f:
            fields = [int(x) for x in f.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def busy_cores(interval: float = 1.0) -> float | None:
    """Cores busy over the next `interval` seconds (whoever uses them)."""
    before = _machine_busy_seconds()
    time.sleep(interval)
    after = _machine_busy_seconds()
    return None if before is None or after is None else (after - before) / interval


def wait_until_idle(max_wait_s: float, busy_limit: float = 0.3) -> float | None:
    """Wait (at most `max_wait_s`) until other processes use at most `busy_limit` cores;
    returns the busy cores last seen."""
    deadline = time.monotonic() + max_wait_s
    while True:
        busy = busy_cores(2.0)
        if busy is None or busy <= busy_limit or time.monotonic() >= deadline:
            return busy
        time.sleep(3.0)


def _busy_before(wait_idle_s: float) -> float | None:
    return wait_until_idle(wait_idle_s) if wait_idle_s > 0 else busy_cores(1.0)


def _children_cpu() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _peak_mb() -> float:
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


class _Load:
    """CPU used by child processes and by everyone else while a measurement runs."""

    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.machine0, self.cpu0 = _machine_busy_seconds(), _children_cpu()

    def measured(self) -> dict[str, Any]:
        wall = time.perf_counter() - self.started
        cpu, machine1 = _children_cpu() - self.cpu0, _machine_busy_seconds()
        others = None if self.machine0 is None or machine1 is None \
            else max(0.0, (machine1 - self.machine0 - cpu) / wall)
        return {"wall_s": wall, "cpu_s": cpu, "others_cores": others}


def source_version() -> str:
    """`git describe --always --dirty` of the project siteopt runs from ('' without git)."""
    try:
        done = subprocess.run(["git", "describe", "--always", "--dirty"], capture_output=True,
                              text=True, timeout=10, cwd=Path(__file__).resolve().parents[3])
    except (OSError, subprocess.SubprocessError):
        return ""
    return done.stdout.strip() if done.returncode == 0 else ""


# ---------------------------------------------------------------------------- one run (child)


def run_one(scenario_path: Path, outdir: Path, workbook: bool = True,
            profile: Path | None = None, decompose: bool = False) -> dict[str, Any]:
    """Solve one scenario as `siteopt solve` does (plan only) and time every stage. Meant to
    run in a fresh process, so that its imports and peak memory are this run's own."""
    started = time.perf_counter()
    from siteopt.api import solve_inputs
    from siteopt.export.results_folder import write_results
    from siteopt.inputs import load_inputs

    imported = time.perf_counter()
    stages: dict[str, float] = {}

    def on_stage(name: str, seconds: float) -> None:
        stages[name] = stages.get(name, 0.0) + seconds

    profiler = None
    if profile is not None:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    t = time.perf_counter()
    inputs = load_inputs(scenario_path)
    loaded = time.perf_counter()
    if decompose:  # mpi-sppy on 3 local ranks, then the futures re-solved: no measures
        # and no baseline, as the extensive form below
        from siteopt.stochastic.decompose import Decomposition, incumbent, solve_decomposed

        found = incumbent(inputs, scenario_path, None, {}, Decomposition(), quiet=True)
        results = solve_decomposed(inputs, found, measures=False, baseline=False)
    elif inputs.scenario.uncertainty is not None:  # the extensive form alone: no measures
        from siteopt.stochastic.run import solve_stochastic

        results = solve_stochastic(inputs, baseline=False, measures=False, on_stage=on_stage)
    else:
        results = solve_inputs(inputs, baseline=False, on_stage=on_stage)
    solved = time.perf_counter()
    summary = results.summary
    status = summary["status"]
    written = workbook_done = solved
    if status in ("optimal", "feasible"):
        write_results(results, outdir, workbook=False)
        written = time.perf_counter()
        if workbook:
            from siteopt.export.workbook import write_plan_workbook

            write_plan_workbook(results, outdir / "plan.xlsx")
        workbook_done = time.perf_counter()
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(str(profile))

    size = summary.get("size") or {}
    build = float(summary.get("build_seconds") or 0.0)
    highs = float(summary.get("solve_seconds") or 0.0)
    load = loaded - t
    extract = (solved - loaded) - build - highs  # extract + audit + KPIs (+ small glue)
    write = written - solved
    total = load + build + highs + extract + write
    return {
        "campuses": len(inputs.campuses), "months": inputs.scenario.horizon.months,
        "offers": len(inputs.offers),
        "variables": size.get("variables"), "constraints": size.get("constraints"),
        "integers": size.get("integers"), "status": status,
        "mip_gap_pct": summary.get("mip_gap_pct"), "npv_usd": summary.get("npv_usd"),
        "first_plan_s": (summary.get("search") or {}).get("first_plan_seconds"),
        "root_gap_pct": (summary.get("search") or {}).get("root_gap_pct"),
        "to_1pct_s": (summary.get("search") or {}).get("seconds_to_1pct"),
        "time_limit_s": inputs.scenario.solver.time_limit_s,
        "load_s": load, "prepare_s": stages.get("prepare"),
        "build_model_s": stages.get("build"), "compile_s": _compile_seconds(build, stages),
        "finance_start_s": stages.get("finance_start"),
        "build_s": build, "highs_s": highs, "extract_s": extract,
        "audit_s": stages.get("audit"), "write_s": write,
        "workbook_s": workbook_done - written if workbook else None,
        "total_s": total, "outside_highs_pct": 100 * (total - highs) / total if total else None,
        "import_s": imported - started, "peak_mb": _peak_mb(), "error": "",
        **_decomposed_columns(summary),
    }


def _decomposed_columns(summary: dict[str, Any]) -> dict[str, Any]:
    import resource

    run = (summary.get("stochastic") or {}).get("decomposition")
    if not run:
        return {"best_bound_usd": summary.get("best_bound_usd")}
    # as the ranks report it; else (under a launcher that is not our child) as the kernel
    # kept the largest of mpiexec's children
    ranks = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    ranks_mb = ranks / (1024 * 1024) if sys.platform == "darwin" else ranks / 1024
    return {"best_bound_usd": summary.get("best_bound_usd"), "iterations": run["iterations"],
            "rank_peak_mb": run.get("rank_peak_mb") or ranks_mb,
            "recourse_s": run["recourse_seconds"]}


def _compile_seconds(build_s: float, stages: dict[str, float]) -> float | None:
    """The standard-form compile plus handing the model to HiGHS: the part of the summary's
    build seconds after prepare, pre-check, the Pyomo build and the finance start's own solve
    (None when nothing compiled)."""
    if "compile" not in stages:
        return None
    return build_s - sum(stages.get(s, 0.0)
                         for s in ("prepare", "precheck", "build", "finance_start"))


def child_main(argv: list[str]) -> None:
    """The child's side of the protocol: one JSON argument in, one marked JSON line out."""
    args = json.loads(argv[0])
    row = run_one(Path(args["scenario"]), Path(args["outdir"]), workbook=args["workbook"],
                  profile=Path(args["profile"]) if args.get("profile") else None,
                  decompose=bool(args.get("decompose")))
    sys.stdout.write("\n" + CHILD_MARK + json.dumps(row) + "\n")


def _run_in_subprocess(scenario: Path, outdir: Path, workbook: bool, timeout_s: float,
                       profile: Path | None = None, decompose: bool = False) -> dict[str, Any]:
    payload = json.dumps({"scenario": str(scenario), "outdir": str(outdir),
                          "workbook": workbook, "profile": str(profile) if profile else None,
                          "decompose": decompose})
    load = _Load()
    try:
        done = subprocess.run([sys.executable, "-m", "siteopt.runs.bench", "--child", payload],
                              capture_output=True, text=True, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        return {"status": "timeout", "error": f"killed after {timeout_s:.0f} s",
                "wall_s": time.perf_counter() - load.started}
    measured = load.measured()
    for line in reversed(done.stdout.splitlines()):
        if line.startswith(CHILD_MARK):
            return {**json.loads(line[len(CHILD_MARK):]), **measured}
    tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
    return {"status": "error", **measured,
            "error": f"exit {done.returncode}: {' | '.join(tail)}"}


# ---------------------------------------------------------------------------- the benchmark


def bench_sizes(sizes: list[str], seeds: int = 3, time_limit_s: float = 120.0,
                mip_gap_pct: float = 1.0, workbook: bool = True,
                profile_dir: Path | None = None, wait_idle_s: float = 0.0,
                on_row: Callable[[dict[str, Any]], None] | None = None,
                variants: tuple[str, ...] = ("plan",),
                candidates: dict[str, dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """Every size × seed (seeds 1..`seeds`) × variant (`plan`, `funded`) × candidate in its
    own subprocess; one row per run. `candidates` name solver settings to compare on the
    same portfolios side by side (their order alternates from seed to seed, so a machine
    that slows down does not favour one). With `wait_idle_s` each run first waits (that long
    at most) for the machine to be idle."""
    rows = []
    candidates = candidates or {"": {}}
    with tempfile.TemporaryDirectory(prefix="siteopt-bench-") as tmp:
        for size in sizes:
            for seed in range(1, seeds + 1):
                for variant in variants:
                    portfolio = with_variant(generate(size, seed), variant)
                    names = list(candidates)
                    for name in names if seed % 2 else names[::-1]:
                        folder = Path(tmp) / f"{size}-{seed}-{variant}-{name or 'run'}"
                        settings = {k: v for k, v in candidates[name].items()
                                    if k != DECOMPOSE}
                        scenario = write_synthetic(portfolio, folder, threads=1,
                                                   time_limit_s=time_limit_s,
                                                   mip_gap_pct=mip_gap_pct, **settings)
                        profile = profile_dir / f"{folder.name}.prof" if profile_dir else None
                        busy = _busy_before(wait_idle_s)
                        row = {"size": size, "variant": variant, "candidate": name,
                               "seed": seed, "commit": source_version(),
                               "time_limit_s": time_limit_s, "busy_cores_before": busy,
                               **_run_in_subprocess(scenario, folder / "out", workbook,
                                                    timeout_s=max(900.0, 10 * time_limit_s),
                                                    profile=profile,
                                                    decompose=DECOMPOSE in candidates[name])}
                        rows.append({c: row.get(c) for c in RUN_COLUMNS})
                        if on_row:
                            on_row(rows[-1])
    return rows


def bench_batch(count: int = 16, workers: int = 2, time_limit_s: float = 120.0,
                mip_gap_pct: float = 1.0, workbook: bool = True, wait_idle_s: float = 0.0,
                repeats: int = 3) -> list[dict[str, Any]]:
    """`count` base-size scenarios one after another (1 worker process) and on `workers`
    processes, each HiGHS on one thread, `repeats` times (the order of the two alternates);
    one row per measurement, `speedup` against the one-worker run of the same repeat."""
    solver = {"threads": 1, "time_limit_s": time_limit_s, "mip_gap_pct": mip_gap_pct}
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="siteopt-batch-") as tmp:
        files = batch_scenarios(Path(tmp), count)
        for repeat in range(1, repeats + 1):
            modes = sorted({1, workers}, reverse=repeat % 2 == 0)
            measured = {n: _batch_once(files, Path(tmp) / f"out-{repeat}-{n}", n, solver,
                                       workbook, wait_idle_s) for n in modes}
            for n in sorted(modes):
                rows.append({"repeat": repeat, "scenarios": count, "workers": n,
                             **measured[n], "speedup": measured[1]["seconds"]
                             / measured[n]["seconds"], "mip_gap_pct": mip_gap_pct,
                             "time_limit_s": time_limit_s})
    return rows


def _batch_once(files: list[Path], outdir: Path, workers: int, solver: dict[str, Any],
                workbook: bool, wait_idle_s: float) -> dict[str, Any]:
    """One batch of `siteopt batch`'s own tasks (plan, baseline, result folder)."""
    from siteopt.runs.batch import SUCCESS, plan_tasks, run_batch

    busy = _busy_before(wait_idle_s)
    load = _Load()
    results = run_batch(plan_tasks(files, outdir, workbook=workbook, solver=solver),
                        workers=workers)
    measured = load.measured()
    statuses = [str(r.get("status")) for r in results]
    return {"runner": "siteopt.runs.batch", "seconds": measured["wall_s"],
            "solved": sum(s in SUCCESS for s in statuses),
            "statuses": ";".join(f"{s}={statuses.count(s)}" for s in sorted(set(statuses))),
            "highs_s_sum": sum(r.get("solve_seconds") or 0.0 for r in results),
            "tasks_s_sum": sum(r.get("total_seconds") or 0.0 for r in results),
            "cpu_s": measured["cpu_s"], "busy_cores_before": busy,
            "others_cores": measured["others_cores"]}
