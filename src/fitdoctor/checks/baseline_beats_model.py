"""`baseline_beats_model`: a simple scikit-learn model scores better than the network."""

from __future__ import annotations

import math

from fitdoctor.checks.base import Check, register
from fitdoctor.evidence import Evidence, EvidenceSkipped
from fitdoctor.evidence.scores import score_series
from fitdoctor.findings import Finding, Role, Severity

_SKLEARN = {
    "logistic_regression": ("from sklearn.linear_model import LogisticRegression",
                            "LogisticRegression(max_iter=1000)"),
    "svm_rbf": ("from sklearn.svm import SVC", "SVC()"),
    "gradient_boosting": ("from sklearn.ensemble import HistGradientBoosting{kind}",
                          "HistGradientBoosting{kind}()"),
    "ridge": ("from sklearn.linear_model import Ridge", "Ridge()"),
    "svr_rbf": ("from sklearn.svm import SVR", "SVR()"),
}


def network_val_score(evidence: Evidence) -> tuple[str, float, float]:
    """(metric, best validation score over epochs, seed spread) of the probe run."""
    run = evidence.get("probe_run")
    series = score_series(run.history, evidence.setup.task)
    if series is None:
        raise EvidenceSkipped("the model logs no accuracy; compile with metrics=['accuracy']")
    best = series.best("val")
    if not math.isfinite(best):
        raise EvidenceSkipped("the probe run has no finite validation score")
    return series.name, best, run.spread(f"val_{series.name}")


def baseline_code(name: str, classification: bool, reduction: str = "") -> str:
    """scikit-learn code that fits and scores the named baseline on the setup's data.

    `reduction` is the baselines' input reduction as code (e.g. `"PCA(n_components=100)"`).
    """
    kind = "Classifier" if classification else "Regressor"
    imp, ctor = (s.format(kind=kind) for s in _SKLEARN[name])
    if reduction:
        imp += "\n    from sklearn.decomposition import PCA"
        ctor = f"{reduction}, {ctor}"
    return f"""
    {imp}
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    (x_train, y_train), (x_val, y_val) = load_data()
    baseline = make_pipeline(StandardScaler(), {ctor})
    baseline.fit(x_train.reshape(len(x_train), -1), y_train)
    print(baseline.score(x_val.reshape(len(x_val), -1), y_val))
    """


@register
class BaselineBeatsModel(Check):
    id = "baseline_beats_model"
    category = "model"
    role = Role.SYMPTOM
    rank = 45
    requires = ("baselines", "probe_run", "model_info")
    tasks = ("binary", "multiclass", "regression")
    description = """
    A simple scikit-learn model (logistic regression, an RBF SVM or gradient-boosted trees;
    Ridge, SVR or trees for regression) fitted on the same training rows scores clearly better
    on the validation data than the network at its best epoch. Classification compares
    accuracy: the baseline must win by more than the noise, the largest of `min_margin` (0.03),
    `noise_factor` (2) times the network's seed spread, `noise_factor` times the baseline's
    cross-validation spread and `noise_factor` times the standard error of the difference of
    the two validation accuracies (binomial, on the validation rows). Regression compares the
    user's loss (MSE, MAE or Huber): the baseline's loss must be below the network's by more
    than `min_loss_gain` (10 %). A network
    that loses to such a baseline is held back by its setup (architecture, loss, input scaling,
    training length), not by the data. Warning.
    """

    def __init__(self, *, min_margin: float = 0.03, noise_factor: float = 2.0,
                 min_loss_gain: float = 0.10) -> None:
        if min_margin < 0 or noise_factor < 0 or not 0 < min_loss_gain < 1:
            raise ValueError(
                "need min_margin >= 0, noise_factor >= 0, 0 < min_loss_gain < 1. Received: "
                f"min_margin={min_margin}, noise_factor={noise_factor}, "
                f"min_loss_gain={min_loss_gain}"
            )
        self.min_margin = min_margin
        self.noise_factor = noise_factor
        self.min_loss_gain = min_loss_gain

    def run(self, evidence: Evidence) -> list[Finding]:
        base = evidence.get("baselines")
        metric, network, spread = network_val_score(evidence)
        best = base.best
        classification = base.higher_is_better
        if classification:
            n_val = len(evidence.setup.x_val)
            # standard error of the difference of two accuracies on n_val rows
            variance = network * (1 - network) + best.val_score * (1 - best.val_score)
            std_err = math.sqrt(max(variance, 0.0) / max(n_val, 1))
            margin = max(self.min_margin, self.noise_factor * spread,
                         self.noise_factor * (best.cv_std or 0.0), self.noise_factor * std_err)
        else:
            margin = self.min_loss_gain
        if not base.beats(network, margin):
            return []
        info = evidence.get("model_info")
        lacks = []
        if info.n_hidden == 0:
            lacks.append("it has no hidden layer, so it is a linear model")
        if evidence.setup.task.is_classification:
            gain = f"{best.val_score:.3f} vs {network:.3f} {metric}"
        else:
            gain = f"{metric} {best.val_score:.4g} vs {network:.4g}"
        advice = (f"{best.name} beats the network on its own validation data ({gain}). Either "
                  "use the baseline, or fix what holds the network back")
        advice += (": " + "; ".join(lacks) + "." if lacks else
                   " (see the other findings: loss/output layer, input scaling, learning rate, "
                   "capacity, training length).")
        return [self.finding(
            Severity.WARNING,
            f"A {best.name.replace('_', ' ')} baseline beats the network: {gain}",
            {"baseline": best.name, "baseline_val_score": best.val_score,
             "network_best_val_score": network, "metric": base.metric, "margin": margin,
             "network_seed_spread": spread, "baseline_cv_std": best.cv_std,
             "all_baselines": {s.name: s.val_score for s in base.scores},
             "notes": list(base.notes)},
            advice,
            baseline_code(best.name, classification, base.reduction),
        )]
