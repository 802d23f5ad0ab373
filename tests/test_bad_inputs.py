"""Hostile and broken inputs (tests/bad_inputs): from the command line, every case exits 1 (2 for
a scenario file that does not exist) with the located messages its `expect` names: no
traceback, no hang, no output folder.

Each case runs `siteopt validate` in a process of its own; cases marked `solve: true` in
cases.yaml also run `siteopt solve -o OUT`. The processes are forked from one that has imported
siteopt already (tests/cli_forkserver.py: each still has its own exit code, stdout and stderr,
as `python -m siteopt` would), a few at a time, before the first case is checked; where fork
is not available each runs as `python -m siteopt` (about 1½ s of imports more a command).
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest

CORPUS = Path(__file__).resolve().parent / "bad_inputs"
_spec = importlib.util.spec_from_file_location("make_corpus", CORPUS / "make_corpus.py")
corpus = importlib.util.module_from_spec(_spec)
sys.modules["make_corpus"] = corpus  # dataclasses look their module up
_spec.loader.exec_module(corpus)

CASES = corpus.load_cases()
TIMEOUT_S = 60  # a bomb that is not defused fails here instead of hanging the suite
WORKERS = max(2, min(8, os.cpu_count() or 2))
SITEOPT = [sys.executable, "-m", "siteopt"]
ENV = {**os.environ, "PYTHONUTF8": "1"}


@dataclass
class Run:
    command: str
    code: int | None  # None: killed after TIMEOUT_S
    out: str
    err: str

    def __str__(self) -> str:
        return f"$ siteopt {self.command}\nexit {self.code}\n--- stdout\n{self.out}\n" \
               f"--- stderr\n{self.err}"


@dataclass
class Outcome:
    runs: list[Run] = field(default_factory=list)
    outdir: Path | None = None


def siteopt(*args: str, cwd: Path) -> Run:
    command = " ".join(args)
    try:
        done = subprocess.run([*SITEOPT, *args], cwd=cwd, env=ENV, capture_output=True,
                              encoding="utf-8", errors="replace", timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired as exc:
        def text(data: bytes | str | None) -> str:
            return data.decode("utf-8", "replace") if isinstance(data, bytes) else data or ""
        return Run(command, None, text(exc.stdout), text(exc.stderr))
    return Run(command, done.returncode, done.stdout, done.stderr)


FORKSERVER = Path(__file__).resolve().parent / "cli_forkserver.py"


def forked(commands: list[tuple[tuple[str, ...], Path]]) -> list[Run]:
    """Each (args, cwd) run by the fork server; the runs in the order given."""
    import json

    lines = "".join(json.dumps({"id": i, "args": list(args), "cwd": str(cwd),
                                "timeout": TIMEOUT_S}) + "\n"
                    for i, (args, cwd) in enumerate(commands))
    done = subprocess.run([sys.executable, str(FORKSERVER), str(WORKERS)], input=lines,
                          capture_output=True, encoding="utf-8", env=ENV,
                          timeout=TIMEOUT_S * len(commands))
    assert done.returncode == 0, done.stderr
    results = {r["id"]: r for r in map(json.loads, done.stdout.splitlines())}
    return [Run(" ".join(args), results[i]["code"], results[i]["out"], results[i]["err"])
            for i, (args, _) in enumerate(commands)]


def commands_of(case, folder: Path, outdir: Path) -> list[tuple[tuple[str, ...], Path]]:
    commands = [(("validate", case.scenario), folder)]
    if case.solve:
        outdir.parent.mkdir(parents=True)
        commands.append((("solve", case.scenario, "-o", str(outdir)), folder))
    return commands


def attempt(case, folder: Path, outdir: Path) -> Outcome:
    outcome = Outcome([siteopt("validate", case.scenario, cwd=folder)])
    if case.solve:
        outdir.parent.mkdir(parents=True)
        outcome.runs.append(siteopt("solve", case.scenario, "-o", str(outdir), cwd=folder))
        outcome.outdir = outdir
    return outcome


def param(case):
    marks = [pytest.mark.xfail(reason=case.xfail, strict=True)] if case.xfail else []
    return pytest.param(case, id=case.name, marks=marks)


@pytest.fixture(scope="module")
def outcomes(request, tmp_path_factory) -> dict[str, Outcome]:
    """Run every selected case once, several at a time."""
    selected = {item.callspec.params["case"].name for item in request.session.items
                if item.module is request.module and "case" in getattr(
                    getattr(item, "callspec", None), "params", {})}
    cases = [c for c in CASES if c.name in selected]
    root = tmp_path_factory.mktemp("bad_inputs")
    folders = [corpus.materialize(c, root) for c in cases]  # bombs are made here, not stored
    if hasattr(os, "fork"):
        outdirs = [root / "results" / c.name / "out" for c in cases]
        plans = [commands_of(c, f, o) for c, f, o in zip(cases, folders, outdirs)]
        runs = iter(forked([command for plan in plans for command in plan]))
        return {c.name: Outcome([next(runs) for _ in plan], o if c.solve else None)
                for c, plan, o in zip(cases, plans, outdirs)}
    with ThreadPoolExecutor(WORKERS) as pool:
        done = pool.map(lambda c, f: attempt(c, f, root / "results" / c.name / "out"),
                        cases, folders)
        return {c.name: o for c, o in zip(cases, done)}


@pytest.mark.parametrize("case", [param(c) for c in CASES])
def test_a_broken_input_fails_cleanly(case, outcomes):
    outcome = outcomes[case.name]
    for run in outcome.runs:
        assert run.code is not None, f"hung for {TIMEOUT_S} s\n{run}"
        assert "Traceback" not in run.out + run.err, str(run)
        assert run.code == case.code, str(run)
        for expected in case.expected:
            assert expected in run.err, f"expected {expected!r}\n{run}"
        assert case.absent is None or case.absent not in run.out + run.err, \
            f"{case.absent!r} must not be shown\n{run}"
        assert run.out == "", f"nothing belongs on stdout when the input is bad\n{run}"
    if outcome.outdir is not None:
        assert not outcome.outdir.exists() or not any(outcome.outdir.iterdir())
        leftovers = [p.name for p in outcome.outdir.parent.iterdir() if p != outcome.outdir]
        assert leftovers == [], f"staging folders left behind: {leftovers}"


# ---------------------------------------------------------------------------------------------
# The corpus itself
# ---------------------------------------------------------------------------------------------


def test_the_corpus_has_every_kind_of_case():
    names = {c.name for c in CASES}
    folders = {p.name for p in CORPUS.iterdir()
               if p.is_dir() and not p.name.startswith(("_", "."))}
    assert len(CASES) >= 40
    assert len(names) == len(CASES)
    assert folders <= names, f"folders without a case in cases.yaml: {folders - names}"
    assert set(corpus.GENERATORS) <= names, set(corpus.GENERATORS) - names
    for case in CASES:
        assert case.name in folders or case.name in corpus.GENERATORS or \
            case.scenario != "scenario.yaml", f"{case.name} changes nothing"
        assert case.expected and all(e.strip() for e in case.expected), case.name
        assert case.what.strip(), case.name


def test_the_corpus_stays_small_on_disk():
    stored = sum(p.stat().st_size for p in CORPUS.rglob("*") if p.is_file()
                 and "__pycache__" not in p.parts)
    assert stored < 200_000


def test_the_shared_project_is_valid_and_solves(tmp_path):
    """Each case breaks one thing in this project; unbroken, it validates and solves, so a
    case fails for what it breaks and a missing output folder means something."""
    folder = corpus.materialize(corpus.Case("unbroken", "", ""), tmp_path)
    validated = siteopt("validate", "scenario.yaml", cwd=folder)
    assert validated.code == 0, str(validated)
    solved = siteopt("solve", "scenario.yaml", "-o", str(tmp_path / "out"), cwd=folder)
    assert solved.code == 0, str(solved)
    assert (tmp_path / "out" / "summary.json").is_file()


def test_the_generated_workbook_is_valid(tmp_path):
    """The workbooks the xlsx cases bend are read like the CSV folder when unbent."""
    folder = corpus.materialize(corpus.Case("unbroken_xlsx", "", ""), tmp_path)
    corpus.shared_book(folder / "book.xlsx")
    text = (folder / "scenario.yaml").read_text(encoding="utf-8")
    (folder / "scenario.yaml").write_text(text.replace("portfolio: portfolio",
                                                       "portfolio: book.xlsx"), encoding="utf-8")
    run = siteopt("validate", "scenario.yaml", cwd=folder)
    assert run.code == 0, str(run)
    assert "2 campuses, 2 offers" in run.out


def test_generated_files_are_the_same_every_time(tmp_path):
    quick = [c for c in CASES if c.name in corpus.GENERATORS
             and c.name not in {"xlsx_zip_bomb", "xlsx_huge_sheet", "csv_huge"}]
    for case in quick:
        first = corpus.materialize(case, tmp_path / "first")
        second = corpus.materialize(case, tmp_path / "second")
        for path in first.rglob("*"):
            if path.is_file() and not path.is_symlink():
                twin = second / path.relative_to(first)
                assert path.read_bytes() == twin.read_bytes(), f"{case.name}: {path.name}"


def test_openpyxl_parses_workbook_xml_with_defusedxml():
    """Entity expansion in a workbook is refused by defusedxml, which openpyxl only uses when
    it is installed (siteopt depends on it)."""
    from openpyxl import xml

    assert xml.DEFUSEDXML


# ---------------------------------------------------------------------------------------------
# What the guards must still let through
# ---------------------------------------------------------------------------------------------


def test_anchors_aliases_and_merge_keys_still_load(tmp_path):
    """The YAML bomb, duplicate-key and depth guards leave ordinary YAML features alone: a
    merged key given again explicitly is an override, not a duplicate."""
    from siteopt.inputs.scenario import load_scenario

    folder = corpus.materialize(corpus.Case("yaml_features", "", ""), tmp_path)
    text = (folder / "scenario.yaml").read_text(encoding="utf-8")
    text = text.replace(
        "finance:\n  discount_rate_pct_per_year: 8\n  value_beyond_horizon: false\n",
        "finance:\n  <<: {discount_rate_pct_per_year: 5, value_beyond_horizon: true}\n"
        "  value_beyond_horizon: false\n"
        "limits:\n  max_it_mw_started_per_year_by_region: {ERCOT: &cap 40, PJM: *cap}\n")
    (folder / "scenario.yaml").write_text(text, encoding="utf-8")

    scenario = load_scenario(folder / "scenario.yaml").scenario
    assert scenario.finance.discount_rate_pct_per_year == 5
    assert scenario.finance.value_beyond_horizon is False
    assert scenario.limits.max_it_mw_started_per_year_by_region == {"ERCOT": 40, "PJM": 40}


def test_a_sheet_that_declares_too_small_a_dimension_is_read_whole(tmp_path):
    """The <dimension> tag is ignored both ways: a sheet declaring A1:A1 (some exporters do)
    still gives every row and column."""
    from siteopt.inputs import load_inputs

    folder = corpus.materialize(corpus.Case("small_dimension", "", ""), tmp_path)
    rows = corpus.shared_rows("campuses")
    sheet = corpus.sheet_xml(rows)
    sheet = sheet.replace(sheet[sheet.index("<dimension"):sheet.index("<sheetData>")],
                          '<dimension ref="A1:A1"/>')
    corpus.shared_book(folder / "book.xlsx", campuses=sheet)
    text = (folder / "scenario.yaml").read_text(encoding="utf-8")
    (folder / "scenario.yaml").write_text(text.replace("portfolio: portfolio",
                                                       "portfolio: book.xlsx"), encoding="utf-8")

    inputs = load_inputs(folder / "scenario.yaml")
    assert list(inputs.campuses.index) == ["C1", "C2"]
    assert inputs.campuses.loc["C2", "build_months"] == 8  # the last column, row 3
