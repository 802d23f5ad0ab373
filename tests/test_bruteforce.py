"""Cross-check the MIP against brute force on small random instances.

The brute force below shares no code with siteopt.model: it re-implements the economics from
the spec (docs/formulation.md) and enumerates every plan —

* per campus, every multiset of block start months (permit .. H-1, up to the campus's block
  count, including "no block");
* per offer, every choice: decline (unless signed) or (eligible campus, start month from
  earliest_start to latest_start + max_delay_months, inside the horizon);

keeps the plans whose ready IT MW covers the leased IT MW in every horizon month and whose
construction starts respect the yearly supply caps (company-wide and per region), sets mining
in closed form (mining_mw = min(miner_mw, grid − PUE × IT MW started) when the month's margin
is positive, else 0) and takes the best NPV. Campuses are independent once the leases are
fixed except through the supply caps, so the search loops over lease choices and, per campus,
keeps the best block schedule for each vector of IT MW started per calendar year; the caps
then pick among combinations of those vectors (still exhaustive). The model's NPV must equal
the optimum; an infeasible brute force must be an 'infeasible' status or, for signed leases
that validation already rejects, an InputError.

Two instance families: `generate` (the original mix: one-shot leases, no deal terms) and
`generate_terms` (phased ramps, late starts with penalties and max delay, prepayments, tenant
capex share, yearly company and region caps).
"""

from __future__ import annotations

import calendar
import itertools
import math
import random
from dataclasses import dataclass, field, replace

import numpy as np
import pytest

from siteopt.api import solve_scenario
from siteopt.inputs.errors import InputError

N_SEEDS = 80
N_TERMS_SEEDS = 55
MAX_WORK = 400_000  # lease combinations × block schedules; instances above it are skipped
MIN_COMPARED = 50


# ---------------------------------------------------------------------------------------------
# Instances
# ---------------------------------------------------------------------------------------------


def ordinal(label: str) -> int:
    year, month = label.split("-")
    return int(year) * 12 + int(month) - 1


def label(o: int) -> str:
    return f"{o // 12:04d}-{o % 12 + 1:02d}"


@dataclass
class Instance:
    seed: int
    start: int  # month ordinal of horizon month 0
    horizon: int
    market: dict
    finance: dict
    campuses: list[dict]
    offers: list[dict] = field(default_factory=list)
    phases: list[dict] = field(default_factory=list)  # rows of offer_phases.csv
    limits: dict = field(default_factory=dict)

    def permit(self, c: dict) -> int:
        return max(0, ordinal(c["permit_ready"]) - self.start) if c["permit_ready"] else 0

    def eligible(self, o: dict) -> list[dict]:
        ids = [c["campus_id"] for c in self.campuses] if o["campuses"] == "*" \
            else o["campuses"].split(";")
        return [c for c in self.campuses if c["campus_id"] in ids]

    def window(self, o: dict) -> range:
        """Start months: earliest_start (or the signing month, if later: a lease starts once
        signed) to latest_start + max_delay_months, inside the horizon."""
        early = ordinal(o["earliest_start"]) - self.start
        if o.get("signing_month"):
            early = max(early, ordinal(o["signing_month"]) - self.start)
        late = ordinal(o["latest_start"]) - self.start + int(o.get("max_delay_months", 0))
        return range(max(0, early), min(self.horizon - 1, late) + 1)

    def ramp(self, o: dict) -> list[tuple[float, int]]:
        """(IT MW, months after start) per phase; one phase of it_mw at 0 without rows."""
        rows = sorted((p for p in self.phases if p["offer_id"] == o["offer_id"]),
                      key=lambda p: p["phase"])
        return [(p["it_mw"], p["months_after_start"]) for p in rows] or [(o["it_mw"], 0)]

    def year(self, m: int) -> int:
        return (self.start + m) // 12


