"""The output contract: every cash line once, and the columns of the result tables.

A cash line is named once here, with its sign in net cash, its kind (which cash-flow
subtotal it belongs to), the business it belongs to, whether it is EBITDA, how it accrues
(by the day or by the month: what annualising a short horizon needs) and its label for
people. The model records cash on these lines; results, KPIs, the audit and every writer read
them from here. Adding a cash line is one entry here plus the family that records it.

Costs are recorded and reported as positive amounts: `sign` says how a line enters net cash.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["operating", "investing", "financing", "valuation"]
Business = Literal["mining", "hpc", "company"]


@dataclass(frozen=True)
class CashLine:
    name: str
    sign: int  # +1 inflow, −1 outflow
    kind: Kind
    business: Business
    label: str
    ebitda: bool = False
    per_day: bool = False  # earned by the day (mining revenue, power); else monthly amounts
    settles_to: str | None = None  # valuation line taking it, at present value, after the
    #                                horizon when cash there is not counted
    unit: str = "USD"

    @property
    def campus(self) -> bool:
        """Recorded per campus (operating and investing) rather than for the company."""
        return self.kind in ("operating", "investing")


CASH_LINES: tuple[CashLine, ...] = (
    CashLine("mining_revenue_usd", +1, "operating", "mining", "Mining revenue", ebitda=True,
             per_day=True),
    CashLine("power_cost_usd", -1, "operating", "mining", "Power cost", ebitda=True,
             per_day=True),
    CashLine("mining_opex_usd", -1, "operating", "mining", "Mining opex", ebitda=True),
    CashLine("lease_revenue_usd", +1, "operating", "hpc", "Lease revenue", ebitda=True),
    CashLine("spot_revenue_usd", +1, "operating", "hpc", "Spot revenue", ebitda=True),
    CashLine("prepayment_usd", +1, "operating", "hpc", "Prepayment"),
    CashLine("prepayment_credit_usd", -1, "operating", "hpc", "Prepayment credit",
             settles_to="prepayment_liability_usd"),
    CashLine("late_penalty_usd", -1, "operating", "hpc", "Late penalty"),
    CashLine("hpc_opex_usd", -1, "operating", "hpc", "HPC opex", ebitda=True),
    CashLine("asic_salvage_usd", +1, "investing", "mining", "ASIC salvage"),
    CashLine("capex_usd", -1, "investing", "hpc", "Capex"),
    CashLine("tenant_capex_usd", +1, "investing", "hpc", "Tenant capex",
             settles_to="tenant_capex_receivable_usd"),
    CashLine("debt_draw_usd", +1, "financing", "company", "Debt draw"),
    CashLine("interest_usd", -1, "financing", "company", "Interest"),
    CashLine("principal_usd", -1, "financing", "company", "Principal"),
    CashLine("btc_sale_usd", +1, "financing", "company", "BTC sale"),
    CashLine("hpc_terminal_value_usd", +1, "valuation", "hpc", "HPC terminal value"),
    CashLine("mining_terminal_value_usd", +1, "valuation", "mining", "Mining terminal value"),
    CashLine("btc_treasury_value_usd", +1, "valuation", "company", "BTC treasury value"),
    CashLine("debt_outstanding_usd", -1, "valuation", "company", "Debt outstanding"),
    CashLine("prepayment_liability_usd", -1, "valuation", "hpc",
             "Prepayment liability"),
    CashLine("tenant_capex_receivable_usd", +1, "valuation", "hpc",
             "Tenant capex receivable"),
)
LINE: dict[str, CashLine] = {line.name: line for line in CASH_LINES}
SIGN: dict[str, int] = {line.name: line.sign for line in CASH_LINES}
CAMPUS_SIGN: dict[str, int] = {line.name: line.sign for line in CASH_LINES if line.campus}
KINDS: tuple[Kind, ...] = ("operating", "investing", "financing", "valuation")


def lines(kind: Kind | None = None, business: Business | None = None,
          ebitda: bool | None = None) -> tuple[str, ...]:
    """Names of the lines that match, in contract order."""
    return tuple(line.name for line in CASH_LINES
                 if (kind is None or line.kind == kind)
                 and (business is None or line.business == business)
                 and (ebitda is None or line.ebitda == ebitda))


def subtotal_column(kind: Kind) -> str:
    """Name of a kind's subtotal in company_month.csv."""
    return "valuation_usd" if kind == "valuation" else f"{kind}_cash_usd"


