"""Loading: CSV folder vs .xlsx workbook, Excel cell types, `extends` chains and their paths."""

from __future__ import annotations

import csv
import datetime as dt
import shutil
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
import yaml

from siteopt.inputs import load_inputs
from siteopt.inputs.errors import InputError
from siteopt.inputs.scenario import load_scenario
from siteopt.inputs.schema import TABLES

ROOT = Path(__file__).resolve().parents[1]
BASE = ROOT / "scenarios" / "base.yaml"


def _cell(text: str):
    """What a user's workbook holds: numbers as numbers, text as text, blanks as empty."""
    if text == "":
        return None
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def csv_folder_to_xlsx(folder: Path, target: Path) -> openpyxl.Workbook:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name in TABLES:
        if not (folder / f"{name}.csv").is_file():
            continue
        ws = wb.create_sheet(name)
        with (folder / f"{name}.csv").open(newline="", encoding="utf-8") as f:
            for i, row in enumerate(csv.reader(f)):
                ws.append(row if i == 0 else [_cell(c) for c in row])
    wb.save(target)
    return wb


@pytest.fixture
def both(tmp_path):
    """The base scenario twice: once on a CSV folder, once on the same tables as a workbook."""
    shutil.copytree(ROOT / "data" / "portfolio", tmp_path / "portfolio")
    text = BASE.read_text(encoding="utf-8").replace("../data/portfolio", "portfolio")
    assert "portfolio: portfolio\n" in text
    (tmp_path / "csv.yaml").write_text(text, encoding="utf-8")
    (tmp_path / "xlsx.yaml").write_text(text.replace("portfolio: portfolio\n",
                                                     "portfolio: portfolio.xlsx\n"),
                                        encoding="utf-8")
    csv_folder_to_xlsx(tmp_path / "portfolio", tmp_path / "portfolio.xlsx")
    return tmp_path


def test_csv_folder_and_xlsx_workbook_load_identically(both):
    from_csv = load_inputs(both / "csv.yaml")
    from_xlsx = load_inputs(both / "xlsx.yaml")

    assert len(from_csv.campuses) == 8 and len(from_csv.offers) == 8
    pd.testing.assert_frame_equal(from_csv.construction, from_xlsx.construction)
    pd.testing.assert_frame_equal(from_csv.campuses, from_xlsx.campuses)
    pd.testing.assert_frame_equal(from_csv.offers, from_xlsx.offers)
    pd.testing.assert_frame_equal(from_csv.offer_phases, from_xlsx.offer_phases)
    pd.testing.assert_frame_equal(from_csv.market, from_xlsx.market)
    assert from_csv.input_hash == from_xlsx.input_hash
    assert from_xlsx.portfolio_path == both / "portfolio.xlsx"


def test_xlsx_date_cell_and_percent_format_are_read_as_the_user_sees_them(both):
    wb = openpyxl.load_workbook(both / "portfolio.xlsx")
    ws = wb["offers"]
    header = [c.value for c in ws[1]]
    row = next(r for r in range(2, ws.max_row + 1) if ws.cell(r, 1).value == "OF-D")
    ws.cell(row, header.index("earliest_start") + 1).value = dt.datetime(2027, 6, 1)
    percent = ws.cell(row, header.index("escalator_pct_per_year") + 1)
    percent.value = 0.03
    percent.number_format = "0%"
    wb.save(both / "portfolio.xlsx")

    offers = load_inputs(both / "xlsx.yaml").offers

    assert offers.loc["OF-D", "earliest_start"] == "2027-06"
    assert offers.loc["OF-D", "escalator_pct_per_year"] == pytest.approx(3.0, abs=1e-12)


def test_xlsx_plain_fraction_without_percent_format_is_still_refused(both):
    wb = openpyxl.load_workbook(both / "portfolio.xlsx")
    ws = wb["offers"]
    header = [c.value for c in ws[1]]
    ws.cell(3, header.index("escalator_pct_per_year") + 1).value = 0.03
    wb.save(both / "portfolio.xlsx")

    with pytest.raises(InputError) as err:
        load_inputs(both / "xlsx.yaml")

    assert [str(p) for p in err.value.problems] == [
        "portfolio.xlsx offers!E3 (offer OF-A), escalator_pct_per_year: 0.03 looks like a "
        "fraction; write percent (3)"]


