"""Render a report (and the results of `fix` and `tune`) as one self-contained HTML file.

The file works offline: its style, its few lines of script and every plot (inline SVG) are
inside it, and nothing in it points at a network address. Everything that came from the user or
from a measurement (titles, evidence, class, column, layer and file names, exception text) is
HTML-escaped, so a class named `<img src=x onerror=alert(1)>` shows as text.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from fitdoctor.findings import Finding, Report
from fitdoctor.report import plots as plotting

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

CSS = """
.fd{--crit:#c62828;--warn:#b26a00;--info:#1565c0;--ok:#2e7d32;--fg:#1d1d1f;--muted:#5f6368;
--line:#e0e0e0;--code:#f6f8fa;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;
color:var(--fg);max-width:980px;margin:0 auto;padding:24px 20px 60px}
.fd h1{font-size:1.6em;margin:0 0 4px}.fd h2{font-size:1.25em;margin:32px 0 8px}
.fd h3{font-size:1.05em;margin:0;display:flex;flex-wrap:wrap;gap:8px;align-items:baseline}
.fd .meta{color:var(--muted);margin:0 0 12px}.fd .note{color:var(--muted);font-style:italic}
.fd .summary{display:flex;gap:10px;flex-wrap:wrap;margin:12px 0}
.fd .pill{border-radius:999px;padding:2px 12px;font-weight:600;font-size:.9em;color:#fff}
.fd .pill.critical{background:var(--crit)}.fd .pill.warning{background:var(--warn)}
.fd .pill.info{background:var(--info)}.fd .pill.ok{background:var(--ok)}
.fd .finding{border:1px solid var(--line);border-left:6px solid var(--info);border-radius:8px;
padding:14px 18px;margin:14px 0;background:#fff}
.fd .finding.critical{border-left-color:var(--crit)}
.fd .finding.warning{border-left-color:var(--warn)}
.fd .sev{font-weight:700;font-size:.8em;letter-spacing:.05em}.fd .critical .sev{color:var(--crit)}
.fd .warning .sev{color:var(--warn)}.fd .info .sev{color:var(--info)}
.fd .fid{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.9em}
.fd .tags{color:var(--muted);font-size:.85em;margin:2px 0 8px}
.fd table{border-collapse:collapse;margin:8px 0;font-size:.9em}
.fd td,.fd th{padding:3px 14px 3px 0;vertical-align:top;text-align:left}
.fd th{color:var(--muted);font-weight:500}.fd td{font-family:ui-monospace,Menlo,Consolas,monospace;
word-break:break-word}
.fd table.grid td,.fd table.grid th{border-bottom:1px solid var(--line);padding:4px 10px}
.fd .advice{margin:8px 0}.fd .advice b{color:var(--ok)}
.fd .code{position:relative}.fd pre{background:var(--code);border:1px solid var(--line);
border-radius:6px;padding:10px 12px;overflow:auto;font-size:.85em;margin:6px 0}
.fd button.copy{position:absolute;top:6px;right:6px;font-size:.8em;padding:2px 10px;
border:1px solid var(--line);border-radius:4px;background:#fff;cursor:pointer}
.fd figure{margin:12px 0}.fd figure svg{width:100%;height:auto;max-width:760px;display:block}
.fd figcaption{color:var(--muted);font-size:.85em}.fd figcaption b{color:var(--fg)}
.fd details>summary{cursor:pointer}.fd summary h3{display:inline-flex}.fd a{color:var(--info)}
.fd footer{margin-top:40px;color:var(--muted);font-size:.85em}
"""

SCRIPT = """
document.querySelectorAll('.fd button.copy').forEach(function (button) {
  button.addEventListener('click', function () {
    var code = button.parentElement.querySelector('code').textContent;
    var done = function () { button.textContent = 'copied'; };
    var fallback = function () {
      var area = document.createElement('textarea');
      area.value = code; document.body.appendChild(area); area.select();
      document.execCommand('copy'); area.remove(); done();
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(code).then(done, fallback);
    } else {
      fallback();
    }
  });
});
"""


def esc(value: Any) -> str:
    """HTML-escape any value's text (quotes included, so it is safe in attributes too)."""
    return html.escape(str(value), quote=True)


def format_value(value: Any) -> str:
    """A measured value as short text: floats to 4 significant digits, long lists cut."""
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        if value != 0 and (abs(value) < 1e-3 or abs(value) >= 1e5):
            return f"{value:.3g}"
        return f"{value:.4g}"
    if isinstance(value, (list, tuple)):
        shown = ", ".join(format_value(v) for v in value[:8])
        return f"[{shown}{', …' if len(value) > 8 else ''}]"
    if isinstance(value, Mapping):
        items = list(value.items())[:8]
        shown = ", ".join(f"{k}={format_value(v)}" for k, v in items)
        return "{" + shown + (", …" if len(value) > 8 else "") + "}"
    return str(value)


def kv_table(mapping: Mapping[str, Any]) -> str:
    """A two-column table of keys and formatted values, escaped."""
    if not mapping:
        return ""
    rows = "".join(f"<tr><th>{esc(k)}</th><td>{esc(format_value(v))}</td></tr>"
                   for k, v in mapping.items())
    return f"<table>{rows}</table>"


def grid_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None) -> str:
    """A table with a header row from a list of dicts, escaped."""
    rows = [r for r in rows if isinstance(r, Mapping)]
    if not rows:
        return ""
    columns = list(columns or dict.fromkeys(k for r in rows for k in r))
    head = "".join(f"<th>{esc(c)}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{esc(format_value(r.get(c, '')))}</td>" for c in columns) + "</tr>"
        for r in rows
    )
    return f'<table class="grid"><tr>{head}</tr>{body}</table>'


def code_block(code: str) -> str:
    """Fix code in a `<pre>` with a copy button."""
    return (f'<div class="code"><button class="copy" type="button">copy</button>'
            f"<pre><code>{esc(code)}</code></pre></div>")


def figure(plot: plotting.Plot) -> str:
    """A plot with its title and caption, anchored at `#plot-<key>`."""
    return (f'<figure id="plot-{esc(plot.key)}">{plot.svg}<figcaption><b>{esc(plot.title)}.</b> '
            f"{esc(plot.caption)}</figcaption></figure>")


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
    tags = [finding.role.value, finding.category]
    if finding.explains:
        tags.append("explains " + ", ".join(finding.explains))
    parts = [
        f'<h3><span class="sev">{esc(sev.upper())}</span><span class="fid">{esc(finding.id)}</span>'
        f"<span>{esc(finding.title)}</span></h3>",
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


def _summary_line(report: Report) -> str:
    s = report.setup
    bits = [f"fitdoctor {report.version}".strip(), str(s.get("task", "?")),
            f"{s.get('n_train', '?')} train / {s.get('n_val', '?')} validation rows",
            f"{s.get('n_params', '?')} parameters", f"budget {report.budget}",
            f"seed {report.seed}"]
    return " · ".join(esc(b) for b in bits)


def _page(title: str, body: str) -> str:
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<link rel="icon" href="data:,">'
        f"<title>{esc(title)}</title></head>"
        f'<body style="margin:0;background:#fafafa">{body}<script>{SCRIPT}</script></body></html>\n'
    )


def _write(text: str, path: str | Path | None) -> str:
    if path is not None:
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    return text


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
        f'<p class="meta">{_summary_line(report)}</p>',
    ]
    source = report.setup.get("source")
    if source:
        parts.append(f'<p class="meta">setup: <span class="fid">{esc(source)}</span></p>')
    if report.setup.get("validation") == "held_out":
        parts.append('<p class="note">No validation data was given: 20 % of the training rows '
                     "were held out.</p>")
    parts.append(f'<div class="summary">{pills}</div></header>')
    placed: dict[str, int] = {}
    if report.findings:
        parts.append("<h2>Findings, most important first</h2>")
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
    return f'<div class="fd"><style>{CSS}</style>{"".join(parts)}</div>'


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
    return _write(_page(title, report_body(report)), path)


