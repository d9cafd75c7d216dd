"""Learning curves: training and validation score against training-set size and epochs.

The user's own `fit` runs on fresh models trained on a fraction of the training rows
(stratified for classification); the 100 % point is the probe run. Training on a fraction of
the rows costs about that fraction of a plain fit (plus each fresh model's graph tracing;
validation runs once, after the last epoch), so the points are the most of `POINTS` that the
curve's share of the budget pays for (`fitdoctor.evidence.cost`): 25 % of the rows on the
standard budget (0.25 of a fit), 50 % on thorough (0.5). With a share below the smallest
point, the curve holds the full set only and its notes say why. The score is accuracy for
classification and the loss for regression, read from the last epoch of each run. If
validation keeps improving, per doubling of the rows, up to 100 % of the data, more data would
still help.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np

from fitdoctor.evidence import cost
from fitdoctor.evidence.base import Evidence, EvidenceSkipped, EvidenceUnavailable, probe
from fitdoctor.evidence.scores import class_ids, score_series
from fitdoctor.keras_vocab import reads_validation
from fitdoctor.setup import NotEditable

#: Fractions of the training rows trained on besides the full set, most informative first;
#: the curve measures the first whose cost (the sum of its fractions, in plain fits) its share
#: pays for.
POINTS = ((0.25, 0.5), (0.5,), (0.25,))
#: A subset smaller than this many rows is not trained on.
MIN_ROWS = 20
#: Validation must improve by this much per doubling of the rows over the curve's last step
#: to count as rising (accuracy points for classification; relative loss decrease for
#: regression).
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
        notes: Points left out to stay within the curve's share of the budget, and why.
        chance: For classification, the validation accuracy of always predicting the most
            frequent class (None for regression): a curve that ends at or below it has not
            learned anything, so it is not rising whatever its shape. Defaults to None.
    """

    metric: str
    higher_is_better: bool
    sizes: tuple[int, ...]
    train_scores: tuple[float, ...]
    val_scores: tuple[float, ...]
    epoch_train: tuple[float, ...]
    epoch_val: tuple[float, ...]
    notes: tuple[str, ...] = ()
    chance: float | None = None

    @property
    def gaps(self) -> tuple[float, ...]:
        """How much better the training score is than validation, per size (positive = gap)."""
        sign = 1.0 if self.higher_is_better else -1.0
        pairs = zip(self.train_scores, self.val_scores, strict=True)
        return tuple(sign * (t - v) for t, v in pairs)

    @property
    def gain_per_doubling(self) -> float | None:
        """Validation gain over the last step, per doubling of the rows (None below 2 points).

        Accuracy points for a score; for a loss, the relative decrease per doubling.
        """
        if len(self.val_scores) < 2:
            return None
        before, after = self.val_scores[-2], self.val_scores[-1]
        if not (math.isfinite(before) and math.isfinite(after)):
            return None
        doublings = math.log2(self.sizes[-1] / self.sizes[-2])
        if self.higher_is_better:
            return (after - before) / doublings
        if before <= 0 or after < 0:
            return 0.0
        return 1.0 - (after / before) ** (1.0 / doublings)

    @property
    def still_rising(self) -> bool:
        """Whether validation still improved clearly, per doubling, between the last two sizes.

        Never when the last score is no better than chance (`chance`), nor when it is already
        perfect (accuracy 1.0: more rows cannot raise it).
        """
        gain = self.gain_per_doubling
        if gain is None or gain <= RISING_TOLERANCE:
            return False
        if self.higher_is_better and self.val_scores[-1] >= 1.0:
            return False
        return self.chance is None or self.val_scores[-1] > self.chance + RISING_TOLERANCE

    def to_measurements(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "sizes": list(self.sizes),
            "train_scores": list(self.train_scores),
            "val_scores": list(self.val_scores),
            "still_rising": self.still_rising,
            "epoch_train": list(self.epoch_train),
            "epoch_val": list(self.epoch_val),
            "gain_per_doubling": self.gain_per_doubling,
            "chance": self.chance,
            "notes": list(self.notes),
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
    overrides = {} if reads_validation(setup.fit.get("callbacks")) \
        else {"validation_freq": setup.epochs}
    sizes, train_scores, val_scores = [], [], []
    fractions, notes = points_for(cost.share(evidence, "learning_curve"))
    for fraction in fractions:
        n = int(round(fraction * setup.n_train))
        if n < MIN_ROWS:
            continue
        idx = _subset_indices(labels, n, evidence.seed, setup.task.is_classification)
        try:
            subset = setup.subset(idx)
        except NotEditable as exc:
            raise EvidenceSkipped(str(exc)) from None
        # batched: an epoch's steps in one compiled call where no callback is attached, the
        # same weights and scores as the user's fit with less Python between the steps
        history = subset.train(evidence.seed, batched=True, **overrides).history
        series = score_series(history, setup.task)
        if series is None or not series.train:
            continue
        sizes.append(n)
        train_scores.append(series.train[-1])
        val_scores.append(series.val[-1])
    if not sizes and not notes:
        raise EvidenceSkipped(f"too few training rows ({setup.n_train}) for a learning curve")
    return LearningCurve(
        metric=full.name,
        higher_is_better=full.higher_is_better,
        sizes=(*sizes, setup.n_train),
        train_scores=(*train_scores, full.train[-1]),
        val_scores=(*val_scores, full.val[-1]),
        epoch_train=full.train,
        epoch_val=full.val,
        notes=notes,
        chance=_chance(setup),
    )


def _chance(setup) -> float | None:
    """Share of the most frequent class among the validation labels (None for regression)."""
    if setup.task.kind not in ("binary", "multiclass"):
        return None
    _, counts = np.unique(class_ids(setup.y_val, setup.task), return_counts=True)
    return float(counts.max() / counts.sum())


def points_for(share: cost.Share) -> tuple[tuple[float, ...], tuple[str, ...]]:
    """The fractions of `POINTS` that `share` pays for, and a note when it pays for none."""
    for fractions in POINTS:
        if sum(fractions) <= share.fits + 1e-9:
            return fractions, ()
    smallest = min(sum(f) for f in POINTS)
    return (), (f"no point below the full set: the smallest ({smallest:.0%} of the rows) costs "
                f"{smallest:.2g} of a plain fit, its share is {share.describe()}",)
