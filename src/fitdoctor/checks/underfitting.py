"""`underfitting`: the network cannot even fit its training data well."""

from __future__ import annotations

import math

import numpy as np

from fitdoctor.checks._architecture import (
    conv_sketch,
    dense_sketch,
    hidden_widths,
    is_image_input,
)
from fitdoctor.checks.base import Check, register
from fitdoctor.evidence import Evidence, EvidenceSkipped, EvidenceUnavailable
from fitdoctor.evidence.scores import chance_accuracy, score_series
from fitdoctor.findings import Finding, Role, Severity
from fitdoctor.keras_vocab import full_loss_name


def chance_loss(y: np.ndarray, loss: str) -> float | None:
    """Loss of always predicting the best constant (mean for MSE, median for MAE), or None."""
    y = np.asarray(y, dtype="float64")
    y = y.reshape(len(y), -1)
    if full_loss_name(loss) == "mean_squared_error":
        return float(np.mean((y - y.mean(axis=0)) ** 2))
    if full_loss_name(loss) == "mean_absolute_error":
        return float(np.mean(np.abs(y - np.median(y, axis=0))))
    return None


@register
class Underfitting(Check):
    id = "underfitting"
    category = "model"
    role = Role.SYMPTOM
    rank = 35  # before overfitting: a model that cannot fit the training rows needs capacity first
    requires = ("probe_run", "model_info", "baselines")
    description = """
    The network does not fit even its training data. Critical when its best training score is
    near chance: accuracy within `chance_margin` (0.05) of always guessing the most common
    class, or for regression an MSE/MAE training loss within `chance_margin` (5 %) of the loss
    of always predicting the mean/median. Warning when a simple scikit-learn baseline scores
    better on the validation data than the network does on its training data, by more than
    `baseline_margin` (0.05 accuracy points; for regression a 5 % lower loss) and more than
    `noise_factor` (2) times the seed spread of the network's training score. The fix names an
    architecture change for this model: convolutions for image input fed to Dense layers,
    hidden layers for a linear model, wider/deeper layers otherwise, and longer training when
    the training score was still improving at the last epoch.
    """

    def __init__(self, *, chance_margin: float = 0.05, baseline_margin: float = 0.05,
                 noise_factor: float = 2.0) -> None:
        if not 0 <= chance_margin < 1 or not 0 <= baseline_margin < 1 or noise_factor < 0:
            raise ValueError(
                "need 0 <= chance_margin < 1, 0 <= baseline_margin < 1, noise_factor >= 0. "
                f"Received: chance_margin={chance_margin}, baseline_margin={baseline_margin}, "
                f"noise_factor={noise_factor}"
            )
        self.chance_margin = chance_margin
        self.baseline_margin = baseline_margin
        self.noise_factor = noise_factor

    def run(self, evidence: Evidence) -> list[Finding]:
        setup, run = evidence.setup, evidence.get("probe_run")
        series = score_series(run.history, setup.task)
        if series is None:
            raise EvidenceSkipped("the model logs no accuracy; compile with metrics=['accuracy']")
        train = series.best("train")
        if not math.isfinite(train):
            raise EvidenceSkipped("the probe run has no finite training score")
        info = evidence.get("model_info")
        spread = run.spread(series.name)
        facts: dict = {"metric": series.name, "best_train_score": train,
                       "final_val_score": series.val[-1], "train_seed_spread": spread}
        near_chance = False
        if series.higher_is_better:
            chance = chance_accuracy(setup.y_train, setup.task)
            facts["chance_score"] = chance
            near_chance = train <= chance + self.chance_margin
        else:
            chance = chance_loss(setup.y_train, info.loss)
            if chance is not None:
                facts["chance_score"] = chance
                near_chance = train >= (1 - self.chance_margin) * chance
        below_baseline = False
        try:
            base = evidence.get("baselines")
        except EvidenceUnavailable:
            base = None
        if base is not None:
            facts.update(baseline=base.best.name, baseline_val_score=base.best.val_score)
            margin = (max(self.baseline_margin, self.noise_factor * spread)
                      if series.higher_is_better else self.baseline_margin)
            below_baseline = base.beats(train, margin)
        if not (near_chance or below_baseline):
            return []
        still_improving = series.train[-1] == train and len(series.train) > 1
        facts["still_improving_at_last_epoch"] = still_improving
        if near_chance:
            what = f"best training {series.name} {train:.3g} is at chance level ({chance:.3g})"
        else:
            what = (f"best training {series.name} {train:.3g} is worse than a "
                    f"{base.best.name.replace('_', ' ')} baseline on validation data "
                    f"({base.best.val_score:.3g})")
        advice, code = self._architecture_fix(info)
        if still_improving:
            advice += (f" Training was still improving at the last of {len(series.train)} "
                       "epochs: also train longer.")
        return [self.finding(
            Severity.CRITICAL if near_chance else Severity.WARNING,
            f"Underfitting: {what}",
            facts,
            advice,
            code,
        )]

    @staticmethod
    def _architecture_fix(info) -> tuple[str, str]:
        if is_image_input(info) and not info.has_conv:
            return ("The input is an image but the model has no convolution: Dense layers on "
                    "flattened pixels ignore spatial structure. Use Conv2D layers.",
                    conv_sketch(info))
        widths = hidden_widths(info)
        if info.n_hidden == 0:
            return ("The model has no hidden layer, so it is a linear model. Add hidden layers "
                    "with a non-linear activation.", dense_sketch(info, [128, 64]))
        wider = [w * 2 for w in widths] + [widths[-1]] if widths else [128, 64]
        return ("Give the network more capacity: more units and one more hidden layer "
                f"(hidden widths {widths} -> {wider}).", dense_sketch(info, wider))
