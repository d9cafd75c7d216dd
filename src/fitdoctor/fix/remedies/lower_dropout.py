"""Lower the dropout rates (treats `dropout_too_high`)."""

from __future__ import annotations

from typing import Any

from fitdoctor.findings import Finding
from fitdoctor.fix.model_edit import edited_builder, probe_model
from fitdoctor.fix.remedies.base import Remedy, register, snippet
from fitdoctor.setup import Setup


@register
class LowerDropout(Remedy):
    id = "lower_dropout"
    treats = ("dropout_too_high", "underfitting")
    description = "Cap every Dropout layer's rate (searched: 0.3, then 0.1)."
    grid = (0.3, 0.1)
    edits_model = True
    stage = 1

    def applies(self, setup: Setup, finding: Finding) -> bool:
        rates = [la.rate for la in probe_model(setup).layers if type(la).__name__ == "Dropout"]
        return bool(rates) and max(rates) > 0.3

    def apply(self, setup: Setup, finding: Finding, strength: Any = 0.3) -> Setup:
        cap = float(strength)

        def edit(layer: Any, config: dict[str, Any], is_output: bool) -> Any:
            if type(layer).__name__ != "Dropout":
                return None
            config["rate"] = min(float(config["rate"]), cap)
            return type(layer).from_config(config)

        return setup.replace(build_model=edited_builder(setup.build_model, layer_edit=edit))

    def code(self, setup: Setup, finding: Finding, strength: Any = 0.3) -> str:
        return snippet(f"""
            # in build_model(): no Dropout rate above {float(strength):g}
            keras.layers.Dropout({float(strength):g}),
        """)
