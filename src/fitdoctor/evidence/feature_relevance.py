"""Feature relevance: how much each feature tells about the label, and what dropping it costs.

Mutual information between each feature and the label is estimated (scikit-learn's k-nearest
neighbour estimator) on a seeded sample, once with the real labels and once with the labels
shuffled; the shuffled run's 95th percentile (at least `MIN_MUTUAL_INFO`) is the noise floor a
feature must clear to count as carrying signal. A low estimate is not proof: a weak but real
feature can sit under the floor. So the features under it are ablated: the fast baseline
(logistic regression with log-loss, or ridge with squared error) is cross-validated on the
sample (5 folds, repeated twice, the same folds for every feature set) with all features and
without a set of candidates, and the per-fold differences give the score drop and its standard
error. Candidates are ordered by the size of their standardised coefficient in the baseline
fitted on all features; the largest prefix whose score drop is at most `BISECT_DROP_SE`
standard errors is found by bisection (all candidates first). Images are skipped: single
pixels are not features a user chooses.

Tables wider than `REDUCE_ABOVE` columns (a flattened picture, a wide omics table) are screened
with the ANOVA F statistic (`f_classif`, or `f_regression` for continuous targets) against the
same shuffled-label floor, because the neighbour estimator costs about a second per 32 columns
on 5,000 rows (more than the user's whole fit on 784 columns); and the ablations read at most
`MAX_ABLATION_CELLS` values (rows x columns), so their rows shrink as the table widens. The F
statistic sees only differences in means, so a column it passes over may still carry signal;
the ablation, not the screen, is what a finding rests on.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from fitdoctor.evidence import cost
from fitdoctor.evidence.base import Evidence, EvidenceSkipped, probe
from fitdoctor.evidence.data_stats import (
    REDUCE_ABOVE,
    TOKEN_IDS,
    class_ids,
    is_image,
    sample_rows,
    table_view,
)
from fitdoctor.evidence.impute import column_medians

#: Rows the estimator reads at most.
MAX_RELEVANCE_ROWS = 5_000
#: Rows the ablations cross-validate on at most ...
MAX_ABLATION_ROWS = 3_000
#: ... and values (rows x columns): a 784-column table is ablated on 765 rows.
MAX_ABLATION_CELLS = MAX_ABLATION_ROWS * REDUCE_ABOVE
#: The lowest noise floor, in nats.
MIN_MUTUAL_INFO = 0.01
#: Folds and repeats of the ablation's paired cross-validation.
ABLATION_FOLDS, ABLATION_REPEATS = 5, 2
#: The bisection keeps a prefix when its score drop is at most this many standard errors.
BISECT_DROP_SE = 0.5
#: Ablations measured at most (all candidates, then bisection steps): bounds the cost.
MAX_ABLATIONS = 7
#: Features estimated per call, between which the probe's clock is read (wide inputs, such as
#: 784 flattened pixels, would otherwise run far past the probe's share).
FEATURES_PER_STEP = 32


@dataclasses.dataclass(frozen=True)
class Ablation:
    """The fast baseline's cross-validated score with all features minus its score without some.

    Args:
        features: Column indices left out.
        drop: Mean over folds of (score with all features - score without these); negative
            when leaving them out helps.
        drop_se: Standard error of that mean (paired over the same folds).
    """

    features: tuple[int, ...]
    drop: float
    drop_se: float


#: The screens, by what they measure.
MUTUAL_INFO = "mutual information (nats)"
F_STATISTIC = "ANOVA F statistic"


@dataclasses.dataclass(frozen=True)
class FeatureRelevance:
    """How much each feature tells about the label, and what leaving the weak ones out costs.

    Args:
        feature_names: Feature names, in column order.
        signal: Each feature's screening statistic with the real labels.
        noise_floor: 95th percentile of the statistic with shuffled labels (for mutual
            information at least `MIN_MUTUAL_INFO`).
        rows: Rows the estimate used; `n_train`: training rows available.
        candidates: Features at or under the floor, smallest baseline coefficient first.
        ablations: The ablations measured (prefixes of `candidates`), in the order tried.
        ablation_rows: Rows the ablations cross-validated on; `ablation_metric`: their score.
        notes: What the probe skipped because its time was spent, and why.
        statistic: What `signal` measures: `MUTUAL_INFO`, or `F_STATISTIC` on wide tables.
    """

    feature_names: tuple[str, ...]
    signal: np.ndarray
    noise_floor: float
    rows: int
    n_train: int
    candidates: tuple[int, ...] = ()
    ablations: tuple[Ablation, ...] = ()
    ablation_rows: int = 0
    ablation_metric: str = ""
    notes: tuple[str, ...] = ()
    statistic: str = MUTUAL_INFO

    def to_measurements(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "notes": list(self.notes),
            "statistic": self.statistic,
            "noise_floor": round(self.noise_floor, 5),
            "ablations": [{"left_out": len(a.features), "drop": round(a.drop, 5),
                           "drop_se": round(a.drop_se, 5)} for a in self.ablations],
            "signal": {
                n: round(float(v), 5)
                for n, v in zip(self.feature_names[:200], self.signal, strict=False)
            },
        }


@probe("feature_relevance")
def feature_relevance(evidence: Evidence) -> FeatureRelevance:
    """Screen each feature's signal about the label against a shuffled-label floor; ablate."""
    from threadpoolctl import threadpool_limits

    setup = evidence.setup
    if is_image(setup.x_train):
        raise EvidenceSkipped("feature relevance is not measured pixel by pixel on images")
    if setup.task.kind == "multilabel":
        raise EvidenceSkipped("feature relevance is measured for single-label tasks only")
    if setup.token_inputs:
        raise EvidenceSkipped(f"feature relevance is not measured on text: {TOKEN_IDS}")
    limit = min(evidence.budget.max_audit_rows, MAX_RELEVANCE_ROWS)
    rows = sample_rows(setup.n_train, limit, evidence.seed + 7)
    x, names = table_view(np.asarray(setup.x_train)[rows], setup.feature_names)
    x = np.where(np.isfinite(x), x, np.nan)
    median = np.nan_to_num(column_medians(x))  # a column with no value: 0
    x = np.where(np.isnan(x), median, x)
    if setup.task.is_classification:
        y = class_ids(np.asarray(setup.y_train)[rows]).astype("float64")
    else:
        y = np.asarray(setup.y_train)[rows].reshape(len(rows), -1)[:, 0].astype("float64")
    keep = np.isfinite(y)
    x, y = x[keep], y[keep]
    shuffled = np.random.default_rng(evidence.seed).permutation(y)
    clock = cost.Clock(evidence, "feature_relevance")
    statistic = F_STATISTIC if x.shape[1] > REDUCE_ABOVE else MUTUAL_INFO
    with threadpool_limits(1):  # OpenMP threads oversubscribe a busy machine
        if statistic == F_STATISTIC:
            real, null = (_f_statistic(x, labels, setup.task.is_classification)
                          for labels in (y, shuffled))
            floor = float(np.percentile(null, 95))
        else:
            real, null = _mutual_info(x, y, shuffled, setup.task.is_classification,
                                      evidence.seed, clock)
            floor = max(float(np.percentile(null, 95)), MIN_MUTUAL_INFO)
        low = np.flatnonzero(real <= floor)
        if len(low) == 0 or len(low) == x.shape[1]:
            return FeatureRelevance(names, real, floor, int(len(y)), setup.n_train,
                                    statistic=statistic)
        ablation = _Ablator(x, y, setup.task.is_classification, evidence.seed)
        order = tuple(int(j) for j in low[np.argsort(ablation.weight[low], kind="stable")])
        tried = ablation.bisect(order, clock)
    notes = ()
    if ablation.stopped:
        notes = (f"bisection stopped after {len(tried)} ablations: {clock.spent()}",)
    return FeatureRelevance(names, real, floor, int(len(y)), setup.n_train, order, tried,
                            ablation.rows, ablation.metric, notes, statistic)


