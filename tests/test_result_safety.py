"""Results are never destroyed and never dangerous: CSV text made inert, write failures
reported before or without harm, result-folder swaps that survive kills and rivals, nothing
overwritten that siteopt did not write, damaged folders read with located errors."""

from __future__ import annotations

import csv
import errno
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import write_case

from siteopt.cli import main
from siteopt.export import files, leftovers, results_folder, swap
from siteopt.export.result_checks import UnreadableResults

ROOT = Path(__file__).resolve().parents[1]
SITEOPT = Path(sys.executable).with_name("siteopt")
HYPERLINK = '=HYPERLINK("http://evil.example","click")'
DDE = "=cmd|' /C calc'!A0"
TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def run_cli(*args) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, [str(a) for a in args])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception  # a traceback for the user
    return result.exit_code, result.stdout, result.stderr


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file()}


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


@pytest.fixture(scope="module")
def scenarios(tmp_path_factory) -> dict[str, Path]:
    """Two tiny scenarios with formula-like text in ids and names ('-2' is a valid id)."""
    base = tmp_path_factory.mktemp("scenarios")
    campuses = [{"campus_id": "C1", "name": HYPERLINK}, {"campus_id": "-2", "name": DDE,
                                                         "region": "@SUM(A1)"}]
    offers = [{"offer_id": "O1", "tenant": HYPERLINK, "campuses": "-2"},
              {"offer_id": "O2", "tenant": DDE, "campuses": "C1", "rate_usd_per_kw_month": 1}]
    return {"a": write_case(base / "a", campuses=campuses, offers=offers),
            "b": write_case(base / "b", campuses=campuses, offers=offers,
                            market={"btc_price_usd": 60000})}


@pytest.fixture(scope="module")
def solved(scenarios, tmp_path_factory) -> dict[str, Path]:
    """Each scenario solved once into a result folder (copy before changing it)."""
    out = tmp_path_factory.mktemp("solved")
    folders = {}
    for name, scenario in scenarios.items():
        folders[name] = out / name
        code, _, err = run_cli("solve", scenario, "-o", folders[name])
        assert code == 0, err
    return folders


@pytest.fixture
def previous(solved, tmp_path) -> Path:
    """A copy of run a at tmp_path/run: the previous result a new run must not harm."""
    shutil.copytree(solved["a"], tmp_path / "run")
    return tmp_path / "run"