def notebook_html(report: Report) -> str:
    """The fragment Jupyter shows for `Report._repr_html_` (style scoped to `.fd`)."""
    return report_body(report) + f"<script>{SCRIPT}</script>"


# ---- fix and tune ---------------------------------------------------------------------------


_TRIAL_COLUMNS = ("remedy", "strength", "finding", "stage", "status", "score", "gain",
                  "threshold", "reason")


def _dicts(items: Any) -> list[Mapping[str, Any]]:
    """A JSON list as a list of dicts (plain values become `{"remedy": value}`)."""
    if not isinstance(items, Sequence) or isinstance(items, str):
        return []
    return [i if isinstance(i, Mapping) else {"remedy": i} for i in items]


def _trial_label(trial: Mapping[str, Any]) -> str:
    strength = trial.get("strength")
    label = str(trial.get("remedy", "?"))
    if strength not in (None, ""):
        label += f" ({format_value(strength)})"
    if trial.get("stage") not in (None, "", "alone"):
        label += f", {trial['stage']}"
    return label


def _code_items(title: str, items: Sequence[Mapping[str, Any]]) -> str:
    parts = [f"<h2>{esc(title)}</h2>"]
    for item in items:
        head = " · ".join(esc(format_value(item[k])) for k in ("remedy", "strength", "finding")
                          if item.get(k) not in (None, ""))
        parts.append(f'<article class="finding info"><h3><span class="fid">{head}</span></h3>')
        text = item.get("description") or item.get("reason")
        if text:
            parts.append(f'<p class="advice">{esc(text)}</p>')
        if item.get("code"):
            parts.append(code_block(str(item["code"])))
        parts.append("</article>")
    return "".join(parts)


