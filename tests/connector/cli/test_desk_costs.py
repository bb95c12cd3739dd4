"""A payment plan may include collection costs already owed, never more than the law allows on its
principal (rules/costs.py: the BIK scale in NL, EUR 40 for BE businesses)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from connector.cli.desk import lawful_costs
from connector.config import ConnectionConfig
from connector.errors import ConfigError
from connector.model import DebtorKind, Money

NL = ConnectionConfig(name="exact-1", credential="c", package="exact", administration="1", country="NL")
BE = NL.model_copy(update={"country": "BE"})
DAY = date(2026, 3, 2)


def test_costs_up_to_the_statutory_maximum_are_accepted() -> None:
    lawful_costs(NL, DebtorKind.BUSINESS, Money.of("1000.00", "EUR"), Decimal("150.00"), DAY)  # 15 % of 1,000
    lawful_costs(BE, DebtorKind.BUSINESS, Money.of("1000.00", "EUR"), Decimal("40.00"), DAY)


@pytest.mark.parametrize(("connection", "costs"), [(NL, "150.01"), (BE, "40.01")])
def test_costs_above_what_the_law_allows_are_refused_with_the_reason(connection: ConnectionConfig, costs: str) -> None:
    with pytest.raises(ConfigError, match="more than the law allows"):
        lawful_costs(connection, DebtorKind.BUSINESS, Money.of("1000.00", "EUR"), Decimal(costs), DAY)