def rows(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


# -- 13. text from inputs never becomes a formula in a CSV --------------------------------


def test_formula_like_text_is_neutralised_and_read_back_exactly():
    texts = [HYPERLINK, DDE, "+1", "-2", "@SUM(A1)", "\tx", "\rx", "'quoted", "plain", ""]
    frame = pd.DataFrame({"text": texts, "mixed": [-1.5, "-3", 7, None, "=1", *[""] * 5],
                          "number": [-2.5] * len(texts)})
    assert [files.neutralise_text(t) for t in texts[:8]] == [f"'{t}" for t in texts[:8]]
    safe = files.csv_safe(frame)
    assert safe["number"].tolist() == [-2.5] * len(texts)  # numbers stay numbers
    assert safe["mixed"].tolist()[:5] == [-1.5, "'-3", 7, None, "'=1"]
    back = files.restored(safe)
    assert back["text"].tolist() == texts
    assert frame["text"].tolist() == texts  # the caller's frame is left alone


def test_every_csv_of_a_result_folder_is_inert_and_reads_back(solved):
    for path in solved["a"].rglob("*.csv"):
        for row in rows(path)[1:]:
            for cell in row:
                assert not cell.startswith(("=", "+", "@", "\t", "\r")), (path.name, cell)
                if cell.startswith("-"):
                    float(cell)  # only numbers may start with a minus
    tenants = {r[1] for r in rows(solved["a"] / "leases.csv")[1:]}
    assert tenants == {f"'{HYPERLINK}", f"'{DDE}"}
    assert ["'-2", f"'{DDE}", "'@SUM(A1)"] == rows(solved["a"] / "inputs" / "campuses.csv")[2][:3]
    loaded = results_folder.load_results(solved["a"])
    assert set(loaded.leases["tenant"]) == {HYPERLINK, DDE}
    assert set(loaded.campus_month["campus_id"]) == {"C1", "-2"}
    assert loaded.assumptions["offers"]["campuses"].tolist() == ["-2", "C1"]


def test_batch_style_tables_go_through_the_same_writer(tmp_path):
    table = pd.DataFrame({"scenario": ["-x", "ok"], "status": ["invalid", "optimal"],
                          "npv_usd": [-12.5, 3.0], "error": ["=1+1 is bad", ""]})
    files.write_csv(table, tmp_path / "batch.csv")
    assert rows(tmp_path / "batch.csv")[1:] == [["'-x", "invalid", "-12.5", "'=1+1 is bad"],
                                                ["ok", "optimal", "3", ""]]


def test_plan_workbook_holds_formula_like_names_as_text(solved, tmp_path):
    rebuilt = tmp_path / "rebuilt.xlsx"
    assert run_cli("report", solved["a"], "-o", rebuilt)[0] == 0  # read back from the CSVs
    for path in (solved["a"] / "plan.xlsx", rebuilt):
        wb = openpyxl.load_workbook(path)
        cells = [c for ws in wb.worksheets for row in ws.iter_rows() for c in row
                 if c.value in (HYPERLINK, DDE)]
        assert {c.value for c in cells} == {HYPERLINK, DDE}
        assert all(c.data_type == "s" for c in cells)  # a string cell, not a formula
        leases = wb["Leases"]
        assert any(c.value == HYPERLINK and c.data_type == "s"
                   for row in leases.iter_rows() for c in row)


# -- 15. write failures: checked before solving, reported without harm ------------------


def test_an_unwritable_output_folder_is_refused_before_solving(scenarios, tmp_path,
                                                               monkeypatch):
    real = files.tempfile.mkstemp

    def read_only(*args, **kwargs):
        if str(kwargs.get("prefix", "")).startswith(".siteopt-probe"):
            raise OSError(errno.EROFS, "Read-only file system")
        return real(*args, **kwargs)

    monkeypatch.setattr(files.tempfile, "mkstemp", read_only)
    code, _, err = run_cli("solve", scenarios["a"], "-o", tmp_path / "new" / "run")
    assert code == 1
    assert f"Cannot write {tmp_path}: Read-only file system" in err
    assert "Solving" not in err  # refused before the solve, not after it
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0,
                    reason="root ignores permissions (the monkeypatched tests cover it)")
def test_a_read_only_folder_is_refused_before_solving(scenarios, tmp_path):
    tmp_path.chmod(0o555)
    try:
        code, _, err = run_cli("solve", scenarios["a"], "-o", tmp_path / "run")
    finally:
        tmp_path.chmod(0o755)
    assert code == 1 and "Permission denied" in err and "Solving" not in err


def test_a_name_too_long_is_refused_before_solving(scenarios, tmp_path):
    code, _, err = run_cli("solve", scenarios["a"], "-o", tmp_path / ("r" * 300))
    assert code == 1
    assert "name too long (300 bytes" in err and "Solving" not in err


def test_a_long_name_that_fits_gets_hidden_names_that_fit_too(solved, tmp_path):
    outdir = tmp_path / ("r" * 250)  # staging ".rrr….XXXXXXXX.tmp" would not fit in 255
    results = results_folder.load_results(solved["a"])
    results_folder.write_results(results, outdir, workbook=False)
    results_folder.write_results(results, outdir, workbook=False)  # and replaced
    assert [p.name for p in tmp_path.iterdir()] == [outdir.name]


def test_disk_full_while_writing_keeps_the_previous_run_and_says_where(
        scenarios, previous, monkeypatch):
    before = snapshot(previous)
    real = pd.DataFrame.to_csv

    def full(self, path=None, *args, **kwargs):
        if path is not None and ".leases.csv." in str(path):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(self, path, *args, **kwargs)

    monkeypatch.setattr(pd.DataFrame, "to_csv", full)
    code, _, err = run_cli("solve", scenarios["b"], "-o", previous)
    assert code == 1
    assert f"Cannot write {previous / 'leases.csv'}: No space left on device" in err
    assert f"the previous results in {previous} are unchanged" in err
    assert snapshot(previous) == before
    assert [p.name for p in previous.parent.iterdir()] == ["run"]  # staging removed


