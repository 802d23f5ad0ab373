"""The slides of one plan (1–9 of the board deck), each from the result folder's tables."""

from __future__ import annotations

from pptx.enum.chart import XL_CHART_TYPE, XL_LABEL_POSITION, XL_TICK_LABEL_POSITION
from pptx.util import Inches, Pt

from siteopt.export import plan_frames, plan_inputs
from siteopt.export.deck import frames
from siteopt.export.deck.look import (
    DOWN,
    INK,
    MARGIN,
    PALETTE,
    TOP,
    TOTAL,
    UP,
    WHITE,
    add_slide,
    chart,
    legend_line,
    table,
    text_box,
)
from siteopt.export.narrative import usd
from siteopt.results.extract import Results

TITLES = ("Recommendation", "Headline KPIs against mining only", "NPV bridge from mining only",
          "MW by use over time", "Conversion timeline", "Funding",
          "Tenant offers: taken or declined, and why", "Risks and what the plan depends on",
          "Assumptions that matter, and caveats")


def recommendation(prs, results: Results, story: dict, footer: str) -> None:
    """Slide 1: the headline and the decisions in sentences."""
    slide = add_slide(prs, TITLES[0], footer)
    width = prs.slide_width - 2 * MARGIN
    text_box(slide, MARGIN, TOP, width, Inches(0.8), [story["headline"]], size=20, bold=True)
    if results.summary.get("stochastic"):  # what is decided now, the same in every future
        from siteopt.export import uncertainty_frames as uf

        lines = [f"Decided now (taking effect before {uf.commit_month(results.summary)}), the "
                 f"same in every future:"]
        lines += [line[:1].upper() + line[1:] for line in
                  uf.here_and_now_lines(results.extra.get("here_and_now"), limit=11)]
    else:
        lines = [*_convert_lines(results), *_offer_lines(story)]
    text_box(slide, MARGIN, TOP + Inches(0.9), width, Inches(4.4), lines[:14], size=15,
             bullets=True)


def _convert_lines(results: Results) -> list[str]:
    decisions = plan_frames.campus_decisions(results)
    out = []
    for row in decisions.itertuples(index=False):
        if row[decisions.columns.get_loc("IT MW converted")] > 1e-6:
            starts = row[decisions.columns.get_loc("Construction starts")]
            mw = row[decisions.columns.get_loc("IT MW converted")]
            hosted = row[decisions.columns.get_loc("Leases hosted")]
            offers = ", ".join(part.split(" ")[0] for part in hosted.split("; ") if part)
            out.append(f"Convert {row.Campus}: {mw:,.0f} IT MW, construction from "
                       f"{starts.split(' (')[0]}" + (f", for {offers}" if offers else ""))
    idle = [c for c in decisions["Campus"] if c not in set(decisions.loc[
        decisions["IT MW converted"] > 1e-6, "Campus"])]
    if idle:
        out.append(f"No new halls at {', '.join(idle)}")
    return out


def _offer_lines(story: dict) -> list[str]:
    taken = [k for k, v in story["offers"].items() if v["decision"] in ("accepted", "signed")]
    declined = [k for k, v in story["offers"].items() if v["decision"] == "declined"]
    out = []
    if taken:
        out.append(f"Sign or deliver {', '.join(taken)}")
    if declined:
        reasons = {k: _short_reason(story["offers"][k]) for k in declined}
        out.append("Decline " + "; ".join(f"{k} ({r})" for k, r in reasons.items()))
    return out


def _short_reason(entry: dict) -> str:
    from siteopt.export.offer_reasons import LIMIT_WORDS

    return LIMIT_WORDS.get(entry.get("limit") or "", "declined")