def generate(seed: int) -> Instance:
    rng = random.Random(seed)
    start = ordinal(f"{rng.choice([2026, 2027, 2028])}-{rng.randint(1, 12):02d}")
    horizon = rng.randint(6, 18)
    market = {
        "btc_price_usd": rng.choice([60_000, 80_000, 100_000, 120_000, 150_000]),
        "btc_price_growth_pct_per_year": rng.choice([0, 0, 25, -20]),
        "network_hashrate_ehs": rng.choice([600, 800, 900, 1000, 1200]),
        "network_hashrate_growth_pct_per_year": rng.choice([0, 0, 30]),
        "fees_btc_per_block": rng.choice([0, 0, 0.1, 0.25]),
        "block_subsidy_btc": 3.125,
        "halving_months": [label(start + rng.randint(-2, horizon))] if rng.random() < 0.4
        else [],
    }
    finance = {"discount_rate_pct_per_year": rng.choice([0, 0, 3, 8, 12]),
               "value_beyond_horizon": rng.random() < 0.5}
    campuses = []
    for i in range(rng.randint(1, 2)):
        block = rng.choice([5, 7.5, 10])
        n_blocks = rng.randint(1, 2)
        max_it = block * n_blocks + rng.choice([0, 0, block / 2])
        pue = rng.choice([1.1, 1.25, 1.4])
        miner = rng.choice([20, 40, 60, 80])
        grid = max(miner + rng.choice([-10, 0, 0, 5, 20]), math.ceil(max_it * pue))
        permit = "" if rng.random() < 0.6 else label(start + rng.randint(-3, horizon))
        campuses.append({
            "campus_id": f"C{i + 1}", "name": f"Campus {i + 1}", "grid_mw": grid,
            "power_price_usd_per_mwh": round(rng.uniform(25, 80), 1), "miner_mw": miner,
            "fleet_efficiency_j_per_th": rng.choice([17, 20, 25, 30]),
            "mining_opex_usd_per_mw_month": rng.choice([0, 0, 2_000, 5_000]),
            "hpc_max_it_mw": max_it, "hpc_block_it_mw": block, "hpc_pue": pue,
            "capex_usd_per_it_mw": rng.choice([50_000, 150_000, 400_000, 1_000_000]),
            "build_months": rng.randint(1, 5), "permit_ready": permit,
            "hpc_opex_usd_per_it_mw_month": rng.choice([0, 5_000, 15_000]),
        })
    ids = [c["campus_id"] for c in campuses]
    offers = []
    for j in range(rng.choices([0, 1, 2], weights=[1, 3, 3])[0]):
        early = start + rng.randint(-3, horizon - 2)
        host = rng.choice(campuses)  # sized for one campus (sometimes slightly too big)
        it_mw = rng.choice([host["hpc_block_it_mw"], host["hpc_max_it_mw"],
                            host["hpc_block_it_mw"] / 2, host["hpc_max_it_mw"] + 2.5])
        offers.append({
            "offer_id": f"O{j + 1}", "tenant": f"Tenant {j + 1}",
            "it_mw": it_mw,
            "rate_usd_per_kw_month": round(rng.uniform(60, 300), 1),
            "escalator_pct_per_year": rng.choice([0, 3, 10]),
            "term_months": rng.randint(2, 36),
            "earliest_start": label(early), "latest_start": label(early + rng.randint(0, 12)),
            "campuses": rng.choice(["*", "*", *ids]),
            "signed": "true" if rng.random() < 0.25 else "false",
        })
    return Instance(seed, start, horizon, market, finance, campuses, offers)


