"""Shared code of the capacity remedies: scale hidden Dense units and Conv filters."""

from __future__ import annotations

from typing import Any

from fitdoctor.fix.model_edit import edited_builder
from fitdoctor.keras_vocab import RESIZABLE_LAYERS
from fitdoctor.setup import Setup


def scaled_setup(setup: Setup, factor: float) -> Setup:
    """A setup whose hidden Dense units and Conv filters are multiplied by `factor` (min 4)."""

    def edit(layer: Any, config: dict[str, Any], is_output: bool) -> Any:
        if is_output:
            return None
        for key in ("units", "filters"):
            if key in config and type(layer).__name__ in RESIZABLE_LAYERS:
                config[key] = max(4, int(round(config[key] * factor)))
                return type(layer).from_config(config)
        return None

    return setup.replace(build_model=edited_builder(setup.build_model, layer_edit=edit))
