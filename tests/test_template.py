"""`siteopt init`: a working project from the schema — scenario YAML with every key, the
example portfolio as CSV or as an Excel template with README, drop-downs and checked ranges —
that never overwrites files unless told, and solves to the same plan as the CSV portfolio."""

from __future__ import annotations

import openpyxl
import pandas as pd
import pytest
import yaml
from cases import cli as run

from siteopt.api import solve_scenario
from siteopt.inputs import load_inputs
from siteopt.inputs.schema import SCENARIO_SECTIONS, TABLES, Scenario
from siteopt.inputs.template import EXAMPLE_PORTFOLIO, SCENARIO_FILE, WORKBOOK_FILE


@pytest.fixture(scope="module")
def excel_project(tmp_path_factory):
    folder = tmp_path_factory.mktemp("init") / "project"
    result = run("init", folder, "--excel")
    assert result.exit_code == 0, result.output
    return folder


def scenario_keys() -> list[str]:
    keys = []

    def walk(model, prefix):
        for name in model.model_fields:
            path = f"{prefix}{name}"
            if path in SCENARIO_SECTIONS:
                walk(SCENARIO_SECTIONS[path], f"{path}.")
            keys.append(path)

    walk(Scenario, "")
    return keys


def test_init_writes_a_valid_csv_project(tmp_path):
    result = run("init", tmp_path / "p")
    assert result.exit_code == 0, result.output
    for name in TABLES:
        if (EXAMPLE_PORTFOLIO / f"{name}.csv").is_file():
            assert (tmp_path / "p" / "portfolio" / f"{name}.csv").read_bytes() == \
                (EXAMPLE_PORTFOLIO / f"{name}.csv").read_bytes()
    assert run("validate", tmp_path / "p" / SCENARIO_FILE).exit_code == 0


def test_init_refuses_to_overwrite_unless_forced(tmp_path):
    folder = tmp_path / "p"
    folder.mkdir()
    (folder / SCENARIO_FILE).write_text("mine\n")
    result = run("init", folder, "--excel")
    assert result.exit_code == 1
    assert str(folder / SCENARIO_FILE) in result.stderr and "--force" in result.stderr
    assert (folder / SCENARIO_FILE).read_text() == "mine\n"
    assert not (folder / WORKBOOK_FILE).exists()  # nothing at all was written
    result = run("init", folder, "--excel", "--force")
    assert result.exit_code == 0
    assert (folder / SCENARIO_FILE).read_text() != "mine\n"


def test_scenario_yaml_lists_and_explains_every_key(excel_project):
    text = (excel_project / SCENARIO_FILE).read_text(encoding="utf-8")
    lines = text.splitlines()
    for key in scenario_keys():
        name = key.split(".")[-1]
        at = [i for i, line in enumerate(lines)
              if line.lstrip("# ").startswith(f"{name}:")]
        assert at, key
        assert lines[at[0] - 1].lstrip().startswith("#"), key  # a comment explains it
    settings = yaml.safe_load(text)
    assert settings["portfolio"] == WORKBOOK_FILE
    assert "debt" not in settings["finance"]  # optional features stay commented out
    assert "# debt:" in text and "max_ltc_pct: 80" in text
    assert "USD/BTC" in text


def test_excel_template_follows_the_schema(excel_project):
    wb = openpyxl.load_workbook(excel_project / WORKBOOK_FILE)
    assert wb.sheetnames == ["README", *TABLES]
    readme = [[c.value for c in row] for row in wb["README"].iter_rows()]
    for table in TABLES.values():
        ws = wb[table.name]
        assert [c.value for c in ws[1]] == table.column_names
        assert ws.freeze_panes == "B2"
        for column in table.columns:
            assert any(row[0] == column.name and row[1] == (column.unit or None)
                       and row[4] == column.description for row in readme), column.name
        validations = {str(dv.sqref): dv for dv in ws.data_validations.dataValidation}
        letter = {c.name: openpyxl.utils.get_column_letter(i + 1)
                  for i, c in enumerate(table.columns)}
        for column in table.columns:
            dv = validations.get(f"{letter[column.name]}2:{letter[column.name]}201")
            if column.kind == "bool":
                assert dv.type == "list" and dv.formula1 == '"true,false"'
            elif column.kind in ("float", "int") and (column.ge, column.gt, column.le) != \
                    (None, None, None):
                assert dv is not None and dv.type in ("decimal", "whole", "custom"), column
                assert dv.showErrorMessage
        cell = ws.cell(row=2, column=1)
        assert cell.fill.fgColor.rgb.endswith("FFF2CC")  # styled as an input
    campuses = wb["campuses"]
    pue = next(dv for dv in campuses.data_validations.dataValidation
               if str(dv.sqref).startswith("K2"))
    assert (pue.type, pue.operator, pue.formula1, pue.formula2) == \
        ("decimal", "between", "1", "3")
    offers = wb["offers"]
    campus_list = next(dv for dv in offers.data_validations.dataValidation
                       if str(dv.sqref).startswith("I2"))
    # 'TX-ROCK;LA-RIVR' and '*' are valid: a hint, no list of single ids that warns on them
    assert campus_list.type is None and not campus_list.showErrorMessage
    assert campus_list.showInputMessage and "or *" in campus_list.prompt
    assert offers["J2"].value in ("true", "false") and offers["J2"].data_type == "s"


def test_excel_template_loads_like_the_csv_portfolio(excel_project, tmp_path):
    from_xlsx = load_inputs(excel_project / SCENARIO_FILE)
    csv_project = tmp_path / "csv"
    assert run("init", csv_project).exit_code == 0
    from_csv = load_inputs(csv_project / SCENARIO_FILE)
    pd.testing.assert_frame_equal(from_xlsx.campuses, from_csv.campuses)
    pd.testing.assert_frame_equal(from_xlsx.offers, from_csv.offers)
    pd.testing.assert_frame_equal(from_xlsx.offer_phases, from_csv.offer_phases)
    assert from_xlsx.input_hash == from_csv.input_hash


def test_round_trip_excel_template_solves_to_the_csv_plan(excel_project, base_plan):
    """init --excel, solve: the same plan as scenarios/base.yaml on data/portfolio (CSV)."""
    results, _ = base_plan
    solved = solve_scenario(excel_project / SCENARIO_FILE)
    assert solved.summary["input_hash"] == results.summary["input_hash"]
    assert solved.summary["npv_usd"] == pytest.approx(results.summary["npv_usd"], abs=0.005)
    pd.testing.assert_frame_equal(solved.leases, results.leases)


def test_readme_sheet_says_what_each_column_kind_allows(excel_project):
    from typing import get_args

    from siteopt.inputs.schema import Kind
    from siteopt.inputs.template import ALLOWED_TEXT

    assert set(ALLOWED_TEXT) == set(get_args(Kind))
    wb = openpyxl.load_workbook(excel_project / WORKBOOK_FILE)
    allowed = {row[0].value: row[3].value for row in wb["README"].iter_rows()
               if row[0].value and len(row) > 3}
    for name in ("name", "region", "tenant"):
        assert allowed[name] == "text", name
    assert allowed["campus_id"] == "letters, digits, - _ ."
    assert allowed["campuses"] == "campus ids separated by ';', or *"
    assert allowed["grid_mw"].startswith("number")
    comments = {c.value: c.comment.text for c in wb["offers"][1]}
    assert comments["tenant"].endswith("; text")
