"""Small helpers the remedy modules share: reading finding evidence and the compiled model."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from fitdoctor.findings import Finding
from fitdoctor.fix.model_edit import probe_model
from fitdoctor.keras_vocab import RESIZABLE_LAYERS
from fitdoctor.setup import Setup

#: Layers whose units/filters, activation, initializer and regularizers remedies may change.
WEIGHTED = RESIZABLE_LAYERS


def is_weighted(layer: Any) -> bool:
    """Whether a layer is a Dense or convolution layer."""
    return type(layer).__name__ in WEIGHTED


def evidence_indices(finding: Finding, keys: Iterable[str], n: int) -> np.ndarray | None:
    """Row or column indices a check put in its evidence under one of `keys`, validated.

    Returns None when none of the keys holds a list of integers all below `n`.
    """
    for key in keys:
        value = finding.evidence.get(key)
        if isinstance(value, (list, tuple)) and value and all(
            isinstance(v, (int, np.integer)) and 0 <= int(v) < n for v in value
        ):
            return np.asarray(sorted({int(v) for v in value}), dtype=int)
    return None


def compiled(setup: Setup) -> dict[str, Any]:
    """The compile config of the setup's model (optimizer, loss, metrics)."""
    return probe_model(setup).get_compile_config()


def learning_rate(setup: Setup) -> float:
    """The initial learning rate the setup's optimizer was compiled with."""
    optimizer = compiled(setup)["optimizer"]
    if isinstance(optimizer, str):
        import keras

        return float(keras.optimizers.get(optimizer).learning_rate)
    lr = optimizer["config"].get("learning_rate", 1e-3)
    if isinstance(lr, dict):  # a schedule: take its starting value
        lr = lr.get("config", {}).get("initial_learning_rate", 1e-3)
    return float(lr)


def optimizer_name(setup: Setup) -> str:
    """Class name of the setup's optimizer (`"SGD"`, `"Adam"`, ...)."""
    optimizer = compiled(setup)["optimizer"]
    if isinstance(optimizer, str):
        import keras

        return type(keras.optimizers.get(optimizer)).__name__
    return str(optimizer.get("class_name", ""))


def keep_rows(setup: Setup, keep: np.ndarray) -> Setup:
    """A setup training on the rows where `keep` is True (copies; the originals stay)."""
    return setup.replace(x_train=setup.x_train[keep].copy(), y_train=setup.y_train[keep].copy())


def integer_labels(setup: Setup) -> np.ndarray:
    """Training labels as class ids (one-hot labels are argmax-ed)."""
    y = np.asarray(setup.y_train)
    if setup.task.label_encoding == "onehot":
        return y.argmax(axis=-1)
    return y.reshape(len(y)).astype(int)
