"""Independent audit of a written plan: every constraint and every cash line, from the inputs.

This recomputes from the inputs and the result tables alone — not from the model — so a
mistake in the model's bookkeeping shows up as a violation here. It runs after every solve
(its verdict goes into summary.json) and in the tests on every scenario.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pandas as pd

from siteopt.contract import CAMPUS_SIGN as CAMPUS_LINES
from siteopt.contract import SIGN as LINES
from siteopt.inputs import Inputs
from siteopt.inputs.months import days, label, parse_month

MW_TOL = 1e-6
USD_TOL = 0.005  # half a cent


class _Audit:
    def __init__(self, inputs: Inputs, campus_month: pd.DataFrame, leases: pd.DataFrame):
        self.inputs = inputs
        self.scenario = inputs.scenario
        self.first = parse_month(self.scenario.horizon.start)
        self.horizon = self.scenario.horizon.months
        cm = campus_month.copy()
        cm["t"] = [parse_month(m) - self.first for m in cm["month"]]
        self.cm = cm.join(inputs.campuses, on="campus_id")
        self.leases = leases
        self.problems: list[str] = []
        self.expected: dict[str, pd.Series] = {}
        finance = self.scenario.finance
        self.counts_after = finance.value_beyond_horizon and \
            finance.terminal_value.method == "beyond_horizon"
        # valuation lines of amounts due after the horizon when its cash is not counted
        self.settled: dict[str, float] = defaultdict(float)
        self.funded: dict[str, list[tuple[int, float]]] = defaultdict(list)

    def report(self, mask: pd.Series, text: str) -> None:
        if not np.asarray(mask).any():
            return
        for row in self.cm[mask].head(5).itertuples():
            self.problems.append(f"{row.campus_id} {row.month}: {text}")

    def zeros(self) -> pd.Series:
        return pd.Series(0.0, index=self.cm.index)

    # -- families ---------------------------------------------------------------------------

    def mining(self) -> None:
        cm, horizon = self.cm, self.horizon
        inside = cm[cm["t"] < horizon]
        expected_rows = len(self.inputs.campuses) * horizon
        if len(inside) != expected_rows:
            self.problems.append(f"campus_month has {len(inside)} rows inside the horizon, "
                                 f"expected {expected_rows}")
        self.report((cm["t"] >= horizon) & (cm["mining_mw"] > MW_TOL), "mining after the horizon")
        self.report(cm["mining_mw"] < -MW_TOL, "negative mining_mw")
        self.report(cm["mining_mw"] > cm["miner_mw"] - cm["miners_sold_mw"] + MW_TOL,
                    "mining_mw above the miners not sold")

    def conversion(self) -> None:
        cm, first = self.cm, self.first
        self.started = self.zeros()
        self.ready = self.zeros()
        limits = self.scenario.limits
        by_year: dict[int, float] = defaultdict(float)
        by_region_year: dict[tuple, float] = defaultdict(float)
        for campus_id, rows in cm.groupby("campus_id"):
            c = self.inputs.campuses.loc[campus_id]
            starts = rows.set_index("t")["blocks_started"]
            if (starts != np.round(starts)).any() or (starts < 0).any():
                self.problems.append(f"{campus_id}: blocks_started not a whole number >= 0")
            permit = parse_month(c["permit_ready"]) - first if c["permit_ready"] else 0
            if starts[starts.index < permit].sum() > 0:
                self.problems.append(f"{campus_id}: construction starts before permit "
                                     f"{c['permit_ready']}")
            late = starts.index > self.horizon - 1 - int(c["build_months"])
            if starts[late].sum() > 0:
                self.problems.append(f"{campus_id}: a block starts too late to be ready inside "
                                     f"the horizon")
            total = starts.sum() * c["hpc_block_it_mw"]
            if total > c["hpc_max_it_mw"] + MW_TOL:
                self.problems.append(f"{campus_id}: {total:g} IT MW started exceeds "
                                     f"hpc_max_it_mw")
            for t, n in starts[starts > 0].items():
                by_year[(first + t) // 12] += n * c["hpc_block_it_mw"]
                by_region_year[c["region"], (first + t) // 12] += n * c["hpc_block_it_mw"]
            full = np.zeros(int(rows["t"].max()) + 1)
            full[starts.index.to_numpy()] = starts.to_numpy()
            cum = np.cumsum(full) * c["hpc_block_it_mw"]
            build = int(c["build_months"])
            ready = np.concatenate([np.zeros(build), cum])[: len(cum)]
            self.started[rows.index] = cum[rows["t"].to_numpy()]
            self.ready[rows.index] = ready[rows["t"].to_numpy()]
        cap = limits.max_it_mw_started_per_year
        for year, mw in by_year.items():
            if cap is not None and mw > cap + MW_TOL:
                self.problems.append(f"{year}: {mw:g} IT MW started exceeds "
                                     f"max_it_mw_started_per_year {cap:g}")
        for (region, year), mw in by_region_year.items():
            cap = limits.max_it_mw_started_per_year_by_region.get(region)
            if cap is not None and mw > cap + MW_TOL:
                self.problems.append(f"{region} {year}: {mw:g} IT MW started exceeds its cap "
                                     f"{cap:g}")
        self.report((cm["it_ready_mw"] - self.ready).abs() > MW_TOL,
                    "it_ready_mw differs from block starts")
        self.report((cm["it_under_construction_mw"] + cm["it_ready_mw"] - self.started).abs()
                    > MW_TOL, "IT MW under construction + ready differs from block starts")
        self.report(cm["mining_mw"] + cm["hpc_pue"] * self.started > cm["grid_mw"] + MW_TOL,
                    "mining + PUE × IT MW started exceeds grid_mw (power_shared_with_mining)")

    def salvage(self) -> None:
        """Miners are tracked as sold only when some campus gives them a salvage value."""
        cm = self.cm
        sold = cm["miners_sold_mw"]
        if not (self.inputs.campuses["asic_salvage_usd_per_mw"] > 0).any():
            self.report(sold.abs() > MW_TOL, "miners sold without any salvage value")
            self.expected["asic_salvage_usd"] = self.zeros()
            return
        inside = cm["t"] < self.horizon
        facility = cm["hpc_pue"] * self.started
        headroom = (cm["grid_mw"] - cm["miner_mw"]).clip(lower=0)
        self.report(inside & (sold < facility - headroom - MW_TOL),
                    "miners that no longer fit beside conversion were not sold")
        self.report(inside & (sold > facility + MW_TOL),
                    "more miners sold than conversion displaced")
        previous = sold.groupby(cm["campus_id"]).shift(1).fillna(0.0)
        self.report(sold < previous - MW_TOL, "miners_sold_mw fell")
        first_row = cm["t"] == 0
        sale = np.where(first_row, sold, sold - previous)
        self.expected["asic_salvage_usd"] = np.where(
            inside, sale * cm["asic_salvage_usd_per_mw"], 0.0)

    def leases_(self) -> None:
        cm, first, horizon = self.cm, self.first, self.horizon
        offers = self.inputs.offers
        n = len(cm)
        leased, rent, opex_after = np.zeros(n), np.zeros(n), np.zeros(n)
        penalty, prepaid, credit, tenant_capex = (np.zeros(n) for _ in range(4))
        accepted_mw: dict[str, float] = {}
        # one mask per campus and plain month numbers: comparing the campus column for every
        # delivery costs more than all the rest on large plans
        t = cm["t"].to_numpy()
        rows_of = {c: (cm["campus_id"] == c).to_numpy() for c in cm["campus_id"].unique()}
        for offer_id, rows in self.leases.groupby("offer_id", sort=False):
            offer = offers.loc[offer_id]
            taken = rows[rows["accepted"].astype(bool)]
            if offer["signed"] and taken.empty:
                self.problems.append(f"signed lease {offer_id} not delivered")
            if taken.empty:
                continue
            starts = {parse_month(s) - first for s in taken["start_month"]}
            if len(starts) != 1:
                self.problems.append(f"{offer_id}: deliveries disagree on the start month")
            s = min(starts)
            latest = parse_month(offer["latest_start"]) - first
            early = parse_month(offer["earliest_start"]) - first
            if not (early <= s <= latest + int(offer["max_delay_months"])) or not \
                    0 <= s < horizon:
                self.problems.append(f"{offer_id}: start {label(first + s)} outside its "
                                     f"window")
            if not offer["split"] and taken["campus_id"].nunique() != 1:
                self.problems.append(f"{offer_id}: not split but delivered at several campuses")
            ramp = self.inputs.offer_phases[self.inputs.offer_phases["offer_id"] == offer_id]
            for phase in ramp.itertuples():
                got = taken.loc[taken["phase"] == phase.phase, "it_mw"].sum()
                if abs(got - phase.it_mw) > MW_TOL:
                    self.problems.append(f"{offer_id} phase {phase.phase}: {got:g} IT MW "
                                         f"delivered, {phase.it_mw:g} due")
            accepted_mw[offer_id] = float(offer["it_mw"])
            term = int(offer["term_months"])
            after_of = dict(zip(ramp["phase"], ramp["months_after_start"]))
            for d in taken.itertuples():
                c = self.inputs.campuses.loc[d.campus_id]
                if d.campus_id not in offer["campuses"]:
                    self.problems.append(f"{offer_id}: campus {d.campus_id} not eligible")
                if offer["split"] and abs(d.it_mw / c["hpc_block_it_mw"]
                                          - round(d.it_mw / c["hpc_block_it_mw"])) > 1e-9:
                    self.problems.append(f"{offer_id}: {d.it_mw:g} IT MW at {d.campus_id} is "
                                         f"not a whole number of its blocks")
                delivery = s + int(after_of[d.phase])
                if d.delivery_month != label(first + delivery):
                    self.problems.append(f"{offer_id}: phase {d.phase} delivery month wrong")
                at = rows_of[d.campus_id]
                here = at & (t >= delivery) & (t < s + term)
                leased[here] += d.it_mw
                years = (t[here] - s) // 12
                rent[here] += d.it_mw * 1000 * offer["rate_usd_per_kw_month"] \
                    * (1 + offer["escalator_pct_per_year"] / 100) ** years
                after = here & (t >= horizon)
                opex_after[after] += d.it_mw * c["hpc_opex_usd_per_it_mw_month"]
                build = int(c["build_months"])
                before = at & (t >= delivery - build) & (t < delivery)
                funded = self._tenant_funded_mw(offer_id, offer, d, c)
                tenant_capex[before] += offer["tenant_capex_pct"] / 100 * funded \
                    * c["capex_usd_per_it_mw"] / build
                self.settled["tenant_capex_receivable_usd"] += self._settled(
                    range(delivery - build, delivery),
                    offer["tenant_capex_pct"] / 100 * funded * c["capex_usd_per_it_mw"] / build)
                if funded > 0:
                    self.funded[d.campus_id].append((min(delivery, horizon - 1), funded))
                share = d.it_mw / offer["it_mw"]
                late = at & (t >= max(0, latest)) & (t < s)
                penalty[late] += share * offer["late_penalty_usd_per_month"]
                if offer["prepayment_usd"]:
                    signing = parse_month(offer["signing_month"]) - first \
                        if offer["signing_month"] else 0
                    prepaid[at & (t == signing)] += share * offer["prepayment_usd"]
                    n = int(offer["prepayment_credit_months"])
                    credit[at & (t >= s) & (t < s + n)] += \
                        share * offer["prepayment_usd"] / n
                    self.settled["prepayment_liability_usd"] += self._settled(
                        range(s, s + n), share * offer["prepayment_usd"] / n)
        leased, rent, opex_after, penalty, prepaid, credit, tenant_capex = (
            pd.Series(x, index=cm.index)
            for x in (leased, rent, opex_after, penalty, prepaid, credit, tenant_capex))
        self.leased = leased
        self.report((cm["it_leased_mw"] - leased).abs() > MW_TOL,
                    "it_leased_mw differs from leases")
        self.report(leased > self.ready + MW_TOL, "leased IT MW exceeds ready IT MW")
        self.expected.update({
            "lease_revenue_usd": rent, "late_penalty_usd": penalty, "prepayment_usd": prepaid,
            "prepayment_credit_usd": credit, "tenant_capex_usd": tenant_capex})
        self.opex_after = opex_after
        self.concentration(accepted_mw)
        self.tenant_capex_blocks(tenant_capex)

    def _tenant_funded_mw(self, offer_id: str, offer: pd.Series, d, c: pd.Series) -> float:
        """IT MW of a lease row whose fit-out its tenant funds, read back from the row's
        tenant_capex_usd; at most the row's IT MW."""
        share = offer["tenant_capex_pct"] / 100
        paid = float(d.tenant_capex_usd)
        if paid < -USD_TOL or (share == 0 and abs(paid) > USD_TOL):
            self.problems.append(f"{offer_id} at {d.campus_id}: tenant_capex_usd {paid:,.2f} "
                                 f"without a tenant capex share")
            return 0.0
        if share == 0 or c["capex_usd_per_it_mw"] == 0:
            return 0.0
        funded = paid / (share * c["capex_usd_per_it_mw"])
        if funded > d.it_mw + MW_TOL:
            self.problems.append(f"{offer_id} at {d.campus_id}: tenant capex for "
                                 f"{funded:g} IT MW, more than the row's {d.it_mw:g}")
        return funded

    def _settled(self, months: range, usd: float) -> float:
        """Present value at the horizon's last month of `usd` a month in the months whose
        cash is not counted (after the horizon when nothing after it is valued)."""
        if self.counts_after or not usd:
            return 0.0
        rate = self.scenario.finance.discount_rate_pct_per_year / 100
        last = self.horizon - 1
        return sum(usd * (1 + rate) ** (-(m - last) / 12) for m in months if m > last)

    def tenant_capex_blocks(self, tenant_capex: pd.Series) -> None:
        """Tenants fund only blocks built for them: the IT MW funded for the deliveries of a
        month fit in the blocks that became ready that month (started L months before), and
        a campus never collects more tenant capex than the capex it has paid."""
        cm = self.cm
        for campus_id, deliveries in self.funded.items():
            rows = cm[cm["campus_id"] == campus_id]
            starts = dict(zip(rows["t"], rows["blocks_started"]))
            c = self.inputs.campuses.loc[campus_id]
            build = int(c["build_months"])
            for d in sorted({month for month, _ in deliveries}):
                funded = sum(mw for month, mw in deliveries if month == d)
                new = starts.get(d - build, 0.0) * c["hpc_block_it_mw"]
                if funded > new + MW_TOL:
                    self.problems.append(
                        f"{campus_id} {label(self.first + d)}: tenants fund {funded:g} IT MW "
                        f"delivered then but only {new:g} IT MW of blocks became ready that "
                        f"month (tenant capex for a hall built before?)")
        capex = cm["capex_usd"] if "capex_usd" in cm else self.zeros()
        ahead = (tenant_capex.groupby(cm["campus_id"]).cumsum()
                 - capex.groupby(cm["campus_id"]).cumsum()) > USD_TOL
        self.report(ahead, "tenant capex received so far exceeds the capex paid so far")

    def concentration(self, accepted_mw: dict[str, float]) -> None:
        cap = self.scenario.limits.max_tenant_share_pct
        total = sum(accepted_mw.values())
        if cap is None or total == 0:
            return
        tenants = self.inputs.offers["tenant"]
        by_tenant: dict[str, float] = defaultdict(float)
        for offer_id, mw in accepted_mw.items():
            by_tenant[tenants[offer_id]] += mw
        for tenant, mw in by_tenant.items():
            if mw > cap / 100 * total + MW_TOL:
                self.problems.append(f"tenant {tenant}: {mw / total:.1%} of leased IT MW "
                                     f"exceeds max_tenant_share_pct {cap:g}")

    def spot(self) -> None:
        cm = self.cm
        market = self.scenario.market
        delay = market.hpc_spot_absorption_months
        share = market.hpc_spot_share_pct / 100
        ready_before = self.ready.groupby(cm["campus_id"]).shift(delay).fillna(0.0)
        inside = cm["t"] < self.horizon
        self.report(inside & (cm["spot_mw"] > share * (self.ready - self.leased) + MW_TOL),
                    "spot_mw above the share of unleased ready capacity")
        self.report(inside & (cm["spot_mw"] > share * ready_before + MW_TOL),
                    "spot_mw above the share of capacity ready for the absorption delay")
        self.report(~inside & (cm["spot_mw"] > MW_TOL), "spot letting after the horizon")
        rate = market.hpc_spot_rate_usd_per_kw_month
        self.expected["spot_revenue_usd"] = cm["spot_mw"] * 1000 * rate

    def campus_cash(self) -> None:
        cm, first, horizon = self.cm, self.first, self.horizon
        hashprice = self.inputs.market.set_index("month")["hashprice_usd_per_ph_day"]
        day_count = np.array([days(first + t) for t in cm["t"]], dtype=float)
        in_h = (cm["t"] < horizon).to_numpy()
        hp = np.where(in_h, cm["month"].map(hashprice).fillna(0.0).to_numpy(), 0.0)
        ph = cm["mining_mw"] * 1000 / cm["fleet_efficiency_j_per_th"]
        self.expected.update({
            "hashrate_ph_s": ph,
            "mining_revenue_usd": hp * ph * day_count,
            "power_cost_usd": cm["mining_mw"] * 24 * day_count * cm["power_price_usd_per_mwh"],
            "mining_opex_usd": cm["mining_mw"] * cm["mining_opex_usd_per_mw_month"],
            "hpc_opex_usd": np.where(in_h, self.ready * cm["hpc_opex_usd_per_it_mw_month"],
                                     self.opex_after),
            "capex_usd": (self.started - self.ready) * cm["capex_usd_per_it_mw"]
            / cm["build_months"],
        })
        for column, value in self.expected.items():
            tol = MW_TOL if column == "hashrate_ph_s" else USD_TOL
            unit = "" if column.endswith("_s") else "USD "
            self.report((cm[column] - value).abs() > tol + 1e-9 * np.abs(value),
                        f"{column} {unit}differs from its formula")
        net = sum(sign * cm[line] for line, sign in CAMPUS_LINES.items())
        self.report((cm["net_cash_usd"] - net).abs() > USD_TOL,
                    "net_cash_usd is not the sum of its lines")
        rate = self.scenario.finance.discount_rate_pct_per_year / 100
        self.report((cm["discount_factor"] - (1 + rate) ** (-(cm["t"] + 1) / 12)).abs() > 1e-12,
                    "discount_factor differs from (1 + r)^-((m + 1) / 12)")
        finance = self.scenario.finance
        counts_after = finance.value_beyond_horizon and \
            finance.terminal_value.method == "beyond_horizon"
        if not counts_after and (cm["t"] >= horizon).any():
            self.problems.append("months after the horizon are counted although neither "
                                 "value_beyond_horizon nor its method asks for it")

    def company(self, company_month: pd.DataFrame, npv_usd: float) -> None:
        """Company lines: campus totals, financing and valuation, funding limits, NPV."""
        finance = self.scenario.finance
        co = company_month.copy()
        co["t"] = [parse_month(m) - self.first for m in co["month"]]
        horizon, last = self.horizon, self.horizon - 1
        inside = co["t"] < horizon

        def check(column: str, expected, tol: float = USD_TOL) -> None:
            bad = (co[column] - expected).abs() > tol + 1e-9 * np.abs(expected)
            for row in co[bad].head(5).itertuples():
                self.problems.append(f"company {row.month}: {column} differs from its formula")

        totals = self.cm.groupby("month")[list(CAMPUS_LINES)].sum()
        for line in CAMPUS_LINES:
            check(line, co["month"].map(totals[line]).fillna(0.0))
        price = self.inputs.market.set_index("month")["btc_price_usd"]
        held = finance.btc_treasury_btc
        sold = co["btc_sold_btc"].where(inside, 0.0)
        if (sold < -MW_TOL).any() or sold.sum() > held + 1e-9:
            self.problems.append(f"BTC sold {sold.sum():g} is negative or exceeds the treasury "
                                 f"{held:g}")
        check("btc_sale_usd", sold * co["month"].map(price).fillna(0.0))
        last_price = float(self.inputs.market["btc_price_usd"].iloc[-1])
        check("btc_treasury_value_usd", np.where(co["t"] == last,
                                                 (held - sold.sum()) * last_price, 0.0))
        self._debt(co, check)
        tv = finance.terminal_value
        window = (self.cm["t"] > last - 12) & (self.cm["t"] <= last)
        # a horizon under a year is annualised: by its days for mining revenue and power,
        # by its months for the monthly lines
        window_months = min(12, horizon)
        window_days = sum(days(self.first + t) for t in range(horizon - window_months, horizon))
        by_month = 12 / window_months
        by_day = 365.25 / window_days if window_months < 12 else 1.0
        cmw = self.cm[window]
        ebitda_hpc = by_month * (cmw["lease_revenue_usd"] + cmw["spot_revenue_usd"]
                                 - cmw["hpc_opex_usd"]).sum()
        ebitda_mining = by_day * (cmw["mining_revenue_usd"] - cmw["power_cost_usd"]).sum() \
            - by_month * cmw["mining_opex_usd"].sum()
        by_multiple = tv.method == "ebitda_multiple"
        check("hpc_terminal_value_usd", np.where(
            (co["t"] == last) & by_multiple, tv.hpc_ebitda_multiple * ebitda_hpc, 0.0))
        check("mining_terminal_value_usd", np.where(
            (co["t"] == last) & by_multiple, tv.mining_ebitda_multiple * ebitda_mining, 0.0))
        for line in ("prepayment_liability_usd", "tenant_capex_receivable_usd"):
            check(line, np.where(co["t"] == last, self.settled[line], 0.0))
        net = sum(sign * co[line] for line, sign in LINES.items())
        check("net_cash_usd", net)
        flows = (co["operating_cash_usd"] + co["investing_cash_usd"]
                 + co["financing_cash_usd"]).where(inside, 0.0)
        balance = (finance.opening_cash_usd or 0.0) + flows.cumsum()
        check("cash_balance_usd", balance.where(inside))
        if finance.opening_cash_usd is not None:
            low = co[inside & (co["cash_balance_usd"] < finance.min_cash_usd - USD_TOL)]
            for row in low.head(5).itertuples():
                self.problems.append(f"company {row.month}: cash {row.cash_balance_usd:,.2f} "
                                     f"below min_cash_usd")
        budget = finance.capex_budget_usd_per_year
        if budget is not None:
            spent = (co["capex_usd"] - co["tenant_capex_usd"]).groupby(
                (self.first + co["t"]) // 12).sum()
            for year, usd in spent.items():
                cap = budget.get(year) if isinstance(budget, dict) else budget
                if cap is not None and usd > cap + USD_TOL:
                    self.problems.append(f"{year}: landlord capex {usd:,.2f} exceeds the "
                                         f"budget {cap:,.2f}")
        rate = finance.discount_rate_pct_per_year / 100
        check("discount_factor", (1 + rate) ** (-(co["t"] + 1) / 12), 1e-12)
        discounted = float((co["net_cash_usd"] * co["discount_factor"]).sum())
        if abs(discounted - npv_usd) > USD_TOL:
            self.problems.append(f"Σ company net_cash × discount_factor = {discounted:,.2f} "
                                 f"but npv_usd = {npv_usd:,.2f}")

    def _debt(self, co: pd.DataFrame, check) -> None:
        debt = self.scenario.finance.debt
        draws = co["debt_draw_usd"].to_numpy()
        if debt is None:
            for line in ("debt_draw_usd", "interest_usd", "principal_usd",
                         "debt_outstanding_usd"):
                check(line, 0.0)
            return
        landlord = (co["capex_usd"] - co["tenant_capex_usd"]).to_numpy()
        over = np.cumsum(draws) > debt.max_ltc_pct / 100 * np.cumsum(landlord) + USD_TOL
        for row in co[over].head(5).itertuples():
            self.problems.append(f"company {row.month}: debt drawn so far above max_ltc_pct of "
                                 f"the landlord capex paid so far")
        i = (1 + debt.rate_pct_per_year / 100) ** (1 / 12) - 1
        n, last = debt.tenor_months, self.horizon - 1
        interest, principal = np.zeros(len(co)), np.zeros(len(co))
        outstanding = np.zeros(len(co))
        for t, draw in enumerate(draws[: self.horizon]):
            if draw <= 0:
                continue
            owed = draw
            payment = draw * (i / (1 - (1 + i) ** -n) if i > 0 else 1 / n)
            for j in range(1, n + 1):
                if t + j > last:
                    break
                interest[t + j] += owed * i
                repaid = (payment - owed * i) if debt.amortisation == "level" else \
                    (owed if j == n else 0.0)
                principal[t + j] += repaid
                owed -= repaid
            outstanding[last] += max(owed, 0.0)
        check("interest_usd", interest)
        check("principal_usd", principal)
        check("debt_outstanding_usd", outstanding)


def audit_plan(inputs: Inputs, campus_month: pd.DataFrame, leases: pd.DataFrame,
               company_month: pd.DataFrame, npv_usd: float) -> list[str]:
    """Violations found (empty = the plan holds every constraint and reconciles to the cent)."""
    audit = _Audit(inputs, campus_month, leases)
    audit.mining()
    audit.conversion()
    audit.salvage()
    audit.leases_()
    audit.spot()
    audit.campus_cash()
    audit.company(company_month, npv_usd)
    return audit.problems
