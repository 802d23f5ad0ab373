"""What HiGHS did over time on a MIP: when the first plan came, the bound after the root,
and when each gap was first reached — for the benchmark, summary.json and live progress.

The trace subscribes to HiGHS's improving-solution and interrupt callbacks (the interrupt one
fires often during the search; it is sampled at most every `every_s` seconds).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import highspy

Listener = Callable[["Point"], None]


@dataclass(frozen=True)
class Point:
    seconds: float
    primal: float  # best plan's objective (−inf or nan before the first plan)
    dual: float  # best bound
    nodes: int

    @property
    def gap_pct(self) -> float | None:
        if not (math.isfinite(self.primal) and math.isfinite(self.dual)):
            return None
        return 100 * abs(self.dual - self.primal) / max(abs(self.primal), 1e-9)


@dataclass
class SolveTrace:
    every_s: float = 0.5
    listener: Listener | None = None
    points: list[Point] = field(default_factory=list)
    first_plan_seconds: float | None = None
    root_bound: float | None = None  # objective units; the bound when the first node was done
    first_plan: list[float] | None = None  # its column values (did HiGHS keep a start?)
    _last_tick: float = -1.0

    def attach(self, h: highspy.Highs) -> None:
        h.cbMipImprovingSolution += self._on_solution
        h.cbMipInterrupt += self._on_tick

    def _point(self, out) -> Point:
        return Point(float(out.running_time), float(out.mip_primal_bound),
                     float(out.mip_dual_bound), int(out.mip_node_count))

    def _on_solution(self, event) -> None:
        point = self._point(event.data_out)
        if self.first_plan_seconds is None:
            self.first_plan_seconds = point.seconds
            self.first_plan = list(event.data_out.mip_solution)
        self._record(point)

    def _on_tick(self, event) -> None:
        point = self._point(event.data_out)
        if point.nodes == 0 and math.isfinite(point.dual):
            self.root_bound = point.dual
        if point.seconds - self._last_tick >= self.every_s:
            self._last_tick = point.seconds
            self._record(point)

    def finish(self, h: highspy.Highs) -> None:
        """Record where HiGHS stopped: the callbacks are sampled, so the last gap (the one that
        met the target) may otherwise be missing."""
        info = h.getInfo()
        if info.mip_node_count < 0:  # not a MIP solve
            return
        self._record(Point(float(h.getRunTime()), float(info.objective_function_value)
                           if info.primal_solution_status == 2 else -math.inf,
                           float(info.mip_dual_bound), int(info.mip_node_count)))

    def _record(self, point: Point) -> None:
        self.points.append(point)
        if self.listener is not None:
            self.listener(point)

    def seconds_to_gap(self, gap_pct: float) -> float | None:
        """First time the gap between the best plan and the bound was at most `gap_pct`."""
        return next((p.seconds for p in self.points
                     if p.gap_pct is not None and p.gap_pct <= gap_pct + 1e-12), None)
