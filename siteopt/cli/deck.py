"""`siteopt deck`: the board deck (PowerPoint) from result folders — parsing and messages
only; the slides are built by siteopt.export.deck."""

from __future__ import annotations

from pathlib import Path

import click

from siteopt.cli import _guard, _note, _write_or_exit
from siteopt.inputs.errors import InputError, Problem


def _check_target(output: Path, template: Path | None) -> None:
    problems = []
    if output.suffix.lower() != ".pptx":
        problems.append(Problem(str(output), f"the deck must be a .pptx file (found "
                                             f"{output.suffix or 'no extension'})"))
    elif output.exists() and not output.is_file():
        problems.append(Problem(str(output), "exists and is not a file"))
    else:
        from siteopt.export.targets import enclosing_result_folder

        inside = enclosing_result_folder(output)
        if inside is not None:  # the next solve there would refuse a file it did not write
            problems.append(Problem(str(output), f"is inside the result folder {inside}; "
                                                 f"write the deck outside it"))
    if template is not None:
        if not template.is_file():
            problems.append(Problem(str(template), "template not found"))
        elif template.suffix.lower() != ".pptx":
            problems.append(Problem(str(template), "the template must be a .pptx file (save "
                                                   "a .potx as a presentation first)"))
        else:
            problems += _template_problems(template)
    if problems:
        raise InputError(problems)


def _template_problems(template: Path) -> list[Problem]:
    """A template python-pptx cannot open is one located line, not a traceback."""
    from siteopt.export.deck.look import new_presentation

    try:
        new_presentation(template)
    except Exception as exc:  # noqa: BLE001 — any failure to read it means the same to a user
        return [Problem(str(template), f"cannot be read as a PowerPoint file "
                                       f"({type(exc).__name__}: {exc})")]
    return []


@click.command()
@click.argument("result_dirs", nargs=-1, required=True,
                type=click.Path(path_type=Path, file_okay=False))
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False),
              default=Path("board.pptx"), show_default=True, help="The deck to write (.pptx).")
@click.option("--template", type=click.Path(path_type=Path, dir_okay=False),
              help="A house .pptx whose slide layouts and theme the deck uses.")
@_guard
def deck(result_dirs: tuple[Path, ...], output: Path, template: Path | None) -> None:
    """Write a board deck (16:9, native editable charts) from result folders.

    One plan: recommendation, headline KPIs against mining only, NPV bridge, MW by use,
    conversion timeline, funding, tenant offers, risks, assumptions. Several folders (or a
    batch folder): the first plan's slides with a comparison. A sweep folder: a tornado. A
    stochastic plan: NPV by future and a fan chart. An infeasible run: its diagnosis. The
    deck is read from the folders' files only, so folders written earlier work too.

    \b
    Example:
      siteopt deck out/base -o board.pptx
      siteopt deck out/base out/bear-btc --template house.pptx -o board.pptx
      siteopt deck out/sweep-base -o sensitivities.pptx
    """
    from siteopt.export.deck import read_sources, write_deck

    _check_target(output, template)
    sources = read_sources(list(result_dirs))

    _write_or_exit(lambda: write_deck(sources, output, template), output)
    _note(f"Wrote {output} ({len(sources)} plan{'s' if len(sources) != 1 else ''})")
