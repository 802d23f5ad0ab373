"""Build step: put the example portfolio and scenarios inside the package.

The repository keeps one copy of them, at the top level (`data/`, `scenarios/`), where the
README, the tests and `make demo` read them. A wheel has no top level, so `build_py` copies
both folders into `siteopt/examples/` of the build, keeping their layout (a scenario's
`portfolio: ../data/portfolio` still resolves). An editable install reads them from the
checkout instead (siteopt.inputs.template.example_root), so nothing is copied into the source tree.
Everything else about the package is in pyproject.toml.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
EXAMPLE_FOLDERS = ("data", "scenarios")  # keep in step with siteopt.inputs.template.EXAMPLE_FOLDERS
PACKAGED = Path("siteopt") / "examples"


class BuildPyWithExamples(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        target = Path(self.build_lib) / PACKAGED
        for folder in EXAMPLE_FOLDERS:
            source = HERE / folder
            if not source.is_dir():
                raise SystemExit(f"{source}: missing; the wheel must ship the examples")
            shutil.rmtree(target / folder, ignore_errors=True)
            shutil.copytree(source, target / folder,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".*"))


setup(cmdclass={"build_py": BuildPyWithExamples})
