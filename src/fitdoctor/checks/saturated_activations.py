"""`saturated_activations`: sigmoid/tanh units stuck at their bounds, where gradients vanish."""

from __future__ import annotations

from fitdoctor.checks._dynamics import last_epoch, measured_samples, median_by_layer, monitor_record
from fitdoctor.checks.base import Check, register
from fitdoctor.evidence import Evidence
from fitdoctor.findings import Finding, Role, Severity
from fitdoctor.monitor import SATURATION_MARGIN, SATURATION_SHARE


@register
class SaturatedActivations(Check):
    id = "saturated_activations"
    category = "training"
    role = Role.CAUSE
    rank = 36
    explains = ("underfitting", "baseline_beats_model")
    requires = ("probe_run",)
    description = f"""
    The `Monitor` runs the model on a fixed sample of training rows at a few batches per epoch
    and counts, per hidden sigmoid/tanh layer (the output layer is left out: a confident output
    is meant to saturate), the units within {SATURATION_MARGIN} of a bound of their activation
    on at least {SATURATION_SHARE:.0%} of the rows: their gradient is nearly zero. Fires
    (warning) when the median share over the last epoch's sampled batches reaches
    `max_saturated_fraction` (0.5) in some layer. Typical causes: unscaled inputs, large
    initial weights. The fix: scale the inputs, Glorot initialization, BatchNormalization
    before the activation, or ReLU.
    """

    def __init__(self, *, max_saturated_fraction: float = 0.5) -> None:
        if not 0 < max_saturated_fraction <= 1:
            raise ValueError(
                "max_saturated_fraction must be in (0, 1]. "
                f"Received: max_saturated_fraction={max_saturated_fraction}"
            )
        self.max_saturated_fraction = max_saturated_fraction

    def run(self, evidence: Evidence) -> list[Finding]:
        samples = measured_samples(monitor_record(evidence))
        final = median_by_layer(last_epoch(samples), lambda s: s.saturated_fraction)
        hit = {name: v for name, v in final.items() if v >= self.max_saturated_fraction}
        if not hit:
            return []
        worst = max(hit, key=hit.get)
        return [self.finding(
            Severity.WARNING,
            f"{hit[worst]:.0%} of units in layer {worst} are saturated (gradient near zero)",
            {
                "saturated_fraction_last_epoch": final,
                "saturated_fraction_first_batch": dict(samples[0].saturated_fraction),
                "threshold_max_saturated_fraction": self.max_saturated_fraction,
            },
            "Keep pre-activations small: scale the inputs, use Glorot initialization and "
            "normalize before the activation (or switch hidden layers to ReLU).",
            """
            x = keras.layers.Normalization()(inputs)  # adapt() it on the training data
            x = keras.layers.Dense(64, kernel_initializer="glorot_uniform")(x)
            x = keras.layers.BatchNormalization()(x)
            x = keras.layers.Activation("tanh")(x)
            """,
        )]
