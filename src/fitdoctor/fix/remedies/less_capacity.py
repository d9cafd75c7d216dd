"""A narrower model (treats `overfitting`, `too_many_parameters`)."""

from __future__ import annotations

from typing import Any

from fitdoctor.findings import Finding
from fitdoctor.fix.model_edit import hidden_layers, probe_model
from fitdoctor.fix.remedies.base import Remedy, register, snippet
from fitdoctor.fix.remedies.capacity import scaled_setup
from fitdoctor.setup import Setup


@register
class LessCapacity(Remedy):
    id = "less_capacity"
    treats = ("overfitting", "too_many_parameters")
    judged_early = False  # its effect shows late in a run
    description = ("Divide the units of hidden Dense layers and filters of Conv layers "
                   "(searched: /2, /4).")
    grid = (0.5, 0.25)
    edits_model = True
    stage = 1

    def applies(self, setup: Setup, finding: Finding) -> bool:
        model = probe_model(setup)
        return bool(hidden_layers(model) or hidden_layers(model, "Conv2D"))

    def apply(self, setup: Setup, finding: Finding, strength: Any = 0.5) -> Setup:
        return scaled_setup(setup, float(strength))

    def code(self, setup: Setup, finding: Finding, strength: Any = 0.5) -> str:
        divisor = int(round(1 / float(strength)))
        return snippet(f"""
            # in build_model(): 1/{divisor} of the units of each hidden layer, e.g.
            keras.layers.Dense(256 // {divisor}, activation="relu"),
        """)
