"""Reading a result folder back, checked: every problem located (file, row, column).

A folder may be damaged (a copy cut short, a disk that filled up, a hand edit) or written by
another siteopt version. What `load_results` reads is checked against the contract the
writer follows: summary.json parses and has the keys `report` and `compare` use, with their
types; each CSV ends with a complete row, has its documented columns (siteopt.results) with
numbers, true/false and YYYY-MM months where documented, and as many rows as summary.json
says it had.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from siteopt import __version__
from siteopt.inputs.errors import InputError, Problem
from siteopt.results.extract import CAMPUS_MONTH_COLUMNS, COMPANY_MONTH_COLUMNS, LEASE_COLUMNS

RESULT_FORMAT = 1  # summary.json "result_format": raise when the folder layout changes
STATUSES = ("optimal", "feasible", "infeasible", "no_solution")
PLAN_STATUSES = ("optimal", "feasible")
KPI_COLUMNS = ["kpi", "year", "value", "unit"]
# headline KPIs the workbooks compute with; the others are shown as they are
NUMBER_KPIS = {"npv_usd", "unlevered_npv_usd", "baseline_npv_usd", "value_added_usd", "irr_pct",
               "peak_funding_usd", "capex_gross_usd", "capex_tenant_funded_usd",
               "capex_net_usd", "debt_drawn_usd"}
_MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")
_MAX_CELL_PROBLEMS = 5  # per file: enough to locate the damage without flooding the screen


class UnreadableResults(InputError):
    """A result folder that cannot be read back as it was written."""

    title = "Unreadable result folder"


@dataclass(frozen=True)
class TableSpec:
    columns: list[str]
    text: frozenset[str] = frozenset()
    flags: frozenset[str] = frozenset()  # true/false
    months: frozenset[str] = frozenset()  # YYYY-MM
    optional_months: frozenset[str] = frozenset()  # YYYY-MM or empty
    free: frozenset[str] = frozenset()  # not checked (mixed text and numbers)
    numbers: list[str] = field(init=False)

    def __post_init__(self) -> None:
        other = self.text | self.flags | self.months | self.optional_months | self.free
        object.__setattr__(self, "numbers", [c for c in self.columns if c not in other])


TABLES = {
    "campus_month.csv": TableSpec(CAMPUS_MONTH_COLUMNS, text=frozenset({"campus_id"}),
                                  flags=frozenset({"in_horizon"}),
                                  months=frozenset({"month"})),
    "company_month.csv": TableSpec(COMPANY_MONTH_COLUMNS, flags=frozenset({"in_horizon"}),
                                   months=frozenset({"month"})),
    "leases.csv": TableSpec(LEASE_COLUMNS, text=frozenset({"offer_id", "tenant", "campus_id"}),
                            flags=frozenset({"signed", "split", "accepted"}),
                            optional_months=frozenset({"start_month", "delivery_month",
                                                       "end_month"})),
    "kpis.csv": TableSpec(KPI_COLUMNS, text=frozenset({"kpi", "unit"}),
                          free=frozenset({"value"})),
}
# inputs/*.csv: the columns compare and the Assumptions sheet look rows up by
INPUT_KEYS = {"scenario": ["key", "value"], "campuses": ["campus_id"], "offers": ["offer_id"],
              "offer_phases": ["offer_id", "phase"], "construction": ["campus_id", "ready_month"],
              "market": ["month"]}

_DICT_KEYS = ("kpis", "horizon", "versions", "solver_options", "size", "baseline", "audit",
              "table_rows")
_LIST_KEYS = ("diagnosis", "warnings", "files")
_NUMBER_KEYS = ("npv_usd", "objective_usd", "best_bound_usd", "mip_gap_pct",
                "discount_rate_pct_per_year")


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _kind(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "text", bool: "true/false",
            type(None): "null"}.get(type(value), "a number")


def _unreadable(where: str, message: str) -> UnreadableResults:
    return UnreadableResults([Problem(where, message)])


def read_summary(path: Path) -> dict[str, Any]:
    """summary.json parsed and checked; every problem raised at once."""
    where = str(path)
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _unreadable(where, f"not UTF-8 text (byte {exc.start})") from None
    if not text.strip():
        raise _unreadable(where, "empty file: the run that wrote it was cut short; solve the "
                                 "scenario again")
    try:
        summary = json.loads(text)
    except json.JSONDecodeError as exc:
        cut = " (the file is cut short)" if exc.pos >= len(text.rstrip()) else ""
        raise _unreadable(f"{where} line {exc.lineno} column {exc.colno}",
                          f"not valid JSON: {exc.msg}{cut}") from None
    if not isinstance(summary, dict):
        raise _unreadable(where, f"expected a JSON object (found {_kind(summary)})")
    problems = _summary_problems(summary)
    if problems:
        raise UnreadableResults([Problem(f"{where}, {k}", m) for k, m in problems])
    return summary


def _summary_problems(summary: dict[str, Any]) -> list[tuple[str, str]]:
    fmt = summary.get("result_format", RESULT_FORMAT)
    if not isinstance(fmt, int) or isinstance(fmt, bool) or fmt > RESULT_FORMAT:
        writer = (summary.get("versions") or {}).get("siteopt", "?") \
            if isinstance(summary.get("versions"), dict) else "?"
        return [("result_format", f"written by siteopt {writer} in result format {fmt!r}; "
                                  f"siteopt {__version__} reads formats up to {RESULT_FORMAT}: "
                                  "upgrade siteopt, or solve the scenario again")]
    return [*_identity_problems(summary), *_type_problems(summary), *_kpi_problems(summary)]


def _identity_problems(summary: dict[str, Any]) -> list[tuple[str, str]]:
    """Scenario name, status, and the NPV a run with a plan has."""
    problems = []
    if not isinstance(summary.get("scenario"), str):
        problems.append(("scenario", "missing" if "scenario" not in summary else
                         f"expected text (found {_kind(summary['scenario'])})"))
    status = summary.get("status")
    if status not in STATUSES:
        problems.append(("status", f"expected one of {', '.join(STATUSES)} (found "
                                   f"{'nothing' if 'status' not in summary else repr(status)})"))
    if status in PLAN_STATUSES and summary.get("npv_usd") is None:
        problems.append(("npv_usd", f"a run with status {status} has an NPV (found "
                                    f"{_kind(summary.get('npv_usd'))})"))
    return problems


def _type_problems(summary: dict[str, Any]) -> list[tuple[str, str]]:
    """Keys that hold an object, a list, a number or a list of file names."""
    expected = [(_DICT_KEYS, lambda v: isinstance(v, dict), "an object"),
                (_LIST_KEYS, lambda v: isinstance(v, list), "a list"),
                (_NUMBER_KEYS, _number, "a number")]
    problems = [(key, f"expected {what} (found {_kind(summary[key])})")
                for keys, ok, what in expected for key in keys
                if summary.get(key) is not None and not ok(summary[key])]
    if isinstance(summary.get("files"), list) and \
            not all(isinstance(f, str) for f in summary["files"]):
        problems.append(("files", "expected a list of file names"))
    return problems


def _kpi_problems(summary: dict[str, Any]) -> list[tuple[str, str]]:
    kpis = summary.get("kpis")
    problems = []
    for name, value in (kpis.items() if isinstance(kpis, dict) else ()):
        if name in NUMBER_KPIS and value is not None and not _number(value):
            problems.append((f"kpis.{name}", f"expected a number or null (found "
                                             f"{_kind(value)})"))
        elif isinstance(value, (dict, list)):
            problems.append((f"kpis.{name}", f"expected one value (found {_kind(value)})"))
    return problems


def _writer(summary: dict[str, Any]) -> str:
    versions = summary.get("versions") if isinstance(summary.get("versions"), dict) else {}
    version = versions.get("siteopt")
    if version and version != __version__:
        return f" (written by siteopt {version}; this is {__version__}: solve the scenario " \
               "again)"
    return ""


def read_csv(path: Path, dtype: dict[str, type], required: list[str], summary: dict[str, Any],
             name: str) -> pd.DataFrame:
    """One CSV of the folder, checked to parse whole and to have its `required` columns."""
    where = str(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        listed = name in (summary.get("files") or ())
        because = "summary.json lists it" if listed else "every result folder has it"
        raise _unreadable(where, f"missing ({because}){_writer(summary)}") from None
    except IsADirectoryError:
        raise _unreadable(where, "is a folder, expected a CSV file") from None
    if not raw.strip():
        raise _unreadable(where, "empty file (not even a header row): cut short")
    if not raw.endswith(b"\n"):
        last_row = raw.count(b"\n") + 1
        raise _unreadable(f"{where} row {last_row}", "incomplete last row: the file is cut "
                                                     "short")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _unreadable(where, f"not UTF-8 text (byte {exc.start})") from None
    _check_row_lengths(where, text)
    try:
        frame = pd.read_csv(io.StringIO(text), keep_default_na=False, na_values=[""],
                            dtype=dtype, index_col=False)
    except pd.errors.ParserError as exc:
        raise UnreadableResults([_parser_problem(where, str(exc))]) from None
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise _unreadable(where, f"missing column{'s' if len(missing) > 1 else ''} "
                                 f"{', '.join(missing)}{_writer(summary)}")
    expected = (summary.get("table_rows") or {}).get(name)
    if isinstance(expected, int) and expected != len(frame):
        raise _unreadable(where, f"{len(frame)} rows, but summary.json says {expected}: the "
                                 "file was cut short or edited")
    return frame


def _check_row_lengths(where: str, text: str) -> None:
    """Every row has as many cells as the header (pandas would silently take a longer first
    row's extra cell as an index, or fill a short one with blanks)."""
    try:
        records = csv.reader(io.StringIO(text))
        header = next(records)
        problems = []
        for number, record in enumerate(records, start=2):
            if len(record) != len(header) and len(problems) < _MAX_CELL_PROBLEMS:
                problems.append(Problem(f"{where} row {number}", f"{len(record)} cells, the "
                                                                 f"header has {len(header)}"))
    except csv.Error as exc:
        raise _unreadable(where, f"not a readable CSV: {exc}") from None
    if problems:
        raise UnreadableResults(problems)


def _parser_problem(where: str, message: str) -> Problem:
    found = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", message)
    if found:
        want, line, saw = found.groups()
        return Problem(f"{where} row {line}", f"{saw} cells, the header has {want}")
    text = re.sub(r"^Error tokenizing data\. C error: ", "", message.strip())
    return Problem(where, f"not a readable CSV: {text}")


def check_table(path: Path, frame: pd.DataFrame, spec: TableSpec, status: str) -> pd.DataFrame:
    """Cells of a result table against their documented kind; flags become booleans."""
    problems: list[Problem] = []

    def bad(index: Any, column: str, message: str) -> None:
        if len(problems) < _MAX_CELL_PROBLEMS:
            problems.append(Problem(f"{path} row {int(index) + 2}, {column}", message))

    out = frame.copy()
    for column in spec.numbers:
        out[column] = _numbers(frame, column, bad)
    for column in spec.flags:
        if not pd.api.types.is_bool_dtype(frame[column].dtype):
            out[column] = _flags(frame, column, bad)
    for column in spec.months | spec.optional_months:
        _check_months(frame, column, column in spec.optional_months, bad)
    if status in PLAN_STATUSES and path.name in ("campus_month.csv", "company_month.csv") \
            and frame.empty:
        problems.append(Problem(str(path), f"no rows, but the run has a plan (status "
                                           f"{status}): the file is cut short"))
    if problems:
        raise UnreadableResults(problems)
    return out


def _numbers(frame: pd.DataFrame, column: str, bad) -> pd.Series:
    values = pd.to_numeric(frame[column], errors="coerce")
    for index in frame.index[frame[column].notna() & values.isna()]:
        bad(index, column, f"expected a number (found {frame.at[index, column]!r})")
    return values


def _flags(frame: pd.DataFrame, column: str, bad) -> pd.Series:
    text = frame[column].astype(str).str.strip().str.lower()
    for index in frame.index[~text.isin(["true", "false"])]:
        bad(index, column, f"expected true or false (found {frame.at[index, column]!r})")
    return text == "true"


def _check_months(frame: pd.DataFrame, column: str, optional: bool, bad) -> None:
    for index, value in frame[column].items():
        if pd.isna(value) and optional:
            continue
        if not isinstance(value, str) or not _MONTH.fullmatch(value):
            bad(index, column, f"expected a month YYYY-MM (found {value!r})")
