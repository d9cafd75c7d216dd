"""The probe run: the user's own `fit`, on fresh models, under measurement."""

from __future__ import annotations

import dataclasses
import math
import time
from typing import Any

import keras
import numpy as np

from fitdoctor.evidence import cost
from fitdoctor.evidence.base import Evidence, probe


@dataclasses.dataclass(frozen=True)
class ProbeRun:
    """What training the user's setup showed.

    Args:
        history: Per-epoch logs of the first seed's run (`History.history`: `loss`,
            `val_loss`, `accuracy`, `val_accuracy`, ... as the user compiled them).
        histories: One history per seed (length = the budget's `seeds`).
        monitor: The `Monitor` record of the first seed's run (`None` when not attached).
        fit_seconds: Wall time of each seed's `fit`.
        epochs: Epochs the user asked for; `epochs_run`: epochs actually run (early stopping, NaN).
        steps_per_epoch: Optimizer steps per epoch.
        first: The first seed's run (`Setup.train`'s `Trained`): its model, trained as the user
            trains it, is `fix`'s first run of the unchanged setup. Not part of the record.
    """

    history: dict[str, list[float]]
    histories: tuple[dict[str, list[float]], ...]
    monitor: Any
    fit_seconds: tuple[float, ...]
    epochs: int
    epochs_run: int
    steps_per_epoch: int
    first: Any = dataclasses.field(default=None, compare=False, repr=False)

    def final(self, key: str, *, seed: int = 0) -> float:
        """Last value of a history key (NaN when absent)."""
        values = self.histories[seed].get(key) or [math.nan]
        return float(values[-1])

    def best(self, key: str) -> float:
        """Best value of a history key on the first seed (min for losses, max otherwise)."""
        values = [v for v in self.history.get(key, []) if math.isfinite(v)]
        if not values:
            return math.nan
        return float(min(values) if "loss" in key or "error" in key else max(values))

    def spread(self, key: str) -> float:
        """Standard deviation across seeds of the last value of `key` (0 for one seed)."""
        finals = [self.final(key, seed=i) for i in range(len(self.histories))]
        finite = [v for v in finals if math.isfinite(v)]
        return float(np.std(finite)) if len(finite) > 1 else 0.0

    def to_measurements(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "history": self.history,
            "fit_seconds": list(self.fit_seconds),
            "epochs": self.epochs,
            "epochs_run": self.epochs_run,
            "steps_per_epoch": self.steps_per_epoch,
        }
        if len(self.histories) > 1:
            out["histories"] = list(self.histories)
        summary = getattr(self.monitor, "to_measurements", None)
        if callable(summary):
            out["monitor"] = summary()
        return out


class FitEstimate(keras.callbacks.Callback):
    """Estimates a plain fit after the probe run's second epoch: the first epoch (tracing
    included) plus the others at the second one's pace, handed to `Evidence.estimate_fit` so
    the probes beside can keep to the budget while it trains (`cost.training_shares_the_cores`).
    Reads a clock at each epoch's end; nothing else.

    Args:
        evidence: Where the estimate goes.
        epochs: Epochs the fit runs.
    """

    def __init__(self, evidence: Evidence, epochs: int) -> None:
        super().__init__()
        self.evidence = evidence
        self.epochs = epochs
        self._ends: list[float] = []

    def on_train_begin(self, logs=None):
        self._ends = [time.perf_counter()]

    def on_epoch_end(self, epoch, logs=None):
        self._ends.append(time.perf_counter())
        if len(self._ends) == 3:
            first, second = self._ends[1] - self._ends[0], self._ends[2] - self._ends[1]
            self.evidence.estimate_fit(first + (self.epochs - 1) * second)


def train_once(evidence: Evidence, seed: int, callbacks: list | None = None, **fit_overrides):
    """Train a fresh model with `seed` through `Setup.train`. Returns its `Trained` run."""
    return evidence.setup.train(seed, callbacks=callbacks or (), **fit_overrides)


def _make_monitor(evidence: Evidence):
    """A `Monitor` on a seeded sample of 256 training rows, measuring the budget's
    `monitor_samples` batches per epoch."""
    try:
        from fitdoctor.monitor import Monitor
    except ImportError:
        return None
    setup = evidence.setup
    rows = np.sort(np.random.default_rng(evidence.seed).permutation(setup.n_train)[:256])
    return Monitor(data=setup.model_rows(rows),
                   samples_per_epoch=evidence.budget.monitor_samples,
                   batch_size=setup.batch_size)


@probe("probe_run")
def probe_run(evidence: Evidence) -> ProbeRun:
    """Train the setup as the user would, once per budget seed, with `Monitor` on the first."""
    histories, seconds, monitor, runs = [], [], None, []
    for i in range(evidence.budget.seeds):
        callbacks = []
        if i == 0:
            monitor = _make_monitor(evidence)
            if monitor is not None:
                callbacks.append(monitor)
            if cost.training_shares_the_cores() and evidence.setup.epochs > 2:
                callbacks.append(FitEstimate(evidence, evidence.setup.epochs))
        runs.append(train_once(evidence, evidence.seed + i, callbacks))
        histories.append(runs[-1].history)
        seconds.append(runs[-1].seconds)
    first = histories[0]
    return ProbeRun(
        first=runs[0],
        history=first,
        histories=tuple(histories),
        monitor=monitor,
        fit_seconds=tuple(seconds),
        epochs=evidence.setup.epochs,
        epochs_run=len(first.get("loss", [])),
        steps_per_epoch=evidence.setup.steps_per_epoch,
    )
