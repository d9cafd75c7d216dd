"""The cost model: what each probe may spend, in plain fits of the user's own setup.

The probe run times the user's setup once (`ProbeRun.fit_seconds`), so a budget can be said
in the user's units: `Budget.fit_multiple` is what the whole diagnosis may cost, in plain
fits, the probe runs included (`quick` 1.2, `standard` 1.5, `thorough` 4). What is left after
the probe runs, the *spare* fits, is shared among the other probes by `SHARES`:

- Probes that train (the range test, the learning curve) run one after another, so their
  shares add up to the spare fits. They turn their share into work without reading a clock
  (range-test steps, learning-curve points), so their results depend on the seed only, never
  on how busy the machine is.
- Probes that only use the CPU (`BESIDE_TRAINING`: baselines, feature relevance with its
  ablations of the fast baseline, the data audit) start when the diagnosis starts, on the
  cores training leaves idle (`fitdoctor.evidence.beside`: a forked process on Linux, which
  hands this process what it has not started once the probe run is done; a thread
  elsewhere). They work on bounded samples and may
  run until the diagnosis as a whole has spent its budget (on a machine whose cores the
  training uses, counted while it trains too, from an estimate of the fit), or for their own
  share after that; where a plain fit takes less than `FLOOR_ENDS` (5 s), always for at least
  a floor that shrinks from `MIN_SECONDS` (10 s) to nothing there. A probe that stops early
  says what it skipped in its measurements.

Example (`tests/test_cost.py` runs it):

    budget = get_budget("standard")          # fit_multiple=1.5, one probe run
    spare_fits(budget)                       # 0.5
    share_fits(budget, "learning_curve")     # 0.25: a learning-curve point on 25 % of the rows
"""

from __future__ import annotations

import dataclasses
import functools
import os
import time

from fitdoctor.budget import Budget
from fitdoctor.evidence.base import Evidence

#: Fraction of the spare fits each probe may spend. The training probes' fractions add up to 1.
SHARES: dict[str, float] = {
    # training probes, one after another
    "lr_range": 0.50,  # 0.25 of a fit on standard: 200 steps of an 800-step fit
    "learning_curve": 0.50,  # a point on 25 % of the rows on standard, 50 % on thorough
    # CPU-only probes, beside training
    "baselines": 0.20,
    "feature_relevance": 0.10,
    "oof_probs": 0.10,
    "row_effects": 0.05,
    "neighbours": 0.05,
    "data_shift": 0.05,
    "data_stats": 0.05,
}
#: Probes that never train (scikit-learn and NumPy on the data): they run beside the training
#: probes, in this order. Those whose work is mostly fixed by the data's size come first; the two
#: with the most work they drop once the budget is spent (more baseline models, more ablations)
#: come last, so they take what is left instead of pushing the fixed ones past the budget.
BESIDE_TRAINING = ("data_stats", "oof_probs", "neighbours", "row_effects", "data_shift",
                   "baselines", "feature_relevance")
#: Seconds a CPU-only probe may always run where a plain fit takes no time at all: below it a
#: time cap would make results depend on the machine's load for setups whose whole fit takes a
#: few seconds (the tests', the fault benchmark's). The floor shrinks linearly to nothing at a
#: fit of `FLOOR_ENDS` seconds (`_floor`), so a diagnosis's cost has no step there: with a
#: floor of the whole ten seconds, a 9.9-s fit let seven probes add a minute to a diagnosis
#: that promised 1.2 fits, and a 10.1-s fit let them add two seconds.
MIN_SECONDS = 10.0
#: The plain fit, in seconds, from which a CPU-only probe has no floor. At 10 s (the floor
#: `MIN_SECONDS - fit`), a 6-7-s fit of 8,000 MNIST digits gave each probe after the probe run
#: 3-4 s of its own and `quick` cost 1.5-2.0 plain fits in one process; without a floor 1.3.
FLOOR_ENDS = 5.0


def _floor(fit: float) -> float:
    """Seconds a CPU-only probe may always run, given a plain fit of `fit` seconds: from
    `MIN_SECONDS` for an instant fit down to none from `FLOOR_ENDS` on (8 s at a 1-s fit,
    4 s at 3 s)."""
    return MIN_SECONDS * max(0.0, 1.0 - fit / FLOOR_ENDS)


def spare_fits(budget: Budget) -> float:
    """Plain fits the budget leaves for probes other than the probe runs."""
    return max(0.0, budget.fit_multiple - budget.seeds)


def share_fits(budget: Budget, probe: str) -> float:
    """Plain fits probe `probe` may spend (0 for a probe without a share)."""
    return spare_fits(budget) * SHARES.get(probe, 0.0)


