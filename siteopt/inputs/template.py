"""`siteopt init`: a working project to start from — a scenario and a portfolio.

Everything a user fills in is generated from `siteopt.inputs.schema`: the scenario YAML has every
key with its meaning and unit as a comment, and the Excel portfolio has one sheet per table
(`TABLES`), a README sheet explaining every column, input cells styled as inputs, drop-downs
for fixed choices and Excel data validation for the numeric ranges of each column. The
example values are those of the shipped example portfolio (data/portfolio) and base scenario,
read from the source checkout or, when installed from a wheel, from the package's copy.
"""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path
from typing import Any

import yaml
from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet
from pydantic import BaseModel

from siteopt.export.files import write_atomic
from siteopt.export.xlsx_style import (
    HEADING_FONT,
    SUBTITLE_FONT,
    WRAP,
    add_table,
    fit_row_heights,
    put,
    report_sheet,
    sheet_title,
)
from siteopt.inputs.errors import InputError, Problem, Problems
from siteopt.inputs.schema import SCENARIO_SECTIONS, TABLES, Column, Scenario, Table

# The examples live once, at the top of the repository (data/, scenarios/); a wheel carries a
# copy inside the package (siteopt/examples/, made by setup.py at build time).
EXAMPLE_FOLDERS = ("data", "scenarios")
PACKAGED_EXAMPLES = Path(__file__).resolve().parents[1] / "examples"  # siteopt/examples
SOURCE_CHECKOUT = Path(__file__).resolve().parents[2]


def example_root(candidates: tuple[Path, ...] = (PACKAGED_EXAMPLES, SOURCE_CHECKOUT)) -> Path:
    """The folder holding data/ and scenarios/: inside the installed package (from a wheel),
    else the source checkout siteopt runs from (editable install, tests). The packaged copy
    comes first: an installed package's parent is site-packages, not a project."""
    for root in candidates:
        if (root / "data" / "portfolio" / "campuses.csv").is_file() and \
                (root / "scenarios" / "base.yaml").is_file():
            return root
    return candidates[0]


ROOT = example_root()
EXAMPLE_PORTFOLIO = ROOT / "data" / "portfolio"
EXAMPLE_SCENARIO = ROOT / "scenarios" / "base.yaml"
# optional keys the base scenario leaves empty get their example from these (commented out)
OPTIONAL_EXAMPLES = (ROOT / "scenarios" / "funded.yaml", ROOT / "scenarios" / "spec-build.yaml",
                     ROOT / "scenarios" / "uncertain.yaml", ROOT / "scenarios" / "sampled.yaml")
SCENARIO_FILE = "scenario.yaml"
WORKBOOK_FILE = "portfolio.xlsx"
PORTFOLIO_FOLDER = "portfolio"
INPUT_ROWS = 200  # rows styled and validated as inputs on each sheet
SECTION_TITLES = {  # scenario sections have no description of their own in the schema
    "horizon": "The months planned",
    "market": "BTC price, network hashrate, block rewards and the HPC spot market",
    "finance": "Discounting, funding and how the business after the horizon is valued",
    "limits": "Supply-chain and tenant-concentration limits",
    "solver": "HiGHS options",
}

INPUT_FILL = PatternFill("solid", fgColor="FFF2CC")
INPUT_FONT = Font(color="0000CC")
HEADER_FILL = PatternFill("solid", fgColor="1F3864")
OPTIONAL_FILL = PatternFill("solid", fgColor="2F5597")
HEADER_FONT = Font(bold=True, color="FFFFFF")
THIN = Side(style="thin", color="BFBFBF")
INPUT_BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)


class ExistingFiles(Exception):
    """`siteopt init` would overwrite these files."""

    def __init__(self, paths: list[Path]):
        self.paths = paths
        super().__init__(", ".join(map(str, paths)))


# ---------------------------------------------------------------------------------------------
# Project
# ---------------------------------------------------------------------------------------------


def project_files(folder: Path, excel: bool) -> list[Path]:
    files = [folder / SCENARIO_FILE]
    if excel:
        files.append(folder / WORKBOOK_FILE)
    else:
        files += [folder / PORTFOLIO_FOLDER / f"{name}.csv" for name in TABLES
                  if (EXAMPLE_PORTFOLIO / f"{name}.csv").is_file()]
    return files


