"""`lr_too_high`: the learning rate makes training diverge, oscillate or take huge steps."""

from __future__ import annotations

import math

import numpy as np

from fitdoctor.checks._dynamics import (
    initial_loss,
    last_epoch,
    max_update_ratio,
    median_by_layer,
    monitor_record,
)
from fitdoctor.checks.base import Check, register
from fitdoctor.checks.exploding_gradients import ExplodingGradients
from fitdoctor.evidence import Evidence
from fitdoctor.findings import Finding, Role, Severity

#: Gradient norm before any step above which the initialization, not the rate, is to blame:
#: the same bound `exploding_gradients` uses by default, read from it so the two never disagree.
EXPLODED_AT_INIT = ExplodingGradients.thresholds()["max_grad_norm"]


@register
class LrTooHigh(Check):
    id = "lr_too_high"
    category = "training"
    role = Role.CAUSE
    rank = 5
    explains = ("nan_loss", "exploding_gradients", "dead_relu", "underfitting",
                "baseline_beats_model")
    requires = ("probe_run", "lr_range")
    description = """
    Two measurements must agree. The probe run shows trouble: the loss became NaN/Inf; or an
    epoch's training loss exceeded `divergence_ratio` (1.5) times the first batch's loss; or the
    median over the first epoch's sampled steps of the largest per-layer `||update|| / ||weights||`
    reached `max_update_ratio` (0.1; healthy training is near 1e-3); or the epoch loss rose in
    at least `oscillation_share` (0.3) of epoch-to-epoch transitions (4+ epochs); or in some ReLU
    layer the share of dead units grew by `died_share` (0.5) or more between the first sampled
    step and the last epoch (units killed by oversized steps, not dead from the start). And the
    learning-rate range test on a fresh model puts the current rate at `lr_ratio` (3) times or
    more its suggested rate (the steepest descent of the smoothed loss). Critical when the loss
    went NaN/Inf, warning otherwise. A cause: it explains `nan_loss`, `exploding_gradients` and
    `dead_relu`, and ranks before them. Silent when the gradient norm is already 1e3 or more
    before the first step (`exploding_gradients` then names the initialization as the cause,
    and a range test on such a model suggests nothing meaningful). The fix uses the range
    test's suggested rate.
    """

    def __init__(self, *, lr_ratio: float = 3.0, divergence_ratio: float = 1.5,
                 max_update_ratio: float = 0.1, oscillation_share: float = 0.3,
                 died_share: float = 0.5) -> None:
        if lr_ratio <= 1 or divergence_ratio <= 1 or max_update_ratio <= 0 \
                or not 0 < oscillation_share <= 1 or not 0 < died_share <= 1:
            raise ValueError(
                "need lr_ratio > 1, divergence_ratio > 1, max_update_ratio > 0 and "
                f"0 < oscillation_share <= 1. Received: lr_ratio={lr_ratio}, "
                f"divergence_ratio={divergence_ratio}, max_update_ratio={max_update_ratio}, "
                f"oscillation_share={oscillation_share}, died_share={died_share}"
            )
        self.lr_ratio = lr_ratio
        self.divergence_ratio = divergence_ratio
        self.max_update_ratio = max_update_ratio
        self.oscillation_share = oscillation_share
        self.died_share = died_share

    def run(self, evidence: Evidence) -> list[Finding]:
        run = evidence.get("probe_run")
        record = monitor_record(evidence)
        losses = list(run.history.get("loss", []))
        start = initial_loss(record)
        nonfinite = record.nonfinite_loss or any(not math.isfinite(v) for v in losses)
        finite = [v for v in losses if math.isfinite(v)]
        peak = max(finite) if finite else math.nan
        diverged = math.isfinite(start) and start > 0 and peak > self.divergence_ratio * start
        first_epoch = [max_update_ratio(s) for s in record.samples if s.epoch == 0]
        first_epoch = [v for v in first_epoch if math.isfinite(v)]
        update = float(np.median(first_epoch)) if first_epoch else math.nan
        big_steps = math.isfinite(update) and update >= self.max_update_ratio
        rises = [b > a for a, b in zip(finite, finite[1:], strict=False)]
        rise_share = sum(rises) / len(rises) if rises else 0.0
        oscillates = len(finite) >= 4 and rise_share >= self.oscillation_share
        samples = [] if record.gradients_unavailable else list(record.samples)
        died = 0.0
        if samples:
            start_dead = samples[0].dead_fraction
            end_dead = median_by_layer(last_epoch(samples), lambda x: x.dead_fraction)
            died = max((v - start_dead.get(k, 0.0) for k, v in end_dead.items()), default=0.0)
        units_died = died >= self.died_share
        first_norm = samples[0].grad_norm if samples and samples[0].step == 0 else math.nan
        if math.isfinite(first_norm) and first_norm >= EXPLODED_AT_INIT:
            return []  # gradients explode before any step: initialization, not the rate
        if not (nonfinite or diverged or big_steps or oscillates or units_died):
            return []
        lr = evidence.get("lr_range")
        ratio = lr.current_over_suggested
        if ratio is None or ratio < self.lr_ratio:
            return []
        signs = [name for name, hit in (("loss became NaN/Inf", nonfinite),
                                         ("loss rose above its start", diverged),
                                         ("steps move weights by a large share", big_steps),
                                         ("loss oscillates between epochs", oscillates),
                                         ("ReLU units died during training", units_died))
                 if hit]
        suggested = lr.suggested_lr
        return [self.finding(
            Severity.CRITICAL if nonfinite else Severity.WARNING,
            f"Learning rate {lr.current_lr:.3g} is {ratio:.0f}x the range test's suggestion "
            f"{suggested:.2g}; {signs[0]}",
            {
                "current_lr": lr.current_lr,
                "suggested_lr": suggested,
                "min_loss_lr": lr.min_loss_lr,
                "current_over_suggested": ratio,
                "signs": signs,
                "initial_loss": start,
                "max_epoch_loss": peak,
                "median_first_epoch_update_ratio": update,
                "epoch_loss_rise_share": rise_share,
                "dead_relu_share_gained": died,
                "threshold_lr_ratio": self.lr_ratio,
            },
            f"Lower the learning rate to about {suggested:.2g} (the range test's steepest "
            "descent); clip gradients and decay the rate when the validation loss stalls.",
            f"""
            optimizer = keras.optimizers.Adam(learning_rate={suggested:.2g}, clipnorm=1.0)
            model.compile(optimizer=optimizer, loss=loss, metrics=["accuracy"])
            callbacks = [keras.callbacks.ReduceLROnPlateau(factor=0.5, patience=2)]
            """,
        )]