def fix_body(result: Mapping[str, Any]) -> str:
    """The result of `fitdoctor fix` as an HTML fragment."""
    before = result.get("before") if isinstance(result.get("before"), Mapping) else {}
    after = result.get("after") if isinstance(result.get("after"), Mapping) else {}
    applied = [str(a) for a in result.get("applied") or []]
    rejected = _dicts(result.get("rejected"))
    trials = _dicts(result.get("remedies"))
    pills = (f'<span class="pill ok">{len(applied)} applied</span>'
             f'<span class="pill warning">{len(rejected)} rejected</span>')
    parts = ["<header><h1>fitdoctor fix</h1>"]
    diagnosis = result.get("diagnosis")
    if diagnosis:
        parts.append(f'<p class="meta">diagnosis: {esc(format_value(diagnosis))}</p>')
    parts.append(f'<div class="summary">{pills}</div></header>')
    if applied:
        items = "".join(f"<li><span class='fid'>{esc(a)}</span></li>" for a in applied)
        parts.append(f"<h2>Applied</h2><ul>{items}</ul>")
    parts.append("<h2>Before and after</h2>")
    rows = [{"": k, "before": before.get(k, ""), "after": after.get(k, "")}
            for k in dict.fromkeys([*before, *after]) if k != "per_seed"]
    parts.append(grid_table(rows, ["", "before", "after"]))
    scores = {}
    accepted = []
    for trial in trials:
        score = plotting.as_float(trial.get("score"))
        if math.isfinite(score):
            label = _trial_label(trial)
            scores[label] = score
            if trial.get("status") == "accepted":
                accepted.append(label)
    reference = plotting.as_float(before.get("score"))
    svg = plotting.bar_plot(scores, title="score of each remedy tried (accepted in green)",
                            xlabel="validation score (higher is better)", key="fix-remedies",
                            highlight=accepted,
                            reference=reference if math.isfinite(reference) else None,
                            reference_label="your setup as given")
    if svg:
        parts.append(f'<figure id="plot-remedies">{svg}</figure>')
    changes = _dicts(result.get("changes"))
    if changes:
        parts.append(_code_items("Changes to make in your code", changes))
    advice = _dicts(result.get("advice"))
    if advice:
        parts.append(_code_items("Advice fitdoctor could not apply itself", advice))
    if trials:
        parts.append("<h2>Every remedy tried</h2>" + grid_table(trials, _TRIAL_COLUMNS))
    details = {k: result[k] for k in ("noise_threshold", "seeds", "timings") if k in result}
    if details:
        parts.append("<h2>Details</h2>" + kv_table(details))
    return f'<div class="fd"><style>{CSS}</style>{"".join(parts)}</div>'


def fix_to_html(result: Mapping[str, Any], path: str | Path | None = None) -> str:
    """Render the JSON result of `fitdoctor fix` as a self-contained HTML page.

    Args:
        result: `FixResult.to_dict()`: `before` and `after` (validation scores), `applied`
            (labels), `rejected` and `remedies` (one dict per try, with `score`, `gain`,
            `status`, `reason`), `changes` and `advice` (with code), `diagnosis`, `seeds`.
        path: File to write. Defaults to None (only return the text).

    Returns:
        The HTML text.
    """
    return _write(_page("fitdoctor fix", fix_body(result)), path)


