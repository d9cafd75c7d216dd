"""Train a setup over a few seeds and score it on the validation data, the way the user would."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import keras
import numpy as np

from fitdoctor.data import n_rows, take_rows
from fitdoctor.keras_vocab import loss_from_logits
from fitdoctor.setup import Setup, Task


@dataclasses.dataclass(frozen=True)
class Scores:
    """Validation results of one setup, one entry per seed.

    Args:
        score: What `fix` compares on, higher is better: validation accuracy, or minus the
            user's validation loss for regression.
        val_accuracy: Validation accuracy per seed (NaN for regression).
        val_loss: Validation loss per seed, measured with the user's original loss.
        fit_seconds: Wall time of each `fit`.
        model: The model trained with the first seed (kept to save the fixed model).
    """

    score: tuple[float, ...]
    val_accuracy: tuple[float, ...]
    val_loss: tuple[float, ...]
    fit_seconds: tuple[float, ...]
    model: Any = dataclasses.field(default=None, compare=False, repr=False)

    @property
    def mean(self) -> float:
        return _mean(self.score)

    @property
    def noise(self) -> float:
        """Run-to-run spread of the score (sample standard deviation over seeds)."""
        finite = [s for s in self.score if math.isfinite(s)]
        return float(np.std(finite, ddof=1)) if len(finite) > 1 else 0.0

    def summary(self) -> dict[str, Any]:
        """Mean validation accuracy and loss, and the per-seed numbers, as JSON-able values."""
        return {
            "val_accuracy": _mean(self.val_accuracy),
            "val_loss": _mean(self.val_loss),
            "score": self.mean,
            "per_seed": {
                "val_accuracy": list(self.val_accuracy),
                "val_loss": list(self.val_loss),
            },
            "fit_seconds": round(float(sum(self.fit_seconds)), 3),
        }


def _mean(values: tuple[float, ...]) -> float:
    """Mean over seeds; one diverged run (infinite loss) makes the mean infinite too."""
    return float(np.mean(values)) if values else math.nan


def accuracy(pred: np.ndarray, y: np.ndarray, task: Task, *, from_logits: bool = False) -> float:
    """Validation accuracy of predictions for the task (NaN predictions count as wrong)."""
    pred = np.asarray(pred, dtype="float64")
    y = np.asarray(y)
    if task.kind == "regression":
        return math.nan
    pred = np.nan_to_num(pred, nan=-np.inf)
    threshold = 0.0 if from_logits else 0.5
    if task.kind == "multilabel":
        return float(np.mean((pred > threshold) == (y > 0.5)))
    if pred.ndim == 1 or pred.shape[-1] == 1:
        predicted = (pred.reshape(len(pred)) > threshold).astype(int)
    else:
        predicted = pred.argmax(axis=-1)
    truth = y.argmax(axis=-1) if task.label_encoding == "onehot" else y.reshape(len(y))
    return float(np.mean(predicted == truth))


def original_loss(setup: Setup) -> Any:
    """The loss function the user compiled, to measure every variant on the same scale."""
    return setup.reference_model.loss


def train_and_score(setup: Setup, seeds: tuple[int, ...], user_loss: Any) -> Scores:
    """Train a fresh model per seed with the setup's `fit` arguments and score it.

    Args:
        setup: The setup to train.
        seeds: One training run per seed.
        user_loss: The loss the user compiled (`original_loss`); regression scores use it so a
            remedy cannot win by changing what is measured.
    """
    scores, accs, losses, seconds, first = [], [], [], [], None
    for seed in seeds:
        run = setup.train(seed)
        model = run.model
        seconds.append(run.seconds)
        pred = predict(model, setup.val_inputs())
        acc = accuracy(pred, setup.y_val, setup.task, from_logits=loss_from_logits(model.loss))
        loss = _loss_value(model, user_loss, setup.y_val, pred)
        accs.append(acc)
        losses.append(loss)
        scores.append(-loss if setup.task.kind == "regression" else acc)
        if first is None:
            first = model
    return Scores(tuple(scores), tuple(accs), tuple(losses), tuple(seconds), first)


def predict(model: Any, x: Any, batch_size: int = 1024) -> np.ndarray:
    """Predictions in inference mode, batch by batch (no per-model `predict` retracing)."""
    parts = []
    for start in range(0, n_rows(x), batch_size):
        out = model(take_rows(x, slice(start, start + batch_size)), training=False)
        if isinstance(out, (list, tuple, dict)):  # several outputs: score the first
            out = list(out.values())[0] if isinstance(out, dict) else out[0]
        parts.append(keras.ops.convert_to_numpy(out))
    return np.concatenate(parts)


def _loss_value(model: Any, user_loss: Any, y: np.ndarray, pred: np.ndarray) -> float:
    """Validation loss with the user's loss where it applies, else with the model's own."""
    y = np.asarray(y, dtype="float32")
    if y.ndim == pred.ndim - 1 and pred.shape[-1] == 1:
        y = y.reshape(pred.shape)
    for loss in (user_loss, model.loss):
        try:
            fn = keras.losses.get(loss) if isinstance(loss, str) else loss
            value = float(keras.ops.convert_to_numpy(keras.ops.mean(fn(y, pred))))
        except Exception:  # the user's loss cannot read this output (e.g. the pair was fixed)
            continue
        return value if math.isfinite(value) else math.inf
    return math.inf
