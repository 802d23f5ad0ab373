"""`siteopt deck`: the board deck opened with python-pptx — slides and titles, chart types and
series against the result tables, the footer stamp, several plans, a sweep, futures, a run
without a plan, bad input and a safe write; and a LibreOffice rendering when installed."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest
from cases import cli as run
from pptx import Presentation
from pptx.enum.chart import XL_CHART_TYPE
from pptx.enum.dml import MSO_FILL
from render import needs_libreoffice, pdf_pages, render_pdf

from siteopt.api import solve_scenario
from siteopt.export.deck import frames, multi_slides
from siteopt.export.deck.look import new_presentation
from siteopt.export.deck.plan_slides import TITLES
from siteopt.export.results_folder import load_results, write_results


@pytest.fixture(scope="module")
def deck(base_plan, tmp_path_factory):
    _, folder = base_plan
    path = tmp_path_factory.mktemp("deck") / "board.pptx"
    result = run("deck", folder, "-o", path)
    assert result.exit_code == 0, result.output
    return Presentation(str(path)), path


def titles(prs) -> list[str]:
    return [s.shapes.title.text for s in prs.slides]


def charts(slide) -> list:
    return [shape.chart for shape in slide.shapes if shape.has_chart]


def test_one_plan_has_the_nine_slides_in_order_at_16_9(deck):
    prs, _ = deck
    assert titles(prs) == list(TITLES)
    assert round(prs.slide_width / prs.slide_height, 2) == round(16 / 9, 2)


def test_every_footer_carries_the_source_and_the_runs_stamp(deck, base_plan):
    results, folder = base_plan
    prs, _ = deck
    for slide in prs.slides:
        text = " ".join(s.text_frame.text for s in slide.shapes if s.has_text_frame)
        assert f"input hash {results.summary['input_hash']}" in text
        assert "scenario base" in text and "Optimal, gap" in text and str(folder) in text


def test_the_bridge_is_a_stacked_bar_on_an_invisible_base_and_adds_up(deck, base_plan):
    """Mining-only NPV + each driver's present value = the plan's NPV (to the cent)."""
    results, folder = base_plan
    prs, _ = deck
    (chart,) = charts(prs.slides[2])
    assert chart.chart_type == XL_CHART_TYPE.COLUMN_STACKED
    base, up, down, total, labels = chart.plots[0].series
    assert labels.format.fill.type == MSO_FILL.BACKGROUND  # numbers above thin bars
    assert base.format.fill.type == MSO_FILL.BACKGROUND  # the invisible base
    bridge = frames.npv_bridge(load_results(folder))
    assert bridge["usd"].iloc[0] == pytest.approx(results.summary["kpis"]["baseline_npv_usd"])
    assert bridge["usd"].iloc[1:-1].sum() + bridge["usd"].iloc[0] == \
        pytest.approx(results.summary["npv_usd"], abs=0.01)
    values = list(total.values)
    assert values[0] == pytest.approx(bridge["usd"].iloc[0] / 1e9)
    assert values[-1] == pytest.approx(results.summary["npv_usd"] / 1e9)
    rises = [v for v in up.values if v is not None]
    falls = [v for v in down.values if v is not None]
    assert sum(rises) - sum(falls) == pytest.approx((bridge["usd"].iloc[-1]
                                                     - bridge["usd"].iloc[0]) / 1e9)


def test_mw_by_use_is_a_stacked_area_of_the_quarterly_company_mw(deck, base_plan):
    results, _ = base_plan
    prs, _ = deck
    (chart,) = charts(prs.slides[3])
    assert chart.chart_type == XL_CHART_TYPE.AREA_STACKED
    mining = next(s for s in chart.plots[0].series if s.name == "Mining (MW)")
    co = results.company_month[results.company_month["in_horizon"]]
    first_quarter = co["mining_mw"].iloc[:3].mean()
    assert mining.values[0] == pytest.approx(first_quarter)
    assert len(mining.values) == len(co) // 3


def test_timeline_and_funding_charts_match_the_tables(deck, base_plan):
    results, _ = base_plan
    prs, _ = deck
    (gantt,) = charts(prs.slides[4])
    assert gantt.chart_type == XL_CHART_TYPE.BAR_STACKED
    converting = results.campus_month.groupby("campus_id")["blocks_started"].sum()
    assert set(gantt.plots[0].categories) == set(converting[converting > 0].index)
    capex, balances = charts(prs.slides[5])
    assert capex.chart_type == XL_CHART_TYPE.COLUMN_STACKED
    assert balances.chart_type == XL_CHART_TYPE.LINE_MARKERS
    yearly = results.kpis[results.kpis["kpi"] == "landlord_capex_usd"]
    assert list(capex.plots[0].series[0].values) == pytest.approx(
        list(yearly["value"].astype(float) / 1e6))


def test_offers_slide_tells_every_offer_with_its_reason(deck, base_plan):
    _, folder = base_plan
    prs, _ = deck
    (table,) = [s.table for s in prs.slides[6].shapes if s.has_table]
    rows = {table.cell(i, 0).text: table.cell(i, 3).text for i in range(1, len(table.rows))}
    words = json.loads((folder / "summary.json").read_text())["narrative"]["offers"]
    assert set(rows) == set(words)
    assert rows["OF-F"].startswith("Its value alone")
    assert "`" not in " ".join(rows.values())  # formulation names without code quotes


def test_several_plans_get_the_comparison_slides(base_plan, case, tmp_path):
    _, folder = base_plan
    other = tmp_path / "small"
    write_results(solve_scenario(case(offers=[{"offer_id": "O1"}])), other, workbook=False)
    result = run("deck", folder, other, "-o", tmp_path / "cmp.pptx")
    assert result.exit_code == 0, result.output
    prs = Presentation(str(tmp_path / "cmp.pptx"))
    got = titles(prs)
    assert got[:7] == list(TITLES[:7]) and got[-1] == TITLES[-1]
    assert [t for t in got if t.startswith("Scenarios compared")] == [
        "Scenarios compared: headline KPIs", "Scenarios compared: decisions that differ",
        "Scenarios compared: NPV"]
    (npv,) = charts(prs.slides[got.index("Scenarios compared: NPV")])
    assert npv.chart_type == XL_CHART_TYPE.COLUMN_CLUSTERED
    assert npv.plots[0].categories[1] == "case"


def fake_sweep(folder: Path, base: Path) -> Path:
    """A sweep folder as `siteopt sweep` writes it: batch.csv and one run folder per row
    (copies of the base run; the tornado reads the NPVs of batch.csv)."""
    sweep = folder / "sweep"
    sweep.mkdir()
    rows = [("base", "", 4.0e9), ("market.btc_price_usd=x0.8", "market.btc_price_usd=*0.8", 3.8e9),
            ("market.btc_price_usd=x1.2", "market.btc_price_usd=*1.2", 4.3e9),
            ("capex=x1.1", "campuses.capex_usd_per_it_mw=*1.1", 3.3e9)]
    for name, _, _ in rows:
        shutil.copytree(base, sweep / name)
    pd.DataFrame([{"scenario": n, "changes": c, "status": "optimal", "npv_usd": v,
                   "outdir": f"elsewhere/{n}"} for n, c, v in rows]).to_csv(
        sweep / "batch.csv", index=False)
    return sweep


def test_a_sweep_gets_the_tornado(base_plan, tmp_path):
    _, folder = base_plan
    sweep = fake_sweep(tmp_path, folder)
    result = run("deck", sweep, "-o", tmp_path / "sweep.pptx")
    assert result.exit_code == 0, result.output
    prs = Presentation(str(tmp_path / "sweep.pptx"))
    assert titles(prs)[7] == "Sensitivities: NPV per input (tornado)"
    (chart,) = charts(prs.slides[7])
    assert chart.chart_type == XL_CHART_TYPE.BAR_CLUSTERED
    low, high = chart.plots[0].series
    # largest swing first: capex (−700 only), then BTC (−200 / +300)
    assert list(low.values) == pytest.approx([-700.0, -200.0])
    assert list(high.values) == pytest.approx([-700.0, 300.0])


def test_futures_get_npv_by_future_and_a_fan(base_plan):
    results, _ = base_plan
    block = {"expected_npv_usd": 3.2e9, "cvar_npv_usd": 2.2e9, "cvar_alpha_pct": 30,
             "commit_months": 12,
             "scenarios": [{"name": "bear", "probability_pct": 30, "npv_usd": 2.2e9},
                           {"name": "bull", "probability_pct": 70, "npv_usd": 4.8e9}]}
    stochastic = replace(results, summary={**results.summary, "stochastic": block},
                         futures={"bear": results, "bull": results})
    prs = new_presentation(None)
    multi_slides.futures(prs, stochastic, "footer")
    bars, fan = charts(prs.slides[0])
    assert list(bars.plots[0].categories) == ["bear (30 %)", "bull (70 %)"]
    assert list(bars.plots[0].series[0].values) == pytest.approx([2.2, 4.8])
    assert fan.chart_type == XL_CHART_TYPE.LINE and len(fan.plots[0].series) == 2
    co = results.company_month[results.company_month["in_horizon"]]
    assert fan.plots[0].series[0].values[-1] == pytest.approx(
        (co["net_cash_usd"] * co["discount_factor"]).sum() / 1e6)


def test_a_run_without_a_plan_gets_one_slide_with_its_diagnosis(case, tmp_path):
    scenario = case(campuses=[{"permit_ready": "2028-06"}],
                    offers=[{"offer_id": "O1", "signed": "true", "latest_start": "2027-06"}])
    result = run("solve", scenario, "-o", tmp_path / "inf", "--no-workbook")
    assert result.exit_code == 1
    assert run("deck", tmp_path / "inf", "-o", tmp_path / "inf.pptx").exit_code == 0
    prs = Presentation(str(tmp_path / "inf.pptx"))
    assert titles(prs) == ["No plan: case is infeasible"]
    text = " ".join(s.text_frame.text for s in prs.slides[0].shapes if s.has_text_frame)
    assert "Signed lease O1 needs 10 IT MW by 2027-06" in text


def test_bad_input_is_located_exit_1_and_never_touches_the_deck(base_plan, tmp_path):
    _, folder = base_plan
    target = tmp_path / "board.pptx"
    target.write_bytes(b"the deck of last week")
    result = run("deck", tmp_path / "missing", folder / "inputs", "-o", target)
    assert result.exit_code == 1
    assert "missing: not found" in result.output and "not a result folder" in result.output
    assert "Traceback" not in result.output
    assert target.read_bytes() == b"the deck of last week"
    assert run("deck", folder, "-o", tmp_path / "deck.ppt").exit_code == 1
    inside = run("deck", folder, "-o", folder / "board.pptx")
    assert inside.exit_code == 1 and "is inside the result folder" in inside.output
    assert not (folder / "board.pptx").exists()
    bad = tmp_path / "house.pptx"
    bad.write_text("not a presentation")
    result = run("deck", folder, "-o", target, "--template", bad)
    assert result.exit_code == 1 and "cannot be read as a PowerPoint file" in result.output


def test_a_failed_save_keeps_the_previous_deck(base_plan, tmp_path, monkeypatch):
    _, folder = base_plan
    target = tmp_path / "board.pptx"
    target.write_bytes(b"previous")

    def broken(self, path):
        Path(path).write_bytes(b"half")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("pptx.presentation.Presentation.save", broken)
    result = run("deck", folder, "-o", target)
    assert result.exit_code == 1 and "No space left on device" in result.output
    assert target.read_bytes() == b"previous"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["board.pptx"]


def test_a_template_gives_its_layouts(base_plan, tmp_path):
    _, folder = base_plan
    house = Presentation()
    house.slide_width, house.slide_height = 12192000, 6858000
    house.slides.add_slide(house.slide_layouts[0])  # an example slide: not carried over
    house.save(str(tmp_path / "house.pptx"))
    result = run("deck", folder, "-o", tmp_path / "b.pptx", "--template", tmp_path / "house.pptx")
    assert result.exit_code == 0, result.output
    prs = Presentation(str(tmp_path / "b.pptx"))
    assert titles(prs) == list(TITLES)
    assert prs.slides[0].slide_layout.name == "Title Only"


@needs_libreoffice
def test_libreoffice_renders_the_deck(deck, tmp_path):
    """Rendered to PDF, one page per slide."""
    _, path = deck
    assert pdf_pages(render_pdf(path, tmp_path)) == len(TITLES)


def test_a_batch_folder_is_compared(base_plan, tmp_path):
    """A `batch` folder (batch.csv without changes): each solved run is a plan compared."""
    _, folder = base_plan
    batch = tmp_path / "batch"
    batch.mkdir()
    for name in ("one", "two"):
        shutil.copytree(folder, batch / name)
    pd.DataFrame([{"scenario": n, "changes": "", "status": "optimal", "npv_usd": 1.0,
                   "outdir": f"x/{n}"} for n in ("one", "two")]).to_csv(batch / "batch.csv",
                                                                       index=False)
    assert run("deck", batch, "-o", tmp_path / "b.pptx").exit_code == 0
    got = titles(Presentation(str(tmp_path / "b.pptx")))
    assert "Scenarios compared: headline KPIs" in got
    assert "Sensitivities: NPV per input (tornado)" not in got


def test_a_grid_sweep_gets_its_combinations(base_plan, tmp_path):
    _, folder = base_plan
    sweep = tmp_path / "grid"
    sweep.mkdir()
    rows = [("base", "", 4.0e9), ("a", "market.btc_price_usd=*0.8; capex=*1.1", 3.1e9),
            ("b", "market.btc_price_usd=*1.2; capex=*0.9", 4.9e9)]
    for name, _, _ in rows:
        shutil.copytree(folder, sweep / name)
    pd.DataFrame([{"scenario": n, "changes": c, "status": "optimal", "npv_usd": v,
                   "outdir": n} for n, c, v in rows]).to_csv(sweep / "batch.csv", index=False)
    assert run("deck", sweep, "-o", tmp_path / "g.pptx").exit_code == 0
    prs = Presentation(str(tmp_path / "g.pptx"))
    assert titles(prs)[7] == "Sensitivities: every combination"
    (table,) = [s.table for s in prs.slides[7].shapes if s.has_table]
    assert [table.cell(i, 0).text for i in (1, 2)] == [
        "market.btc_price_usd=×1.2; capex=×0.9", "market.btc_price_usd=×0.8; capex=×1.1"]
    assert [table.cell(i, 2).text for i in (1, 2)] == ["900 M USD", "−900 M USD"]
