"""The diagnosis as an HTML page: the headline, each finding with its plots, the measurements.

Findings keep the report's order (root causes first, each symptom below the cause that explains
it), each with its own severity and a role label, `cause` or `explained by <id>`, as in the
terminal.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from fitdoctor.findings import Finding, Report
from fitdoctor.report import plots as plotting
from fitdoctor.report.html_common import (
    SCRIPT,
    code_block,
    esc,
    figure,
    fragment,
    kv_table,
    page,
    write,
)
from fitdoctor.report.summary import data_notes, headline, role_label

#: Which plots support a finding, by words in its id; the first that matches wins a place.
PLOTS_FOR = (
    (("lr_", "learning_rate", "diverg"), ("lr_range", "history")),
    (("grad", "vanish", "explod"), ("gradients", "history")),
    (("dead", "saturat", "relu"), ("units",)),
    (("class", "imbalance", "label", "stratif", "distribution", "shift"), ("class_balance",)),
    (("overfit", "variance", "more_data", "learning_curve"), ("history", "learning_curve")),
    (("underfit", "capacity", "bias"), ("history", "baselines", "learning_curve")),
    (("baseline",), ("baselines",)),
    (("scal", "normaliz", "range", "outlier", "feature"), ("feature_ranges",)),
    (("loss", "nan", "plateau", "stall", "oscillat", "noisy", "accuracy", "metric", "epoch"),
     ("history",)),
)


def plots_for(finding: Finding) -> tuple[str, ...]:
    """Keys of the plots that support `finding`, best first (from its id)."""
    keys: list[str] = []
    for words, plot_keys in PLOTS_FOR:
        if any(w in finding.id for w in words):
            keys += [k for k in plot_keys if k not in keys]
    return tuple(keys)


def _finding(finding: Finding, position: int, plots: Mapping[str, plotting.Plot],
             placed: dict[str, int]) -> str:
    sev = finding.severity.value
    label = role_label(finding)
    tags = [finding.category]
    if finding.explains:
        tags.append("explains " + ", ".join(finding.explains))
    role = "role cause" if label == "cause" else "role"
    parts = [
        f'<h3><span class="sev">{esc(sev.upper())}</span><span class="fid">{esc(finding.id)}</span>'
        f'<span class="{role}">{esc(label)}</span><span>{esc(finding.title)}</span></h3>',
        f'<div class="tags">{esc(" · ".join(tags))}</div>',
        kv_table(finding.evidence),
    ]
    if finding.fix.advice:
        parts.append(f'<p class="advice"><b>Fix:</b> {esc(finding.fix.advice)}</p>')
    if finding.fix.code:
        parts.append(code_block(finding.fix.code))
    links, shown_here = [], 0
    for key in plots_for(finding):
        if key not in plots:
            continue
        if key in placed or not finding.is_problem:  # folded info findings only link
            where = f"with finding {placed[key]}" if key in placed else "under Measurements"
            links.append(f'<a href="#plot-{esc(key)}">{esc(plots[key].title)}</a> ({where})')
        elif shown_here < 2:
            placed[key] = position
            shown_here += 1
            parts.append(figure(plots[key]))
    if links:
        parts.append(f'<p class="note">See also: {"; ".join(links)}</p>')
    anchor = f'id="finding-{position}" class="finding {esc(sev)}"'
    if finding.is_problem:
        return f"<article {anchor}>{''.join(parts)}</article>"
    return (f"<article {anchor}><details><summary>{parts[0]}</summary>{''.join(parts[1:])}"
            "</details></article>")


def _setup_line(report: Report) -> str:
    s = report.setup
    bits = [f"fitdoctor {report.version}".strip(), str(s.get("task", "?")),
            f"{s.get('n_train', '?')} train / {s.get('n_val', '?')} validation rows",
            f"{s.get('n_params', '?')} parameters", f"budget {report.budget}",
            f"seed {report.seed}"]
    return " · ".join(esc(b) for b in bits)


def report_body(report: Report) -> str:
    """The report as an HTML fragment (`<div class="fd">…</div>`), style included."""
    plots = plotting.report_plots(report.measurements, report.setup)
    counts = {sev: sum(f.severity.value == sev for f in report.findings)
              for sev in ("critical", "warning", "info")}
    if report.problems:
        pills = "".join(f'<span class="pill {sev}">{n} {sev}</span>'
                        for sev, n in counts.items() if n)
    else:
        pills = ('<span class="pill ok">No problems found</span>'
                 "<span>nothing measured here is hurting training.</span>")
    parts = [
        "<header><h1>fitdoctor report</h1>",
        f'<p class="meta">{_setup_line(report)}</p>',
    ]
    line = headline(report).text()
    if line:
        parts.append(f'<p class="headline">{esc(line)}</p>')
    source = report.setup.get("source")
    if source:
        parts.append(f'<p class="meta">setup: <span class="fid">{esc(source)}</span></p>')
    for note in data_notes(report.setup):
        parts.append(f'<p class="note">{esc(note)}</p>')
    parts.append(f'<div class="summary">{pills}</div></header>')
    placed: dict[str, int] = {}
    if report.findings:
        parts.append("<h2>Findings: causes first, each symptom below what explains it</h2>")
        parts += [_finding(f, i, plots, placed) for i, f in enumerate(report.findings, 1)]
    rest = [p for k, p in plots.items() if k not in placed]
    if rest:
        parts.append("<h2>Measurements</h2>")
        parts += [figure(p) for p in rest]
    parts.append("<h2>Setup</h2>" + kv_table(report.setup))
    if report.timings:
        parts.append("<details><summary>Timings (seconds)</summary>"
                     f"{kv_table(report.timings)}</details>")
    parts.append('<footer>Generated by fitdoctor. This file is self-contained and works '
                 "offline.</footer>")
    return fragment(parts)


def render_report_html(report: Report, path: str | Path | None = None) -> str:
    """Render `report` as a self-contained HTML page; also write it to `path` when given.

    Args:
        report: The report to render.
        path: File to write (its folder is created). Defaults to None (only return the text).

    Returns:
        The HTML text.
    """
    n = len(report.problems)
    title = f"fitdoctor report: {n} problem{'s' if n != 1 else ''}"
    return write(page(title, report_body(report)), path)


def notebook_html(report: Report) -> str:
    """The fragment Jupyter shows for `Report._repr_html_` (style scoped to `.fd`)."""
    return report_body(report) + f"<script>{SCRIPT}</script>"
