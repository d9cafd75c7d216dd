"""One trial: build a fresh model with the sampled values, train it, score it on validation."""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from typing import Any

import keras
import numpy as np

from fitdoctor.keras_vocab import loss_from_logits
from fitdoctor.setup import Setup
from fitdoctor.tf_data import keras_pipelines_without_autotune
from fitdoctor.tune.space import Param, _all_layers

logger = logging.getLogger(__name__)

SCORE_KEY = "val_score"


def validation_score(model: keras.Model, setup: Setup) -> float:
    """Accuracy on the validation data for classification, the compiled loss for regression.

    Accuracy is computed from predictions, so it does not depend on which metrics the user
    compiled: argmax for multi-class, a 0.5 threshold (0 for logits) for binary and multi-label.
    """
    with keras_pipelines_without_autotune():  # fitdoctor.tf_data: no stall
        if not setup.task.is_classification:
            result = model.evaluate(setup.x_val, setup.y_val, verbose=0, return_dict=True)
            return float(result["loss"])
        pred = np.asarray(model.predict(setup.x_val, verbose=0))
    y = np.asarray(setup.y_val)
    logits = loss_from_logits(getattr(model, "loss", None))
    if setup.task.kind == "multilabel":
        return float(np.mean((pred > (0.0 if logits else 0.5)) == (y > 0.5)))
    if pred.ndim == 2 and pred.shape[1] > 1:
        predicted = pred.argmax(axis=1)
    else:
        predicted = (pred.reshape(len(pred)) > (0.0 if logits else 0.5)).astype(int)
    truth = y.argmax(axis=1) if y.ndim == 2 and y.shape[1] > 1 else y.reshape(len(y))
    return float(np.mean(predicted == truth.astype(int)))


class TrialReporter(keras.callbacks.Callback):
    """Score each epoch on validation, log it as `val_score`, report it to an Optuna trial.

    When the trial's pruner says the run is worse than its peers, training stops and `pruned`
    is set; the caller raises `optuna.TrialPruned` after `fit` returns. Pruning needs a trial;
    without one the callback only scores.

    Args:
        setup: The setup whose validation data is scored.
        trial: The Optuna trial to report to, or None. Defaults to None.
    """

    def __init__(self, setup: Setup, trial: Any = None) -> None:
        super().__init__()
        self.setup = setup
        self.trial = trial
        self.scores: list[float] = []
        self.pruned = False

    def on_train_begin(self, logs=None) -> None:
        self.scores = []
        self.pruned = False

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        logs = logs if logs is not None else {}
        if self.setup.task.is_classification:
            score = validation_score(self.model, self.setup)
        else:
            score = float(logs.get("val_loss", math.nan))
        logs[SCORE_KEY] = score
        self.scores.append(score)
        if self.trial is None:
            return
        if not math.isfinite(score):  # a diverged run: the worst possible report
            self.pruned = True
            self.model.stop_training = True
            return
        self.trial.report(score, epoch)
        if self.trial.should_prune():
            self.pruned = True
            self.model.stop_training = True


def _set_l2(model: keras.Model, strength: float) -> int:
    """Put an L2 penalty on every Dense/Conv kernel of a fresh model. Returns how many."""
    from fitdoctor.tune.space import _KERNEL_LAYERS

    count = 0
    for layer in _all_layers(model):
        kernel = getattr(layer, "kernel", None)
        if type(layer).__name__ in _KERNEL_LAYERS and kernel is not None:
            regularizer = keras.regularizers.L2(strength)
            layer.kernel_regularizer = regularizer  # what get_config() saves
            kernel.regularizer = regularizer  # what the training loss reads
            count += 1
    return count


def values_by_target(space: Sequence[Param], values: Mapping[str, Any]
                     ) -> dict[str, dict[str, Any]]:
    """The sampled values grouped by where each goes (`Param.target`)."""
    by_target: dict[str, dict[str, Any]] = {}
    for param in space:
        if param.name in values:
            by_target.setdefault(param.target, {})[param.name] = values[param.name]
    return by_target


def build_trial_model(setup: Setup, space: Sequence[Param],
                      values: Mapping[str, Any]) -> tuple[keras.Model, dict[str, Any]]:
    """Build a fresh model with `values` applied. Returns the model and the `fit` overrides."""
    by_target = values_by_target(space, values)
    model = setup.build_model(**by_target.get("build_model", {}))
    if not model.built:
        model(setup.model_rows(slice(0, 2))[0], training=False)
    for value in by_target.get("optimizer", {}).values():
        model.optimizer.learning_rate = float(value)
    for value in by_target.get("dropout_layers", {}).values():
        for layer in _all_layers(model):
            if isinstance(layer, keras.layers.Dropout):
                layer.rate = float(value)
    for value in by_target.get("kernel_l2", {}).values():
        _set_l2(model, float(value))
    return model, dict(by_target.get("fit", {}))


def train_trial(
    setup: Setup, space: Sequence[Param], values: Mapping[str, Any], *, seed: int,
    trial: Any = None, patience: int = 3,
) -> tuple[keras.Model, float, list[float], bool]:
    """Train one configuration with early stopping on the validation score.

    Args:
        setup: The setup to train.
        space: The searched parameters (say where each value goes).
        values: The sampled value of each parameter.
        seed: Seed for weights and shuffling.
        trial: An Optuna trial to report per-epoch scores to (enables pruning). Defaults to None.
        patience: Epochs without improvement before early stopping. Defaults to 3.

    Returns:
        The model (best epoch's weights restored), its validation score, the per-epoch scores,
        and whether the pruner stopped it.
    """
    fit_overrides = values_by_target(space, values).get("fit", {})
    maximize = setup.task.is_classification
    reporter = TrialReporter(setup, trial)
    stopper = keras.callbacks.EarlyStopping(
        monitor=SCORE_KEY, mode="max" if maximize else "min", patience=patience,
        restore_best_weights=True,
    )
    model = setup.train(
        seed, callbacks=[reporter, stopper],
        build=lambda: build_trial_model(setup, space, values)[0],
        keep_callback=lambda c: not isinstance(c, keras.callbacks.EarlyStopping), **fit_overrides,
    ).model
    finite = [s for s in reporter.scores if math.isfinite(s)]
    if not finite:
        return model, math.nan, reporter.scores, reporter.pruned
    best = max(finite) if maximize else min(finite)
    return model, float(best), reporter.scores, reporter.pruned
