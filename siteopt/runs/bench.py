"""Benchmark (issue 8): how long siteopt takes, and where the time goes, as portfolios grow.

Three parts:

* `generate(size, seed)` — a seeded synthetic portfolio in realistic ranges (data/README.md,
  /work/shared/domain-facts.md), written by `write_synthetic` as the project's own CSV tables
  and scenario YAML, so it goes through the same loader and validation as any portfolio.
  Every signed lease can be delivered (`undeliverable_signed`), and the caps of the larger
  sizes never make the signed leases infeasible (each signed lease has a campus of its own,
  the yearly caps hold all signed MW, and with a tenant cap no signed tenant holds more than
  the cap of the signed MW).
* `bench_sizes(...)` — each size × seed solved in a FRESH subprocess (`python -m
  siteopt.runs.bench --child`), so the peak memory read there (`ru_maxrss`) is that run's own. The
  child runs the same pipeline as `siteopt solve` (load_inputs → solve_inputs without the
  mining-only baseline → write_results, then the workbook separately) and times each stage by
  wrapping the functions siteopt.api calls.
* `bench_batch(...)` — 16 base-size scenarios (scenarios/base.yaml with the BTC price moved
  ±10 %) solved one after another vs on 2 worker processes (`siteopt.runs.batch`), repeated.

Timings are wall-clock seconds. Tests never time anything; this module is where speed is
measured.
"""

from __future__ import annotations

import csv
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

HORIZON_START = "2027-01"
START_ORDINAL = 2027 * 12  # 2027-01

# The market of scenarios/base.yaml, as it is (a test keeps them equal).
BASE_MARKET: dict[str, Any] = {
    "btc_price_usd": 90000,
    "btc_price_growth_pct_per_year": 8,
    "network_hashrate_ehs": 1050,
    "network_hashrate_growth_pct_per_year": 12,
    "fees_btc_per_block": 0.025,
    "block_subsidy_btc": 3.125,
    "halving_months": ["2028-04", "2032-04"],
}
BASE_FINANCE: dict[str, Any] = {"discount_rate_pct_per_year": 10, "value_beyond_horizon": True}

# (region, power price range USD/MWh): 26-45 for the best US miners, 55-70 hosted, Quebec ~40.
REGIONS: list[tuple[str, float, float, float]] = [  # region, weight, low, high
    ("ERCOT", 0.35, 30, 45), ("PJM", 0.15, 45, 70), ("MISO", 0.15, 32, 50),
    ("NYISO", 0.10, 35, 55), ("SPP", 0.15, 30, 45), ("HQ", 0.10, 35, 45),
]
BLOCKS_IT_MW = (10, 20, 25, 40, 50)
TENANT_KINDS = ("Hyperscaler", "GPU cloud", "AI lab", "Inference cloud", "Chip vendor")


@dataclass(frozen=True)
class Size:
    name: str
    campuses: int
    months: int
    offers: int
    supply_cap: bool  # company-wide IT MW started per year
    tenant_cap: bool  # 40 % tenant concentration cap
    region_cap: bool  # IT MW started per year in the largest region


SIZES: dict[str, Size] = {
    "S": Size("S", 5, 60, 5, False, False, False),
    "M": Size("M", 20, 120, 20, True, False, False),
    "L": Size("L", 60, 120, 60, True, True, True),
    "XL": Size("XL", 150, 180, 150, True, True, True),
}
TENANT_CAP_PCT = 40.0


@dataclass
class Synthetic:
    """A generated portfolio and its scenario settings, before they are written."""

    size: str
    seed: int
    campuses: list[dict[str, Any]]
    offers: list[dict[str, Any]]
    phases: list[dict[str, Any]]
    scenario: dict[str, Any]
    hosts: dict[str, str] = field(default_factory=dict)  # signed offer → campus reserved for it


# ---------------------------------------------------------------------------- generator


def _label(months_from_start: int) -> str:
    ordinal = START_ORDINAL + months_from_start
    return f"{ordinal // 12:04d}-{ordinal % 12 + 1:02d}"


def _offset(label: str) -> int:
    year, month = label.split("-")
    return int(year) * 12 + int(month) - 1 - START_ORDINAL


def _floor5(x: float) -> int:
    return int(math.floor(x / 5 + 1e-9)) * 5


def _round_to(x: float, step: float) -> float:
    return round(x / step) * step


def _ready(campus: dict[str, Any]) -> int:
    """First month (from the horizon start) converted capacity can be ready."""
    permit = _offset(campus["permit_ready"]) if campus["permit_ready"] else 0
    return max(0, permit) + int(campus["build_months"])


