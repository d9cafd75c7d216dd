"""Models fitdoctor builds when the user gives data but no model, and saved-model loading.

The defaults are what a careful first model looks like: a small MLP behind a `Normalization`
layer for tables, a small CNN behind `Rescaling(1/255)` for images, each with the output layer
and loss the labels call for. They do not impute: missing values reach the model, and the
audit names them as the cause of the NaN loss they produce.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from fitdoctor.errors import SetupError
from fitdoctor.setup import infer_task


def _head(task_kind: str, n_classes: int) -> tuple[Any, str, list[str]]:
    import keras

    if task_kind == "binary":
        return keras.layers.Dense(1, activation="sigmoid"), "binary_crossentropy", ["accuracy"]
    if task_kind == "multiclass":
        return (keras.layers.Dense(n_classes, activation="softmax"),
                "sparse_categorical_crossentropy", ["accuracy"])
    return keras.layers.Dense(1), "mean_squared_error", ["mae"]


def tabular_model(x_train: np.ndarray, y_train: np.ndarray) -> Callable[[], Any]:
    """A builder for a Normalization + Dense(64) + Dense(32) MLP suited to the labels.

    The normalization statistics come from the training rows, ignoring missing values.

    Args:
        x_train: Training features (2-D, may hold NaN).
        y_train: Training labels (class ids or continuous values).
    """
    x = np.asarray(x_train, dtype="float64")
    finite = np.where(np.isfinite(x), x, np.nan)
    mean = np.nan_to_num(np.nanmean(finite, axis=0))
    variance = np.nan_to_num(np.nanvar(finite, axis=0), nan=1.0)
    variance = np.where(variance > 0, variance, 1.0)
    task = infer_task(np.asarray(y_train))
    n_features = x.shape[1]

    def build_model():
        import keras

        head, loss, metrics = _head(task.kind, task.n_classes)
        model = keras.Sequential([
            keras.Input(shape=(n_features,)),
            keras.layers.Normalization(mean=mean, variance=variance),
            keras.layers.Dense(64, activation="relu"),
            keras.layers.Dense(32, activation="relu"),
            head,
        ])
        model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=loss, metrics=metrics)
        return model

    return build_model


def image_classifier(input_shape: tuple[int, ...], n_classes: int) -> Callable[[], Any]:
    """A builder for a small CNN (Rescaling 1/255, two conv blocks, global pooling).

    Args:
        input_shape: (height, width, channels) of one image.
        n_classes: Number of classes (2 gives a sigmoid output).
    """
    kind = "binary" if n_classes <= 2 else "multiclass"

    def build_model():
        import keras

        head, loss, metrics = _head(kind, n_classes)
        model = keras.Sequential([
            keras.Input(shape=tuple(input_shape)),
            keras.layers.Rescaling(1.0 / 255),
            keras.layers.Conv2D(16, 3, activation="relu", padding="same"),
            keras.layers.MaxPooling2D(),
            keras.layers.Conv2D(32, 3, activation="relu", padding="same"),
            keras.layers.MaxPooling2D(),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(32, activation="relu"),
            head,
        ])
        model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=loss, metrics=metrics)
        return model

    return build_model


def saved_model_builder(path: str | Path) -> Callable[[], Any]:
    """A builder returning a freshly initialised copy of a saved compiled model.

    Each call clones the architecture (new weights, as a fresh training run would start) and
    compiles it the way the saved model was compiled.

    Args:
        path: A `.keras` file saved from a compiled model.
    """
    import keras

    path = Path(path)
    if not path.is_file():
        raise SetupError(f"model file not found: {path}")
    try:
        saved = keras.models.load_model(path, compile=True)
    except Exception as exc:
        raise SetupError(f"{path} could not be loaded as a Keras model: {exc}") from None
    config = saved.get_compile_config() if getattr(saved, "compiled", False) else None
    if not config:
        raise SetupError(f"{path} holds an uncompiled model; compile it before saving")

    def build_model():
        model = keras.models.clone_model(saved)
        model.compile_from_config(config)
        return model

    return build_model
