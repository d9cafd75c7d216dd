"""A wider model, or a hidden layer where there is none (treats `underfitting`)."""

from __future__ import annotations

from typing import Any

import keras

from fitdoctor.findings import Finding
from fitdoctor.fix.model_edit import edited_builder, hidden_layers, probe_model
from fitdoctor.fix.remedies.base import Remedy, register, snippet
from fitdoctor.fix.remedies.capacity import scaled_setup
from fitdoctor.setup import Setup


def _has_hidden(setup: Setup) -> bool:
    model = probe_model(setup)
    return bool(hidden_layers(model) or hidden_layers(model, "Conv2D"))


@register
class MoreCapacity(Remedy):
    id = "more_capacity"
    treats = ("underfitting", "baseline_beats_model")
    description = ("Multiply the units of hidden Dense layers and filters of Conv layers "
                   "(searched: x2, x4); a model with no hidden layer gets a ReLU Dense layer "
                   "of 32 x factor.")
    grid = (2, 4)
    edits_model = True
    stage = 1

    def apply(self, setup: Setup, finding: Finding, strength: Any = 2) -> Setup:
        if _has_hidden(setup):
            return scaled_setup(setup, float(strength))
        units = 32 * int(strength)

        def edit(layer: Any, config: dict[str, Any], is_output: bool) -> Any:
            if not is_output or type(layer).__name__ != "Dense":
                return None
            return keras.Sequential([keras.layers.Dense(units, activation="relu"),
                                     type(layer).from_config(config)], name=f"{layer.name}_deeper")

        return setup.replace(build_model=edited_builder(setup.build_model, layer_edit=edit))

    def code(self, setup: Setup, finding: Finding, strength: Any = 2) -> str:
        if _has_hidden(setup):
            return snippet(f"""
                # in build_model(): {strength}x the units of each hidden layer, e.g.
                keras.layers.Dense(64 * {strength}, activation="relu"),
            """)
        return snippet(f"""
            # in build_model(): add a hidden layer before the output layer
            keras.layers.Dense({32 * int(strength)}, activation="relu"),
        """)
