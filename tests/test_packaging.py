"""An installed wheel starts a project with no source checkout: it carries the example
portfolio and scenarios (copied from the top-level data/ and scenarios/ at build time), and
`siteopt init` + `siteopt validate` work from it alone.

The wheel is built the way `python -m build` does it — an sdist first, then the wheel from
the unpacked sdist — offline, with the setuptools of this environment (a test extra). The
test is skipped only when this environment cannot build at all, never in CI.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from siteopt.inputs.template import EXAMPLE_FOLDERS, example_root

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("pyproject.toml", "setup.py", "MANIFEST.in", "README.md", "siteopt", *EXAMPLE_FOLDERS)
OFFLINE = {**os.environ, "PIP_NO_INDEX": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}


def _setuptools_can_build() -> str | None:
    """Why this environment cannot build the wheel, or None when it can."""
    try:
        import setuptools
    except ImportError:
        return "setuptools is not installed (pip install -e '.[test]')"
    major = int(setuptools.__version__.split(".")[0])
    return None if major >= 77 else f"setuptools {setuptools.__version__} < 77"


def _run(*args: object, cwd: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run([str(a) for a in args], cwd=cwd, env=env or OFFLINE,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"{args}\n{done.stdout}\n{done.stderr}"
    return done.stdout


def _example_files() -> list[str]:
    return sorted(p.relative_to(ROOT).as_posix() for folder in EXAMPLE_FOLDERS
                  for p in (ROOT / folder).rglob("*") if p.is_file())


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    reason = _setuptools_can_build()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"CI must build the wheel: {reason}")
        pytest.skip(reason)
    work = tmp_path_factory.mktemp("build")
    source = work / "checkout"  # a copy: the build leaves build/ and *.egg-info behind
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns(
                "__pycache__", "*.pyc", "examples"))
        else:
            source.mkdir(exist_ok=True)
            shutil.copy2(ROOT / name, source / name)
    _run(sys.executable, "-c", "from setuptools import build_meta as b; "
                               f"b.build_sdist({str(work / 'sdist')!r})", cwd=source)
    (sdist,) = (work / "sdist").glob("siteopt-*.tar.gz")
    with tarfile.open(sdist) as archive:
        archive.extractall(work / "unpacked", filter="data")
    (unpacked,) = (work / "unpacked").iterdir()
    _run(sys.executable, "-m", "pip", "wheel", unpacked, "--no-deps", "--no-build-isolation",
         "-q", "-w", work / "dist", cwd=work)
    (built,) = (work / "dist").glob("siteopt-*.whl")
    return built


def test_wheel_ships_every_example_file_unchanged(wheel):
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        for relative in _example_files():
            packaged = f"siteopt/examples/{relative}"
            assert packaged in names, f"{packaged} missing from {wheel.name}"
            assert archive.read(packaged) == (ROOT / relative).read_bytes(), packaged
    assert "siteopt/examples/data/portfolio/campuses.csv" in names
    assert "siteopt/examples/scenarios/base.yaml" in names


def test_init_and_validate_from_the_installed_wheel_alone(wheel, tmp_path):
    """A pure wheel installs by unpacking; put it first on the path, run from a folder with
    no checkout above it, and check siteopt really came from the wheel."""
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(site)
    project = tmp_path / "elsewhere"
    project.mkdir()
    env = {**OFFLINE, "PYTHONPATH": str(site)}
    where = _run(sys.executable, "-c", "import siteopt; print(siteopt.__file__)", cwd=project,
                 env=env)
    assert Path(where.strip()).is_relative_to(site), where
    _run(sys.executable, "-m", "siteopt", "init", "my-plan", cwd=project, env=env)
    for relative in ("scenario.yaml", "portfolio/campuses.csv", "portfolio/offers.csv"):
        assert (project / "my-plan" / relative).is_file(), relative
    assert (project / "my-plan/portfolio/campuses.csv").read_bytes() == \
        (ROOT / "data/portfolio/campuses.csv").read_bytes()
    out = _run(sys.executable, "-m", "siteopt", "validate", "my-plan/scenario.yaml",
               cwd=project, env=env)
    assert "valid" in out and "8 campuses" in out, out
    _run(sys.executable, "-m", "siteopt", "init", "my-xl", "--excel", cwd=project, env=env)
    _run(sys.executable, "-m", "siteopt", "validate", "my-xl/scenario.yaml", cwd=project,
         env=env)


def test_examples_are_found_in_the_package_first_then_in_the_checkout(tmp_path):
    """The wheel's copy wins (an installed package's parent is site-packages, not a project);
    an editable install, with no copy, reads the checkout."""
    packaged, checkout, empty = tmp_path / "pkg", tmp_path / "checkout", tmp_path / "empty"
    for root in (packaged, checkout):
        (root / "data" / "portfolio").mkdir(parents=True)
        (root / "data" / "portfolio" / "campuses.csv").write_text("campus_id\n")
        (root / "scenarios").mkdir()
        (root / "scenarios" / "base.yaml").write_text("name: base\n")
    empty.mkdir()
    assert example_root((packaged, checkout)) == packaged
    assert example_root((empty, checkout)) == checkout
    assert example_root((empty, tmp_path)) == empty  # nothing found: init says where it looked
    assert example_root() == ROOT  # this test runs from the checkout (editable install)
