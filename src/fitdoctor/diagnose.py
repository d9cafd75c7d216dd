"""`diagnose`: run the checks on a setup and rank what they find."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol

from fitdoctor import __version__
from fitdoctor.budget import Budget, get_budget
from fitdoctor.checks import Check, default_checks
from fitdoctor.data import ChangingData
from fitdoctor.evidence import Evidence, EvidenceSkipped, EvidenceUnavailable
from fitdoctor.evidence.beside import ForkedProbes, can_fork
from fitdoctor.evidence.cost import BESIDE_TRAINING, cpu_threads, plain_fit_seconds
from fitdoctor.findings import Finding, Fix, Report, Role, Severity
from fitdoctor.setup import Setup, Untrainable

logger = logging.getLogger(__name__)


class Joinable(Protocol):
    """What runs beside the training (a thread, or `ForkedProbes`): wait for it with `join`."""

    def join(self) -> None: ...


def diagnose(
    build_model: Callable[..., Any] | None = None,
    train_data: tuple[Any, Any] | None = None,
    validation_data: tuple[Any, Any] | None = None,
    fit: Mapping[str, Any] | None = None,
    *,
    setup: Setup | None = None,
    budget: str | Budget = "standard",
    seed: int = 0,
    checks: Iterable[Check | str] | None = None,
    progress: Callable[[str], None] | None = None,
    model: Any = None,
) -> Report:
    """Run the user's setup under measurement and name what makes it train badly.

    Give either a model builder and data (as you would to `model.fit`) or a ready `Setup`.
    Nothing you pass is modified: fitdoctor trains fresh models from `build_model`.

    Args:
        build_model: Zero-argument callable returning a compiled `keras.Model`.
        train_data: `(x_train, y_train)`, NumPy arrays or pandas objects.
        validation_data: `(x_val, y_val)`; when None, 20 % of the training rows are held out.
        fit: Keyword arguments you pass to `model.fit` (epochs, batch_size, callbacks, ...).
        setup: A `Setup` (from `fitdoctor.load_setup`) instead of the four arguments above.
        budget: `"quick"`, `"standard"` or `"thorough"`. Defaults to `"standard"`.
        seed: Seed for every probe run. Defaults to 0.
        checks: Check instances or ids to run instead of all registered checks.
        progress: Optional callable told the name of each probe as it starts.
        model: A compiled `keras.Model` instead of `build_model`, for code with no builder
            function: each run trains a clone with its compile configuration; the instance
            itself is never trained. Defaults to None.

    Returns:
        A `Report` with findings ranked most important first.

    Example (run by `tests/test_setup.py::test_the_readme_python_example_runs`):

        report = fitdoctor.diagnose(build_model, (x, y), validation_data=(xv, yv),
                                    fit={"epochs": 10, "batch_size": 32})
        report.ids()  # e.g. ['lr_too_high', 'nan_loss']
    """
    if model is not None:
        from fitdoctor.script import builder_for

        build_model = builder_for(model)
    if setup is None:
        if build_model is None or train_data is None:
            from fitdoctor.errors import SetupError

            raise SetupError("diagnose() needs build_model (or model) and train_data, or setup=")
        setup = Setup.from_arrays(build_model, train_data, validation_data, fit, seed=seed)
    report, _ = diagnosed(setup, budget, seed=seed, checks=checks, progress=progress)
    return report


def diagnosed(setup: Setup, budget: str | Budget, *, seed: int = 0,
              checks: Iterable[Check | str] | None = None,
              progress: Callable[[str], None] | None = None) -> tuple[Report, Evidence]:
    """`diagnose` on a ready setup, returning the evidence beside the report.

    `fix` reads the evidence for what the diagnosis already trained (the probe run).
    """
    evidence = Evidence(setup, get_budget(budget), seed=seed, progress=progress)
    resolved = _resolve_checks(checks)
    beside = start_beside_training(evidence, resolved)
    try:
        report = run_checks(evidence, resolved)
    finally:
        if beside is not None:
            beside.join()
    if setup.loss_error is not None and report.get("loss_output_mismatch") is None:
        raise Untrainable(setup.loss_error)  # no check knows the fix: say what one batch showed
    return report, evidence


def start_beside_training(evidence: Evidence, checks: list[Check]) -> Joinable | None:
    """Start the CPU-only probes that `checks` need beside the training, then train.

    The probes of `BESIDE_TRAINING` (baselines, the data audit) only read the data, so they
    run on the cores the training probes leave idle instead of after them: in a forked
    process on Linux (`fitdoctor.evidence.beside`: a thread would share the interpreter's
    lock with the training loop), in a background thread elsewhere. The first check that asks
    for one waits for it (`Evidence.get` runs each probe once). Everything that builds a Keras
    model (the model's reading, the token-id test) is done here first, so the probes beside
    never touch Keras and the probe runs stay seeded as they were. Then the probe run starts
    in this thread; once it is done, this thread measures, from the last, the forked probes
    the child has not started (`ForkedProbes.take_over`). Returns what to join, or None when
    nothing trains or nothing runs beside it.
    """
    needed = {name for check in checks if check.applies(evidence) for name in check.requires}
    names = [name for name in BESIDE_TRAINING if name in needed]
    if not names or "probe_run" not in needed:
        return None
    _measure(evidence, ["model_info"])
    try:
        _ = evidence.setup.token_inputs  # cached on the setup
    except Exception:  # a build_model that raises: the checks report it
        return None
    cpu_threads()  # asked here: a forked child never asks TensorFlow about devices
    if can_fork():
        forked = ForkedProbes(evidence, names)
        evidence.when_fit_estimated(forked.fit_timed)  # the child's clocks read it from then on
        _measure(evidence, ["probe_run"])
        forked.fit_timed(plain_fit_seconds(evidence))
        forked.take_over(lambda name: _measure(evidence, [name]))  # this core is free now
        return forked
    thread = threading.Thread(target=_measure, args=(evidence, names), daemon=True,
                              name="fitdoctor-beside-training")
    thread.start()
    _measure(evidence, ["probe_run"])
    return thread


def _measure(evidence: Evidence, names: list[str]) -> None:
    """Run the named probes; a failure is kept by `evidence` for the check that asks."""
    for name in names:
        try:
            evidence.get(name)
        except EvidenceUnavailable:
            continue
        except Exception:  # the check that asks for it reports it
            logger.debug("probe %s failed beside training", name, exc_info=True)


def _resolve_checks(checks: Iterable[Check | str] | None) -> list[Check]:
    if checks is None:
        return default_checks()
    from fitdoctor.checks import registered_checks

    known = registered_checks()
    resolved = []
    for c in checks:
        if isinstance(c, str):
            if c not in known:
                from fitdoctor.errors import SetupError

                raise SetupError(f"unknown check id {c!r}; known: {', '.join(sorted(known))}")
            c = known[c]()
        resolved.append(c)
    return resolved


def _run_check(evidence: Evidence, check: Check) -> list[Finding]:
    """What `check` finds, or the finding that says why it could not run (none when it does not
    apply or skipped itself)."""
    try:
        if not check.applies(evidence):
            return []
        produced = check.run(evidence)
    except EvidenceSkipped as exc:
        logger.info("check %s skipped: %s", check.id, exc)
        return []
    except EvidenceUnavailable as exc:
        return [could_not_run(check, str(exc))]
    except ChangingData:  # the user's load_data() is inconsistent: nothing can be trusted
        raise
    except Exception as exc:  # one failing check never sinks the run
        logger.debug("check %s raised", check.id, exc_info=True)
        return [could_not_run(check, f"{type(exc).__name__}: {exc}")]
    findings = list(produced or ())
    for finding in findings:
        if not isinstance(finding, Finding):
            raise TypeError(f"check {check.id} returned {type(finding).__name__}, not Finding")
    return findings


def could_not_run(check: Check, reason: str) -> Finding:
    """The finding that stands in for a check that raised: it says which and why."""
    return Finding(
        id="check_failed",
        severity=Severity.INFO,
        title=f"check {check.id} could not run: {reason}",
        evidence={"check": check.id, "reason": reason},
        fix=Fix("Nothing to change in your setup for this; rerun with --debug to see why."),
        category=check.category,
        role=Role.SYMPTOM,
        rank=99,
    )


def run_checks(evidence: Evidence, checks: list[Check]) -> Report:
    """Run `checks` against `evidence` and build the ranked report.

    Checks whose probes are all at hand run first, those waiting for a probe another process
    still measures (`Evidence.held`) after them, so this process's own work (the forward pass,
    the checks' arithmetic) overlaps the other's; the findings keep the checks' order.
    """
    waiting = [any(evidence.held(name) for name in check.requires) for check in checks]
    order = sorted(range(len(checks)), key=lambda index: waiting[index])  # stable
    produced = {index: _run_check(evidence, checks[index]) for index in order}
    findings = [finding for index in range(len(checks)) for finding in produced[index]]
    measurements = {}
    for name, result in evidence.computed().items():
        to_measurements = getattr(result, "to_measurements", None)
        if callable(to_measurements):
            measurements[name] = to_measurements()
    summary = evidence.setup.summary()
    if evidence.has("model_info"):
        summary["n_params"] = evidence.get("model_info").n_params
    timings = {f"probe:{k}": round(v, 3) for k, v in evidence.timings.items()}
    timings["total"] = round(time.perf_counter() - evidence.started, 3)  # from the first probe
    return Report(
        findings=tuple(findings),
        setup=summary,
        measurements=measurements,
        budget=evidence.budget.name,
        seed=evidence.seed,
        timings=timings,
        version=__version__,
    )
