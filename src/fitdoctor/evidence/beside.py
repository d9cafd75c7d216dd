"""Run the CPU-only probes beside the probe run: in a forked process where one can be had.

Training a small Keras model is bound by Python's interpreter as much as by arithmetic: each
step goes through Python, holding the GIL. Probes in a thread of the same process take the GIL
in turn, so on a model like the bench's digits MLP they made the probe run twice as slow and
saved nothing (measured: a 3.3-s probe run took 6.4 s with the probes beside it, and the
diagnosis took as long as with the probes after it). A process of its own has its own
interpreter and runs on an idle core for real.

The process is forked, not spawned: it inherits the data, the imported libraries and what was
measured already, without pickling the setup (whose `build_model` may live in a user's script)
or importing TensorFlow again (seconds). The child never touches Keras or TensorFlow: what
builds a model is measured before the fork (`start_beside_training`), and the probes that run
here only read arrays with NumPy and scikit-learn. Each result comes back through a pipe as it
is ready; one that cannot be pickled, or a child that dies, leaves that probe to be measured
in this process by the check that asks for it, as if it had never been started.

Once the probe run is done, this process's core is free again: `ForkedProbes.take_over`
measures here, from the last, the probes the child has not started, while the child goes on
with the others from the first. Each probe is claimed once, by whichever process comes to it
first (a shared array), so none is measured twice and the two meet in the middle.

Forking is used on Linux only; elsewhere (macOS forks unsafely once system frameworks run
threads, Windows cannot fork), or with `FITDOCTOR_FORK_PROBES=0` in the environment, the
probes run in a thread as before.
"""

from __future__ import annotations

import gc
import logging
import multiprocessing
import os
import pickle
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from fitdoctor.evidence.base import Evidence
from fitdoctor.evidence.cost import MIN_SECONDS

#: How many times what the probes' clocks allow a child may run before it is given up on.
GRACE = 3.0
#: The child's scheduling priority (`os.nice`): the lowest, so the probe run's threads get a
#: core whenever they are ready. On two cores a busy child at 0 slowed a 6.3-s fit of the
#: scaling bench's digits MLP to 9.2 s, and at 19 to 7.6 s (`Setup.train` beside a forked
#: busy loop, one run each).
NICENESS = 19

#: Who claimed a probe (`ForkedProbes`' shared array): nobody yet, the child, this process.
UNCLAIMED, CHILD, PARENT = 0, 1, 2

logger = logging.getLogger(__name__)


def can_fork() -> bool:
    """Whether the CPU-only probes may run in a forked process: on Linux, unless the
    environment sets `FITDOCTOR_FORK_PROBES=0` (then they run in a thread)."""
    if os.environ.get("FITDOCTOR_FORK_PROBES", "1").strip() == "0":
        return False
    return sys.platform.startswith("linux") and "fork" in multiprocessing.get_all_start_methods()


