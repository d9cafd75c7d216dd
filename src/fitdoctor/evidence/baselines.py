"""Baselines: what simple scikit-learn models score on the same data.

A network that loses to logistic regression or gradient-boosted trees on its own validation
data is mis-specified (wrong architecture, wrong loss, unscaled inputs, too little training),
not limited by the data. Each baseline is fitted on the training data and scored on the
validation data with the metric fitdoctor compares networks on: accuracy for classification,
the user's loss (MSE, MAE or Huber) for regression. The best baseline is also 3-fold
cross-validated on its training rows, so its noise is known.

The cost is bounded whatever the data's size, and the probe runs beside the training probes
(`fitdoctor.evidence.cost.BESIDE_TRAINING`):

- every baseline sees a seeded sample of at most `BASELINE_MAX_ROWS` training rows (and the
  budget's `max_audit_rows`), and is scored on at most `VAL_MAX_ROWS` validation rows;
- inputs wider than `data_stats.REDUCE_ABOVE` features (flattened images, wide tables) are
  reduced to principal components fitted on the training sample (`wide_reduction`); photos
  are first averaged over pixel blocks down to at most `MAX_PIXELS` values;
- the RBF SVM (SVR for regression), quadratic in rows, runs only where it is cheap: on at most
  `SVM_MAX_ROWS` rows of at most `SVM_MAX_FEATURES` features;
- models run cheapest first, and once the probe's time is spent (`cost.Clock`) the rest
  (and the cross-validation) are skipped; the notes say which, and why. Gradient-boosted
  trees read the clock between steps of boosting rounds, and are left out when stopped.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from typing import Any

import numpy as np

from fitdoctor.evidence import cost
from fitdoctor.evidence.base import Evidence, EvidenceSkipped, probe
from fitdoctor.evidence.data_stats import (
    is_image,
    reduced,
    reduction_code,
    wide_reduction,
)
from fitdoctor.evidence.scores import class_ids

logger = logging.getLogger(__name__)

#: The RBF SVM is quadratic in rows: it runs on at most this many rows...
SVM_MAX_ROWS = 5_000
#: ...of at most this many features (after reduction); wider inputs go without it.
SVM_MAX_FEATURES = 100
#: The other baselines see at most this many training rows (and never more than the budget's).
BASELINE_MAX_ROWS = 20_000
#: Validation rows the baselines are scored on at most.
VAL_MAX_ROWS = 10_000
#: Photos are averaged over pixel blocks down to at most this many values before the reduction.
MAX_PIXELS = 1_024

#: Gradient-boosted trees kept small: a baseline, not a tuned model (about 2 s on digits)...
_TREES = {"max_iter": 40, "learning_rate": 0.2, "max_leaf_nodes": 15}
#: ...fitted on at most this many rows x features x classes (they grow a tree per class).
TREES_MAX_CELLS = 4_000_000
#: Boosting rounds grown between two readings of the probe's clock (`_fit`).
BOOSTING_ROUNDS_PER_STEP = 10
#: Order baselines are reported in (they are fitted cheapest first).
_ORDER = ("logistic_regression", "svm_rbf", "gradient_boosting", "ridge", "svr_rbf")

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
        notes: What was left out, subsampled or reduced, and why.
        reduction: How the inputs were reduced before fitting, as scikit-learn code (e.g.
            `"PCA(n_components=100, random_state=0)"`); empty when they were not.
    """

    metric: str
    higher_is_better: bool
    scores: tuple[BaselineScore, ...]
    n_train: int
    n_used: int
    notes: tuple[str, ...] = ()
    reduction: str = ""

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
            "reduction": self.reduction,
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


def _models(classification: bool, n_features: int, n_classes: int, seed: int,
            multi_output: bool):
    """(name, estimator, row cap) for each baseline that suits the data, cheapest first."""
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC, SVR

    svm = n_features <= SVM_MAX_FEATURES
    trees_rows = max(SVM_MAX_ROWS, TREES_MAX_CELLS // (n_features * max(1, n_classes)))
    if classification:
        models = [
            ("logistic_regression",
             make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)), None),
            ("gradient_boosting", HistGradientBoostingClassifier(**_TREES, random_state=seed),
             trees_rows),
        ]
        if svm:
            models.append(("svm_rbf", make_pipeline(StandardScaler(), SVC()), SVM_MAX_ROWS))
        return models
    models = [("ridge", make_pipeline(StandardScaler(), Ridge()), None)]
    if not multi_output:
        models.append(("gradient_boosting",
                       HistGradientBoostingRegressor(**_TREES, random_state=seed), trees_rows))
        if svm:
            models.append(("svr_rbf", make_pipeline(StandardScaler(), SVR()), SVM_MAX_ROWS))
    return models