def generate_terms(seed: int) -> Instance:
    """Deal terms: ramps, late starts with penalties and max delay, prepayments, tenant capex,
    yearly supply caps (company-wide and per region). Horizons often span a new year."""
    rng = random.Random(10_000 + seed)
    start = ordinal(f"{rng.choice([2026, 2027])}-{rng.randint(6, 12):02d}")
    horizon = rng.randint(6, 14)
    market = {
        "btc_price_usd": rng.choice([60_000, 90_000, 120_000]),
        "btc_price_growth_pct_per_year": rng.choice([0, 0, 25]),
        "network_hashrate_ehs": rng.choice([700, 900, 1100]),
        "network_hashrate_growth_pct_per_year": rng.choice([0, 30]),
        "fees_btc_per_block": rng.choice([0, 0.1]),
        "block_subsidy_btc": 3.125,
        "halving_months": [label(start + rng.randint(0, horizon))] if rng.random() < 0.25
        else [],
    }
    finance = {"discount_rate_pct_per_year": rng.choice([0, 0, 5, 12]),
               "value_beyond_horizon": rng.random() < 0.5}
    campuses = []
    for i in range(rng.choices([1, 2], weights=[2, 3])[0]):
        block = rng.choice([5, 10])
        max_it = block * rng.randint(1, 2)
        pue = rng.choice([1.1, 1.25, 1.4])
        miner = rng.choice([20, 40, 60])
        grid = max(miner + rng.choice([0, 0, 5]), math.ceil(max_it * pue))
        campuses.append({
            "campus_id": f"C{i + 1}", "name": f"Campus {i + 1}",
            "region": rng.choice(["ERCOT", "PJM"]), "grid_mw": grid,
            "power_price_usd_per_mwh": round(rng.uniform(30, 75), 1), "miner_mw": miner,
            "fleet_efficiency_j_per_th": rng.choice([17, 20, 25]),
            "mining_opex_usd_per_mw_month": rng.choice([0, 2_000]),
            "hpc_max_it_mw": max_it, "hpc_block_it_mw": block, "hpc_pue": pue,
            "capex_usd_per_it_mw": rng.choice([50_000, 200_000, 600_000]),
            "build_months": rng.randint(1, 4),
            "permit_ready": "" if rng.random() < 0.7 else label(start + rng.randint(-2, 4)),
            "hpc_opex_usd_per_it_mw_month": rng.choice([0, 5_000]),
        })
    ids = [c["campus_id"] for c in campuses]
    offers, phases = [], []
    for j in range(rng.choices([1, 2], weights=[2, 3])[0]):
        host = rng.choice(campuses)
        block = host["hpc_block_it_mw"]
        it_mw = rng.choice([block, host["hpc_max_it_mw"], host["hpc_max_it_mw"]])
        term = rng.randint(3, 30)
        early = start + rng.randint(-2, horizon - 3)
        offer = {
            "offer_id": f"O{j + 1}", "tenant": f"Tenant {j + 1}", "it_mw": it_mw,
            "rate_usd_per_kw_month": round(rng.uniform(60, 260), 1),
            "escalator_pct_per_year": rng.choice([0, 5]),
            "term_months": term,
            "earliest_start": label(early), "latest_start": label(early + rng.randint(0, 5)),
            "campuses": rng.choice(["*", "*", *ids]),
            "signed": "true" if rng.random() < 0.25 else "false",
            "max_delay_months": rng.choice([0, 1, 2, 4]),
            "late_penalty_usd_per_month": rng.choice([0, 50_000, 400_000, 2_000_000]),
        }
        if rng.random() < 0.3:
            offer["prepayment_usd"] = rng.choice([500_000, 3_000_000])
            offer["prepayment_credit_months"] = rng.randint(1, term)
            offer["signing_month"] = rng.choice(["", label(start - 2),
                                                 label(start + rng.randint(0, horizon - 1))])
            # validation: signed by the last start, credited no faster than the rent is due
            closes = ordinal(offer["latest_start"]) + offer["max_delay_months"]
            if offer["signing_month"] and ordinal(offer["signing_month"]) > closes:
                offer["signing_month"] = label(closes)

        if rng.random() < 0.3:
            offer["tenant_capex_pct"] = rng.choice([25, 100])
        if rng.random() < 0.5 and it_mw > 2.5:
            first = rng.choice([it_mw / 2, block if block < it_mw else 2.5])
            phases += [{"offer_id": offer["offer_id"], "phase": 1, "it_mw": first,
                        "months_after_start": 0},
                       {"offer_id": offer["offer_id"], "phase": 2, "it_mw": it_mw - first,
                        "months_after_start": rng.randint(1, min(term - 1, 8))}]
        if "prepayment_usd" in offer:
            first_mw = first if phases and phases[-1]["offer_id"] == offer["offer_id"] \
                else it_mw
            first_rent = first_mw * 1000 * offer["rate_usd_per_kw_month"]
            fewest = math.ceil(offer["prepayment_usd"] / first_rent)
            if fewest > term:
                offer["prepayment_usd"] = math.floor(first_rent * term)
                fewest = term
            offer["prepayment_credit_months"] = max(offer["prepayment_credit_months"], fewest)
        offers.append(offer)
    limits: dict = {}
    if rng.random() < 0.5:
        limits["max_it_mw_started_per_year"] = rng.choice([5, 10, 15])
    if rng.random() < 0.3:
        region = rng.choice(campuses)["region"]
        limits["max_it_mw_started_per_year_by_region"] = {region: rng.choice([0, 5, 10])}
    return Instance(seed, start, horizon, market, finance, campuses, offers, phases, limits)


# ---------------------------------------------------------------------------------------------
# Brute force (independent of siteopt.model)
# ---------------------------------------------------------------------------------------------


