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


def _set_lr(model: keras.Model, lr: float) -> None:
    model.optimizer.learning_rate = lr


def _fresh_model(evidence: Evidence) -> tuple[keras.Model, float | None]:
    """A freshly built model whose rate can be set per step, and the user's initial rate."""
    keras.utils.set_random_seed(evidence.seed + 7919)
    model = evidence.setup.build_model()
    optimizer = model.optimizer
    current = learning_rate_of(optimizer)
    if isinstance(getattr(optimizer, "_learning_rate", None),
                  keras.optimizers.schedules.LearningRateSchedule):
        # The test sets the rate itself: swap the schedule for a plain rate on a twin optimizer.
        config = dict(optimizer.get_config(), learning_rate=START_LR)
        model.compile(optimizer=type(optimizer).from_config(config), loss=model.loss)
    return model, current


@probe("lr_range")
def lr_range(evidence: Evidence) -> LRRange:
    """Run the range test on a fresh model with the user's batch size and optimizer."""
    setup = evidence.setup
    share = cost.share(evidence, "lr_range")
    share_steps = share.steps(setup.epochs, setup.steps_per_epoch)
    steps = range_test_steps(evidence.budget.lr_range_steps, share_steps)
    notes = ()
    if share_steps < steps:
        notes = (f"ran {steps} steps, the fewest that resolve the rates from {START_LR:g} to "
                 f"{END_LR:g}, where its share ({share.describe()}) pays for {share_steps}",)
    model, current = _fresh_model(evidence)
    batch = min(setup.batch_size, setup.n_train)
    rng = np.random.default_rng(evidence.seed)
    order = rng.permutation(setup.n_train)
    factor = (END_LR / START_LR) ** (1.0 / max(1, steps - 1))
    lrs, smoothed = [], []
    beta = 1.0 - 1.0 / max(5.0, steps / 20)
    avg, best, diverged, position = 0.0, math.inf, False, 0
    for step in range(steps):
        lr = START_LR * factor**step
        if position + batch > setup.n_train:
            order, position = rng.permutation(setup.n_train), 0
        rows = order[position:position + batch]
        position += batch
        _set_lr(model, lr)
        result = model.train_on_batch(setup.x_train[rows], setup.y_train[rows], return_dict=True)
        loss = float(result.get("loss", math.nan))
        if not math.isfinite(loss):
            diverged = True
            break
        avg = beta * avg + (1 - beta) * loss
        value = avg / (1 - beta ** (step + 1))
        lrs.append(lr)
        smoothed.append(value)
        best = min(best, value)
        if step > 5 and value > DIVERGENCE * best:
            diverged = True
            break
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
