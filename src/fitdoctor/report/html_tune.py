"""The result of `fitdoctor tune` as an HTML page, from its `TuneResult`.

Each trial is a `TuneTrial`: its number, `TrialStatus`, parameters, score, epochs, seconds,
worker and, for a failed trial, why.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

from fitdoctor.report import plots as plotting
from fitdoctor.report.html_common import (
    code_block,
    esc,
    fragment,
    grid_table,
    kv_table,
    page,
    write,
)
from fitdoctor.report.values import format_value

if TYPE_CHECKING:
    from fitdoctor.tune.run import TuneResult


def tune_body(result: TuneResult) -> str:
    """The result of `fitdoctor tune` as an HTML fragment."""
    from fitdoctor.tune.run import TrialStatus

    trials = list(result.trials)
    metric, direction = result.metric, result.direction
    counts = Counter(t.state.value for t in trials)
    states = ", ".join(f"{n} {state.lower()}" for state, n in counts.items())
    meta = [f"study {result.study}", f"{len(trials)} trials" + (f" ({states})" if states else ""),
            f"{metric} ({direction})", f"strategy {result.strategy}"]
    parts = ["<header><h1>fitdoctor tune</h1>", f'<p class="meta">{esc(" · ".join(meta))}</p>']
    if result.best_value is None:
        pills = '<span class="pill warning">no trial completed</span>'
    else:
        pills = (f'<span class="pill ok">best {esc(metric)} '
                 f"{esc(format_value(result.best_value))}</span>")
    if result.baseline_value is not None:
        pills += (f'<span class="pill info">your setup {esc(format_value(result.baseline_value))}'
                  "</span>")
    parts.append(f'<div class="summary">{pills}</div></header>')
    title = "Best parameters"
    if result.best_trial is not None:
        title += f" (trial {result.best_trial})"
    parts.append(f"<h2>{esc(title)}</h2>" + (kv_table(result.best_params) or "<p>none</p>"))
    if result.best_params:
        parts.append(code_block("best_params = " + json.dumps(dict(result.best_params), indent=4,
                                                              default=str)))
    done = [t for t in trials if t.state is TrialStatus.COMPLETE and t.value is not None
            and math.isfinite(t.value)]
    if done:
        values = [float(t.value) for t in done]
        pick = max if direction == "maximize" else min
        series = {"trial value": values,
                  "best so far": [pick(values[: i + 1]) for i in range(len(values))]}
        if result.baseline_value is not None:
            series["your setup"] = [float(result.baseline_value)] * len(values)
        svg = plotting.line_plot(series, title=f"{metric} per complete trial", xlabel="trial",
                                 integer_x=True, ylabel=metric, key="tune-trials",
                                 x=[t.number for t in done])
        if svg:
            parts.append(f'<figure id="plot-trials">{svg}</figure>')
    svg = plotting.bar_plot(result.importances, title="parameter importance (fANOVA)",
                            xlabel="importance", key="tune-importances")
    if svg:
        parts.append(f'<h2>Parameter importance</h2><figure id="plot-importances">{svg}</figure>')
    if trials:
        rows = [(t.number, t.state.value + (" (yours)" if t.baseline else ""), t.value,
                 t.params, t.epochs, t.seconds, t.error or "") for t in trials]
        parts.append("<h2>Trials</h2>" + grid_table(
            ["number", "state", "value", "params", "epochs", "seconds", "error"], rows))
    return fragment(parts)


def tune_to_html(result: TuneResult, path: str | Path | None = None) -> str:
    """Render the result of `fitdoctor.tune` as a self-contained HTML page.

    Args:
        result: The `TuneResult` that `fitdoctor.tune` returned.
        path: File to write (its folder is created). Defaults to None (only return the text).

    Returns:
        The HTML text.
    """
    return write(page("fitdoctor tune", tune_body(result)), path)