def _mutual_info(x: np.ndarray, y: np.ndarray, shuffled: np.ndarray, classification: bool,
                 seed: int, clock: cost.Clock) -> tuple[np.ndarray, np.ndarray]:
    """Each column's mutual information with `y` and with `shuffled`, `FEATURES_PER_STEP` at a
    time, reading `clock` between steps."""
    from sklearn.feature_selection import mutual_info_classif, mutual_info_regression

    estimate = mutual_info_classif if classification else mutual_info_regression
    real, null = np.empty(x.shape[1]), np.empty(x.shape[1])
    for start in range(0, x.shape[1], FEATURES_PER_STEP):
        if start and clock.expired():
            raise EvidenceSkipped(
                f"mutual information estimated for {start} of {x.shape[1]} features only: "
                f"{clock.spent()}")
        part = slice(start, start + FEATURES_PER_STEP)
        real[part] = estimate(x[:, part], y, random_state=seed)
        null[part] = estimate(x[:, part], shuffled, random_state=seed)
    return real, null


def _f_statistic(x: np.ndarray, y: np.ndarray, classification: bool) -> np.ndarray:
    """Each column's ANOVA F statistic with `y`: 0 for a constant column, the largest float for
    one that separates the classes without any spread inside them."""
    import warnings

    from sklearn.feature_selection import f_classif, f_regression

    with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
        warnings.simplefilter("ignore")  # constant columns: "Features ... are constant"
        f, _ = f_classif(x, y) if classification else f_regression(x, y)
    return np.nan_to_num(np.asarray(f, dtype="float64"), nan=0.0)


