"""Slides beyond one plan: the comparison of several plans, the tornado of a sweep, NPV by
future and the fan of a stochastic plan, and the diagnosis of a run without a plan."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from pptx.enum.chart import XL_CHART_TYPE, XL_TICK_LABEL_POSITION
from pptx.util import Inches

from siteopt.export import plan_frames
from siteopt.export.deck import frames
from siteopt.export.deck.look import DOWN, MARGIN, TOP, UP, add_slide, chart, table, text_box
from siteopt.export.narrative import usd
from siteopt.export.result_checks import UnreadableResults
from siteopt.export.results_folder import load_results
from siteopt.inputs.errors import Problem
from siteopt.results.extract import Results


@dataclass
class Sweep:
    """A sweep (or batch) folder: batch.csv, its base run and the variants' NPVs."""

    folder: Path
    table: pd.DataFrame
    base: Results
    runs: list[tuple[Path, Results]]  # every solved run, base first


def read_sweep(folder: Path) -> Sweep | None:
    """The folder of `siteopt sweep` or `siteopt batch` (None when it has no batch.csv)."""
    path = folder / "batch.csv"
    if not path.is_file():
        return None
    try:
        table_ = pd.read_csv(path, dtype={"changes": str, "scenario": str})
    except (OSError, ValueError) as exc:
        raise UnreadableResults([Problem(str(path), f"cannot be read: {exc}")]) from None
    if "scenario" not in table_ or "npv_usd" not in table_:
        raise UnreadableResults([Problem(str(path), "not a siteopt batch.csv (no scenario "
                                                    "or npv_usd column)")])
    table_["changes"] = table_.get("changes", pd.Series(dtype=str)).fillna("")
    runs = []
    for row in table_.itertuples(index=False):
        run = folder / Path(str(getattr(row, "outdir", row.scenario))).name
        if (run / "summary.json").is_file() and row.status in ("optimal", "feasible"):
            runs.append((run, load_results(run)))
    if not runs:
        raise UnreadableResults([Problem(str(folder), "holds no solved run (batch.csv lists "
                                                      "none with a plan)")])
    base = [r for r, row in zip(runs, table_.itertuples()) if not row.changes]
    return Sweep(folder, table_, (base or runs)[0][1], runs)


def is_sweep(sweep: Sweep) -> bool:
    return bool((sweep.table["changes"] != "").any())


def tornado_frame(sweep: Sweep) -> pd.DataFrame:
    """Per varied input (one at a time): lowest and highest NPV against the base's."""
    t = sweep.table
    base = t.loc[t["changes"] == "", "npv_usd"]
    if base.empty:
        return pd.DataFrame()
    single = t[(t["changes"] != "") & ~t["changes"].str.contains(";")].copy()
    single = single.dropna(subset=["npv_usd"])
    single["input"] = single["changes"].str.split("=").str[0]
    single["value"] = single["changes"].str.split("=", n=1).str[1].str.replace("*", "×")
    rows = []
    for name, group in single.groupby("input", sort=False):
        low, high = group.loc[group["npv_usd"].idxmin()], group.loc[group["npv_usd"].idxmax()]
        rows.append({"input": name, "low": low["value"], "high": high["value"],
                     "low_npv_usd": low["npv_usd"], "high_npv_usd": high["npv_usd"],
                     "base_npv_usd": float(base.iloc[0])})
    frame = pd.DataFrame(rows)
    if frame.empty:
        return frame
    # the span the bar covers around the base (an input varied one way has one side only)
    frame["swing_usd"] = frame[["high_npv_usd", "base_npv_usd"]].max(axis=1) - \
        frame[["low_npv_usd", "base_npv_usd"]].min(axis=1)
    return frame.sort_values("swing_usd", ascending=False, ignore_index=True)


