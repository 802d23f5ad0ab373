"""The one input contract: every table column and scenario key with its unit, range and meaning.

Loading, validation, the README's input tables (`siteopt schema`) and the Excel template all
read this module, so a column is added here once and is then known everywhere. Every number
is read by one rule (`NumberRule`): text is a number only in plain or 1,234,567 notation,
true/false is never a number, each number has a range stated with its unit, and a `_pct`
value between 0 and 1 is refused as a fraction typed for a percentage unless its field says
small percentages are expected (`small_percent_ok`).
"""

from __future__ import annotations

import functools
import math
import numbers
import re
import types
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from siteopt.inputs.errors import excerpt
from siteopt.inputs.months import input_years, label, parse_input_month

# ---------------------------------------------------------------------------------------------
# Numbers: one rule for every numeric input, in tables and scenario files alike
# ---------------------------------------------------------------------------------------------

_PLAIN = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_THOUSANDS = re.compile(r"[+-]?[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]*)?")
_DECIMAL_COMMA = re.compile(r"[+-]?[0-9]+(?:\.[0-9]{3})*,[0-9]+")
_NOT_FINITE = {f"{sign}{word}" for sign in ("", "+", "-") for word in ("nan", "inf", "infinity")}


def parse_number_text(text: str, expected: str = "a number") -> float:
    """A number written as text. Commas are thousands separators only in the exact 1,234,567
    pattern: deleting every comma read '42,50' as 4250 and '2.500,0' as 2.5."""
    text = text.strip()
    if _PLAIN.fullmatch(text) or text.lower() in _NOT_FINITE:
        return float(text)
    if _THOUSANDS.fullmatch(text):
        return float(text.replace(",", ""))
    if _DECIMAL_COMMA.fullmatch(text):
        meant = text.replace(".", "").replace(",", ".")
        raise ValueError(f"expected {expected} (got {excerpt(text)} — a decimal comma? "
                         f"write {meant})")
    if "," in text:
        raise ValueError(f"expected {expected} (got {excerpt(text)}; a comma is read only as "
                         f"a thousands separator, as in 1,234,567)")
    raise ValueError(f"expected {expected} (got {excerpt(text)})")


def show_number(number: float) -> str:
    """A number as a message quotes it: whole numbers without a decimal point."""
    if math.isfinite(number) and float(number).is_integer() and abs(number) < 1e16:
        return str(int(number))
    return repr(float(number))


def _bound(number: float) -> str:
    if float(number).is_integer() and abs(number) < 1e16:
        return f"{int(number):,}"
    return f"{number:g}"


@dataclass(frozen=True)
class NumberRule:
    """How one numeric input is read and checked. `gt` excludes the lower bound itself."""

    name: str
    kind: Literal["int", "float"]
    unit: str
    ge: float | None = None
    gt: float | None = None
    le: float | None = None
    small_percent_ok: bool = False

    @property
    def percent(self) -> bool:
        return "_pct" in self.name

    @property
    def fraction_refused(self) -> bool:
        """The one rule for percentages: 0 < |x| < 1 is most likely a fraction."""
        return self.percent and not self.small_percent_ok

    def range_text(self) -> str:
        unit = f" {self.unit}" if self.unit else ""
        low = self.ge if self.ge is not None else self.gt
        if low is not None and self.le is not None:
            if self.gt is not None:
                return f"above {_bound(low)} and at most {_bound(self.le)}{unit}"
            return f"between {_bound(low)} and {_bound(self.le)}{unit}"
        if low is not None:
            return f"{'above' if self.gt is not None else 'at least'} {_bound(low)}{unit}"
        if self.le is not None:
            return f"at most {_bound(self.le)}{unit}"
        return "a number"

    def within(self, number: float) -> bool:
        return not ((self.ge is not None and number < self.ge)
                    or (self.gt is not None and number <= self.gt)
                    or (self.le is not None and number > self.le))

    def parse(self, value: Any, number_format: str = "") -> int | float:
        """The number `value` stands for; ValueError with the message a user reads.

        `number_format` is an Excel cell's: a percent-formatted 0.08 shows as 8 %, which is
        what the user typed in a `_pct` column."""
        whole = self.kind == "int"
        expected = "a whole number" if whole else "a number"
        shown_as_percent = False  # the cell shows a % sign: what it shows is what was meant
        if isinstance(value, bool):
            raise ValueError(f"expected {expected}, not true/false (got {str(value).lower()})")
        if isinstance(value, numbers.Real):
            try:
                number = float(value)
            except OverflowError:  # a YAML integer of hundreds of digits
                number = math.inf if value > 0 else -math.inf
            if self.percent and "%" in number_format:
                number, shown_as_percent = number * 100, True
        elif isinstance(value, str):
            text = value.strip()
            if self.percent and text.endswith("%"):  # '8%' and '8' both mean 8 percent
                text, shown_as_percent = text[:-1], True
            number = parse_number_text(text, expected)
        else:
            raise ValueError(f"expected {expected} (got {excerpt(value)})")
        if not math.isfinite(number):
            raise ValueError(f"must be a finite number (got {excerpt(value)})")
        if whole and not number.is_integer():
            raise ValueError(f"expected a whole number (got {excerpt(value)})")
        if self.fraction_refused and not shown_as_percent and 0 < abs(number) < 1:
            raise ValueError(f"{number:g} looks like a fraction; write percent "
                             f"({number * 100:g})")
        if not self.within(number):
            raise ValueError(f"must be {self.range_text()} (got {show_number(number)})")
        return int(number) if whole else number


