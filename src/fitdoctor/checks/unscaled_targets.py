"""`unscaled_targets`: regression targets far from where the untrained output starts."""

from __future__ import annotations

import math

import numpy as np

from fitdoctor.checks.base import Check, register
from fitdoctor.checks.underfitting import chance_loss
from fitdoctor.evidence import Evidence, EvidenceSkipped
from fitdoctor.findings import Finding, Role, Severity


@register
class UnscaledTargets(Check):
    id = "unscaled_targets"
    category = "data"
    role = Role.CAUSE
    rank = 6  # after output_range_mismatch (5): a bounded output misses any scale of target
    tasks = ("regression",)
    requires = ("forward_pass", "model_info", "probe_run")
    explains = ("underfitting", "baseline_beats_model", "lr_too_low", "exploding_gradients")
    description = """
    Regression targets on a scale the untrained network does not start from. An output layer
    initialized the usual way predicts values of order one around some centre; targets such as
    25 to 346 (scikit-learn's diabetes) leave the optimizer to grow that output a hundredfold
    before it can learn anything else, and with Adam's per-step size of about its learning rate
    that takes thousands of steps. Two measurements must agree. (1) The targets sit far from
    the start: the root-mean-square distance between the training targets and the mean of the
    untrained model's predictions on a training sample, over the spread of those predictions
    (at least 1, the unit scale standardized targets have), is at least `max_target_offset`
    (10). Standardized targets score about 1, and inputs that blow up the initial predictions
    make the spread large and the score small (that is `unscaled_inputs`). (2) The cost is
    measured: the probe run's best validation loss is at least `min_loss_ratio` (0.9) times the
    loss of always predicting the validation targets' mean (MSE; the median for MAE), i.e. the
    network explains at most a tenth of what a constant leaves. Critical when the network does
    worse than that constant, a warning otherwise. Explains the `underfitting` it causes. The
    fix standardizes the targets (or sets the output bias to their mean).
    """

    def __init__(self, *, max_target_offset: float = 10.0, min_loss_ratio: float = 0.9) -> None:
        for name, value in (("max_target_offset", max_target_offset),
                            ("min_loss_ratio", min_loss_ratio)):
            if value <= 0:
                raise ValueError(f"{name} must be positive. Received: {name}={value}")
        self.max_target_offset = max_target_offset
        self.min_loss_ratio = min_loss_ratio

    def run(self, evidence: Evidence) -> list[Finding]:
        setup = evidence.setup
        start = evidence.get("forward_pass")
        y = np.asarray(setup.y_train, dtype="float64").reshape(-1)
        y = y[np.isfinite(y)]
        if not y.size or not math.isfinite(start.prediction_mean):
            raise EvidenceSkipped("no finite targets or untrained predictions to compare")
        mean, std = float(y.mean()), float(y.std())
        distance = float(np.sqrt(np.mean((y - start.prediction_mean) ** 2)))
        offset = distance / max(start.prediction_std, 1.0)
        if offset < self.max_target_offset:
            return []
        loss = evidence.get("model_info").loss
        constant = chance_loss(setup.y_val, loss)
        if constant is None or constant <= 0:
            raise EvidenceSkipped(f"the loss of a constant predictor is not known for {loss!r}")
        val_losses = [v for v in evidence.get("probe_run").history.get("val_loss", [])
                      if math.isfinite(v)]
        if not val_losses:
            raise EvidenceSkipped("the probe run has no finite validation loss")
        ratio = min(val_losses) / constant
        if ratio < self.min_loss_ratio:
            return []
        facts = {
            "target_mean": mean, "target_std": std,
            "initial_prediction_mean": start.prediction_mean,
            "initial_prediction_std": start.prediction_std,
            "target_offset": round(offset, 1),
            "best_val_loss": min(val_losses), "mean_predictor_val_loss": constant,
            "loss_over_mean_predictor": round(ratio, 3), "loss": loss,
        }
        worse = ratio >= 1.0
        return [self.finding(
            Severity.CRITICAL if worse else Severity.WARNING,
            f"targets (mean {mean:.4g}, std {std:.3g}) sit {offset:.0f}x the untrained output's "
            f"spread away from it; the network's validation loss is {ratio:.2g}x that of "
            "predicting the mean",
            facts,
            "Standardize the targets with the training mean and standard deviation, and turn "
            "predictions back into your units; or start the output layer's bias at the targets' "
            "mean. fitdoctor's `fix` tries a Rescaling output layer that does the same inside "
            "the model.",
            f"""
            y_mean, y_std = y_train.mean(), y_train.std()  # {mean:.4g} and {std:.4g} here
            model.fit(x_train, (y_train - y_mean) / y_std,
                      validation_data=(x_val, (y_val - y_mean) / y_std), ...)
            predictions = model.predict(x_new) * y_std + y_mean

            # or: start the output where the targets are
            outputs = keras.layers.Dense(
                1, bias_initializer=keras.initializers.Constant({mean:.6g}))(x)
            """,
        )]
