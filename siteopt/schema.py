"""The one input contract: every table column and scenario key with its unit and meaning.

Loading, validation, the README's input tables (`siteopt schema`) and the Excel template all
read this module, so a column is added here once and is then known everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from siteopt.months import label, parse_month

# ---------------------------------------------------------------------------------------------
# Portfolio tables
# ---------------------------------------------------------------------------------------------

Kind = Literal["id", "text", "float", "int", "month", "bool", "id_list"]


@dataclass(frozen=True)
class Column:
    """One column of a portfolio table. `required=False` columns take `default` when empty."""

    name: str
    kind: Kind
    unit: str
    description: str
    required: bool = True
    default: Any = None
    ge: float | None = None
    gt: float | None = None
    le: float | None = None
    fraction_hint: bool = False  # a value in (0, 1) is most likely a fraction typed as percent


@dataclass(frozen=True)
class Table:
    name: str
    key: str | tuple[str, ...]
    description: str
    columns: tuple[Column, ...]
    required: bool = True

    @property
    def key_columns(self) -> tuple[str, ...]:
        return (self.key,) if isinstance(self.key, str) else self.key

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


CAMPUSES = Table(
    name="campuses",
    key="campus_id",
    description="One row per campus: its grid connection, mining fleet and what converting costs.",
    columns=(
        Column("campus_id", "id", "", "Unique id, used by offers and in every output."),
        Column("name", "text", "", "Display name."),
        Column("region", "text", "", "Grid region or market (ERCOT, PJM, ...).", required=False,
               default=""),
        Column("grid_mw", "float", "MW", "Power available at the meter.", gt=0),
        Column("power_price_usd_per_mwh", "float", "USD/MWh", "All-in price of power for mining.",
               ge=0),
        Column("miner_mw", "float", "MW",
               "Installed mining load at the meter, cooling included.", ge=0),
        Column("fleet_efficiency_j_per_th", "float", "J/TH",
               "Fleet efficiency at the meter (joules per terahash).", gt=0),
        Column("mining_opex_usd_per_mw_month", "float", "USD/MW-month",
               "Mining opex other than power, per MW mining.", ge=0, required=False, default=0.0),
        Column("hpc_max_it_mw", "float", "IT MW",
               "Most critical-IT MW the site can host after conversion (0 = cannot convert).",
               ge=0),
        Column("hpc_block_it_mw", "float", "IT MW", "IT MW per conversion block (phase).", gt=0),
        Column("hpc_pue", "float", "MW/IT MW",
               "Facility MW drawn per IT MW (power usage effectiveness).", ge=1.0, le=3.0),
        Column("capex_usd_per_it_mw", "float", "USD/IT MW", "Fit-out capex per IT MW.", ge=0),
        Column("build_months", "int", "months",
               "Construction start to ready-for-service.", ge=1, le=60),
        Column("permit_ready", "month", "YYYY-MM",
               "First month construction may start; empty = permitted.", required=False),
        Column("hpc_opex_usd_per_it_mw_month", "float", "USD/IT MW-month",
               "Landlord's opex per ready IT MW (leases are triple-net: tenants pay power).",
               ge=0, required=False, default=0.0),
        Column("asic_salvage_usd_per_mw", "float", "USD/MW",
               "Sale value of miners displaced by conversion, per MW of mining load.",
               ge=0, required=False, default=0.0),
    ),
)

OFFERS = Table(
    name="offers",
    key="offer_id",
    description="One row per tenant offer or signed lease.",
    columns=(
        Column("offer_id", "id", "", "Unique id."),
        Column("tenant", "text", "", "Tenant name."),
        Column("it_mw", "float", "IT MW", "Critical-IT MW leased.", gt=0),
        Column("rate_usd_per_kw_month", "float", "USD/IT kW-month",
               "Rent in the first lease year.", gt=0),
        Column("escalator_pct_per_year", "float", "%/yr",
               "Rent step at each lease anniversary (3 = 3 %).", ge=0, le=25, required=False,
               default=0.0, fraction_hint=True),
        Column("term_months", "int", "months", "Lease term.", ge=1, le=600),
        Column("earliest_start", "month", "YYYY-MM", "First month the lease may start."),
        Column("latest_start", "month", "YYYY-MM", "Last month the lease may start."),
        Column("campuses", "id_list", "", "Eligible campus_ids separated by ';', or '*' for all.",
               required=False, default="*"),
        Column("signed", "bool", "true/false",
               "Already signed: must be delivered.", required=False, default=False),
        Column("split", "bool", "true/false",
               "IT MW may be delivered at several eligible campuses, in whole blocks of each.",
               required=False, default=False),
        Column("late_penalty_usd_per_month", "float", "USD/month",
               "Paid for each month the lease starts after latest_start.", ge=0,
               required=False, default=0.0),
        Column("max_delay_months", "int", "months",
               "Months after latest_start the lease may still start (then it lapses).", ge=0,
               le=120, required=False, default=0),
        Column("prepayment_usd", "float", "USD",
               "Received at signing; credited against rent over prepayment_credit_months.",
               ge=0, required=False, default=0.0),
        Column("prepayment_credit_months", "int", "months",
               "Months from the lease start over which the prepayment is credited evenly.",
               ge=0, le=600, required=False, default=0),
        Column("tenant_capex_pct", "float", "%",
               "Share of the fit-out capex of the leased IT MW that the tenant pays.", ge=0,
               le=100, required=False, default=0.0),
        Column("signing_month", "month", "YYYY-MM",
               "When the lease is (or was) signed: the prepayment is received then; before "
               "the horizon = already received. Empty = the horizon's first month.",
               required=False),
    ),
)

OFFER_PHASES = Table(
    name="offer_phases",
    key=("offer_id", "phase"),
    description="Optional. Phased delivery: replaces an offer's single it_mw by a ramp; rent "
                "follows the MW delivered. Phases of an offer add up to its it_mw.",
    required=False,
    columns=(
        Column("offer_id", "id", "", "Offer the phase belongs to."),
        Column("phase", "int", "", "Phase number (1, 2, ...), unique within the offer.", ge=1),
        Column("it_mw", "float", "IT MW", "IT MW delivered in this phase.", gt=0),
        Column("months_after_start", "int", "months",
               "Delivery month counted from the lease start (the first phase at 0).", ge=0,
               le=600),
    ),
)

TABLES: dict[str, Table] = {t.name: t for t in (CAMPUSES, OFFERS, OFFER_PHASES)}

# ---------------------------------------------------------------------------------------------
# Scenario keys
# ---------------------------------------------------------------------------------------------


def _unit(unit: str, **extra: Any) -> dict[str, Any]:
    return {"unit": unit, **extra}


def _month_label(value: Any) -> Any:
    # YAML reads an unquoted 2027-01-01 as a date: keep the month, as the tables do.
    return label(parse_month(value))


def _not_a_fraction(value: float | None) -> float | None:
    if value is not None and 0 < abs(value) < 1:
        raise ValueError(f"{value:g} looks like a fraction; write percent ({value * 100:g})")
    return value


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Horizon(_Strict):
    start: str = Field(description="First month planned.", json_schema_extra=_unit("YYYY-MM"))
    months: int = Field(ge=1, le=600, description="Months planned.",
                        json_schema_extra=_unit("months"))

    _check_start = field_validator("start", mode="before")(_month_label)


class Limits(_Strict):
    max_tenant_share_pct: float | None = Field(
        None, gt=0, le=100, description="Most any one tenant may hold of the IT MW under all "
        "accepted leases (each lease counted once at its full MW).",
        json_schema_extra=_unit("%"))
    max_it_mw_started_per_year: float | None = Field(
        None, ge=0, description="Company-wide IT MW that may start construction in a calendar "
        "year (transformers, switchgear, OEM slots).", json_schema_extra=_unit("IT MW/yr"))
    max_it_mw_started_per_year_by_region: dict[str, float] = Field(
        {}, description="Per region (campuses.region): IT MW that may start construction in a "
        "calendar year.", json_schema_extra=_unit("IT MW/yr"))

    _fraction = field_validator("max_tenant_share_pct")(_not_a_fraction)

    @field_validator("max_it_mw_started_per_year_by_region")
    @classmethod
    def _non_negative(cls, value: dict[str, float]) -> dict[str, float]:
        bad = {k: v for k, v in value.items() if v < 0}
        if bad:
            raise ValueError(f"caps must be >= 0 (got {bad})")
        return value


class Market(_Strict):
    btc_price_usd: float = Field(gt=0, description="BTC price in the first month.",
                                 json_schema_extra=_unit("USD/BTC"))
    btc_price_growth_pct_per_year: float = Field(
        0.0, gt=-100, le=1000, description="Annual growth of the BTC price.",
        json_schema_extra=_unit("%/yr"))
    network_hashrate_ehs: float = Field(gt=0, description="Network hashrate in the first month.",
                                        json_schema_extra=_unit("EH/s"))
    network_hashrate_growth_pct_per_year: float = Field(
        0.0, gt=-100, le=1000, description="Annual growth of the network hashrate.",
        json_schema_extra=_unit("%/yr"))
    fees_btc_per_block: float = Field(0.0, ge=0, le=100, description="Transaction fees per block.",
                                      json_schema_extra=_unit("BTC/block"))
    block_subsidy_btc: float = Field(3.125, gt=0, le=50,
                                     description="Block subsidy before the first halving listed.",
                                     json_schema_extra=_unit("BTC/block"))
    halving_months: tuple[str, ...] = Field(
        ("2028-04",), description="Months from which the subsidy halves.",
        json_schema_extra=_unit("YYYY-MM list"))
    hashprice_usd_per_ph_day: float | None = Field(
        None, gt=0, description="Flat hashprice overriding the formula (optional).",
        json_schema_extra=_unit("USD/PH/s/day"))
    paths: str | None = Field(
        None, description="CSV of monthly values (month, btc_price_usd, network_hashrate_ehs, "
        "fees_btc_per_block, hashprice_usd_per_ph_day) overriding the flat values; "
        "relative to the scenario file.", json_schema_extra=_unit("path"))
    hpc_spot_rate_usd_per_kw_month: float = Field(
        0.0, ge=0, description="Rate at which ready IT MW that no lease uses can be let "
        "(0 = never: nothing is built on speculation).",
        json_schema_extra=_unit("USD/IT kW-month"))
    hpc_spot_absorption_months: int = Field(
        0, ge=0, le=120, description="Months capacity must have been ready before it can be "
        "let at the spot rate.", json_schema_extra=_unit("months"))
    hpc_spot_share_pct: float = Field(
        0.0, ge=0, le=100, description="Share of the unleased ready IT MW that the spot market "
        "absorbs.", json_schema_extra=_unit("%"))

    @field_validator("halving_months", mode="before")
    @classmethod
    def _check_halvings(cls, value: Any) -> Any:
        if isinstance(value, (list, tuple)):
            return tuple(_month_label(item) for item in value)
        return value


class Debt(_Strict):
    max_ltc_pct: float = Field(gt=0, le=100, description="Most debt per USD of landlord capex "
                               "paid (loan to cost).", json_schema_extra=_unit("%"))
    rate_pct_per_year: float = Field(ge=0, le=100, description="Interest rate, annual "
                                     "effective.", json_schema_extra=_unit("%/yr"))
    tenor_months: int = Field(ge=1, le=600, description="Months from a draw to its last "
                              "repayment.", json_schema_extra=_unit("months"))
    amortisation: Literal["level", "bullet"] = Field(
        "level", description="level: equal monthly payments of interest and principal; "
        "bullet: interest monthly, principal at the end.", json_schema_extra=_unit(""))

    _fraction = field_validator("max_ltc_pct", "rate_pct_per_year")(_not_a_fraction)


class TerminalValue(_Strict):
    method: Literal["beyond_horizon", "ebitda_multiple"] = Field(
        "beyond_horizon", description="beyond_horizon: committed cash after the horizon "
        "(see value_beyond_horizon); ebitda_multiple: the last 12 months' EBITDA of each "
        "business times its multiple, at the horizon's end.", json_schema_extra=_unit(""))
    hpc_ebitda_multiple: float = Field(
        18.0, ge=0, le=100, description="Multiple of HPC EBITDA (data-centre landlords trade "
        "at 15–25×).", json_schema_extra=_unit("×"))
    mining_ebitda_multiple: float = Field(
        6.0, ge=0, le=100, description="Multiple of mining EBITDA (miners trade at 5–12×).",
        json_schema_extra=_unit("×"))


class Finance(_Strict):
    discount_rate_pct_per_year: float = Field(
        10.0, ge=0, le=100, description="Discount rate, annual effective.",
        json_schema_extra=_unit("%/yr"))
    value_beyond_horizon: bool = Field(
        True, description="Count cash already committed inside the horizon (rest of accepted "
        "leases with their HPC opex, rest of started capex) in months after it.",
        json_schema_extra=_unit("true/false"))
    capex_budget_usd_per_year: float | dict[int, float] | None = Field(
        None, description="Landlord capex (after tenant capex) that may be paid per calendar "
        "year: one number for every year, or a map year → USD (years not listed: no cap).",
        json_schema_extra=_unit("USD/yr"))
    opening_cash_usd: float | None = Field(
        None, ge=0, description="Cash at the start. When set, cash is tracked month by month "
        "and may not fall below min_cash_usd.", json_schema_extra=_unit("USD"))
    min_cash_usd: float = Field(0.0, ge=0, description="Cash floor (with opening_cash_usd).",
                                json_schema_extra=_unit("USD"))
    btc_treasury_btc: float = Field(
        0.0, ge=0, description="BTC held at the start; may be sold in any month at that "
        "month's price; what is left counts at the last month's price.",
        json_schema_extra=_unit("BTC"))
    debt: Debt | None = Field(None, description="Project debt drawn as capex is paid "
                              "(optional).", json_schema_extra=_unit(""))
    terminal_value: TerminalValue = Field(TerminalValue(), description="How the business "
                                          "after the horizon is valued.",
                                          json_schema_extra=_unit(""))

    _fraction = field_validator("discount_rate_pct_per_year")(_not_a_fraction)

    @field_validator("capex_budget_usd_per_year")
    @classmethod
    def _budget_non_negative(cls, value: float | dict[int, float] | None):
        values = value.values() if isinstance(value, dict) else [value]
        if any(v is not None and v < 0 for v in values):
            raise ValueError(f"budgets must be >= 0 (got {value})")
        return value


class Solver(_Strict):
    mip_gap_pct: float = Field(0.01, ge=0, le=100, description="Relative MIP gap to stop at.",
                               json_schema_extra=_unit("%"))
    time_limit_s: float = Field(600.0, gt=0, description="Wall-clock limit for HiGHS.",
                                json_schema_extra=_unit("s"))
    threads: int = Field(1, ge=1, le=256, description="HiGHS threads.",
                         json_schema_extra=_unit("count"))
    random_seed: int = Field(0, ge=0, description="HiGHS random seed (same seed, same plan).",
                             json_schema_extra=_unit(""))


class Scenario(_Strict):
    name: str = Field(min_length=1, description="Scenario name; names the output folder.",
                      json_schema_extra=_unit(""))
    description: str = Field("", description="One line shown in reports.",
                             json_schema_extra=_unit(""))
    portfolio: str = Field(min_length=1, description="Folder of CSV tables or one .xlsx "
                           "workbook; relative to the scenario file.",
                           json_schema_extra=_unit("path"))
    horizon: Horizon
    market: Market
    finance: Finance = Finance()
    limits: Limits = Limits()
    solver: Solver = Solver()

    @field_validator("name")
    @classmethod
    def _safe_name(cls, value: str) -> str:
        bad = set(value) & set('/\\:*?"<>|')
        if bad or value.strip() != value or value in {".", ".."}:
            raise ValueError(f"{value!r} cannot name a folder; use letters, digits, - and _")
        return value


SCENARIO_SECTIONS: dict[str, type[BaseModel]] = {
    "horizon": Horizon, "market": Market, "finance": Finance, "finance.debt": Debt,
    "finance.terminal_value": TerminalValue, "limits": Limits, "solver": Solver,
}