def plain_fit_seconds(evidence: Evidence) -> float | None:
    """Seconds of one plain fit of the user's setup: the probe run's first fit.

    Until the probe run has finished (this never starts it): the estimate it made from its
    first epochs where the training shares the cores (`training_shares_the_cores`), else None.
    It is timed with `Monitor` attached, so it is a few percent above a plain fit.
    """
    if not evidence.has("probe_run"):
        elsewhere = evidence.fit_elsewhere()  # None but in a forked process, once told
        return elsewhere if elsewhere is not None else evidence.fit_estimate
    seconds = evidence.get("probe_run").fit_seconds
    return float(seconds[0]) if seconds else None


@dataclasses.dataclass(frozen=True)
class Share:
    """What one probe may spend.

    Args:
        probe: The probe's name.
        budget: The budget's name.
        fits: Plain fits of the user's setup it may spend.
        seconds: The same in seconds (None until the probe run has timed a fit).
    """

    probe: str
    budget: str
    fits: float
    seconds: float | None

    def steps(self, epochs: int, steps_per_epoch: int) -> int:
        """Optimizer steps of the user's fit that this share pays for."""
        return int(self.fits * epochs * steps_per_epoch)

    def describe(self) -> str:
        """`"0.15 of a plain fit on the standard budget"`, for notes in measurements."""
        return f"{self.fits:.2g} of a plain fit on the {self.budget} budget"


def share(evidence: Evidence, probe: str) -> Share:
    """The share of the budget that probe `probe` may spend on `evidence`'s setup."""
    fits = share_fits(evidence.budget, probe)
    fit = plain_fit_seconds(evidence)
    return Share(probe, evidence.budget.name, fits, None if fit is None else fits * fit)


class Clock:
    """Tells a CPU-only probe, between its pieces of work, whether it may start another.

    While the probe run is still training, the probe runs on idle cores and may go on, except
    where the training shares the cores (`training_shares_the_cores`): there the probe run's
    estimate of a plain fit counts from its second epoch on. After the probe run (or with that
    estimate) it may run until the whole diagnosis's budget is spent (`fit_multiple` plain fits
    from the diagnosis's start), or for its own share from its own start, whichever is later;
    where a plain fit is shorter than `FLOOR_ENDS`, for at least its floor (`_floor`).

    Args:
        evidence: The evidence the probe measures for.
        probe: The probe's name (its share is looked up in `SHARES`).
    """

    def __init__(self, evidence: Evidence, probe: str) -> None:
        self.evidence = evidence
        self.probe = probe
        self.started = time.perf_counter()

    def deadline(self) -> float | None:
        """`time.perf_counter()` value after which the probe should stop (None: no limit yet)."""
        fit = plain_fit_seconds(self.evidence)
        if fit is None:
            return None
        own = self.started + max(_floor(fit), share_fits(self.evidence.budget, self.probe) * fit)
        whole = self.evidence.started + self.evidence.budget.fit_multiple * fit
        return max(own, whole)

    def expired(self) -> bool:
        """Whether the probe has spent what it may."""
        deadline = self.deadline()
        return deadline is not None and time.perf_counter() > deadline

    def elapsed(self) -> float:
        """Seconds since the probe started."""
        return time.perf_counter() - self.started

    def spent(self) -> str:
        """Why the probe stopped, for the note on what it skipped."""
        own = share(self.evidence, self.probe)
        fit = plain_fit_seconds(self.evidence)
        floor = f", at least {_floor(fit):.1f} s" if fit is not None and _floor(fit) else ""
        return (f"{self.probe} had run {self.elapsed():.1f} s, past the diagnosis's "
                f"{self.evidence.budget.fit_multiple:g} plain fits and its own share "
                f"({own.describe()}{floor})")


#: On a machine with at most this many cores, a model training on the CPU leaves none idle.
SHARED_CORES = 2


def training_shares_the_cores() -> bool:
    """Whether the CPU-only probes beside the probe run take their cycles from it: the model
    trains on the CPU of a machine with at most `SHARED_CORES` cores.

    There the probes get no free run while it trains: the probe run estimates a plain fit
    from its first two epochs (`probe_run.FitEstimate`), and from then on their clocks count
    the budget from the diagnosis's start. Measured on two cores: a forked busy loop slowed a
    6.3-s fit of the scaling bench's digits MLP to 7.6 s at the lowest priority, and the
    probes beside it on MNIST's 784 columns slowed the probe run from 6.2 to 10.6 s.
    """
    return not _on_gpu() and (os.cpu_count() or 1) <= SHARED_CORES


@functools.cache
def _on_gpu() -> bool:
    try:
        import tensorflow as tf

        return bool(tf.config.list_physical_devices("GPU"))
    except ImportError:  # pragma: no cover - TensorFlow is a dependency
        return False


@functools.cache
def cpu_threads() -> int:
    """Threads a CPU-only probe may use: the cores the training probes leave idle.

    One when the model trains on the CPU too (more oversubscribes the cores beside
    TensorFlow's thread pools, and OpenMP's spinning threads can then run 20 times slower);
    all cores but two when a GPU trains the model. Asked once per process (before the
    CPU-only probes are forked, so a child never asks TensorFlow about devices).
    """
    cores = os.cpu_count() or 1
    return max(1, cores - 2) if _on_gpu() else 1
