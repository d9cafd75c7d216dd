"""The result of `fitdoctor fix` as an HTML page, from its `FixResult`.

The page shows the same things as `fix.md`: before and after, each kept change as code, and
one row per remedy tried, grouped under the finding it treats, with its best setting, its gain
and noise threshold in points, and its verdict; then a bar chart of every candidate's score.
"""

from __future__ import annotations

import math
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
    from fitdoctor.fix.records import FixResult


def _heading(remedy: str, strength: object, finding: str) -> str:
    bits = [remedy] + ([format_value(strength)] if strength is not None else []) + [finding]
    return " · ".join(esc(b) for b in bits)


def fix_body(result: FixResult) -> str:
    """The result of `fitdoctor fix` as an HTML fragment."""
    from fitdoctor.fix.records import CandidateStatus, Stage

    outcomes = result.outcomes()
    n_skipped = sum(o.status is CandidateStatus.SKIPPED for o in outcomes)
    n_rejected = sum(o.status is not CandidateStatus.ACCEPTED for o in outcomes) - n_skipped
    pills = (f'<span class="pill ok">{len(result.applied)} applied</span>'
             f'<span class="pill warning">{n_rejected} rejected</span>')
    if n_skipped:
        pills += f'<span class="pill">{n_skipped} skipped</span>'
    parts = ["<header><h1>fitdoctor fix</h1>"]
    diagnosis = result.report.ids()
    if diagnosis:
        parts.append(f'<p class="meta">diagnosis: {esc(", ".join(diagnosis))}</p>')
    parts.append(f'<div class="summary">{pills}</div></header>')
    if result.applied:
        items = "".join(f"<li><span class='fid'>{esc(a)}</span></li>" for a in result.applied)
        parts.append(f"<h2>Applied</h2><ul>{items}</ul>")
    parts.append("<h2>Before and after</h2>")
    keys = [k for k in dict.fromkeys([*result.before, *result.after])
            if k not in ("per_seed", "chosen_on")]
    parts.append(grid_table(["", "before", "after"],
                            [(k, result.before.get(k, ""), result.after.get(k, "")) for k in keys]))
    if result.validation_text():
        parts.append(f'<p class="meta">{esc(result.validation_text())}</p>')
    if result.runs_text():
        parts.append(f'<p class="meta">{esc(result.runs_text())}</p>')
    scores, accepted = {}, []
    for trial in result.trials:
        if trial.trained and math.isfinite(trial.score):
            label = trial.label + (", on top" if trial.stage is Stage.COMBINED else "")
            scores[label] = trial.score
            if trial.status is CandidateStatus.ACCEPTED:
                accepted.append(label)
    # candidates are scored on the rows that choose: the reference line is the same rows'
    reference = plotting.as_float(result.before.get("chosen_on", result.before).get("score"))
    svg = plotting.bar_plot(scores, title="score of each candidate (accepted in green)",
                            xlabel="validation score (higher is better)", key="fix-remedies",
                            highlight=accepted,
                            reference=reference if math.isfinite(reference) else None,
                            reference_label="your setup as given")
    if svg:
        parts.append(f'<figure id="plot-remedies">{svg}</figure>')
    if result.changes:
        parts.append("<h2>Changes to make in your code</h2>")
        for change in result.changes:
            parts.append('<article class="finding info"><h3><span class="fid">'
                         f"{_heading(change.remedy, change.strength, change.finding)}</span></h3>"
                         f'<p class="advice">{esc(change.description)}</p>'
                         f"{code_block(change.code)}</article>")
    if result.advice:
        parts.append("<h2>Advice fitdoctor could not apply itself</h2>")
        for item in result.advice:
            parts.append('<article class="finding info"><h3><span class="fid">'
                         f"{_heading(item.remedy, None, item.finding)}</span></h3>"
                         f'<p class="advice">{esc(item.reason)}</p>'
                         f"{code_block(item.code)}</article>")
    groups = result.outcomes_by_finding()
    if groups:
        parts.append("<h2>Remedies tried</h2>")
        for finding, group in groups:
            rows = [(o.remedy, "–" if o.best.strength is None else o.best.strength,
                     ", ".join(format_value(s) for s in o.strengths) or "–",
                     o.best.gain_text, o.best.threshold_text, o.verdict) for o in group]
            parts.append(f'<h3>for <span class="fid">{esc(finding)}</span></h3>' + grid_table(
                ["remedy", "best setting", "settings tried", "gain", "needs >", "verdict"],
                rows))
        rows = [(t.label, t.finding, t.stage.value, t.status.value, t.score, t.gain_text,
                 t.threshold_text, t.reason) for t in result.trials]
        parts.append("<details><summary>Every candidate, in the order run</summary>" + grid_table(
            ["candidate", "finding", "stage", "status", "score", "gain", "needs >", "reason"],
            rows) + "</details>")
    details = {"noise_threshold": result.threshold, "seeds": list(result.seeds),
               **{f"seconds ({k})": v for k, v in result.timings.items()}}
    parts.append("<h2>Details</h2>" + kv_table(details))
    return fragment(parts)


def fix_to_html(result: FixResult, path: str | Path | None = None) -> str:
    """Render the result of `fitdoctor.fix` as a self-contained HTML page.

    Args:
        result: The `FixResult` that `fitdoctor.fix` returned.
        path: File to write (its folder is created). Defaults to None (only return the text).

    Returns:
        The HTML text.
    """
    return write(page("fitdoctor fix", fix_body(result)), path)