def test_input_hash_is_stable_and_follows_the_tables(both):
    first = load_inputs(both / "csv.yaml").input_hash
    assert load_inputs(both / "csv.yaml").input_hash == first

    campuses = both / "portfolio" / "campuses.csv"
    campuses.write_text(campuses.read_text(encoding="utf-8").replace(",1.25,", ",1.26,", 1),
                        encoding="utf-8")

    assert load_inputs(both / "csv.yaml").input_hash != first


# ---------------------------------------------------------------------------------------------
# extends
# ---------------------------------------------------------------------------------------------


def test_three_line_child_deep_merges_over_its_parent(tmp_path):
    shutil.copytree(ROOT / "data" / "portfolio", tmp_path / "data" / "portfolio")
    (tmp_path / "scenarios").mkdir()
    shutil.copy(BASE, tmp_path / "scenarios" / "base.yaml")
    child = tmp_path / "scenarios" / "child.yaml"
    child.write_text("extends: base.yaml\nname: child\nmarket: {btc_price_usd: 50000}\n",
                     encoding="utf-8")

    parent = load_scenario(tmp_path / "scenarios" / "base.yaml").scenario
    merged = load_scenario(child).scenario

    assert merged.name == "child"
    assert merged.market.btc_price_usd == 50000
    # the rest of `market` and every other section come from base.yaml
    assert merged.market.model_dump(exclude={"btc_price_usd"}) == \
        parent.market.model_dump(exclude={"btc_price_usd"})
    assert merged.market.network_hashrate_ehs == 1050
    assert merged.market.halving_months == ("2028-04", "2032-04", "2036-04")
    assert merged.horizon == parent.horizon
    assert merged.finance == parent.finance
    assert merged.solver == parent.solver
    assert merged.description == parent.description
    assert load_inputs(child).market["btc_price_usd"].iloc[0] == 50000


def test_shipped_children_inherit_from_base():
    base = load_inputs(BASE)
    bear = load_inputs(ROOT / "scenarios" / "bear-btc.yaml")

    assert bear.scenario.market.btc_price_usd == 71091
    assert bear.scenario.market.network_hashrate_ehs == 1050  # from base.yaml
    assert bear.scenario.market.fees_btc_per_block == 0.025  # from base.yaml
    assert bear.portfolio_path.resolve() == (ROOT / "data" / "portfolio").resolve()
    pd.testing.assert_frame_equal(bear.campuses, base.campuses)


def _parent_with_portfolio_and_paths(folder: Path) -> Path:
    folder.mkdir(parents=True)
    shutil.copytree(ROOT / "data" / "portfolio", folder / "portfolio")
    (folder / "paths.csv").write_text("month,btc_price_usd\n2027-02,123456\n", encoding="utf-8")
    settings = yaml.safe_load(BASE.read_text(encoding="utf-8"))
    settings.update(portfolio="portfolio", horizon={"start": "2027-01", "months": 12})
    settings["market"]["paths"] = "paths.csv"
    path = folder / "parent.yaml"
    path.write_text(yaml.safe_dump(settings), encoding="utf-8")
    return path


def test_paths_resolve_relative_to_the_file_that_set_them(tmp_path):
    _parent_with_portfolio_and_paths(tmp_path / "shared")
    child = tmp_path / "mine" / "child.yaml"
    child.parent.mkdir()
    child.write_text("extends: ../shared/parent.yaml\nname: child\n"
                     "market: {btc_price_usd: 80000}\n", encoding="utf-8")

    inputs = load_inputs(child)

    assert inputs.portfolio_path.resolve() == (tmp_path / "shared" / "portfolio").resolve()
    assert len(inputs.campuses) == 8
    assert inputs.market["btc_price_usd"].tolist()[:2] == [80000, 123456]