def init_project(folder: Path, excel: bool = False, force: bool = False,
                 name: str | None = None) -> list[Path]:
    """Write a scenario and its portfolio into `folder`; refuse to overwrite existing files
    unless `force`. Returns the files written."""
    _check_examples()
    folder = Path(folder)
    files = project_files(folder, excel)
    existing = [p for p in files if p.exists()]
    if existing and not force:
        raise ExistingFiles(existing)
    folder.mkdir(parents=True, exist_ok=True)
    portfolio = WORKBOOK_FILE if excel else PORTFOLIO_FOLDER
    text = scenario_yaml(name or _scenario_name(folder), portfolio)
    write_atomic(folder / SCENARIO_FILE, lambda p: p.write_text(text, encoding="utf-8"))
    if excel:
        write_portfolio_workbook(folder / WORKBOOK_FILE)
    else:
        (folder / PORTFOLIO_FOLDER).mkdir(exist_ok=True)
        for target in files[1:]:
            write_atomic(target, lambda p, src=EXAMPLE_PORTFOLIO / target.name:
                         shutil.copyfile(src, p))
    return files


def _check_examples() -> None:
    missing = [p for p in (EXAMPLE_PORTFOLIO / "campuses.csv", EXAMPLE_SCENARIO)
               if not p.is_file()]
    if missing:
        raise InputError([Problem(str(p), "example file not found: this installation of "
                                          "siteopt lacks its examples (looked in "
                                          f"{PACKAGED_EXAMPLES} and {SOURCE_CHECKOUT}); "
                                          "reinstall it from a wheel built with "
                                          "`pip wheel .` or from a source checkout")
                          for p in missing])


def _scenario_name(folder: Path) -> str:
    name = folder.resolve().name
    try:
        Scenario.model_validate({"name": name, "portfolio": ".",
                                 "horizon": {"start": "2027-01", "months": 1},
                                 "market": {"btc_price_usd": 1, "network_hashrate_ehs": 1}})
    except Exception:
        return "my-plan"
    return name


# ---------------------------------------------------------------------------------------------
# Scenario YAML: every key with its meaning and unit
# ---------------------------------------------------------------------------------------------


def _settings(path: Path) -> dict[str, Any]:
    from siteopt.inputs.scenario import load_scenario

    return load_scenario(path).scenario.model_dump(mode="json")


def _yaml_value(value: Any) -> str:
    text = yaml.safe_dump(value, default_flow_style=True, allow_unicode=True, width=1000)
    return text.strip().removesuffix("...").strip()


def _comment(text: str, indent: str, commented: bool) -> list[str]:
    prefix = f"{indent}# " if not commented else f"{indent}# # "
    return [prefix + line for line in textwrap.wrap(text, width=92 - len(prefix))]


def _field_doc(field, path: str = "") -> str:
    extra = field.json_schema_extra or {}
    unit = extra.get("unit", "")
    if field.is_required():
        need = "required"
    elif field.default is None or isinstance(field.default, BaseModel):
        need = "optional"
    else:
        need = f"default {_yaml_value(field.default)}"
    text = field.description or SECTION_TITLES.get(path, "")
    return f"{text} [{unit + ', ' if unit else ''}{need}]"


def _emit(model: type[BaseModel], values: dict[str, Any], examples: dict[str, Any],
          prefix: str, indent: str, commented: bool, lines: list[str]) -> None:
    for key, field in model.model_fields.items():
        path = f"{prefix}{key}"
        value = values.get(key) if values else None
        example = examples.get(key) if examples else None
        section = SCENARIO_SECTIONS.get(path)
        off = commented or value is None
        lead = f"{indent}# " if off else indent
        lines += _comment(_field_doc(field, path), indent, commented)
        if section is not None:
            inner = value if isinstance(value, dict) else {}
            sample = example if isinstance(example, dict) else {}
            if off and not sample and not inner:
                lines.append(f"{lead}{key}: null")
                continue
            lines.append(f"{lead}{key}:")
            _emit(section, inner or sample, sample, f"{path}.", indent + "  ", off, lines)
            continue
        shown = value if value is not None else example
        if isinstance(shown, list) and shown and all(isinstance(i, dict) for i in shown):
            lines.append(f"{lead}{key}:")  # a list of entries (futures): one per line
            lines += [f"{lead}  - {_yaml_value(item)}" for item in shown]
            continue
        lines.append(f"{lead}{key}: {_yaml_value(shown)}")


def scenario_yaml(name: str, portfolio: str) -> str:
    """The example scenario with every key, its meaning, unit and default as comments;
    optional keys the example leaves empty are listed commented out."""
    values = _settings(EXAMPLE_SCENARIO)
    values.update(name=name, portfolio=portfolio,
                  description="Starter scenario from siteopt init: the example portfolio, "
                              "ten years from January 2027")
    examples: dict[str, Any] = {}
    for path in OPTIONAL_EXAMPLES:
        if path.is_file():
            examples = _merge_missing(examples, _settings(path))
    lines = [
        "# siteopt scenario, written by `siteopt init`.",
        "# Every key is listed with its meaning, [unit, default]. Lines starting with '# ' are",
        "# optional keys left out: remove the '# ' to use them. Percentages are written as",
        "# percent (10 means 10 %); months as YYYY-MM; money in USD; power in MW.",
        "# Check with:  siteopt validate scenario.yaml    Solve with:  siteopt solve scenario.yaml",
        "",
    ]
    _emit(Scenario, values, examples, "", "", False, lines)
    return "\n".join(lines) + "\n"


