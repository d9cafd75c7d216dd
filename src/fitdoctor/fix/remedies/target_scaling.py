"""Learn standardized targets, answer in the targets' own units (treats `unscaled_targets`,
regression `output_range_mismatch`, and `underfitting` when the targets are far from unit scale).

A network initialized the usual way outputs values of order 1. Targets in the hundreds (house
prices, diabetes progression) then need many steps just to grow the last layer, and a bounded
output (sigmoid, tanh) can never reach them. The remedy makes the output layer linear and puts a
`Rescaling(scale=std, offset=mean)` after it, with the training targets' mean and standard
deviation: the network learns standardized targets, while the model still takes and predicts
values in the user's units, so its loss stays comparable with the original one.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np

from fitdoctor.findings import Finding
from fitdoctor.fix.model_edit import edited_builder
from fitdoctor.fix.remedies.activation import output_activation
from fitdoctor.fix.remedies.base import Remedy, register, snippet
from fitdoctor.setup import Setup

#: Targets whose standard deviation or mean magnitude lies outside this band are "unscaled".
UNIT_BAND = (0.2, 5.0)


def target_moments(setup: Setup) -> tuple[float, float]:
    """Mean and standard deviation of the (finite) training targets, over all outputs."""
    y = np.asarray(setup.y_train, dtype="float64")
    y = y[np.isfinite(y)]
    std = float(y.std()) if y.size else 1.0
    return (float(y.mean()) if y.size else 0.0), (std if std > 0 else 1.0)


def _rounded(value: float) -> float:
    return float(f"{value:.6g}")


@register
class TargetScaling(Remedy):
    id = "target_scaling"
    treats = ("unscaled_targets", "output_range_mismatch", "underfitting")
    description = ("Make the output linear and rescale it to the targets' mean and standard "
                   "deviation, so the network learns standardized targets.")
    edits_model = True
    stage = 1

    def applies(self, setup: Setup, finding: Finding) -> bool:
        if setup.task.kind != "regression":
            return False
        if finding.id in ("unscaled_targets", "output_range_mismatch"):
            return True
        mean, std = target_moments(setup)
        low, high = UNIT_BAND
        return not low <= std <= high or abs(mean) > high * std

    def apply(self, setup: Setup, finding: Finding, strength: Any = None) -> Setup:
        mean, std = target_moments(setup)

        def rescale(model: Any) -> list[Any]:
            return [keras.layers.Rescaling(scale=std, offset=mean, name="to_target_units")]

        builder = edited_builder(setup.build_model, layer_edit=output_activation("linear"),
                                 output_layers=rescale)
        return setup.replace(build_model=builder)

    def code(self, setup: Setup, finding: Finding, strength: Any = None) -> str:
        mean, std = target_moments(setup)
        return snippet(f"""
            # in build_model(): a linear output, rescaled to your targets' units
            # (mean {_rounded(mean)} and standard deviation {_rounded(std)} of y_train)
            outputs = keras.layers.Dense(n_outputs)(x)  # no activation
            outputs = keras.layers.Rescaling(scale={_rounded(std)},
                                             offset={_rounded(mean)})(outputs)
        """)