def test_a_failed_rename_into_place_is_reported(scenarios, previous, monkeypatch):
    before = snapshot(previous)
    real = os.replace

    def too_long(src, dst):
        if str(dst).endswith("company_month.csv"):
            raise OSError(errno.ENAMETOOLONG, "File name too long")
        return real(src, dst)

    monkeypatch.setattr(os, "replace", too_long)
    code, _, err = run_cli("solve", scenarios["b"], "-o", previous)
    assert code == 1 and "company_month.csv: File name too long" in err
    assert snapshot(previous) == before
    assert [p.name for p in previous.parent.iterdir()] == ["run"]


def test_a_swap_that_fails_halfway_puts_the_previous_run_back(solved, previous, monkeypatch):
    before = snapshot(previous)
    real = os.replace

    def failing(src, dst):
        if Path(dst) == previous and Path(src).name.endswith(".tmp"):
            raise OSError(errno.EIO, "Input/output error")
        return real(src, dst)

    monkeypatch.setattr(os, "replace", failing)
    with pytest.raises(files.WriteError, match="Input/output error"):
        results_folder.write_results(results_folder.load_results(solved["b"]), previous)
    assert snapshot(previous) == before
    assert [p.name for p in previous.parent.iterdir()] == ["run"]


# -- 16. swaps that survive kills, rivals and SIGTERM ------------------------------------

KILLED_IN_THE_SWAP = """
import os, signal, sys
from pathlib import Path
from siteopt.export import results_folder

real = os.replace

def replace(src, dst):
    real(src, dst)
    if ".old-" in Path(dst).name:  # OUTDIR moved aside, the new run not yet in place
        os.kill(os.getpid(), signal.SIGKILL)

os.replace = replace
new = results_folder.load_results(Path(sys.argv[1]))
results_folder.write_results(new, Path(sys.argv[2]), workbook=False)
"""


def test_a_run_killed_between_the_renames_is_completed_by_the_next_reader(solved, previous):
    child = subprocess.run([sys.executable, "-c", KILLED_IN_THE_SWAP, str(solved["b"]),
                            str(previous)], capture_output=True, text=True, timeout=120)
    assert child.returncode == -signal.SIGKILL, child.stderr
    assert not previous.exists()  # what the kill left
    kinds = {p.name.split(".")[-1][:3] for p in previous.parent.iterdir()}
    assert kinds == {"tmp", "old", "loc"}  # staging, the previous run and the dead lock
    code, _, err = run_cli("report", previous, "-o", previous.parent / "board.xlsx")
    assert code == 0, err
    assert "finished the interrupted swap" in err
    summary = json.loads((previous / "summary.json").read_text())
    assert summary["npv_usd"] == json.loads((solved["b"] / "summary.json").read_text())["npv_usd"]
    assert sorted(p.name for p in previous.parent.iterdir()) == ["board.xlsx", "run"]


def test_an_interrupted_swap_without_a_complete_staging_restores_the_previous_run(previous):
    before = snapshot(previous)
    pid = dead_pid()
    os.replace(previous, leftovers.old_path(previous, pid))
    partial = previous.parent / f".run.{pid}.abcd1234.tmp"
    partial.mkdir()
    (partial / "campus_month.csv").write_text("campus_id\n")  # no summary.json: incomplete
    loaded = results_folder.load_results(previous)
    assert loaded.summary["status"] == "optimal"
    assert snapshot(previous) == before
    assert [p.name for p in previous.parent.iterdir()] == ["run"]


