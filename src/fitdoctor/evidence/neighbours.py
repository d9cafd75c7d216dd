"""Nearest-neighbour distances: near duplicates, outliers, validation rows seen in training.

Two probes: `neighbours` (the distances) and `row_effects` (what the fast baseline scores on
the sampled validation rows, and how that changes without the outlier candidates or without
repeated rows: the measured effect the data checks need before they warn).

Rows are read through `table_view`, imputed with the training median and scaled robustly
(median, and interquartile range / 1.349, falling back to the standard deviation; no scale
below a tenth of the median scale), so a feature in thousands does not drown the others.
Distances are computed on seeded samples of at most `MAX_NEIGHBOUR_ROWS` training and
validation rows; on tables wider than `REDUCE_ABOVE` columns, between the scaled rows' leading
principal components (`wide_reduction`), where the search and the baseline's refits on 784
single pixels would cost several plain fits of the user's model.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from fitdoctor.evidence.base import Evidence, EvidenceSkipped, EvidenceUnavailable, probe
from fitdoctor.evidence.data_stats import (
    TOKEN_IDS,
    reduced,
    sample_rows,
    table_rows,
    wide_reduction,
)
from fitdoctor.evidence.impute import column_medians, column_percentiles

#: Rows per split the neighbour search reads at most.
MAX_NEIGHBOUR_ROWS = 10_000
#: Neighbours whose distance defines a row's outlier score: 1 % of the sampled rows, between
#: 5 and 50, so a small cluster of identical entry errors does not hide itself.
K_MIN, K_MAX, K_SHARE = 5, 50, 0.01


@dataclasses.dataclass(frozen=True)
class Neighbours:
    """Nearest-neighbour distances in robustly scaled feature space.

    Args:
        train_rows: Training row indices measured; `val_rows`: validation row indices measured.
        nearest_train: Each sampled training row's distance to its nearest other sampled row.
        kth_train: Each sampled training row's distance to its k-th nearest other row (k is
            1 % of the sampled rows, between 5 and 50).
        nearest_val: Each sampled validation row's distance to its nearest sampled training row.
        typical: Median of `nearest_train` over rows with a non-zero distance (the usual gap).
        typical_kth: Median of `kth_train`.
        train_fraction: Share of all training rows in the sample (near duplicates of the
            rest are not seen, so counts between splits scale by its inverse).
        extreme_features: Per sampled training row, the feature with the largest scaled value.
        feature_names: Names of the compared columns.
    """

    train_rows: np.ndarray
    val_rows: np.ndarray
    nearest_train: np.ndarray
    nearest_train_index: np.ndarray
    kth_train: np.ndarray
    nearest_val: np.ndarray
    nearest_val_index: np.ndarray
    typical: float
    typical_kth: float
    train_fraction: float
    extreme_features: np.ndarray
    feature_names: tuple[str, ...]

    def to_measurements(self) -> dict[str, Any]:
        return {
            "train_rows": len(self.train_rows),
            "val_rows": len(self.val_rows),
            "train_fraction": round(self.train_fraction, 4),
            "typical_nearest_distance": self.typical,
            "typical_kth_distance": self.typical_kth,
        }


def robust_scale(train: np.ndarray, *others: np.ndarray) -> list[np.ndarray]:
    """Impute NaN/Inf with the training median and scale every array by the training spread."""
    train = np.where(np.isfinite(train), train, np.nan)
    median = np.nan_to_num(column_medians(train))  # a column with no value: 0
    q25, q75 = column_percentiles(np.where(np.isnan(train), median, train), [25, 75])
    scale = (q75 - q25) / 1.349
    std = np.nanstd(train, axis=0)
    scale = np.where(scale > 0, scale, std)
    usable = np.isfinite(scale) & (scale > 0)
    # A nearly constant feature (one non-zero value in thousands) would turn tiny differences
    # into large distances: no feature's scale falls below a tenth of the median one.
    floor = 0.1 * float(np.median(scale[usable])) if usable.any() else 1.0
    scale = np.where(usable, np.maximum(scale, floor), 1.0)
    out = []
    for a in (train, *others):
        a = np.where(np.isfinite(a), a, median)
        out.append(((a - median) / scale).astype("float32"))
    return out


@probe("neighbours")
def neighbours(evidence: Evidence) -> Neighbours:
    """Find each sampled row's nearest neighbours among the sampled training rows."""
    from sklearn.neighbors import NearestNeighbors
    from threadpoolctl import threadpool_limits

    setup = evidence.setup
    limit = min(evidence.budget.max_audit_rows, MAX_NEIGHBOUR_ROWS)
    tr = sample_rows(setup.n_train, limit, evidence.seed + 3)
    va = sample_rows(len(setup.x_val), limit, evidence.seed + 4)
    x_tr, names = table_rows(setup.x_train, tr, setup.feature_names)
    x_va, _ = table_rows(setup.x_val, va, setup.feature_names)
    x_tr, x_va = robust_scale(x_tr, x_va)
    k = min(int(np.clip(np.ceil(K_SHARE * len(tr)), K_MIN, K_MAX)) + 1, len(tr))
    with threadpool_limits(1):  # OpenMP threads oversubscribe a busy machine
        reduction = wide_reduction(x_tr, evidence.seed, standardise=False)
        index = NearestNeighbors(n_neighbors=k).fit(reduced(reduction, x_tr))
        dist, ind = index.kneighbors(reduced(reduction, x_tr))
        val_dist, val_ind = index.kneighbors(reduced(reduction, x_va), n_neighbors=1)
    # Column 0 is usually the row itself; with exact duplicates it may be a twin: drop self.
    own = ind == np.arange(len(tr))[:, None]
    dist_other = np.where(own, np.inf, dist)
    order = np.argsort(dist_other, axis=1)
    dist_sorted = np.take_along_axis(dist_other, order, axis=1)[:, : k - 1]
    ind_sorted = np.take_along_axis(ind, order, axis=1)[:, : k - 1]
    nearest = dist_sorted[:, 0]
    kth = dist_sorted[:, -1]
    positive = nearest[nearest > 0]
    return Neighbours(
        train_rows=tr,
        val_rows=va,
        nearest_train=nearest,
        nearest_train_index=tr[ind_sorted[:, 0]],
        kth_train=kth,
        nearest_val=val_dist[:, 0],
        nearest_val_index=tr[val_ind[:, 0]],
        typical=float(np.median(positive)) if positive.size else 0.0,
        typical_kth=float(np.median(kth)),
        train_fraction=len(tr) / setup.n_train,
        extreme_features=np.abs(x_tr).argmax(axis=1),
        feature_names=names,
    )


