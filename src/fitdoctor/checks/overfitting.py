"""`overfitting`: the network learns the training rows at the expense of validation."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import Any

from fitdoctor.checks._architecture import (
    EARLY_STOPPING,
    dense_sketch,
    hidden_widths,
    is_image_input,
)
from fitdoctor.checks.base import Check, register
from fitdoctor.evidence import Evidence, EvidenceSkipped, EvidenceUnavailable
from fitdoctor.evidence.scores import score_series
from fitdoctor.findings import Finding, Role, Severity
from fitdoctor.setup import Setup


def early_stopping(fit: Mapping[str, Any]) -> tuple[bool, bool]:
    """(has EarlyStopping, restores the best weights) among the setup's `fit` callbacks."""
    import keras

    stoppers = [cb for cb in fit.get("callbacks") or []
                if isinstance(cb, keras.callbacks.EarlyStopping)]
    return bool(stoppers), any(getattr(cb, "restore_best_weights", False) for cb in stoppers)


@dataclasses.dataclass(frozen=True)
class OverfitSignals:
    """What the probe run's history says about overfitting, at the epoch the user keeps.

    Args:
        metric: Score compared (`"accuracy"`, ...; `"loss"` for regression).
        epochs_run: Epochs trained; `best_epoch`: 1-based epoch of the lowest validation loss.
        judged_epoch: 1-based epoch whose weights the user ends with (the best one when
            EarlyStopping restores it, else the last).
        val_loss_rise: Relative rise of the validation loss from its minimum to `judged_epoch`.
        train_loss_fell: Whether the training loss kept falling after the best epoch.
        gap: Train minus validation score at `judged_epoch` (accuracy points; for regression,
            the validation loss over the training loss minus 1, reported but not judged).
        first_gap: The same gap after the first epoch.
        spread: Standard deviation of the final validation score across seeds (0 for one seed).
    """

    metric: str
    epochs_run: int
    best_epoch: int
    judged_epoch: int
    val_loss_rise: float
    train_loss_fell: bool
    gap: float
    first_gap: float
    spread: float

    def as_evidence(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def overfit_signals(evidence: Evidence) -> OverfitSignals:
    """Measure overfitting signals from the probe run (raises if its history lacks them)."""
    run = evidence.get("probe_run")
    setup: Setup = evidence.setup
    history = run.history
    loss, val_loss = history.get("loss") or [], history.get("val_loss") or []
    if len(loss) < 2 or len(val_loss) != len(loss):
        raise EvidenceSkipped("the probe run has fewer than 2 epochs of train and val loss")
    if not all(math.isfinite(v) for v in loss + val_loss):
        raise EvidenceSkipped("the probe run's loss is not finite")
    series = score_series(history, setup.task)
    if series is None:
        raise EvidenceUnavailable("the model logs no accuracy; compile with metrics=['accuracy']")
    _, restores = early_stopping(setup.fit)
    best = min(range(len(val_loss)), key=val_loss.__getitem__)
    judged = best if restores else len(val_loss) - 1

    def gap_at(i: int) -> float:
        if series.higher_is_better:
            return series.train[i] - series.val[i]
        return series.val[i] / max(series.train[i], 1e-12) - 1.0

    return OverfitSignals(
        metric=series.name,
        epochs_run=len(loss),
        best_epoch=best + 1,
        judged_epoch=judged + 1,
        val_loss_rise=(val_loss[judged] - val_loss[best]) / max(abs(val_loss[best]), 1e-12),
        train_loss_fell=loss[judged] < loss[best],
        gap=gap_at(judged),
        first_gap=gap_at(0),
        spread=run.spread(f"val_{series.name}"),
    )


def is_overfitting(signals: OverfitSignals, *, min_val_loss_rise: float, min_gap: float,
                   noise_factor: float) -> bool:
    """The overfitting rule (see `Overfitting.description`)."""
    rising = signals.val_loss_rise > min_val_loss_rise and signals.train_loss_fell
    if signals.metric == "loss":
        # regression: noise alone keeps validation loss above training loss; judge the rise only
        return rising
    margin = max(min_gap, noise_factor * signals.spread)
    widening = signals.gap > margin and signals.gap > signals.first_gap
    return rising or widening


@register
class Overfitting(Check):
    id = "overfitting"
    category = "model"
    role = Role.SYMPTOM
    rank = 40
    requires = ("probe_run", "model_info", "learning_curve")
    description = """
    The probe run memorizes the training rows: at the epoch whose weights you keep (the last,
    or the best when EarlyStopping has `restore_best_weights=True`), either the validation loss
    has risen more than `min_val_loss_rise` (10 %) above its minimum while the training loss
    kept falling, or (classification only) train accuracy exceeds validation accuracy by more
    than `min_gap` (0.10 accuracy points) and by more than after the first epoch. Regression is
    judged on the validation-loss rise alone, because irreducible noise keeps validation loss
    above training loss in a healthy fit. With several seeds (thorough budget) the gap must
    also exceed `noise_factor` (2) times the seed spread of the validation accuracy. The
    finding reports parameters per training row (an unrestrained, oversized model is reported
    here rather than as a separate `too_many_parameters`) and, when measured, whether the
    learning curve says more data would help. Warning.
    """

    def __init__(self, *, min_val_loss_rise: float = 0.10, min_gap: float = 0.10,
                 noise_factor: float = 2.0) -> None:
        if min_val_loss_rise <= 0 or min_gap <= 0 or noise_factor < 0:
            raise ValueError(
                "thresholds must be positive. Received: "
                f"min_val_loss_rise={min_val_loss_rise}, min_gap={min_gap}, "
                f"noise_factor={noise_factor}"
            )
        self.min_val_loss_rise = min_val_loss_rise
        self.min_gap = min_gap
        self.noise_factor = noise_factor

    def run(self, evidence: Evidence) -> list[Finding]:
        signals = overfit_signals(evidence)
        if not is_overfitting(signals, min_val_loss_rise=self.min_val_loss_rise,
                              min_gap=self.min_gap, noise_factor=self.noise_factor):
            return []
        info = evidence.get("model_info")
        n_train = evidence.setup.n_train
        facts = signals.as_evidence()
        facts.update(n_params=info.n_params, params_per_row=info.n_params / max(n_train, 1),
                     n_train=n_train)
        more_data = ""
        try:
            curve = evidence.get("learning_curve")
        except EvidenceUnavailable:
            curve = None
        if curve is not None:
            facts.update(curve_sizes=list(curve.sizes), curve_val=list(curve.val_scores),
                         curve_still_rising=curve.still_rising)
            if curve.still_rising:
                more_data = " Validation still improves with more rows, so more data helps too."
        has_stopper, restores = early_stopping(evidence.setup.fit)
        if signals.metric != "loss":
            what = (f"train {signals.metric} exceeds validation by {signals.gap:.2f} at epoch "
                    f"{signals.judged_epoch}")
        else:
            what = f"validation loss is {signals.gap:.0%} above training loss"
        if signals.val_loss_rise > self.min_val_loss_rise and signals.train_loss_fell:
            what += (f"; validation loss rose {signals.val_loss_rise:.0%} after its best epoch "
                     f"{signals.best_epoch}")
        widths = hidden_widths(info)
        smaller = [max(8, w // 2) for w in widths] or [32]
        advice = ("Regularize this network: fewer units, Dropout and L2 weight decay on the "
                  "hidden layers, and EarlyStopping that restores the best epoch.")
        if not restores:
            advice += (f" Your best validation loss came at epoch {signals.best_epoch} of "
                       f"{signals.epochs_run}.")
        code = EARLY_STOPPING
        if not is_image_input(info) and not info.has_conv:
            code = dense_sketch(info, smaller, dropout=0.3, l2=1e-4) + "\n" + EARLY_STOPPING
        elif has_stopper and restores:
            code = ("# add to your Conv/Dense layers:\n"
                    "kernel_regularizer=keras.regularizers.L2(1e-4)")
        return [self.finding(
            Severity.WARNING,
            f"Overfitting: {what}",
            facts,
            advice + more_data,
            code,
        )]
