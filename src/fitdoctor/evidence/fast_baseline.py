"""The fast baseline data probes refit to measure what a data finding costs on this setup.

A data statistic (duplicates, outliers, features without signal) becomes a finding only when
it measurably changes a score. The score comes from one small model, refitted with and
without the rows or columns in question: logistic regression for classes, ridge regression
for continuous targets, after median imputation and standardisation, on a bounded sample.
It is not the user's network; it is cheap, deterministic and sees the same table the data
audit sees (`table_view`: images as a coarse grid of intensities), on the rows its caller
samples (at most 10,000 for `row_effects`).

Per-row scores are higher-is-better: 1/0 for a correct/wrong class, minus the squared error
(summed over outputs) for regression. Two models scored on the same rows are compared by
`paired_difference`: the mean of the per-row differences and its standard error.
"""

from __future__ import annotations

import math

import numpy as np

from fitdoctor.evidence.base import EvidenceSkipped, EvidenceUnavailable
from fitdoctor.evidence.data_stats import class_ids, table_rows, table_view
from fitdoctor.setup import Setup


def baseline_name(classification: bool) -> str:
    """What the baseline is, in words (goes into findings)."""
    model = "logistic regression" if classification else "ridge regression"
    return f"{model} (median imputation, standardised)"


def make_baseline(classification: bool, max_iter: int = 300):
    """A fresh, unfitted baseline pipeline."""
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from fitdoctor.evidence.impute import MedianImputer

    last = LogisticRegression(max_iter=max_iter) if classification else Ridge()
    return make_pipeline(MedianImputer(), StandardScaler(), last)


def features(x: np.ndarray, names: tuple[str, ...] | None = None, *,
             rows: np.ndarray | None = None) -> np.ndarray:
    """Rows as the baseline reads them (`rows` of `x`, or all): `table_view`, with NaN/Inf as
    missing."""
    if rows is None:
        table, _ = table_view(np.asarray(x), names)
    else:
        table, _ = table_rows(x, rows, names)
    return np.where(np.isfinite(table), table, np.nan)


def targets(setup: Setup, y: np.ndarray) -> tuple[np.ndarray, bool]:
    """Labels as the baseline fits them, and whether they are classes.

    Raises:
        EvidenceSkipped: multi-label targets (the baseline fits one label per row).
    """
    kind = setup.task.kind
    if kind == "multilabel":
        raise EvidenceSkipped("the fast baseline fits one label per row; task is multi-label")
    y = np.asarray(y)
    if kind in ("binary", "multiclass"):
        return class_ids(y).astype("float64"), True
    return y.reshape(len(y), -1).astype("float64"), False


def row_scores(model, x: np.ndarray, y: np.ndarray, classification: bool) -> np.ndarray:
    """Per-row, higher-is-better score of a fitted baseline (see the module docstring)."""
    predicted = model.predict(x)
    if classification:
        return (predicted == y).astype("float64")
    predicted = np.asarray(predicted).reshape(len(y), -1)
    return -((predicted - y) ** 2).sum(axis=1)


def fit_and_score(x_fit: np.ndarray, y_fit: np.ndarray, x_score: np.ndarray,
                  y_score: np.ndarray, classification: bool) -> np.ndarray:
    """Fit a fresh baseline on finite-label rows and score it per row on the others.

    Raises:
        EvidenceUnavailable: the rows cannot fit it (a single class, too few rows).
    """
    from threadpoolctl import threadpool_limits

    keep = np.isfinite(y_fit).all(axis=1) if y_fit.ndim == 2 else np.isfinite(y_fit)
    x_fit, y_fit = x_fit[keep], y_fit[keep]
    if len(y_fit) < 10 or (classification and len(np.unique(y_fit)) < 2):
        raise EvidenceUnavailable("too few rows (or a single class) to fit the fast baseline")
    model = make_baseline(classification)
    with threadpool_limits(1):  # BLAS threads oversubscribe a busy machine
        model.fit(x_fit, y_fit)
        return row_scores(model, x_score, y_score, classification)


def paired_difference(new: np.ndarray, old: np.ndarray) -> tuple[float, float]:
    """Mean of `new - old` over the same rows, and the standard error of that mean."""
    diff = np.asarray(new, dtype="float64") - np.asarray(old, dtype="float64")
    diff = diff[np.isfinite(diff)]
    if len(diff) < 2:
        return math.nan, math.nan
    return float(diff.mean()), float(diff.std(ddof=1) / math.sqrt(len(diff)))


def group_difference(scores: np.ndarray, mask: np.ndarray) -> tuple[float, float]:
    """Mean score of the rows in `mask` minus the rest's, and its standard error (Welch)."""
    finite = np.isfinite(scores)
    inside, outside = scores[mask & finite], scores[~mask & finite]
    if len(inside) < 2 or len(outside) < 2:
        return math.nan, math.nan
    se = math.sqrt(inside.var(ddof=1) / len(inside) + outside.var(ddof=1) / len(outside))
    return float(inside.mean() - outside.mean()), se
