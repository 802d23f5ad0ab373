r"""Terminal value by EBITDA multiple (``finance.terminal_value.method: ebitda_multiple``).

.. math::

    \text{hpc\_terminal\_value}_{H-1} = \mu^{hpc} \sum_{t=H-12}^{H-1}
        (\text{lease\_revenue} + \text{spot\_revenue} - \text{hpc\_opex})_t

    \text{mining\_terminal\_value}_{H-1} = \mu^{mine} \sum_{t=H-12}^{H-1}
        (\text{mining\_revenue} - \text{power\_cost} - \text{mining\_opex})_t

Both count at the horizon's last month, discounted from there. With this method nothing
after the horizon is counted otherwise: the multiple values the business from then on.
"""

from __future__ import annotations

from siteopt.model.cash import CashLedger
from siteopt.model.data import ModelData

HPC_EBITDA_LINES = ("lease_revenue_usd", "spot_revenue_usd", "hpc_opex_usd")
MINING_EBITDA_LINES = ("mining_revenue_usd", "power_cost_usd", "mining_opex_usd")


def uses_ebitda_multiple(data: ModelData) -> bool:
    return data.finance.terminal_value.method == "ebitda_multiple"


def define_terminal_value(data: ModelData, cash: CashLedger) -> None:
    last = data.horizon_months - 1
    months = range(max(0, last - 11), last + 1)
    tv = data.finance.terminal_value
    cash.derive("hpc_terminal_value_usd", HPC_EBITDA_LINES, months, last, tv.hpc_ebitda_multiple)
    cash.derive("mining_terminal_value_usd", MINING_EBITDA_LINES, months, last,
                tv.mining_ebitda_multiple)
