"""Every dated legal row in ``rules/data/`` is listed in ``docs/legal-sources.md`` with its figure."""

from __future__ import annotations

from typing import Any

import yaml

from tests.support.paths import REPO

SOURCES = (REPO / "docs" / "legal-sources.md").read_text(encoding="utf-8")


def _load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((REPO / "rules" / "data" / name).read_text(encoding="utf-8"))
    return data


def test_every_interest_row_is_on_the_sources_page_with_its_rate_and_status() -> None:
    for regime, table in _load("interest.yaml")["regimes"].items():
        assert f"`{regime}`" in SOURCES, regime
        section = SOURCES.split(f"`{regime}`", 1)[1].split("###", 1)[0]
        for row in table["rates"]:
            line = f"| {row['valid_from']} | {row['rate']} | {row['status']} |"
            assert line in section, f"{regime} {row['valid_from']}: expected a row starting {line!r}"


def test_every_costs_version_is_on_the_sources_page() -> None:
    for table, versions in _load("costs.yaml").items():
        for version in versions:
            label = f"`{table}` {version['country']}" if "country" in version else f"`{table}`"
            assert f"| {label} | {version['valid_from']} |" in SOURCES, f"{table} {version['valid_from']}"
