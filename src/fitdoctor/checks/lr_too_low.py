"""`lr_too_low`: the learning rate is so small that the loss barely moves."""

from __future__ import annotations

import math

import numpy as np

from fitdoctor.checks._dynamics import initial_loss, max_update_ratio, monitor_record
from fitdoctor.checks.base import Check, register
from fitdoctor.evidence import Evidence
from fitdoctor.findings import Finding, Role, Severity


@register
class LrTooLow(Check):
    id = "lr_too_low"
    category = "training"
    role = Role.CAUSE
    rank = 6
    explains = ("underfitting", "baseline_beats_model")
    requires = ("probe_run", "lr_range")
    description = """
    Three measurements must agree. The probe run converges slowly: the last epoch's training
    loss is still above (1 - `min_progress`) times the first batch's loss, with `min_progress`
    (0.5), i.e. the loss did not even halve. The optimizer's steps are tiny: the median over
    all sampled steps of the largest per-layer `||update|| / ||weights||` is below
    `min_update_ratio` (3e-4; healthy training is near 1e-3). And the learning-rate range
    test on a fresh model suggests a rate at least `lr_ratio` (10) times the current one.
    Warning. The fix uses the range test's suggested rate.
    """

    def __init__(self, *, min_progress: float = 0.5, min_update_ratio: float = 3e-4,
                 lr_ratio: float = 10.0) -> None:
        if not 0 < min_progress < 1 or min_update_ratio <= 0 or lr_ratio <= 1:
            raise ValueError(
                "need 0 < min_progress < 1, min_update_ratio > 0 and lr_ratio > 1. Received: "
                f"min_progress={min_progress}, min_update_ratio={min_update_ratio}, "
                f"lr_ratio={lr_ratio}"
            )
        self.min_progress = min_progress
        self.min_update_ratio = min_update_ratio
        self.lr_ratio = lr_ratio

    def run(self, evidence: Evidence) -> list[Finding]:
        run = evidence.get("probe_run")
        record = monitor_record(evidence)
        start = initial_loss(record)
        final = run.final("loss")
        if not (math.isfinite(start) and math.isfinite(final) and start > 0):
            return []
        progress = 1 - final / start
        if progress >= self.min_progress:
            return []
        updates = [max_update_ratio(s) for s in record.samples]
        updates = [v for v in updates if math.isfinite(v)]
        update = float(np.median(updates)) if updates else math.nan
        if not (math.isfinite(update) and update < self.min_update_ratio):
            return []
        lr = evidence.get("lr_range")
        ratio = lr.current_over_suggested
        if ratio is None or ratio > 1 / self.lr_ratio:
            return []
        suggested = lr.suggested_lr
        return [self.finding(
            Severity.WARNING,
            f"Learning rate {lr.current_lr:.3g} is {1 / ratio:.0f}x below the range test's "
            f"suggestion {suggested:.2g}; the loss fell only {progress:.0%}",
            {
                "current_lr": lr.current_lr,
                "suggested_lr": suggested,
                "min_loss_lr": lr.min_loss_lr,
                "initial_loss": start,
                "final_loss": final,
                "progress": progress,
                "median_update_ratio": update,
                "threshold_lr_ratio": self.lr_ratio,
            },
            f"Raise the learning rate to about {suggested:.2g} (the range test's steepest "
            "descent) and let ReduceLROnPlateau lower it once the loss stalls.",
            f"""
            optimizer = keras.optimizers.Adam(learning_rate={suggested:.2g})
            model.compile(optimizer=optimizer, loss=loss, metrics=["accuracy"])
            callbacks = [keras.callbacks.ReduceLROnPlateau(factor=0.5, patience=2)]
            """,
        )]