def _trials(result: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    trials = result.get("trials") or []
    out = []
    for t in trials:
        if isinstance(t, Mapping):
            out.append(t)
        elif isinstance(t, Sequence) and not isinstance(t, str):  # [number, state, params, value]
            out.append(dict(zip(("number", "state", "params", "value"), t, strict=False)))
    return out


def tune_body(result: Mapping[str, Any]) -> str:
    """The result of `fitdoctor tune` as an HTML fragment."""
    trials = _trials(result)
    metric = str(result.get("metric") or "value")
    direction = str(result.get("direction") or "minimize")
    counts: dict[str, int] = {}
    for t in trials:
        counts[str(t.get("state", "?"))] = counts.get(str(t.get("state", "?")), 0) + 1
    meta = [f"study {result['study']}" if result.get("study") else "",
            f"{len(trials)} trials"
            + (" (" + ", ".join(f"{n} {k.lower()}" for k, n in counts.items()) + ")"
               if counts else ""),
            f"{metric} ({direction})" if result.get("metric") else ""]
    parts = ["<header><h1>fitdoctor tune</h1>",
             f'<p class="meta">{esc(" · ".join(m for m in meta if m))}</p>']
    best, baseline = result.get("best_value"), result.get("baseline_value")
    pills = f'<span class="pill ok">best {esc(metric)} {esc(format_value(best))}</span>'
    if baseline is not None:
        pills += (f'<span class="pill info">your setup {esc(format_value(baseline))}'
                  "</span>")
    parts.append(f'<div class="summary">{pills}</div></header>')
    best_params = result.get("best_params") or {}
    title = "Best parameters"
    if result.get("best_trial") is not None:
        title += f" (trial {result['best_trial']})"
    parts.append(f"<h2>{esc(title)}</h2>" + (kv_table(best_params) or "<p>none</p>"))
    if best_params:
        parts.append(code_block("best_params = " + json.dumps(best_params, indent=4,
                                                              default=str)))
    done = [t for t in trials if math.isfinite(plotting.as_float(t.get("value")))
            and str(t.get("state", "COMPLETE")).upper() == "COMPLETE"]
    if done:
        values = [plotting.as_float(t["value"]) for t in done]
        pick = max if direction.startswith("max") else min
        series = {"trial value": values,
                  "best so far": [pick(values[: i + 1]) for i in range(len(values))]}
        if math.isfinite(plotting.as_float(baseline)):
            series["your setup"] = [plotting.as_float(baseline)] * len(values)
        svg = plotting.line_plot(series, title=f"{metric} per complete trial", xlabel="trial",
                                 integer_x=True,
                                 ylabel=metric, key="tune-trials",
                                 x=[t.get("number", i) for i, t in enumerate(done)])
        if svg:
            parts.append(f'<figure id="plot-trials">{svg}</figure>')
    importances = result.get("importances") or {}
    if isinstance(importances, Mapping):
        svg = plotting.bar_plot(importances, title="parameter importance (fANOVA)",
                                xlabel="importance", key="tune-importances")
        if svg:
            parts.append(f'<h2>Parameter importance</h2><figure id="plot-importances">{svg}'
                         "</figure>")
    if trials:
        columns = [c for c in ("number", "state", "value", "params", "epochs", "seconds")
                   if any(c in t for t in trials)]
        parts.append("<h2>Trials</h2>" + grid_table(trials, columns))
    return f'<div class="fd"><style>{CSS}</style>{"".join(parts)}</div>'


def tune_to_html(result: Mapping[str, Any], path: str | Path | None = None) -> str:
    """Render the JSON result of `fitdoctor tune` as a self-contained HTML page.

    Args:
        result: `TuneResult.to_dict()`: `best_params`, `best_value`, `best_trial`,
            `baseline_value`, `metric`, `direction`, `trials` (each `{number, state, params,
            value, ...}` or that as a list) and `importances`.
        path: File to write. Defaults to None (only return the text).

    Returns:
        The HTML text.
    """
    return _write(_page("fitdoctor tune", tune_body(result)), path)