def _merge_missing(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge_missing(out[key], value)
        elif out.get(key) is None:
            out[key] = value
    return out


# ---------------------------------------------------------------------------------------------
# Excel portfolio: one sheet per table, a README, validation from the schema
# ---------------------------------------------------------------------------------------------


def example_rows(table: Table) -> list[dict[str, Any]]:
    """Typed rows of the example portfolio's table (empty when it has none)."""
    from siteopt.inputs.tables import parse_table, read_csv_table

    path = EXAMPLE_PORTFOLIO / f"{table.name}.csv"
    if not path.is_file():
        return []
    problems = Problems()
    frame = parse_table(table, read_csv_table(path), problems)
    problems.raise_if_any()
    return frame.drop(columns="row").to_dict("records")


def cell_input(column: Column, value: Any) -> Any:
    """A typed value as the template cell holds it (what tables.py reads back the same)."""
    if value is None or (isinstance(value, float) and value != value):
        return None
    if column.kind == "bool":
        return "true" if value else "false"
    if column.kind == "id_list":
        return ";".join(value) if isinstance(value, (tuple, list)) else str(value)
    if column.kind == "float":
        return int(value) if float(value).is_integer() and abs(value) < 1e15 else float(value)
    if column.kind == "int":
        return int(value)
    return str(value)


# What a cell of each column kind may hold, for people (README sheet, comments, messages);
# numbers add their range. Every kind of the schema has its entry (a test checks).
ALLOWED_TEXT: dict[str, str] = {
    "id": "letters, digits, - _ .",
    "text": "text",
    "float": "number",
    "int": "whole number",
    "month": "a month, YYYY-MM",
    "bool": "true or false",
    "id_list": "campus ids separated by ';', or *",
}


def _range_text(column: Column) -> str:
    allowed = ALLOWED_TEXT[column.kind]
    if column.kind not in ("float", "int"):
        return allowed
    parts = []
    if column.ge is not None:
        parts.append(f">= {column.ge:g}")
    if column.gt is not None:
        parts.append(f"> {column.gt:g}")
    if column.le is not None:
        parts.append(f"<= {column.le:g}")
    return f"{allowed} {' and '.join(parts)}" if parts else allowed


def _need(column: Column) -> str:
    if column.required:
        return "required"
    return "optional" if column.default in (None, "") else \
        f"optional (empty = {cell_input(column, column.default)})"


def numeric_validation(column: Column, cells: str) -> DataValidation | None:
    """Excel data validation of a numeric column's range (from Column.ge / gt / le)."""
    if column.kind not in ("float", "int"):
        return None
    kind = "whole" if column.kind == "int" else "decimal"
    low = column.ge if column.ge is not None else column.gt
    if low is not None and column.le is not None:
        if column.gt is not None:  # strictly above: Excel's 'between' is inclusive
            first = cells.split(":")[0]
            dv = DataValidation(type="custom", allow_blank=True,
                                formula1=f"AND(ISNUMBER({first}),{first}>{column.gt:g},"
                                         f"{first}<={column.le:g})")
        else:
            dv = DataValidation(type=kind, operator="between", allow_blank=True,
                                formula1=f"{low:g}", formula2=f"{column.le:g}")
    elif column.gt is not None:
        dv = DataValidation(type=kind, operator="greaterThan", allow_blank=True,
                            formula1=f"{column.gt:g}")
    elif column.ge is not None:
        dv = DataValidation(type=kind, operator="greaterThanOrEqual", allow_blank=True,
                            formula1=f"{column.ge:g}")
    elif column.le is not None:
        dv = DataValidation(type=kind, operator="lessThanOrEqual", allow_blank=True,
                            formula1=f"{column.le:g}")
    else:
        dv = DataValidation(type=kind, operator="between", allow_blank=True,
                            formula1="-1E+300", formula2="1E+300")
    return dv


def _validations(ws: Worksheet, table: Table) -> None:
    last = INPUT_ROWS + 1
    for j, column in enumerate(table.columns, start=1):
        letter = get_column_letter(j)
        cells = f"{letter}2:{letter}{last}"
        unit = f" ({column.unit})" if column.unit else ""
        dv: DataValidation | None
        if column.kind == "bool":
            dv = DataValidation(type="list", formula1='"true,false"', allow_blank=True)
        elif column.kind == "id_list":
            # 'TX-ROCK;LA-RIVR' and '*' are valid and no list validation takes them: only the
            # hint as the cell is selected; `siteopt validate` checks the ids
            dv = DataValidation(allow_blank=True)
        elif table.name == "offer_phases" and column.name == "offer_id":
            dv = DataValidation(type="list", formula1=f"offers!$A$2:$A${last}",
                                allow_blank=True)
        else:
            dv = numeric_validation(column, cells)
        if dv is None:
            continue
        dv.showErrorMessage = dv.type is not None  # a hint-only validation refuses nothing
        dv.showInputMessage = True
        dv.errorTitle = column.name[:32]
        dv.error = f"{column.name}: {_range_text(column)}{unit}."[:255]
        dv.promptTitle = column.name[:32]
        hint = "" if dv.type is not None else f" Allowed: {_range_text(column)}."
        dv.prompt = f"{column.description}{unit}{hint}"[:255]
        ws.add_data_validation(dv)
        dv.add(cells)


def _table_sheet(ws: Worksheet, table: Table, rows: list[dict[str, Any]]) -> None:
    for j, column in enumerate(table.columns, start=1):
        cell = put(ws, 1, j, column.name)
        cell.font = HEADER_FONT
        cell.fill = HEADER_FILL if column.required else OPTIONAL_FILL
        cell.alignment = Alignment(horizontal="center", vertical="center")
        unit = f" [{column.unit}]" if column.unit else ""
        cell.comment = Comment(f"{column.description}{unit}\n{_need(column)}; "
                               f"{_range_text(column)}", "siteopt", width=320, height=110)
        letter = get_column_letter(j)
        text_like = column.kind in ("id", "text", "id_list", "month", "bool")
        for r in range(2, INPUT_ROWS + 2):
            target = ws.cell(row=r, column=j)
            target.fill = INPUT_FILL
            target.font = INPUT_FONT
            target.border = INPUT_BORDER
            if text_like:
                target.number_format = "@"  # 2027-10 stays the text YYYY-MM, ids stay text
        values = [cell_input(column, row.get(column.name)) for row in rows]
        for r, value in enumerate(values, start=2):
            put(ws, r, j, value)
        longest = max([len(column.name) + 2, *(len(str(v)) for v in values if v is not None)])
        ws.column_dimensions[letter].width = min(50, max(10, longest + 2))
    ws.freeze_panes = "B2"
    _validations(ws, table)
    ws.page_setup.orientation = "landscape"
    ws.print_title_rows = "1:1"
    ws.print_title_cols = "A:A"


def _readme(ws: Worksheet) -> None:
    row = sheet_title(ws, "siteopt portfolio — how to fill it in",
                      "One sheet per table; row 1 holds the column names (keep them as they "
                      "are); one row per item below.")
    notes = [
        "Yellow cells are inputs. Dark headers are required columns; lighter headers are "
        "optional (an empty cell takes the default below).",
        "Hover over a header for its meaning. Drop-downs offer the fixed choices; numbers "
        "outside a column's range are refused as you type.",
        "Percentages are written as percent numbers: 3 means 3 % (a cell formatted as % is "
        "read as the percentage it shows).",
        "Months are written YYYY-MM (2027-10); a date typed by Excel is read as its month.",
        "offers.campuses: campus ids separated by ';', or * for every campus.",
        "Other sheets (like this one) are ignored. Check the workbook with "
        "`siteopt validate scenario.yaml`.",
    ]
    for note in notes:
        put(ws, row, 1, f"• {note}").alignment = Alignment(wrap_text=False)
        row += 1
    row += 1
    for table in TABLES.values():
        put(ws, row, 1, f"Sheet '{table.name}'", font=HEADING_FONT)
        put(ws, row + 1, 1, table.description, font=SUBTITLE_FONT)
        header = row + 2
        for j, title in enumerate(("Column", "Unit", "Required", "Allowed", "Meaning"),
                                  start=1):
            put(ws, header, j, title)
        for i, column in enumerate(table.columns, start=header + 1):
            for j, value in enumerate((column.name, column.unit, _need(column),
                                       _range_text(column), column.description), start=1):
                put(ws, i, j, value).alignment = WRAP
        add_table(ws, f"tblReadme_{table.name}", header, 1, header + len(table.columns), 5)
        row = header + len(table.columns) + 2
    for letter, width in zip("ABCDE", (32, 16, 26, 30, 80)):
        ws.column_dimensions[letter].width = width
    fit_row_heights(ws)
    report_sheet(ws)


def build_portfolio_workbook() -> Workbook:
    wb = Workbook()
    _readme(wb.active)
    wb.active.title = "README"
    for table in TABLES.values():
        _table_sheet(wb.create_sheet(table.name), table, example_rows(table))
    wb.active = 0
    return wb


def write_portfolio_workbook(target: Path) -> None:
    wb = build_portfolio_workbook()
    write_atomic(Path(target), wb.save)