def kpis(prs, results: Results, footer: str) -> None:
    """Slide 2: the headline KPIs against the mining-only baseline."""
    slide = add_slide(prs, TITLES[1], footer)
    rows = frames.kpi_rows(results)
    table(slide, MARGIN, TOP, Inches(9.5), rows, (3.2, 2, 2, 2), size=16,
          row_height=Inches(0.55), values_right=True)
    text_box(slide, Inches(10.3), TOP, Inches(2.6), Inches(4.5), [
        "Mining-only: the same scenario with no conversion and no offers.",
        "Peak funding: the deepest cumulative deficit of operating and investing cash.",
        "IRR and payback of the cash the plan adds over mining only."], size=12)


def bridge(prs, results: Results, footer: str) -> None:
    """Slide 3: NPV bridge, a stacked bar whose base series is invisible."""
    slide = add_slide(prs, TITLES[2], footer)
    steps = frames.npv_bridge(results)
    if steps is None:
        text_box(slide, MARGIN, TOP, Inches(10), Inches(1), ["No mining-only baseline was "
                                                             "solved: no bridge."])
        return
    scale, unit = frames.nice_scale(list(steps["usd"]))
    series = frames.waterfall(steps, scale)
    fmt = "#,##0.0" if unit == "B USD" else "#,##0"
    result = chart(slide, XL_CHART_TYPE.COLUMN_STACKED, list(steps["step"]), series, MARGIN,
                   TOP, prs.slide_width - 2 * MARGIN, Inches(5.4), number_format=fmt,
                   legend=False, title=f"NPV by driver ({unit})")
    plot = result.plots[0]
    plot.gap_width = 60
    plot.overlap = 100
    colours = [None, UP, DOWN, TOTAL, None]
    signed = list(steps["usd"].astype(float) / scale)
    thin = [v is not None for v in series["labels"]]
    for s, colour in zip(plot.series, colours):
        if colour is None:
            s.format.fill.background()
            s.format.line.fill.background()
        else:
            s.format.fill.solid()
            s.format.fill.fore_color.rgb = colour
            s.format.line.color.rgb = colour
        if s.name == "base":
            continue
        for i, value in enumerate(series[s.name]):
            if value is None or (thin[i] and s.name != "labels"):
                continue
            _label(s.points[i].data_label, signed[i], total=s.name == "Total" or
                   (s.name == "labels" and i in (0, len(signed) - 1)),
                   inside=s.name != "labels")
    result.category_axis.tick_labels.font.size = Pt(11)


def _label(label, value: float, total: bool, inside: bool) -> None:
    """A bridge step's number: signed for a step, plain for a total; white inside its bar,
    dark just above a thin one."""
    label.position = XL_LABEL_POSITION.INSIDE_END if inside else XL_LABEL_POSITION.INSIDE_BASE
    text = f"{value:,.1f}" if total else f"{value:+,.1f}"
    label.text_frame.text = text.replace("-", "−")
    run = label.text_frame.paragraphs[0].runs[0]
    run.font.size = Pt(12)
    run.font.bold = True
    run.font.color.rgb = WHITE if inside else INK


def mw_by_use(prs, results: Results, footer: str) -> None:
    """Slide 4: MW by use, quarterly averages, stacked areas."""
    slide = add_slide(prs, TITLES[3], footer)
    frame = frames.quarterly_mw(results)
    series = {c: list(frame[c]) for c in frame.columns if c != "quarter"}
    # the year under its first quarter only: 40 quarters would not fit
    labels = [q[:4] if q.endswith("Q1") else "" for q in frame["quarter"]]
    chart(slide, XL_CHART_TYPE.AREA_STACKED, labels, series, MARGIN, TOP,
          prs.slide_width - 2 * MARGIN, Inches(5.4),
          title="MW by use (quarterly average; mining in MW at the meter, HPC in IT MW)")


