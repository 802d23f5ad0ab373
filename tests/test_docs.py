"""The documentation matches the code: README input tables, formulation page, CLI help."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pyomo.environ as pyo

import siteopt.model as model_package
from siteopt.inputs import load_inputs
from siteopt.inputs.schema_docs import schema_markdown
from siteopt.model import FAMILIES, build_model, prepare, reuse
from siteopt.model.docs import GENERATED, generated_blocks

ROOT = Path(__file__).resolve().parents[1]


def test_readme_input_tables_match_the_schema():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = re.search(r"<!-- schema:start -->\n(.*)<!-- schema:end -->", readme, re.S)
    assert section, "README lacks the generated schema section"
    assert section.group(1) == schema_markdown(), "run: make docs"


def test_readme_shows_the_two_first_commands():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "make demo" in readme and "make test" in readme


def test_formulation_page_names_every_model_component_and_builder():
    page = (ROOT / "docs" / "formulation.md").read_text(encoding="utf-8")
    # spec-build and funded switch on every optional family between them
    names = set()
    for scenario in ("spec-build", "funded"):
        built = build_model(prepare(load_inputs(ROOT / "scenarios" / f"{scenario}.yaml"))).model
        names |= {c.local_name for c in built.component_objects((pyo.Var, pyo.Constraint,
                                                                 pyo.Set))}
    for name in sorted(names):
        assert f"`{name}`" in page, name
    for name in ("spot_within_unleased_ready", "spot_after_absorption", "tenant_share_cap",
                 "miners_sold_stay_sold", "region_it_started_per_year_cap", "split_mw_adds_up",
                 "debt_within_ltc", "cash_balance", "capex_within_budget",
                 "btc_sold_within_treasury"):
        assert name in names, f"the scenarios no longer build {name}"
    headings = [(i, line) for i, line in enumerate(page.splitlines()) if line.startswith("### ")]
    where = []
    for family in FAMILIES:
        found = [i for i, line in headings if f"`{family.builder}`" in line
                 and f"`{family.module.replace('.', '/')}.py`" in line]
        assert found, f"no section heading names {family.builder} and its module"
        where.append(found[0])
    assert where == sorted(where), "families on the page follow build order"


def test_generated_parts_of_the_formulation_page_are_current():
    page = (ROOT / "docs" / "formulation.md").read_text(encoding="utf-8")
    blocks = generated_blocks(page)
    for name, make in GENERATED.items():
        assert blocks[name] == make(), f"docs/formulation.md {name} is stale: run make docs"


def test_build_model_walks_the_families_and_nothing_else():
    """build_model and the reuse path take the families from FAMILIES, not from a list of
    their own."""
    for function in (model_package.build_model, reuse.record_cash):
        source = inspect.getsource(function)
        assert "FAMILIES" in source or "families_for" in source, function.__name__
        assert "define_" not in source and "record_" not in source.replace(
            "record_cash", ""), function.__name__
