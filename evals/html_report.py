"""A self-contained HTML report of one run: the metric table with intervals, then every case with
its question, answer, citations and rail decisions (failing cases first). No scripts, no external
files; everything from the run is escaped."""

from __future__ import annotations

from html import escape

from evals.metrics import MetricValue
from evals.runner import Report

_STYLE = """
body{font:15px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:70rem;padding:0 1rem;color:#1b1b1b}
table{border-collapse:collapse;width:100%;margin:1rem 0}th,td{border:1px solid #ccc;padding:.3rem .5rem;
text-align:left;vertical-align:top}th{background:#f3f2f1}.bad{color:#a4161a;font-weight:600}
details{border:1px solid #ddd;margin:.4rem 0;padding:.3rem .6rem}summary{cursor:pointer}
blockquote{margin:.3rem 0;padding:.2rem .6rem;border-left:3px solid #1d70b8;background:#f8f8f8}
code{font-size:.9em}.muted{color:#505a5f}
"""


def value_text(v: MetricValue) -> str:
    if v.value is None:
        return "not measured (n=0)"
    if v.unit == "ms":
        return f"{v.value:,.0f} ms"
    ci = f" [{v.interval[0]:.2f}, {v.interval[1]:.2f}]" if v.interval else ""
    return f"{v.value:.3f}{ci}"


def render(report: Report) -> str:
    fp = report.fingerprint
    rows = "".join(
        f"<tr><td><code>{escape(m.name)}</code></td><td>{escape(value_text(m))}</td><td>{m.n}</td>"
        f"<td{' class=bad' if m.errors else ''}>{m.errors}</td><td>{escape(m.better)} is better</td>"
        f"<td class=muted>{escape(m.description)}</td></tr>" for m in report.metrics.values())
    cases = sorted(report.cases, key=lambda c: (not (c.failed or c.status == "error"), c.id))
    details = []
    for c in cases:
        flag = " class=bad" if c.failed or c.status == "error" else ""
        body = [f"<p><b>Question</b> ({escape(c.language)}, {escape(c.kind)}): {escape(c.question)}</p>"]
        if c.error:
            body.append(f"<p class=bad>Error: {escape(c.error)}</p>")
        if c.answer is not None:
            a = c.answer
            body.append(f"<p><b>Answer</b> ({escape(a.status)}{', ' + escape(a.reason) if a.reason else ''}):</p>"
                        f"<blockquote>{escape(a.answer)}</blockquote>")
            for cit in a.citations:
                body.append(f"<p>[{cit.n}] <i>{escape(cit.title)}</i> — {escape(cit.source)}"
                            f"{' § ' + escape(cit.section) if cit.section else ''}</p>"
                            f"<blockquote>{escape(cit.quote)}</blockquote>")
            if a.guardrails:
                body.append("<table><tr><th>rail</th><th>stage</th><th>verdict</th><th>action</th><th>detail</th></tr>"
                            + "".join(f"<tr><td>{escape(g.rail)}</td><td>{g.stage}</td><td>{g.verdict}</td>"
                                      f"<td>{escape(g.action or '')}</td><td>{escape(g.detail)}</td></tr>"
                                      for g in a.guardrails) + "</table>")
        if c.retrieved is not None:
            body.append(f"<p class=muted>Retrieved: {escape(', '.join(c.retrieved))}</p>")
        failed = f" — failed: {escape(', '.join(c.failed))}" if c.failed else ""
        details.append(f"<details><summary{flag}><code>{escape(c.id)}</code> {escape(c.status)}, "
                       f"{c.wall_ms:,.0f} ms{failed}</summary>{''.join(body)}</details>")
    statuses = ", ".join(f"{k} {v}" for k, v in sorted(report.statuses.items()))
    return (f"<!doctype html><html lang=en><meta charset=utf-8><title>Waymark eval: {escape(report.suite)} "
            f"run {report.run_id}</title><style>{_STYLE}</style><body>"
            f"<h1>Eval run {report.run_id}: <code>{escape(report.suite)}</code></h1>"
            f"<p class=muted>{escape(report.created)} · {report.seconds:,.0f} s · model {escape(fp.model)} · "
            f"policy {escape(fp.policy)} · index {escape(fp.index)} · suite {escape(fp.suite[:12])} · "
            f"commit {escape(fp.commit)}</p><p>Cases: {len(report.cases)} ({escape(statuses)})</p>"
            f"<h2>Metrics</h2><p class=muted>Rates with 95% Wilson intervals; cases that errored are counted "
            f"apart, never scored.</p><table><tr><th>metric</th><th>value [95% CI]</th><th>n</th><th>errors</th>"
            f"<th>direction</th><th>what it measures</th></tr>{rows}</table>"
            f"<h2>Cases</h2>{''.join(details)}</body></html>\n")
