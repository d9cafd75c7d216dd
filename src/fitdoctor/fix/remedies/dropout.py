"""Dropout after each hidden Dense layer, rate searched (treats `overfitting`)."""

from __future__ import annotations

from typing import Any

import keras

from fitdoctor.findings import Finding
from fitdoctor.fix.model_edit import edited_builder, hidden_layers, probe_model
from fitdoctor.fix.remedies.base import Remedy, register, snippet
from fitdoctor.setup import Setup


@register
class AddDropout(Remedy):
    id = "dropout"
    treats = ("overfitting", "too_many_parameters")
    judged_early = False  # its effect shows late in a run
    description = "Insert Dropout after every hidden Dense layer."
    grid = (0.2, 0.35, 0.5)
    edits_model = True
    stage = 1

    def applies(self, setup: Setup, finding: Finding) -> bool:
        model = probe_model(setup)
        has_dropout = any(type(la).__name__ == "Dropout" for la in model.layers)
        return bool(hidden_layers(model)) and not has_dropout

    def apply(self, setup: Setup, finding: Finding, strength: Any = 0.35) -> Setup:
        rate = float(strength)

        def edit(layer: Any, config: dict[str, Any], is_output: bool) -> Any:
            if type(layer).__name__ != "Dense" or is_output:
                return None
            return keras.Sequential([type(layer).from_config(config), keras.layers.Dropout(rate)],
                                    name=f"{layer.name}_dropout")

        return setup.replace(build_model=edited_builder(setup.build_model, layer_edit=edit))

    def code(self, setup: Setup, finding: Finding, strength: Any = 0.35) -> str:
        return snippet(f"""
            # in build_model(), after each hidden Dense layer:
            keras.layers.Dense(64, activation="relu"),
            keras.layers.Dropout({float(strength):g}),
        """)