def test_leftovers_of_dead_runs_are_cleaned_and_live_ones_kept(scenarios, previous):
    dead, live = dead_pid(), subprocess.Popen([sys.executable, "-c",
                                               "import time; time.sleep(120)"])
    try:
        stale_stage = previous.parent / f".run.{dead}.abcd1234.tmp"
        stale_old = leftovers.old_path(previous, dead)
        busy_stage = previous.parent / f".run.{live.pid}.efgh5678.tmp"
        for folder in (stale_stage, stale_old, busy_stage):
            folder.mkdir()
            (folder / "summary.json").write_text("{}")
        stale_temp = previous / f".plan.xlsx.{dead}.ijkl9012.tmp"  # a killed `report`
        stale_temp.write_bytes(b"half a workbook")
        code, _, err = run_cli("solve", scenarios["b"], "-o", previous, "--no-workbook")
        assert code == 0, err
        assert sorted(p.name for p in previous.parent.iterdir()) == sorted(
            ["run", busy_stage.name])
        assert not stale_temp.exists()
    finally:
        live.kill()
        live.wait()


def test_a_second_writer_gives_up_naming_the_first(scenarios, previous, monkeypatch):
    before = snapshot(previous)
    monkeypatch.setattr(swap, "LOCK_WAIT_SECONDS", 0)
    with swap.folder_lock(previous):
        assert leftovers.lock_path(previous).read_text().strip() == str(os.getpid())
        code, _, err = run_cli("solve", scenarios["b"], "-o", previous)
    assert code == 1
    assert f"nother siteopt run is writing {previous} (pid {os.getpid()})" in err
    assert snapshot(previous) == before
    assert [p.name for p in previous.parent.iterdir()] == ["run"]  # lock file removed


def test_two_writers_whose_swaps_would_interleave_take_turns(solved, previous, monkeypatch):
    """Writer A stops between its two renames (OUTDIR moved aside) until writer B has either
    finished (unserialised: A's second rename then met B's folder, ENOTEMPTY) or is waiting
    for the lock."""
    new = results_folder.load_results(solved["b"])
    a_paused, b_progressed = threading.Event(), threading.Event()
    errors: list[BaseException] = []
    real_replace, real_sleep = os.replace, time.sleep

    def replace(src, dst):
        real_replace(src, dst)
        if threading.current_thread().name == "A" and ".old-" in Path(dst).name:
            a_paused.set()
            b_progressed.wait(timeout=120)

    def waiting(seconds):
        if threading.current_thread().name == "B":
            b_progressed.set()
        real_sleep(seconds)

    def write(name):
        try:
            results_folder.write_results(new, previous, workbook=False)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            if name == "B":
                b_progressed.set()

    monkeypatch.setattr(os, "replace", replace)
    monkeypatch.setattr(time, "sleep", waiting)
    a = threading.Thread(target=write, args=("A",), name="A")
    b = threading.Thread(target=write, args=("B",), name="B")
    a.start()
    assert a_paused.wait(timeout=120)
    b.start()
    a.join()
    b.join()
    assert errors == []
    assert [p.name for p in previous.parent.iterdir()] == ["run"]
    assert results_folder.load_results(previous).summary["npv_usd"] == new.summary["npv_usd"]


def test_sigterm_while_writing_keeps_the_previous_run(scenarios, previous, monkeypatch):
    before = snapshot(previous)

    def not_siteopts(*_):
        raise AssertionError("SIGTERM reached the test's handler, not siteopt's")

    previous_handler = signal.signal(signal.SIGTERM, not_siteopts)
    real = results_folder.write_plan_workbook

    def terminated_halfway(results, target):
        os.kill(os.getpid(), signal.SIGTERM)
        real(results, target)

    monkeypatch.setattr(results_folder, "write_plan_workbook", terminated_halfway)
    try:
        code, _, err = run_cli("solve", scenarios["b"], "-o", previous)
    finally:
        assert signal.getsignal(signal.SIGTERM) is not_siteopts  # restored after the command
        signal.signal(signal.SIGTERM, previous_handler)
    assert code == 130
    assert "Interrupted (SIGTERM); previous results are unchanged." in err
    assert snapshot(previous) == before
    assert [p.name for p in previous.parent.iterdir()] == ["run"]


