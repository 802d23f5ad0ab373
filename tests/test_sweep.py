"""Sweep specs: targets checked against the schema, defaults scaled, ranges counted before
they are made, variants generated in linear time with exact labels and unique folders."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from siteopt.inputs import load_inputs
from siteopt.inputs.errors import InputError
from siteopt.inputs.overrides import Override, parse_vary
from siteopt.inputs.schema import Market, TerminalValue
from siteopt.runs.sweep import sweep_tasks


def test_scale_and_shift_an_absent_key_from_its_schema_default(case):
    path = case()  # the tiny scenario sets neither the spot rate nor a terminal value
    spot = Market.model_fields["hpc_spot_rate_usd_per_kw_month"].default
    multiple = TerminalValue.model_fields["hpc_ebitda_multiple"].default
    scaled = load_inputs(path, overrides=[
        Override("market.hpc_spot_rate_usd_per_kw_month", "scale", 1.5),
        Override("finance.terminal_value.hpc_ebitda_multiple", "scale", 2)]).scenario
    assert scaled.market.hpc_spot_rate_usd_per_kw_month == spot * 1.5
    assert scaled.finance.terminal_value.hpc_ebitda_multiple == multiple * 2
    shifted = load_inputs(path, overrides=[
        Override("market.hpc_spot_rate_usd_per_kw_month", "shift", 10)]).scenario
    assert shifted.market.hpc_spot_rate_usd_per_kw_month == spot + 10
    # no default to start from: say so, and how to give a value
    with pytest.raises(InputError, match=r"hashprice_usd_per_ph_day is not set and has no "
                                         r"default to scale; set it \(=VALUE\)"):
        load_inputs(path, overrides=[Override("market.hashprice_usd_per_ph_day", "scale", 2)])


@pytest.mark.parametrize("spec, near", [
    ("market.btc_pric=*2", "did you mean market.btc_price_usd?"),
    ("markt.btc_price_usd=1", "did you mean market.btc_price_usd?"),
    ("finance.hpc_spot_rate_usd_per_kw_month=*1.5",
     "did you mean market.hpc_spot_rate_usd_per_kw_month?"),
    ("campus.grid_mw=*2", "did you mean campuses.grid_mw?"),
    ("campuses.grid=*2", "did you mean grid_mw?"),
    ("solver.thread=2", "did you mean solver.threads?"),
])
def test_unknown_keys_are_located_with_the_nearest_names(spec, near):
    with pytest.raises(InputError) as caught:
        parse_vary(spec)
    (problem,) = caught.value.problems
    assert problem.where == f"--vary {spec}"
    assert near in problem.message


@pytest.mark.parametrize("spec, message", [
    ("market.halving_months=*2", "not a number: it can only be set"),
    ("campuses.name=*2", "not numeric: it can only be set"),
    ("finance.debt=1", "is a section; vary one of its keys"),
    ("market.btc_price_usd.x=1", "market.btc_price_usd is a value, not a section"),
])
def test_targets_that_cannot_take_the_change_are_refused(spec, message):
    with pytest.raises(InputError, match=message):
        parse_vary(spec)


@pytest.mark.parametrize("values, message", [
    ("1:1e308:1e-308", "range stop 1e308 is beyond any input"),
    ("1:1e9:1", "1,000,000,000 values; a sweep runs at most 1,000 variants"),
    ("1:1e15:1e-300", r"about 10\^314 values"),
    ("1:inf:1", "range stop must be a finite number"),
    ("nan:1:1", "range start must be a finite number"),
    ("1:2", "a range is start:stop:step"),
    ("1:2:0", "step > 0"),
    ("1:x:1", "range stop 'x' is not a number"),
    ("1e14:100000000000000.5:0.001", r"below the precision of numbers near 1e\+14"),
    ("nan", "must be a finite number"),
    ("*1e999", "must be a finite number"),
    ("=1e300", "beyond any input"),
])
def test_absurd_values_and_ranges_are_located_errors(values, message):
    with pytest.raises(InputError, match=message) as caught:
        parse_vary(f"market.btc_price_usd={values}")
    assert caught.value.problems[0].where == f"--vary market.btc_price_usd={values}"


def test_range_values_are_exact_decimals():
    _, _, items = parse_vary("finance.discount_rate_pct_per_year=0.1:0.3:0.1")
    assert [o.value for o in items] == [0.1, 0.2, 0.3]
    _, _, items = parse_vary("market.btc_price_usd=50000:150000:25000")
    assert [o.value for o in items] == [50000, 75000, 100000, 125000, 150000]
    assert all(isinstance(o.value, int) for o in items)


def test_variants_are_counted_before_they_are_made(tmp_path):
    specs = ["market.btc_price_usd=1:200:1", "market.network_hashrate_ehs=1:300:1"] + \
        ["finance.discount_rate_pct_per_year=1:100:1"]
    with pytest.raises(InputError, match=r"6,000,000 variants \(200 × 300 × 100\); at most "
                                         r"1,000 \(raise --max-variants"):
        sweep_tasks(Path("s.yaml"), specs, tmp_path, grid=True)
    with pytest.raises(InputError, match=r"600 variants \(200 \+ 300 \+ 100\); at most 500"):
        sweep_tasks(Path("s.yaml"), specs, tmp_path, max_variants=500)
    assert len(sweep_tasks(Path("s.yaml"), specs, tmp_path, max_variants=600)) == 1 + 600


def test_generation_is_linear_in_the_variants(tmp_path, monkeypatch):
    """Counted comparisons, not time: the old `if combo not in variants` over a list compared
    each new variant with all before it (27,000 variants: 139 s)."""
    comparisons = {"n": 0}
    plain_eq = Override.__eq__

    def counting_eq(self, other):
        comparisons["n"] += 1
        return plain_eq(self, other)

    monkeypatch.setattr(Override, "__eq__", counting_eq)
    monkeypatch.setattr(Override, "__hash__", Override.__hash__)
    specs = ["market.btc_price_usd=1:40:1", "finance.discount_rate_pct_per_year=1:25:1"]
    tasks = sweep_tasks(Path("s.yaml"), specs, tmp_path, grid=True)
    assert len(tasks) == 1 + 40 * 25
    assert comparisons["n"] <= len(tasks)


def test_labels_and_folders_are_exact_and_unique(tmp_path):
    tasks = sweep_tasks(Path("s.yaml"), ["market.btc_price_usd=900000.1,900000.4"], tmp_path)
    assert [t.overrides[0].label for t in tasks[1:]] == ["market.btc_price_usd=900000.1",
                                                          "market.btc_price_usd=900000.4"]
    assert len({t.outdir for t in tasks}) == 3
    # rows that sanitising, case folding or cutting would merge into one folder
    long_row = "R" * 200
    specs = ["campuses[a/b].grid_mw=1", "campuses[a:b].grid_mw=1", "campuses[A/B].grid_mw=1",
             f"campuses[{long_row}1].grid_mw=1", f"campuses[{long_row}2].grid_mw=1"]
    tasks = sweep_tasks(Path("s.yaml"), specs, tmp_path)
    names = [t.name for t in tasks]
    assert len({n.casefold() for n in names}) == len(names) == 6
    assert all(len(n) <= 150 for n in names)
    assert sweep_tasks(Path("s.yaml"), specs, tmp_path) == tasks  # stable for --resume
    # the same value written twice is one variant
    assert len(sweep_tasks(Path("s.yaml"), ["market.btc_price_usd=1,1.0,1"], tmp_path)) == 2


def test_sweep_cli_refuses_too_many_variants_before_writing_anything(case, tmp_path):
    outdir = tmp_path / "sweep"
    result = CliRunner().invoke(
        __import__("siteopt.cli", fromlist=["main"]).main,
        ["sweep", str(case()), "--vary", "market.btc_price_usd=1000:100000:1000",
         "--max-variants", "50", "-o", str(outdir)])
    assert result.exit_code == 1
    assert "100 values; a sweep runs at most 50 variants (--max-variants)" in result.stderr
    assert not outdir.exists()


def test_cli_defaults_are_the_library_defaults():
    from siteopt import cli
    from siteopt.inputs import overrides
    from siteopt.runs import batch

    assert cli.MAX_VARIANTS == overrides.MAX_VARIANTS
    assert cli.WORKER_TIMEOUT_S == batch.WORKER_TIMEOUT_S
