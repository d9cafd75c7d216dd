"""The lazy, cached evidence store and the probe registry."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from fitdoctor.budget import Budget
from fitdoctor.data import ChangingData
from fitdoctor.setup import Setup, Untrainable

logger = logging.getLogger(__name__)

ProbeFn = Callable[["Evidence"], Any]
_PROBES: dict[str, ProbeFn] = {}


class EvidenceUnavailable(Exception):
    """A probe could not measure what was asked (the reason is the message)."""


class EvidenceSkipped(EvidenceUnavailable):
    """A probe chose not to run (the budget excludes it, or it does not apply to this setup).

    Checks that need it are skipped silently instead of reporting that they could not run.
    """


def probe(name: str) -> Callable[[ProbeFn], ProbeFn]:
    """Register a probe function under `name`. Registering a name twice is an error."""

    def decorate(fn: ProbeFn) -> ProbeFn:
        if name in _PROBES and _PROBES[name] is not fn:
            raise ValueError(f"a probe named {name!r} is already registered")
        _PROBES[name] = fn
        return fn

    return decorate


def registered_probes() -> dict[str, ProbeFn]:
    """All registered probes by name."""
    from fitdoctor.evidence import registry  # noqa: F401  (imports the probe modules)

    return dict(_PROBES)


class Evidence:
    """Measurements on one setup, each computed once, on first request.

    Args:
        setup: The validated setup.
        budget: How much measuring is allowed.
        seed: Seed for every probe (each probe derives its own seeds from it).
        progress: Optional callable `progress(message)` told when a probe starts.
    """

    def __init__(self, setup: Setup, budget: Budget, seed: int = 0, progress=None) -> None:
        self.setup = setup
        self.budget = budget
        self.seed = seed
        self._progress = progress
        self._results: dict[str, Any] = {}
        self._errors: dict[str, BaseException] = {}
        self.timings: dict[str, float] = {}
        self.started = time.perf_counter()
        self._locks: dict[str, threading.RLock] = {}
        self._locks_guard = threading.Lock()
        #: Probes measured in another process: a `get` waits for the event (`hold`).
        self._pending: dict[str, threading.Event] = {}
        #: Seconds of a plain fit timed in another process (None: not timed there).
        self._fit_elsewhere: Callable[[], float | None] = lambda: None
        #: A plain fit's seconds estimated from the probe run's first epochs, while it trains.
        self.fit_estimate: float | None = None
        self._estimate_listeners: list[Callable[[float], None]] = []

    def get(self, name: str) -> Any:
        """The result of probe `name`, running it first if needed.

        Safe to call from several threads: a probe asked for twice at once runs once, and the
        second caller waits for its result.

        Raises:
            EvidenceUnavailable: the probe failed or does not apply; the message says why.
        """
        if name in self._results:
            return self._results[name]
        pending = self._pending.get(name)
        if pending is not None:
            pending.wait()
        with self._locks_guard:
            lock = self._locks.setdefault(name, threading.RLock())
        with lock:
            return self._get(name)

    def _get(self, name: str) -> Any:
        if name in self._results:
            return self._results[name]
        if name in self._errors:
            error = self._errors[name]
            kind = EvidenceSkipped if isinstance(error, EvidenceSkipped) else EvidenceUnavailable
            raise kind(str(error)) from error
        probes = registered_probes()
        if name not in probes:
            raise KeyError(f"no probe named {name!r}; known: {', '.join(sorted(probes))}")
        if self._progress is not None:
            self._progress(name)
        start = time.perf_counter()
        try:
            result = probes[name](self)
        except EvidenceUnavailable as exc:
            self._errors[name] = exc
            raise
        except ChangingData:  # the setup itself is inconsistent: stop, whatever asked
            raise
        except Untrainable as exc:  # reported once, by loss_output_mismatch or diagnose
            skipped = EvidenceSkipped(f"{name} needs training: {exc}")
            self._errors[name] = skipped
            raise skipped from exc
        except Exception as exc:
            logger.debug("probe %s failed", name, exc_info=True)
            self._errors[name] = exc
            raise EvidenceUnavailable(f"{name} failed: {type(exc).__name__}: {exc}") from exc
        finally:
            self.timings[name] = time.perf_counter() - start
        self._results[name] = result
        return result

    def hold(self, name: str) -> Callable[[], None]:
        """Make a `get` of probe `name`, from any thread, wait until the returned release is
        called (a probe measured in another process, `fitdoctor.evidence.beside`); then it
        reads what was `adopt`ed, or measures it. The release may come from any thread."""
        event = threading.Event()
        self._pending[name] = event
        return event.set

    def held(self, name: str) -> bool:
        """Whether a `get` of probe `name` would now wait for another process (`hold`)."""
        event = self._pending.get(name)
        return event is not None and not event.is_set()

    def adopt(self, name: str, kind: str, value: Any, seconds: float) -> None:
        """Keep an outcome of probe `name` measured in another process (`outcomes`): its
        result (`kind` "ok"), or its error ("error"); anything else is left to measure here."""
        if name in self._results or name in self._errors:
            return
        if kind == "ok":
            self._results[name] = value
        elif kind == "error" and isinstance(value, BaseException):
            self._errors[name] = value
        else:
            return
        self.timings[name] = seconds

    def outcomes(self) -> list[tuple[str, str, Any, float]]:
        """Every probe measured so far, as `(name, "ok" or "error", result or error, seconds)`."""
        done = [(n, "ok", r, self.timings.get(n, 0.0)) for n, r in self._results.items()]
        return done + [(n, "error", e, self.timings.get(n, 0.0))
                       for n, e in self._errors.items()]

    def forked(self, fit_elsewhere: Callable[[], float | None]) -> None:
        """Make this copy of the evidence usable in a forked process: fresh locks, no holds,
        no progress messages, and a plain fit's seconds read from the parent."""
        self._locks = {}
        self._locks_guard = threading.Lock()
        self._pending = {}  # the parent's holds are the parent's: nothing waits here
        self._progress = None
        self._fit_elsewhere = fit_elsewhere

    def estimate_fit(self, seconds: float) -> None:
        """Keep an estimate of a plain fit's seconds made while the probe run trains, and tell
        each listener (`when_fit_estimated`)."""
        self.fit_estimate = float(seconds)
        for listener in self._estimate_listeners:
            listener(self.fit_estimate)

    def when_fit_estimated(self, listener: Callable[[float], None]) -> None:
        """Call `listener(seconds)` with each estimate `estimate_fit` is given."""
        self._estimate_listeners.append(listener)

    def fit_elsewhere(self) -> float | None:
        """Seconds of a plain fit timed in the process this one was forked from, if any."""
        return self._fit_elsewhere()

    def has(self, name: str) -> bool:
        """Whether probe `name` has already run successfully (never triggers it)."""
        return name in self._results

    def computed(self) -> dict[str, Any]:
        """Results measured so far, by probe name."""
        return dict(self._results)