def test_sigterm_during_a_solve_exits_130_and_removes_nothing(previous):
    before = snapshot(previous)
    process = subprocess.Popen(
        [str(SITEOPT), "solve", str(ROOT / "scenarios" / "funded.yaml"), "-o", str(previous)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        preexec_fn=lambda: signal.signal(signal.SIGTERM, signal.SIG_DFL))
    try:
        for line in process.stderr:  # funded then needs minutes in HiGHS
            if line.startswith("Solving"):
                break
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=120)
    finally:
        process.kill()
    assert process.returncode == 130, err
    assert "Interrupted (SIGTERM)" in err and "Traceback" not in err
    assert snapshot(previous) == before
    assert [p.name for p in previous.parent.iterdir()] == ["run"]


# -- 17. nothing is deleted or overwritten that siteopt did not write ---------------------


def test_a_result_nested_in_the_output_folder_is_never_deleted(scenarios, solved, previous):
    shutil.copytree(solved["b"], previous / "r2")
    (previous / "notes.txt").write_text("mine")
    before = snapshot(previous)
    code, _, err = run_cli("solve", scenarios["b"], "-o", previous)
    assert code == 1
    assert "holds notes.txt, r2/, which siteopt did not write" in err
    assert "Solving" not in err
    assert snapshot(previous) == before


def test_an_output_folder_inside_a_result_folder_is_refused(scenarios, previous):
    code, _, err = run_cli("solve", scenarios["b"], "-o", previous / "inputs" / "r2")
    assert code == 1 and f"is inside the result folder {previous.resolve()}" in err
    assert not (previous / "inputs" / "r2").exists()


def test_a_symlink_inside_a_result_folder_blocks_replacing_it(scenarios, previous, tmp_path):
    (tmp_path / "elsewhere").mkdir()
    (previous / "data").symlink_to(tmp_path / "elsewhere")
    code, _, err = run_cli("solve", scenarios["b"], "-o", previous)
    assert code == 1 and "holds data, which siteopt did not write" in err


def test_an_unreadable_summary_blocks_replacing_the_folder(scenarios, previous):
    (previous / "summary.json").write_text('{"status": "optim')
    code, _, err = run_cli("solve", scenarios["b"], "-o", previous)
    assert code == 1 and "summary.json cannot be read" in err
    assert (previous / "campus_month.csv").exists()


def test_the_plan_workbook_report_rebuilt_may_be_replaced(scenarios, solved, tmp_path):
    outdir = tmp_path / "run"
    assert run_cli("solve", scenarios["a"], "-o", outdir, "--no-workbook")[0] == 0
    assert run_cli("report", outdir)[0] == 0  # OUTDIR/plan.xlsx, not listed in summary.json
    code, _, err = run_cli("solve", scenarios["b"], "-o", outdir)
    assert code == 0, err


def test_a_folder_of_an_earlier_version_may_be_replaced(scenarios, previous):
    summary = json.loads((previous / "summary.json").read_text())
    summary["files"] = [f for f in summary["files"] if not f.startswith("inputs/")]
    for key in ("table_rows", "result_format"):
        del summary[key]
    (previous / "summary.json").write_text(json.dumps(summary))
    assert results_folder.load_results(previous).summary["scenario"] == "case"
    code, _, err = run_cli("solve", scenarios["b"], "-o", previous)
    assert code == 0, err


@pytest.mark.parametrize("command, target, message", [
    ("report", "A/summary.json", "must be an .xlsx file"),
    ("compare", "A/campus_month.csv", "must be an .xlsx file"),
    ("compare", "A/plan.xlsx", "is a result file of"),
    ("report", "B/plan.xlsx", "is a result file of"),
    ("report", "A/inputs/board.xlsx", "is inside the result folder"),
    ("report", "notes.txt", "must be an .xlsx file"),
    ("compare", "theirs.xlsx", "exists and is not a workbook siteopt wrote"),
    ("report", "fake.xlsx", "exists and is not a workbook siteopt wrote"),
])
def test_report_and_compare_never_overwrite_what_they_did_not_write(solved, tmp_path, command,
                                                                    target, message):
    a, b = tmp_path / "A", tmp_path / "B"
    shutil.copytree(solved["a"], a)
    shutil.copytree(solved["b"], b)
    theirs = openpyxl.Workbook()
    theirs.properties.creator = "Finance team"
    theirs.save(tmp_path / "theirs.xlsx")
    (tmp_path / "fake.xlsx").write_bytes(b"not a workbook")
    before = snapshot(tmp_path)
    args = [a] if command == "report" else [a, b]
    code, _, err = run_cli(command, *args, "-o", tmp_path / target)
    assert code == 1 and message in err
    assert snapshot(tmp_path) == before


