"""Out-of-fold predicted probabilities from a fast scikit-learn model, for confident learning.

A logistic regression and a 15-nearest-neighbour classifier (after median imputation and
standardisation) are fitted with `cross_val_predict` on a seeded sample of the training rows, so
every row's probabilities come from a model that never saw it; the more accurate of the two is
kept (the linear model misses non-linear classes, the neighbours miss wide linear ones). Images
are read through `table_view`'s coarse grid; tables wider than `REDUCE_ABOVE` columns through
their leading principal components (`wide_reduction`, fitted on the sample, labels unseen).
Sequences (samples of shape (steps, channels), at least `MIN_SEQUENCE_STEPS` steps and at most
`MAX_SEQUENCE_CHANNELS` channels) are also read as the magnitude spectrum of each channel, which
does not move when a signal is shifted in time; both models are fitted on that view too, and
the most accurate of the four is kept.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from fitdoctor.evidence import cost
from fitdoctor.evidence.base import Evidence, EvidenceSkipped, EvidenceUnavailable, probe
from fitdoctor.evidence.data_stats import (
    TOKEN_IDS,
    class_ids,
    reduced,
    sample_rows,
    table_rows,
    wide_reduction,
)

#: Rows the cross-validated model trains on at most (it is a screening model, not the user's).
MAX_OOF_ROWS = 10_000
#: Samples of shape (steps, channels) read as sequences: at least this many steps ...
MIN_SEQUENCE_STEPS = 16
#: ... and at most this many channels.
MAX_SEQUENCE_CHANNELS = 8


def is_sequence(x: np.ndarray) -> bool:
    """Whether samples look like 1-D signals: (steps, channels), many steps, few channels."""
    return (x.ndim == 3 and x.shape[1] >= MIN_SEQUENCE_STEPS
            and x.shape[2] <= MAX_SEQUENCE_CHANNELS)


def spectrum(x: np.ndarray) -> np.ndarray:
    """Magnitude spectrum of each channel of (n, steps, channels) samples, flattened."""
    x = np.where(np.isfinite(x), x, 0.0).astype("float64")
    return np.abs(np.fft.rfft(x, axis=1)).reshape(len(x), -1).astype("float32")


@dataclasses.dataclass(frozen=True)
class OofProbs:
    """Out-of-fold class probabilities for a sample of training rows.

    Args:
        rows: Training row indices the probabilities belong to.
        classes: The class ids present, in column order of `probs`.
        labels: Given labels of those rows, as column indices into `classes`.
        probs: `len(rows) x len(classes)` out-of-fold probabilities.
        accuracy: Out-of-fold accuracy of the screening model.
        majority: Accuracy of always predicting the most frequent class.
        model: What produced them.
        folds: Cross-validation folds.
        n_train: Training rows the sample was drawn from.
        val_accuracy: Accuracy on validation rows of the same screening model fitted on the
            whole sample (NaN when there are none); `val_rows`: how many it read. Labels that
            disagree with it as often in validation as in training are hard, not wrong.
        notes: Screening models not tried because the probe's time was spent, and why.
    """

    rows: np.ndarray
    classes: np.ndarray
    labels: np.ndarray
    probs: np.ndarray
    accuracy: float
    majority: float
    model: str
    folds: int
    n_train: int
    val_accuracy: float = float("nan")
    val_rows: int = 0
    notes: tuple[str, ...] = ()

    def recall_by_class(self) -> dict[int, float]:
        """Out-of-fold recall of the screening model per class id."""
        predicted = self.probs.argmax(axis=1)
        out = {}
        for c in np.unique(self.labels):
            mask = self.labels == c
            out[int(self.classes[c])] = float((predicted[mask] == c).mean())
        return out

    def to_measurements(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "rows": len(self.rows),
            "n_train": self.n_train,
            "folds": self.folds,
            "accuracy": round(self.accuracy, 4),
            "majority_baseline": round(self.majority, 4),
            "val_accuracy": round(self.val_accuracy, 4),
            "val_rows": self.val_rows,
            "notes": list(self.notes),
        }


@probe("oof_probs")
def oof_probs(evidence: Evidence) -> OofProbs:
    """Cross-validate two fast screening models on a training sample; keep the better one's."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from threadpoolctl import threadpool_limits

    from fitdoctor.evidence.impute import MedianImputer

    setup = evidence.setup
    if setup.task.kind not in ("binary", "multiclass"):
        raise EvidenceSkipped(
            f"out-of-fold probabilities need class labels; task is {setup.task.kind}"
        )
    if setup.token_inputs:
        raise EvidenceSkipped(f"screening models are not fitted on text: {TOKEN_IDS}")
    limit = min(evidence.budget.max_audit_rows, MAX_OOF_ROWS)
    rows = sample_rows(setup.n_train, limit, evidence.seed + 2)
    labels = class_ids(np.asarray(setup.y_train)[rows])
    keep = np.isfinite(labels.astype("float64"))
    rows, labels = rows[keep], labels[keep].astype(np.int64)
    classes, labels = np.unique(labels, return_inverse=True)
    counts = np.bincount(labels)
    if len(classes) < 2 or counts.min() < 2:
        raise EvidenceUnavailable(
            f"cross-validation needs 2+ rows in each of 2+ classes; class counts {counts.tolist()}"
        )
    folds = int(min(5, counts.min()))
    views = {"": lambda x, picked: _cleaned(table_rows(x, picked)[0])}
    if is_sequence(np.asarray(setup.x_train)):
        views[" on magnitude spectra"] = (
            lambda x, picked: _cleaned(spectrum(np.asarray(x)[picked])))
    cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=evidence.seed)
    candidates = {
        "logistic regression": lambda: LogisticRegression(max_iter=300),
        "15-nearest-neighbours": lambda: KNeighborsClassifier(n_neighbors=15, weights="distance"),
    }
    best = None
    clock = cost.Clock(evidence, "oof_probs")
    notes: list[str] = []
    for view, read in views.items():
        with threadpool_limits(1):
            features, read, wide = _compact(read, setup.x_train, rows, evidence.seed)
        if wide:
            view += f" on {wide}"
        for name, estimator in candidates.items():
            if best is not None and clock.expired():
                notes.append(f"{name}{view} not tried: {clock.spent()}")
                continue
            model = make_pipeline(MedianImputer(), StandardScaler(), estimator())
            with threadpool_limits(1):  # BLAS/OpenMP threads oversubscribe a busy machine
                probs = cross_val_predict(model, features, labels, cv=cv, method="predict_proba")
            accuracy = float((probs.argmax(axis=1) == labels).mean())
            if best is None or accuracy > best[2]:
                best = (name + view, probs, accuracy, read, features, model)
    name, probs, accuracy, read, features, model = best
    val_accuracy, val_rows = _validation_accuracy(setup, model, read, features, labels,
                                                  classes, limit, evidence.seed)
    return OofProbs(
        rows=rows,
        classes=classes,
        labels=labels,
        probs=probs,
        accuracy=accuracy,
        majority=float(counts.max() / counts.sum()),
        model=f"{name} (median imputation, standardised)",
        folds=folds,
        n_train=setup.n_train,
        val_accuracy=val_accuracy,
        val_rows=val_rows,
        notes=tuple(notes),
    )


