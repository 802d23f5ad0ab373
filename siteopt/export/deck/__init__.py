"""`siteopt deck`: a board deck (PowerPoint, 16:9, native editable charts) from result
folders — read back from their files only (summary.json and the CSV tables), so a folder
written earlier works the same.

- one plan: slides 1–9 (`plan_slides`);
- several plans: the first plan's slides, with slide 8 replaced by the comparison (KPI table,
  the decisions that differ, NPV by scenario);
- a sweep folder (batch.csv and its variants): slide 8 is the tornado of NPV per input;
- a stochastic plan: slide 8 is NPV by future and the fan of cumulative cash;
- a run without a plan (infeasible): one slide with the diagnosis.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from siteopt.export.deck import frames, multi_slides, plan_slides
from siteopt.export.deck.look import new_presentation
from siteopt.export.narrative import narrative
from siteopt.export.plan_frames import has_plan
from siteopt.export.result_checks import UnreadableResults
from siteopt.export.results_folder import load_results
from siteopt.inputs.errors import Problem
from siteopt.results.extract import Results


@dataclass
class Source:
    """One folder given to the deck: a plan's result folder, or a sweep's folder."""

    folder: Path
    results: Results  # the plan (a sweep: its base run)
    sweep: object | None = None  # multi_slides.Sweep when the folder is a sweep


def read_sources(folders: list[Path]) -> list[Source]:
    """Every folder read; the problems of all of them raised together, each located."""
    sources, problems = [], []
    for folder in folders:
        try:
            sources += _read(Path(folder))
        except UnreadableResults as exc:
            problems += exc.problems
    if problems:
        raise UnreadableResults(problems)
    return sources


def _read(folder: Path) -> list[Source]:
    """A result folder; a sweep folder (its base run and variants); a batch folder (each of
    its solved runs, compared)."""
    if not folder.exists():
        raise UnreadableResults([Problem(str(folder), "not found")])
    if (folder / "summary.json").is_file():
        return [Source(folder, load_results(folder))]
    sweep = multi_slides.read_sweep(folder)
    if sweep is None:
        raise UnreadableResults([Problem(str(folder), "not a result folder (no summary.json) "
                                                      "nor a sweep or batch folder (no "
                                                      "batch.csv)")])
    if not multi_slides.is_sweep(sweep):
        return [Source(run, results) for run, results in sweep.runs]
    return [Source(folder, sweep.base, sweep)]


def build_deck(sources: list[Source], template: Path | None = None):
    """The presentation (python-pptx) for the sources, in the order given."""
    prs = new_presentation(template)
    first = sources[0]
    results = first.results
    footer = frames.stamp(results, first.folder)
    if not has_plan(results):
        multi_slides.no_plan(prs, results, footer)
        for other in sources[1:]:
            if not has_plan(other.results):
                multi_slides.no_plan(prs, other.results, frames.stamp(other.results,
                                                                      other.folder))
        return prs
    story = narrative(results)
    plan_slides.recommendation(prs, results, story, footer)
    plan_slides.kpis(prs, results, footer)
    plan_slides.bridge(prs, results, footer)
    plan_slides.mw_by_use(prs, results, footer)
    plan_slides.timeline(prs, results, footer)
    plan_slides.funding(prs, results, story, footer)
    plan_slides.offers(prs, results, story, footer)
    _risks(prs, sources, story, footer)
    plan_slides.assumptions(prs, results, footer)
    return prs


def _risks(prs, sources: list[Source], story: dict, footer: str) -> None:
    """Slide 8: what the sources allow — a comparison, a tornado, the futures, or the plan's
    own dependencies."""
    first = sources[0]
    shown = False
    if len(sources) > 1:
        multi_slides.comparison(prs, [(s.folder, s.results) for s in sources], footer)
        shown = True
    if first.sweep is not None:
        shown = multi_slides.tornado(prs, first.sweep, footer) or shown
    if first.results.summary.get("stochastic"):
        multi_slides.futures(prs, first.results, footer)
        shown = True
    if not shown:
        plan_slides.risks(prs, first.results, story, footer)


def write_deck(sources: list[Source], output: Path, template: Path | None = None) -> None:
    """Build and save atomically: a temporary file beside `output`, then renamed over it —
    an existing deck is never left half written."""
    prs = build_deck(sources, template)
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(prefix=f".{output.name}.", suffix=".tmp", dir=output.parent)
    os.close(handle)
    try:
        prs.save(temp)
        os.replace(temp, output)
    finally:
        if os.path.exists(temp):
            os.unlink(temp)