# ---------------------------------------------------------------------------------------------
# Portfolio tables
# ---------------------------------------------------------------------------------------------

Kind = Literal["id", "text", "float", "int", "month", "bool", "id_list"]
MAX_ID_CHARS = 64
# Ranges shared by several columns and keys: generous for any company (the largest campuses
# draw about 1 GW), tight enough that nothing derived from them overflows.
MAX_MW = 10_000
MAX_USD = 1e12  # a trillion USD: no single input of one company is larger
MAX_MONTHS = 600  # 50 years


@dataclass(frozen=True)
class Column:
    """One column of a portfolio table. `required=False` columns take `default` when empty.
    Numeric columns have a range (`ge` or `gt`, and `le`) in their unit."""

    name: str
    kind: Kind
    unit: str
    description: str
    required: bool = True
    default: Any = None
    ge: float | None = None
    gt: float | None = None
    le: float | None = None
    small_percent_ok: bool = False  # a `_pct` value in (0, 1) is meant, not a fraction
    objective_only: bool = False  # enters only cash, never a constraint, bound or index set

    @property
    def label(self) -> str:
        """The column for people: `capex_usd_per_it_mw` → `Capex (USD/IT MW)`, the name's
        unit words dropped for the unit itself (formats such as YYYY-MM are no unit)."""
        if self.name in _LABELS:
            return _LABELS[self.name]
        words = self.name.split("_")
        cut = next((i for i, w in enumerate(words) if i and w in _UNIT_WORDS), len(words))
        text = " ".join(_ACRONYMS.get(w, w) for w in words[:cut])
        text = text[:1].upper() + text[1:]
        return f"{text} ({self.unit})" if self.unit not in _FORMAT_UNITS else text

    @property
    def rule(self) -> NumberRule:
        assert self.kind in ("float", "int"), self.name
        return NumberRule(self.name, self.kind, self.unit, self.ge, self.gt, self.le,  # type: ignore[arg-type]
                          self.small_percent_ok)


# words of a column name that spell its unit (dropped from its label, which shows the unit)
_UNIT_WORDS = frozenset({"usd", "mw", "mwh", "j", "pct", "months", "it", "kw"})
_FORMAT_UNITS = frozenset({"", "YYYY-MM", "true/false"})
_LABELS = {"it_mw": "IT MW", "months_after_start": "Months after start",
           "build_months": "Build time (months)"}
_ACRONYMS = {"hpc": "HPC", "it": "IT", "pue": "PUE", "id": "ID", "asic": "ASIC", "btc": "BTC",
             "mw": "MW", "usd": "USD"}


@dataclass(frozen=True)
class Table:
    name: str
    key: str | tuple[str, ...]
    description: str
    columns: tuple[Column, ...]
    required: bool = True
    row_nouns: tuple[str, ...] = ()  # how messages name a row by its key: ('offer', 'phase')

    @property
    def key_columns(self) -> tuple[str, ...]:
        return (self.key,) if isinstance(self.key, str) else self.key

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)

    @property
    def row_label(self) -> tuple[tuple[str, str], ...]:
        """(key column, noun) pairs: `offers.csv row 2 (offer A1)`."""
        return tuple(zip(self.key_columns, self.row_nouns))


CAMPUSES = Table(
    name="campuses",
    key="campus_id",
    row_nouns=("campus",),
    description="One row per campus: its grid connection, mining fleet and what converting costs.",
    columns=(
        Column("campus_id", "id", "", "Unique id, used by offers and in every output."),
        Column("name", "text", "", "Display name.", objective_only=True),
        Column("region", "text", "", "Grid region or market (ERCOT, PJM, ...).", required=False,
               default=""),
        Column("grid_mw", "float", "MW", "Power available at the meter.", gt=0, le=MAX_MW),
        Column("power_price_usd_per_mwh", "float", "USD/MWh", "All-in price of power for mining.",
               ge=0, le=1_000, objective_only=True),
        Column("miner_mw", "float", "MW",
               "Installed mining load at the meter, cooling included.", ge=0, le=MAX_MW),
        Column("fleet_efficiency_j_per_th", "float", "J/TH",
               "Fleet efficiency at the meter (joules per terahash).", ge=5, le=500,
               objective_only=True),
        Column("mining_opex_usd_per_mw_month", "float", "USD/MW-month",
               "Mining opex other than power, per MW mining.", ge=0, le=1_000_000,
               required=False, default=0.0, objective_only=True),
        Column("hpc_max_it_mw", "float", "IT MW",
               "Most critical-IT MW the site can host after conversion (0 = cannot convert).",
               ge=0, le=MAX_MW),
        Column("hpc_block_it_mw", "float", "IT MW", "IT MW per conversion block (phase).",
               ge=0.1, le=MAX_MW),
        Column("hpc_pue", "float", "MW/IT MW",
               "Facility MW drawn per IT MW (power usage effectiveness).", ge=1.0, le=3.0),
        Column("capex_usd_per_it_mw", "float", "USD/IT MW", "Fit-out capex per IT MW.", ge=0,
               le=100_000_000, objective_only=True),
        Column("build_months", "int", "months",
               "Construction start to ready-for-service.", ge=1, le=60),
        Column("permit_ready", "month", "YYYY-MM",
               "First month construction may start; empty = permitted.", required=False),
        Column("hpc_opex_usd_per_it_mw_month", "float", "USD/IT MW-month",
               "Landlord's opex per ready IT MW (leases are triple-net: tenants pay power).",
               ge=0, le=1_000_000, required=False, default=0.0, objective_only=True),
        Column("asic_salvage_usd_per_mw", "float", "USD/MW",
               "Sale value of miners displaced by conversion, per MW of mining load.",
               ge=0, le=10_000_000, required=False, default=0.0, objective_only=True),
        Column("hpc_ready_it_mw", "float", "IT MW",
               "IT MW already fitted out and ready at the horizon start (counts toward "
               "hpc_max_it_mw; takes hpc_pue × it_mw from the grid and pays HPC opex from month 0, "
               "no capex).", ge=0, le=MAX_MW, required=False, default=0.0),
    ),
)

