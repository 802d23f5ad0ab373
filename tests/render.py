"""LibreOffice renders what siteopt writes (plan.xlsx, the board deck) to PDF, as a user
printing it would see it: one helper for every render test."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
needs_libreoffice = pytest.mark.skipif(SOFFICE is None,
                                       reason="LibreOffice (soffice) is not installed")


# LibreOffice's PDF export filter by the kind of document (for a page range)
_PDF_EXPORT = {".xlsx": "calc_pdf_Export", ".pptx": "impress_pdf_Export"}


def render_pdf(document: Path, outdir: Path, pages: str | None = None) -> Path:
    """`document` copied into outdir and converted to outdir/<stem>.pdf by LibreOffice,
    headless; `pages` ("1-3") renders only those pages (LibreOffice 7.4 and later read the
    range; an older one renders every page).

    The copy: LibreOffice may leave a lock file beside what it opens, and the original may
    be a result folder other tests read. A profile of its own under outdir: a LibreOffice
    already running (another test's, or another xdist worker's) would otherwise take the
    job and this call return at once, before the PDF is written."""
    document = Path(shutil.copy(document, outdir))
    profile = f"-env:UserInstallation={(outdir / 'libreoffice-profile').as_uri()}"
    target = "pdf" if pages is None else (
        f'pdf:{_PDF_EXPORT[document.suffix]}:{{"PageRange":{{"type":"string","value":"{pages}"}}}}')
    done = subprocess.run([SOFFICE, profile, "--headless", "--convert-to", target,
                           "--outdir", str(outdir), str(document)], capture_output=True,
                          timeout=180)
    assert done.returncode == 0, done.stderr
    return outdir / f"{document.stem}.pdf"


def pdf_pages(pdf: Path) -> int:
    """Pages in a PDF (its /Type /Page objects, not the /Pages tree nodes)."""
    return len(re.findall(rb"/Type\s*/Page(?!s)", pdf.read_bytes()))
