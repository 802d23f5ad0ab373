"""The corpus of broken inputs: build runnable case folders from `cases.yaml`.

A case is the valid project in `_shared/` (scenario.yaml and a CSV portfolio) with the files in
the case's own folder laid over it, plus any files a generator below writes: binary, large or
special files (workbooks, bombs, symlinks, a FIFO) are made here, deterministically, instead of
being stored. `cases.yaml` says what each case breaks and what the user must read.

    python tests/bad_inputs/make_corpus.py OUT [CASE ...]

writes OUT/project/<case>/ for every case (or the ones named) and prints the command to try
each. OUT/project holds a `.siteopt` marker, so it is the project root that scenario paths must
stay inside; OUT/outside is a valid project outside it that the escaping cases point at.
"""

from __future__ import annotations

import io
import os
import shutil
import sys
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

import yaml

CORPUS = Path(__file__).resolve().parent
SHARED = CORPUS / "_shared"
DATE = (2026, 1, 1, 0, 0, 0)  # every zip member gets this timestamp: same bytes every time


@dataclass(frozen=True)
class Case:
    name: str
    what: str
    expect: str | list[str]  # stderr must contain this (each of these: one pass, all problems)
    scenario: str = "scenario.yaml"  # relative to the case folder
    absent: str | None = None  # stderr must not contain this (what a file must not leak)
    solve: bool = False  # also run `siteopt solve` (slower: it imports the solver)
    xfail: str | None = None  # a known bug outside the files this corpus may fix
    code: int = 1  # exit code: 1 for input errors, 2 for a scenario file that is not there

    @property
    def expected(self) -> list[str]:
        return [self.expect] if isinstance(self.expect, str) else list(self.expect)

    @property
    def folder(self) -> Path:
        return CORPUS / self.name


def load_cases() -> list[Case]:
    data = yaml.safe_load((CORPUS / "cases.yaml").read_text(encoding="utf-8"))
    return [Case(name=name, **fields) for name, fields in data.items()]


def materialize(case: Case, root: Path) -> Path:
    """Write the case to root/project/<name> (and root/outside once); return its folder."""
    project, outside = root / "project", root / "outside"
    if not outside.exists():
        shutil.copytree(SHARED, outside)
    project.mkdir(parents=True, exist_ok=True)
    (project / ".siteopt").touch()
    folder = project / case.name
    if folder.exists():
        shutil.rmtree(folder)
    shutil.copytree(SHARED, folder)
    if case.folder.is_dir():
        shutil.copytree(case.folder, folder, dirs_exist_ok=True)
    generator = GENERATORS.get(case.name)
    if generator is not None:
        generator(folder, outside)
    return folder


# ---------------------------------------------------------------------------------------------
# Text edits of the shared project
# ---------------------------------------------------------------------------------------------


def shared_text(relative: str) -> str:
    return (SHARED / relative).read_text(encoding="utf-8")


def shared_rows(table: str) -> list[list[str]]:
    return [line.split(",") for line in shared_text(f"portfolio/{table}.csv").splitlines()]


# ---------------------------------------------------------------------------------------------
# A small xlsx writer: openpyxl stamps the current time into docProps, so its files differ on
# every run; these are the same bytes every time and can be bent in ways openpyxl will not.
# ---------------------------------------------------------------------------------------------

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships'
    '+xml"/><Default Extension="xml" ContentType="application/xml"/>'
    '<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.spreadsheetml.sheet.main+xml"/>{sheets}</Types>')
_SHEET_TYPE = ('<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="application/'
               'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>')
_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>')
_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets>{sheets}</sheets></workbook>')
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '{rels}</Relationships>')
_SHEET_REL = ('<Relationship Id="rId{i}" Type="http://schemas.openxmlformats.org/'
              'officeDocument/2006/relationships/worksheet" Target="worksheets/sheet{i}.xml"/>')
SHEET_HEAD = ('<?xml version="1.0" encoding="UTF-8"?>'
              '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
              '<dimension ref="{dimension}"/><sheetData>')