def _campus(rng: np.random.Generator, i: int) -> dict[str, Any]:
    region, _, low, high = REGIONS[rng.choice(len(REGIONS), p=[r[1] for r in REGIONS])]
    grid = int(rng.integers(20, 351))
    pue = round(float(rng.uniform(1.20, 1.45)), 2)
    fits = [b for b in BLOCKS_IT_MW if b <= grid / pue]
    block = int(rng.choice(fits))
    share = float(rng.uniform(0.75, 1.0))  # of the connection the halls may take
    hpc_max = max(1, int(grid * share / pue // block)) * block
    granted = rng.random() < 0.5
    return {
        "campus_id": f"C{i + 1:03d}",
        "name": f"Campus {i + 1} ({region})",
        "region": region,
        "grid_mw": grid,
        "power_price_usd_per_mwh": round(float(rng.uniform(low, high)), 1),
        "miner_mw": int(round(grid * float(rng.uniform(0.6, 1.0)))),
        "fleet_efficiency_j_per_th": round(float(rng.uniform(15, 30)), 1),
        "mining_opex_usd_per_mw_month": int(_round_to(float(rng.uniform(7000, 11000)), 100)),
        "hpc_max_it_mw": hpc_max,
        "hpc_block_it_mw": block,
        "hpc_pue": pue,
        "capex_usd_per_it_mw": int(round(float(rng.uniform(8.0, 11.0)), 1) * 1_000_000),
        "build_months": int(rng.integers(8, 25)),
        "permit_ready": "" if granted else _label(int(rng.integers(6, 37))),
        "hpc_opex_usd_per_it_mw_month": int(_round_to(float(rng.uniform(16000, 28000)), 1000)),
        "asic_salvage_usd_per_mw": int(_round_to(float(rng.uniform(150000, 300000)), 10000)),
    }


def _balance_signed(sizes: list[int], cap: float) -> list[int]:
    """Shrink the largest signed leases until none is more than `cap` of their total."""
    sizes = list(sizes)
    if len(sizes) * cap < 1 + 1e-9:
        return sizes  # cannot be balanced; callers only cap tenants with enough signed leases
    for _ in range(100):
        big = max(range(len(sizes)), key=sizes.__getitem__)
        others = sum(sizes) - sizes[big]
        limit = _floor5(cap / (1 - cap) * others)
        if sizes[big] <= limit:
            break
        sizes[big] = max(25, limit)
    return sizes


def generate(size: str, seed: int) -> Synthetic:
    """A synthetic portfolio of `size` (S, M, L, XL); the same seed gives the same portfolio."""
    spec = SIZES[size]
    rng = np.random.default_rng([seed, list(SIZES).index(size)])
    horizon = spec.months
    campuses = [_campus(rng, i) for i in range(spec.campuses)]
    # at least one campus must be able to host the smallest offer
    if max(c["hpc_max_it_mw"] for c in campuses) < 25:
        c = campuses[0]
        c.update(grid_mw=120, hpc_block_it_mw=25,
                 hpc_max_it_mw=int(120 / c["hpc_pue"] // 25) * 25)

    n = spec.offers
    n_signed = max(1, round(0.1 * n))
    n_split = round(0.05 * n) if n >= 20 else 0
    n_tenants = max(4, n // 3, n_signed)
    tenants = [f"{TENANT_KINDS[t % len(TENANT_KINDS)]} {t + 1:02d}" for t in range(n_tenants)]
    offers: list[dict[str, Any]] = []
    phases: list[dict[str, Any]] = []
    hosts: dict[str, str] = {}

    def base_terms(it_mw: int) -> dict[str, Any]:
        rate = int(rng.integers(120, 191))
        terms = {
            "it_mw": it_mw,
            "rate_usd_per_kw_month": rate,
            "escalator_pct_per_year": float(rng.choice([2.0, 2.5, 3.0])),
            "term_months": 12 * int(rng.integers(10, 16)),
            "split": "false",
            "late_penalty_usd_per_month": 0,
            "max_delay_months": 0,
            "prepayment_usd": 0,
            "prepayment_credit_months": 0,
            "tenant_capex_pct": 0,
            "signing_month": "",
        }
        if rng.random() < 0.25:  # some tenants accept a late start, for a penalty
            terms["max_delay_months"] = int(rng.integers(1, 7))
            terms["late_penalty_usd_per_month"] = int(_round_to(
                it_mw * 1000 * rate * float(rng.uniform(0.05, 0.15)), 10000))
        if rng.random() < 0.15:
            terms["tenant_capex_pct"] = int(rng.integers(10, 31))
        if rng.random() < 0.10:
            terms["prepayment_usd"] = int(_round_to(it_mw * 1000 * rate * int(
                rng.integers(1, 4)), 100000))
            terms["prepayment_credit_months"] = 12
        return terms

    def window(width: int, latest: int | None = None) -> tuple[int, int]:
        if latest is None:
            early = int(rng.integers(3, max(4, min(horizon - width - 1, 72))))
            return early, early + width
        return max(0, latest - width), latest

    # signed leases: each on a campus of its own that is ready by its latest start
    signed_mw = [5 * int(rng.integers(5, 51)) for _ in range(n_signed)]
    if spec.tenant_cap:
        signed_mw = _balance_signed(signed_mw, TENANT_CAP_PCT / 100)
    for k, it_mw in enumerate(signed_mw):
        free = [c for c in campuses if c["campus_id"] not in hosts.values()
                and c["hpc_max_it_mw"] >= 25]
        room = [c for c in free if _ready(c) <= horizon - 13]
        if not room:  # grant the permit of the free campus that can be ready first
            c = min(free, key=lambda c: int(c["build_months"]))
            c["permit_ready"] = ""
            room = [c]
        fitting = [c for c in room if c["hpc_max_it_mw"] >= it_mw]
        if not fitting:
            biggest = max(room, key=lambda c: c["hpc_max_it_mw"])
            it_mw = max(25, _floor5(biggest["hpc_max_it_mw"]))
            fitting = [biggest]
        host = fitting[int(rng.integers(len(fitting)))]
        latest = min(horizon - 13, _ready(host) + int(rng.integers(0, 7)))
        early, late = window(int(rng.integers(6, 19)), latest)
        others = [c["campus_id"] for c in campuses
                  if c is not host and c["hpc_max_it_mw"] >= it_mw]
        extra = list(rng.choice(others, size=min(len(others), int(rng.integers(0, 4))),
                                replace=False)) if others else []
        offer_id = f"S{k + 1:03d}"
        hosts[offer_id] = host["campus_id"]
        offers.append({"offer_id": offer_id, "tenant": tenants[k], **base_terms(it_mw),
                       "earliest_start": _label(early), "latest_start": _label(late),
                       "campuses": ";".join(sorted([host["campus_id"], *map(str, extra)])),
                       "signed": "true"})
        if rng.random() < 0.5:
            offers[-1]["signing_month"] = _label(-int(rng.integers(1, 13)))

    # open offers, a few of them shared between campuses (split)
    biggest = max(c["hpc_max_it_mw"] for c in campuses)
    for k in range(n - n_signed):
        it_mw = 5 * int(rng.integers(5, 51))
        split = k < n_split
        if split:
            pool = [c for c in campuses if c["hpc_max_it_mw"] > 0]
            count = min(len(pool), int(rng.integers(2, 5)))
            chosen = [pool[i] for i in rng.choice(len(pool), size=count, replace=False)]
            unit = min(c["hpc_block_it_mw"] for c in chosen)
            room = int(0.8 * sum(c["hpc_max_it_mw"] for c in chosen))
            it_mw = max(unit, min(it_mw, room) // unit * unit)
        else:
            if it_mw > biggest:
                it_mw = max(25, _floor5(biggest))
            pool = [c for c in campuses if c["hpc_max_it_mw"] >= it_mw]
            count = min(len(pool), int(rng.integers(1, 5)))
            chosen = [pool[i] for i in rng.choice(len(pool), size=count, replace=False)]
        early, late = window(int(rng.integers(6, 19)))
        offers.append({"offer_id": f"O{k + 1:03d}", "tenant": tenants[int(rng.integers(
            n_tenants))], **base_terms(it_mw), "earliest_start": _label(early),
            "latest_start": _label(late),
            "campuses": ";".join(sorted(c["campus_id"] for c in chosen)),
            "signed": "false", **({"split": "true"} if split else {})})

    # phased delivery for a few offers (not split): 2-3 phases over the first 1-2 years
    phaseable = [o for o in offers if o["split"] == "false" and o["it_mw"] >= 60]
    n_phased = min(len(phaseable), max(1, round(0.1 * n)))
    for i in rng.choice(len(phaseable), size=n_phased, replace=False) if phaseable else []:
        o = phaseable[int(i)]
        count = int(rng.integers(2, 4))
        after = [0, int(rng.integers(3, 10)), int(rng.integers(10, 19))][:count]
        first = max(5, _floor5(o["it_mw"] * float(rng.uniform(0.25, 0.5))))
        parts = [first]
        if count == 3:
            parts.append(max(5, _floor5((o["it_mw"] - first) / 2)))
        parts.append(o["it_mw"] - sum(parts))
        phases += [{"offer_id": o["offer_id"], "phase": p + 1, "it_mw": mw,
                    "months_after_start": a} for p, (mw, a) in enumerate(zip(parts, after))]

    order = rng.permutation(len(offers))  # signed leases are not all first
    offers = [offers[i] for i in order]
    scenario = _scenario(spec, seed, campuses, offers, hosts)
    return Synthetic(size, seed, campuses, offers, phases, scenario, hosts)


def _scenario(spec: Size, seed: int, campuses: list[dict[str, Any]],
              offers: list[dict[str, Any]], hosts: dict[str, str]) -> dict[str, Any]:
    market = json.loads(json.dumps(BASE_MARKET))
    limits: dict[str, Any] = {}
    by_id = {c["campus_id"]: c for c in campuses}

    def blocks_mw(offer_id: str) -> float:
        offer = next(o for o in offers if o["offer_id"] == offer_id)
        block = by_id[hosts[offer_id]]["hpc_block_it_mw"]
        return math.ceil(offer["it_mw"] / block - 1e-9) * block

    signed_mw = sum(blocks_mw(o) for o in hosts)
    if spec.supply_cap:
        nominal = 0.15 * sum(o["it_mw"] for o in offers)
        limits["max_it_mw_started_per_year"] = int(
            math.ceil(max(signed_mw, nominal) / 50) * 50)
    if spec.region_cap:
        regions = [c["region"] for c in campuses]
        region = max(sorted(set(regions)), key=regions.count)
        needed = sum(blocks_mw(o) for o, c in hosts.items() if by_id[c]["region"] == region)
        limits["max_it_mw_started_per_year_by_region"] = {region: int(math.ceil(max(
            needed, 0.5 * limits["max_it_mw_started_per_year"]) / 50) * 50)}
    if spec.tenant_cap:
        limits["max_tenant_share_pct"] = TENANT_CAP_PCT
    return {
        "name": f"bench-{spec.name}-{seed}",
        "description": f"Synthetic benchmark portfolio {spec.name}, seed {seed}",
        "portfolio": "portfolio",
        "horizon": {"start": HORIZON_START, "months": spec.months},
        "market": market,
        "finance": dict(BASE_FINANCE),
        "solver": {"mip_gap_pct": 1.0, "time_limit_s": 120.0, "threads": 1},
        **({"limits": limits} if limits else {}),
    }


def undeliverable_signed(synthetic: Synthetic) -> list[str]:
    """Signed leases with no eligible campus where permit + build <= latest_start and
    hpc_max_it_mw >= it_mw (empty when every signed lease can be delivered)."""
    by_id = {c["campus_id"]: c for c in synthetic.campuses}
    problems = []
    for o in synthetic.offers:
        if o["signed"] != "true":
            continue
        latest = _offset(o["latest_start"])
        ok = [c for c in o["campuses"].split(";")
              if by_id[c]["hpc_max_it_mw"] >= o["it_mw"] and _ready(by_id[c]) <= latest]
        if not ok:
            problems.append(f"{o['offer_id']}: no eligible campus is ready by {o['latest_start']}"
                            f" with {o['it_mw']} IT MW")
    return problems


def write_synthetic(synthetic: Synthetic, folder: Path, **solver: Any) -> Path:
    """Write the portfolio as CSV tables in the project's format and the scenario YAML into
    `folder`; returns the scenario path. `solver` keys override the scenario's solver."""
    import yaml

    from siteopt.inputs.schema import CAMPUSES, OFFER_PHASES, OFFERS

    portfolio = folder / "portfolio"
    portfolio.mkdir(parents=True, exist_ok=True)
    for table, rows in ((CAMPUSES, synthetic.campuses), (OFFERS, synthetic.offers),
                        (OFFER_PHASES, synthetic.phases)):
        with (portfolio / f"{table.name}.csv").open("w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, fieldnames=table.column_names, lineterminator="\n")
            writer.writeheader()
            for row in rows:
                writer.writerow({k: row.get(k, "") for k in table.column_names})
    settings = json.loads(json.dumps(synthetic.scenario))
    settings["solver"].update({k: v for k, v in solver.items() if v is not None})
    path = folder / "scenario.yaml"
    path.write_text(yaml.safe_dump(settings, sort_keys=False), encoding="utf-8")
    return path


# ---------------------------------------------------------------------------- one run (child)

RUN_COLUMNS = [
    "size", "seed", "commit", "campuses", "months", "offers", "variables", "constraints",
    "integers",
    "status", "mip_gap_pct", "npv_usd", "time_limit_s", "load_s", "prepare_s", "build_model_s",
    "compile_s", "build_s", "highs_s", "extract_s", "audit_s", "write_s", "workbook_s",
    "total_s", "outside_highs_pct", "wall_s", "import_s", "cpu_s", "peak_mb",
    "busy_cores_before", "others_cores", "error",
]


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
    returns the busy cores last seen. Other sessions on a small machine distort timings."""
    deadline = time.monotonic() + max_wait_s
    while True:
        busy = busy_cores(2.0)
        if busy is None or busy <= busy_limit or time.monotonic() >= deadline:
            return busy
        time.sleep(3.0)


def _children_cpu() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _peak_mb() -> float:
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def run_one(scenario_path: Path, outdir: Path, workbook: bool = True,
            profile: Path | None = None) -> dict[str, Any]:
    """Solve one scenario as `siteopt solve` does (plan only) and time every stage. Meant to
    run in a fresh process: it wraps the functions siteopt.api calls with timers."""
    started = time.perf_counter()
    import siteopt.api as api
    from siteopt.export.results_folder import write_results
    from siteopt.inputs import load_inputs

    imported = time.perf_counter()
    marks: dict[str, float] = {}
    outcomes: list[Any] = []

    def timed(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            t = time.perf_counter()
            try:
                result = func(*args, **kwargs)
            finally:
                marks[name] = marks.get(name, 0.0) + time.perf_counter() - t
            if name in ("solve", "solve_compiled"):
                outcomes.append(result)
            return result
        return wrapper

    # whatever of these siteopt.api calls (older versions: solve; newer: compile_model +
    # solve_compiled) is timed; the outcome of the solve is kept for its compile time
    for name in ("prepare", "build_model", "compile_model", "solve", "solve_compiled",
                 "extract", "audit_plan", "with_kpis"):
        if hasattr(api, name):
            setattr(api, name, timed(name, getattr(api, name)))

    profiler = None
    if profile is not None:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    t = time.perf_counter()
    inputs = load_inputs(scenario_path)
    loaded = time.perf_counter()
    results = api.solve_inputs(inputs, baseline=False)
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

    outcome = outcomes[-1] if outcomes else None
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
        "time_limit_s": inputs.scenario.solver.time_limit_s,
        "load_s": load, "prepare_s": marks.get("prepare"),
        "build_model_s": marks.get("build_model"),
        "compile_s": getattr(outcome, "compile_seconds", marks.get("compile_model")),
        "build_s": build, "highs_s": highs, "extract_s": extract,
        "audit_s": marks.get("audit_plan"), "write_s": write,
        "workbook_s": workbook_done - written if workbook else None,
        "total_s": total, "outside_highs_pct": 100 * (total - highs) / total if total else None,
        "import_s": imported - started, "peak_mb": _peak_mb(), "error": "",
    }


def _child(argv: list[str]) -> None:
    args = json.loads(argv[0])
    row = run_one(Path(args["scenario"]), Path(args["outdir"]), workbook=args["workbook"],
                  profile=Path(args["profile"]) if args.get("profile") else None)
    sys.stdout.write("\n@@bench " + json.dumps(row) + "\n")


def _run_in_subprocess(scenario: Path, outdir: Path, workbook: bool, timeout_s: float,
                       profile: Path | None = None) -> dict[str, Any]:
    payload = json.dumps({"scenario": str(scenario), "outdir": str(outdir),
                          "workbook": workbook, "profile": str(profile) if profile else None})
    started, machine0, cpu0 = time.perf_counter(), _machine_busy_seconds(), _children_cpu()
    try:
        done = subprocess.run([sys.executable, "-m", "siteopt.runs.bench", "--child", payload],
                              capture_output=True, text=True, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        return {"status": "timeout", "error": f"killed after {timeout_s:.0f} s",
                "wall_s": time.perf_counter() - started}
    wall = time.perf_counter() - started
    cpu = _children_cpu() - cpu0
    machine1 = _machine_busy_seconds()
    load = {"wall_s": wall, "cpu_s": cpu,
            "others_cores": None if machine0 is None or machine1 is None
            else max(0.0, (machine1 - machine0 - cpu) / wall)}
    for line in reversed(done.stdout.splitlines()):
        if line.startswith("@@bench "):
            return {**json.loads(line[len("@@bench "):]), **load}
    tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
    return {"status": "error", **load, "error": f"exit {done.returncode}: {' | '.join(tail)}"}


# ---------------------------------------------------------------------------- the benchmark


def bench_sizes(sizes: list[str], seeds: int = 3, time_limit_s: float = 120.0,
                mip_gap_pct: float = 1.0, workbook: bool = True,
                profile_dir: Path | None = None, wait_idle_s: float = 0.0,
                on_row: Callable[[dict[str, Any]], None] | None = None) -> list[dict[str, Any]]:
    """Every size × seed (seeds 1..`seeds`) in its own subprocess; one row per run. With
    `wait_idle_s` each run first waits (that long at most) for the machine to be idle."""
    rows = []
    with tempfile.TemporaryDirectory(prefix="siteopt-bench-") as tmp:
        for size in sizes:
            for seed in range(1, seeds + 1):
                folder = Path(tmp) / f"{size}-{seed}"
                scenario = write_synthetic(generate(size, seed), folder, threads=1,
                                           time_limit_s=time_limit_s, mip_gap_pct=mip_gap_pct)
                profile = profile_dir / f"{size}-{seed}.prof" if profile_dir else None
                busy = wait_until_idle(wait_idle_s) if wait_idle_s > 0 else busy_cores(1.0)
                row = {"size": size, "seed": seed, "commit": source_version(),
                       "time_limit_s": time_limit_s,
                       "busy_cores_before": busy,
                       **_run_in_subprocess(scenario, folder / "out", workbook,
                                            timeout_s=max(900.0, 10 * time_limit_s),
                                            profile=profile)}
                rows.append({c: row.get(c) for c in RUN_COLUMNS})
                if on_row:
                    on_row(rows[-1])
    return rows


def source_version() -> str:
    """`git describe --always --dirty` of the project siteopt runs from ('' without git)."""
    try:
        done = subprocess.run(["git", "describe", "--always", "--dirty"], capture_output=True,
                              text=True, timeout=10, cwd=Path(__file__).resolve().parents[2])
    except (OSError, subprocess.SubprocessError):
        return ""
    return done.stdout.strip() if done.returncode == 0 else ""


def _base_scenario() -> Path | None:
    from siteopt.inputs.template import EXAMPLE_SCENARIO  # the checkout's, or the wheel's copy

    return EXAMPLE_SCENARIO if EXAMPLE_SCENARIO.is_file() else None


def _batch_files(folder: Path, count: int) -> list[Path]:
    """`count` copies of scenarios/base.yaml (with its portfolio) whose BTC price steps from
    -10 % to +10 % of the base's."""
    import shutil

    import yaml

    from siteopt.inputs.scenario import load_scenario

    base = _base_scenario()
    if base is None:
        raise FileNotFoundError("scenarios/base.yaml not found beside the siteopt package")
    loaded = load_scenario(base)
    settings = json.loads(json.dumps(loaded.settings))
    shutil.copytree(loaded.origin_dir("portfolio") / settings["portfolio"], folder / "portfolio")
    settings["portfolio"] = "portfolio"
    price = settings["market"]["btc_price_usd"]
    files = []
    for i in range(count):
        step = (i / (count - 1) - 0.5) * 0.2 if count > 1 else 0.0
        settings["name"] = f"base-btc{i + 1:02d}"
        settings["market"]["btc_price_usd"] = round(price * (1 + step))
        path = folder / f"base-btc{i + 1:02d}.yaml"
        path.write_text(yaml.safe_dump(settings, sort_keys=False), encoding="utf-8")
        files.append(path)
    return files


def _own_pool(files: list[Path], outdir: Path, workers: int, solver: dict[str, Any]
              ) -> list[dict[str, Any]]:
    """Fallback when siteopt.runs.batch is absent: a minimal spawn pool over run_task-like work."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        jobs = [pool.submit(_solve_file, str(f), str(outdir / f.stem), solver) for f in files]
        return [j.result() for j in jobs]


def _solve_file(scenario: str, outdir: str, solver: dict[str, Any]) -> dict[str, Any]:
    from siteopt.api import solve_inputs, with_solver_options
    from siteopt.export.results_folder import write_results
    from siteopt.inputs import load_inputs

    started = time.perf_counter()
    results = solve_inputs(with_solver_options(load_inputs(scenario), **solver))
    if results.summary["status"] in ("optimal", "feasible"):
        write_results(results, Path(outdir))
    return {"scenario": results.summary["scenario"], "status": results.summary["status"],
            "solve_seconds": results.summary.get("solve_seconds"),
            "total_seconds": time.perf_counter() - started}


BATCH_COLUMNS = ["repeat", "scenarios", "workers", "runner", "seconds", "speedup", "solved",
                 "statuses", "highs_s_sum", "tasks_s_sum", "cpu_s", "busy_cores_before",
                 "others_cores", "mip_gap_pct", "time_limit_s"]


def bench_batch(count: int = 16, workers: int = 2, time_limit_s: float = 120.0,
                mip_gap_pct: float = 1.0, workbook: bool = True, wait_idle_s: float = 0.0,
                repeats: int = 3) -> list[dict[str, Any]]:
    """`count` base-size scenarios one after another (1 worker process) and on `workers`
    processes, each HiGHS on one thread, `repeats` times (the order of the two alternates);
    one row per measurement, `speedup` against the one-worker run of the same repeat."""
    solver = {"threads": 1, "time_limit_s": time_limit_s, "mip_gap_pct": mip_gap_pct}
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="siteopt-batch-") as tmp:
        files = _batch_files(Path(tmp), count)
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
    busy = wait_until_idle(wait_idle_s) if wait_idle_s > 0 else busy_cores(1.0)
    started, machine0, cpu0 = time.perf_counter(), _machine_busy_seconds(), _children_cpu()
    try:
        from siteopt.runs.batch import plan_tasks, run_batch
    except ImportError:
        results = _own_pool(files, outdir, workers, solver)
        runner = "bench pool"
    else:
        results = run_batch(plan_tasks(files, outdir, workbook=workbook, solver=solver),
                            workers=workers)
        runner = "siteopt.runs.batch"
    seconds = time.perf_counter() - started
    cpu, machine1 = _children_cpu() - cpu0, _machine_busy_seconds()
    statuses = [str(r.get("status")) for r in results]
    return {"runner": runner, "seconds": seconds,
            "solved": sum(s in ("optimal", "feasible") for s in statuses),
            "statuses": ";".join(f"{s}={statuses.count(s)}" for s in sorted(set(statuses))),
            "highs_s_sum": sum(r.get("solve_seconds") or 0.0 for r in results),
            "tasks_s_sum": sum(r.get("total_seconds") or 0.0 for r in results),
            "cpu_s": cpu, "busy_cores_before": busy,
            "others_cores": None if machine0 is None or machine1 is None
            else max(0.0, (machine1 - machine0 - cpu) / seconds)}


# ---------------------------------------------------------------------------- reporting


def _fmt(values: list[float], digits: int = 1) -> str:
    values = [v for v in values if v is not None and not (isinstance(v, float) and
                                                           math.isnan(v))]
    if not values:
        return "—"
    med = statistics.median(values)
    if len(values) == 1:
        return f"{med:.{digits}f}"
    return f"{med:.{digits}f} [{min(values):.{digits}f}–{max(values):.{digits}f}]"


def summarize(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per size: median [min–max] over seeds of each measure, as display strings."""
    out = []
    for size in dict.fromkeys(r["size"] for r in rows):
        runs = [r for r in rows if r["size"] == size]

        def col(name: str, runs: list[dict[str, Any]] = runs) -> list[float]:
            return [r[name] for r in runs if r.get(name) is not None]

        ew = [(r["extract_s"] or 0) + (r["write_s"] or 0) for r in runs
              if r.get("extract_s") is not None]
        statuses = [str(r["status"]) for r in runs]
        out.append({
            "size": size, "runs": len(runs),
            "shape": "×".join(str(int(runs[0][k])) if runs[0].get(k) is not None else "?"
                              for k in ("campuses", "months", "offers")),
            "build_s": _fmt(col("build_s")), "highs_s": _fmt(col("highs_s")),
            "extract_write_s": _fmt(ew), "workbook_s": _fmt(col("workbook_s")),
            "total_s": _fmt(col("total_s")), "outside_pct": _fmt(col("outside_highs_pct"), 0),
            "peak_mb": _fmt(col("peak_mb"), 0),
            "vars": _fmt(col("variables"), 0), "cons": _fmt(col("constraints"), 0),
            "ints": _fmt(col("integers"), 0),
            "status": ", ".join(f"{s} {statuses.count(s)}" for s in sorted(set(statuses))),
            "gap_pct": _fmt(col("mip_gap_pct"), 2),
            "cpu_s": _fmt(col("cpu_s")), "wall_s": _fmt(col("wall_s")),
            "others": _fmt(col("others_cores"), 2),
        })
    return out


SUMMARY_HEADERS = [
    ("size", "size"), ("shape", "campuses×months×offers"), ("runs", "runs"),
    ("build_s", "build s"), ("highs_s", "HiGHS s"), ("extract_write_s", "extract+write s"),
    ("workbook_s", "workbook s"), ("total_s", "total s (excl. workbook)"),
    ("outside_pct", "outside HiGHS %"),
    ("peak_mb", "peak MB"), ("vars", "variables"), ("cons", "constraints"),
    ("ints", "integers"), ("status", "status"), ("gap_pct", "gap %"),
    ("wall_s", "process wall s"), ("cpu_s", "process CPU s"),
    ("others", "other load (cores)"),
]


def print_summary(rows: list[dict[str, Any]], batch: list[dict[str, Any]] | None = None
                  ) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = Console(width=None if sys.stdout.isatty() else 160)
    if rows:
        summary = summarize(rows)
        table = Table(title=escape("siteopt bench — median [min–max] over seeds; times in "
                                   "seconds"))
        table.add_column("")
        for s in summary:
            table.add_column(s["size"], justify="right")
        for key, header in SUMMARY_HEADERS[1:]:
            table.add_row(header, *(escape(str(s[key])) for s in summary))
        console.print(table)
    if batch:
        table = Table(title="batch: base-size scenarios, HiGHS 1 thread each")
        for header in ("repeat", "scenarios", "workers", "seconds", "speed-up",
                       "Σ HiGHS s", "statuses", "other load (cores)"):
            table.add_column(header)
        for b in batch:
            others = b.get("others_cores")
            table.add_row(str(b["repeat"]), str(b["scenarios"]), str(b["workers"]),
                          f"{b['seconds']:.1f}", f"{b['speedup']:.2f}×",
                          f"{b['highs_s_sum']:.1f}", b["statuses"],
                          "—" if others is None else f"{others:.2f}")
        console.print(table)
        console.print(escape(batch_speedup(batch)))


def batch_speedup(batch: list[dict[str, Any]]) -> str:
    """One line: the speed-up of the parallel runs, median [min–max] over repeats."""
    parallel = [b for b in batch if b["workers"] > 1]
    if not parallel:
        return "batch: one worker only"
    return (f"batch speed-up on {parallel[0]['workers']} workers ({parallel[0]['runner']}): "
            f"{_fmt([b['speedup'] for b in parallel], 2)}× over {len(parallel)} repeat(s)")


def summary_markdown(rows: list[dict[str, Any]]) -> str:
    """The per-size table as Markdown (for README.md)."""
    lines = ["| " + " | ".join(h for _, h in SUMMARY_HEADERS) + " |",
             "|" + "---|" * len(SUMMARY_HEADERS)]
    for s in summarize(rows):
        lines.append("| " + " | ".join(str(s[k]) for k, _ in SUMMARY_HEADERS) + " |")
    return "\n".join(lines)


def write_rows(rows: list[dict[str, Any]], path: Path, columns: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: (f"{v:.4f}" if isinstance(v, float) else v)
                             for k, v in row.items() if k in columns})


def read_rows(path: Path) -> list[dict[str, Any]]:
    """Rows of a CSV written by `write_rows`, numbers as numbers (for `summary_markdown`)."""
    def value(text: str) -> Any:
        if text == "":
            return None
        try:
            number = float(text)
        except ValueError:
            return text
        return int(number) if number.is_integer() and "." not in text else number

    with Path(path).open(encoding="utf-8") as f:
        return [{k: value(v) for k, v in row.items()} for row in csv.DictReader(f)]


def machine() -> str:
    return f"{os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}"


def profile_hot_spots(prof: Path, limit: int = 25) -> str:
    """Top functions of a cProfile dump by own time and by cumulative time."""
    import io
    import pstats

    text = io.StringIO()
    stats = pstats.Stats(str(prof), stream=text)
    stats.sort_stats("tottime").print_stats(limit)
    stats.sort_stats("cumulative").print_stats(limit)
    return text.getvalue()


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "--child":
        _child(sys.argv[2:])
    else:
        sys.exit("usage: siteopt bench (this module's --child is internal)")