def test_a_child_that_sets_portfolio_resolves_it_against_its_own_folder(tmp_path):
    _parent_with_portfolio_and_paths(tmp_path / "shared")
    child = tmp_path / "mine" / "child.yaml"
    shutil.copytree(ROOT / "data" / "portfolio-signed-only", tmp_path / "mine" / "portfolio")
    child.write_text("extends: ../shared/parent.yaml\nname: child\nportfolio: portfolio\n",
                     encoding="utf-8")

    inputs = load_inputs(child)

    assert inputs.portfolio_path.resolve() == (tmp_path / "mine" / "portfolio").resolve()
    assert list(inputs.offers.index) == ["OF-R", "OF-B"]
    # market.paths still comes from the parent and resolves against the parent's folder
    assert inputs.market["btc_price_usd"].iloc[1] == 123456


def test_circular_extends_names_the_loop_and_the_file_that_closes_it(tmp_path):
    (tmp_path / "a.yaml").write_text("extends: b.yaml\nname: a\n", encoding="utf-8")
    (tmp_path / "b.yaml").write_text("extends: c.yaml\n", encoding="utf-8")
    (tmp_path / "c.yaml").write_text("extends: b.yaml\n", encoding="utf-8")

    with pytest.raises(InputError) as err:
        load_scenario(tmp_path / "a.yaml")

    assert [str(p) for p in err.value.problems] == [
        "scenario c.yaml: extends: circular extends: a.yaml → b.yaml → c.yaml → b.yaml"]


def test_a_file_extending_itself_is_circular(tmp_path):
    (tmp_path / "self.yaml").write_text("extends: self.yaml\n", encoding="utf-8")

    with pytest.raises(InputError) as err:
        load_scenario(tmp_path / "self.yaml")

    assert str(err.value) == "scenario self.yaml: extends: circular extends: self.yaml → self.yaml"


def test_missing_parent_is_reported_at_the_extends_key(tmp_path):
    (tmp_path / "child.yaml").write_text("extends: nope.yaml\nname: x\n", encoding="utf-8")

    with pytest.raises(InputError) as err:
        load_scenario(tmp_path / "child.yaml")

    assert str(err.value) == \
        f"scenario child.yaml: extends: file not found ({tmp_path / 'nope.yaml'})"


def test_extends_must_name_a_file(tmp_path):
    (tmp_path / "child.yaml").write_text("extends: [a.yaml]\n", encoding="utf-8")

    with pytest.raises(InputError) as err:
        load_scenario(tmp_path / "child.yaml")

    assert str(err.value) == "scenario child.yaml: extends: expected a file name (got ['a.yaml'])"


def test_an_error_set_in_the_child_is_located_in_the_child(tmp_path):
    shutil.copy(BASE, tmp_path / "base.yaml")
    (tmp_path / "child.yaml").write_text("extends: base.yaml\nname: child\n"
                                         "market: {btc_price_usd: -5}\n", encoding="utf-8")
    (tmp_path / "other.yaml").write_text("extends: base.yaml\nname: other\n"
                                         "horizon: {months: 0}\n", encoding="utf-8")

    with pytest.raises(InputError) as err:
        load_scenario(tmp_path / "child.yaml")
    assert str(err.value) == "scenario child.yaml: market.btc_price_usd: must be between 1 " \
        "and 100,000,000 USD/BTC (got -5)"

    with pytest.raises(InputError) as err:
        load_scenario(tmp_path / "other.yaml")
    assert str(err.value) == "scenario other.yaml: horizon.months: must be between 1 and " \
        "600 months (got 0)"


def test_unquoted_yaml_dates_are_read_as_months(case):
    scenario = case()
    text = scenario.read_text(encoding="utf-8")
    text = text.replace("start: 2027-01\n", "start: 2027-01-01\n")
    text = text.replace("halving_months: []", "halving_months: [2027-07-01]")
    assert "start: 2027-01-01" in text and "[2027-07-01]" in text
    scenario.write_text(text, encoding="utf-8")

    inputs = load_inputs(scenario)

    assert inputs.scenario.horizon.start == "2027-01"
    assert inputs.scenario.market.halving_months == ("2027-07",)
    assert inputs.months[0] == "2027-01"
    assert inputs.market["block_subsidy_btc"].tolist() == [3.125] * 6 + [1.5625] * 6
