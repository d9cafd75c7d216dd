"""`exploding_gradients`: gradient norms blow up (at initialization or during training)."""

from __future__ import annotations

import math

from fitdoctor.checks._dynamics import measured_samples, monitor_record
from fitdoctor.checks.base import Check, register
from fitdoctor.evidence import Evidence
from fitdoctor.findings import Finding, Role, Severity


@register
class ExplodingGradients(Check):
    id = "exploding_gradients"
    category = "training"
    role = Role.SYMPTOM
    rank = 20
    requires = ("probe_run",)
    description = """
    The `Monitor` measures the global gradient norm on a fixed sample of training rows at a few
    batches per epoch. Fires when a measured norm reaches `max_grad_norm` (1e3), or grows to
    `growth_factor` (1e3) times the norm measured at the first batch. Critical when the loss
    also became NaN/Inf, warning otherwise. When the norm is already at `max_grad_norm` on the
    first batch, before any optimizer step, the learning rate cannot be the cause: the finding
    is then a cause (initialization or architecture) that explains `nan_loss`, and the fix is
    a scaled initializer, normalization and gradient clipping. Otherwise it is a symptom, most
    often of `lr_too_high`.
    """

    def __init__(self, *, max_grad_norm: float = 1e3, growth_factor: float = 1e3) -> None:
        if max_grad_norm <= 0 or growth_factor <= 1:
            raise ValueError(
                "need max_grad_norm > 0 and growth_factor > 1. Received: "
                f"max_grad_norm={max_grad_norm}, growth_factor={growth_factor}"
            )
        self.max_grad_norm = max_grad_norm
        self.growth_factor = growth_factor

    def run(self, evidence: Evidence) -> list[Finding]:
        record = monitor_record(evidence)
        samples = measured_samples(record)
        norms = [s.grad_norm for s in samples]
        finite = [(v, s) for v, s in zip(norms, samples, strict=True) if math.isfinite(v)]
        if not finite:
            return []
        first = samples[0].grad_norm
        peak, at = max(finite, key=lambda pair: pair[0])
        growth = peak / first if math.isfinite(first) and first > 0 else math.nan
        too_large = peak >= self.max_grad_norm
        grew = math.isfinite(growth) and growth >= self.growth_factor
        if not (too_large or grew):
            return []
        at_init = math.isfinite(first) and first >= self.max_grad_norm
        layers = {k: v for k, v in at.layer_grad_norms.items() if math.isfinite(v)}
        facts = {
            "first_grad_norm": first,
            "max_grad_norm": peak,
            "max_at_step": at.step,
            "growth": growth,
            "layer_grad_norms_at_max": layers,
            "nonfinite_gradients": record.nonfinite_gradients,
            "nonfinite_loss": record.nonfinite_loss,
            "threshold_max_grad_norm": self.max_grad_norm,
        }
        severity = Severity.CRITICAL if record.nonfinite_loss else Severity.WARNING
        if at_init:
            return [self.finding(
                severity,
                f"Gradients explode from initialization: norm {first:.3g} before any step",
                facts,
                "The initial weights make activations and gradients blow up layer after "
                "layer. Use a scaled initializer (He for ReLU, Glorot for tanh/sigmoid), add "
                "BatchNormalization, and clip gradients.",
                """
                keras.layers.Dense(64, kernel_initializer="he_normal"),
                keras.layers.BatchNormalization(),
                keras.layers.Activation("relu"),
                ...
                optimizer = keras.optimizers.Adam(learning_rate=1e-3, clipnorm=1.0)
                """,
                role=Role.CAUSE,
                explains=("nan_loss",),
            )]
        return [self.finding(
            severity,
            f"Gradient norm grew {growth:.3g}x during training (peak {peak:.3g})",
            facts,
            "Clip gradients and lower the learning rate; a learning-rate schedule that decays "
            "on plateaus keeps late steps small.",
            """
            optimizer = keras.optimizers.Adam(learning_rate=1e-4, clipnorm=1.0)
            callbacks = [keras.callbacks.ReduceLROnPlateau(factor=0.5, patience=2)]
            """,
        )]