class ForkedProbes:
    """The CPU-only probes `names`, measured for `evidence` in a forked child process.

    While the child works, each of its probes is held (`Evidence.hold`), so a check that asks
    for one waits for the child's result instead of measuring it a second time; each is
    released as its result comes back. Call `fit_timed` once the probe run has timed a plain
    fit, so the child's clocks can tell their probes when to stop
    (`fitdoctor.evidence.cost.Clock`); then `take_over` to measure here what the child has not
    started; `join` waits for the rest.
    """

    def __init__(self, evidence: Evidence, names: list[str]) -> None:
        self.evidence = evidence
        self.names = list(names)
        context = multiprocessing.get_context("fork")
        self._fit = context.Value("d", -1.0, lock=False)
        self._claims = context.Array("b", len(self.names))  # UNCLAIMED each, with a lock
        self._first_claim = context.Event()  # set by the child once it has claimed its first
        self._receive, send = context.Pipe(duplex=False)
        self._releases = {name: evidence.hold(name) for name in self.names}
        self._child: Any = None
        try:
            self._child = context.Process(
                target=_child, args=(evidence, self.names, send, self._fit, self._claims,
                                     self._first_claim),
                daemon=True, name="fitdoctor-probes")
            self._child.start()
        except Exception:  # no process to be had: this process measures them
            logger.debug("could not fork the CPU-only probes", exc_info=True)
            self._child = None
        send.close()
        self._thread = threading.Thread(target=self._collect, daemon=True,
                                        name="fitdoctor-forked-probes")
        self._thread.start()

    def fit_timed(self, seconds: float | None) -> None:
        """Tell the child how long a plain fit took (the probe run's)."""
        if seconds is not None:
            self._fit.value = float(seconds)

    def take_over(self, measure: Callable[[str], None]) -> list[str]:
        """Measure here (`measure(name)`), from the last, each probe the child has not started.

        Call it once this process's training is done. The child claims its probes in order,
        so the first one found claimed from the end ends the search; and it always gets its
        first (this waits for its first claim while it lives), so what a probe measures does
        not depend on how soon the child started. Returns the names measured here.
        """
        while (self._child is not None and self._child.is_alive()
               and not self._first_claim.wait(0.05)):
            pass
        taken = []
        for index in reversed(range(len(self.names))):
            if not _claim(self._claims, index, PARENT):
                break
            name = self.names[index]
            self._releases[name]()
            measure(name)
            taken.append(name)
        return taken

    def join(self) -> None:
        """Wait until every result has come back (or the child is gone)."""
        self._thread.join()

    def _collect(self) -> None:
        """Adopt each result as it arrives, then release every hold."""
        child = self._child
        try:
            if child is not None:
                self._adopt_until_done(child)
                if child.is_alive():
                    child.kill()
                child.join()
        finally:
            for release in self._releases.values():
                release()
            self._receive.close()

    def _overdue(self) -> bool:
        """Whether the child has run far past what its probes' clocks allow (`GRACE`): a
        child stuck that long is given up on, and its probes are measured here."""
        fit = self._fit.value
        if fit <= 0:
            return False
        allowed = GRACE * max(self.evidence.budget.fit_multiple * fit, MIN_SECONDS)
        return time.perf_counter() - self.evidence.started > allowed + MIN_SECONDS

    def _adopt_until_done(self, child: Any) -> None:
        while True:
            try:
                while not self._receive.poll(0.25):
                    if self._overdue() or not (child.is_alive() or self._receive.poll(0)):
                        return  # (a result sent just before the child exited is still read)
                message = self._receive.recv_bytes()
            except (EOFError, OSError):  # the child is done, or died
                return
            try:
                name, kind, value, seconds = pickle.loads(message)
            except Exception:  # a result that cannot be read back is measured here
                logger.debug("a probe's result from the child could not be read", exc_info=True)
                continue
            self.evidence.adopt(name, kind, value, seconds)
            if name in self._releases and kind != "unsent":
                self._releases[name]()  # a check waiting for it reads it now


def _claim(claims: Any, index: int, who: int) -> bool:
    """Claim probe `index` for `who` (CHILD or PARENT); False when it was claimed already."""
    with claims.get_lock():
        if claims[index] != UNCLAIMED:
            return False
        claims[index] = who
        return True


def _child(evidence: Evidence, names: list[str], send: Any, fit: Any, claims: Any,
           first_claim: Any) -> None:
    """In the forked process: measure, in order, each of `names` this process claims first,
    and send every result, dependencies too."""
    gc.freeze()  # never finalize the parent's objects here (TensorFlow's among them)
    os.nice(NICENESS)  # the user's training comes first: this child takes the cycles it leaves
    evidence.forked(lambda: fit.value if fit.value > 0 else None)
    sent = {done for done, *_ in evidence.outcomes()}  # the parent has those already
    for index, name in enumerate(names):
        claimed = _claim(claims, index, CHILD)
        first_claim.set()
        if not claimed:
            break  # the parent took it, and every one after it
        try:
            evidence.get(name)
        except Exception:  # kept by `evidence`; sent below as an error
            pass
        for done, kind, value, seconds in evidence.outcomes():
            if done in sent:
                continue
            sent.add(done)
            send.send_bytes(_pickled(done, kind, value, seconds))
    send.close()


def _pickled(name: str, kind: str, value: Any, seconds: float) -> bytes:
    """One probe's outcome as bytes; an error in its place when the result will not pickle."""
    try:
        return pickle.dumps((name, kind, value, seconds), protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as exc:
        logger.debug("probe %s's result cannot be pickled", name, exc_info=True)
        return pickle.dumps((name, "unsent", f"{type(exc).__name__}: {exc}", seconds))

