"""The learning-rate range test (Smith 2015; fastai's `lr_find`), on a fresh model.

A fresh model from `build_model()` trains on the user's batches while the learning rate grows
exponentially from `START_LR` to `END_LR`; the bias-corrected exponential moving average of the
loss is recorded at each step, its window 5 % of the steps (at least 5: beta =
1 - 1 / max(5, steps / 20); fastai's fixed 0.98 lags by 50 steps, half of a 100-step test).
The test stops early once the smoothed loss exceeds 4x its best value or turns NaN. The
suggested rate is where the smoothed loss falls fastest against log(lr), looked for only
before the loss minimum (fastai's "steep" point);
`min_loss_lr` (where the smoothed loss is lowest) is kept too, and `min_loss_lr / 10` is
Smith's rule of thumb. The test runs the optimizer steps its share of the budget pays for
(`fitdoctor.evidence.cost`: half the spare fits, e.g. a quarter of the steps of one plain
`fit` on the standard budget), never more than the budget's `lr_range_steps` and never fewer
than `MIN_STEPS`; when `MIN_STEPS` is above its share, its measurements say so.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import keras
import numpy as np

from fitdoctor.evidence import cost
from fitdoctor.evidence.base import Evidence, EvidenceUnavailable, probe
from fitdoctor.evidence.model_info import learning_rate_of

START_LR = 1e-7
END_LR = 10.0
MIN_STEPS = 80  # fewer steps cannot resolve the 8 decades from START_LR to END_LR
DIVERGENCE = 4.0
MIN_DROP = 0.9


@dataclasses.dataclass(frozen=True)
class LRRange:
    """The range test's curve and what it suggests.

    Args:
        lrs: Learning rate at each step.
        losses: Smoothed training loss at each step (same length as `lrs`).
        suggested_lr: Rate at the steepest descent of the smoothed loss (None if it never fell).
        min_loss_lr: Rate at the lowest smoothed loss.
        current_lr: The user's initial learning rate (None when it cannot be read).
        diverged: Whether the test stopped because the loss blew up (4x best, or NaN).
        steps: Steps run; `planned_steps`: steps it would have run without stopping early.
        notes: Where the test ran more steps than its share of the budget, and why.
    """

    lrs: tuple[float, ...]
    losses: tuple[float, ...]
    suggested_lr: float | None
    min_loss_lr: float
    current_lr: float | None
    diverged: bool
    steps: int
    planned_steps: int
    notes: tuple[str, ...] = ()

    @property
    def current_over_suggested(self) -> float | None:
        """`current_lr / suggested_lr` (None when either is unknown)."""
        if not self.current_lr or not self.suggested_lr:
            return None
        return self.current_lr / self.suggested_lr

    def to_measurements(self) -> dict[str, Any]:
        return {
            "lrs": list(self.lrs),
            "losses": list(self.losses),
            "suggested_lr": self.suggested_lr,
            "min_loss_lr": self.min_loss_lr,
            "current_lr": self.current_lr,
            "diverged": self.diverged,
            "steps": self.steps,
            "planned_steps": self.planned_steps,
            "notes": list(self.notes),
        }


def range_test_steps(budget_steps: int, share_steps: int) -> int:
    """Steps for the test: those its share pays for, clipped to `[MIN_STEPS, budget_steps]`."""
    return int(min(budget_steps, max(MIN_STEPS, share_steps)))


def suggest(lrs: np.ndarray, losses: np.ndarray) -> tuple[float | None, float]:
    """The steepest-descent rate and the min-loss rate of a smoothed range-test curve.

    The first 10 % of the steps (at least 3) are the smoothing's warm-up and are not searched
    for the steepest point. There is no suggestion (None) when the smoothed loss never falls
    below `MIN_DROP` of its value after warm-up: no rate made the model learn.
    """
    finite = np.isfinite(losses)
    lrs, losses = lrs[finite], losses[finite]
    best = int(np.argmin(losses))
    min_loss_lr = float(lrs[best])
    skip = max(3, len(losses) // 10)
    if best <= skip + 1 or losses[best] > MIN_DROP * losses[skip]:
        return None, min_loss_lr
    segment = slice(skip, best + 1)
    slope = np.gradient(losses[segment], np.log10(lrs[segment]))
    steepest = int(np.argmin(slope))
    if slope[steepest] >= 0:
        return None, min_loss_lr
    return float(lrs[segment][steepest]), min_loss_lr


class _RangeTest(keras.callbacks.Callback):
    """Sets the rate before each step and records the smoothed loss after it.

    Training runs one step per epoch, so each epoch's logged loss is that one batch's loss.
    """

    def __init__(self, steps: int) -> None:
        super().__init__()
        self.factor = (END_LR / START_LR) ** (1.0 / max(1, steps - 1))
        self.beta = 1.0 - 1.0 / max(5.0, steps / 20)
        self.lrs: list[float] = []
        self.smoothed: list[float] = []
        self.diverged = False
        self._avg, self._best = 0.0, math.inf

    def on_train_batch_begin(self, batch, logs=None):
        self.model.optimizer.learning_rate = START_LR * self.factor ** len(self.lrs)

    def on_train_batch_end(self, batch, logs=None):
        logs = logs or {}
        loss = float(logs.get("loss", math.nan))
        step = len(self.lrs)
        if not math.isfinite(loss):
            self.diverged, self.model.stop_training = True, True
            return
        self._avg = self.beta * self._avg + (1 - self.beta) * loss
        value = self._avg / (1 - self.beta ** (step + 1))
        self.lrs.append(START_LR * self.factor**step)
        self.smoothed.append(value)
        self._best = min(self._best, value)
        if step > 5 and value > DIVERGENCE * self._best:
            self.diverged, self.model.stop_training = True, True


def _settable_builder(evidence: Evidence):
    """A builder whose models take a rate set per step (a schedule swapped for a plain rate)."""

    def build() -> keras.Model:
        model = evidence.setup.build_model()
        optimizer = model.optimizer
        if isinstance(getattr(optimizer, "_learning_rate", None),
                      keras.optimizers.schedules.LearningRateSchedule):
            config = dict(optimizer.get_config(), learning_rate=START_LR)
            model.compile(optimizer=type(optimizer).from_config(config), loss=model.loss)
        return model

    return build


@probe("lr_range")
def lr_range(evidence: Evidence) -> LRRange:
    """Run the range test on a fresh model with the user's data, batches and optimizer."""
    setup = evidence.setup
    share = cost.share(evidence, "lr_range")
    share_steps = share.steps(setup.epochs, setup.steps_per_epoch)
    steps = range_test_steps(evidence.budget.lr_range_steps, share_steps)
    notes = ()
    if share_steps < steps:
        notes = (f"ran {steps} steps, the fewest that resolve the rates from {START_LR:g} to "
                 f"{END_LR:g}, where its share ({share.describe()}) pays for {share_steps}",)
    current = learning_rate_of(setup.reference_model.optimizer)
    test = _RangeTest(steps)
    setup.train(evidence.seed + 7919, callbacks=[test], build=_settable_builder(evidence),
                keep_callback=lambda _: False, validate=False, epochs=steps, steps_per_epoch=1)
    lrs, smoothed, diverged = test.lrs, test.smoothed, test.diverged
    if len(lrs) < 5:
        raise EvidenceUnavailable(
            f"the loss was not finite within {len(lrs) + 1} range-test steps from lr={START_LR:g}"
        )
    suggested, min_loss_lr = suggest(np.asarray(lrs), np.asarray(smoothed))
    return LRRange(
        lrs=tuple(lrs),
        losses=tuple(smoothed),
        suggested_lr=suggested,
        min_loss_lr=min_loss_lr,
        current_lr=current,
        diverged=diverged,
        steps=len(lrs),
        planned_steps=steps,
        notes=notes,
    )
