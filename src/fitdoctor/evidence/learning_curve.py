"""Learning curves: training and validation score against training-set size and epochs.

The user's own `fit` runs on fresh models trained on a fraction of the training rows
(stratified for classification): 50 % on the standard budget, 25 % and 50 % on thorough; the
100 % point is the probe run. Training on a fraction of the rows costs about that fraction of
a plain fit, so the curve costs about 0.5 of one fit on standard and 0.75 on thorough, plus
each fresh model's graph tracing (validation runs once, after the last epoch). The score
is accuracy for classification and the loss for regression, read from the last epoch of each
run. If validation keeps improving from 50 % to 100 % of the data, more data would still help.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np

from fitdoctor.evidence.base import Evidence, EvidenceSkipped, EvidenceUnavailable, probe
from fitdoctor.evidence.scores import class_ids, score_series
from fitdoctor.setup import NotEditable

#: Fractions of the training rows trained on besides the full set, by budget name.
FRACTIONS = {"standard": (0.5,), "thorough": (0.25, 0.5)}
#: A subset smaller than this many rows is not trained on.
MIN_ROWS = 20
#: Validation must improve by this much from the 50 % to the 100 % point to count as rising
#: (accuracy points for classification; relative loss decrease for regression).
RISING_TOLERANCE = 0.01


@dataclasses.dataclass(frozen=True)
class LearningCurve:
    """Training and validation score by training-set size, and by epoch for the full set.

    Args:
        metric: History key of the score (`"accuracy"`, `"loss"`, ...).
        higher_is_better: True for accuracy, False for a loss.
        sizes: Training rows of each point, ascending (the last is the full set).
        train_scores: Training score at the last epoch, per size.
        val_scores: Validation score at the last epoch, per size.
        epoch_train: Training score per epoch of the full-size run.
        epoch_val: Validation score per epoch of the full-size run.
    """

    metric: str
    higher_is_better: bool
    sizes: tuple[int, ...]
    train_scores: tuple[float, ...]
    val_scores: tuple[float, ...]
    epoch_train: tuple[float, ...]
    epoch_val: tuple[float, ...]

    @property
    def gaps(self) -> tuple[float, ...]:
        """How much better the training score is than validation, per size (positive = gap)."""
        sign = 1.0 if self.higher_is_better else -1.0
        pairs = zip(self.train_scores, self.val_scores, strict=True)
        return tuple(sign * (t - v) for t, v in pairs)

    @property
    def still_rising(self) -> bool:
        """Whether validation still improved clearly between the last two sizes."""
        if len(self.val_scores) < 2:
            return False
        before, after = self.val_scores[-2], self.val_scores[-1]
        if not (math.isfinite(before) and math.isfinite(after)):
            return False
        if self.higher_is_better:
            return after - before > RISING_TOLERANCE
        return after < before * (1.0 - RISING_TOLERANCE)

    def to_measurements(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "sizes": list(self.sizes),
            "train_scores": list(self.train_scores),
            "val_scores": list(self.val_scores),
            "still_rising": self.still_rising,
            "epoch_train": list(self.epoch_train),
            "epoch_val": list(self.epoch_val),
        }


def _subset_indices(y: np.ndarray, n: int, seed: int, stratify: bool) -> np.ndarray:
    from sklearn.model_selection import train_test_split

    idx = np.arange(len(y))
    strat = None
    if stratify:
        _, counts = np.unique(y, return_counts=True)
        if counts.min() >= 2 and len(counts) <= n:
            strat = y
    chosen, _ = train_test_split(idx, train_size=n, random_state=seed, stratify=strat)
    return np.sort(chosen)


@probe("learning_curve")
def learning_curve(evidence: Evidence) -> LearningCurve:
    """Train the user's setup on fractions of the rows; combine with the probe run."""
    if not evidence.budget.learning_curve:
        raise EvidenceSkipped(f"the {evidence.budget.name} budget does not measure learning curves")
    setup = evidence.setup
    full = score_series(evidence.get("probe_run").history, setup.task)
    if full is None:
        raise EvidenceUnavailable(
            "the model logs no accuracy metric; compile with metrics=['accuracy']"
        )
    labels = class_ids(setup.y_train, setup.task) if setup.task.kind in (
        "binary", "multiclass") else np.zeros(setup.n_train)
    # Only the last epoch's scores are used: validate once, at the end, unless the user's
    # callbacks (EarlyStopping, ...) read validation metrics every epoch.
    overrides = {} if setup.fit.get("callbacks") else {"validation_freq": setup.epochs}
    sizes, train_scores, val_scores = [], [], []
    for fraction in FRACTIONS.get(evidence.budget.name, (0.5,)):
        n = int(round(fraction * setup.n_train))
        if n < MIN_ROWS:
            continue
        idx = _subset_indices(labels, n, evidence.seed, setup.task.is_classification)
        try:
            subset = setup.subset(idx)
        except NotEditable as exc:
            raise EvidenceSkipped(str(exc)) from None
        history = subset.train(evidence.seed, **overrides).history
        series = score_series(history, setup.task)
        if series is None or not series.train:
            continue
        sizes.append(n)
        train_scores.append(series.train[-1])
        val_scores.append(series.val[-1])
    if not sizes:
        raise EvidenceSkipped(f"too few training rows ({setup.n_train}) for a learning curve")
    return LearningCurve(
        metric=full.name,
        higher_is_better=full.higher_is_better,
        sizes=(*sizes, setup.n_train),
        train_scores=(*train_scores, full.train[-1]),
        val_scores=(*val_scores, full.val[-1]),
        epoch_train=full.train,
        epoch_val=full.val,
    )
