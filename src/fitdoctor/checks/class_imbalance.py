"""`class_imbalance`: some classes far rarer than others."""

from __future__ import annotations

from fitdoctor.checks.base import Check, register
from fitdoctor.evidence import Evidence, EvidenceUnavailable
from fitdoctor.findings import Finding


@register
class ClassImbalance(Check):
    id = "class_imbalance"
    description = (
        "Counts training rows per class. The imbalance ratio is the largest class count over the "
        "smallest. From a ratio of `min_ratio` it is reported, and whether it hurts is "
        "measured: the out-of-fold recall per class of the screening model (a cross-validated "
        "logistic regression or nearest-neighbour model on a training sample). A warning only "
        "when the rarest class's recall is below `min_recall` and at least `min_recall_gap` "
        "below the most common class's: the model then learns to predict the common classes "
        "and accuracy hides the rare ones. Otherwise info, with the recalls."
    )
    category = "data"
    rank = 30
    requires = ("data_stats", "oof_probs")
    #: A network that predicts the common class everywhere scores the chance accuracy, which
    #: `underfitting` reports; when the rare class's recall is measured low, that is why.
    explains = ("underfitting",)

    def __init__(self, *, min_ratio: float = 3.0, min_recall: float = 0.5,
                 min_recall_gap: float = 0.2) -> None:
        """Args:
        min_ratio: Imbalance ratio from which it is reported. Defaults to 3.
        min_recall: Out-of-fold recall of the rarest class below which it counts as low.
            Defaults to 0.5.
        min_recall_gap: How far the rarest class's recall must fall below the most common
            class's for a warning. Defaults to 0.2.
        """
        if min_ratio < 1:
            raise ValueError(f"min_ratio must be >= 1. Received: min_ratio={min_ratio}")
        if not 0 <= min_recall <= 1 or not 0 <= min_recall_gap <= 1:
            raise ValueError(
                "min_recall and min_recall_gap must be in [0, 1]. Received: "
                f"min_recall={min_recall}, min_recall_gap={min_recall_gap}"
            )
        self.min_ratio, self.min_recall = min_ratio, min_recall
        self.min_recall_gap = min_recall_gap

    def run(self, evidence: Evidence) -> list[Finding]:
        counts = evidence.get("data_stats").class_counts_train
        n_classes = evidence.setup.task.n_classes
        present = {c: n for c, n in counts.items()}
        if len(present) < 2:
            return []
        rare = min(present, key=present.get)
        common = max(present, key=present.get)
        ratio = present[common] / present[rare]
        if ratio < self.min_ratio:
            return []
        recall, reason = None, ""
        try:
            recall = evidence.get("oof_probs").recall_by_class()
        except EvidenceUnavailable as exc:
            reason = f"per-class recall could not be measured: {exc}"
        rare_recall = recall.get(rare) if recall else None
        common_recall = recall.get(common) if recall else None
        hurts = (rare_recall is not None and common_recall is not None
                 and rare_recall < self.min_recall
                 and common_recall - rare_recall >= self.min_recall_gap)
        if not hurts and not reason:
            reason = (f"the rarest class's out-of-fold recall ({rare_recall:.2f}) is not far "
                      f"below the most common class's ({common_recall:.2f})"
                      if rare_recall is not None and common_recall is not None
                      else "per-class recall was not measured for every class")
        facts = {"class_counts": {str(k): v for k, v in sorted(present.items())},
                 "imbalance_ratio": round(ratio, 2), "rarest_class": rare,
                 "most_common_class": common}
        if len(present) < n_classes:
            facts["classes_without_rows"] = n_classes - len(present)
        if recall:
            facts["oof_recall_by_class"] = {str(k): round(v, 3) for k, v in sorted(recall.items())}
        if reason:
            facts["why_not_a_warning"] = reason
        return [self.finding(
            "warning" if hurts else "info",
            f"classes are imbalanced {ratio:.1f}:1 (class {rare} has {present[rare]} rows, "
            f"class {common} has {present[common]})"
            + (f"; recall on class {rare} is {rare_recall:.2f}" if rare_recall is not None else ""),
            facts,
            "Weight the loss by inverse class frequency (or resample the training set), and "
            "track per-class recall or macro F1 instead of accuracy.",
            """
            import numpy as np

            classes, counts = np.unique(y_train, return_counts=True)
            class_weight = {int(c): len(y_train) / (len(classes) * n)
                            for c, n in zip(classes, counts)}
            model.fit(x_train, y_train, class_weight=class_weight, ...)
            """,
        )]