# ---------------------------------------------------------------------------------------------
# Result tables (README "Results"): the columns every writer and reader agrees on
# ---------------------------------------------------------------------------------------------

CAMPUS_MONTH_COLUMNS: list[str] = [
    "campus_id", "month", "in_horizon", "mining_mw", "hashrate_ph_s", "miners_sold_mw",
    "blocks_started", "it_under_construction_mw", "it_ready_mw", "it_leased_mw", "spot_mw",
    *CAMPUS_SIGN, "net_cash_usd", "discount_factor",
]
COMPANY_MONTH_COLUMNS: list[str] = [
    "month", "in_horizon", "mining_mw", "it_under_construction_mw", "it_ready_mw",
    "it_leased_mw", "spot_mw", *SIGN, *(subtotal_column(kind) for kind in KINDS),
    "net_cash_usd", "cash_balance_usd", "landlord_capex_usd", "debt_balance_usd",
    "btc_sold_btc", "btc_held_btc", "discount_factor",
]
LEASE_COLUMNS: list[str] = [
    "offer_id", "tenant", "signed", "split", "accepted", "campus_id", "phase", "it_mw",
    "offer_it_mw", "start_month", "delivery_month", "end_month", "rate_usd_per_kw_month",
    "escalator_pct_per_year", "term_months", "late_months", "late_penalty_usd",
    "prepayment_usd", "tenant_capex_usd", "lease_npv_usd",
]
KPI_COLUMNS: list[str] = ["kpi", "year", "value", "unit"]
# a stochastic plan's tables (siteopt.stochastic): the decisions taken now, and the futures
HERE_AND_NOW_COLUMNS: list[str] = ["kind", "campus_id", "offer_id", "phase", "month", "value",
                                   "unit", "description"]
FUTURES_COLUMNS: list[str] = ["scenario", "month", "btc_price_usd", "network_hashrate_ehs"]
SCENARIO_COLUMNS: list[str] = ["scenario", "probability_pct", "status", "npv_usd",
                               "baseline_npv_usd", "value_added_usd", "it_mw_ready_at_end",
                               "leases_taken", "first_block_month", "changes"]

# ---------------------------------------------------------------------------------------------
# Result folder (README "Results"): the files a solve writes, in the order people read them
# ---------------------------------------------------------------------------------------------

# (file, when it is written: "" = always); `solve --help` and the writers both read this
RESULT_FILES: tuple[tuple[str, str], ...] = (
    ("summary.json", ""),
    ("campus_month.csv", ""),
    ("company_month.csv", ""),
    ("leases.csv", ""),
    ("kpis.csv", "with a plan"),
    ("inputs/*.csv", ""),
    ("plan.xlsx", "unless --no-workbook"),
    ("here_and_now.csv", "with an uncertainty section"),
    ("scenarios.csv", "with an uncertainty section"),
    ("futures.csv", "with uncertainty.sample or paths: each future's BTC and hashrate path"),
    ("scenarios/<future>/", "with an uncertainty section: each future's own files"),
    ("<name>.log", "with --solver-log NAME.log: HiGHS's log"),
)
SOLVER_LOG_BANNER = "Running HiGHS"  # how a HiGHS log begins: a .log siteopt put there


def result_files_text() -> str:
    """The result files as one sentence for help texts."""
    return ", ".join(name + (f" ({when})" if when else "") for name, when in RESULT_FILES)