OFFERS = Table(
    name="offers",
    key="offer_id",
    row_nouns=("offer",),
    description="One row per tenant offer or signed lease.",
    columns=(
        Column("offer_id", "id", "", "Unique id."),
        Column("tenant", "text", "", "Tenant name."),
        Column("it_mw", "float", "IT MW", "Critical-IT MW leased.", gt=0, le=MAX_MW),
        Column("rate_usd_per_kw_month", "float", "USD/IT kW-month",
               "Rent in the first lease year.", gt=0, le=1_000, objective_only=True),
        Column("escalator_pct_per_year", "float", "%/yr",
               "Rent step at each lease anniversary (3 = 3 %).", ge=0, le=25, required=False,
               default=0.0, objective_only=True),
        Column("term_months", "int", "months", "Lease term.", ge=1, le=MAX_MONTHS),
        Column("earliest_start", "month", "YYYY-MM", "First month the lease may start."),
        Column("latest_start", "month", "YYYY-MM", "Last month the lease may start."),
        Column("campuses", "id_list", "", "Eligible campus_ids separated by ';' (each once), "
               "or '*' for all.", required=False, default="*"),
        Column("signed", "bool", "true/false",
               "Already signed: must be delivered.", required=False, default=False),
        Column("split", "bool", "true/false",
               "IT MW may be delivered at several eligible campuses, in whole blocks of each.",
               required=False, default=False),
        Column("late_penalty_usd_per_month", "float", "USD/month",
               "Paid for each month the lease starts after latest_start.", ge=0, le=1e9,
               required=False, default=0.0, objective_only=True),
        Column("max_delay_months", "int", "months",
               "Months after latest_start the lease may still start (then it lapses).", ge=0,
               le=120, required=False, default=0),
        Column("prepayment_usd", "float", "USD",
               "Received at signing; credited against rent over prepayment_credit_months.",
               ge=0, le=1e11, required=False, default=0.0, objective_only=True),
        Column("prepayment_credit_months", "int", "months",
               "Months from the lease start over which the prepayment is credited evenly.",
               ge=0, le=MAX_MONTHS, required=False, default=0, objective_only=True),
        Column("tenant_capex_pct", "float", "%",
               "Share of the fit-out capex of the leased IT MW that the tenant pays.", ge=0,
               le=100, required=False, default=0.0, objective_only=True),
        Column("signing_month", "month", "YYYY-MM",
               "When the lease is (or was) signed: the prepayment is received then; before "
               "the horizon = already received. Empty = the horizon's first month.",
               required=False),
        Column("vacant_months_after_end", "int", "months",
               "Months the hall stays empty after the lease ends before another lease or "
               "the spot market may use it (a defaulted tenant's equipment removed, the hall "
               "recommissioned); it keeps paying HPC opex.", ge=0, le=120, required=False,
               default=0),
        Column("withdrawn", "bool", "true/false",
               "The offer does not exist (a future of uncertainty.scenarios in which the "
               "tenant walks away): never taken. A signed lease cannot be withdrawn.",
               required=False, default=False),
    ),
)

OFFER_PHASES = Table(
    name="offer_phases",
    key=("offer_id", "phase"),
    row_nouns=("offer", "phase"),
    description="Optional. Phased delivery: replaces an offer's single it_mw by a ramp; rent "
                "follows the MW delivered. Phases of an offer add up to its it_mw.",
    required=False,
    columns=(
        Column("offer_id", "id", "", "Offer the phase belongs to."),
        Column("phase", "int", "", "Phase number (1, 2, ...), unique within the offer.", ge=1,
               le=100),
        Column("it_mw", "float", "IT MW", "IT MW delivered in this phase.", gt=0, le=MAX_MW),
        Column("months_after_start", "int", "months",
               "Delivery month counted from the lease start (the first phase at 0).", ge=0,
               le=MAX_MONTHS),
    ),
)

CONSTRUCTION = Table(
    name="construction",
    key=("campus_id", "ready_month"),
    row_nouns=("campus", "ready"),
    description="Optional. Halls under construction at the horizon start: they take their "
                "facility power (hpc_pue × it_mw) from month 0, are ready from ready_month, and "
                "their remaining capex is paid evenly in the months before it.",
    required=False,
    columns=(
        Column("campus_id", "id", "", "Campus the hall is built at."),
        Column("it_mw", "float", "IT MW", "Critical-IT MW the hall will hold.", gt=0,
               le=MAX_MW),
        Column("ready_month", "month", "YYYY-MM",
               "First month the hall is ready for service (after the horizon start, inside it)."),
        Column("capex_remaining_usd", "float", "USD",
               "Capex still to be paid, spread evenly over the months from the horizon start to "
               "ready_month.", ge=0, le=MAX_USD, required=False, default=0.0,
               objective_only=True),
    ),
)

