"""The futures of an `uncertainty` section as validated inputs, and the expected-value scenario.

Each future is the scenario loaded again with its `set` changes applied the way `sweep
--vary` applies its own (siteopt.inputs.overrides), so every key and value is checked like
any other input; a problem is located at the future's key
(`scenario s.yaml: uncertainty.scenarios[bear].set.market.btc_price_usd`).
"""

from __future__ import annotations

import dataclasses
import math
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from siteopt.inputs import Inputs, load_inputs
from siteopt.inputs.errors import InputError, Problem, Problems, excerpt
from siteopt.inputs.overrides import Override, parse_vary
from siteopt.inputs.schema import TABLES

# keys every future shares: what is planned, and how it is solved
_SHARED = ("name", "description", "portfolio", "horizon.", "solver.", "uncertainty.",
           "finance.discount_rate_pct_per_year")
# tables whose rows a change can name by id (the expected-value scenario averages them)
_ROW_TABLES = {"campuses": "campuses", "offers": "offers"}


@dataclass(frozen=True)
class FutureInputs:
    name: str
    probability: float  # 0..1
    inputs: Inputs  # the scenario in this future, without its uncertainty section
    changes: tuple[Override, ...]
    note: str = ""  # how a drawn future came about ('sampled #3 of seed 7', 'paths.csv')
    drawn_path: bool = False  # its market path is its own (sampled or read), not a change


def _where(inputs: Inputs) -> str:
    return f"scenario {inputs.scenario_path.name}: uncertainty"


def _value_text(value: Any) -> str | None:
    """A `set` value as `--vary` text (one value, never a list or a range)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str) and value.strip() and "," not in value and ":" not in value:
        return value.strip()
    return None


def _changes(name: str, changes: dict[str, Any], where: str, problems: Problems
             ) -> list[Override]:
    out = []
    for key, value in changes.items():
        at = f"{where}.scenarios[{name}].set.{key}"
        text = _value_text(value)
        if text is None:
            problems.add(at, f"expected one value: a number, *x, +x, true/false, a month or "
                             f"text without ',' or ':' (got {excerpt(value)})")
            continue
        if any(key == k or (k.endswith(".") and key.startswith(k)) for k in _SHARED):
            problems.add(at, "every future shares the scenario's name, portfolio, horizon, "
                             "discount rate, solver and uncertainty settings; change them in "
                             "the scenario")
            continue
        try:
            _, _, items = parse_vary(f"{key}={text}")
        except InputError as exc:
            problems.items += [Problem(at, p.message) for p in exc.problems]
            continue
        out += list(items)
    return out


def future_inputs(inputs: Inputs) -> list[FutureInputs]:
    """Every future of the scenario's uncertainty section, loaded and validated; raises
    InputError with every problem located at the future's key."""
    uncertainty = inputs.scenario.uncertainty
    assert uncertainty is not None
    where = _where(inputs)
    problems = Problems()
    months = inputs.scenario.horizon.months
    if uncertainty.commit_months > months:
        problems.add(f"{where}.commit_months", f"must be <= horizon.months {months} (got "
                                               f"{uncertainty.commit_months})")
    parsed = [(f, _changes(f.name, f.set, where, problems)) for f in uncertainty.scenarios]
    problems.raise_if_any()
    futures = []
    for future, changes in parsed:
        loaded = load_future(inputs, changes, f"{where}.scenarios[{future.name}]", problems)
        if loaded is not None:
            futures.append(FutureInputs(future.name, future.probability_pct / 100, loaded,
                                        tuple(changes)))
    problems.raise_if_any()
    drawn = _drawn_futures(inputs, where, problems)
    problems.raise_if_any()
    if drawn:
        share = (1 - math.fsum(f.probability for f in futures)) / len(drawn)
        listed = {f.name for f in futures}
        for future in drawn:
            if future.name in listed:
                problems.add(f"{where}.scenarios", f"future {future.name} is listed and "
                                                   f"also drawn; rename the listed one")
        problems.raise_if_any()
        futures += [dataclasses.replace(f, probability=share) for f in drawn]
    return futures


def _drawn_futures(inputs: Inputs, where: str, problems: Problems) -> list[FutureInputs]:
    """The futures of `sample` and `paths` (probabilities set by the caller)."""
    from siteopt.stochastic import sampling

    uncertainty = inputs.scenario.uncertainty
    out: list[FutureInputs] = []
    if uncertainty.paths is not None:
        loaded = load_future(inputs, [], f"{where}.paths", problems)
        for name, paths in sampling.read_future_paths(inputs).items():
            market = None if loaded is None else sampling.path_market(loaded, paths)
            ready = None if market is None else sampling.with_market(
                loaded, market, f"{where}.paths: future {name}", problems)
            if ready is not None:
                out.append(FutureInputs(name, 0.0, ready, (), f"path from {uncertainty.paths}",
                                            True))
    if uncertainty.sample is not None:
        cache: dict[tuple[Override, ...], Inputs | None] = {}
        for draw in sampling.draws(inputs, uncertainty.sample, f"{where}.sample"):
            if draw.changes not in cache:  # futures sharing their discrete draws load once
                cache[draw.changes] = load_future(inputs, list(draw.changes),
                                                  f"{where}.sample ({draw.name})", problems)
            loaded = cache[draw.changes]
            ready = None if loaded is None else sampling.with_market(
                loaded, sampling.drawn_market(loaded, draw), f"{where}.sample: {draw.name}",
                problems)
            if ready is not None:
                out.append(FutureInputs(draw.name, 0.0, ready, draw.changes, draw.note, True))
    return out


