"""`dropout_too_high`: a Dropout layer that drops most of its inputs."""

from __future__ import annotations

from fitdoctor.checks.base import Check, register
from fitdoctor.evidence import Evidence
from fitdoctor.findings import Finding, Role, Severity


@register
class DropoutTooHigh(Check):
    id = "dropout_too_high"
    category = "model"
    role = Role.CAUSE
    rank = 20
    requires = ("model_info",)
    explains = ("underfitting",)
    description = """
    A Dropout-family layer has a rate above `max_rate` (0.5): during training it zeroes more
    than half of its inputs, so the network trains with a fraction of its capacity and the
    training loss stays high (underfitting). Rates of 0.1 to 0.5 are the usual range; above
    0.5, regularize with L2 or a smaller network instead. Read from the model, no training;
    warning.
    """

    def __init__(self, *, max_rate: float = 0.5) -> None:
        if not 0 < max_rate < 1:
            raise ValueError(f"max_rate must be in (0, 1). Received: max_rate={max_rate}")
        self.max_rate = max_rate

    def run(self, evidence: Evidence) -> list[Finding]:
        info = evidence.get("model_info")
        high = [layer for layer in info.layers
                if layer.is_dropout and (layer.rate or 0.0) > self.max_rate]
        if not high:
            return []
        worst = max(high, key=lambda layer: layer.rate or 0.0)
        return [self.finding(
            Severity.WARNING,
            f"{worst.kind} layer {worst.name} drops {worst.rate:.0%} of its inputs while training",
            {"layers": {layer.name: layer.rate for layer in high}, "max_rate": self.max_rate},
            f"Lower the dropout rate to at most {self.max_rate:g} (0.2-0.3 is a good start); "
            "if the model overfits, add L2 weight decay or EarlyStopping instead.",
            f"""
            # in build_model(), instead of keras.layers.{worst.kind}({worst.rate:g}):
            keras.layers.{worst.kind}(0.25),
            """,
        )]
