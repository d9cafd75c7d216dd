"""`batch_too_small`: batches so small that each step's gradient is mostly noise."""

from __future__ import annotations

import math

import numpy as np

from fitdoctor.checks._dynamics import measured_samples, monitor_record
from fitdoctor.checks.base import Check, register
from fitdoctor.evidence import Evidence
from fitdoctor.findings import Finding, Role, Severity


@register
class BatchTooSmall(Check):
    id = "batch_too_small"
    category = "training"
    role = Role.CAUSE
    rank = 40
    explains = ("underfitting",)
    requires = ("probe_run",)
    description = """
    The `Monitor` measures gradient noise at the user's batch size: on a fixed sample of
    training rows it compares the gradients of up to 4 disjoint batches of that size with the
    gradient of the whole sample, `E||g_batch - g||^2 / ||g||^2` (noise energy over signal
    energy). Fires (warning) when the batch size is at most `max_batch_size` (8) and the median
    noise over the sampled steps of the first half of training reaches `min_gradient_noise`
    (10): each step follows mostly noise, so the loss is noisy and an epoch takes many slow
    steps. The evidence adds the per-batch loss spread (coefficient of variation) of the last
    epoch. The fix: a larger batch (32) with the learning rate tuned for it.
    """

    def __init__(self, *, max_batch_size: int = 8, min_gradient_noise: float = 10.0) -> None:
        if not isinstance(max_batch_size, int) or max_batch_size < 1 or min_gradient_noise <= 0:
            raise ValueError(
                "need an integer max_batch_size >= 1 and min_gradient_noise > 0. Received: "
                f"max_batch_size={max_batch_size!r}, min_gradient_noise={min_gradient_noise}"
            )
        self.max_batch_size = max_batch_size
        self.min_gradient_noise = min_gradient_noise

    def run(self, evidence: Evidence) -> list[Finding]:
        setup = evidence.setup
        if setup.batch_size > self.max_batch_size:
            return []
        record = monitor_record(evidence)
        samples = measured_samples(record)
        half = max(1, math.ceil(len(samples) / 2))
        noise = [s.gradient_noise for s in samples[:half] if math.isfinite(s.gradient_noise)]
        if not noise:
            return []
        median = float(np.median(noise))
        if median < self.min_gradient_noise:
            return []
        last = np.asarray([v for v in record.batch_losses[-1] if math.isfinite(v)])
        spread = float(last.std() / last.mean()) if len(last) > 1 and last.mean() > 0 else None
        return [self.finding(
            Severity.WARNING,
            f"Batch size {setup.batch_size}: each step's gradient carries {median:.0f}x more "
            "noise than signal",
            {
                "batch_size": setup.batch_size,
                "median_gradient_noise": median,
                "steps_per_epoch": setup.steps_per_epoch,
                "last_epoch_batch_loss_cv": spread,
                "threshold_min_gradient_noise": self.min_gradient_noise,
            },
            "Train with larger batches (32 is a sound default): steps follow the true gradient, "
            "the loss settles, and an epoch runs far faster. Re-tune the learning rate after.",
            """
            model.fit(x, y, batch_size=32, epochs=epochs, validation_data=(x_val, y_val))
            """,
        )]
