"""Shared code of the activation remedies."""

from __future__ import annotations

from typing import Any

from fitdoctor.fix.model_edit import edited_builder, output_layer_names, probe_model
from fitdoctor.fix.remedies._helpers import is_weighted
from fitdoctor.setup import Setup

_HE = ("relu", "leaky_relu", "relu6", "elu", "gelu", "silu", "swish", "mish")


def suited_initializer(activation: str) -> str:
    """The kernel initializer that keeps activations' variance steady for `activation`:
    He (He et al., 2015) for the ReLU family, LeCun normal for SELU (what its self-normalization
    assumes), Glorot (Glorot & Bengio, 2010) for tanh, sigmoid and linear layers."""
    if activation in _HE:
        return "he_normal"
    if activation == "selu":
        return "lecun_normal"
    return "glorot_uniform"


def activation_name(config: dict[str, Any]) -> str:
    value = config.get("activation")
    if isinstance(value, dict):
        value = value.get("config", {}).get("name") or value.get("class_name", "")
    return str(value or "linear").lower()


def hidden_activations(setup: Setup) -> list[str]:
    """Activations of the hidden Dense/Conv layers."""
    model = probe_model(setup)
    outputs = output_layer_names(model)
    return [activation_name(la.get_config()) for la in model.layers
            if is_weighted(la) and la.name not in outputs]


def swap_activations(setup: Setup, swap: dict[str, str]) -> Setup:
    """A setup whose hidden Dense/Conv activations are renamed by `swap` (output layer kept),
    each changed layer with the kernel initializer its new activation needs."""

    def edit(layer: Any, config: dict[str, Any], is_output: bool) -> Any:
        if is_output or not is_weighted(layer):
            return None
        name = activation_name(config)
        if name not in swap:
            return None
        config["activation"] = swap[name]
        if "kernel_initializer" in config:
            config["kernel_initializer"] = suited_initializer(swap[name])
        return type(layer).from_config(config)

    return setup.replace(build_model=edited_builder(setup.build_model, layer_edit=edit))


def output_activation(activation: str) -> Any:
    """A layer edit giving the output layer `activation` (hidden layers kept)."""

    def edit(layer: Any, config: dict[str, Any], is_output: bool) -> Any:
        if not is_output or "activation" not in config:
            return None
        config["activation"] = activation
        return type(layer).from_config(config)

    return edit
