"""The input contract as Markdown (README) and JSON, generated from `siteopt.schema`."""

from __future__ import annotations

from typing import Any

from siteopt.schema import SCENARIO_SECTIONS, TABLES, Scenario


def _scenario_rows(model: Any, prefix: str) -> list[tuple[str, str, str, str]]:
    rows = []
    for name, field in model.model_fields.items():
        if f"{prefix}{name}" in SCENARIO_SECTIONS:
            continue  # a section: its keys are listed one by one
        extra = field.json_schema_extra or {}
        default = "required" if field.is_required() else repr(field.default)
        rows.append((f"{prefix}{name}", extra.get("unit", ""), default, field.description or ""))
    return rows


def schema_markdown() -> str:
    lines = ["### Scenario keys (YAML)", "",
             "| key | unit | default | meaning |", "|---|---|---|---|",
             "| `extends` | path | none | Another scenario this one inherits and overrides "
             "(deep merge). |"]
    rows = _scenario_rows(Scenario, "")
    for section, model in SCENARIO_SECTIONS.items():
        rows += _scenario_rows(model, f"{section}.")
    lines += [f"| `{k}` | {u} | {d} | {m} |" for k, u, d, m in rows]
    for table in TABLES.values():
        lines += ["", f"### `{table.name}` table (`{table.name}.csv` or sheet `{table.name}`)",
                  "", table.description, "",
                  "| column | unit | required | meaning |", "|---|---|---|---|"]
        for col in table.columns:
            need = "yes" if col.required else f"no (default {col.default!r})"
            lines.append(f"| `{col.name}` | {col.unit} | {need} | {col.description} |")
    return "\n".join(lines) + "\n"


def schema_json() -> dict[str, Any]:
    return {
        "scenario": Scenario.model_json_schema(),
        "tables": {t.name: [{"name": c.name, "kind": c.kind, "unit": c.unit,
                             "required": c.required, "default": c.default,
                             "description": c.description} for c in t.columns]
                   for t in TABLES.values()},
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
