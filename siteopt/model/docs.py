"""The parts of docs/formulation.md generated from their single sources: the families in
build order (siteopt.model.FAMILIES) and the cash lines (siteopt.contract). `make docs`
rewrites them; tests/test_docs.py fails when the page and the code disagree."""

from __future__ import annotations

from pathlib import Path

from siteopt.contract import CASH_LINES, KINDS
from siteopt.model import FAMILIES


def _code(names) -> str:
    return ", ".join(f"`{n}`" for n in names) or "—"


def families_markdown() -> str:
    rows = ["| # | family | builder | module | built when | commitments |",
            "|---|---|---|---|---|---|"]
    for i, family in enumerate(FAMILIES, start=1):
        module = family.module.replace(".", "/") + ".py"
        kind = "" if family.build is not None else " (ledger step)"
        rows.append(f"| {i} | {family.name}{kind} | `{family.builder}` | `{module}` | "
                    f"{family.when} | {_code(family.commitments)} |")
    return "\n".join(rows) + "\n"


def cash_lines_markdown() -> str:
    rows = ["| kind | line | sign | business | EBITDA | accrues | label |",
            "|---|---|---|---|---|---|---|"]
    for kind in KINDS:
        for line in CASH_LINES:
            if line.kind != kind:
                continue
            settles = f"; after the horizon, if not counted: `{line.settles_to}`" \
                if line.settles_to else ""
            rows.append(f"| {kind} | `{line.name}` | {'+' if line.sign > 0 else '−'} | "
                        f"{line.business} | {'yes' if line.ebitda else ''} | "
                        f"{'by the day' if line.per_day else 'by the month'}{settles} | "
                        f"{line.label} |")
    return "\n".join(rows) + "\n"


GENERATED = {"families": families_markdown, "cash-lines": cash_lines_markdown}


def generated_blocks(text: str) -> dict[str, str]:
    """The text between each pair of markers of the page."""
    blocks = {}
    for name in GENERATED:
        start, end = f"<!-- {name}:start -->\n", f"<!-- {name}:end -->"
        blocks[name] = text.split(start, 1)[1].split(end, 1)[0]
    return blocks


def update_formulation(path: str | Path = "docs/formulation.md") -> bool:
    """Rewrite the generated blocks of the formulation page; True if anything changed."""
    page = Path(path)
    text = page.read_text(encoding="utf-8")
    updated = text
    for name, make in GENERATED.items():
        start, end = f"<!-- {name}:start -->\n", f"<!-- {name}:end -->"
        head, rest = updated.split(start, 1)
        _, tail = rest.split(end, 1)
        updated = f"{head}{start}{make()}{end}{tail}"
    if updated != text:
        page.write_text(updated, encoding="utf-8")
    return updated != text


if __name__ == "__main__":
    print("docs/formulation.md updated" if update_formulation()
          else "docs/formulation.md already up to date")
