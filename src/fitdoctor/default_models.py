"""Models fitdoctor builds when the user gives data but no model, and saved-model loading.

The defaults are what a careful first model looks like: a small MLP behind a `Normalization`
layer for tables, a small CNN behind `Rescaling(1/255)` for images, each with the output layer
and loss the labels call for. When the table has missing values, the MLP fills them first with
the training medians (a `FillMissing` layer) and says so in a warning; the data the audit reads
keeps them, so `missing_values` still names them.
"""

from __future__ import annotations

import dataclasses
import logging
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import keras
import numpy as np

from fitdoctor.errors import SetupError
from fitdoctor.evidence.impute import column_medians
from fitdoctor.setup import infer_task

logger = logging.getLogger(__name__)


@keras.saving.register_keras_serializable(package="fitdoctor")
class FillMissing(keras.layers.Layer):
    """Replace NaN and infinite inputs by a fixed value per feature (the training medians).

    Args:
        values: One fill value per feature (the last axis).
    """

    def __init__(self, values: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.values = [float(v) for v in np.asarray(values, dtype="float64").reshape(-1)]

    def call(self, inputs: Any) -> Any:
        fill = keras.ops.convert_to_tensor(self.values, dtype=inputs.dtype)
        return keras.ops.where(keras.ops.isfinite(inputs), inputs, fill)

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "values": list(self.values)}


def _head(task_kind: str, n_classes: int) -> tuple[Any, str, list[str]]:
    if task_kind == "binary":
        return keras.layers.Dense(1, activation="sigmoid"), "binary_crossentropy", ["accuracy"]
    if task_kind == "multiclass":
        return (keras.layers.Dense(n_classes, activation="softmax"),
                "sparse_categorical_crossentropy", ["accuracy"])
    return keras.layers.Dense(1), "mean_squared_error", ["mae"]


def tabular_model(x_train: np.ndarray, y_train: np.ndarray, *, impute: bool | None = None
                  ) -> Callable[[], Any]:
    """A builder for a Normalization + Dense(64) + Dense(32) MLP suited to the labels.

    The normalization statistics come from the training rows, ignoring missing values. With
    `impute`, a `FillMissing` layer first replaces missing inputs by the training medians
    (0 for a column with no value), and a warning says so.

    Args:
        x_train: Training features (2-D, may hold NaN).
        y_train: Training labels (class ids or continuous values).
        impute: Fill missing inputs inside the model. Defaults to None: when `x_train` has
            any (pass True when only the validation rows have some).
    """
    x = np.asarray(x_train, dtype="float64")
    finite = np.where(np.isfinite(x), x, np.nan)
    missing = np.isnan(finite)
    if impute is None:
        impute = bool(missing.any())
    fill = None
    if impute:
        fill = np.nan_to_num(column_medians(finite))  # all-NaN columns: filled with 0
        finite = np.where(missing, fill, finite)
        logger.warning(
            "fitdoctor's model fills missing values with the training medians (%d of %d "
            "training rows have some); a model of yours would see them as NaN",
            int(missing.any(axis=1).sum()), len(x),
        )
    mean = np.nan_to_num(np.nanmean(finite, axis=0))
    variance = np.nan_to_num(np.nanvar(finite, axis=0), nan=1.0)
    variance = np.where(variance > 0, variance, 1.0)
    task = infer_task(np.asarray(y_train))
    n_features = x.shape[1]

    def build_model():
        head, loss, metrics = _head(task.kind, task.n_classes)
        first = [FillMissing(fill)] if fill is not None else []
        model = keras.Sequential([
            keras.Input(shape=(n_features,)),
            *first,
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


def _clone_trusting_lambdas(layer: Any) -> Any:
    """A fresh copy of a layer; `Lambda` layers rebuilt with safe mode off (the user opted out)."""
    if isinstance(layer, keras.layers.Lambda):
        return keras.layers.Lambda.from_config(layer.get_config(), safe_mode=False)
    return layer.__class__.from_config(layer.get_config())


@dataclasses.dataclass(frozen=True)
class SavedModel:
    """A saved compiled model, read once.

    Args:
        build: Returns a freshly initialised copy, compiled as the saved one was.
        loss: The compiled loss (a name, a function or a `keras.losses.Loss`).
        output_units: Size of the model's last output axis (0 for several outputs).
    """

    build: Callable[[], Any]
    loss: Any
    output_units: int


def load_saved_model(path: str | Path, *, safe_mode: bool = True) -> SavedModel:
    """Load a saved compiled model, to rebuild fresh copies of it.

    Each `build()` clones the architecture (new weights, as a fresh training run would start)
    and compiles it the way the saved model was compiled.

    Args:
        path: A `.keras` file saved from a compiled model.
        safe_mode: Keras' safe mode, which refuses to load `Lambda` layers (they run arbitrary
            Python code). Pass False only for a file you trust. Defaults to True.
    """
    path = Path(path)
    if not path.is_file():
        raise SetupError(f"model file not found: {path}")
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Skipping variable loading for optimizer")
            saved = keras.models.load_model(path, compile=True, safe_mode=safe_mode)
    except Exception as exc:
        text = " ".join(str(exc).split())
        if safe_mode and "safe_mode" in text:
            raise SetupError(
                f"{path} holds a Lambda layer (Python code), which Keras' safe mode refuses to "
                "load; if you trust the file, pass --unsafe-model (safe_mode=False in Python)"
            ) from None
        raise SetupError(f"{path} could not be loaded as a Keras model: {text}") from None
    config = saved.get_compile_config() if getattr(saved, "compiled", False) else None
    if not config:
        raise SetupError(f"{path} holds an uncompiled model; compile it before saving")

    def build_model():
        model = keras.models.clone_model(saved, clone_function=None if safe_mode
                                         else _clone_trusting_lambdas)
        model.compile_from_config(config)
        return model

    shape = saved.output_shape
    units = int(shape[-1]) if isinstance(shape, tuple) and shape and shape[-1] else 0
    return SavedModel(build_model, saved.loss, units)