TABLES: dict[str, Table] = {t.name: t for t in (CAMPUSES, OFFERS, OFFER_PHASES, CONSTRUCTION)}

ACTUALS = Table(
    name="actuals",
    key=("campus_id", "month"),
    row_nouns=("campus", "month"),
    description="Input of `siteopt replan --actuals`: what really happened per campus and month "
                "before --from; an empty cell keeps the old plan's value.",
    required=False,
    columns=(
        Column("campus_id", "id", "", "Campus."),
        Column("month", "month", "YYYY-MM", "Month (before --from)."),
        Column("mining_mw", "float", "MW", "MW that mined.", ge=0, le=MAX_MW, required=False),
        Column("blocks_started", "int", "blocks", "Conversion blocks whose construction started.",
               ge=0, le=10_000, required=False),
        Column("it_ready_mw", "float", "IT MW",
               "IT MW ready for service (a check: it must match the blocks started "
               "build_months earlier; a hall that came in late is entered as started later).",
               ge=0, le=MAX_MW, required=False),
        Column("leases_started", "id_list", "",
               "Offers whose lease started at this campus in this month, separated by ';'; "
               "none = no lease started here then (empty keeps the old plan's).",
               required=False, default=""),
    ),
)

# ---------------------------------------------------------------------------------------------
# Scenario keys
# ---------------------------------------------------------------------------------------------


def _unit(unit: str, **extra: Any) -> dict[str, Any]:
    return {"unit": unit, **extra}


def _month_label(value: Any) -> Any:
    # YAML reads an unquoted 2027-01-01 as a date: keep the month, as the tables do.
    return label(parse_input_month(value))


class EntryProblems(ValueError):
    """Problems with entries of a mapping-valued key, each located at its entry."""

    def __init__(self, entries: list[tuple[str, str]]):
        self.entries = entries
        super().__init__("; ".join(f"{key}: {message}" for key, message in entries))


@dataclass(frozen=True)
class _FieldNumbers:
    """The number rules of one scenario key: for a number, and for a mapping's values."""

    scalar: NumberRule | None
    entries: NumberRule | None
    year_keys: bool  # the mapping is keyed by calendar year

    def read(self, value: Any) -> Any:
        if isinstance(value, dict) and self.entries is not None:
            return self._read_entries(value)
        if self.scalar is not None and isinstance(value, (bool, numbers.Real, str)):
            return self.scalar.parse(value)
        return value  # not a number at all: the type check says what is wrong

    def _read_entries(self, value: dict) -> dict:
        out, problems, years = {}, [], set()
        first, last = input_years()
        for key, item in value.items():
            shown = excerpt(key) if isinstance(key, str) else str(key).lower()
            if self.year_keys:
                year = None
                if isinstance(key, int) and not isinstance(key, bool):
                    year = key
                elif isinstance(key, str) and key.strip().isdigit():
                    year = int(key)
                if year is None:
                    problems.append((str(key), f"expected a year (got {shown})"))
                    continue
                if not first <= year <= last:
                    problems.append((str(key), f"must be a year between {first} and {last} "
                                               f"(got {year})"))
                    continue
                if year in years:  # 2027 and '2027' are two YAML keys but one year
                    problems.append((str(key), f"year {year} is given more than once"))
                    continue
                years.add(year)
                key = year
            if isinstance(item, (bool, numbers.Real, str)):
                try:
                    item = self.entries.parse(item)
                except ValueError as exc:
                    problems.append((str(key), str(exc)))
                    continue
            out[key] = item
        if problems:
            raise EntryProblems(problems)
        return out


def _number_parts(annotation: Any) -> tuple[str, list[Any], bool] | None:
    """(kind, constraints, keyed by year) of the number inside an annotation, or None."""
    if annotation is int or annotation is float:
        return ("int" if annotation is int else "float"), [], False
    origin = get_origin(annotation)
    if origin is Annotated:
        base, *meta = get_args(annotation)
        found = _number_parts(base)
        if found is None:
            return None
        constraints = [c for m in meta for c in getattr(m, "metadata", [m])]
        return found[0], [*found[1], *constraints], found[2]
    if origin is dict:
        key, item = get_args(annotation)
        found = _number_parts(item)
        return None if found is None else (found[0], found[1], key is int)
    return None


def _rule(name: str, kind: str, constraints: list[Any], extra: dict[str, Any]) -> NumberRule:
    bounds = {attr: getattr(c, attr) for c in constraints for attr in ("ge", "gt", "le")
              if getattr(c, attr, None) is not None}
    return NumberRule(name, kind, extra.get("unit", ""), **bounds,  # type: ignore[arg-type]
                      small_percent_ok=bool(extra.get("small_percent_ok")))


@functools.cache
def field_numbers(model: type[BaseModel], name: str) -> _FieldNumbers | None:
    """Number rules of a scenario key, read from its annotation and Field constraints."""
    field = model.model_fields[name]
    origin = get_origin(field.annotation)
    members = get_args(field.annotation) if origin in (Union, types.UnionType) else \
        (field.annotation,)
    extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
    scalar = entries = None
    year_keys = False
    for member in members:
        found = _number_parts(member)
        if found is None:
            continue
        kind, constraints, by_year = found
        if get_origin(member) is dict:
            entries, year_keys = _rule(name, kind, constraints, extra), by_year
        else:
            scalar = _rule(name, kind, [*constraints, *field.metadata], extra)
    if scalar is None and entries is None:
        return None
    return _FieldNumbers(scalar, entries, year_keys)


