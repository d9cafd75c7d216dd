"""Train a setup over a few seeds and score it on the validation data, the way the user would."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import Any

import keras
import numpy as np

from fitdoctor.data import n_rows, take_rows
from fitdoctor.keras_vocab import loss_from_logits, reads_validation
from fitdoctor.setup import Setup, Task, Trained

#: Validation rows below which fix cannot hold a part back: it chooses and reports on all.
MIN_ROWS_TO_SPLIT = 40
#: Held-back rows below which fix.md says the held-back gain is imprecise (with its error).
FEW_HELD_BACK_ROWS = 200


@dataclasses.dataclass(frozen=True)
class Halves:
    """The validation rows, split once per fix: one part chooses, the other only reports.

    Choosing the best of many candidates on the rows that then report the gain inflates it;
    rows fix never chose on give an honest before/after.

    Args:
        choose: Validation row indices every decision is made on.
        held_back: Validation row indices, untouched by every decision, that report the gain.
    """

    choose: np.ndarray
    held_back: np.ndarray


def split_validation(setup: Setup, seed: int) -> Halves | None:
    """Split the validation rows in two halves (stratified by class), or None when there are
    fewer than `MIN_ROWS_TO_SPLIT`."""
    from sklearn.model_selection import train_test_split

    from fitdoctor.keras_vocab import class_ids

    n = n_rows(setup.y_val) if setup.y_val is not None else 0
    if n < MIN_ROWS_TO_SPLIT:
        return None
    rows = np.arange(n)
    strata = None
    if setup.task.kind in ("binary", "multiclass"):
        strata = class_ids(np.asarray(setup.y_val), setup.task.label_encoding)
    try:
        choose, held = train_test_split(rows, test_size=0.5, random_state=seed, stratify=strata)
    except ValueError:  # a class with a single row
        choose, held = train_test_split(rows, test_size=0.5, random_state=seed)
    return Halves(np.sort(choose), np.sort(held))


@dataclasses.dataclass(frozen=True)
class PartScores:
    """The scores of each seed's model on the held-back validation rows.

    Args:
        rows: Held-back rows.
        score, val_accuracy, val_loss: As in `Scores`, per seed, on those rows.
        per_row: `seeds x rows` score of each row (1/0 correct, or minus its loss), for the
            paired standard error of a gain; None when the loss cannot be read per row.
    """

    rows: int
    score: tuple[float, ...]
    val_accuracy: tuple[float, ...]
    val_loss: tuple[float, ...]
    per_row: np.ndarray | None = dataclasses.field(default=None, compare=False, repr=False)


@dataclasses.dataclass(frozen=True)
class Scores:
    """Validation results of one setup, one entry per seed.

    Args:
        score: What `fix` compares on, higher is better: validation accuracy, or minus the
            user's validation loss for regression, on the rows that choose.
        val_accuracy: Validation accuracy per seed (NaN for regression), on the rows that choose.
        val_loss: Validation loss per seed, measured with the user's original loss, likewise.
        fit_seconds: Wall time of each `fit`.
        model: The model trained with the first seed (kept to save the fixed model).
        held_back: The same on the held-back rows, or None when nothing was held back.
    """

    score: tuple[float, ...]
    val_accuracy: tuple[float, ...]
    val_loss: tuple[float, ...]
    fit_seconds: tuple[float, ...]
    model: Any = dataclasses.field(default=None, compare=False, repr=False)
    held_back: PartScores | None = None

    @property
    def mean(self) -> float:
        return _mean(self.score)

    @property
    def noise(self) -> float:
        """Run-to-run spread of the score (sample standard deviation over seeds)."""
        finite = [s for s in self.score if math.isfinite(s)]
        return float(np.std(finite, ddof=1)) if len(finite) > 1 else 0.0

    def summary(self) -> dict[str, Any]:
        """Mean validation accuracy and loss, and the per-seed numbers, as JSON-able values.

        With a held-back part, the top-level numbers are the held-back rows' (the honest
        before/after) and `chosen_on` holds those of the rows that chose.
        """
        chosen = {"val_accuracy": _mean(self.val_accuracy), "val_loss": _mean(self.val_loss),
                  "score": self.mean}
        part = self.held_back
        shown = chosen if part is None else {
            "val_accuracy": _mean(part.val_accuracy), "val_loss": _mean(part.val_loss),
            "score": _mean(part.score)}
        per_seed = self if part is None else part
        out = {
            **shown,
            "per_seed": {
                "val_accuracy": list(per_seed.val_accuracy),
                "val_loss": list(per_seed.val_loss),
            },
            "fit_seconds": round(float(sum(self.fit_seconds)), 3),
        }
        if part is not None:
            out["chosen_on"] = chosen
        return out


def joined(first: Scores, rest: Scores) -> Scores:
    """`first`'s seeds followed by `rest`'s, as one `Scores` (a screened setting confirmed)."""
    part = None
    if first.held_back is not None and rest.held_back is not None:
        a, b = first.held_back, rest.held_back
        per_row = (None if a.per_row is None or b.per_row is None
                   else np.vstack([a.per_row, b.per_row]))
        part = PartScores(a.rows, a.score + b.score, a.val_accuracy + b.val_accuracy,
                          a.val_loss + b.val_loss, per_row)
    return Scores(first.score + rest.score, first.val_accuracy + rest.val_accuracy,
                  first.val_loss + rest.val_loss, first.fit_seconds + rest.fit_seconds,
                  first.model, part)


def first_seed(scores: Scores) -> Scores:
    """`scores` on its first seed only (what a run on that seed alone is compared with)."""
    part = scores.held_back
    if part is not None:
        part = PartScores(part.rows, part.score[:1], part.val_accuracy[:1], part.val_loss[:1],
                          None if part.per_row is None else part.per_row[:1])
    return Scores(scores.score[:1], scores.val_accuracy[:1], scores.val_loss[:1],
                  scores.fit_seconds[:1], scores.model, part)


def held_back_gain(before: Scores, after: Scores) -> tuple[float, float]:
    """Gain of `after` over `before` on the held-back rows, and its paired standard error
    (NaN when it cannot be measured). Both were scored on the same rows and seeds."""
    if before.held_back is None or after.held_back is None:
        return math.nan, math.nan
    gain = _mean(after.held_back.score) - _mean(before.held_back.score)
    old, new = before.held_back.per_row, after.held_back.per_row
    if old is None or new is None or old.shape[1] < 2:
        return gain, math.nan
    diff = new.mean(axis=0) - old.mean(axis=0)
    if not np.isfinite(diff).all():
        return gain, math.nan
    return gain, float(diff.std(ddof=1) / math.sqrt(len(diff)))


def _mean(values: tuple[float, ...]) -> float:
    """Mean over seeds; one diverged run (infinite loss) makes the mean infinite too."""
    return float(np.mean(values)) if values else math.nan


def accuracy(pred: np.ndarray, y: np.ndarray, task: Task, *, from_logits: bool = False) -> float:
    """Validation accuracy of predictions for the task (NaN predictions count as wrong)."""
    if task.kind == "regression":
        return math.nan
    return float(np.mean(correct(pred, y, task, from_logits=from_logits)))


def correct(pred: np.ndarray, y: np.ndarray, task: Task, *, from_logits: bool = False
            ) -> np.ndarray:
    """Per row, 1.0 where the prediction is right (a multilabel row: its share of right labels)."""
    pred = np.asarray(pred, dtype="float64")
    y = np.asarray(y)
    pred = np.nan_to_num(pred, nan=-np.inf)
    threshold = 0.0 if from_logits else 0.5
    if task.kind == "multilabel":
        return ((pred > threshold) == (y > 0.5)).reshape(len(y), -1).mean(axis=1)
    if pred.ndim == 1 or pred.shape[-1] == 1:
        predicted = (pred.reshape(len(pred)) > threshold).astype(int)
    else:
        predicted = pred.argmax(axis=-1)
    truth = y.argmax(axis=-1) if task.label_encoding == "onehot" else y.reshape(len(y))
    return (predicted == truth).astype("float64")


def original_loss(setup: Setup) -> Any:
    """The loss function the user compiled, to measure every variant on the same scale."""
    return setup.reference_model.loss


def train_and_score(setup: Setup, seeds: tuple[int, ...], user_loss: Any,
                    halves: Halves | None = None,
                    trained: Mapping[int, Trained] | None = None,
                    epochs: int | None = None) -> Scores:
    """Train a fresh model per seed with the setup's `fit` arguments and score it.

    Args:
        setup: The setup to train.
        seeds: One training run per seed.
        user_loss: The loss the user compiled (`original_loss`); regression scores use it so a
            remedy cannot win by changing what is measured.
        halves: Validation rows that choose and rows held back (`split_validation`).
            Defaults to None (every row chooses, nothing is held back).
        trained: Runs of this setup already made through `Setup.train`, by seed (the
            diagnosis' probe run); they are scored instead of trained again. Defaults to None.
        epochs: Epochs to train instead of the user's (a shortened screening run); runs in
            `trained` are then not used. Defaults to None.
    """
    chosen: list[tuple[float, float, float]] = []
    held: list[tuple[float, float, float]] = []
    held_rows: list[np.ndarray | None] = []
    seconds, first = [], None
    y_val = np.asarray(setup.y_val)
    # scored below on the validation rows, so validated every epoch only for callbacks that act
    # on it: the weights come out the same, a third sooner on small data
    validate = reads_validation(setup.fit.get("callbacks"))
    for seed in seeds:
        if epochs is None:
            run = (trained or {}).get(seed) or setup.train(seed, validate=validate,
                                                            batched=True)
        else:
            run = setup.train(seed, validate=validate, batched=True, epochs=epochs)
        model = run.model
        seconds.append(run.seconds)
        pred = predict(model, setup.val_inputs())
        logits = loss_from_logits(model.loss)
        rows = halves.choose if halves is not None else slice(None)
        chosen.append(_part(model, user_loss, setup.task, y_val[rows], pred[rows], logits))
        if halves is not None:
            y, p = y_val[halves.held_back], pred[halves.held_back]
            held.append(_part(model, user_loss, setup.task, y, p, logits))
            held_rows.append(_per_row(model, user_loss, setup.task, y, p, logits))
        if first is None:
            first = model
    part = None
    if halves is not None:
        per_row = None if any(r is None for r in held_rows) else np.stack(held_rows)
        part = PartScores(len(halves.held_back), *map(tuple, zip(*held, strict=True)),
                          per_row=per_row)
    score, accs, losses = map(tuple, zip(*chosen, strict=True))
    return Scores(score, accs, losses, tuple(seconds), first, part)


def _part(model: Any, user_loss: Any, task: Task, y: np.ndarray, pred: np.ndarray,
          from_logits: bool) -> tuple[float, float, float]:
    """(score, accuracy, loss) of one model's predictions on some validation rows."""
    acc = accuracy(pred, y, task, from_logits=from_logits)
    loss = _loss_value(model, user_loss, y, pred)
    return (-loss if task.kind == "regression" else acc), acc, loss


def _per_row(model: Any, user_loss: Any, task: Task, y: np.ndarray, pred: np.ndarray,
             from_logits: bool) -> np.ndarray | None:
    """Each row's score (1/0 correct, or minus its loss), or None when not readable per row."""
    if task.kind != "regression":
        return correct(pred, y, task, from_logits=from_logits)
    fn = keras.losses.get(user_loss) if isinstance(user_loss, str) else None
    if fn is None:
        return None
    target = np.asarray(y, dtype="float32")
    if target.ndim == pred.ndim - 1 and pred.shape[-1] == 1:
        target = target.reshape(pred.shape)
    try:
        values = np.asarray(keras.ops.convert_to_numpy(fn(target, pred)), dtype="float64")
    except Exception:
        return None
    return -values.reshape(len(y)) if values.size == len(y) else None


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
