"""`vanishing_gradients`: early layers get almost no gradient compared with the output layer."""

from __future__ import annotations

import math

import numpy as np

from fitdoctor.checks._dynamics import WEIGHT_LAYERS, measured_samples, monitor_record
from fitdoctor.checks.base import Check, register
from fitdoctor.evidence import Evidence
from fitdoctor.findings import Finding, Role, Severity


@register
class VanishingGradients(Check):
    id = "vanishing_gradients"
    category = "training"
    role = Role.CAUSE
    rank = 30
    explains = ("underfitting", "baseline_beats_model")
    requires = ("probe_run",)
    description = """
    The `Monitor` measures, per Dense/Conv layer, the root-mean-square gradient entry on a fixed
    sample of training rows at a few batches per epoch. For each sampled batch it takes the
    smallest such value over the layers before the output layer, divided by the output layer's
    value; fires (warning) when the median of this ratio over all sampled batches is below
    `min_grad_ratio` (1e-3): the first layers learn at least a thousand times slower than the
    last. Layers whose ReLU units are mostly dead (half or more) are left to `dead_relu`.
    Typical causes: deep stacks of sigmoid/tanh layers, tiny initial weights. The fix: ReLU
    with He initialization, BatchNormalization, residual connections.
    """

    def __init__(self, *, min_grad_ratio: float = 1e-3) -> None:
        if not 0 < min_grad_ratio < 1:
            raise ValueError(
                f"min_grad_ratio must be in (0, 1). Received: min_grad_ratio={min_grad_ratio}"
            )
        self.min_grad_ratio = min_grad_ratio

    def run(self, evidence: Evidence) -> list[Finding]:
        record = monitor_record(evidence)
        samples = measured_samples(record)
        layers = [name for name, kind in record.layer_kinds.items() if kind in WEIGHT_LAYERS]
        if len(layers) < 2:
            return []
        *hidden, output = layers
        ratios, weakest = [], {}
        for sample in samples:
            top = sample.layer_grad_rms.get(output, math.nan)
            if not (math.isfinite(top) and top > 0):
                continue
            candidates = {
                name: sample.layer_grad_rms[name] / top
                for name in hidden
                if name in sample.layer_grad_rms
                and math.isfinite(sample.layer_grad_rms[name])
                and sample.dead_fraction.get(name, 0.0) < 0.5
            }
            if candidates:
                name = min(candidates, key=candidates.get)
                ratios.append(candidates[name])
                weakest[name] = weakest.get(name, 0) + 1
        if not ratios:
            return []
        median = float(np.median(ratios))
        if median >= self.min_grad_ratio:
            return []
        layer = max(weakest, key=weakest.get)
        last = samples[-1].layer_grad_rms
        return [self.finding(
            Severity.WARNING,
            f"Vanishing gradients: layer {layer} gets {median:.2g}x the output layer's gradient",
            {
                "median_grad_ratio": median,
                "weakest_layer": layer,
                "output_layer": output,
                "layer_grad_rms_last_sample": {k: last.get(k) for k in layers},
                "threshold_min_grad_ratio": self.min_grad_ratio,
            },
            "The first layers barely learn. Use ReLU with He initialization (or add "
            "BatchNormalization) instead of stacked sigmoid/tanh layers with small weights; "
            "for very deep nets add residual connections.",
            """
            x = keras.layers.Dense(64, kernel_initializer="he_normal")(x)
            x = keras.layers.BatchNormalization()(x)
            x = keras.layers.Activation("relu")(x)
            """,
        )]
