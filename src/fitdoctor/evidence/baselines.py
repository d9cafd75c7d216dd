"""Baselines: what simple scikit-learn models score on the same data.

A network that loses to logistic regression or gradient-boosted trees on its own validation
data is mis-specified (wrong architecture, wrong loss, unscaled inputs, too little training),
not limited by the data. Each baseline is fitted on the training data (flattened, subsampled
when large) and scored on the validation data with the metric fitdoctor compares networks on:
accuracy for classification, the user's loss (MSE, MAE or Huber) for regression. The best
baseline is also 3-fold cross-validated on the training data, so its noise is known.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from typing import Any

import numpy as np

from fitdoctor.evidence.base import Evidence, EvidenceSkipped, probe
from fitdoctor.evidence.scores import class_ids

logger = logging.getLogger(__name__)

#: The RBF SVM is quadratic in rows: it only sees this many.
SVM_MAX_ROWS = 5_000
#: Gradient-boosted trees are skipped above this many flattened features (e.g. raw images).
TREES_MAX_FEATURES = 1_000
#: The other baselines see at most this many rows (and never more than the budget allows).
BASELINE_MAX_ROWS = 20_000

#: Gradient-boosted trees kept small: a baseline, not a tuned model (about 2 s on digits).
_TREES = {"max_iter": 40, "learning_rate": 0.2, "max_leaf_nodes": 15}

_REGRESSION_METRICS = {
    "mse": "mean_squared_error", "mean_squared_error": "mean_squared_error",
    "mae": "mean_absolute_error", "mean_absolute_error": "mean_absolute_error",
    "huber": "huber", "huber_loss": "huber",
}


@dataclasses.dataclass(frozen=True)
class BaselineScore:
    """One baseline's result.

    Args:
        name: `"logistic_regression"`, `"svm_rbf"`, `"gradient_boosting"`, `"ridge"`, `"svr_rbf"`.
        val_score: Score on the validation data.
        n_rows: Training rows it was fitted on.
        fit_seconds: Wall time to fit and score it.
        cv_mean: Mean 3-fold cross-validated score on the training rows (best baseline only).
        cv_std: Standard deviation of those fold scores (best baseline only).
    """

    name: str
    val_score: float
    n_rows: int
    fit_seconds: float
    cv_mean: float | None = None
    cv_std: float | None = None


@dataclasses.dataclass(frozen=True)
class Baselines:
    """What simple models score on the user's data.

    Args:
        metric: `"accuracy"`, `"mean_squared_error"`, `"mean_absolute_error"` or `"huber"`.
        higher_is_better: True for accuracy, False for the losses.
        scores: One `BaselineScore` per baseline that ran.
        n_train: Training rows in the setup; `n_used`: rows the baselines saw at most.
        notes: What was left out or subsampled, and why.
    """

    metric: str
    higher_is_better: bool
    scores: tuple[BaselineScore, ...]
    n_train: int
    n_used: int
    notes: tuple[str, ...] = ()

    @property
    def best(self) -> BaselineScore:
        """The baseline with the best validation score."""
        pick = max if self.higher_is_better else min
        return pick(self.scores, key=lambda s: s.val_score)

    def beats(self, network: float, margin: float) -> bool:
        """Whether the best baseline is better than `network` by more than `margin`.

        For losses `margin` is relative: the baseline's loss must be below
        `network * (1 - margin)`.
        """
        best = self.best.val_score
        if self.higher_is_better:
            return best - network > margin
        return best < network * (1.0 - margin)

    def to_measurements(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "scores": [dataclasses.asdict(s) for s in self.scores],
            "best": self.best.name,
            "n_train": self.n_train,
            "n_used": self.n_used,
            "notes": list(self.notes),
        }


def _regression_metric(name: str):
    if name == "mean_squared_error":
        return lambda y, p: float(np.mean((y - p) ** 2))
    if name == "mean_absolute_error":
        return lambda y, p: float(np.mean(np.abs(y - p)))

    def huber(y, p, delta: float = 1.0) -> float:
        err = np.abs(y - p)
        return float(np.mean(np.where(err <= delta, 0.5 * err**2, delta * (err - 0.5 * delta))))

    return huber


def _subsample(x: np.ndarray, y: np.ndarray, n: int, seed: int, stratify: bool):
    if len(x) <= n:
        return x, y
    from sklearn.model_selection import train_test_split

    strat = y if stratify and np.unique(y, return_counts=True)[1].min() >= 2 else None
    x_sub, _, y_sub, _ = train_test_split(x, y, train_size=n, random_state=seed, stratify=strat)
    return x_sub, y_sub


def _models(classification: bool, n_features: int, seed: int, multi_output: bool):
    """(name, estimator, row cap) for each baseline that suits the data."""
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC, SVR

    if classification:
        models = [
            ("logistic_regression",
             make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)), None),
            ("svm_rbf", make_pipeline(StandardScaler(), SVC()), SVM_MAX_ROWS),
        ]
        if n_features <= TREES_MAX_FEATURES:
            models.append(("gradient_boosting",
                           HistGradientBoostingClassifier(**_TREES, random_state=seed), None))
        return models
    models = [("ridge", make_pipeline(StandardScaler(), Ridge()), None)]
    if not multi_output:
        models.append(("svr_rbf", make_pipeline(StandardScaler(), SVR()), SVM_MAX_ROWS))
        if n_features <= TREES_MAX_FEATURES:
            models.append(("gradient_boosting",
                           HistGradientBoostingRegressor(**_TREES, random_state=seed), None))
    return models


@probe("baselines")
def baselines(evidence: Evidence) -> Baselines:
    """Fit scikit-learn baselines on the training data and score them on the validation data.

    They run single-threaded: beside TensorFlow's thread pools, OpenMP-parallel tree fitting
    oversubscribes the cores and can run 20 times slower.
    """
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        return _fit_baselines(evidence)


def _fit_baselines(evidence: Evidence) -> Baselines:
    setup, task = evidence.setup, evidence.setup.task
    if task.kind == "multilabel":
        raise EvidenceSkipped("baselines are not measured for multi-label tasks")
    if task.is_classification:
        metric, higher = "accuracy", True
        y_tr, y_val = class_ids(setup.y_train, task), class_ids(setup.y_val, task)
        if len(np.unique(y_tr)) < 2:
            raise EvidenceSkipped("the training labels hold a single class")
    else:
        metric = _REGRESSION_METRICS.get(evidence.get("model_info").loss)
        if metric is None:
            raise EvidenceSkipped(
                f"no baseline scorer for the loss {evidence.get('model_info').loss!r}"
            )
        higher = False
        y_tr = np.asarray(setup.y_train, dtype="float64")
        y_val = np.asarray(setup.y_val, dtype="float64")
        if y_tr.ndim == 2 and y_tr.shape[1] == 1:
            y_tr, y_val = y_tr[:, 0], y_val[:, 0]
    x_tr = np.asarray(setup.x_train, dtype="float32").reshape(len(setup.x_train), -1)
    x_val = np.asarray(setup.x_val, dtype="float32").reshape(len(setup.x_val), -1)
    finite = np.isfinite(x_tr).all(axis=1) & np.isfinite(y_tr.reshape(len(y_tr), -1)).all(axis=1)
    if not finite.all():
        x_tr, y_tr = x_tr[finite], y_tr[finite]
    val_ok = np.isfinite(x_val).all(axis=1) & np.isfinite(y_val.reshape(len(y_val), -1)).all(axis=1)
    x_val, y_val = x_val[val_ok], y_val[val_ok]
    if len(x_tr) < 10 or len(x_val) < 2:
        raise EvidenceSkipped("too few finite rows to fit baselines")
    notes = []
    if not finite.all() or not val_ok.all():
        notes.append("rows with NaN or infinite values were left out")
    cap = min(evidence.budget.max_audit_rows, BASELINE_MAX_ROWS)
    n_used = min(len(x_tr), cap)
    if n_used < len(x_tr):
        notes.append(f"fitted on a random {n_used} of {len(x_tr)} training rows")
    x_tr, y_tr = _subsample(x_tr, y_tr, cap, evidence.seed, task.is_classification)
    x_val, y_val = _subsample(x_val, y_val, cap, evidence.seed, task.is_classification)
    score = (lambda y, p: float(np.mean(y == p))) if higher else _regression_metric(metric)
    fitted = []
    for name, model, row_cap in _models(task.is_classification, x_tr.shape[1], evidence.seed,
                                        y_tr.ndim > 1):
        xs, ys = x_tr, y_tr
        if row_cap is not None and len(xs) > row_cap:
            xs, ys = _subsample(xs, ys, row_cap, evidence.seed, task.is_classification)
            notes.append(f"{name} fitted on {row_cap} rows to keep it fast")
        start = time.perf_counter()
        try:
            model.fit(xs, ys)
            value = score(y_val, model.predict(x_val))
        except (ValueError, np.linalg.LinAlgError) as exc:
            notes.append(f"{name} could not be fitted: {exc}")
            continue
        seconds = time.perf_counter() - start
        fitted.append((BaselineScore(name, value, len(xs), seconds), model, xs, ys))
    if not fitted:
        raise EvidenceSkipped("no baseline could be fitted: " + "; ".join(notes))
    pick = max if higher else min
    best, model, xs, ys = pick(fitted, key=lambda f: f[0].val_score)
    cv_mean, cv_std = _cross_validate(model, xs, ys, higher, score, evidence.seed)
    scores = tuple(
        dataclasses.replace(s, cv_mean=cv_mean, cv_std=cv_std) if s is best else s
        for s, *_ in fitted
    )
    return Baselines(metric, higher, scores, len(setup.x_train), n_used, tuple(notes))


def _cross_validate(model, x, y, classification: bool, score, seed: int):
    """Mean and standard deviation of 3-fold scores of a fresh copy of `model`."""
    from sklearn.base import clone
    from sklearn.model_selection import KFold, StratifiedKFold

    splitter = (StratifiedKFold(3, shuffle=True, random_state=seed) if classification
                else KFold(3, shuffle=True, random_state=seed))
    values = []
    try:
        for train_idx, test_idx in splitter.split(x, y if classification else None):
            fold = clone(model).fit(x[train_idx], y[train_idx])
            values.append(score(y[test_idx], fold.predict(x[test_idx])))
    except ValueError as exc:  # a class too rare for 3 folds
        logger.info("baseline cross-validation skipped: %s", exc)
        return None, None
    return float(np.mean(values)), float(np.std(values))

