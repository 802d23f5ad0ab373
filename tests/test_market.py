"""Market engine: hashprice formula, halvings, growth, paths CSV, flat override, mining margin."""

from __future__ import annotations

import pandas as pd
import pytest

from siteopt.inputs import load_inputs
from siteopt.inputs.market import (
    hashprice_usd_per_ph_day,
    market_path,
    mining_margin_usd_per_mw_month,
)
from siteopt.inputs.schema import Market

# The reference point of the issue: BTC 71,091 USD on a 913 EH/s network, no fees.
REFERENCE = 144 * 3.125 * 71091 / 913000


def flat_market(**overrides) -> Market:
    values = {"btc_price_usd": 71091, "network_hashrate_ehs": 913, "fees_btc_per_block": 0,
              "block_subsidy_btc": 3.125, "halving_months": []}
    return Market(**{**values, **overrides})


def test_hashprice_reference_value_is_35_04_usd_per_ph_day():
    path = market_path(flat_market(), "2027-01", 3)

    assert round(path["hashprice_usd_per_ph_day"].iloc[0], 2) == 35.04
    assert path["hashprice_usd_per_ph_day"].tolist() == pytest.approx([REFERENCE] * 3, rel=1e-12)
    assert hashprice_usd_per_ph_day(3.125, 0.0, 71091, 913) == pytest.approx(REFERENCE, rel=1e-12)


def test_fees_add_to_the_subsidy():
    path = market_path(flat_market(fees_btc_per_block=0.125), "2027-01", 1)

    expected = 144 * (3.125 + 0.125) * 71091 / 913000
    assert path["hashprice_usd_per_ph_day"].iloc[0] == pytest.approx(expected, rel=1e-12)


def test_path_has_one_row_per_month_with_calendar_days():
    path = market_path(flat_market(), "2027-11", 4)

    assert path["month"].tolist() == ["2027-11", "2027-12", "2028-01", "2028-02"]
    assert path["days"].tolist() == [30, 31, 31, 29]  # 2028 is a leap year


def test_subsidy_halves_from_the_halving_month_on():
    path = market_path(flat_market(halving_months=["2027-07"]), "2027-01", 12)

    assert path["block_subsidy_btc"].tolist() == [3.125] * 6 + [1.5625] * 6
    hashprice = path["hashprice_usd_per_ph_day"]
    assert hashprice.iloc[:6].tolist() == pytest.approx([REFERENCE] * 6, rel=1e-12)
    assert hashprice.iloc[5] / hashprice.iloc[6] == pytest.approx(2.0, rel=1e-12)
    assert hashprice.iloc[6:].tolist() == pytest.approx([REFERENCE / 2] * 6, rel=1e-12)


def test_two_halvings_quarter_the_subsidy_and_unsorted_months_are_fine():
    path = market_path(flat_market(halving_months=["2027-05", "2027-03"]), "2027-01", 6)

    assert path["block_subsidy_btc"].tolist() == [3.125, 3.125, 1.5625, 1.5625, 0.78125, 0.78125]


def test_growth_compounds_annually_from_the_first_month():
    market = flat_market(btc_price_growth_pct_per_year=8, network_hashrate_growth_pct_per_year=12)
    path = market_path(market, "2027-01", 25)

    assert path["btc_price_usd"].iloc[0] == 71091
    assert path["btc_price_usd"].iloc[12] == pytest.approx(71091 * 1.08, rel=1e-12)
    assert path["btc_price_usd"].iloc[24] == pytest.approx(71091 * 1.08**2, rel=1e-12)
    assert path["btc_price_usd"].iloc[6] == pytest.approx(71091 * 1.08**0.5, rel=1e-12)
    assert path["network_hashrate_ehs"].iloc[12] == pytest.approx(913 * 1.12, rel=1e-12)
    expected = 144 * 3.125 * (71091 * 1.08) / (913 * 1.12 * 1000)
    assert path["hashprice_usd_per_ph_day"].iloc[12] == pytest.approx(expected, rel=1e-12)


def test_negative_growth_shrinks():
    path = market_path(flat_market(btc_price_growth_pct_per_year=-50), "2027-01", 13)

    assert path["btc_price_usd"].iloc[12] == pytest.approx(71091 / 2, rel=1e-12)


def test_flat_hashprice_overrides_the_formula_in_every_month():
    market = flat_market(hashprice_usd_per_ph_day=42.0, halving_months=["2027-03"])
    path = market_path(market, "2027-01", 6)

    assert path["hashprice_usd_per_ph_day"].tolist() == [42.0] * 6
    # the other series are still computed (they are shown in reports)
    assert path["block_subsidy_btc"].tolist() == [3.125] * 2 + [1.5625] * 4


