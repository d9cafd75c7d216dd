"""Edit a user's model through its config, never through its code.

`fix` changes models by wrapping `build_model`: the wrapped builder calls the user's builder,
then clones the model with some layers changed (`keras.models.clone_model`), or wraps it behind
new input layers, and recompiles it from the user's own compile config (same optimizer config,
loss and metrics) with any edits applied. Sequential and functional models can be edited this way;
subclassed models cannot be cloned safely and raise `NotEditable`.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import keras

from fitdoctor.keras_vocab import PREPROCESSING_LAYERS
from fitdoctor.setup import NotEditable, Setup

#: `edit(layer, config, is_output)` returns a replacement layer, or None to keep a plain clone.
LayerEdit = Callable[[Any, dict[str, Any], bool], Any]
CompileEdit = Callable[[dict[str, Any]], dict[str, Any]]

_EDITABLE = ("Sequential", "Functional")


def is_editable(model: Any) -> bool:
    """Whether `model` is a Sequential or functional model (rebuildable from its config)."""
    return type(model).__name__ in _EDITABLE


def output_layer_names(model: Any) -> set[str]:
    """Names of the layers that produce the model's outputs."""
    names = set()
    for tensor in getattr(model, "outputs", None) or []:
        history = getattr(tensor, "_keras_history", None)
        if history is not None:
            names.add(history[0].name)
    if not names and model.layers:
        names.add(model.layers[-1].name)
    return names


def hidden_layers(model: Any, kind: str = "Dense") -> list[Any]:
    """Layers of class `kind` that do not produce a model output."""
    outputs = output_layer_names(model)
    return [la for la in model.layers if type(la).__name__ == kind and la.name not in outputs]


def optimizer_config(compile_config: dict[str, Any]) -> dict[str, Any]:
    """The optimizer's inner config dict inside a compile config (edit it in place)."""
    optimizer = compile_config.get("optimizer")
    if isinstance(optimizer, str):
        optimizer = keras.optimizers.serialize(keras.optimizers.get(optimizer))
        compile_config["optimizer"] = optimizer
    return optimizer["config"]


def edited_builder(
    build_model: Callable[[], Any],
    *,
    layer_edit: LayerEdit | None = None,
    input_layers: Callable[[Any], list[Any]] | None = None,
    output_layers: Callable[[Any], list[Any]] | None = None,
    compile_edit: CompileEdit | None = None,
) -> Callable[[], Any]:
    """Wrap `build_model` so each model it returns carries the given edits.

    Args:
        build_model: The builder to wrap (the user's, or an already wrapped one).
        layer_edit: Called for each layer; may return a replacement layer (None: keep). Defaults
            to None (no layer edits).
        input_layers: Called with the model; returns layers to put in front of it (e.g. a
            `Normalization`). Defaults to None.
        output_layers: Called with the model; returns layers to put after its output (e.g. a
            `Rescaling` back to the targets' units). Defaults to None.
        compile_edit: Called with a deep copy of the compile config; returns the config to
            compile with. Defaults to None (recompile as the user did).
    """

    def build() -> Any:
        model = build_model()
        compile_config = copy.deepcopy(model.get_compile_config())
        if layer_edit is not None or input_layers is not None or output_layers is not None:
            if not is_editable(model):
                raise NotEditable(
                    f"{type(model).__name__} is a subclassed model; fitdoctor edits only "
                    "Sequential and functional models"
                )
        if layer_edit is not None:
            outputs = output_layer_names(model)

            def clone(layer: Any) -> Any:
                config = layer.get_config()
                replacement = layer_edit(layer, config, layer.name in outputs)
                if replacement is not None:
                    return replacement
                if type(layer).__name__ in PREPROCESSING_LAYERS:
                    # adapted state (a Normalization's mean and variance, a TextVectorization's
                    # vocabulary) lives outside the config: from_config would lose it. The
                    # model is a fresh one from build_model, so its own layer is reused.
                    return layer
                return type(layer).from_config(config)

            model = keras.models.clone_model(model, clone_function=clone)
        if input_layers is not None:
            model = _wrap_inputs(model, input_layers(model))
        if output_layers is not None:
            model = _wrap_outputs(model, output_layers(model))
        if compile_edit is not None:
            compile_config = compile_edit(compile_config)
        model.compile_from_config(compile_config)
        return model

    return build


def _wrap_inputs(model: Any, layers: list[Any]) -> Any:
    if len(model.inputs) != 1:
        raise NotEditable(f"the model has {len(model.inputs)} inputs; fitdoctor wraps one")
    inputs = keras.Input(shape=tuple(model.inputs[0].shape[1:]))
    x = inputs
    for layer in layers:
        x = layer(x)
    return keras.Model(inputs, model(x), name=f"{model.name}_fixed")


def _wrap_outputs(model: Any, layers: list[Any]) -> Any:
    if len(model.outputs) != 1:
        raise NotEditable(f"the model has {len(model.outputs)} outputs; fitdoctor wraps one")
    x = model.outputs[0]
    for layer in layers:
        x = layer(x)
    return keras.Model(model.inputs, x, name=f"{model.name}_fixed")


def probe_model(setup: Setup) -> Any:
    """The setup's reference model (built once), to read its layers and compile config."""
    return setup.reference_model
