"""Seeded synthetic portfolios in realistic ranges, written as the project's own input files.

`generate(size, seed)` draws a portfolio (ranges: data/README.md and bench/README.md);
`write_synthetic` writes it as CSV tables and a scenario YAML, so it goes through the same
loader and validation as any portfolio. Every signed lease can be delivered (siteopt's own
pre-check finds nothing: `undeliverable_signed`), and the caps of the larger sizes never make
the signed leases infeasible: each signed lease has a campus of its own, the yearly caps hold
all signed MW, and with a tenant cap no signed tenant holds more than the cap of the signed MW.
`batch_scenarios` writes the base scenario with its BTC price stepped, for the batch
measurement.
"""

from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

HORIZON_START = "2027-01"
START_ORDINAL = 2027 * 12  # 2027-01
SIGNED_ROOM_MONTHS = 13  # a signed lease starts at least this long before the horizon ends

# The market of scenarios/base.yaml, as it is (a test keeps them equal).
BASE_MARKET: dict[str, Any] = {
    "btc_price_usd": 90000,
    "btc_price_growth_pct_per_year": 8,
    "network_hashrate_ehs": 1050,
    "network_hashrate_growth_pct_per_year": 12,
    "fees_btc_per_block": 0.025,
    "block_subsidy_btc": 3.125,
    "halving_months": ["2028-04", "2032-04", "2036-04"],
}
BASE_FINANCE: dict[str, Any] = {"discount_rate_pct_per_year": 10, "value_beyond_horizon": True}
# The finance of scenarios/funded.yaml (a test keeps them equal), for the example portfolio's
# 1,285 IT MW of HPC potential; `funded_finance` scales its USD and BTC to a portfolio's.
FUNDED_FINANCE: dict[str, Any] = {
    "opening_cash_usd": 400_000_000, "min_cash_usd": 100_000_000, "btc_treasury_btc": 1500,
    "capex_budget_usd_per_year": 2_500_000_000,
    "debt": {"max_ltc_pct": 80, "rate_pct_per_year": 8, "tenor_months": 120,
             "amortisation": "level"},
}
EXAMPLE_HPC_MAX_IT_MW = 1285
VARIANTS = ("plan", "funded")

# (region, power price range USD/MWh): 26-45 for the best US miners, 55-70 hosted, Quebec ~40.
REGIONS: list[tuple[str, float, float, float]] = [  # region, weight, low, high
    ("ERCOT", 0.35, 30, 45), ("PJM", 0.15, 45, 70), ("MISO", 0.15, 32, 50),
    ("NYISO", 0.10, 35, 55), ("SPP", 0.15, 30, 45), ("HQ", 0.10, 35, 45),
]
BLOCKS_IT_MW = (10, 20, 25, 40, 50)
TENANT_KINDS = ("Hyperscaler", "GPU cloud", "AI lab", "Inference cloud", "Chip vendor")


@dataclass(frozen=True)
class Size:
    name: str
    campuses: int
    months: int
    offers: int
    supply_cap: bool  # company-wide IT MW started per year
    tenant_cap: bool  # 40 % tenant concentration cap
    region_cap: bool  # IT MW started per year in the largest region


SIZES: dict[str, Size] = {
    "S": Size("S", 5, 60, 5, False, False, False),
    "M": Size("M", 20, 120, 20, True, False, False),
    "L": Size("L", 60, 120, 60, True, True, True),
    "XL": Size("XL", 150, 180, 150, True, True, True),
}
TENANT_CAP_PCT = 40.0


@dataclass
class Synthetic:
    """A generated portfolio and its scenario settings, before they are written."""

    size: str
    seed: int
    campuses: list[dict[str, Any]]
    offers: list[dict[str, Any]]
    phases: list[dict[str, Any]]
    scenario: dict[str, Any]
    hosts: dict[str, str] = field(default_factory=dict)  # signed offer → campus reserved for it


# ---------------------------------------------------------------------------- months


def month_label(months_from_start: int) -> str:
    ordinal = START_ORDINAL + months_from_start
    return f"{ordinal // 12:04d}-{ordinal % 12 + 1:02d}"