def number_rules() -> dict[str, NumberRule]:
    """Every numeric input of the schema by its key (`market.btc_price_usd`, or
    `campuses.grid_mw` for a column): what the docs and the tests walk."""
    rules: dict[str, NumberRule] = {}
    for section, model in {"": Scenario, **SCENARIO_SECTIONS}.items():
        for name in model.model_fields:
            numbers_ = field_numbers(model, name)
            key = f"{section}.{name}" if section else name
            if numbers_ is not None:
                rules[key] = numbers_.scalar or numbers_.entries  # type: ignore[assignment]
    for table in TABLES.values():
        for column in table.columns:
            if column.kind in ("float", "int"):
                rules[f"{table.name}.{column.name}"] = column.rule
    return rules


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    @field_validator("*", mode="before")
    @classmethod
    def _read_numbers(cls, value: Any, info: ValidationInfo) -> Any:
        # Every numeric key, from its annotation: true is not 1, '42,50' is not 4250, and the
        # range is checked with its unit in the message.
        rules = field_numbers(cls, info.field_name)
        return value if rules is None else rules.read(value)


class Horizon(_Strict):
    start: str = Field(description="First month planned.", json_schema_extra=_unit("YYYY-MM"))
    months: int = Field(ge=1, le=MAX_MONTHS, description="Months planned.",
                        json_schema_extra=_unit("months"))

    _check_start = field_validator("start", mode="before")(_month_label)


class Limits(_Strict):
    max_tenant_share_pct: float | None = Field(
        None, gt=0, le=100, description="Most any one tenant may hold of the IT MW under all "
        "accepted leases (each lease counted once at its full MW).",
        json_schema_extra=_unit("%"))
    max_it_mw_started_per_year: float | None = Field(
        None, ge=0, le=10 * MAX_MW, description="Company-wide IT MW that may start construction "
        "in a calendar year (transformers, switchgear, OEM slots).",
        json_schema_extra=_unit("IT MW/yr"))
    max_it_mw_started_per_year_by_region: dict[
        str, Annotated[float, Field(ge=0, le=10 * MAX_MW)]] = Field(
        {}, description="Per region (campuses.region): IT MW that may start construction in a "
        "calendar year.", json_schema_extra=_unit("IT MW/yr"))


class Market(_Strict):
    btc_price_usd: float = Field(ge=1, le=100_000_000, description="BTC price in the first "
                                 "month (and in every month of the path).",
                                 json_schema_extra=_unit("USD/BTC", objective_only=True))
    btc_price_growth_pct_per_year: float = Field(
        0.0, ge=-90, le=300, description="Annual growth of the BTC price.",
        json_schema_extra=_unit("%/yr", objective_only=True))
    network_hashrate_ehs: float = Field(ge=0.1, le=100_000_000, description="Network hashrate "
                                        "in the first month (and in every month of the path).",
                                        json_schema_extra=_unit("EH/s", objective_only=True))
    network_hashrate_growth_pct_per_year: float = Field(
        0.0, ge=-90, le=300, description="Annual growth of the network hashrate.",
        json_schema_extra=_unit("%/yr", objective_only=True))
    fees_btc_per_block: float = Field(0.0, ge=0, le=50, description="Transaction fees per "
                                      "block.",
                                      json_schema_extra=_unit("BTC/block", objective_only=True))
    block_subsidy_btc: float = Field(3.125, gt=0, le=50,
                                     description="Block subsidy before the first halving listed.",
                                     json_schema_extra=_unit("BTC/block", objective_only=True))
    halving_months: tuple[str, ...] = Field(
        ("2028-04",), description="Months from which the subsidy halves (each once).",
        json_schema_extra=_unit("YYYY-MM list", objective_only=True))
    hashprice_usd_per_ph_day: float | None = Field(
        None, gt=0, le=100_000, description="Flat hashprice overriding the formula "
        "(optional; a hashprice path from the formula must stay in this range too).",
        json_schema_extra=_unit("USD/PH/s/day", objective_only=True))
    paths: str | None = Field(
        None, description="CSV of monthly values (month, btc_price_usd, network_hashrate_ehs, "
        "fees_btc_per_block, hashprice_usd_per_ph_day; each in the range of the key of that "
        "name) overriding the flat values; relative to the scenario file.",
        json_schema_extra=_unit("path", objective_only=True))
    hpc_spot_rate_usd_per_kw_month: float = Field(
        0.0, ge=0, le=1_000, description="Rate at which ready IT MW that no lease uses can be "
        "let (0 = never: nothing is built on speculation).",
        json_schema_extra=_unit("USD/IT kW-month", objective_only=True))
    hpc_spot_absorption_months: int = Field(
        0, ge=0, le=120, description="Months capacity must have been ready before it can be "
        "let at the spot rate.", json_schema_extra=_unit("months"))
    hpc_spot_share_pct: float = Field(
        0.0, ge=0, le=100, description="Share of the unleased ready IT MW that the spot market "
        "absorbs.", json_schema_extra=_unit("%"))

    @field_validator("halving_months", mode="before")
    @classmethod
    def _check_halvings(cls, value: Any) -> Any:
        if not isinstance(value, (list, tuple)):
            return value
        months = tuple(_month_label(item) for item in value)
        twice = sorted({m for m in months if months.count(m) > 1})
        if twice:  # each listing halves the subsidy once more
            raise ValueError(f"{', '.join(twice)} listed more than once; each halving "
                             f"is listed once")
        return months