def _compact(read, x: np.ndarray, rows: np.ndarray, seed: int):
    """The features `read(x, rows)` of the sample, reduced when wide; the composed reader (of
    any rows of an array like `x`); and the reduction in words ("" when the table is narrow
    enough)."""
    features = read(x, rows)
    reduction = wide_reduction(features, seed)
    if reduction is None:
        return features, read, ""
    return (reduced(reduction, features),
            lambda values, picked: reduced(reduction, read(values, picked)),
            f"{reduction[-1].n_components} principal components")


def _cleaned(table: np.ndarray) -> np.ndarray:
    """`table` with NaN for NaN/Inf, and 0 in columns with no finite value."""
    x = np.where(np.isfinite(table), table, np.nan)
    x[:, np.isnan(x).all(axis=0)] = 0.0
    return x


def _validation_accuracy(setup, model, read, features: np.ndarray, labels: np.ndarray,
                         classes: np.ndarray, limit: int, seed: int) -> tuple[float, int]:
    """The screening model fitted on the whole sample, scored on (a sample of) validation rows."""
    from threadpoolctl import threadpool_limits

    if setup.x_val is None or setup.y_val is None or not len(setup.y_val):
        return float("nan"), 0
    rows = sample_rows(len(setup.y_val), limit, seed + 3)
    given = class_ids(np.asarray(setup.y_val)[rows])
    keep = np.isfinite(given.astype("float64"))
    rows, given = rows[keep], given[keep].astype(np.int64)
    if not len(rows):
        return float("nan"), 0
    with threadpool_limits(1):
        model.fit(features, labels)
        predicted = classes[model.predict(read(setup.x_val, rows))]
    return float((predicted == given).mean()), int(len(rows))