class BruteForce:
    def __init__(self, inst: Instance):
        self.inst = inst
        H = inst.horizon
        self.H = H
        self.vbh = inst.finance["value_beyond_horizon"]
        rate = inst.finance["discount_rate_pct_per_year"] / 100
        self.rate = rate
        mk = inst.market
        halvings = [ordinal(h) for h in mk["halving_months"]]
        self.days = [calendar.monthrange((inst.start + m) // 12, (inst.start + m) % 12 + 1)[1]
                     for m in range(H)]
        self.hashprice = []
        for m in range(H):
            subsidy = mk["block_subsidy_btc"] / 2 ** sum(h <= inst.start + m for h in halvings)
            btc = mk["btc_price_usd"] * (1 + mk["btc_price_growth_pct_per_year"] / 100) ** (m / 12)
            net = mk["network_hashrate_ehs"] * (
                1 + mk["network_hashrate_growth_pct_per_year"] / 100) ** (m / 12)
            self.hashprice.append(144 * (subsidy + mk["fees_btc_per_block"]) * btc / (net * 1000))

    def df(self, m: int) -> float:
        return (1 + self.rate) ** (-(m + 1) / 12)

    def counts(self, m: int) -> bool:
        return m < self.H or self.vbh

    # --- campus side -------------------------------------------------------------------------

    def margin_per_mw(self, c: dict, m: int) -> float:
        d = self.days[m]
        revenue = self.hashprice[m] * 1000 / c["fleet_efficiency_j_per_th"] * d
        return revenue - 24 * d * c["power_price_usd_per_mwh"] - c["mining_opex_usd_per_mw_month"]

    def schedules(self, c: dict) -> list[tuple[int, ...]]:
        n_max = int(math.floor(c["hpc_max_it_mw"] / c["hpc_block_it_mw"] + 1e-9))
        months = range(self.inst.permit(c), self.H)
        return [s for k in range(n_max + 1)
                for s in itertools.combinations_with_replacement(months, k)]

    def campus_value(self, c: dict, starts: tuple[int, ...]) -> tuple[float, np.ndarray]:
        """Discounted mining − capex − HPC opex of ready MW (horizon), and ready IT MW."""
        b, L = c["hpc_block_it_mw"], c["build_months"]
        value = 0.0
        ready = np.zeros(self.H)
        for m in range(self.H):
            started = b * sum(s <= m for s in starts)
            ready[m] = b * sum(s + L <= m for s in starts)
            margin = self.margin_per_mw(c, m)
            mining = min(c["miner_mw"], c["grid_mw"] - c["hpc_pue"] * started) if margin > 0 \
                else 0.0
            assert mining >= -1e-9
            value += (mining * margin - ready[m] * c["hpc_opex_usd_per_it_mw_month"]) * self.df(m)
        for s in starts:
            for m in range(s, s + L):
                if self.counts(m):
                    value -= b * c["capex_usd_per_it_mw"] / L * self.df(m)
        return value, ready

    # --- lease side --------------------------------------------------------------------------

    def lease_value(self, o: dict, c: dict, s: int) -> tuple[float, np.ndarray, list]:
        """Discounted lease cash (rent − HPC opex on the leased MW after the horizon − late
        penalties + prepayment − its credit), the IT MW to cover per month, and the lease's
        tenant-capex claims: (delivery month for capacity, IT MW, discounted USD per MW).

        A phase due after the horizon must be covered from the horizon's last month. A
        prepayment credit (rent already received, owed back) and tenant capex (capex already
        paid, owed by the tenant) count in every month, counted or not: after the horizon,
        when its cash is not counted, they are valued at present value at its end."""
        value = 0.0
        leased = np.zeros(self.H)
        claims = []
        term = o["term_months"]
        share = o.get("tenant_capex_pct", 0) / 100
        L = c["build_months"]
        for mw, after in self.inst.ramp(o):
            leased[min(s + after, self.H - 1):min(s + term, self.H)] += mw
            for k in range(after, term):
                m = s + k
                if not self.counts(m):
                    continue
                rent = mw * 1000 * o["rate_usd_per_kw_month"] * (
                    1 + o["escalator_pct_per_year"] / 100) ** (k // 12)
                opex = mw * c["hpc_opex_usd_per_it_mw_month"] if m >= self.H else 0.0
                value += (rent - opex) * self.df(m)
            if share:
                per_mw = sum(share * c["capex_usd_per_it_mw"] / L * self.df(m)
                             for m in range(s + after - L, s + after))
                claims.append((min(s + after, self.H - 1), mw, per_mw))
        latest = ordinal(o["latest_start"]) - self.inst.start
        for m in range(max(0, latest), s):
            value -= o.get("late_penalty_usd_per_month", 0) * self.df(m)
        prepayment = o.get("prepayment_usd", 0)
        if prepayment:
            signing = ordinal(o["signing_month"]) - self.inst.start \
                if o.get("signing_month") else 0
            if signing >= 0 and self.counts(signing):
                value += prepayment * self.df(signing)
            n = o["prepayment_credit_months"]
            for m in range(s, s + n):
                value -= prepayment / n * self.df(m)
        return value, leased, claims

    def tenant_capex_value(self, c: dict, starts: tuple[int, ...], claims: list) -> float:
        """Best discounted tenant capex a campus's leases can claim: a block funds the
        deliveries of the month it becomes ready (started L months before), each of its IT MW
        once; within a month the claims worth most per MW go first (a knapsack with
        divisible items)."""
        b, L = c["hpc_block_it_mw"], c["build_months"]
        value = 0.0
        for d in {d for d, _, _ in claims}:
            room = b * sum(t == d - L for t in starts)
            for _, mw, per_mw in sorted((x for x in claims if x[0] == d), key=lambda x: -x[2]):
                funded = min(mw, room)
                room -= funded
                value += funded * per_mw
        return value

    def choices(self, o: dict) -> list:
        options = [(c["campus_id"], s) for c in self.inst.eligible(o)
                   for s in self.inst.window(o)]
        return options if o["signed"] == "true" else [None, *options]

    def work(self) -> int:
        combos = math.prod(len(self.choices(o)) for o in self.inst.offers)
        return combos * sum(len(self.schedules(c)) for c in self.inst.campuses)

    # --- supply caps -------------------------------------------------------------------------

    def years(self) -> list[int]:
        return sorted({self.inst.year(m) for m in range(self.H)})

    def started_by_year(self, c: dict, starts: tuple[int, ...]) -> tuple[float, ...]:
        return tuple(c["hpc_block_it_mw"] * sum(self.inst.year(s) == y for s in starts)
                     for y in self.years())

    def within_caps(self, usage: dict[str, tuple[float, ...]]) -> bool:
        """usage: campus_id → IT MW started per calendar year (self.years())."""
        limits = self.inst.limits
        region = {c["campus_id"]: c.get("region", "ERCOT") for c in self.inst.campuses}
        groups = []
        if limits.get("max_it_mw_started_per_year") is not None:
            groups.append((list(usage), limits["max_it_mw_started_per_year"]))
        for name, cap in limits.get("max_it_mw_started_per_year_by_region", {}).items():
            groups.append(([cid for cid in usage if region[cid] == name], cap))
        return all(sum(usage[cid][i] for cid in members) <= cap + 1e-9
                   for members, cap in groups for i in range(len(self.years())))

    # --- search ------------------------------------------------------------------------------

    def optimum(self) -> float | None:
        """Best NPV over all feasible plans, or None when no plan is feasible."""
        inst = self.inst
        by_id = {c["campus_id"]: c for c in inst.campuses}
        tables = {}
        for c in inst.campuses:
            schedules = self.schedules(c)
            rows = [self.campus_value(c, s) for s in schedules]
            usage = [self.started_by_year(c, s) for s in schedules]
            keys = sorted(set(usage))
            tables[c["campus_id"]] = (np.array([v for v, _ in rows]),
                                      np.array([r for _, r in rows]),
                                      np.array([keys.index(u) for u in usage]), keys)
        # Which combinations of per-campus usage vectors the caps allow (leases do not matter).
        cids = list(tables)
        allowed = np.zeros([len(tables[cid][3]) for cid in cids], dtype=bool)
        for index in itertools.product(*(range(len(tables[cid][3])) for cid in cids)):
            allowed[index] = self.within_caps({cid: tables[cid][3][k]
                                               for cid, k in zip(cids, index)})
        schedules = {c["campus_id"]: self.schedules(c) for c in inst.campuses}
        best = None
        for combo in itertools.product(*(self.choices(o) for o in inst.offers)):
            total = 0.0
            leased = {cid: np.zeros(self.H) for cid in by_id}
            claims: dict[str, list] = {cid: [] for cid in by_id}
            for o, choice in zip(inst.offers, combo):
                if choice is None:
                    continue
                cid, s = choice
                value, q, wanted = self.lease_value(o, by_id[cid], s)
                total += value
                leased[cid] += q
                claims[cid] += wanted
            grid = np.zeros(allowed.shape)
            for axis, cid in enumerate(cids):
                values, ready, key, keys = tables[cid]
                if claims[cid]:
                    values = values + np.array([
                        self.tenant_capex_value(by_id[cid], starts, claims[cid])
                        for starts in schedules[cid]])
                ok = (ready >= leased[cid] - 1e-9).all(axis=1)
                per_key = np.full(len(keys), -np.inf)
                np.maximum.at(per_key, key, np.where(ok, values, -np.inf))
                shape = [1] * len(cids)
                shape[axis] = len(keys)
                grid = grid + per_key.reshape(shape)
            grid = np.where(allowed, grid, -np.inf)
            if np.isfinite(grid).any():
                total += grid.max()
                best = total if best is None else max(best, total)
        return best

    def plan_value(self, blocks: dict[str, tuple[int, ...]],
                   leases: dict[str, tuple[str, int]]) -> float:
        """NPV of a given plan; asserts it is feasible under the spec's rules."""
        inst = self.inst
        by_id = {c["campus_id"]: c for c in inst.campuses}
        total = 0.0
        leased = {cid: np.zeros(self.H) for cid in by_id}
        claims: dict[str, list] = {cid: [] for cid in by_id}
        for o in inst.offers:
            if o["offer_id"] not in leases:
                assert o["signed"] != "true", f"signed {o['offer_id']} not accepted"
                continue
            cid, s = leases[o["offer_id"]]
            assert (cid, s) in self.choices(o), f"{o['offer_id']} at {cid} from {s}: not allowed"
            value, q, wanted = self.lease_value(o, by_id[cid], s)
            total += value
            leased[cid] += q
            claims[cid] += wanted
        for cid, c in by_id.items():
            starts = blocks.get(cid, ())
            assert all(s >= inst.permit(c) for s in starts), f"{cid}: block before permit"
            assert len(starts) * c["hpc_block_it_mw"] <= c["hpc_max_it_mw"] + 1e-9
            value, ready = self.campus_value(c, starts)
            assert (ready >= leased[cid] - 1e-9).all(), f"{cid}: leased MW above ready MW"
            total += value + self.tenant_capex_value(c, starts, claims[cid])
        assert self.within_caps({cid: self.started_by_year(c, blocks.get(cid, ()))
                                 for cid, c in by_id.items()}), "supply cap exceeded"
        return total


# ---------------------------------------------------------------------------------------------
# What the model should say
# ---------------------------------------------------------------------------------------------


def rejected_by_validation(inst: Instance) -> bool:
    """Signed leases validation refuses (siteopt.inputs._check_offers): start window outside
    the horizon, or more IT MW than any eligible campus's hpc_max_it_mw."""
    for o in inst.offers:
        if o["signed"] != "true":
            continue
        if not inst.window(o):
            return True
        if o["it_mw"] > max(c["hpc_max_it_mw"] for c in inst.eligible(o)):
            return True
    return False


def signed_without_reachable_start(inst: Instance) -> bool:
    """A signed lease (past validation) with no eligible campus where it fits and a start in
    its window at or after permit + build_months: it can never be delivered."""
    return any(
        o["signed"] == "true" and not any(
            c["hpc_max_it_mw"] + 1e-9 >= o["it_mw"] and s >= inst.permit(c) + c["build_months"]
            for c in inst.eligible(o) for s in inst.window(o))
        for o in inst.offers)


def _instances(make, seeds: int, prefix: str):
    kept, skipped = [], []
    for seed in range(seeds):
        inst = make(seed)
        if BruteForce(inst).work() > MAX_WORK:
            skipped.append(seed)
            continue
        kept.append(pytest.param(inst, id=f"{prefix}{seed}"))
    return kept, skipped


BASE_INSTANCES, SKIPPED = _instances(generate, N_SEEDS, "seed")
TERMS_INSTANCES, TERMS_SKIPPED = _instances(generate_terms, N_TERMS_SEEDS, "terms")
INSTANCES = BASE_INSTANCES + TERMS_INSTANCES


def write(case, inst: Instance):
    extra = {"limits": inst.limits} if inst.limits else {}
    return case(campuses=inst.campuses, offers=inst.offers, phases=inst.phases or None,
                horizon={"start": label(inst.start), "months": inst.horizon},
                market=inst.market, finance=inst.finance,
                solver={"mip_gap_pct": 0, "time_limit_s": 60, "threads": 1}, **extra)


def model_plan(results, inst: Instance):
    cm = results.campus_month
    cm = cm[cm["in_horizon"] & (cm["blocks_started"] > 0)]
    blocks: dict[str, list[int]] = {}
    for row in cm.itertuples():
        blocks.setdefault(row.campus_id, []).extend(
            [ordinal(row.month) - inst.start] * int(row.blocks_started))
    accepted = results.leases[results.leases["accepted"]]
    leases = {row.offer_id: (row.campus_id, ordinal(row.start_month) - inst.start)
              for row in accepted.itertuples()}
    return {k: tuple(v) for k, v in blocks.items()}, leases


@pytest.mark.parametrize("inst", INSTANCES)
def test_model_matches_brute_force(case, inst: Instance):
    brute = BruteForce(inst)
    best = brute.optimum()
    path = write(case, inst)
    if rejected_by_validation(inst):
        assert best is None, "validation rejects a signed lease that brute force can deliver"
        with pytest.raises(InputError, match="signed lease"):
            solve_scenario(path)
        return
    results = solve_scenario(path)
    status = results.summary["status"]
    if best is None:
        assert status == "infeasible", f"brute force: infeasible; model: {status}, " \
                                       f"NPV {results.summary['npv_usd']}"
        if signed_without_reachable_start(inst):
            assert any("Signed lease" in d for d in results.summary["diagnosis"])
        return
    assert status == "optimal", f"brute force optimum {best:,.2f}; model status {status}"
    assert results.summary["audit"] == {"passed": True, "violations": []}
    npv = results.summary["npv_usd"]
    assert npv == pytest.approx(best, rel=1e-6, abs=1e-2), \
        f"model NPV {npv:,.2f} ≠ brute-force optimum {best:,.2f}"
    # The model's own plan, valued independently, is feasible and worth what it reports.
    blocks, leases = model_plan(results, inst)
    assert brute.plan_value(blocks, leases) == pytest.approx(npv, rel=1e-6, abs=1e-2)


def test_enough_instances_are_compared():
    """Most generated instances fit the enumeration budget."""
    assert len(BASE_INSTANCES) >= MIN_COMPARED, (len(BASE_INSTANCES), SKIPPED)
    assert len(TERMS_INSTANCES) >= MIN_COMPARED, (len(TERMS_INSTANCES), TERMS_SKIPPED)
    # The mix exercises what it should: offers, signed leases, infeasible and on/off valuation.
    insts = [p.values[0] for p in BASE_INSTANCES]
    assert sum(bool(i.offers) for i in insts) >= 15
    assert any(o["signed"] == "true" for i in insts for o in i.offers)
    assert {i.finance["value_beyond_horizon"] for i in insts} == {True, False}
    assert any(len(i.campuses) == 2 for i in insts)


def test_deal_terms_mix():
    """The deal-terms family exercises ramps, late starts, prepayments, tenant capex and both
    kinds of supply cap, often on horizons that cross a new year."""
    insts = [p.values[0] for p in TERMS_INSTANCES]
    offers = [o for i in insts for o in i.offers]
    assert sum(bool(i.phases) for i in insts) >= 15
    assert any(p["months_after_start"] >= i.horizon for i in insts for p in i.phases)
    assert sum(o["max_delay_months"] > 0 and o["late_penalty_usd_per_month"] > 0
               for o in offers) >= 20
    assert sum("prepayment_usd" in o for o in offers) >= 10
    assert any(o.get("signing_month") == "" for o in offers)
    assert any(o.get("signing_month", "") and ordinal(o["signing_month"]) < i.start
               for i in insts for o in i.offers)
    assert sum("tenant_capex_pct" in o for o in offers) >= 10
    assert sum("max_it_mw_started_per_year" in i.limits for i in insts) >= 15
    assert sum(bool(i.limits.get("max_it_mw_started_per_year_by_region")) for i in insts) >= 8
    assert sum(len({(i.start + m) // 12 for m in range(i.horizon)}) > 1 for i in insts) >= 30
    assert sum(o["signed"] == "true" for o in offers) >= 10
    assert {i.finance["value_beyond_horizon"] for i in insts} == {True, False}


def test_caps_and_deal_terms_change_the_brute_force_optimum():
    """The deal-terms features bind in the generated instances: removing each one changes the
    brute-force optimum of some instance (so the comparisons above test them)."""
    changed = {"phases": 0, "late": 0, "caps": 0}
    for param in TERMS_INSTANCES:
        inst = param.values[0]
        best = BruteForce(inst).optimum()
        if best is None:
            continue
        variants = {
            "phases": replace(inst, phases=[]) if inst.phases else None,
            "late": replace(inst, offers=[{**o, "max_delay_months": 0} for o in inst.offers])
            if any(o["max_delay_months"] for o in inst.offers) else None,
            "caps": replace(inst, limits={}) if inst.limits else None,
        }
        for name, variant in variants.items():
            if variant is None:
                continue
            other = BruteForce(variant).optimum()
            if other is None or abs(other - best) > 0.01:
                changed[name] += 1
    assert all(n >= 3 for n in changed.values()), changed


def test_brute_force_finds_known_optimum():
    """Sanity check of the brute force itself against test_model_cases' lead-time case:
    block in Jan, 10 MW leased Jul–Dec → 37,937,500."""
    campus = {"campus_id": "C1", "grid_mw": 100, "power_price_usd_per_mwh": 62.5,
              "miner_mw": 100, "fleet_efficiency_j_per_th": 20,
              "mining_opex_usd_per_mw_month": 0, "hpc_max_it_mw": 20, "hpc_block_it_mw": 10,
              "hpc_pue": 1.25, "capex_usd_per_it_mw": 300_000, "build_months": 6,
              "permit_ready": "", "hpc_opex_usd_per_it_mw_month": 0}
    offer = {"offer_id": "O1", "it_mw": 10, "rate_usd_per_kw_month": 150,
             "escalator_pct_per_year": 0, "term_months": 120, "earliest_start": "2027-01",
             "latest_start": "2027-12", "campuses": "*", "signed": "false"}
    market = {"btc_price_usd": 100_000, "btc_price_growth_pct_per_year": 0,
              "network_hashrate_ehs": 900, "network_hashrate_growth_pct_per_year": 0,
              "fees_btc_per_block": 0, "block_subsidy_btc": 3.125, "halving_months": []}
    inst = Instance(0, ordinal("2027-01"), 12, market,
                    {"discount_rate_pct_per_year": 0, "value_beyond_horizon": False},
                    [campus], [offer])
    brute = BruteForce(inst)
    assert brute.optimum() == pytest.approx(37_937_500.0, abs=0.01)
    assert brute.plan_value({"C1": (0,)}, {"O1": ("C1", 6)}) == pytest.approx(37_937_500.0)
    inst.offers[0]["signed"] = "true"
    inst.offers[0]["latest_start"] = "2027-03"  # cannot be ready before 2027-07
    assert BruteForce(inst).optimum() is None


def test_brute_force_reproduces_hand_worked_deal_terms():
    """Sanity check of the brute force's deal terms against test_deal_terms' hand arithmetic:
    phased ramp 51,000,000; one month late 37,837,500; prepayment 37,937,500 (at 0 % an
    interest-free prepayment is worth nothing); tenant capex 39,137,500; yearly cap pushing a
    start into 2028: 47,250,000."""
    campus = {"campus_id": "C1", "grid_mw": 100, "power_price_usd_per_mwh": 62.5,
              "miner_mw": 100, "fleet_efficiency_j_per_th": 20,
              "mining_opex_usd_per_mw_month": 0, "hpc_max_it_mw": 50, "hpc_block_it_mw": 10,
              "hpc_pue": 1.25, "capex_usd_per_it_mw": 300_000, "build_months": 6,
              "permit_ready": "", "hpc_opex_usd_per_it_mw_month": 0}
    offer = {"offer_id": "O1", "it_mw": 10, "rate_usd_per_kw_month": 150,
             "escalator_pct_per_year": 0, "term_months": 120, "earliest_start": "2027-01",
             "latest_start": "2027-12", "campuses": "*", "signed": "false"}
    market = {"btc_price_usd": 100_000, "btc_price_growth_pct_per_year": 0,
              "network_hashrate_ehs": 900, "network_hashrate_growth_pct_per_year": 0,
              "fees_btc_per_block": 0, "block_subsidy_btc": 3.125, "halving_months": []}
    finance = {"discount_rate_pct_per_year": 0, "value_beyond_horizon": False}

    def optimum(campus_changes, offers, phases=(), limits=None, start="2027-01"):
        inst = Instance(0, ordinal(start), 12, market, finance, [{**campus, **campus_changes}],
                        [{**offer, **o} for o in offers], list(phases), limits or {})
        return BruteForce(inst).optimum()

    ramp = [{"offer_id": "O1", "phase": 1, "it_mw": 10, "months_after_start": 0},
            {"offer_id": "O1", "phase": 2, "it_mw": 10, "months_after_start": 3}]
    assert optimum({"build_months": 1}, [{"it_mw": 20}], ramp) == pytest.approx(51_000_000.0)
    assert optimum({}, [{"latest_start": "2027-06", "max_delay_months": 2,
                         "late_penalty_usd_per_month": 100_000}]) == pytest.approx(37_837_500.0)
    assert optimum({}, [{"latest_start": "2027-04", "max_delay_months": 2,
                         "late_penalty_usd_per_month": 100_000}]) == pytest.approx(36_500_000.0)
    assert optimum({}, [{"prepayment_usd": 1_200_000, "prepayment_credit_months": 12,
                         "signing_month": ""}]) == pytest.approx(37_937_500.0)
    assert optimum({}, [{"tenant_capex_pct": 40}]) == pytest.approx(39_137_500.0)
    two = [{"offer_id": "O1", "earliest_start": "2027-07", "latest_start": "2028-06"},
           {"offer_id": "O2", "rate_usd_per_kw_month": 140, "earliest_start": "2027-07",
            "latest_start": "2028-06"}]
    assert optimum({"build_months": 1}, two, start="2027-07") == pytest.approx(53_350_000.0)
    assert optimum({"build_months": 1}, two, limits={"max_it_mw_started_per_year": 10},
                   start="2027-07") == pytest.approx(47_250_000.0)