class Debt(_Strict):
    max_ltc_pct: float = Field(gt=0, le=100, description="Most debt per USD of landlord capex "
                               "paid (loan to cost).", json_schema_extra=_unit("%"))
    rate_pct_per_year: float = Field(ge=0, le=100, description="Interest rate, annual "
                                     "effective.", json_schema_extra=_unit("%/yr"))
    tenor_months: int = Field(ge=1, le=MAX_MONTHS, description="Months from a draw to its last "
                              "repayment.", json_schema_extra=_unit("months"))
    amortisation: Literal["level", "bullet"] = Field(
        "level", description="level: equal monthly payments of interest and principal; "
        "bullet: interest monthly, principal at the end.", json_schema_extra=_unit(""))


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
        json_schema_extra=_unit("%/yr", objective_only=True))
    value_beyond_horizon: bool = Field(
        True, description="Count cash already committed inside the horizon (rest of accepted "
        "leases with their HPC opex, rest of started capex) in months after it.",
        json_schema_extra=_unit("true/false", objective_only=True))
    capex_budget_usd_per_year: Annotated[float, Field(ge=0, le=MAX_USD)] | dict[
        int, Annotated[float, Field(ge=0, le=MAX_USD)]] | None = Field(
        None, description="Landlord capex (after tenant capex) that may be paid per calendar "
        "year: one number for every year, or a map year → USD (years not listed: no cap).",
        json_schema_extra=_unit("USD/yr"))
    opening_cash_usd: float | None = Field(
        None, ge=0, le=MAX_USD, description="Cash at the start. When set, cash is tracked "
        "month by month and may not fall below min_cash_usd.", json_schema_extra=_unit("USD"))
    min_cash_usd: float = Field(0.0, ge=0, le=MAX_USD, description="Cash floor (with "
                                "opening_cash_usd).", json_schema_extra=_unit("USD"))
    btc_treasury_btc: float = Field(
        0.0, ge=0, le=21_000_000, description="BTC held at the start; may be sold in any month "
        "at that month's price; what is left counts at the last month's price.",
        json_schema_extra=_unit("BTC"))
    debt: Debt | None = Field(None, description="Project debt drawn as capex is paid "
                              "(optional).", json_schema_extra=_unit(""))
    terminal_value: TerminalValue = Field(TerminalValue(), description="How the business "
                                          "after the horizon is valued.",
                                          json_schema_extra=_unit("", objective_only=True))


class Solver(_Strict):
    mip_gap_pct: float = Field(0.01, ge=0, le=100, description="Relative MIP gap to stop at "
                               "(small values such as 0.01 are meant as percent).",
                               json_schema_extra=_unit("%", small_percent_ok=True))
    time_limit_s: float = Field(600.0, gt=0, le=10_000_000, description="Wall-clock limit for "
                                "HiGHS.", json_schema_extra=_unit("s"))
    threads: int = Field(1, ge=1, le=256, description="HiGHS threads.",
                         json_schema_extra=_unit("threads"))
    random_seed: int = Field(0, ge=0, le=2_147_483_647, description="HiGHS random seed (same "
                             "seed, same plan).", json_schema_extra=_unit(""))
    warm_start: bool = Field(True, description="Start from the last plan of the same "
                             "structure solved in this process (the variants of a sweep or "
                             "batch on one worker): faster; the plan found may differ from a "
                             "solve of its own within the MIP gap. false: every solve from "
                             "scratch.", json_schema_extra=_unit("true/false"))
    finance_start: bool = Field(True, description="With project debt, a cash floor or a BTC "
                                "treasury: first solve the plan under the capex budget alone "
                                "(no debt, cash floor or treasury) and start from it; HiGHS "
                                "keeps its blocks and leases and finds the financing, which "
                                "finds a first funded plan in seconds instead of minutes; "
                                "when no financing can carry that plan, the funded plan over "
                                "its leases alone is the start. false: no such start.",
                                json_schema_extra=_unit("true/false"))


# Names of what siteopt writes into an output folder next to scenario folders (batch, sweep)
# or into a result folder: a scenario of that name would overwrite it or be overwritten.
RESERVED_NAMES = frozenset({
    "batch.csv", "comparison.xlsx", "sweep.xlsx", "summary.json", "plan.xlsx", "inputs",
    "scenarios", "scenarios.csv", "campus_month.csv", "company_month.csv", "leases.csv",
    "kpis.csv",
})
# Device names Windows reserves, with or without an extension (`con.txt` too).
WINDOWS_DEVICES = frozenset({"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)),
                             *(f"lpt{i}" for i in range(10))})
MAX_NAME_CHARS = 100
_NAME = re.compile(rf"[A-Za-z0-9_][A-Za-z0-9_.\-]{{0,{MAX_NAME_CHARS - 1}}}")
NAME_RULE = (f"use letters, digits, - and _ (and '.' after the first character), at most "
             f"{MAX_NAME_CHARS} characters")


def check_scenario_name(value: str) -> str:
    """A scenario name becomes a folder name on every platform siteopt runs on."""
    shown = excerpt(value)
    if not _NAME.fullmatch(value) or value.endswith("."):
        raise ValueError(f"{shown} cannot name a folder; {NAME_RULE}")
    if value.lower() in RESERVED_NAMES:
        raise ValueError(f"{shown} cannot name a folder: siteopt writes a file or folder of "
                         f"that name in output folders; choose another name")
    if value.split(".", 1)[0].lower() in WINDOWS_DEVICES:
        raise ValueError(f"{shown} cannot name a folder: Windows reserves that name for a "
                         f"device; choose another name")
    return value