def load_future(inputs: Inputs, changes: list[Override], where: str,
                problems: Problems) -> Inputs | None:
    """The scenario loaded again with a future's changes, without its uncertainty section
    and with the scenario's solver options (None, problems added, when it cannot load)."""
    try:
        loaded = load_inputs(inputs.scenario_path, inputs.portfolio_path,
                             [*inputs.overrides, *changes])
    except InputError as exc:
        for p in exc.problems:
            problems.add(where, f"{p.where.replace('--vary ', 'set ')}: {p.message}")
        return None
    # the future is solved with the scenario's solver options (the command line's too)
    scenario = loaded.scenario.model_copy(update={"uncertainty": None,
                                                  "solver": inputs.scenario.solver,
                                                  "description": inputs.scenario.description})
    return dataclasses.replace(loaded, scenario=scenario)


# -- the expected-value scenario ---------------------------------------------------------


def _scenario_value(inputs: Inputs, target: str) -> Any:
    node: Any = inputs.scenario
    for part in target.split("."):
        node = node.get(part) if isinstance(node, dict) else getattr(node, part)
    return node


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and \
        math.isfinite(value)


def _average(values: list[Any], weights: list[float], whole: bool) -> Any:
    """Probability-weighted mean of numbers (rounded for whole-number inputs); otherwise the
    value of the largest total probability (the first listed among equals)."""
    if all(_is_number(v) for v in values):
        mean = math.fsum(w * float(v) for v, w in zip(values, weights))
        return round(mean) if whole else mean
    mass: dict[Any, float] = defaultdict(float)
    for value, weight in zip(values, weights):
        mass[value] += weight
    return max(mass, key=lambda v: (mass[v], -values.index(v)))


def expected_value_inputs(inputs: Inputs, futures: list[FutureInputs]) -> Inputs:
    """The single scenario of the average future: each changed number replaced by its
    probability-weighted mean over the futures (rounded where the input is a whole number),
    each changed non-number (a month, true/false, text) by its most probable value; with
    drawn paths, the BTC price and network hashrate by their mean in every month."""
    weights = [f.probability for f in futures]
    targets = list(dict.fromkeys((c.target, c.row) for f in futures for c in f.changes))
    where = _where(inputs)
    changes = []
    for target, row in targets:
        head = target.split(".", 1)[0]
        if head in TABLES and head not in _ROW_TABLES:
            raise InputError([Problem(f"{where}.scenarios", f"--expected-value cannot average "
                                                            f"changes to the {head} table")])
        if head not in TABLES:
            values = [_scenario_value(f.inputs, target) for f in futures]
            whole = all(isinstance(v, int) and not isinstance(v, bool) for v in values)
            changes.append(Override(target, "set", _average(values, weights, whole)))
            continue
        column = target.split(".", 1)[1]
        frames = [getattr(f.inputs, _ROW_TABLES[head]) for f in futures]
        for row_id in [row] if row is not None else list(frames[0].index):
            values = [frame.at[row_id, column] for frame in frames]
            values = [v.item() if hasattr(v, "item") else v for v in values]
            values = [None if isinstance(v, float) and math.isnan(v) else v for v in values]
            whole = TABLES[head].column(column).kind == "int"
            changes.append(Override(target, "set", _average(values, weights, whole), row_id))
    problems = Problems()
    loaded = load_future(inputs, changes, f"{where} (expected-value scenario)", problems)
    problems.raise_if_any()
    assert loaded is not None
    if any(f.drawn_path for f in futures):
        from siteopt.stochastic.sampling import mean_market, with_market

        loaded = with_market(loaded, mean_market(loaded, futures),
                             f"{where} (expected-value scenario)", problems)
        problems.raise_if_any()
    return loaded


def describe_changes(future: FutureInputs) -> str:
    """'market.btc_price_usd=*0.6; offers[OF-D].withdrawn=True' (or 'as the scenario'); a
    drawn future first says where its path comes from."""
    parts = [future.note] if future.note else []
    return "; ".join(parts + [c.label for c in future.changes]) or "as the scenario"


__all__ = ["FutureInputs", "describe_changes", "expected_value_inputs", "future_inputs",
           "load_future"]