SHEET_TAIL = "</sheetData></worksheet>"


def column_letter(index: int) -> str:
    """1 → A, 27 → AA."""
    letters = ""
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def cell_xml(ref: str, value: str) -> str:
    if value == "":
        return ""
    if value.startswith("#"):  # an Excel error value such as #DIV/0!
        return f'<c r="{ref}" t="e"><v>{escape(value)}</v></c>'
    try:
        float(value)
    except ValueError:
        return f'<c r="{ref}" t="inlineStr"><is><t>{escape(value)}</t></is></c>'
    return f'<c r="{ref}"><v>{value}</v></c>'


def row_xml(r: int, values: list[str]) -> str:
    cells = "".join(cell_xml(f"{column_letter(c)}{r}", v) for c, v in enumerate(values, 1))
    return f'<row r="{r}">{cells}</row>'


def sheet_xml(rows: list[list[str]]) -> str:
    width = max((len(r) for r in rows), default=1)
    dimension = f"A1:{column_letter(width)}{max(len(rows), 1)}"
    body = "".join(row_xml(r, values) for r, values in enumerate(rows, 1))
    return SHEET_HEAD.format(dimension=dimension) + body + SHEET_TAIL


def member(name: str, compress_type: int = zipfile.ZIP_DEFLATED, level: int | None = None
           ) -> zipfile.ZipInfo:
    """A zip member with a fixed timestamp (a bare name would get the current time)."""
    info = zipfile.ZipInfo(name, DATE)
    info.compress_type = compress_type
    for attr in ("compress_level", "_compresslevel"):  # Python 3.13 renamed it
        if level is not None and hasattr(info, attr):
            setattr(info, attr, level)
    return info


def write_xlsx(path: Path, sheets: dict[str, list[list[str]] | str]) -> None:
    """Sheets as rows of text cells (numbers are written as numbers) or as ready sheet XML."""
    names = list(sheets)
    parts = {
        "[Content_Types].xml": _CONTENT_TYPES.format(sheets="".join(
            _SHEET_TYPE.format(i=i) for i in range(1, len(names) + 1))),
        "_rels/.rels": _ROOT_RELS,
        "xl/workbook.xml": _WORKBOOK.format(sheets="".join(
            f'<sheet name="{escape(n)}" sheetId="{i}" r:id="rId{i}"/>'
            for i, n in enumerate(names, 1))),
        "xl/_rels/workbook.xml.rels": _WORKBOOK_RELS.format(rels="".join(
            _SHEET_REL.format(i=i) for i in range(1, len(names) + 1))),
    }
    for i, name in enumerate(names, 1):
        content = sheets[name]
        parts[f"xl/worksheets/sheet{i}.xml"] = (
            content if isinstance(content, str) else sheet_xml(content))
    with zipfile.ZipFile(path, "w") as zf:
        for name, text in parts.items():
            zf.writestr(member(name), text.encode("utf-8"))


def shared_book(path: Path, **changes: list[list[str]] | str) -> None:
    """The shared portfolio as one workbook, with some sheets replaced (or dropped: None)."""
    sheets = {name: shared_rows(name) for name in ("campuses", "offers", "offer_phases")}
    sheets.update(changes)
    write_xlsx(path, {k: v for k, v in sheets.items() if v is not None})


# ---------------------------------------------------------------------------------------------
# Generators: case name → writes its special files into the case folder
# ---------------------------------------------------------------------------------------------

Generator = Callable[[Path, Path], None]
GENERATORS: dict[str, Generator] = {}


def generates(name: str) -> Callable[[Generator], Generator]:
    def register(func: Generator) -> Generator:
        GENERATORS[name] = func
        return func
    return register


@generates("scenario_binary_png")
def _(folder: Path, outside: Path) -> None:
    (folder / "scenario.yaml").write_bytes(
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))


@generates("scenario_binary_nul")
def _(folder: Path, outside: Path) -> None:
    (folder / "scenario.yaml").write_bytes(b"\x00\x01\x02\x03" * 64)


