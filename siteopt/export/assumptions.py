"""Every input of a run as the workbook shows it, and as `compare` tells them apart.

Assumptions come as DataFrames (`Results.assumptions`): `scenario` (key, value) after
`extends` and defaults, and one frame per table (`campuses`, `offers`, `offer_phases`,
`market`). Read back from a result folder, values are CSV text: `typed` turns them back into
numbers, booleans and months so both sources look the same.
"""

from __future__ import annotations

import math
import re
from typing import Any

import pandas as pd
from openpyxl.worksheet.worksheet import Worksheet

from siteopt.export.xlsx_style import (
    HEADING_FONT,
    INT,
    MONTH,
    NUMBER,
    PCT_INPUT,
    WRAP,
    ColumnStyle,
    add_table,
    month_date,
    put,
    write_table,
)
from siteopt.inputs.schema import SCENARIO_SECTIONS, TABLES, Scenario

TABLE_ORDER = ("campuses", "offers", "offer_phases", "construction", "market")
TABLE_NAMES = {"campuses": "tblInputCampuses", "offers": "tblInputOffers",
               "offer_phases": "tblInputOfferPhases", "construction": "tblInputConstruction",
               "market": "tblInputMarket"}
_MONTH = re.compile(r"^\d{4}-\d{2}$")
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


def typed(value: Any, text_only: bool = False) -> Any:
    """A cell of an assumptions frame as a Python value: None, bool, int, float or text
    (`text_only`: a text column, whose '-2' or 'True' stay text)."""
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "item") and not isinstance(value, str):
        value = value.item()
    if text_only:
        return str(value) if str(value) != "" else None
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return int(value) if float(value).is_integer() and abs(value) < 1e15 else float(value)
    text = str(value)
    if text.strip() == "":
        return None
    if text in ("True", "False", "true", "false"):
        return text.lower() == "true"
    if _NUMBER.match(text.strip()):
        return typed(float(text))
    return text


def is_pct(name: str) -> bool:
    return name.endswith("_pct") or "_pct_" in name


def scenario_key_info(key: str) -> tuple[str, str]:
    """(unit, meaning) of a flattened scenario key such as `market.btc_price_usd`."""
    return _key_info(key)[:2]


def scenario_key_is_text(key: str) -> bool:
    """Keys whose values are text (name, portfolio, months...), never numbers."""
    return _key_info(key)[2]


def _key_info(key: str) -> tuple[str, str, bool]:
    parts = key.split(".")
    for n in range(len(parts) - 1, -1, -1):
        model = SCENARIO_SECTIONS.get(".".join(parts[:n])) if n else Scenario
        if model is None or n >= len(parts):
            continue
        field = model.model_fields.get(parts[n])
        if field is not None:
            extra = field.json_schema_extra or {}
            meaning = field.description or ""
            if n < len(parts) - 1:  # a map entry, e.g. limits.…_by_region.ERCOT
                meaning = f"{meaning} ({'.'.join(parts[n + 1:])})"
            annotation = repr(field.annotation)
            text = not any(t in annotation for t in ("float", "int", "bool", "BaseModel"))
            return str(extra.get("unit", "")), meaning, text
    return "", "", False


def cell_value(name: str, value: Any, text_only: bool = False) -> tuple[Any, str | None]:
    """Value and number format of one input as the Assumptions sheet shows it."""
    value = typed(value, text_only)
    if isinstance(value, bool) or value is None:
        return value, None
    if isinstance(value, str):
        shown = month_date(value) if _MONTH.match(value) else value
        return shown, MONTH if shown is not value else None
    if is_pct(name):
        return value / 100, PCT_INPUT
    return value, INT if isinstance(value, int) else NUMBER


def column_kind(table: str, column: str) -> str | None:
    if table in TABLES and column in TABLES[table].column_names:
        return TABLES[table].column(column).kind
    return "month" if column == "month" else None


def is_text_column(table: str, column: str) -> bool:
    return column_kind(table, column) in ("id", "text", "id_list", "month")


def input_header(table: str, column: str) -> str:
    """A portfolio column's schema label (`Capex (USD/IT MW)`); another column (the market
    path's) its name with spaces, so a narrow column can wrap it."""
    if table in TABLES and column in TABLES[table].column_names:
        return TABLES[table].column(column).label
    return column.replace("_", " ")


def _table_style(table: str, column: str, values: pd.Series) -> ColumnStyle:
    kind = column_kind(table, column)
    header = input_header(table, column)
    if kind == "month":
        return ColumnStyle(header, MONTH, month=True)
    if kind in ("id", "text", "id_list", "bool"):
        return ColumnStyle(header)
    numbers = [typed(v) for v in values]
    numbers = [v for v in numbers if isinstance(v, (int, float)) and not isinstance(v, bool)]
    if not numbers:
        return ColumnStyle(header)
    if is_pct(column):
        return ColumnStyle(header, PCT_INPUT, scale=0.01)
    integral = all(float(v).is_integer() for v in numbers)
    return ColumnStyle(header, INT if integral else NUMBER)


def scenario_rows(assumptions: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """key, value (typed), unit, meaning."""
    frame = assumptions.get("scenario")
    if frame is None or frame.empty:
        return pd.DataFrame(columns=["key", "value", "unit", "meaning"])
    rows = []
    for key, value in zip(frame["key"], frame["value"]):
        unit, meaning = scenario_key_info(str(key))
        rows.append((str(key), typed(value, scenario_key_is_text(str(key))), unit, meaning))
    return pd.DataFrame(rows, columns=["key", "value", "unit", "meaning"])


def write_assumptions(ws: Worksheet, assumptions: dict[str, pd.DataFrame],
                      top: int) -> list[int]:
    """Scenario settings, then each input table as a named table (headers are the schema's
    labels); returns the header rows written."""
    row = top
    put(ws, row, 1, "Scenario settings (after extends and defaults)", font=HEADING_FONT)
    settings = scenario_rows(assumptions)
    header = row + 1
    for j, title in enumerate(("Key", "Value", "Unit", "Meaning"), start=1):
        put(ws, header, j, title)
    for i, (key, value, unit, meaning) in enumerate(settings.itertuples(index=False),
                                                    start=header + 1):
        shown, fmt = cell_value(key, value, scenario_key_is_text(key))
        if isinstance(shown, bool):  # a word, as in the input tables below (some viewers
            shown = "true" if shown else "false"  # show an Excel boolean as 1 or 0)
        put(ws, i, 1, key)
        put(ws, i, 2, shown, fmt)
        put(ws, i, 3, unit)
        put(ws, i, 4, meaning).alignment = WRAP
    add_table(ws, "tblScenario", header, 1, header + len(settings), 4)
    header_rows = [header]
    row = header + len(settings) + 3
    names = [n for n in TABLE_ORDER if n in assumptions] + \
        [n for n in assumptions if n not in TABLE_ORDER and n != "scenario"]
    for name in names:
        frame = assumptions[name]
        description = TABLES[name].description if name in TABLES else \
            "Market path per month (from the scenario's market settings)." \
            if name == "market" else ""
        put(ws, row, 1, f"{name}: {description}", font=HEADING_FONT)
        styles = {c: _table_style(name, str(c), frame[c]) for c in frame.columns}
        display = pd.DataFrame({c: [typed(v, is_text_column(name, str(c)))
                                    for v in frame[c]] for c in frame.columns},
                               columns=frame.columns)
        write_table(ws, display, TABLE_NAMES.get(name, f"tblInput_{name}"), top=row + 1,
                    styles=styles, bools=("true", "false"))
        header_rows.append(row + 1)
        row += len(frame) + 4
    return header_rows
