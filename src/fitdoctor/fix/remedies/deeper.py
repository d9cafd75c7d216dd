"""One more hidden layer (treats `underfitting`, `baseline_beats_model`)."""

from __future__ import annotations

from typing import Any

import keras

from fitdoctor.findings import Finding
from fitdoctor.fix.model_edit import edited_builder, hidden_layers, probe_model
from fitdoctor.fix.remedies.activation import activation_name, suited_initializer
from fitdoctor.fix.remedies.base import Remedy, register, snippet
from fitdoctor.setup import Setup


def _last_hidden(setup: Setup) -> Any:
    layers = hidden_layers(probe_model(setup))
    return layers[-1] if layers else None


@register
class Deeper(Remedy):
    """Depth composes features where width only adds more of the same kind; `more_capacity`
    tries the wider model, this one the deeper."""

    id = "deeper"
    treats = ("underfitting", "baseline_beats_model")
    description = ("Add a hidden Dense layer after the last one, as wide and with the same "
                   "activation.")
    edits_model = True
    stage = 1

    def applies(self, setup: Setup, finding: Finding) -> bool:
        return _last_hidden(setup) is not None

    def apply(self, setup: Setup, finding: Finding, strength: Any = None) -> Setup:
        def build() -> Any:
            model = setup.build_model()
            last = hidden_layers(model)[-1].name  # layer names differ from build to build

            def edit(layer: Any, config: dict[str, Any], is_output: bool) -> Any:
                if layer.name != last:
                    return None
                activation = activation_name(config)
                extra = keras.layers.Dense(config["units"], activation=activation,
                                           kernel_initializer=suited_initializer(activation))
                return keras.Sequential([type(layer).from_config(config), extra],
                                        name=f"{layer.name}_deeper")

            return edited_builder(lambda: model, layer_edit=edit)()

        return setup.replace(build_model=build)

    def code(self, setup: Setup, finding: Finding, strength: Any = None) -> str:
        config = _last_hidden(setup).get_config()
        activation = activation_name(config)
        return snippet(f"""
            # in build_model(), after your last hidden layer ({config["name"]}):
            keras.layers.Dense({config["units"]}, activation="{activation}"),
        """)
