"""Use the learning rate the range test suggested (treats `lr_too_high`, `lr_too_low`)."""

from __future__ import annotations

import inspect
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


def keras_default_lr(name: str) -> float | None:
    """The learning rate a Keras optimizer class starts at by default (`Adam`: 0.001)."""
    import keras

    cls = getattr(keras.optimizers, name, None)
    if not isinstance(cls, type):
        return None
    default = inspect.signature(cls).parameters.get("learning_rate")
    value = getattr(default, "default", None)
    return float(value) if isinstance(value, (int, float)) and value > 0 else None


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
    description = ("Set the optimizer's learning rate to the one the LR range test suggested, "
                   "and try the optimizer's Keras default too when it lies further the same "
                   "way; without a suggestion, search 10x and 100x away from yours.")
    #: The suggestion and the default are alternatives, not one strength growing.
    ordered_grid = False
    #: The default is tried beside the suggestion only when they differ by more than this factor.
    distinct_factor = 2.0

    def strengths(self, setup: Setup, finding: Finding) -> tuple[Any, ...]:
        lr = learning_rate(setup)
        lower = finding.id == "lr_too_high"
        suggested = suggested_lr(finding)
        if suggested is None:
            factor = 0.1 if lower else 10.0
            return (float(f"{lr * factor:.3g}"), float(f"{lr * factor * factor:.3g}"))
        tries = [float(f"{suggested:.3g}")]
        default = keras_default_lr(optimizer_name(setup))
        if default is not None:
            further = default < min(lr, suggested) if lower else default > max(lr, suggested)
            if further and max(default, suggested) / min(default, suggested) > self.distinct_factor:
                tries.append(default)
        return tuple(tries)

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
