"""`dead_relu`: many ReLU units output zero for every input, so they never learn again."""

from __future__ import annotations

from fitdoctor.checks._dynamics import last_epoch, measured_samples, median_by_layer, monitor_record
from fitdoctor.checks.base import Check, register
from fitdoctor.evidence import Evidence
from fitdoctor.findings import Finding, Role, Severity


@register
class DeadRelu(Check):
    id = "dead_relu"
    category = "training"
    role = Role.CAUSE
    rank = 35
    explains = ("underfitting", "baseline_beats_model")
    requires = ("probe_run",)
    description = """
    The `Monitor` runs the model on a fixed sample of training rows at a few batches per epoch
    and counts, per hidden ReLU layer, the units (channels for conv layers) that output 0 for
    every row: they pass no gradient and stay dead. Fires when the median share over the last
    epoch's sampled batches reaches `max_dead_fraction` (0.5) in some layer; critical when a
    layer is entirely dead (no gradient reaches the layers below it), warning otherwise. The
    evidence tells dead-from-the-start (initialization, bias, input scale) from died-in-training
    (usually a too-high learning rate, reported by `lr_too_high`).
    """

    def __init__(self, *, max_dead_fraction: float = 0.5) -> None:
        if not 0 < max_dead_fraction <= 1:
            raise ValueError(
                "max_dead_fraction must be in (0, 1]. "
                f"Received: max_dead_fraction={max_dead_fraction}"
            )
        self.max_dead_fraction = max_dead_fraction

    def run(self, evidence: Evidence) -> list[Finding]:
        samples = measured_samples(monitor_record(evidence))
        final = median_by_layer(last_epoch(samples), lambda s: s.dead_fraction)
        dead = {name: v for name, v in final.items() if v >= self.max_dead_fraction}
        if not dead:
            return []
        at_start = samples[0].dead_fraction
        worst = max(dead, key=dead.get)
        from_start = at_start.get(worst, 0.0) >= self.max_dead_fraction
        severity = Severity.CRITICAL if dead[worst] >= 1.0 else Severity.WARNING
        when = "from the first batch" if from_start else "during training"
        advice = (
            "Units died before training started: check the bias initializer and the input "
            "scale, use He initialization, or LeakyReLU so that negative inputs still pass "
            "a gradient."
            if from_start else
            "Units died during training, usually from too large steps: lower the learning "
            "rate, or use LeakyReLU so that negative inputs still pass a gradient."
        )
        return [self.finding(
            severity,
            f"{dead[worst]:.0%} of ReLU units in layer {worst} are dead ({when})",
            {
                "dead_fraction_last_epoch": final,
                "dead_fraction_first_batch": dict(at_start),
                "dead_from_start": from_start,
                "threshold_max_dead_fraction": self.max_dead_fraction,
            },
            advice,
            """
            keras.layers.Dense(64, kernel_initializer="he_normal", bias_initializer="zeros"),
            keras.layers.LeakyReLU(negative_slope=0.1),
            """,
        )]
