"""`insufficient_data`: too few training rows for the task, backed by a rising learning curve."""

from __future__ import annotations

from fitdoctor.checks.base import Check, register
from fitdoctor.evidence import Evidence, EvidenceUnavailable
from fitdoctor.findings import Finding


@register
class InsufficientData(Check):
    id = "insufficient_data"
    description = (
        "Counts training rows per class (classification) and per trainable parameter. Fewer "
        "than `min_per_class` rows in some class is a warning on its own. When a learning "
        "curve was measured (validation score against training-set size), a curve still rising "
        "by at least `min_curve_gain` accuracy points (classification) or whose loss still "
        "falls by at least `min_loss_gain` of its value (regression) over its last step is a "
        "warning too: more data would "
        "still help, so the model is limited by data, not by capacity or optimisation. For "
        "regression without a curve, fewer than `min_rows` training rows is a warning."
    )
    category = "data"
    requires = ("data_stats", "learning_curve", "model_info")
    rank = 55

    def __init__(self, *, min_per_class: int = 20, min_curve_gain: float = 0.05,
                 min_loss_gain: float = 0.15, min_rows: int = 100) -> None:
        """Args:
        min_per_class: Rows in the rarest class below which data is too few. Defaults to 20.
        min_curve_gain: Last-step gain of the learning curve's validation score that counts
            as still rising, in accuracy points. Defaults to 0.05.
        min_loss_gain: Relative decrease of the validation loss over the curve's last step
            (its training set doubles) that counts as still falling. Defaults to 0.15.
        min_rows: Training rows below which a regression set is too small. Defaults to 100.
        """
        if min_per_class < 1 or min_rows < 1 or min_curve_gain <= 0 or min_loss_gain <= 0:
            raise ValueError(
                "min_per_class and min_rows must be >= 1 and min_curve_gain > 0. Received: "
                f"min_per_class={min_per_class}, min_rows={min_rows}, "
                f"min_curve_gain={min_curve_gain}, min_loss_gain={min_loss_gain}"
            )
        self.min_per_class, self.min_curve_gain = min_per_class, min_curve_gain
        self.min_rows = min_rows
        self.min_loss_gain = min_loss_gain

    def _curve(self, evidence: Evidence) -> dict | None:
        """Last-step gain of the learning curve, when the learning-curve probe exists and ran."""
        try:
            curve = evidence.get("learning_curve")
        except (EvidenceUnavailable, KeyError, ImportError):
            return None
        sizes = list(getattr(curve, "sizes", []) or [])
        scores = [float(s) for s in (getattr(curve, "val_scores", []) or [])]
        if len(scores) < 2 or len(sizes) != len(scores):
            return None
        higher_better = bool(getattr(curve, "higher_is_better",
                                     evidence.setup.task.is_classification))
        prev, last = scores[-2], scores[-1]
        if higher_better:
            gain = last - prev
        else:
            gain = (prev - last) / abs(prev) if prev else 0.0
        per_doubling = getattr(curve, "gain_per_doubling", None)  # its last step may span 2x+
        if per_doubling is not None:
            gain = per_doubling
        rising = bool(getattr(curve, "still_rising", gain > 0))
        return {"sizes": sizes, "val_scores": [round(s, 4) for s in scores],
                "higher_is_better": higher_better,
                "last_step_gain": round(gain, 4), "still_rising": rising}

    def run(self, evidence: Evidence) -> list[Finding]:
        setup = evidence.setup
        stats = evidence.get("data_stats")
        facts: dict = {"n_train": setup.n_train}
        reasons = []
        counts = stats.class_counts_train
        if counts:
            rare = min(counts, key=counts.get)
            facts["rows_in_rarest_class"] = counts[rare]
            facts["rarest_class"] = rare
            if counts[rare] < self.min_per_class:
                reasons.append(f"class {rare} has only {counts[rare]} training rows")
        try:
            n_params = evidence.get("model_info").n_params
            facts["rows_per_parameter"] = round(setup.n_train / max(1, n_params), 3)
        except EvidenceUnavailable:
            pass
        curve = self._curve(evidence)
        if curve is not None:
            facts["learning_curve"] = curve
            needed = self.min_curve_gain if curve["higher_is_better"] else self.min_loss_gain
            if curve["still_rising"] and curve["last_step_gain"] >= needed:
                reasons.append(
                    f"validation score still rises by {curve['last_step_gain']:.3f} on the "
                    "learning curve's last step"
                )
        elif not counts and setup.n_train < self.min_rows:
            reasons.append(f"only {setup.n_train} training rows")
        if not reasons:
            return []
        return [self.finding(
            "warning",
            "too little training data: " + "; ".join(reasons),
            facts,
            "Collect or label more data (the classes with fewest rows first); until then use "
            "data augmentation, a smaller model or a pretrained one, and stronger regularisation.",
            """
            augment = keras.Sequential([keras.layers.RandomFlip("horizontal"),
                                        keras.layers.RandomRotation(0.1)])  # images
            model.add(keras.layers.Dropout(0.3))  # or a smaller / pretrained model
            """,
        )]