class Risk(_Strict):
    cvar_alpha_pct: float = Field(10.0, gt=0, le=100, description="Share of the probability "
                                  "mass in the worst futures whose mean NPV is the CVaR.",
                                  json_schema_extra=_unit("%", objective_only=True))
    cvar_weight_pct: float = Field(0.0, ge=0, le=100, description="Weight w of the CVaR in "
                                   "the objective (1-w)·E[NPV] + w·CVaR (0 = risk neutral).",
                                   json_schema_extra=_unit("%", objective_only=True))


class Future(_Strict):
    name: str = Field(min_length=1, description="Name of the future; names its result folder "
                      "scenarios/<name>/.", json_schema_extra=_unit(""))
    probability_pct: float = Field(gt=0, le=100, description="Probability of the future "
                                   "(all futures add up to 100).",
                                   json_schema_extra=_unit("%", small_percent_ok=True))
    set: dict[str, Any] = Field({}, description="Changes to the scenario in this future, in "
                                "the key syntax and value forms of `sweep --vary` (KEY or "
                                "table[ROW].column: *x, +x or a value).",
                                json_schema_extra=_unit(""))

    _safe_name = field_validator("name")(check_scenario_name)


def _volatility(description: str) -> Any:
    """The annual volatility of a sampled path (BTC price, network hashrate): one definition,
    so both take the same values and say the same when they are out of range."""
    return Field(ge=0, le=300, description=description,
                 json_schema_extra=_unit("%/yr", objective_only=True))


class BtcPriceSample(_Strict):
    model: Literal["gbm"] = Field("gbm", description="gbm: geometric Brownian motion around "
                                  "the scenario's BTC path (its growth is the drift).",
                                  json_schema_extra=_unit("", objective_only=True))
    vol_pct_per_year: float = _volatility("Annual volatility σ of the BTC price's log-return.")


class HashrateSample(_Strict):
    vol_pct_per_year: float = _volatility("Annual volatility of the network hashrate's "
                                          "log-return.")
    correlation_with_btc: float = Field(0.0, ge=-1, le=1, description="Correlation of its "
                                        "monthly shocks with the BTC price's.",
                                        json_schema_extra=_unit("", objective_only=True))


class TenantDefault(_Strict):
    pct_per_year: float = Field(ge=0, le=100, description="Chance a running lease's tenant "
                                "defaults in a year (constant monthly hazard).",
                                json_schema_extra=_unit("%/yr", objective_only=True))
    recovery_months: int = Field(0, ge=0, le=120, description="Months the hall stays empty "
                                 "after a default before it can be re-let.",
                                 json_schema_extra=_unit("months"))


def _slip_entries(value: Any) -> Any:
    """`{campus: {months late: probability %}}`: each distribution's months whole numbers
    0..MAX_MONTHS, probabilities 0..100 adding up to 100; each problem at its campus."""
    if not isinstance(value, dict):
        return value  # the type check says what is wrong
    out, problems = {}, []
    for campus, table in value.items():
        if not isinstance(table, dict) or not table:
            problems.append((str(campus), f"expected a mapping of months late → probability "
                                          f"% (got {excerpt(table)})"))
            continue
        read = {}
        for months, pct in table.items():
            if isinstance(months, bool) or not (isinstance(months, int) or (
                    isinstance(months, str) and months.strip().isdigit())):
                problems.append((str(campus), f"months late must be a whole number (got "
                                              f"{excerpt(months)})"))
                continue
            if not 0 <= int(months) <= MAX_MONTHS:
                problems.append((str(campus), f"months late must be between 0 and "
                                              f"{MAX_MONTHS} (got {int(months)})"))
                continue
            if isinstance(pct, bool) or not isinstance(pct, (int, float)) or \
                    not math.isfinite(pct) or not 0 <= pct <= 100:
                problems.append((str(campus), f"{int(months)} months late: must be between 0 "
                                              f"and 100 % (got {excerpt(pct)})"))
                continue
            read[int(months)] = float(pct)
        total = math.fsum(read.values())
        if len(read) == len(table) and abs(total - 100) > 1e-6:
            problems.append((str(campus), f"probabilities must add up to 100 (got "
                                          f"{show_number(round(total, 9))})"))
        out[campus] = read
    if problems:
        raise EntryProblems(problems)
    return out


class Sample(_Strict):
    count: int = Field(ge=1, le=10_000, description="Futures to sample, equally likely.",
                       json_schema_extra=_unit("futures"))
    seed: int = Field(0, ge=0, le=2**32 - 1, description="Seed of the sampler (numpy's PCG64): "
                      "the same seed gives the same futures on every machine.",
                      json_schema_extra=_unit(""))
    btc_price: BtcPriceSample | None = Field(None, description="How the BTC price moves "
                                             "(optional: at the scenario's path).",
                                             json_schema_extra=_unit(""))
    network_hashrate: HashrateSample | None = Field(
        None, description="How the network hashrate moves (optional: at the scenario's "
        "path).", json_schema_extra=_unit(""))
    permit_slip_months: dict[str, dict[int, Annotated[float, Field(ge=0, le=100)]]] = Field(
        {}, description="Per campus: months its permit_ready slips → probability % (adding up "
        "to 100); a campus without a permit date slips from the horizon start.",
        json_schema_extra=_unit("%"))
    offer_withdrawn_pct: dict[str, Annotated[float, Field(ge=0, le=100)]] = Field(
        {}, description="Per offer: chance its tenant walks away (offers[ID].withdrawn).",
        json_schema_extra=_unit("%"))
    tenant_default: TenantDefault | None = Field(
        None, description="Running leases whose tenant defaults (optional).",
        json_schema_extra=_unit(""))

    _check_slips = field_validator("permit_slip_months", mode="before")(_slip_entries)


