"""The score fitdoctor compares runs on, read from Keras histories and labels.

Classification is compared on accuracy (higher is better), regression on the user's loss
(lower is better). These helpers find that score in a `History.history` dict whatever the user
named their metric, and give the accuracy a model gets by always guessing the majority class.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence

import numpy as np

from fitdoctor.setup import Task

_ACCURACY_KEYS = (
    "accuracy", "acc", "sparse_categorical_accuracy", "categorical_accuracy", "binary_accuracy",
)


@dataclasses.dataclass(frozen=True)
class ScoreSeries:
    """One score per epoch on the training and validation data.

    Args:
        name: History key of the training score (`"accuracy"`, `"loss"`, ...).
        train: Training score per epoch (averaged over the epoch's batches, as Keras logs it).
        val: Validation score per epoch.
        higher_is_better: True for accuracy, False for a loss.
    """

    name: str
    train: tuple[float, ...]
    val: tuple[float, ...]
    higher_is_better: bool

    def best_val_epoch(self) -> int:
        """Index of the epoch with the best validation score."""
        values = [v if math.isfinite(v) else math.nan for v in self.val]
        if all(math.isnan(v) for v in values):
            return len(values) - 1
        return int(np.nanargmax(values) if self.higher_is_better else np.nanargmin(values))

    def best(self, which: str = "val") -> float:
        """Best finite value of the training or validation series (NaN when none)."""
        values = [v for v in getattr(self, which) if math.isfinite(v)]
        if not values:
            return math.nan
        return float(max(values) if self.higher_is_better else min(values))


def accuracy_key(history: Mapping[str, Sequence[float]]) -> str | None:
    """The history key holding training accuracy (with a `val_` twin), or None."""
    for key in _ACCURACY_KEYS:
        if key in history and f"val_{key}" in history:
            return key
    return None


def score_series(history: Mapping[str, Sequence[float]], task: Task) -> ScoreSeries | None:
    """Accuracy per epoch for classification, the loss for regression; None if not logged."""
    key = accuracy_key(history) if task.is_classification else None
    if key is None and task.is_classification:
        return None
    key = key or "loss"
    if key not in history or f"val_{key}" not in history:
        return None
    return ScoreSeries(
        name=key,
        train=tuple(float(v) for v in history[key]),
        val=tuple(float(v) for v in history[f"val_{key}"]),
        higher_is_better=key != "loss",
    )


def class_ids(y: np.ndarray, task: Task) -> np.ndarray:
    """Labels as one class id per row (argmax of one-hot rows); regression targets unchanged."""
    y = np.asarray(y)
    if task.label_encoding == "onehot":
        return y.argmax(axis=1)
    if task.kind in ("binary", "multiclass"):
        return y.reshape(len(y), -1)[:, 0].astype("int64")
    return y


def chance_accuracy(y: np.ndarray, task: Task) -> float:
    """Accuracy of always predicting the most common class (per label for multi-label)."""
    y = np.asarray(y)
    if task.kind == "multilabel":
        positive = y.mean(axis=0)
        return float(np.mean(np.maximum(positive, 1 - positive)))
    _, counts = np.unique(class_ids(y, task), return_counts=True)
    return float(counts.max() / counts.sum())