def test_workbooks_siteopt_wrote_may_be_overwritten(solved, tmp_path):
    target = tmp_path / "board.xlsx"
    assert run_cli("compare", solved["a"], solved["b"], "-o", target)[0] == 0
    assert openpyxl.load_workbook(target).properties.creator == "siteopt"
    code, _, err = run_cli("report", solved["a"], "-o", target)  # a comparison → a plan
    assert code == 0, err
    shutil.copy(solved["a"] / "plan.xlsx", tmp_path / "copy.xlsx")
    assert run_cli("compare", solved["a"], solved["b"], "-o", tmp_path / "copy.xlsx")[0] == 0


# -- 18. damaged result folders: located errors, exit 1 ----------------------------------


def _edit_json(change):
    def edit(folder: Path) -> None:
        data = json.loads((folder / "summary.json").read_text())
        change(data)
        (folder / "summary.json").write_text(json.dumps(data))
    return edit


def _cut(name: str, size: int):
    """Keep the first `size` bytes (a negative size: drop that many at the end)."""
    def edit(folder: Path) -> None:
        data = (folder / name).read_bytes()
        assert len(data) > abs(size)
        (folder / name).write_bytes(data[:size])
    return edit


def _lines(name: str, keep: int):
    def edit(folder: Path) -> None:
        lines = (folder / name).read_text().splitlines(keepends=True)
        (folder / name).write_text("".join(lines[:keep]))
    return edit


def _columns(name: str, drop: str):
    def edit(folder: Path) -> None:
        frame = pd.read_csv(folder / name, dtype=str, keep_default_na=False)
        frame.drop(columns=[drop]).to_csv(folder / name, index=False)
    return edit


def _replace(name: str, old: str, new: str):
    def edit(folder: Path) -> None:
        text = (folder / name).read_text()
        assert old in text
        (folder / name).write_text(text.replace(old, new, 1))
    return edit