def _pool_pixels(x: np.ndarray) -> np.ndarray:
    """Images averaged over square pixel blocks until at most `MAX_PIXELS` values remain."""
    img = x if x.ndim == 4 else x.reshape(*x.shape[:3], -1)
    n, h, w, c = img.shape
    factor = 1
    while (h // factor) * (w // factor) * c > MAX_PIXELS and min(h, w) // (factor + 1) >= 1:
        factor += 1
    if factor == 1:
        return img.reshape(n, -1)
    hh, ww = (h // factor) * factor, (w // factor) * factor
    blocks = img[:, :hh, :ww].reshape(n, hh // factor, factor, ww // factor, factor, c)
    return blocks.mean(axis=(2, 4), dtype="float32").reshape(n, -1)


def _reduce(x_tr: np.ndarray, x_val: np.ndarray, seed: int, notes: list[str]):
    """Inputs as 2-D float32 tables of at most `REDUCE_ABOVE` columns, and the reduction code."""
    width = int(np.prod(x_tr.shape[1:])) or 1
    if is_image(x_tr) and width > MAX_PIXELS:
        x_tr, x_val = _pool_pixels(x_tr), _pool_pixels(x_val)
        notes.append(f"images averaged over pixel blocks from {width} to {x_tr.shape[1]} values")
    x_tr = x_tr.reshape(len(x_tr), -1).astype("float32", copy=False)
    x_val = x_val.reshape(len(x_val), -1).astype("float32", copy=False)
    reduction = wide_reduction(x_tr, seed)
    if reduction is None:
        return x_tr, x_val, ""
    notes.append(f"{x_tr.shape[1]} input features reduced to {reduction[-1].n_components} "
                 "principal components fitted on the training sample")
    return reduced(reduction, x_tr), reduced(reduction, x_val), reduction_code(reduction)


@probe("baselines")
def baselines(evidence: Evidence) -> Baselines:
    """Fit scikit-learn baselines on the training data and score them on the validation data.

    They use the cores training leaves idle (`cost.cpu_threads`): one beside a model training
    on the CPU, where more oversubscribes TensorFlow's thread pools.
    """
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=cost.cpu_threads()):
        return _fit_baselines(evidence)


def _targets(evidence: Evidence):
    """(metric, higher_is_better, y_train, y_val) in the form the baselines fit."""
    setup, task = evidence.setup, evidence.setup.task
    if task.kind == "multilabel":
        raise EvidenceSkipped("baselines are not measured for multi-label tasks")
    if task.is_classification:
        y_tr, y_val = class_ids(setup.y_train, task), class_ids(setup.y_val, task)
        if len(np.unique(y_tr)) < 2:
            raise EvidenceSkipped("the training labels hold a single class")
        return "accuracy", True, y_tr, y_val
    metric = _REGRESSION_METRICS.get(evidence.get("model_info").loss)
    if metric is None:
        raise EvidenceSkipped(
            f"no baseline scorer for the loss {evidence.get('model_info').loss!r}"
        )
    y_tr = np.asarray(setup.y_train, dtype="float64")
    y_val = np.asarray(setup.y_val, dtype="float64")
    if y_tr.ndim == 2 and y_tr.shape[1] == 1:
        y_tr, y_val = y_tr[:, 0], y_val[:, 0]
    return metric, False, y_tr, y_val


def _finite_rows(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    flat = x.reshape(len(x), -1)
    return np.isfinite(flat).all(axis=1) & np.isfinite(y.reshape(len(y), -1)).all(axis=1)


def _fit_baselines(evidence: Evidence) -> Baselines:
    clock = cost.Clock(evidence, "baselines")
    setup, task = evidence.setup, evidence.setup.task
    metric, higher, y_tr, y_val = _targets(evidence)
    classification = task.is_classification
    cap = min(evidence.budget.max_audit_rows, BASELINE_MAX_ROWS)
    notes = []
    # sample first, then convert: a million rows are never copied whole
    x_tr, y_tr = _subsample(np.asarray(setup.x_train), y_tr, cap, evidence.seed, classification)
    x_val, y_val = _subsample(np.asarray(setup.x_val), y_val, VAL_MAX_ROWS, evidence.seed,
                              classification)
    train_ok, val_ok = _finite_rows(x_tr, y_tr), _finite_rows(x_val, y_val)
    x_tr, y_tr, x_val, y_val = x_tr[train_ok], y_tr[train_ok], x_val[val_ok], y_val[val_ok]
    if len(x_tr) < 10 or len(x_val) < 2:
        raise EvidenceSkipped("too few finite rows to fit baselines")
    if not train_ok.all() or not val_ok.all():
        notes.append("rows with NaN or infinite values were left out")
    if len(x_tr) < setup.n_train:
        notes.append(f"fitted on a random {len(x_tr)} of {setup.n_train} training rows")
    if len(x_val) < len(setup.x_val):
        notes.append(f"scored on a random {len(x_val)} of {len(setup.x_val)} validation rows")
    x_tr, x_val, reduction = _reduce(x_tr, x_val, evidence.seed, notes)
    if x_tr.shape[1] > SVM_MAX_FEATURES:
        name = "svm_rbf" if classification else "svr_rbf"
        notes.append(f"{name} left out: {x_tr.shape[1]} features are more than the "
                     f"{SVM_MAX_FEATURES} it is cheap on")
    score = (lambda y, p: float(np.mean(y == p))) if higher else _regression_metric(metric)
    fitted = []
    n_classes = len(np.unique(y_tr)) if classification else 1
    for name, model, row_cap in _models(classification, x_tr.shape[1], n_classes, evidence.seed,
                                        y_tr.ndim > 1):
        if fitted and clock.expired():  # the cheapest one always runs
            notes.append(f"{name} skipped: {clock.spent()}")
            continue
        xs, ys = x_tr, y_tr
        if row_cap is not None and len(xs) > row_cap:
            xs, ys = _subsample(xs, ys, row_cap, evidence.seed, classification)
            notes.append(f"{name} fitted on {row_cap} rows to keep it fast")
        start = time.perf_counter()
        try:
            stopped = _fit(model, xs, ys, clock if fitted else None)
            if stopped:
                notes.append(f"{name} left out: {stopped}")
                continue
            value = score(y_val, model.predict(x_val))
        except (ValueError, np.linalg.LinAlgError) as exc:
            notes.append(f"{name} could not be fitted: {exc}")
            continue
        seconds = time.perf_counter() - start
        fitted.append((BaselineScore(name, value, len(xs), seconds), model, xs, ys))
    if not fitted:
        raise EvidenceSkipped("no baseline could be fitted: " + "; ".join(notes))
    pick = max if higher else min
    in_order = sorted(fitted, key=lambda f: _ORDER.index(f[0].name))
    best, model, xs, ys = pick(in_order, key=lambda f: f[0].val_score)
    cv_mean = cv_std = None
    if clock.expired():
        notes.append(f"cross-validation of {best.name} skipped: {clock.spent()}")
    else:
        cv_mean, cv_std = _cross_validate(model, xs, ys, higher, score, evidence.seed)
    scores = tuple(
        dataclasses.replace(s, cv_mean=cv_mean, cv_std=cv_std) if s is best else s
        for s, *_ in in_order
    )
    return Baselines(metric, higher, scores, setup.n_train, len(x_tr), tuple(notes), reduction)


def _fit(model, x: np.ndarray, y: np.ndarray, clock: cost.Clock | None) -> str:
    """Fit `model`; "" once done, or why it was stopped (then it is not to be used).

    Gradient-boosted trees without early stopping grow `BOOSTING_ROUNDS_PER_STEP` rounds at a
    time (`warm_start`: the same trees as in one call), reading `clock` between steps: on
    5,000 MNIST digits in 100 components they take about 2 s, and started just before the
    budget was spent they ran that far past it. With early stopping (scikit-learn's default
    above 10,000 rows) they are fitted in one call: a resumed fit may grow one round more than
    one call would. The model's parameters are left as they were given.
    """
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

    boosting = isinstance(model, (HistGradientBoostingClassifier, HistGradientBoostingRegressor))
    if clock is None or not boosting or model.early_stopping is True or (
            model.early_stopping == "auto" and len(x) > 10_000):
        model.fit(x, y)
        return ""
    rounds = model.max_iter
    try:
        for step in range(BOOSTING_ROUNDS_PER_STEP, rounds + BOOSTING_ROUNDS_PER_STEP,
                          BOOSTING_ROUNDS_PER_STEP):
            model.set_params(warm_start=True, max_iter=min(step, rounds))
            model.fit(x, y)
            if step < rounds and clock.expired():
                return (f"stopped after {model.n_iter_} of {rounds} boosting rounds: "
                        f"{clock.spent()}")
        return ""
    finally:
        model.set_params(warm_start=False, max_iter=rounds)  # a clone starts afresh


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