def tornado(prs, sweep: Sweep, footer: str) -> bool:
    """The tornado: NPV change against the base, lowest and highest outcome per input."""
    frame = tornado_frame(sweep)
    if frame.empty:
        return grid(prs, sweep, footer)
    slide = add_slide(prs, "Sensitivities: NPV per input (tornado)", footer)
    labels = [f"{r.input}: lowest at {r.low}, highest at {r.high}" for r in frame.itertuples()]
    series = {"Lowest outcome": list((frame["low_npv_usd"] - frame["base_npv_usd"]) / 1e6),
              "Highest outcome": list((frame["high_npv_usd"] - frame["base_npv_usd"]) / 1e6)}
    result = chart(slide, XL_CHART_TYPE.BAR_CLUSTERED, labels, series, MARGIN, TOP,
                   prs.slide_width - 2 * MARGIN, Inches(4.9), number_format="#,##0",
                   title=f"Change in NPV against the base plan ({usd(frame['base_npv_usd'][0])})"
                         f", USD m")
    plot = result.plots[0]
    plot.overlap = 100
    plot.gap_width = 40
    for s, colour in zip(plot.series, (DOWN, UP)):
        s.format.fill.fore_color.rgb = colour
        s.format.line.color.rgb = colour
    result.category_axis.reverse_order = True
    result.category_axis.tick_label_position = XL_TICK_LABEL_POSITION.LOW
    text_box(slide, MARGIN, TOP + Inches(5.0), prs.slide_width - 2 * MARGIN, Inches(0.5),
             [f"{len(sweep.table)} runs from {sweep.folder}; each input varied alone around "
              f"the base, the other inputs as in the base scenario."], size=11)
    return True


GRID_ROWS = 14


