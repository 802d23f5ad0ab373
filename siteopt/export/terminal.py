"""Tables for the terminal (rich), built from DataFrames."""

from __future__ import annotations

import re
import shutil
import textwrap

import pandas as pd
from rich.console import Console
from rich.table import Table

from siteopt.export import plan_frames
from siteopt.export.narrative import narrative
from siteopt.export.status import status_banner
from siteopt.inputs import Inputs
from siteopt.inputs.market import mining_margin_usd_per_mw_month


def hashprice_table(inputs: Inputs, yearly: bool = False) -> pd.DataFrame:
    """Market path with one mining-margin column per campus (USD per MW-month)."""
    market = inputs.market
    frame = market[["month", "btc_price_usd", "network_hashrate_ehs", "block_subsidy_btc",
                    "hashprice_usd_per_ph_day"]].copy()
    for campus_id, campus in inputs.campuses.iterrows():
        frame[f"margin_{campus_id}_usd_per_mw_month"] = mining_margin_usd_per_mw_month(
            market, campus)
    if yearly:
        frame.insert(0, "year", frame["month"].str[:4])
        frame = frame.drop(columns="month").groupby("year", as_index=False).mean()
    return frame


def terminal_width() -> int:
    """Columns of the terminal (COLUMNS when set); 120 when there is no terminal to ask."""
    return shutil.get_terminal_size(fallback=(120, 24)).columns


# The market path's columns for people: header with its unit, decimals worth showing
HASHPRICE_HEADERS = {
    "year": ("year", None), "month": ("month", None),
    "btc_price_usd": ("BTC price USD", 0),
    "network_hashrate_ehs": ("network EH/s", 0),
    "block_subsidy_btc": ("subsidy BTC", 3),
    "hashprice_usd_per_ph_day": ("hashprice USD/PH/day", 2),
}
MARGIN = re.compile(r"margin_(.+)_usd_per_mw_month")


def _header(column: str) -> tuple[str, int | None]:
    if column in HASHPRICE_HEADERS:
        return HASHPRICE_HEADERS[column]
    margin = MARGIN.fullmatch(column)
    if margin:
        return f"{margin.group(1)} margin USD/MW-month", 0
    return column, 2


def print_frame(frame: pd.DataFrame, title: str, places: int | None = None,
                stderr: bool = False) -> None:
    """A table as wide as the terminal: numbers are never broken; headers (with units) wrap
    at spaces; columns that do not fit go to a further table that repeats the first column.
    `places`: decimals of every number (else by column, see `_header`); NaN shows as —."""
    headers, cells = [], []
    for column in frame.columns:
        header, decimals = _header(str(column))
        decimals = places if places is not None else decimals
        headers.append(header)
        cells.append(["—" if isinstance(v, float) and v != v else
                      f"{v:,.{decimals if decimals is not None else 2}f}"
                      if isinstance(v, float) else str(v) for v in frame[column]])
    width = terminal_width()
    need = _column_widths(headers, cells, width)
    console = Console(width=width, stderr=stderr)
    for part, columns in enumerate(_fitting_chunks(need, width)):
        table = Table(title=title if part == 0 else f"{title} (continued)", show_lines=False)
        for i in columns:
            numeric = pd.api.types.is_numeric_dtype(frame.dtypes.iloc[i])
            table.add_column(textwrap.fill(headers[i], need[i], break_long_words=False),
                             no_wrap=True, justify="right" if numeric else "left")
        for row in range(len(frame)):
            table.add_row(*(cells[i][row] for i in columns))
        console.print(table)


def _table_width(widths: list[int]) -> int:
    """A rich table's width: each column its text + 3 (padding, border), the table 1 more."""
    return 1 + sum(w + 3 for w in widths)


def _column_widths(headers: list[str], cells: list[list[str]], width: int) -> list[int]:
    """Each column as wide as its longest cell and header word; then, column by column, as
    wide as its whole header where the terminal still has room."""
    longest = [max((len(c) for c in column), default=0) for column in cells]
    widths = [max([n] + [len(word) for word in h.split()]) for h, n in zip(headers, longest)]
    for i, (header, n) in enumerate(zip(headers, longest)):
        wide = max(n, len(header))
        if _table_width(widths) - widths[i] + wide <= width:
            widths[i] = wide
    return widths


def _fitting_chunks(need: list[int], width: int) -> list[list[int]]:
    """Column indices per table so each fits `width`; every table starts with column 0, the
    row's key."""
    chunks, current = [], [0]
    for i in range(1, len(need)):
        if len(current) > 1 and _table_width([need[j] for j in current] + [need[i]]) > width:
            chunks.append(current)
            current = [0]
        current.append(i)
    chunks.append(current)
    return chunks


