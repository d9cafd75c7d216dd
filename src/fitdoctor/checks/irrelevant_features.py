"""`irrelevant_features`: features that carry no signal about the label, confirmed by ablation."""

from __future__ import annotations

from fitdoctor.checks.base import Check, register
from fitdoctor.evidence import Evidence
from fitdoctor.findings import Finding


@register
class IrrelevantFeatures(Check):
    id = "irrelevant_features"
    description = (
        "Estimates each feature's mutual information with the label on a training sample and "
        "compares it with a noise floor (the 95th percentile of the same estimate with shuffled "
        "labels, at least 0.01 nats); tables wider than 200 columns are screened with the ANOVA "
        "F statistic against the same shuffled-label floor instead, since the mutual "
        "information estimator costs about a second per 32 columns. A feature under the floor "
        "is only a candidate: a weak but "
        "real feature can sit there too. The candidates are ablated: the fast baseline "
        "(logistic regression scored by log-likelihood, or ridge by squared error) is "
        "cross-validated on at most 3,000 rows and 600,000 values (5 folds, twice) with all "
        "features and without "
        "the candidates, paired fold by fold. Of the measured sets of candidates (smallest "
        "baseline coefficients first) whose removal lowers the score by at most `max_drop_se` "
        "standard errors of the paired difference, the one whose removal leaves the best score "
        "is named. When at least "
        "`min_count` features and at least `max_fraction` of all are named, they are reported. "
        "Noise features give a model ways to fit noise when there are few samples per "
        "feature, so the finding is a warning only under `min_samples_per_feature` training "
        "rows per feature (10, the events-per-variable rule of thumb of Peduzzi et al., 1996); "
        "with more rows per feature it is information: true, but not measured to hurt. Not run "
        "on text given as token ids into an Embedding layer."
    )
    category = "data"
    rank = 60
    tasks = ("binary", "multiclass", "regression")
    requires = ("feature_relevance",)

    def __init__(self, *, max_fraction: float = 0.2, min_count: int = 5,
                 max_drop_se: float = 0.5, min_samples_per_feature: float = 10.0) -> None:
        """Args:
        max_fraction: Share of confirmed no-signal features that is a warning. Defaults to 0.2.
        min_count: Confirmed no-signal features needed as well. Defaults to 5.
        max_drop_se: Largest score drop, in standard errors of the paired fold differences,
            for leaving features out to count as costing nothing. Defaults to 0.5 (the
            probe's bisection uses the same).
        min_samples_per_feature: Training rows per feature from which noise features are
            information, not a warning. Defaults to 10.
        """
        if not 0 < max_fraction <= 1:
            raise ValueError(
                f"max_fraction must be in (0, 1]. Received: max_fraction={max_fraction}"
            )
        if min_count < 1 or max_drop_se < 0:
            raise ValueError(
                f"min_count must be >= 1 and max_drop_se >= 0. Received: "
                f"min_count={min_count}, max_drop_se={max_drop_se}"
            )
        self.max_fraction, self.min_count = max_fraction, min_count
        self.max_drop_se = max_drop_se
        self.min_samples_per_feature = min_samples_per_feature

    def run(self, evidence: Evidence) -> list[Finding]:
        rel = evidence.get("feature_relevance")
        accepted = [a for a in rel.ablations if a.drop <= self.max_drop_se * a.drop_se]
        if not accepted:
            return []
        best = min(accepted, key=lambda a: (a.drop, -len(a.features)))
        n_features = len(rel.signal)
        silent = best.features
        if len(silent) < self.min_count or len(silent) / n_features < self.max_fraction:
            return []
        names = [rel.feature_names[i] for i in silent]
        n_train = evidence.setup.n_train
        useful = n_features - len(silent)
        per_feature = n_train / n_features
        hurts = per_feature < self.min_samples_per_feature
        title = (f"{len(silent)} of {n_features} features carry no measurable signal about the "
                 f"label (e.g. {', '.join(names[:4])}); leaving them out costs the baseline "
                 "nothing")
        if not hurts:
            title += (f"; with {per_feature:.0f} training rows per feature they are unlikely "
                      "to hurt")
        return [self.finding(
            "warning" if hurts else "info",
            title,
            {"no_signal_features": len(silent), "n_features": n_features,
             "no_signal_names": names[:30], "screening_statistic": rel.statistic,
             "noise_floor": round(rel.noise_floor, 4),
             "candidates_under_floor": len(rel.candidates),
             "ablation_metric": rel.ablation_metric, "ablation_rows": rel.ablation_rows,
             "score_drop_without_them": round(best.drop, 5),
             "score_drop_se": round(best.drop_se, 5),
             "samples_per_feature": round(per_feature, 1),
             "warning_below_samples_per_feature": self.min_samples_per_feature,
             "samples_per_useful_feature": round(n_train / max(1, useful), 1),
             "rows_measured": rel.rows},
            "Drop the no-signal features (or select features on the training split), or "
            "regularise the first layer so it can ignore them.",
            """
            no_signal = [...]  # the no_signal_names above, as column indices
            keep = [j for j in range(x_train.shape[1]) if j not in set(no_signal)]
            x_train, x_val = x_train[:, keep], x_val[:, keep]
            # or: keras.layers.Dense(64, kernel_regularizer=keras.regularizers.L1(1e-4))
            """,
        )]