def timeline(prs, results: Results, footer: str) -> None:
    """Slide 5: a Gantt per converting campus — a stacked horizontal bar from the horizon
    start whose first series is invisible."""
    slide = add_slide(prs, TITLES[4], footer)
    frame = frames.timeline(results)
    if frame.empty:
        text_box(slide, MARGIN, TOP, Inches(10), Inches(1), ["No campus converts."])
        return
    phases = ["Permit pending", "Permitted, not started", "Under construction",
              "Ready, not let", "Let"]
    start = frame.attrs["start_year"]
    series = {"from": [start] * len(frame), **{p: list(frame[p]) for p in phases}}
    result = chart(slide, XL_CHART_TYPE.BAR_STACKED, list(frame["campus"]), series, MARGIN,
                   TOP, prs.slide_width - 2 * MARGIN, Inches(5.0), number_format="0",
                   title="Conversion timeline by campus", legend=False)
    plot = result.plots[0]
    plot.gap_width = 50
    plot.overlap = 100
    colours = [None, PALETTE[3], None, PALETTE[2], PALETTE[6], PALETTE[1]]
    for s, colour in zip(plot.series, colours):
        if colour is None:  # the offset, and the wait between permit and start
            s.format.fill.background()
            s.format.line.fill.background()
        else:
            s.format.fill.solid()
            s.format.fill.fore_color.rgb = colour
    axis = result.value_axis
    axis.minimum_scale = int(start)
    axis.maximum_scale = int(start) + round(frame.attrs["years"])
    axis.major_unit = 1
    result.category_axis.reverse_order = True
    # a legend of the visible phases only (the invisible offsets have no entry)
    legend_line(slide, MARGIN, TOP + Inches(5.05), prs.slide_width - 2 * MARGIN,
                [(p, c) for p, c in zip(phases, colours[1:]) if c is not None])


def funding(prs, results: Results, story: dict, footer: str) -> None:
    """Slide 6: capex by year (landlord, tenant), year-end cash and debt balance, BTC sold,
    and the funding sentence."""
    slide = add_slide(prs, TITLES[5], footer)
    frame = frames.funding_by_year(results)
    years = [str(y) for y in frame["year"]]
    half = (prs.slide_width - 2 * MARGIN - Inches(0.3)) / 2
    capex = {"Landlord capex": list(frame["landlord_capex_usd"] / 1e6),
             "Paid by tenants": list(frame["tenant_capex_usd"] / 1e6)}
    if not any(capex["Paid by tenants"]):
        capex.pop("Paid by tenants")
    chart(slide, XL_CHART_TYPE.COLUMN_STACKED, years, capex, MARGIN, TOP, half, Inches(4.2),
          title="Capex by year (USD m)").plots[0].overlap = 100
    balances = {"Cash balance, year end": list(frame["cash_balance_usd"] / 1e6),
                "Debt balance, year end": list(frame["debt_balance_usd"] / 1e6)}
    if not any(balances["Debt balance, year end"]):
        balances.pop("Debt balance, year end")
    tracked = plan_inputs.scenario_value(results, "finance.opening_cash_usd") is not None
    title = "Cash and debt at year end (USD m)" if len(balances) > 1 else \
        "Cash at year end (USD m)" if tracked else \
        "Cumulative cash from zero at year end (USD m; no opening cash set)"
    lines_chart = chart(slide, XL_CHART_TYPE.LINE_MARKERS, years, balances,
                        MARGIN + half + Inches(0.3), TOP, half, Inches(4.2), title=title)
    lines_chart.category_axis.tick_label_position = XL_TICK_LABEL_POSITION.LOW
    text_box(slide, MARGIN, TOP + Inches(4.3), prs.slide_width - 2 * MARGIN, Inches(1.2),
             [plain(story["funding"])], size=13)


def offers(prs, results: Results, story: dict, footer: str) -> None:
    """Slide 7: each offer, taken where and when, or declined and why."""
    slide = add_slide(prs, TITLES[6], footer)
    tenants = {} if results.leases.empty else dict(zip(results.leases["offer_id"].astype(str),
                                                       results.leases["tenant"].astype(str)))
    rows = [["Offer", "Tenant", "Decision", "Where, when and why"]]
    for offer_id, entry in story["offers"].items():
        text = entry["text"].split(": ", 1)[-1]
        for word in ("signed ", "accepted, ", "accepted ", "declined — ", "withdrawn "):
            text = text.removeprefix(word)
        rows.append([offer_id, tenants.get(offer_id, ""), entry["decision"],
                     plain(text[:1].upper() + text[1:])])
    size = 11 if len(rows) <= 9 else 9
    table(slide, MARGIN, TOP, prs.slide_width - 2 * MARGIN, rows, (0.8, 2.6, 1, 8.4),
          size=size, row_height=Inches(0.5) if len(rows) <= 9 else Inches(0.36))