def print_stochastic(results, console: Console) -> None:
    """A stochastic plan: its measures, what is decided now, and each future's outcome."""
    from siteopt.export import uncertainty_frames as frames

    summary = results.summary
    block = summary["stochastic"]
    console.print(f"[bold]{summary['scenario']}[/bold]: {status_banner(summary)[0]}. "
                  f"Expected NPV {summary['npv_usd'] / 1e6:,.1f} M USD over "
                  f"{len(block['scenarios'])} futures (build {summary['build_seconds']:.1f} s, "
                  f"solve {summary['solve_seconds']:.1f} s)")
    table = Table(title=f"Decided now (taking effect before {frames.commit_month(summary)}), "
                        f"the same in every future")
    table.add_column("decision", justify="left")
    for line in frames.here_and_now_lines(results.extra.get("here_and_now"), limit=15):
        table.add_row(line)
    console.print(table)
    table = Table(title="Futures, worst first")
    for column in ("future", "probability", "NPV M USD", "value added M USD",
                   "IT MW ready at end", "leases taken"):
        table.add_column(column, justify="left" if column in ("future", "leases taken")
                         else "right")
    for row in frames.futures_frame(summary, results.extra.get("scenarios")).itertuples():
        added = None if row.baseline_npv_usd is None or pd.isna(row.baseline_npv_usd) \
            else row.npv_usd - row.baseline_npv_usd
        table.add_row(str(row.name), f"{row.probability_pct:g} %", f"{row.npv_usd / 1e6:,.1f}",
                      "—" if added is None else f"{added / 1e6:,.1f}",
                      f"{getattr(row, 'it_mw_ready_at_end', 0) or 0:,.0f}",
                      str(getattr(row, "leases_taken", "") or "—").replace(";", ", "))
    console.print(table)
    for row in frames.measures(summary).itertuples():
        if row.usd is None or pd.isna(row.usd):
            console.print(f"{row.measure}: {row.meaning}")
        else:
            console.print(f"{row.measure}: {row.usd / 1e6:,.1f} M USD — {row.meaning}")


def print_plan(results) -> None:
    """Headline and decisions of a solved plan, on stderr."""
    summary = results.summary
    # the terminal's width (tables wrap their cells to fit); 120 columns without one
    console = Console(stderr=True, width=terminal_width())
    if summary.get("stochastic"):
        print_stochastic(results, console)
        return
    stamp = status_banner(summary)[0]
    console.print(f"[bold]{summary['scenario']}[/bold]: {stamp}. NPV "
                  f"{summary['npv_usd'] / 1e6:,.1f} M USD "
                  f"(build {summary['build_seconds']:.1f} s, "
                  f"solve {summary['solve_seconds']:.1f} s)")
    kpis = summary.get("kpis") or {}
    if kpis.get("value_added_usd") is not None:
        payback = plan_frames.payback_shown(kpis)
        irr = "—" if kpis.get("irr_pct") is None else f"{kpis['irr_pct']:.1f} %"
        console.print(f"Value added over mining-only {kpis['value_added_usd'] / 1e6:,.1f} M "
                      f"USD; IRR of converting {irr}; payback of converting: "
                      f"{payback if isinstance(payback, str) else f'{payback:%b %Y}'}; "
                      f"peak funding {(kpis.get('peak_funding_usd') or 0) / 1e6:,.1f} M USD")
    story = narrative(results)
    cm = results.campus_month
    decided = {**plan_frames.campus_decision_texts(results), **story["campuses"]}
    as_built = plan_frames.as_built_mw(results)  # ready or building at the start: not converted
    table = Table(title="Decisions by campus")
    for column in ("campus", "decision", "IT MW converted", "first start", "last start"):
        table.add_column(column, justify="left" if column in ("campus", "decision")
                         else "right")
    for campus_id, rows in cm.groupby("campus_id", sort=False):
        started = rows[rows["blocks_started"] > 0]
        converted = (rows["it_ready_mw"] + rows["it_under_construction_mw"]).max() \
            - as_built.get(str(campus_id), 0.0)
        table.add_row(str(campus_id), decided.get(str(campus_id), ""), f"{converted:,.0f}",
                      started["month"].min() if len(started) else "—",
                      started["month"].max() if len(started) else "—")
    console.print(table)
    leases = results.leases
    table = Table(title="Offers")
    for column in ("offer", "tenant", "decision", "campus", "start", "delivery", "IT MW",
                   "PV rent M USD"):
        numeric = column in ("IT MW", "PV rent M USD")
        table.add_column(column, justify="right" if numeric else "left")
    for lease in leases.itertuples():
        decision = ("signed" if lease.signed else "accept") if lease.accepted else "decline"
        where = (lease.campus_id, lease.start_month, lease.delivery_month) if lease.accepted \
            else ("—", "—", "—")
        table.add_row(str(lease.offer_id), str(lease.tenant), decision, *where,
                      f"{(lease.it_mw if lease.accepted else lease.offer_it_mw):,.0f}",
                      f"{lease.lease_npv_usd / 1e6:,.1f}")
    console.print(table)
    _print_words(story, console)


def _print_words(story: dict, console: Console) -> None:
    """The offers' and the funding's sentences (declined and why, phases, delays)."""
    console.print("[bold]In plain words[/bold]")
    for offer in story["offers"].values():
        console.print(f"- {offer['text']}", markup=False)
    if story.get("funding"):
        console.print(f"- {story['funding']}", markup=False)


def print_comparison(plans: list, names: list[str], stderr: bool = False) -> None:
    """The KPI table of several plans and the decisions that differ between them."""
    from siteopt.export.decision_diff import decisions_that_differ, kpi_frame

    print_frame(kpi_frame(plans, names), "Scenarios side by side (USD m)", places=1,
                stderr=stderr)
    differ = decisions_that_differ(plans, names)
    console = Console(width=terminal_width(), stderr=stderr)
    if differ.empty:
        console.print("Every scenario takes the same decisions (offers, campuses, months).")
    else:
        print_frame(differ, "Decisions that differ", stderr=stderr)
