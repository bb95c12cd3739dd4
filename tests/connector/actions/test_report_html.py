"""The HTML KPI report in a real headless Chromium: it loads offline without a console error,
every chart renders, nothing overlaps at 1280×800, and hostile names stay text.

The screenshot is kept as a test artifact in ``test-artifacts/kpi-report-1280x800.png`` (or
``$ARCONNECT_TEST_ARTIFACTS``). Skipped only when Chromium is not installed (``.ci/run`` installs it).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from connector.actions.kpis import kpi_report
from connector.actions.report_html import render
from connector.store import Store
from tests.support.browser import chromium, open_page
from tests.support.kpi_data import BE, HOSTILE, NL, fill, fixed_clock
from tests.support.paths import REPO

ARTIFACTS = Path(os.environ.get("ARCONNECT_TEST_ARTIFACTS") or REPO / "test-artifacts")


@pytest.fixture
def page_file(tmp_path: Path) -> Iterator[Path]:
    with Store(f"sqlite:///{tmp_path / 'kpi.db'}", clock=fixed_clock) as store:
        store.migrate()
        fill(store)
        names = {NL: {"D": HOSTILE, "A": "1001 Jansen & Zn."}, BE: {}}
        report = kpi_report(store, [NL, BE], date(2025, 11, 1), date(2026, 4, 30), names=names)
    path = tmp_path / "kpi.html"
    path.write_text(render(report, datetime(2026, 4, 30, 18, tzinfo=UTC)), encoding="utf-8")
    yield path


def test_the_page_needs_no_network_and_keeps_hostile_names_as_text(page_file: Path) -> None:
    text = page_file.read_text(encoding="utf-8")
    assert "http://" not in text.replace("http://www.w3.org", "") and "https://" not in text.split("Chart.js v")[0]
    assert "<img" not in text  # the hostile name is escaped in the data block
    assert "default-src 'none'" in text  # the page may not fetch anything


CHECK = """
(() => {
  const canvases = [...document.querySelectorAll('canvas')];
  const charts = canvases.map(c => {
    const chart = Chart.getChart(c);
    const ctx = c.getContext('2d');
    const pixels = ctx.getImageData(0, 0, c.width, c.height).data;
    let painted = 0;
    for (let i = 3; i < pixels.length; i += 4) { if (pixels[i] > 0) painted++; }
    const r = c.getBoundingClientRect();
    return {id: c.id, chart: !!chart, points: chart ? chart.data.datasets.reduce((n, d) => n + d.data.length, 0) : 0,
            painted, width: r.width, height: r.height};
  });
  const cards = [...document.querySelectorAll('.card')].map(e => { const r = e.getBoundingClientRect();
    return [r.left, r.top, r.right, r.bottom]; });
  const overlaps = [];
  for (let i = 0; i < cards.length; i++) for (let j = i + 1; j < cards.length; j++) {
    const [a, b] = [cards[i], cards[j]];
    if (a[0] < b[2] - 0.5 && b[0] < a[2] - 0.5 && a[1] < b[3] - 0.5 && b[1] < a[3] - 0.5) overlaps.push([i, j]);
  }
  const overflow = [...document.querySelectorAll('.chart')].filter(e => e.scrollWidth > e.clientWidth + 1).length;
  return {charts, overlaps, overflow, cards: cards.length, scrollWidth: document.documentElement.scrollWidth,
          title: document.title, hostile: document.body.innerText.includes('onerror'), images: document.images.length};
})()
"""


@pytest.mark.skipif(chromium() is None, reason="chromium is not installed (apt-get install chromium; .ci/run does)")
def test_every_chart_renders_without_console_errors_and_nothing_overlaps_at_1280x800(page_file: Path) -> None:
    with open_page(page_file.as_uri()) as page:
        seen = page.evaluate(CHECK)
        shot = page.screenshot(ARTIFACTS / "kpi-report-1280x800.png")
        assert page.console_errors == []
    ids = sorted(c["id"] for c in seen["charts"])
    assert ids == ["chart-aging-EUR", "chart-aging-USD", "chart-dso-EUR", "chart-dso-USD", "chart-steps", "chart-top"]
    for chart in seen["charts"]:
        assert chart["chart"], chart
        assert chart["points"] > 0, chart
        assert chart["painted"] > 500, chart  # drawn, not a blank canvas
        assert chart["width"] > 300 and chart["height"] >= 250, chart
    assert seen["overlaps"] == [] and seen["overflow"] == 0
    assert seen["scrollWidth"] <= 1280  # no sideways scrolling at 1280 wide
    assert seen["images"] == 0  # the hostile <img> never became an element
    assert seen["title"].startswith("Receivables KPIs 2025-11-01")
    assert shot.stat().st_size > 10_000
