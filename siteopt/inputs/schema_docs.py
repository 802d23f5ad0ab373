"""The input contract as Markdown (README) and JSON, generated from `siteopt.inputs.schema`."""

from __future__ import annotations

from typing import Any

from siteopt.inputs.months import INPUT_MONTHS
from siteopt.inputs.schema import (
    ACTUALS,
    MAX_ID_CHARS,
    SCENARIO_SECTIONS,
    TABLES,
    Column,
    NumberRule,
    Scenario,
    field_numbers,
)

MONTH_RANGE = f"{INPUT_MONTHS[0]} to {INPUT_MONTHS[1]}"


def _range(rule: NumberRule | None, unit: str) -> str:
    """A key's or column's range as the tables show it (the unit has its own column)."""
    if rule is not None:
        return NumberRule(rule.name, rule.kind, "", rule.ge, rule.gt, rule.le).range_text()
    return MONTH_RANGE if unit.startswith("YYYY-MM") else ""


def _column_range(column: Column) -> str:
    if column.kind in ("float", "int"):
        return _range(column.rule, column.unit)
    if column.kind == "id":
        return f"letters, digits, - _ . (at most {MAX_ID_CHARS})"
    return _range(None, column.unit)


def _scenario_rows(model: Any, prefix: str) -> list[tuple[str, ...]]:
    rows = []
    for name, field in model.model_fields.items():
        if f"{prefix}{name}" in SCENARIO_SECTIONS:
            continue  # a section: its keys are listed one by one
        extra = field.json_schema_extra or {}
        unit = extra.get("unit", "")
        numbers = field_numbers(model, name)
        rule = numbers and (numbers.scalar or numbers.entries)
        default = "required" if field.is_required() else repr(field.default)
        rows.append((f"{prefix}{name}", unit, _range(rule, unit), default,
                     field.description or ""))
    return rows


def schema_markdown() -> str:
    lines = ["### Scenario keys (YAML)", "",
             "Every number has a range in its unit; outside it, it is refused with the range in "
             "the message. Numbers written as text are plain (`1234.5`) or grouped by "
             "thousands (`1,234,567.5`); a decimal comma (`42,50`) and true/false are refused. "
             "A `_pct` value between 0 and 1 is refused as a probable fraction (write 8 for "
             "8 %) unless it carries a % sign (`0.5%`, or an Excel cell formatted as percent) "
             "or small percentages are expected (`solver.mip_gap_pct`). "
             f"Months lie between {INPUT_MONTHS[0]} and {INPUT_MONTHS[1]}.",
             "", "| key | unit | range | default | meaning |", "|---|---|---|---|---|",
             "| `extends` | path |  | none | Another scenario this one inherits and overrides "
             "(deep merge). |"]
    rows = _scenario_rows(Scenario, "")
    for section, model in SCENARIO_SECTIONS.items():
        rows += _scenario_rows(model, f"{section}.")
    lines += [f"| `{k}` | {u} | {r} | {d} | {m} |" for k, u, r, d, m in rows]
    for table in (*TABLES.values(), ACTUALS):
        where = "`actuals.csv`, given to `siteopt replan --actuals`" if table is ACTUALS else \
            f"`{table.name}.csv` or sheet `{table.name}`"
        lines += ["", f"### `{table.name}` table ({where})",
                  "", table.description, "",
                  "| column | unit | range | required | meaning |", "|---|---|---|---|---|"]
        for col in table.columns:
            need = "yes" if col.required else f"no (default {col.default!r})"
            lines.append(f"| `{col.name}` | {col.unit} | {_column_range(col)} | {need} | "
                         f"{col.description} |")
    return "\n".join(lines) + "\n"


def schema_json() -> dict[str, Any]:
    return {
        "scenario": Scenario.model_json_schema(),
        "tables": {t.name: [{"name": c.name, "kind": c.kind, "unit": c.unit,
                             "required": c.required, "default": c.default,
                             "range": _column_range(c),
                             "description": c.description} for c in t.columns]
                   for t in (*TABLES.values(), ACTUALS)},
    }


def update_readme(path: str = "README.md") -> bool:
    """Rewrite the generated input tables between the schema markers; True if changed."""
    from pathlib import Path

    readme = Path(path)
    text = readme.read_text(encoding="utf-8")
    start, end = "<!-- schema:start -->\n", "<!-- schema:end -->"
    head, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    updated = f"{head}{start}{schema_markdown()}{end}{tail}"
    if updated != text:
        readme.write_text(updated, encoding="utf-8")
    return updated != text


if __name__ == "__main__":
    print("README.md updated" if update_readme() else "README.md already up to date")