class _Ablator:
    """Paired cross-validation of the fast baseline with and without feature sets."""

    def __init__(self, x: np.ndarray, y: np.ndarray, classification: bool, seed: int) -> None:
        from sklearn.model_selection import RepeatedKFold, RepeatedStratifiedKFold

        from fitdoctor.evidence.fast_baseline import make_baseline

        limit = min(MAX_ABLATION_ROWS, max(MAX_ABLATION_CELLS // x.shape[1], 2 * ABLATION_FOLDS))
        keep = sample_rows(len(y), limit, seed + 11)
        self.x, self.y, self.classification = x[keep], y[keep], classification
        self.rows = len(keep)
        self.stopped = False
        self.metric = "mean log-likelihood" if classification else "negative squared error"
        self.make = lambda: make_baseline(classification, max_iter=200)
        splitter = (RepeatedStratifiedKFold if classification else RepeatedKFold)(
            n_splits=ABLATION_FOLDS, n_repeats=ABLATION_REPEATS, random_state=seed)
        try:
            self.folds = list(splitter.split(self.x, self.y))
        except ValueError:  # a class too rare to stratify
            self.folds = list(RepeatedKFold(n_splits=ABLATION_FOLDS, n_repeats=ABLATION_REPEATS,
                                            random_state=seed).split(self.x))
        self.classes = np.unique(self.y)
        self.full = self._scores(np.arange(x.shape[1]))
        model = self.make().fit(self.x, self.y)
        coef = np.abs(np.atleast_2d(model[-1].coef_))
        self.weight = coef.max(axis=0)

    def _scores(self, columns: np.ndarray) -> np.ndarray:
        out = []
        for train, test in self.folds:
            model = self.make().fit(self.x[train][:, columns], self.y[train])
            if self.classification:
                probs = model.predict_proba(self.x[test][:, columns])
                index = np.searchsorted(model[-1].classes_, self.y[test])
                found = model[-1].classes_[np.minimum(index, len(model[-1].classes_) - 1)]
                p = np.where(found == self.y[test],
                             probs[np.arange(len(test)), np.minimum(index, probs.shape[1] - 1)],
                             0.0)
                out.append(float(np.mean(np.log(np.clip(p, 1e-15, 1.0)))))
            else:
                predicted = model.predict(self.x[test][:, columns])
                out.append(-float(np.mean((predicted - self.y[test]) ** 2)))
        return np.asarray(out)

    def ablate(self, features: tuple[int, ...]) -> Ablation:
        rest = np.setdiff1d(np.arange(self.x.shape[1]), features)
        diff = self.full - self._scores(rest)
        se = float(diff.std(ddof=1) / np.sqrt(len(diff)))
        return Ablation(features, float(diff.mean()), se)

    def bisect(self, order: tuple[int, ...], clock: cost.Clock | None = None
               ) -> tuple[Ablation, ...]:
        """Ablate all of `order`, then bisect for the longest prefix within `BISECT_DROP_SE`,
        until `clock` says the probe's time is spent (`stopped` then tells)."""
        tried = [self.ablate(order)]
        if tried[0].drop <= BISECT_DROP_SE * tried[0].drop_se:
            return tuple(tried)
        lo, hi = 0, len(order)
        while hi - lo > 1 and len(tried) < MAX_ABLATIONS:
            if clock is not None and clock.expired():
                self.stopped = True
                break
            mid = (lo + hi) // 2
            tried.append(self.ablate(order[:mid]))
            if tried[-1].drop <= BISECT_DROP_SE * tried[-1].drop_se:
                lo = mid
            else:
                hi = mid
        return tuple(tried)