def month_offset(label: str) -> int:
    """Months from the horizon start to a YYYY-MM label."""
    year, month = label.split("-")
    return int(year) * 12 + int(month) - 1 - START_ORDINAL


def ready_month(campus: dict[str, Any]) -> int:
    """First month (from the horizon start) converted capacity can be ready."""
    permit = month_offset(campus["permit_ready"]) if campus["permit_ready"] else 0
    return max(0, permit) + int(campus["build_months"])


def _floor5(x: float) -> int:
    return int(math.floor(x / 5 + 1e-9)) * 5


def _round_to(x: float, step: float) -> float:
    return round(x / step) * step


# ---------------------------------------------------------------------------- campuses


def _campus(rng: np.random.Generator, i: int) -> dict[str, Any]:
    region, _, low, high = REGIONS[rng.choice(len(REGIONS), p=[r[1] for r in REGIONS])]
    grid = int(rng.integers(20, 351))
    pue = round(float(rng.uniform(1.20, 1.45)), 2)
    fits = [b for b in BLOCKS_IT_MW if b <= grid / pue]
    block = int(rng.choice(fits))
    share = float(rng.uniform(0.75, 1.0))  # of the connection the halls may take
    hpc_max = max(1, int(grid * share / pue // block)) * block
    granted = rng.random() < 0.5
    return {
        "campus_id": f"C{i + 1:03d}",
        "name": f"Campus {i + 1} ({region})",
        "region": region,
        "grid_mw": grid,
        "power_price_usd_per_mwh": round(float(rng.uniform(low, high)), 1),
        "miner_mw": int(round(grid * float(rng.uniform(0.6, 1.0)))),
        "fleet_efficiency_j_per_th": round(float(rng.uniform(15, 30)), 1),
        "mining_opex_usd_per_mw_month": int(_round_to(float(rng.uniform(7000, 11000)), 100)),
        "hpc_max_it_mw": hpc_max,
        "hpc_block_it_mw": block,
        "hpc_pue": pue,
        "capex_usd_per_it_mw": int(round(float(rng.uniform(8.0, 11.0)), 1) * 1_000_000),
        "build_months": int(rng.integers(8, 25)),
        "permit_ready": "" if granted else month_label(int(rng.integers(6, 37))),
        "hpc_opex_usd_per_it_mw_month": int(_round_to(float(rng.uniform(16000, 28000)), 1000)),
        "asic_salvage_usd_per_mw": int(_round_to(float(rng.uniform(150000, 300000)), 10000)),
    }


def _campuses(rng: np.random.Generator, count: int) -> list[dict[str, Any]]:
    campuses = [_campus(rng, i) for i in range(count)]
    # at least one campus must be able to host the smallest offer
    if max(c["hpc_max_it_mw"] for c in campuses) < 25:
        c = campuses[0]
        c.update(grid_mw=120, hpc_block_it_mw=25,
                 hpc_max_it_mw=int(120 / c["hpc_pue"] // 25) * 25)
    return campuses


# ---------------------------------------------------------------------------- offers


def _lease_terms(rng: np.random.Generator, it_mw: int) -> dict[str, Any]:
    rate = int(rng.integers(120, 191))
    terms = {
        "it_mw": it_mw,
        "rate_usd_per_kw_month": rate,
        "escalator_pct_per_year": float(rng.choice([2.0, 2.5, 3.0])),
        "term_months": 12 * int(rng.integers(10, 16)),
        "split": "false",
        "late_penalty_usd_per_month": 0,
        "max_delay_months": 0,
        "prepayment_usd": 0,
        "prepayment_credit_months": 0,
        "tenant_capex_pct": 0,
        "signing_month": "",
    }
    if rng.random() < 0.25:  # some tenants accept a late start, for a penalty
        terms["max_delay_months"] = int(rng.integers(1, 7))
        terms["late_penalty_usd_per_month"] = int(_round_to(
            it_mw * 1000 * rate * float(rng.uniform(0.05, 0.15)), 10000))
    if rng.random() < 0.15:
        terms["tenant_capex_pct"] = int(rng.integers(10, 31))
    if rng.random() < 0.10:
        terms["prepayment_usd"] = int(_round_to(it_mw * 1000 * rate * int(
            rng.integers(1, 4)), 100000))
        terms["prepayment_credit_months"] = 12
    return terms


def _window(rng: np.random.Generator, horizon: int, width: int,
            latest: int | None = None) -> tuple[int, int]:
    """(earliest, latest) start month: ending at `latest`, or opening in the first six years."""
    if latest is None:
        early = int(rng.integers(3, max(4, min(horizon - width - 1, 72))))
        return early, early + width
    return max(0, latest - width), latest


def _balance_signed(sizes: list[int], cap: float) -> list[int]:
    """Shrink the largest signed leases until none is more than `cap` of their total."""
    sizes = list(sizes)
    if len(sizes) * cap < 1 + 1e-9:
        return sizes  # cannot be balanced; callers only cap tenants with enough signed leases
    for _ in range(100):
        big = max(range(len(sizes)), key=sizes.__getitem__)
        others = sum(sizes) - sizes[big]
        limit = _floor5(cap / (1 - cap) * others)
        if sizes[big] <= limit:
            break
        sizes[big] = max(25, limit)
    return sizes


def _signed_host(rng: np.random.Generator, campuses: list[dict[str, Any]], taken: set[str],
                 it_mw: int, horizon: int) -> tuple[dict[str, Any], int]:
    """A campus of its own for a signed lease, ready in time (its permit granted if none
    is), and the lease's MW (cut to what the largest such campus holds)."""
    free = [c for c in campuses if c["campus_id"] not in taken and c["hpc_max_it_mw"] >= 25]
    room = [c for c in free if ready_month(c) <= horizon - SIGNED_ROOM_MONTHS]
    if not room:  # grant the permit of the free campus that can be ready first
        c = min(free, key=lambda c: int(c["build_months"]))
        c["permit_ready"] = ""
        room = [c]
    fitting = [c for c in room if c["hpc_max_it_mw"] >= it_mw]
    if not fitting:
        biggest = max(room, key=lambda c: c["hpc_max_it_mw"])
        it_mw = max(25, _floor5(biggest["hpc_max_it_mw"]))
        fitting = [biggest]
    return fitting[int(rng.integers(len(fitting)))], it_mw


def _signed_offers(rng: np.random.Generator, spec: Size, campuses: list[dict[str, Any]],
                   tenants: list[str], count: int
                   ) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Signed leases, each on a campus of its own that is ready by its latest start."""
    horizon = spec.months
    offers: list[dict[str, Any]] = []
    hosts: dict[str, str] = {}
    signed_mw = [5 * int(rng.integers(5, 51)) for _ in range(count)]
    if spec.tenant_cap:
        signed_mw = _balance_signed(signed_mw, TENANT_CAP_PCT / 100)
    for k, it_mw in enumerate(signed_mw):
        host, it_mw = _signed_host(rng, campuses, set(hosts.values()), it_mw, horizon)
        latest = min(horizon - SIGNED_ROOM_MONTHS, ready_month(host) + int(rng.integers(0, 7)))
        early, late = _window(rng, horizon, int(rng.integers(6, 19)), latest)
        others = [c["campus_id"] for c in campuses
                  if c is not host and c["hpc_max_it_mw"] >= it_mw]
        extra = list(rng.choice(others, size=min(len(others), int(rng.integers(0, 4))),
                                replace=False)) if others else []
        offer_id = f"S{k + 1:03d}"
        hosts[offer_id] = host["campus_id"]
        offers.append({"offer_id": offer_id, "tenant": tenants[k], **_lease_terms(rng, it_mw),
                       "earliest_start": month_label(early), "latest_start": month_label(late),
                       "campuses": ";".join(sorted([host["campus_id"], *map(str, extra)])),
                       "signed": "true"})
        if rng.random() < 0.5:
            offers[-1]["signing_month"] = month_label(-int(rng.integers(1, 13)))
    return offers, hosts


def _open_offers(rng: np.random.Generator, horizon: int, campuses: list[dict[str, Any]],
                 tenants: list[str], count: int, split_count: int) -> list[dict[str, Any]]:
    """Open offers; the first `split_count` are shared between campuses (split)."""
    offers = []
    biggest = max(c["hpc_max_it_mw"] for c in campuses)
    for k in range(count):
        it_mw = 5 * int(rng.integers(5, 51))
        split = k < split_count
        if split:
            pool = [c for c in campuses if c["hpc_max_it_mw"] > 0]
            chosen = _some(rng, pool, int(rng.integers(2, 5)))
            unit = min(c["hpc_block_it_mw"] for c in chosen)
            room = int(0.8 * sum(c["hpc_max_it_mw"] for c in chosen))
            it_mw = max(unit, min(it_mw, room) // unit * unit)
        else:
            if it_mw > biggest:
                it_mw = max(25, _floor5(biggest))
            pool = [c for c in campuses if c["hpc_max_it_mw"] >= it_mw]
            chosen = _some(rng, pool, int(rng.integers(1, 5)))
        early, late = _window(rng, horizon, int(rng.integers(6, 19)))
        offers.append({"offer_id": f"O{k + 1:03d}", "tenant": tenants[int(rng.integers(
            len(tenants)))], **_lease_terms(rng, it_mw), "earliest_start": month_label(early),
            "latest_start": month_label(late),
            "campuses": ";".join(sorted(c["campus_id"] for c in chosen)),
            "signed": "false", **({"split": "true"} if split else {})})
    return offers


def _some(rng: np.random.Generator, pool: list[dict[str, Any]], wanted: int
          ) -> list[dict[str, Any]]:
    """`wanted` campuses of `pool` (all of them when it has fewer), drawn without repeats."""
    count = min(len(pool), wanted)
    return [pool[i] for i in rng.choice(len(pool), size=count, replace=False)]


def _phases(rng: np.random.Generator, offers: list[dict[str, Any]], wanted: int
            ) -> list[dict[str, Any]]:
    """Phased delivery for a few offers (not split): 2-3 phases over the first 1-2 years."""
    phaseable = [o for o in offers if o["split"] == "false" and o["it_mw"] >= 60]
    count = min(len(phaseable), wanted)
    phases: list[dict[str, Any]] = []
    for i in rng.choice(len(phaseable), size=count, replace=False) if phaseable else []:
        o = phaseable[int(i)]
        parts_count = int(rng.integers(2, 4))
        after = [0, int(rng.integers(3, 10)), int(rng.integers(10, 19))][:parts_count]
        first = max(5, _floor5(o["it_mw"] * float(rng.uniform(0.25, 0.5))))
        parts = [first]
        if parts_count == 3:
            parts.append(max(5, _floor5((o["it_mw"] - first) / 2)))
        parts.append(o["it_mw"] - sum(parts))
        phases += [{"offer_id": o["offer_id"], "phase": p + 1, "it_mw": mw,
                    "months_after_start": a} for p, (mw, a) in enumerate(zip(parts, after))]
    return phases


# ---------------------------------------------------------------------------- portfolio


def generate(size: str, seed: int) -> Synthetic:
    """A synthetic portfolio of `size` (S, M, L, XL); the same seed gives the same portfolio."""
    spec = SIZES[size]
    rng = np.random.default_rng([seed, list(SIZES).index(size)])
    campuses = _campuses(rng, spec.campuses)
    n = spec.offers
    n_signed = max(1, round(0.1 * n))
    n_split = round(0.05 * n) if n >= 20 else 0
    n_tenants = max(4, n // 3, n_signed)
    tenants = [f"{TENANT_KINDS[t % len(TENANT_KINDS)]} {t + 1:02d}" for t in range(n_tenants)]
    offers, hosts = _signed_offers(rng, spec, campuses, tenants, n_signed)
    offers += _open_offers(rng, spec.months, campuses, tenants, n - n_signed, n_split)
    phases = _phases(rng, offers, max(1, round(0.1 * n)))
    order = rng.permutation(len(offers))  # signed leases are not all first
    offers = [offers[i] for i in order]
    scenario = _scenario(spec, seed, campuses, offers, hosts)
    return Synthetic(size, seed, campuses, offers, phases, scenario, hosts)


def _limits(spec: Size, campuses: list[dict[str, Any]], offers: list[dict[str, Any]],
            hosts: dict[str, str]) -> dict[str, Any]:
    """The size's caps, each loose enough for every signed lease in whole blocks."""
    limits: dict[str, Any] = {}
    by_id = {c["campus_id"]: c for c in campuses}

    def blocks_mw(offer_id: str) -> float:
        offer = next(o for o in offers if o["offer_id"] == offer_id)
        block = by_id[hosts[offer_id]]["hpc_block_it_mw"]
        return math.ceil(offer["it_mw"] / block - 1e-9) * block

    signed_mw = sum(blocks_mw(o) for o in hosts)
    if spec.supply_cap:
        nominal = 0.15 * sum(o["it_mw"] for o in offers)
        limits["max_it_mw_started_per_year"] = int(
            math.ceil(max(signed_mw, nominal) / 50) * 50)
    if spec.region_cap:
        regions = [c["region"] for c in campuses]
        region = max(sorted(set(regions)), key=regions.count)
        needed = sum(blocks_mw(o) for o, c in hosts.items() if by_id[c]["region"] == region)
        limits["max_it_mw_started_per_year_by_region"] = {region: int(math.ceil(max(
            needed, 0.5 * limits["max_it_mw_started_per_year"]) / 50) * 50)}
    if spec.tenant_cap:
        limits["max_tenant_share_pct"] = TENANT_CAP_PCT
    return limits


def _scenario(spec: Size, seed: int, campuses: list[dict[str, Any]],
              offers: list[dict[str, Any]], hosts: dict[str, str]) -> dict[str, Any]:
    limits = _limits(spec, campuses, offers, hosts)
    return {
        "name": f"bench-{spec.name}-{seed}",
        "description": f"Synthetic benchmark portfolio {spec.name}, seed {seed}",
        "portfolio": "portfolio",
        "horizon": {"start": HORIZON_START, "months": spec.months},
        "market": json.loads(json.dumps(BASE_MARKET)),
        "finance": dict(BASE_FINANCE),
        "solver": {"mip_gap_pct": 1.0, "time_limit_s": 120.0, "threads": 1},
        **({"limits": limits} if limits else {}),
    }


def write_synthetic(synthetic: Synthetic, folder: Path, **solver: Any) -> Path:
    """Write the portfolio as CSV tables in the project's format and the scenario YAML into
    `folder`; returns the scenario path. `solver` keys override the scenario's solver."""
    import yaml

    from siteopt.inputs.schema import CAMPUSES, OFFER_PHASES, OFFERS

    portfolio = folder / "portfolio"
    portfolio.mkdir(parents=True, exist_ok=True)
    for table, rows in ((CAMPUSES, synthetic.campuses), (OFFERS, synthetic.offers),
                        (OFFER_PHASES, synthetic.phases)):
        with (portfolio / f"{table.name}.csv").open("w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, fieldnames=table.column_names, lineterminator="\n")
            writer.writeheader()
            for row in rows:
                writer.writerow({k: row.get(k, "") for k in table.column_names})
    settings = json.loads(json.dumps(synthetic.scenario))
    settings["solver"].update({k: v for k, v in solver.items() if v is not None})
    path = folder / "scenario.yaml"
    path.write_text(yaml.safe_dump(settings, sort_keys=False), encoding="utf-8")
    return path


def undeliverable_signed(synthetic: Synthetic) -> list[str]:
    """What siteopt's pre-check says of the signed leases once the portfolio is written and
    loaded (siteopt.results.diagnose); empty when every signed lease can be delivered."""
    import tempfile

    from siteopt.inputs import load_inputs
    from siteopt.model import prepare
    from siteopt.results.diagnose import undeliverable_signed_leases

    with tempfile.TemporaryDirectory(prefix="siteopt-synthetic-") as tmp:
        inputs = load_inputs(write_synthetic(synthetic, Path(tmp)))
        return undeliverable_signed_leases(prepare(inputs))


# ---------------------------------------------------------------------------- batch scenarios


def batch_scenarios(folder: Path, count: int) -> list[Path]:
    """`count` copies of scenarios/base.yaml (with its portfolio) whose BTC price steps from
    -10 % to +10 % of the base's."""
    import shutil

    import yaml

    from siteopt.inputs.scenario import load_scenario
    from siteopt.inputs.template import EXAMPLE_SCENARIO  # the checkout's, or the wheel's copy

    if not EXAMPLE_SCENARIO.is_file():
        raise FileNotFoundError("scenarios/base.yaml not found beside the siteopt package")
    loaded = load_scenario(EXAMPLE_SCENARIO)
    settings = json.loads(json.dumps(loaded.settings))
    shutil.copytree(loaded.origin_dir("portfolio") / settings["portfolio"], folder / "portfolio")
    settings["portfolio"] = "portfolio"
    price = settings["market"]["btc_price_usd"]
    files = []
    for i in range(count):
        step = (i / (count - 1) - 0.5) * 0.2 if count > 1 else 0.0
        settings["name"] = f"base-btc{i + 1:02d}"
        settings["market"]["btc_price_usd"] = round(price * (1 + step))
        path = folder / f"base-btc{i + 1:02d}.yaml"
        path.write_text(yaml.safe_dump(settings, sort_keys=False), encoding="utf-8")
        files.append(path)
    return files


def funded_finance(synthetic: Synthetic) -> dict[str, Any]:
    """FUNDED_FINANCE scaled to the portfolio: cash, floor, treasury and budget in proportion to
    its HPC potential (IT MW), debt terms as they are."""
    scale = sum(c["hpc_max_it_mw"] for c in synthetic.campuses) / EXAMPLE_HPC_MAX_IT_MW
    finance = json.loads(json.dumps(FUNDED_FINANCE))
    for key in ("opening_cash_usd", "min_cash_usd", "capex_budget_usd_per_year"):
        finance[key] = round(finance[key] * scale, -6)
    finance["btc_treasury_btc"] = round(finance["btc_treasury_btc"] * scale)
    return finance


FUTURES_COMMIT_MONTHS = 12
BTC_SPREAD = 0.35  # log-sd of a future's BTC price against the scenario's (≈ −30 % … +40 %)


def futures_section(count: int, seed: int) -> dict[str, Any]:
    """An uncertainty section of `count` seeded futures, equally likely: the first as the
    scenario, each other with the BTC price scaled by a log-normal factor."""
    rng = np.random.default_rng([seed, count, 16])
    shares = [round(100 / count, 6)] * count
    shares[-1] = round(100 - sum(shares[:-1]), 6)
    futures = []
    for i in range(count):
        factor = 1.0 if i == 0 else float(np.exp(rng.normal(0, BTC_SPREAD)))
        futures.append({"name": f"future-{i + 1}", "probability_pct": shares[i],
                        "set": {"market.btc_price_usd": f"*{factor:.4f}"}})
    return {"commit_months": FUTURES_COMMIT_MONTHS, "scenarios": futures}


def with_variant(synthetic: Synthetic, variant: str) -> Synthetic:
    """The portfolio as benchmarked: `plan` as generated, `funded` with the funded finance;
    `VARIANT@N`: that, planned across N futures (futures_section)."""
    from dataclasses import replace

    base, _, count = variant.partition("@")
    if count:
        planned = with_variant(synthetic, base)
        scenario = json.loads(json.dumps(planned.scenario))
        scenario["uncertainty"] = futures_section(int(count), synthetic.seed)
        scenario["name"] += f"-{count}-futures"
        return replace(planned, scenario=scenario)
    if variant == "plan":
        return synthetic

    scenario = json.loads(json.dumps(synthetic.scenario))
    scenario["finance"] = {**scenario["finance"], **funded_finance(synthetic)}
    scenario["name"] += "-funded"
    return replace(synthetic, scenario=scenario)