def risks(prs, results: Results, story: dict, footer: str) -> None:
    """Slide 8 of a single plan (no sweep, futures or comparison given): what the plan leans
    on, read from its own tables."""
    slide = add_slide(prs, TITLES[7], footer)
    k = results.summary.get("kpis") or {}
    leases = results.leases
    lines = []
    if len(leases) and "lease_npv_usd" in leases:
        taken = leases[leases["accepted"].map(lambda v: str(v).lower() in ("true", "1"))]
        by_tenant = taken.groupby("tenant")["lease_npv_usd"].sum().sort_values(ascending=False)
        if len(by_tenant) and by_tenant.sum() > 0:
            lines.append(f"Largest tenant: {by_tenant.index[0]}, "
                         f"{100 * by_tenant.iloc[0] / by_tenant.sum():.0f} % of the present "
                         f"value of rent ({usd(float(by_tenant.iloc[0]))}).")
    if k.get("value_added_usd") is not None and k.get("npv_usd"):
        lines.append(f"Converting adds {usd(k['value_added_usd'])}, "
                     f"{100 * k['value_added_usd'] / k['npv_usd']:.0f} % of the plan's NPV: "
                     f"the rest is what mining alone is worth.")
    binding = list(dict.fromkeys(
        limit for v in story["offers"].values() for limit in v.get("limits") or [v.get("limit")]
        if limit not in (None, "value_alone", "withdrawn", "other")))
    if binding:
        from siteopt.export.offer_reasons import LIMIT_WORDS

        lines.append("Limits that keep offers out: " + ", ".join(LIMIT_WORDS[b] for b in binding)
                     + " (see the offers slide).")
    if k.get("peak_funding_usd"):
        covered = story["funding"].split(" Covered by ")[-1].split(". ")[0].rstrip(".")
        lines.append(f"Peak funding {usd(k['peak_funding_usd'])}, covered by {covered}.")
    lines.append("Sensitivities: a sweep (siteopt sweep) gives the tornado and a plan across "
                 "futures (uncertainty in the scenario) NPV by future; give that folder to "
                 "siteopt deck.")
    text_box(slide, MARGIN, TOP, prs.slide_width - 2 * MARGIN, Inches(5),
             [plain(line) for line in lines], size=16, bullets=True)


def assumptions(prs, results: Results, footer: str) -> None:
    """Slide 9: the assumptions that matter and the caveats."""
    slide = add_slide(prs, TITLES[8], footer)
    rows = frames.assumption_rows(results)
    table(slide, MARGIN, TOP, Inches(7.4), rows, (2.4, 5), size=12, row_height=Inches(0.4),
          align_numbers=False)
    s = results.summary
    gap = s.get("mip_gap_pct")
    caveats = [
        f"Plan quality: {s.get('status')}" + (f", within {gap:.2f} % of the best possible NPV"
                                              if isinstance(gap, (int, float)) else "") + ".",
        "The market path is one assumed path (BTC price, hashrate, fees): mining margins and "
        "the value of converting move with it.",
        "Reasons for declined offers are checked beside the plan as it stands (limits and the "
        "offer's value alone); only a decline no limit explains is solved again with the "
        "offer forced in.",
        "Leases are triple-net; rent and capex are in nominal USD, discounted at the "
        "scenario's rate.",
    ]
    text_box(slide, Inches(8.3), TOP, Inches(4.5), Inches(5), caveats, size=12, bullets=True)


def plain(text: str) -> str:
    """Text for a slide: the formulation's names without code quotes."""
    return text.replace("`", "")