#: Training rows whose k-th neighbour distance is at least this many times the median one are
#: the outlier candidates `row_effects` leaves out (the `outliers` check's default threshold).
OUTLIER_RATIO = 20.0


@dataclasses.dataclass(frozen=True)
class RowEffects:
    """What the fast baseline scores on the sampled validation rows, with and without rows.

    The baseline (`fast_baseline`) is fitted on the neighbour search's training sample and
    scored per row on its validation sample (`Neighbours.val_rows`, in that order), then
    refitted without the outlier candidates and without repeated rows, scored on the same rows.

    Args:
        model: The baseline, in words; `metric`: what a per-row score is.
        val_scores: Per sampled validation row, the score of the baseline fitted on all sampled
            training rows.
        outlier_rows: Training rows left out as outliers (k-th neighbour distance at least
            `OUTLIER_RATIO` times the median one).
        without_outliers: Per validation row, the score after leaving them out (None: none).
        repeated_rows: Training rows left out as repeats of an earlier identical row.
        without_repeats: Per validation row, the score after leaving them out (None: none).
    """

    model: str
    metric: str
    val_scores: np.ndarray
    outlier_rows: np.ndarray
    without_outliers: np.ndarray | None
    repeated_rows: np.ndarray
    without_repeats: np.ndarray | None

    def to_measurements(self) -> dict[str, Any]:
        out: dict[str, Any] = {"model": self.model, "metric": self.metric,
                               "val_rows": len(self.val_scores),
                               "val_score": round(float(np.nanmean(self.val_scores)), 4)}
        if self.without_outliers is not None:
            out["val_score_without_outliers"] = round(float(np.nanmean(self.without_outliers)), 4)
        if self.without_repeats is not None:
            out["val_score_without_repeats"] = round(float(np.nanmean(self.without_repeats)), 4)
        return out


@probe("row_effects")
def row_effects(evidence: Evidence) -> RowEffects:
    """Score the fast baseline per validation row, with all, no outlier and no repeated rows."""
    from threadpoolctl import threadpool_limits

    from fitdoctor.evidence import fast_baseline as fb
    from fitdoctor.evidence.data_stats import row_fingerprints

    setup = evidence.setup
    if setup.token_inputs:
        raise EvidenceSkipped(f"the fast baseline is not fitted on text: {TOKEN_IDS}")
    nb = evidence.get("neighbours")
    y_tr, classification = fb.targets(setup, np.asarray(setup.y_train)[nb.train_rows])
    y_va, _ = fb.targets(setup, np.asarray(setup.y_val)[nb.val_rows])
    x_tr = fb.features(setup.x_train, setup.feature_names, rows=nb.train_rows)
    x_va = fb.features(setup.x_val, setup.feature_names, rows=nb.val_rows)
    with threadpool_limits(1):
        reduction = wide_reduction(x_tr, evidence.seed)
        x_tr, x_va = reduced(reduction, x_tr), reduced(reduction, x_va)
    scores = fb.fit_and_score(x_tr, y_tr, x_va, y_va, classification)

    def without(drop: np.ndarray) -> np.ndarray | None:
        if not drop.any():
            return None
        try:
            return fb.fit_and_score(x_tr[~drop], y_tr[~drop], x_va, y_va, classification)
        except EvidenceUnavailable:
            return None

    outlier = (nb.kth_train >= OUTLIER_RATIO * nb.typical_kth) if nb.typical_kth > 0 else (
        np.zeros(len(nb.train_rows), dtype=bool))
    _, first = np.unique(row_fingerprints(np.asarray(setup.x_train)[nb.train_rows]), axis=0,
                         return_index=True)
    repeat = np.ones(len(nb.train_rows), dtype=bool)
    repeat[first] = False
    return RowEffects(
        model=fb.baseline_name(classification) + (
            "" if reduction is None else f" on {reduction[-1].n_components} principal components"),
        metric="accuracy" if classification else "negative squared error",
        val_scores=scores,
        outlier_rows=nb.train_rows[outlier],
        without_outliers=without(outlier),
        repeated_rows=nb.train_rows[repeat],
        without_repeats=without(repeat),
    )