def grid(prs, sweep: Sweep, footer: str) -> bool:
    """A --grid sweep (every combination): the combinations by NPV, best and worst, against
    the base when it was solved."""
    t = sweep.table.dropna(subset=["npv_usd"])
    combos = t[t["changes"] != ""].sort_values("npv_usd", ascending=False)
    if combos.empty:
        return False
    base = t.loc[t["changes"] == "", "npv_usd"]
    slide = add_slide(prs, "Sensitivities: every combination", footer)
    shown = combos if len(combos) <= GRID_ROWS else \
        pd.concat([combos.head(GRID_ROWS // 2), combos.tail(GRID_ROWS // 2)])
    rows = [["Changes", "NPV", "Against the base" if len(base) else "Status"]]
    for row in shown.itertuples():
        rows.append([row.changes.replace("*", "×"), usd(row.npv_usd),
                     usd(row.npv_usd - float(base.iloc[0])) if len(base) else row.status])
    table(slide, MARGIN, TOP, prs.slide_width - 2 * MARGIN, rows, (6, 2, 2), size=12,
          row_height=Inches(0.34), values_right=True)
    if len(combos) > GRID_ROWS:
        text_box(slide, MARGIN, TOP + Inches(0.34) * (GRID_ROWS + 1.3),
                 prs.slide_width - 2 * MARGIN, Inches(0.4),
                 [f"The {GRID_ROWS // 2} best and worst of {len(combos)} combinations "
                  f"(all in {sweep.folder / 'batch.csv'})."], size=11)
    return True


def comparison(prs, plans: list[tuple[Path, Results]], footer: str) -> None:
    """Several plans: KPIs side by side, the decisions that differ, NPV by scenario."""
    names = [str(r.summary.get("scenario") or f.name) for f, r in plans]
    footer = "Sources: " + ", ".join(f"{f} ({frames.stamp(r, f).split(' · ', 2)[2]})"
                                    for f, r in plans)
    slide = add_slide(prs, "Scenarios compared: headline KPIs", footer)
    rows = [["Measure", *names]]
    kpi = [frames.kpi_rows(r) for _, r in plans]
    for i, label in enumerate(row[0] for row in kpi[0][1:]):
        rows.append([label, *[k[i + 1][1] for k in kpi]])
        if i == 0:  # the NPV row's difference is the value added over mining only
            rows.append(["Value added over mining only", *[k[1][3] for k in kpi]])
    rows.append(["Status", *[str(r.summary.get("status")) for _, r in plans]])
    width = prs.slide_width - 2 * MARGIN
    table(slide, MARGIN, TOP, width, rows, (3, *[2] * len(names)),
          size=14 if len(names) <= 4 else 10, row_height=Inches(0.45), values_right=True)
    _decisions_slide(prs, plans, names, footer)
    slide = add_slide(prs, "Scenarios compared: NPV", footer)
    npv = [(r.summary.get("kpis") or {}).get("npv_usd") or r.summary.get("npv_usd") or 0.0
           for _, r in plans]
    added = [(r.summary.get("kpis") or {}).get("value_added_usd") or 0.0 for _, r in plans]
    scale, unit = frames.nice_scale(npv + added)
    chart(slide, XL_CHART_TYPE.COLUMN_CLUSTERED, names,
          {"NPV": [v / scale for v in npv], "Value added over mining only":
           [v / scale for v in added]}, MARGIN, TOP, width, Inches(5.3),
          number_format="#,##0.0" if unit == "B USD" else "#,##0", title=f"NPV ({unit})")


def decision_rows(plans: list[tuple[Path, Results]], names: list[str]) -> list[list[str]]:
    """Decisions that differ between the plans (`decision_diff`), as table rows."""
    from siteopt.export.decision_diff import decisions_that_differ

    frame = decisions_that_differ([r for _, r in plans], names)
    return [["Decision", *names], *(list(map(str, row)) for row in frame.itertuples(index=False))]


def _decisions_slide(prs, plans, names, footer) -> None:
    slide = add_slide(prs, "Scenarios compared: decisions that differ", footer)
    rows = decision_rows(plans, names)
    if len(rows) == 1:
        text_box(slide, MARGIN, TOP, Inches(10), Inches(1),
                 ["Every scenario takes the same decisions: the same offers at the same "
                  "campuses and months, the same halls."], size=16)
        return
    shown = rows[:15]
    table(slide, MARGIN, TOP, prs.slide_width - 2 * MARGIN, shown, (2, *[2.2] * len(names)),
          size=11 if len(names) <= 4 else 9, row_height=Inches(0.34))
    if len(rows) > 15:
        text_box(slide, MARGIN, TOP + Inches(0.34) * 16, Inches(10), Inches(0.4),
                 [f"… and {len(rows) - 15} more (siteopt compare lists all)."], size=11)


def futures(prs, results: Results, footer: str) -> None:
    """A stochastic plan: NPV by future (probability-weighted mean and CVaR beside it) and
    the fan of each future's cumulative discounted cash."""
    block = results.summary["stochastic"]
    slide = add_slide(prs, "Risks: NPV in each future", footer)
    entries = block.get("scenarios") or []
    labels = [f"{e['name']} ({e['probability_pct']:g} %)" for e in entries]
    npv = [e.get("npv_usd") or 0.0 for e in entries]
    scale, unit = frames.nice_scale(npv)
    half = (prs.slide_width - 2 * MARGIN - Inches(0.3)) / 2
    chart(slide, XL_CHART_TYPE.COLUMN_CLUSTERED, labels, {"NPV": [v / scale for v in npv]},
          MARGIN, TOP, half, Inches(4.6), number_format="#,##0.0" if unit == "B USD" else
          "#,##0", title=f"NPV by future ({unit})")
    fan = {}
    for name, future in results.futures.items():
        co = plan_frames.inside(future.company_month)
        fan[name] = list((co["net_cash_usd"].astype(float)
                          * co["discount_factor"].astype(float)).cumsum() / 1e6)
    if fan:
        months = list(plan_frames.inside(next(iter(results.futures.values())).company_month)
                      ["month"].astype(str))
        # the year under its January only: 120 month labels would not fit
        labels = [m[:4] if m.endswith("-01") else "" for m in months]
        fan_chart = chart(slide, XL_CHART_TYPE.LINE, labels, fan, MARGIN + half + Inches(0.3),
                          TOP, half, Inches(4.6),
                          title="Cumulative discounted cash by future (USD m)")
        fan_chart.category_axis.tick_label_position = XL_TICK_LABEL_POSITION.LOW
    lines = [f"Expected NPV {usd(block.get('expected_npv_usd'))}; CVaR "
             f"{block.get('cvar_alpha_pct', 0):g} % {usd(block.get('cvar_npv_usd'))} (mean "
             f"of the worst futures)."]
    if block.get("evpi_usd") is not None:
        lines.append(f"Knowing the future in advance would be worth {usd(block['evpi_usd'])} "
                     f"(EVPI).")
    text_box(slide, MARGIN, TOP + Inches(4.7), prs.slide_width - 2 * MARGIN, Inches(0.9),
             lines, size=12)


def no_plan(prs, results: Results, footer: str) -> None:
    """A run without a plan: one slide with the diagnosis."""
    s = results.summary
    slide = add_slide(prs, f"No plan: {s.get('scenario', '')} is {s.get('status', '')}",
                      footer)
    lines = list(s.get("diagnosis") or []) or [
        "HiGHS proved that no plan meets every requirement, and no single cause was found "
        "before solving."]
    text_box(slide, MARGIN, TOP, prs.slide_width - 2 * MARGIN, Inches(5),
             ["Why no plan meets every requirement:", *lines[:10]], size=16)