@generates("scenario_not_utf8")
def _(folder: Path, outside: Path) -> None:
    text = shared_text("scenario.yaml").replace("name: corpus", "name: corpus\n"
                                                "description: Montréal, café crème")
    (folder / "scenario.yaml").write_bytes(text.encode("latin-1"))


@generates("scenario_too_large")
def _(folder: Path, outside: Path) -> None:
    from siteopt.inputs.scenario import MAX_SCENARIO_BYTES

    padding = "# padding\n" * (MAX_SCENARIO_BYTES // 10 + 1)
    (folder / "scenario.yaml").write_text(shared_text("scenario.yaml") + padding,
                                          encoding="utf-8")


@generates("scenario_fifo_parent")
def _(folder: Path, outside: Path) -> None:
    os.mkfifo(folder / "parent.yaml")  # reading it would block until someone writes


@generates("scenario_symlink_loop")
def _(folder: Path, outside: Path) -> None:
    (folder / "scenario.yaml").unlink()
    (folder / "scenario.yaml").symlink_to("scenario.yaml")


@generates("extends_too_deep")
def _(folder: Path, outside: Path) -> None:
    from siteopt.inputs.scenario import MAX_EXTENDS_DEPTH

    levels = MAX_EXTENDS_DEPTH + 2
    for level in range(1, levels):
        (folder / f"level{level:02d}.yaml").write_text(f"extends: level{level + 1:02d}.yaml\n",
                                                       encoding="utf-8")
    (folder / f"level{levels:02d}.yaml").write_text(shared_text("scenario.yaml"),
                                                    encoding="utf-8")


@generates("extends_symlink_escape")
def _(folder: Path, outside: Path) -> None:
    (folder / "parent.yaml").symlink_to(outside / "scenario.yaml")


@generates("portfolio_symlink_escape")
def _(folder: Path, outside: Path) -> None:
    shutil.rmtree(folder / "portfolio")
    (folder / "portfolio").symlink_to(outside / "portfolio", target_is_directory=True)


@generates("portfolio_symlink_loop")
def _(folder: Path, outside: Path) -> None:
    (folder / "loop").symlink_to("loop")


@generates("csv_not_utf8")
def _(folder: Path, outside: Path) -> None:
    text = shared_text("portfolio/campuses.csv").replace("Campus two", "Montréal")
    (folder / "portfolio" / "campuses.csv").write_bytes(text.encode("latin-1"))


@generates("csv_utf16")
def _(folder: Path, outside: Path) -> None:
    text = shared_text("portfolio/campuses.csv")
    (folder / "portfolio" / "campuses.csv").write_bytes(text.encode("utf-16"))


@generates("csv_field_too_large")
def _(folder: Path, outside: Path) -> None:
    rows = shared_rows("campuses")
    rows[2][1] = "x" * 200_000  # past the csv module's field limit (131,072)
    (folder / "portfolio" / "campuses.csv").write_text(
        "".join(",".join(r) + "\n" for r in rows), encoding="utf-8")


@generates("csv_huge")
def _(folder: Path, outside: Path) -> None:
    from siteopt.inputs.tables import MAX_ROWS

    header, first, _ = shared_text("portfolio/campuses.csv").splitlines()
    rest = first.split(",", 1)[1]
    with (folder / "portfolio" / "campuses.csv").open("w", encoding="utf-8") as f:
        f.write(header + "\n")
        f.writelines(f"C{i},{rest}\n" for i in range(MAX_ROWS + 1))


@generates("xls_workbook")
def _(folder: Path, outside: Path) -> None:
    # An Excel 97-2003 file is an OLE2 compound document: this is its signature and header.
    ole = bytes.fromhex("d0cf11e0a1b11ae1") + bytes(16) + bytes.fromhex("3e000300feff0900")
    (folder / "book.xls").write_bytes(ole + bytes(512 - len(ole)) + b"\xff" * 1536)


@generates("xlsx_missing_sheet")
def _(folder: Path, outside: Path) -> None:
    shared_book(folder / "book.xlsx", campuses=None)


@generates("xlsx_error_cell")
def _(folder: Path, outside: Path) -> None:
    rows = shared_rows("campuses")
    rows[1][3] = "#DIV/0!"  # grid_mw of C1: a formula whose cached value is an error
    shared_book(folder / "book.xlsx", campuses=rows)


@generates("xlsx_uncached_formula")
def _(folder: Path, outside: Path) -> None:
    # grid_mw of C1 is a formula openpyxl wrote and Excel never calculated: no <v> saved
    sheet = sheet_xml(shared_rows("campuses")).replace(
        '<c r="D2"><v>100</v></c>', '<c r="D2"><f>F2*1</f></c>')
    assert "<f>F2*1</f>" in sheet
    shared_book(folder / "book.xlsx", campuses=sheet)


@generates("xlsx_merged_cells")
def _(folder: Path, outside: Path) -> None:
    # grid_mw merged over both campuses, as Excel saves it: the value in D2 only
    sheet = sheet_xml(shared_rows("campuses")).replace('<c r="D3"><v>80</v></c>', "").replace(
        SHEET_TAIL, '</sheetData><mergeCells count="1"><mergeCell ref="D2:D3"/></mergeCells>'
                    '</worksheet>')
    assert "mergeCell " in sheet and 'r="D3"' not in sheet
    shared_book(folder / "book.xlsx", campuses=sheet)


SECRET = "SECRET-do-not-show"


@generates("campuses_symlink_outside")
def _(folder: Path, outside: Path) -> None:
    (outside / "secret.csv").write_text(f"{SECRET}:x:0:0\n{SECRET}\n", encoding="utf-8")
    (folder / "portfolio" / "campuses.csv").unlink()
    (folder / "portfolio" / "campuses.csv").symlink_to(outside / "secret.csv")


@generates("hostile_cell_excerpt")
def _(folder: Path, outside: Path) -> None:
    # a terminal escape and 5,000 characters in a number cell: quoted short and escaped
    rows = shared_rows("campuses")
    rows[1][3] = "\x1b[31m" + "9" * 5_000
    (folder / "portfolio" / "campuses.csv").write_text(
        "".join(",".join(r) + "\n" for r in rows), encoding="utf-8")


_BOMB_DTD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE worksheet [\n<!ENTITY a "aaaaaaaaaa">\n'
    + "".join(f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">\n' for i in range(9))
    + "]>\n")


@generates("xlsx_xml_bomb")
def _(folder: Path, outside: Path) -> None:
    # billion laughs: &j; expands to 10^10 characters. defusedxml refuses any entity.
    sheet = sheet_xml(shared_rows("campuses")).replace(
        '<?xml version="1.0" encoding="UTF-8"?>', _BOMB_DTD).replace(
        "<t>Campus one</t>", "<t>&j;</t>")
    shared_book(folder / "book.xlsx", campuses=sheet)


@generates("xlsx_zip_bomb")
def _(folder: Path, outside: Path) -> None:
    # A sheet that unzips past MAX_XLSX_UNZIPPED_BYTES; about 200 KB on disk.
    from siteopt.inputs.tables import MAX_XLSX_UNZIPPED_BYTES

    path = folder / "book.xlsx"
    shared_book(path)
    chunk = b" " * (1 << 20)
    with zipfile.ZipFile(path, "a") as zf, \
            zf.open(member("xl/worksheets/padding.xml", level=9), "w") as part:
        part.write(b"<?xml version='1.0'?><padding>")
        for _ in range(MAX_XLSX_UNZIPPED_BYTES // len(chunk) + 2):
            part.write(chunk)
        part.write(b"</padding>")


@generates("xlsx_huge_sheet")
def _(folder: Path, outside: Path) -> None:
    from siteopt.inputs.tables import MAX_ROWS

    rows = shared_rows("campuses")
    body = io.StringIO()
    body.write(SHEET_HEAD.format(dimension=f"A1:A{MAX_ROWS + 2}") + row_xml(1, rows[0]))
    for r in range(2, MAX_ROWS + 3):
        body.write(f'<row r="{r}"><c r="A{r}" t="inlineStr"><is><t>C{r}</t></is></c></row>')
    body.write(SHEET_TAIL)
    shared_book(folder / "book.xlsx", campuses=body.getvalue())


@generates("xlsx_sparse_bomb")
def _(folder: Path, outside: Path) -> None:
    # Declares A1:XFD1048576 and uses its last cell: 17 billion cells if padded, 600 bytes.
    sheet = sheet_xml(shared_rows("campuses"))
    sheet = sheet.replace(sheet[sheet.index("<dimension"):sheet.index("<sheetData>")],
                          '<dimension ref="A1:XFD1048576"/>')
    sheet = sheet.replace(SHEET_TAIL, '<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>'
                          + SHEET_TAIL)
    shared_book(folder / "book.xlsx", campuses=sheet)


@generates("xlsx_wide_rows")
def _(folder: Path, outside: Path) -> None:
    # Every row has one cell in the last column (XFD): 16,384 cells a row for 40 bytes.
    sheet = sheet_xml(shared_rows("campuses")).replace(SHEET_TAIL, "".join(
        f'<row r="{r}"><c r="XFD{r}"><v>1</v></c></row>' for r in range(10, 2010)) + SHEET_TAIL)
    shared_book(folder / "book.xlsx", campuses=sheet)


@generates("xlsx_damaged_xml")
def _(folder: Path, outside: Path) -> None:
    sheet = sheet_xml(shared_rows("campuses")).replace(
        SHEET_TAIL, '<row r="9"><c r="A9"><v>1</v></row>' + SHEET_TAIL)  # </c> is missing
    shared_book(folder / "book.xlsx", campuses=sheet)


@generates("xlsx_crc_mismatch")
def _(folder: Path, outside: Path) -> None:
    # Stored (not deflated) members, then one byte of a sheet changed: the CRC no longer fits.
    path = folder / "book.xlsx"
    shared_book(path)
    with zipfile.ZipFile(path) as zf:
        parts = {i.filename: zf.read(i) for i in zf.infolist()}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        for name, data in parts.items():
            zf.writestr(member(name, zipfile.ZIP_STORED), data)
    data = bytearray(path.read_bytes())
    at = data.index(b"Campus one")
    data[at] = ord("K")
    path.write_bytes(bytes(data))


@generates("xlsx_truncated")
def _(folder: Path, outside: Path) -> None:
    path = folder / "book.xlsx"
    shared_book(path)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


@generates("xlsx_too_many_parts")
def _(folder: Path, outside: Path) -> None:
    from siteopt.inputs.tables import MAX_XLSX_ENTRIES

    shared_book(folder / "book.xlsx")
    with zipfile.ZipFile(folder / "book.xlsx", "a") as zf:
        for i in range(MAX_XLSX_ENTRIES):
            zf.writestr(member(f"xl/media/empty{i}.bin"), b"")


@generates("xlsm_macro")
def _(folder: Path, outside: Path) -> None:
    path = folder / "book.xlsm"
    shared_book(path)
    with zipfile.ZipFile(path, "a") as zf:
        zf.writestr(member("xl/vbaProject.bin"),
                    bytes.fromhex("d0cf11e0a1b11ae1") + b"Attribute VB_Name = \"Module1\"")


@generates("xlsm_missing_sheet")
def _(folder: Path, outside: Path) -> None:
    shared_book(folder / "book.xlsm", campuses=None)


# ---------------------------------------------------------------------------------------------


def main(argv: list[str]) -> int:
    if not argv or argv[0] in {"-h", "--help"}:
        print(__doc__)
        return 2
    root = Path(argv[0]).resolve()
    wanted = set(argv[1:])
    for case in load_cases():
        if wanted and case.name not in wanted:
            continue
        folder = materialize(case, root)
        print(f"siteopt validate {folder / case.scenario}    # {case.what}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