def write_paths(scenario, text: str) -> None:
    (scenario.parent / "paths.csv").write_text(text, encoding="utf-8")


def test_paths_csv_overrides_series_month_by_month(case):
    scenario = case(market={"btc_price_usd": 90000, "network_hashrate_ehs": 1000,
                            "fees_btc_per_block": 0.0, "paths": "paths.csv"},
                    horizon={"start": "2027-01", "months": 6})
    write_paths(scenario, "month,btc_price_usd,network_hashrate_ehs,fees_btc_per_block\n"
                          "2027-02,100000,,\n"
                          "2027-03,,800,\n"
                          "2027-04,,,0.5\n"
                          "2031-01,1,1,1\n")  # outside the horizon: ignored

    market = load_inputs(scenario).market

    assert market["btc_price_usd"].tolist() == [90000, 100000, 90000, 90000, 90000, 90000]
    assert market["network_hashrate_ehs"].tolist() == [1000, 1000, 800, 1000, 1000, 1000]
    assert market["fees_btc_per_block"].tolist() == [0, 0, 0, 0.5, 0, 0]
    expected = [hashprice_usd_per_ph_day(3.125, f, p, n) for f, p, n in
                [(0, 90000, 1000), (0, 100000, 1000), (0, 90000, 800), (0.5, 90000, 1000),
                 (0, 90000, 1000), (0, 90000, 1000)]]
    assert market["hashprice_usd_per_ph_day"].tolist() == pytest.approx(expected, rel=1e-12)
    assert market["hashprice_usd_per_ph_day"].iloc[0] == pytest.approx(40.5, rel=1e-12)


def test_paths_hashprice_column_overrides_the_formula_only_where_given(case):
    scenario = case(market={"paths": "paths.csv"}, horizon={"start": "2027-01", "months": 4})
    write_paths(scenario, "month,btc_price_usd,hashprice_usd_per_ph_day\n"
                          "2027-02,120000,55.5\n"
                          "2027-03,120000,\n")

    market = load_inputs(scenario).market

    formula = market["hashprice_usd_per_ph_day"]
    assert formula.iloc[0] == pytest.approx(40.5, rel=1e-12)  # 144 × 3.125 × 90000 / 1e6
    assert formula.iloc[1] == 55.5  # given: wins over the formula with the new price
    assert formula.iloc[2] == pytest.approx(40.5 * 120000 / 90000, rel=1e-12)  # formula
    assert formula.iloc[3] == pytest.approx(40.5, rel=1e-12)  # not in the file


def test_paths_hashprice_wins_over_the_flat_override(case):
    scenario = case(market={"paths": "paths.csv", "hashprice_usd_per_ph_day": 30},
                    horizon={"start": "2027-01", "months": 3})
    write_paths(scenario, "month,hashprice_usd_per_ph_day\n2027-02,60\n")

    assert load_inputs(scenario).market["hashprice_usd_per_ph_day"].tolist() == [30, 60, 30]


def test_mining_margin_by_hand(case):
    scenario = case(campuses=[{"fleet_efficiency_j_per_th": 20, "power_price_usd_per_mwh": 40,
                               "mining_opex_usd_per_mw_month": 5000}],
                    horizon={"start": "2027-01", "months": 2})
    inputs = load_inputs(scenario)

    margin = mining_margin_usd_per_mw_month(inputs.market, inputs.campuses.loc["C1"])

    # 1 MW at 20 J/TH = 50 PH/s; hashprice 144 × 3.125 × 90000 / 1,000,000 = 40.5 USD/PH/day.
    # February 2027: 40.5 × 50 × 28 = 56,700 revenue; 24 × 28 × 40 = 26,880 power; 5,000 opex.
    assert margin.iloc[1] == pytest.approx(56_700 - 26_880 - 5_000, rel=1e-12)
    # January (31 days): 62,775 − 29,760 − 5,000.
    assert margin.iloc[0] == pytest.approx(28_015, rel=1e-12)


def test_mining_margin_is_a_series_per_month():
    market = market_path(flat_market(), "2027-01", 3)
    campus = pd.Series({"fleet_efficiency_j_per_th": 25.0, "power_price_usd_per_mwh": 0.0,
                        "mining_opex_usd_per_mw_month": 0.0})

    margin = mining_margin_usd_per_mw_month(market, campus)

    assert margin.tolist() == pytest.approx([REFERENCE * 40 * d for d in (31, 28, 31)], rel=1e-12)
