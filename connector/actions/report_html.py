"""The KPI report as one self-contained HTML file: charts and tables, no network needed to open it.

Charts are drawn by Chart.js (MIT licence, ``connector/vendor/LICENSE.chart.js.txt``), vendored
unchanged as ``connector/vendor/chart.umd.min.js`` and inlined into the page, so the file opens
offline and a Content-Security-Policy forbids every fetch. For the headline scope (the firm, or the
one administration) and each currency: DSO and best possible DSO over time, aging as stacked bars
per period; then the top debtors by overdue amount, the effect of each dunning step, and a table
per administration.

Package data is hostile: every name reaches the page either escaped as HTML text or inside the
JSON data block with ``<``, ``>`` and ``&`` written as ``\\u`` escapes, so no name can close a tag.
"""

from __future__ import annotations

import html
import json
from collections import defaultdict
from datetime import datetime
from decimal import Decimal
from importlib import resources
from typing import Any

from connector.actions.kpis import FIRM, KpiReport, ScopeReport
from rules.kpi import BUCKETS

CHART_JS = "chart.umd.min.js"


def chart_js() -> str:
    return resources.files("connector").joinpath("vendor", CHART_JS).read_text(encoding="utf-8")


def _json_for_script(data: Any) -> str:
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _num(value: Decimal | None) -> float | None:
    # Chart coordinates only (the tables show the exact decimals): a chart axis is drawn in floats.
    return None if value is None else float(value)


def _fmt(value: Decimal | None, places: int = 1) -> str:
    if value is None:
        return "–"
    return f"{value:,.{places}f}"


def chart_data(report: KpiReport) -> dict[str, Any]:
    """What the page's charts draw (JSON-ready)."""
    headline = next((s for s in report.scopes if s.name == FIRM), report.scopes[0] if report.scopes else None)
    labels = [p.label for p in report.periods]
    per_currency: dict[str, dict[str, Any]] = {}
    if headline is not None:
        for f in headline.figures:
            c = per_currency.setdefault(f.currency, {
                "dso": [], "best": [], "simple": [], "buckets": {b: [] for b in BUCKETS},
            })
            c["dso"].append(_num(f.dso_countback))
            c["best"].append(_num(f.best_possible_dso))
            c["simple"].append(_num(f.dso_simple))
            for bucket, amount in zip(BUCKETS, f.buckets, strict=True):
                c["buckets"][bucket].append(_num(amount))
    steps: dict[tuple[str, str], list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    for effects in (headline.steps.values() if headline else ()):
        for e in effects:
            steps[(e.step, e.currency)][0] += e.amount
            steps[(e.step, e.currency)][1] += e.brought_in
    return {
        "labels": labels,
        "scope": headline.name if headline else "",
        "currencies": per_currency,
        "top": [{"label": f"{d} ({c})", "amount": _num(a)} for d, c, a in (headline.top_debtors if headline else [])],
        "steps": [{"label": f"{s} ({c})", "sent": _num(v[0]), "paid": _num(v[1])} for (s, c), v in sorted(steps.items())],
    }


def render(report: KpiReport, generated: datetime) -> str:
    data = chart_data(report)
    charts: list[str] = []
    for currency in sorted(data["currencies"]):
        cur = html.escape(currency)
        charts.append(_card(f"dso-{cur}", f"DSO and best possible DSO ({cur})"))
        charts.append(_card(f"aging-{cur}", f"Aging per period ({cur})"))
    if data["top"]:
        charts.append(_card("top", "Top debtors by overdue amount"))
    if data["steps"]:
        charts.append(_card("steps", "Effect per dunning step (amount dunned, paid within the window)"))
    tables = "\n".join(_scope_table(report, scope) for scope in report.scopes)
    title = f"Receivables KPIs {report.start.isoformat()} – {report.end.isoformat()}"
    return _PAGE.format(
        title=html.escape(title),
        subtitle=html.escape(
            f"{'Firm-wide and per administration' if len(report.scopes) > 1 else 'One administration'}, per "
            f"{report.unit}; generated {generated.strftime('%Y-%m-%d %H:%M %Z').strip()}"
        ),
        charts="\n".join(charts) or '<p class="empty">No receivables in this range.</p>',
        tables=tables,
        data=_json_for_script(data),
        chartjs=chart_js(),
        script=_SCRIPT,
    )


def _card(ident: str, title: str) -> str:
    return (f'<section class="card"><h2>{html.escape(title)}</h2>'
            f'<div class="chart"><canvas id="chart-{html.escape(ident)}" role="img" aria-label="{html.escape(title)}">'
            "</canvas></div></section>")


def _scope_table(report: KpiReport, scope: ScopeReport) -> str:
    last = report.periods[-1].label if report.periods else ""
    rows = []
    for f in scope.figures:
        if f.period != last:
            continue
        rows.append(
            "<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in (
                f.currency, _fmt(f.ar, 2), _fmt(f.overdue_pct), _fmt(f.dso_countback), _fmt(f.dso_simple),
                _fmt(f.best_possible_dso), _fmt(f.average_days_delinquent), _fmt(f.cei), _fmt(f.average_days_to_pay),
                _fmt(f.days_beyond_terms), _fmt(f.write_off_pct),
            )) + "</tr>"
        )
    desk = next((d for d in scope.desk if d.period == last), None)
    desk_line = ""
    if desk is not None:
        desk_line = (f'<p class="desk">Promises kept: {desk.promises_kept} of {desk.promises_kept + desk.promises_broken}'
                     f" ({_fmt(desk.promises_kept_pct)} %) · disputes open: {desk.disputes_open}"
                     f" (average age {_fmt(desk.disputes_average_age)} days)</p>")
    head = "".join(f"<th>{h}</th>" for h in (
        "currency", "AR", "% overdue", "DSO (countback)", "DSO (simple)", "best possible DSO", "ADD", "CEI",
        "days to pay", "days beyond terms", "write-offs %",
    ))
    name = "Firm" if scope.name == FIRM else scope.name
    return (f'<section class="card wide"><h2>{html.escape(name)} — {html.escape(last)}</h2>'
            f'<table><thead><tr>{head}</tr></thead><tbody>{"".join(rows) or "<tr><td colspan=11>no receivables</td></tr>"}'
            f"</tbody></table>{desk_line}</section>")


