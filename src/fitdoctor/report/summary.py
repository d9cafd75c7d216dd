"""What every renderer says about a report besides each finding's numbers.

Three things, computed here once so the terminal and the HTML page agree:

- each finding's role label: `"cause"` for a finding no other present finding explains, and
  `"explained by <id>"` for the rest (findings are shown in the report's order, causes first);
- the headline: the network's own validation score, the best baseline's score on the same
  metric, and what the diagnosis cost in units of one plain fit of the user's setup;
- the notes on where the data came from: fitdoctor's own holdout, the user's
  `validation_split`, or a sample read from a stream.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from typing import Any

from fitdoctor.findings import Finding, Report
from fitdoctor.report.values import format_number

_ACCURACY_KEYS = ("accuracy", "acc", "sparse_categorical_accuracy", "categorical_accuracy",
                  "binary_accuracy")


def data_notes(setup: Mapping[str, Any]) -> list[str]:
    """Sentences about how the data was read and split (`Setup.summary()`), for every renderer."""
    notes = []
    if setup.get("validation") == "held_out":
        notes.append("No validation data was given: 20 % of the training rows were held out "
                     "(identical rows kept on one side).")
    elif setup.get("validation") == "validation_split":
        notes.append("Validation data: the last rows, split off by your validation_split as "
                     "Keras does.")
    if setup.get("sampled"):
        notes.append(f"The data checks read {setup.get('n_train', '?')} training rows sampled "
                     f"from your {setup.get('input', 'stream')} input; training used all of it.")
    notes.extend(setup.get("notes", ()))
    return notes


def role_label(finding: Finding) -> str:
    """`"cause"`, or `"explained by <id>"` naming the present findings that explain it.

    Reads `Finding.explained_by`, which `rank_findings` sets when a `Report` is built.
    """
    if finding.explained_by:
        return "explained by " + ", ".join(finding.explained_by)
    return "cause"


def _floats(values: Any) -> list[float]:
    if not isinstance(values, Sequence) or isinstance(values, (str, bytes)):
        return []
    out = []
    for v in values:
        try:
            out.append(float(v))
        except (TypeError, ValueError):
            out.append(math.nan)
    return out


def network_score(history: Any, metric: str) -> float:
    """The probe run's best validation score on `metric` (NaN when not logged).

    `"accuracy"` reads the logged validation accuracy (highest epoch); any other metric reads
    `val_loss` (lowest epoch), the user's own loss as the baselines use it.
    """
    if not isinstance(history, Mapping):
        return math.nan
    if metric == "accuracy":
        key = next((f"val_{k}" for k in _ACCURACY_KEYS if f"val_{k}" in history), None)
        values, pick = (_floats(history.get(key)) if key else []), max
    else:
        values, pick = _floats(history.get("val_loss")), min
    finite = [v for v in values if math.isfinite(v)]
    return pick(finite) if finite else math.nan


@dataclasses.dataclass(frozen=True)
class Headline:
    """The numbers a reader wants before the findings.

    Args:
        metric: `"accuracy"` or the loss name the network and the baselines are compared on.
        network: The network's best validation score on `metric` (None when not measured).
        baseline: Name of the best baseline (None when baselines did not run).
        baseline_score: Its validation score on `metric`.
        seconds: Wall time of the whole diagnosis (None when not timed).
        plain_fit: Seconds of one plain `fit` of the user's setup (None when not measured).
    """

    metric: str
    network: float | None = None
    baseline: str | None = None
    baseline_score: float | None = None
    seconds: float | None = None
    plain_fit: float | None = None

    @property
    def cost(self) -> float | None:
        """The diagnosis' wall time divided by one plain fit."""
        if self.seconds is None or not self.plain_fit:
            return None
        return self.seconds / self.plain_fit

    def text(self) -> str:
        """One line, e.g. `validation accuracy: your network 0.65, best baseline svm_rbf 0.97
        · diagnosis 12.1 s = 2.4× one plain fit (5.0 s)`."""
        parts = []
        scores = []
        if self.network is not None:
            scores.append(f"your network {format_number(self.network)}")
        if self.baseline is not None and self.baseline_score is not None:
            scores.append(f"best baseline {self.baseline} {format_number(self.baseline_score)}")
        if scores:
            parts.append(f"validation {self.metric}: " + ", ".join(scores))
        if self.seconds is not None:
            cost = f"diagnosis {self.seconds:.1f} s"
            if self.cost is not None:
                cost += f" = {self.cost:.1f}× one plain fit ({self.plain_fit:.1f} s)"
            parts.append(cost)
        return " · ".join(parts)


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def headline(report: Report) -> Headline:
    """The report's headline numbers, read from its measurements and timings."""
    measurements = report.measurements
    probe = measurements.get("probe_run")
    probe = probe if isinstance(probe, Mapping) else {}
    history = probe.get("history")
    baselines = measurements.get("baselines")
    baselines = baselines if isinstance(baselines, Mapping) else {}
    if baselines.get("metric"):
        metric = str(baselines["metric"])
    elif isinstance(history, Mapping) and any(f"val_{k}" in history for k in _ACCURACY_KEYS):
        metric = "accuracy"
    else:
        metric = "loss"
    name, score = None, None
    for entry in baselines.get("scores") or ():
        if isinstance(entry, Mapping) and entry.get("name") == baselines.get("best"):
            name, score = str(entry["name"]), _number(entry.get("val_score"))
    plain_fit = _number(report.timings.get("plain_fit"))
    if plain_fit is None:
        fits = [s for s in _floats(probe.get("fit_seconds")) if math.isfinite(s) and s > 0]
        plain_fit = fits[0] if fits else None
    return Headline(
        metric=metric,
        network=_number(network_score(history, metric)),
        baseline=name if score is not None else None,
        baseline_score=score,
        seconds=_number(report.timings.get("total")),
        plain_fit=plain_fit,
    )