class Uncertainty(_Strict):
    commit_months: int = Field(ge=1, le=MAX_MONTHS, description="Decisions that take effect "
                               "before this month of the horizon (counted from 0) are taken "
                               "now, the same in every future: blocks started, miners sold, "
                               "BTC sold and debt drawn in those months, and offers whose "
                               "signing_month falls in them.",
                               json_schema_extra=_unit("months"))
    scenarios: list[Future] = Field([], description="The futures: each a name, a "
                                    "probability_pct and a `set` of changes to this scenario.",
                                    json_schema_extra=_unit("list"))
    sample: Sample | None = Field(None, description="Futures sampled from distributions "
                                  "(docs/uncertainty.md gives each formula).",
                                  json_schema_extra=_unit(""))
    paths: str | None = Field(None, description="CSV of futures' monthly paths: a scenario "
                              "column and the market.paths columns, one future per scenario; "
                              "relative to the scenario file.",
                              json_schema_extra=_unit("path"))
    risk: Risk = Field(Risk(), description="Risk measure in the objective.",
                       json_schema_extra=_unit(""))

    @model_validator(mode="after")
    def _check_futures(self) -> Uncertainty:
        problems = []
        names = [f.name for f in self.scenarios]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            problems.append(f"names must be unique ({', '.join(twice)} used more than once)")
        total = math.fsum(f.probability_pct for f in self.scenarios)
        drawn = self.sample is not None or self.paths is not None
        if not self.scenarios and not drawn:
            raise ValueError("no futures: give scenarios, sample or paths")
        elif drawn and total >= 100.0 - 1e-6 and self.scenarios:
            problems.append(f"probability_pct of the listed futures must add up to less "
                            f"than 100 with sample or paths: the sampled futures share the "
                            f"rest (got {show_number(round(total, 9))})")
        elif not drawn and abs(total - 100.0) > 1e-6:
            shown = " + ".join(f"{f.name} {show_number(f.probability_pct)}"
                               for f in self.scenarios)
            problems.append(f"probability_pct must add up to 100 (got {shown} = "
                            f"{show_number(round(total, 9))})")
        if problems:
            raise ValueError("scenarios: " + "; ".join(problems))
        return self


class Scenario(_Strict):
    name: str = Field(min_length=1, description="Scenario name; names the output folder: "
                      f"1–{MAX_NAME_CHARS} letters, digits, -, _ or . (not first), neither a "
                      "name siteopt writes in output folders (batch.csv, summary.json, ...) "
                      "nor a Windows device name (CON, NUL, ...).",
                      json_schema_extra=_unit("", objective_only=True))
    description: str = Field("", description="One line shown in reports.",
                             json_schema_extra=_unit("", objective_only=True))
    portfolio: str = Field(min_length=1, description="Folder of CSV tables or one .xlsx "
                           "workbook; relative to the scenario file.",
                           json_schema_extra=_unit("path", objective_only=True))
    horizon: Horizon
    market: Market
    finance: Finance = Finance()
    limits: Limits = Limits()
    solver: Solver = Solver()
    uncertainty: Uncertainty | None = Field(
        None, description="Optional: futures to plan for together (a two-stage stochastic "
        "program); see the README's \"Deciding under uncertainty\".",
        json_schema_extra=_unit(""))

    _safe_name = field_validator("name")(check_scenario_name)


SCENARIO_SECTIONS: dict[str, type[BaseModel]] = {
    "horizon": Horizon, "market": Market, "finance": Finance, "finance.debt": Debt,
    "finance.terminal_value": TerminalValue, "limits": Limits, "solver": Solver,
    "uncertainty": Uncertainty, "uncertainty.risk": Risk, "uncertainty.sample": Sample,
    "uncertainty.sample.btc_price": BtcPriceSample,
    "uncertainty.sample.network_hashrate": HashrateSample,
    "uncertainty.sample.tenant_default": TenantDefault,
}


def objective_only_keys(model: type[BaseModel] = None, prefix: tuple[str, ...] = ()
                        ) -> set[tuple[str, ...]]:
    """Scenario keys marked `objective_only`: they enter only cash (the objective), never a
    constraint, bound or index set (a whole section when the section itself is marked)."""
    model = model or Scenario
    keys: set[tuple[str, ...]] = set()
    for name, field in model.model_fields.items():
        extra = field.json_schema_extra or {}
        if isinstance(extra, dict) and extra.get("objective_only"):
            keys.add((*prefix, name))
            continue
        section = next((a for a in (field.annotation, *get_args(field.annotation))
                        if isinstance(a, type) and issubclass(a, BaseModel)), None)
        if section is not None:
            keys |= objective_only_keys(section, (*prefix, name))
    return keys


def objective_only_columns(table: Table) -> list[str]:
    return [column.name for column in table.columns if column.objective_only]