DAMAGE = {
    "empty summary": (lambda f: (f / "summary.json").write_text(""),
                      "summary.json: empty file"),
    "truncated summary": (_cut("summary.json", 200), "not valid JSON"),
    "summary not an object": (lambda f: (f / "summary.json").write_text("[1, 2]\n"),
                              "summary.json: expected a JSON object (found a list)"),
    "no status": (_edit_json(lambda d: d.pop("status")),
                  "summary.json, status: expected one of optimal, feasible"),
    "unknown status": (_edit_json(lambda d: d.update(status="solved")),
                       "(found 'solved')"),
    "kpis a list": (_edit_json(lambda d: d.update(kpis=[1])),
                    "summary.json, kpis: expected an object (found a list)"),
    "npv text": (_edit_json(lambda d: d.update(npv_usd="lots")),
                 "summary.json, npv_usd: expected a number (found text)"),
    "npv missing": (_edit_json(lambda d: d.pop("npv_usd")),
                    "summary.json, npv_usd: a run with status optimal has an NPV (found null)"),
    "future format": (_edit_json(lambda d: d.update(result_format=9)),
                      "result_format: written by siteopt 0.1.0 in result format 9"),
    "empty csv": (lambda f: (f / "campus_month.csv").write_text(""),
                  "campus_month.csv: empty file"),
    "truncated csv": (_cut("campus_month.csv", -7), "incomplete last row"),
    "truncated kpis": (_cut("kpis.csv", 100), "kpis.csv row 4: incomplete last row"),
    "short row": (_replace("leases.csv", ",0,10,,,,150,", ",0,10,,,,"),
                  "leases.csv row 2: 19 cells, the header has 20"),
    "csv cut at a row": (_lines("company_month.csv", 5),
                         "company_month.csv: 4 rows, but summary.json says"),
    "missing column": (_columns("leases.csv", "offer_id"), "leases.csv: missing column "
                                                            "offer_id"),
    "missing kpi column": (_columns("kpis.csv", "value"), "kpis.csv: missing column value"),
    "missing file": (lambda f: (f / "company_month.csv").unlink(),
                     "company_month.csv: missing (summary.json lists it)"),
    "text in numbers": (_replace("company_month.csv", "\n2027-02,True,200,",
                                 "\n2027-02,True,lots,"),
                        "company_month.csv row 3, mining_mw: expected a number (found 'lots')"),
    "bad month": (_replace("company_month.csv", "2027-02,", "2027-14,"),
                  "company_month.csv row 3, month: expected a month YYYY-MM"),
    "bad flag": (_replace("leases.csv", ",False,False,False,", ",maybe,False,False,"),
                 "leases.csv row 2, signed: expected true or false (found 'maybe')"),
    "extra cell": (_replace("leases.csv", ",0,10,,,,150,", ",0,10,,,,150,x,"),
                   "leases.csv row 2: 21 cells, the header has 20"),
    "truncated input": (_cut("inputs/scenario.csv", 100),
                        "inputs/scenario.csv row 7: incomplete last row"),
    "input without key column": (_columns("inputs/campuses.csv", "campus_id"),
                                 "inputs/campuses.csv: missing column campus_id"),
}


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_a_damaged_folder_gives_a_located_error(solved, tmp_path, damage):
    edit, message = DAMAGE[damage]
    folder = tmp_path / "run"
    shutil.copytree(solved["a"], folder)
    edit(folder)
    with pytest.raises(UnreadableResults):
        results_folder.load_results(folder)
    for args in (["report", folder, "-o", tmp_path / "x.xlsx"],
                 ["compare", solved["b"], folder, "-o", tmp_path / "y.xlsx"]):
        code, _, err = run_cli(*args)
        assert code == 1, err
        assert err.startswith("Unreadable result folder (1 problem):")
        assert message in err and str(folder) in err, err
    assert not (tmp_path / "x.xlsx").exists() and not (tmp_path / "y.xlsx").exists()


def test_compare_lists_the_problems_of_every_folder(solved, tmp_path):
    for name in ("one", "two"):
        shutil.copytree(solved["a"], tmp_path / name)
        (tmp_path / name / "summary.json").write_text("")
    code, _, err = run_cli("compare", tmp_path / "one", tmp_path / "two", "-o",
                           tmp_path / "c.xlsx")
    assert code == 1 and "(2 problems)" in err
    assert "one/summary.json: empty file" in err and "two/summary.json: empty file" in err


def test_a_folder_of_an_infeasible_run_reads_and_says_so(tmp_path):
    scenario = write_case(tmp_path / "s", campuses=[{"campus_id": "C1", "build_months": 12}],
                          offers=[{"offer_id": "S1", "signed": "true",
                                   "earliest_start": "2027-01", "latest_start": "2027-03"}])
    folder = tmp_path / "inf"
    assert run_cli("solve", scenario, "-o", folder)[0] == 1  # infeasible: exit 1, folder kept
    code, _, err = run_cli("report", folder)
    assert code == 0, err
    assert "holds a run without a plan (status infeasible)" in err
    assert openpyxl.load_workbook(folder / "plan.xlsx").sheetnames[:2] == ["Summary",
                                                                           "Diagnosis"]


def test_unexpected_read_errors_are_one_line(solved, tmp_path, monkeypatch):
    folder = tmp_path / "run"
    shutil.copytree(solved["a"], folder)
    real = Path.read_bytes

    def denied(self):
        if self.name == "leases.csv":
            raise PermissionError(errno.EACCES, "Permission denied", str(self))
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", denied)
    code, _, err = run_cli("report", folder, "-o", tmp_path / "x.xlsx")
    assert code == 1
    assert err.strip() == f"Unreadable result folder (1 problem):\n  {folder / 'leases.csv'}: " \
                          "cannot be read: Permission denied"
