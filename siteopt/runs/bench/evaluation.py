"""Out-of-sample evaluation throughput: futures per minute on 1 and on W workers.

    python -m siteopt.runs.bench.evaluation RESULT_DIR --scenario FILE --futures N \
        --workers 1,2 --repeats 3 [-o bench/results/evaluation.csv]

Each repeat evaluates the plan in RESULT_DIR on the same N futures (seed fixed) once per
worker count, the counts alternating within a repeat so that a busy spell of the machine
hits both; futures per minute = N / wall-clock seconds of `evaluate_plan` (drawing, solving,
no writing). Every count runs in freshly spawned worker processes (1 worker too), so each
pays the same start-up and none reuses models or plans cached by an earlier repeat.
Prints the median and range per worker count and the ratio of medians.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import pandas as pd

from siteopt.stochastic.evaluation import evaluate_plan


def measure(result_dir: Path, scenario: Path | None, futures: int, seed: int,
            workers: list[int], repeats: int) -> pd.DataFrame:
    rows = []
    for repeat in range(1, repeats + 1):
        order = workers if repeat % 2 else list(reversed(workers))
        for count in order:
            started = time.perf_counter()
            # worker processes for every count: none inherits this process's warm caches
            summary, found, _ = evaluate_plan(result_dir, futures, seed, workers=count,
                                              scenario=scenario, spawn=True)
            seconds = time.perf_counter() - started
            rows.append({"repeat": repeat, "workers": count, "futures": futures,
                         "seconds": round(seconds, 3),
                         "futures_per_minute": round(60 * futures / seconds, 3),
                         "expected_npv_usd": summary["measures"]["expected_npv_usd"],
                         "infeasible": summary["measures"]["infeasible"]})
    return pd.DataFrame(rows)


def report(frame: pd.DataFrame) -> str:
    lines = ["workers  futures/min median  (range)          seconds median"]
    medians = {}
    for count, group in frame.groupby("workers", sort=True):
        rate = group["futures_per_minute"]
        medians[count] = statistics.median(rate)
        lines.append(f"{count:>7}  {medians[count]:>19.2f}  ({rate.min():.2f}–{rate.max():.2f})"
                     f"  {statistics.median(group['seconds']):>14.1f}")
    base = medians.get(min(medians))
    for count, value in medians.items():
        if count != min(medians) and base:
            lines.append(f"ratio {count} workers / {min(medians)}: {value / base:.2f}x")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("result_dir", type=Path)
    parser.add_argument("--scenario", type=Path)
    parser.add_argument("--futures", type=int, default=20)
    parser.add_argument("--seed", type=int, default=99)
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("-o", "--output", type=Path)
    args = parser.parse_args(argv)
    workers = [int(w) for w in args.workers.split(",")]
    frame = measure(args.result_dir, args.scenario, args.futures, args.seed, workers,
                    args.repeats)
    if args.output:
        frame.to_csv(args.output, index=False)
    print(frame.to_string(index=False))
    print(report(frame))


if __name__ == "__main__":
    main()