_SCRIPT = """
(function () {
  var data = JSON.parse(document.getElementById('kpi-data').textContent);
  var colors = ['#2e7d32', '#f9a825', '#ef6c00', '#c62828', '#6a1b9a'];
  Chart.defaults.animation = false;
  Chart.defaults.maintainAspectRatio = false;
  Chart.defaults.font.size = 11;
  function make(id, config) {
    var canvas = document.getElementById(id);
    if (canvas) { new Chart(canvas, config); }
  }
  Object.keys(data.currencies).forEach(function (cur) {
    var c = data.currencies[cur];
    make('chart-dso-' + cur, {type: 'line', data: {labels: data.labels, datasets: [
      {label: 'DSO (countback)', data: c.dso, borderColor: '#1565c0', backgroundColor: '#1565c0'},
      {label: 'Best possible DSO', data: c.best, borderColor: '#2e7d32', backgroundColor: '#2e7d32'},
      {label: 'DSO (simple)', data: c.simple, borderColor: '#9e9e9e', backgroundColor: '#9e9e9e', borderDash: [4, 4]}
    ]}, options: {scales: {y: {beginAtZero: true, title: {display: true, text: 'days'}}}}});
    make('chart-aging-' + cur, {type: 'bar', data: {labels: data.labels, datasets: Object.keys(c.buckets).map(
      function (b, i) { return {label: b, data: c.buckets[b], backgroundColor: colors[i]}; })},
      options: {scales: {x: {stacked: true}, y: {stacked: true, title: {display: true, text: cur}}}}});
  });
  make('chart-top', {type: 'bar', data: {labels: data.top.map(function (t) { return t.label; }),
    datasets: [{label: 'overdue', data: data.top.map(function (t) { return t.amount; }), backgroundColor: '#c62828'}]},
    options: {indexAxis: 'y', plugins: {legend: {display: false}}}});
  make('chart-steps', {type: 'bar', data: {labels: data.steps.map(function (s) { return s.label; }), datasets: [
    {label: 'amount dunned', data: data.steps.map(function (s) { return s.sent; }), backgroundColor: '#90caf9'},
    {label: 'paid within the window', data: data.steps.map(function (s) { return s.paid; }), backgroundColor: '#2e7d32'}
  ]}});
})();
"""

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
  body {{ font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0; background: #f4f6f8; color: #1f2933; }}
  header {{ padding: 16px 24px; background: #1f2933; color: #fff; }}
  header h1 {{ margin: 0; font-size: 20px; }}
  header p {{ margin: 4px 0 0; font-size: 13px; color: #cbd2d9; }}
  main {{ display: grid; grid-template-columns: repeat(auto-fill, minmax(560px, 1fr)); gap: 16px; padding: 16px 24px; }}
  .card {{ background: #fff; border-radius: 6px; box-shadow: 0 1px 3px rgba(0,0,0,.12); padding: 12px 16px; min-width: 0; }}
  .card.wide {{ grid-column: 1 / -1; overflow-x: auto; }}
  .card h2 {{ font-size: 14px; margin: 0 0 8px; }}
  .chart {{ position: relative; height: 260px; width: 100%; }}
  table {{ border-collapse: collapse; width: 100%; font-size: 12px; font-variant-numeric: tabular-nums; }}
  th, td {{ padding: 4px 8px; border-bottom: 1px solid #e4e7eb; text-align: right; white-space: nowrap; }}
  th:first-child, td:first-child {{ text-align: left; }}
  .desk {{ font-size: 12px; color: #52606d; }}
  .empty {{ padding: 24px; }}
</style>
</head>
<body>
<header><h1>{title}</h1><p>{subtitle}</p></header>
<main>
{charts}
{tables}
</main>
<script id="kpi-data" type="application/json">{data}</script>
<script>{chartjs}</script>
<script>{script}</script>
</body>
</html>
"""
