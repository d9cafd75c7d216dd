"""Use the learning rate the range test suggested (treats `lr_too_high`, `lr_too_low`)."""

from __future__ import annotations

import math
from typing import Any

from fitdoctor.findings import Finding
from fitdoctor.fix.model_edit import edited_builder, optimizer_config
from fitdoctor.fix.remedies._helpers import learning_rate, optimizer_name
from fitdoctor.fix.remedies.base import Remedy, register, snippet
from fitdoctor.setup import Setup


def suggested_lr(finding: Finding) -> float | None:
    """The `suggested_lr` in the finding's evidence, when it is a positive number."""
    value = finding.evidence.get("suggested_lr")
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) and value > 0 else None


def with_learning_rate(setup: Setup, lr: float) -> Setup:
    """A setup whose optimizer starts at `lr` (any schedule is replaced by the constant)."""

    def edit(config: dict[str, Any]) -> dict[str, Any]:
        optimizer_config(config)["learning_rate"] = lr
        return config

    return setup.replace(build_model=edited_builder(setup.build_model, compile_edit=edit))


@register
class LearningRate(Remedy):
    id = "learning_rate"
    treats = ("lr_too_high", "lr_too_low")
    description = ("Set the optimizer's learning rate to the one the LR range test suggested; "
                   "without a suggestion, search 10x and 100x away from yours.")

    def strengths(self, setup: Setup, finding: Finding) -> tuple[Any, ...]:
        suggested = suggested_lr(finding)
        if suggested is not None:
            return (float(f"{suggested:.3g}"),)
        lr = learning_rate(setup)
        factor = 0.1 if finding.id == "lr_too_high" else 10.0
        return (float(f"{lr * factor:.3g}"), float(f"{lr * factor * factor:.3g}"))

    def apply(self, setup: Setup, finding: Finding, strength: Any = None) -> Setup:
        lr = float(strength) if strength is not None else self.strengths(setup, finding)[0]
        return with_learning_rate(setup, lr)

    def code(self, setup: Setup, finding: Finding, strength: Any = None) -> str:
        lr = float(strength) if strength is not None else self.strengths(setup, finding)[0]
        return snippet(f"""
            # in build_model(): only learning_rate changes
            model.compile(optimizer=keras.optimizers.{optimizer_name(setup)}(learning_rate={lr:g}),
                          loss=..., metrics=...)
        """)
