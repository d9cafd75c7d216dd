"""Keras 3 code sketches of a changed architecture, written for the user's own model.

Capacity checks (underfitting, overfitting, too many parameters) show the user's network with
the change applied; these helpers turn `ModelInfo` into that code.
"""

from __future__ import annotations

from fitdoctor.evidence.model_info import ModelInfo
from fitdoctor.keras_vocab import is_image_shape


def _output_line(info: ModelInfo) -> str:
    act = info.output_activation
    units = info.output_units
    if act in ("linear", ""):
        return f"keras.layers.Dense({units}),"
    return f'keras.layers.Dense({units}, activation="{act}"),'


def _input_line(info: ModelInfo) -> str:
    return f"keras.Input(shape={tuple(info.input_shape)!r}),"


def hidden_widths(info: ModelInfo) -> list[int]:
    """Units of the Dense hidden layers, in order (the output layer excluded)."""
    dense = [layer.units or 0 for layer in info.layers if layer.kind == "Dense"]
    return [u for u in dense[:-1] if u]


def is_image_input(info: ModelInfo) -> bool:
    """Whether the input looks like an image: (height, width) or (height, width, channels)."""
    return is_image_shape(info.input_shape)


def dense_sketch(info: ModelInfo, widths: list[int], *, dropout: float = 0.0,
                 l2: float = 0.0) -> str:
    """A Sequential MLP with these hidden widths, optional Dropout and L2, and the same output."""
    reg = f", kernel_regularizer=keras.regularizers.L2({l2:g})" if l2 else ""
    lines = ["model = keras.Sequential([", f"    {_input_line(info)}"]
    if len(info.input_shape) > 1:
        lines.append("    keras.layers.Flatten(),")
    for width in widths:
        lines.append(f'    keras.layers.Dense({width}, activation="relu"{reg}),')
        if dropout:
            lines.append(f"    keras.layers.Dropout({dropout:g}),")
    lines += [f"    {_output_line(info)}", "])"]
    return "\n".join(lines)


def conv_sketch(info: ModelInfo) -> str:
    """A small CNN for the model's image input, keeping its output layer."""
    shape = tuple(info.input_shape)
    lines = ["model = keras.Sequential([", f"    {_input_line(info)}"]
    if len(shape) == 2:
        lines.append(f"    keras.layers.Reshape({(*shape, 1)!r}),")
    lines += [
        '    keras.layers.Conv2D(32, 3, padding="same", activation="relu"),',
        "    keras.layers.MaxPooling2D(),",
        '    keras.layers.Conv2D(64, 3, padding="same", activation="relu"),',
        "    keras.layers.GlobalAveragePooling2D(),",
        '    keras.layers.Dense(64, activation="relu"),',
        f"    {_output_line(info)}",
        "])",
    ]
    return "\n".join(lines)


EARLY_STOPPING = (
    'FIT["callbacks"] = [keras.callbacks.EarlyStopping(\n'
    '    monitor="val_loss", patience=5, restore_best_weights=True)]'
)
