"""`label_noise`: training rows whose label is likely wrong (confident learning)."""

from __future__ import annotations

from fitdoctor.checks.base import Check, register
from fitdoctor.evidence import Evidence
from fitdoctor.findings import Finding


@register
class LabelNoise(Check):
    id = "label_noise"
    description = (
        "Finds likely mislabeled training rows with confident learning (cleanlab's "
        "`find_label_issues`) from out-of-fold probabilities of a cross-validated logistic "
        "regression or nearest-neighbour model (the more accurate) on a training sample. The "
        "screening model must beat the majority class by `min_model_lift` of the remaining "
        "error, or labels are not judged. When the flagged share of the sample is at least "
        "`max_issue_fraction` it is a warning (critical from `critical_fraction`): wrong labels "
        "cap the accuracy any model can reach and teach it contradictions. The finding lists "
        "the most suspicious row indices with their given and likely labels. Not run on text "
        "given as token ids into an Embedding layer (the screening models read numbers)."
    )
    category = "data"
    rank = 20
    tasks = ("binary", "multiclass")

    def __init__(self, *, max_issue_fraction: float = 0.05,
                 critical_fraction: float = 0.2, min_model_lift: float = 0.5) -> None:
        """Args:
        max_issue_fraction: Share of flagged rows that is a warning. Defaults to 0.05.
        critical_fraction: Share of flagged rows that is critical. Defaults to 0.2.
        min_model_lift: Share of the majority-class error the screening model must remove
            for its probabilities to judge labels. Defaults to 0.5.
        """
        if not 0 < max_issue_fraction <= critical_fraction <= 1:
            raise ValueError(
                "need 0 < max_issue_fraction <= critical_fraction <= 1. Received: "
                f"max_issue_fraction={max_issue_fraction}, critical_fraction={critical_fraction}"
            )
        self.max_issue_fraction = max_issue_fraction
        self.critical_fraction = critical_fraction
        if not 0 <= min_model_lift < 1:
            raise ValueError(f"min_model_lift must be in [0, 1). Received: {min_model_lift}")
        self.min_model_lift = min_model_lift

    def run(self, evidence: Evidence) -> list[Finding]:
        from cleanlab.filter import find_label_issues

        oof = evidence.get("oof_probs")
        lift = (oof.accuracy - oof.majority) / (1 - oof.majority) if oof.majority < 1 else 0.0
        if lift < self.min_model_lift:
            return []
        ranked = find_label_issues(oof.labels, oof.probs,
                                   return_indices_ranked_by="self_confidence")
        fraction = len(ranked) / len(oof.rows)
        if fraction < self.max_issue_fraction:
            return []
        top = ranked[:20]
        rows = [int(oof.rows[i]) for i in top]
        likely = oof.classes[oof.probs[top].argmax(axis=1)]
        given = oof.classes[oof.labels[top]]
        examples = [{"row": r, "given": int(g), "likely": int(p)}
                    for r, g, p in zip(rows, given, likely, strict=True)][:10]
        severity = "critical" if fraction >= self.critical_fraction else "warning"
        facts = {"flagged_rows": len(ranked), "rows_checked": len(oof.rows),
                 "flagged_fraction": round(fraction, 4), "row_indices": rows,
                 "examples": examples, "screening_model": oof.model,
                 "screening_accuracy": round(oof.accuracy, 4)}
        if len(oof.rows) < oof.n_train:
            facts["sampled_from"] = oof.n_train
        return [self.finding(
            severity,
            f"{len(ranked)} of {len(oof.rows)} training labels ({fraction:.0%}) look wrong "
            f"(first rows: {', '.join(map(str, rows[:5]))})",
            facts,
            "Review the flagged rows and fix or drop those that are mislabeled; cleanlab's "
            "find_label_issues with your own model's out-of-fold probabilities refines the list.",
            """
            import numpy as np
            from cleanlab.filter import find_label_issues

            # pred_probs: out-of-fold probabilities (e.g. from cross_val_predict)
            issues = find_label_issues(y_train, pred_probs,
                                       return_indices_ranked_by="self_confidence")
            keep = np.setdiff1d(np.arange(len(y_train)), issues)
            x_train, y_train = x_train[keep], y_train[keep]
            """,
        )]

