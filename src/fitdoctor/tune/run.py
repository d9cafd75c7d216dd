"""`tune`: search the setup's hyperparameters with an Optuna study and keep the best model."""

from __future__ import annotations

import dataclasses
import enum
import json
import logging
import math
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import warnings
import zlib
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import optuna

from fitdoctor.errors import SetupError
from fitdoctor.setup import Setup, load_setup
from fitdoctor.tune.space import (
    Param,
    current_values,
    default_space,
    model_facts,
    parse_search_space,
)
from fitdoctor.tune.storage import (
    WORKER_ATTR,
    fail_orphaned_trials,
    fail_trials_of_this_process,
    open_storage,
    redact,
    resolve_storage_url,
    storage_summary,
    worker_tag,
)
from fitdoctor.tune.trial import train_trial

logger = logging.getLogger(__name__)

STRATEGIES = ("grid", "random", "qmc", "bayes")
PRUNERS = ("median", "hyperband", "none")
FINISHED = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED,
            optuna.trial.TrialState.FAIL)


@dataclasses.dataclass(frozen=True)
class WorkerPlan:
    """Everything one worker process needs to join a study (JSON-able, sent to subprocesses).

    Args:
        study: Study name. `storage`: resolved storage URL or journal path.
        strategy: Sampler (`STRATEGIES`). `pruner`: pruner (`PRUNERS`).
        trials: Trials this worker runs. `timeout`: its time limit in seconds (None: none).
        space: The searched parameters as dicts (`Param.to_dict`).
        direction: `"maximize"` (accuracy) or `"minimize"` (regression loss).
        seed: Seed for trial models (each trial adds its number) .
        sampler_seed: Seed of this worker's sampler (different per worker).
        patience: Early-stopping patience in epochs.
        grid_points: Values per continuous axis for the grid strategy.
        setup_path: The setup file subprocess workers load (None for Python-built setups).
        setup_seed: Seed `load_setup` uses to hold out validation rows.
    """

    study: str
    storage: str
    strategy: str
    pruner: str
    trials: int
    timeout: float | None
    space: tuple[dict[str, Any], ...]
    direction: str
    seed: int
    sampler_seed: int
    patience: int
    grid_points: int
    max_epochs: int
    setup_path: str | None = None
    setup_seed: int = 0

    @property
    def params(self) -> tuple[Param, ...]:
        return tuple(Param.from_dict(p) for p in self.space)

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self))

    @classmethod
    def from_json(cls, text: str) -> WorkerPlan:
        data = json.loads(text)
        data["space"] = tuple(data["space"])
        return cls(**data)


#: The `error` a trial records when Ctrl-C (SIGINT) stopped it.
INTERRUPTED = "interrupted (Ctrl-C)"


class TrialStatus(str, enum.Enum):
    """Where a tuning trial stands: Optuna's trial states, by the same names."""

    WAITING = "WAITING"
    RUNNING = "RUNNING"
    COMPLETE = "COMPLETE"
    PRUNED = "PRUNED"
    FAIL = "FAIL"

    @property
    def finished(self) -> bool:
        """Whether the trial will not change any more (complete, pruned or failed)."""
        return self in (TrialStatus.COMPLETE, TrialStatus.PRUNED, TrialStatus.FAIL)


@dataclasses.dataclass(frozen=True)
class TuneTrial:
    """One trial of a study, read once from the storage's record.

    Args:
        number: The trial's number in the study (0, 1, ...).
        state: Its `TrialStatus`.
        params: The sampled value of each searched parameter.
        value: Its validation score (None unless complete).
        epochs: Epochs it trained (None until it finished training).
        seconds: Its training time in seconds (None until it finished training).
        worker: `host:pid` of the process that ran it.
        baseline: Whether it is the user's own configuration. Defaults to False.
        error: Why it failed (`INTERRUPTED` for Ctrl-C), or None. Defaults to None.
    """

    number: int
    state: TrialStatus
    params: Mapping[str, Any]
    value: float | None
    epochs: int | None
    seconds: float | None
    worker: str | None
    baseline: bool = False
    error: str | None = None

    @classmethod
    def from_optuna(cls, trial: optuna.trial.FrozenTrial) -> TuneTrial:
        """The record of an Optuna trial."""
        attrs = trial.user_attrs
        return cls(
            number=trial.number,
            state=TrialStatus(trial.state.name),
            params=dict(trial.params),
            value=None if trial.value is None else float(trial.value),
            epochs=attrs.get("epochs"),
            seconds=attrs.get("seconds"),
            worker=attrs.get(WORKER_ATTR),
            baseline=bool(attrs.get("baseline", False)),
            error=attrs.get("error"),
        )


@dataclasses.dataclass(frozen=True)
class TuneProgress:
    """Where a running tune stands, given to the `progress` callback of `tune`.

    Sent when a trial starts in this process (`trial.state` is `RUNNING`) and when any trial of
    the study finishes, whichever worker ran it.

    Args:
        trial: The trial that started or finished.
        done: Trials finished since this call began, over all its workers.
        total: Trials this call runs.
        metric: `"accuracy"` or `"loss"`: what `value` and `best_value` measure.
        best_value: The study's best score so far (None before a trial completes).
        best_trial: Its trial number (None before a trial completes).
        best_params: Its parameters ({} before a trial completes).
        elapsed: Seconds since this call began.
        time_left: Estimated seconds until this call ends (None before a trial finishes).
    """

    trial: TuneTrial
    done: int
    total: int
    metric: str
    best_value: float | None
    best_trial: int | None
    best_params: Mapping[str, Any]
    elapsed: float
    time_left: float | None


class TuneInterrupted(KeyboardInterrupt):
    """Ctrl-C (SIGINT) stopped `tune`; the study is stored and the next call resumes it.

    Args:
        study: The study's name.
        storage: Its storage (journal path or database URL, as `tune` resolved it).
        failed: Numbers of the running trials that were marked failed.
        finished: Trials this call finished before it stopped (not counting `failed`).
        remaining: Trials of this call that did not run (`trials - finished`).
    """

    def __init__(self, study: str, storage: str, failed: Sequence[int], finished: int,
                 remaining: int) -> None:
        self.study = study
        self.storage = storage
        self.failed = tuple(failed)
        self.finished = finished
        self.remaining = remaining
        marked = "" if not self.failed else (
            f"trial{'s' if len(self.failed) > 1 else ''} {', '.join(map(str, self.failed))} "
            "marked failed; ")
        super().__init__(f"tune interrupted: {marked}study {study!r} in {redact(storage)} keeps "
                         f"every finished trial; the same study name resumes it")


@dataclasses.dataclass(frozen=True)
class TuneResult:
    """The outcome of a study, covering every trial it holds (not only this invocation's).

    Args:
        study: Study name. `storage`: its kind and password-free location.
        strategy: The sampler this invocation used.
        metric: `"accuracy"` (maximized) or `"loss"` (the user's loss, minimized).
        direction: `"maximize"` or `"minimize"`.
        best_params: Parameters of the best complete trial ({} when none completed).
        best_value: Its validation score (None when none completed).
        best_trial: Its number (None when none completed).
        baseline_value: Score of the user's own configuration when it ran as a trial.
        trials: Every trial of the study, as `TuneTrial` records, by number.
        importances: Parameter importances (fANOVA), when at least 2 trials completed and more
            than one parameter is searched.
        space: The searched parameters.
        new_trials: Trials this invocation finished.
        workers: Local worker processes this invocation used.
        seconds: Wall time of this invocation.
        model_path: Where the best model was saved (None when not saved).
    """

    study: str
    storage: Mapping[str, Any]
    strategy: str
    metric: str
    direction: str
    best_params: Mapping[str, Any]
    best_value: float | None
    best_trial: int | None
    baseline_value: float | None
    trials: tuple[TuneTrial, ...]
    importances: Mapping[str, float]
    space: tuple[Mapping[str, Any], ...]
    new_trials: int
    workers: int
    seconds: float
    model_path: str | None = None

    def count(self, state: TrialStatus | str) -> int:
        """How many trials are in `state` (`TrialStatus.PRUNED`, or its name `"PRUNED"`)."""
        return sum(t.state is TrialStatus(state) for t in self.trials)

    def to_dict(self) -> dict[str, Any]:
        from fitdoctor.findings import _jsonable

        return _jsonable(dataclasses.asdict(self))

    def to_json(self, path: str | Path | None = None, *, indent: int = 2) -> str:
        """Serialize to JSON; also write it to `path` when given."""
        text = json.dumps(self.to_dict(), indent=indent, allow_nan=False)
        if path is not None:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            Path(path).write_text(text + "\n", encoding="utf-8")
        return text


def _validate(strategy: str, trials: int, timeout: float | None, workers: int, pruner: str,
              patience: int, grid_points: int) -> None:
    if strategy not in STRATEGIES:
        raise SetupError(f"strategy must be one of {', '.join(STRATEGIES)}. "
                         f"Received: strategy={strategy!r}")
    if isinstance(trials, bool) or not isinstance(trials, int) or trials <= 0:
        raise SetupError(f"trials must be a positive integer. Received: trials={trials!r}")
    if timeout is not None and not (isinstance(timeout, (int, float)) and timeout > 0):
        raise SetupError(f"timeout must be a positive number of seconds. "
                         f"Received: timeout={timeout!r}")
    if isinstance(workers, bool) or not isinstance(workers, int) or workers <= 0:
        raise SetupError(f"workers must be a positive integer. Received: workers={workers!r}")
    if pruner not in PRUNERS:
        raise SetupError(f"pruner must be one of {', '.join(PRUNERS)}. Received: pruner={pruner!r}")
    if not isinstance(patience, int) or patience < 1:
        raise SetupError(f"patience must be a positive integer. Received: patience={patience!r}")
    if not isinstance(grid_points, int) or grid_points < 2:
        raise SetupError(f"grid_points must be an integer >= 2. "
                         f"Received: grid_points={grid_points!r}")


def make_sampler(strategy: str, params: Sequence[Param], seed: int,
                 grid_points: int = 3) -> optuna.samplers.BaseSampler:
    """The Optuna sampler behind a strategy name.

    `grid` walks the grid of `Param.grid` values in a seeded random order (GridSampler), `random`
    samples independently (RandomSampler), `qmc` spreads samples with a scrambled Sobol sequence
    (QMCSampler), `bayes` is multivariate TPE whose first `max(3, min(10, 2 * len(params)))`
    trials are random.
    """
    if strategy == "grid":
        grid = {p.name: p.grid(grid_points) for p in params}
        return optuna.samplers.GridSampler(grid, seed=seed)
    if strategy == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        if strategy == "qmc":
            return optuna.samplers.QMCSampler(scramble=True, seed=seed,
                                              warn_independent_sampling=False,
                                              warn_asynchronous_seeding=False)
        return optuna.samplers.TPESampler(
            seed=seed, multivariate=True, n_startup_trials=max(3, min(10, 2 * len(params))),
        )


def make_pruner(name: str, max_epochs: int) -> optuna.pruners.BasePruner:
    """`median`: stop a trial whose epoch score is worse than the median of earlier trials at
    that epoch, after 3 complete trials and from its second epoch; `hyperband`: Hyperband over
    1..`max_epochs` epochs; `none`: never prune."""
    if name == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=1)
    if name == "hyperband":
        return optuna.pruners.HyperbandPruner(min_resource=1, max_resource=max(max_epochs, 2),
                                              reduction_factor=3)
    return optuna.pruners.NopPruner()


def open_study(plan: WorkerPlan, *,
               first_trial: Mapping[str, Any] | None = None) -> tuple[optuna.Study, bool]:
    """Create the plan's study, or load it when it exists, with this worker's sampler and pruner.

    Creating a study is atomic in every storage (a unique study name in a database, the first
    `CREATE_STUDY` record in a journal file), so exactly one worker creates each study, however
    many start together. Only that worker enqueues `first_trial`, so it runs once per study.

    Args:
        plan: The study, storage, sampler and pruner.
        first_trial: Parameters to enqueue as the study's first trial (marked `baseline`) when
            this call creates the study. Defaults to None (nothing enqueued).

    Returns:
        The study, and whether this call created it.
    """
    storage = open_storage(plan.storage)
    params = plan.params
    sampler = make_sampler(plan.strategy, params, plan.sampler_seed, plan.grid_points)
    pruner = make_pruner(plan.pruner, plan.max_epochs)
    created = True
    try:
        study = optuna.create_study(storage=storage, study_name=plan.study,
                                    direction=plan.direction, sampler=sampler, pruner=pruner)
    except optuna.exceptions.DuplicatedStudyError:
        created = False
        study = optuna.load_study(storage=storage, study_name=plan.study, sampler=sampler,
                                  pruner=pruner)
    else:
        if first_trial is not None:
            study.enqueue_trial(dict(first_trial), user_attrs={"baseline": True})
    if study.direction.name.lower() != plan.direction:
        raise SetupError(
            f"study {plan.study!r} {study.direction.name.lower()}s its score but this setup's "
            f"score must be {plan.direction}d; use another --study name"
        )
    return study, created


def run_worker(setup: Setup, plan: WorkerPlan,
               on_trial: Callable[[optuna.Study, optuna.trial.FrozenTrial], None] | None = None,
               study: optuna.Study | None = None,
               on_start: Callable[[TuneTrial], None] | None = None) -> optuna.Study:
    """Run `plan.trials` trials of the plan's study on `setup` in this process.

    A trial that raises records why in its `error` attribute (`INTERRUPTED` for Ctrl-C) and is
    marked failed; Ctrl-C then stops the worker, any other error goes on to the next trial.

    Args:
        setup: The setup to train.
        plan: The study, sampler and share of trials.
        on_trial: Optuna callback after each finished trial. Defaults to None.
        study: The study already opened with the plan's sampler. Defaults to None (opened here).
        on_start: Called with each trial once its values are sampled. Defaults to None.
    """
    if study is None:
        study, _ = open_study(plan)
        fail_orphaned_trials(study)
    params = plan.params

    def objective(trial: optuna.Trial) -> float:
        trial.set_user_attr(WORKER_ATTR, worker_tag())
        try:
            values = {p.name: p.suggest(trial) for p in params}
            if on_start is not None:
                on_start(TuneTrial(number=trial.number, state=TrialStatus.RUNNING, params=values,
                                   value=None, epochs=None, seconds=None, worker=worker_tag(),
                                   baseline=bool(trial.user_attrs.get("baseline", False))))
            start = time.perf_counter()
            _, value, scores, pruned = train_trial(
                setup, params, values, seed=plan.seed + trial.number, trial=trial,
                patience=plan.patience,
            )
            trial.set_user_attr("epochs", len(scores))
            trial.set_user_attr("seconds", round(time.perf_counter() - start, 3))
            if not pruned and not math.isfinite(value):
                raise FloatingPointError("validation score is not finite")
        except KeyboardInterrupt:
            trial.set_user_attr("error", INTERRUPTED)
            raise
        except Exception as exc:
            trial.set_user_attr("error", f"{type(exc).__name__}: {exc}"[:500])
            raise
        if pruned:
            raise optuna.TrialPruned(f"stopped after {len(scores)} epoch(s)")
        return value

    study.optimize(objective, n_trials=plan.trials, timeout=plan.timeout,
                   callbacks=[on_trial] if on_trial else None, catch=(Exception,))
    return study


def _importances(study: optuna.Study, n_params: int) -> dict[str, float]:
    complete = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    if len(complete) < 2 or n_params < 2:
        return {}
    try:
        return {k: float(v) for k, v in optuna.importance.get_param_importances(study).items()}
    except Exception as exc:  # too few distinct values, a constant objective, ...
        logger.info("parameter importances unavailable: %s", exc)
        return {}


def _start_subworkers(plans: Sequence[WorkerPlan], logdir: Path) -> list[tuple]:
    """Start a worker process per plan, each in its own session.

    A terminal's Ctrl-C then reaches only this process, which passes it on once to each worker
    (`_interrupt_subworkers`); a worker whose parent dies stops by itself (see `worker.py`).
    """
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": os.environ.get("TF_CPP_MIN_LOG_LEVEL", "3")}
    procs = []
    for i, plan in enumerate(plans, start=1):
        plan_path = logdir / f"worker-{i}.json"
        plan_path.write_text(plan.to_json(), encoding="utf-8")
        log = open(logdir / f"worker-{i}.log", "w", encoding="utf-8")  # noqa: SIM115
        proc = subprocess.Popen([sys.executable, "-m", "fitdoctor.tune.worker", str(plan_path)],
                                stdout=log, stderr=subprocess.STDOUT, env=env,
                                start_new_session=True)
        procs.append((proc, log, logdir / f"worker-{i}.log"))
    return procs


def _wait_subworkers(procs: Sequence[tuple], poll: Callable[[], None]) -> None:
    """Wait for every worker, calling `poll` about once a second; log the ones that failed."""
    while any(proc.poll() is None for proc, _, _ in procs):
        poll()
        time.sleep(1.0)
    poll()
    for proc, log, log_path in procs:
        if proc.returncode != 0:
            log.flush()
            tail = log_path.read_text(encoding="utf-8", errors="replace")[-2000:]
            logger.warning("tune worker exited with code %d:\n%s", proc.returncode, tail)


def _interrupt_subworkers(procs: Sequence[tuple], grace: float = 60.0) -> None:
    """Pass Ctrl-C on to each running worker (it fails its trial), kill those that hang on."""
    for proc, _, _ in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
    for proc, _, _ in procs:
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def tune(
    setup: Setup | str | os.PathLike,
    *,
    strategy: str = "bayes",
    trials: int = 20,
    timeout: float | None = None,
    workers: int = 1,
    storage: str | os.PathLike | None = None,
    study: str | None = None,
    space: Mapping[str, Any] | None = None,
    report: Any = None,
    pruner: str = "median",
    patience: int = 3,
    seed: int = 0,
    out: str | os.PathLike | None = None,
    baseline: bool = True,
    grid_points: int = 3,
    progress: Callable[[TuneProgress], None] | None = None,
) -> TuneResult:
    """Search the setup's hyperparameters and return the best, with every trial of the study.

    Each trial builds a fresh model from `build_model` with the sampled values, trains it with
    the setup's `fit` arguments plus early stopping on the validation score, and reports each
    epoch's score so bad trials are pruned. The score is validation accuracy for classification
    (maximized) and the compiled loss for regression (minimized). The study is stored (a journal
    file under `.fitdoctor/` by default), so a crashed or finished run resumes: calling again
    with the same `study` adds `trials` more.

    Args:
        setup: A `Setup`, or the path of a setup file.
        strategy: `"grid"`, `"random"`, `"qmc"` or `"bayes"` (TPE). Defaults to `"bayes"`.
        trials: Trials to run in this call, over all workers. Defaults to 20.
        timeout: Stop starting trials after this many seconds. Defaults to None (no limit).
        workers: Local processes sharing the trials (>1 needs a setup loaded from a file).
            Defaults to 1.
        storage: Journal file path or database URL (`postgresql://user:pw@host/db`). Defaults
            to None: `.fitdoctor/tune.journal` in the working directory.
        study: Study name; an existing study of that name is resumed. Defaults to None: the
            setup file's name, or `"fitdoctor"`.
        space: Search space in the `SEARCH_SPACE` format (see `fitdoctor.tune.space`). Defaults
            to None: the setup's `SEARCH_SPACE`, else fitdoctor's default space.
        report: A `fitdoctor.Report` from `diagnose`; its findings narrow the default space.
            Defaults to None.
        pruner: `"median"`, `"hyperband"` or `"none"`. Defaults to `"median"`.
        patience: Early-stopping patience in epochs. Defaults to 3.
        seed: Seed of samplers and trial models. Defaults to 0.
        out: Folder to save the best model to (`model.keras`, retrained from the best trial's
            parameters and seed). Defaults to None (not saved).
        baseline: Run the user's own configuration as the first trial of a new study (not for
            `grid`). Defaults to True.
        grid_points: Values per continuous axis for `grid`. Defaults to 3.
        progress: Optional callable given a `TuneProgress` after each trial of this process.

    Returns:
        A `TuneResult` covering the whole study.

    Example:
        >>> result = fitdoctor.tune("setup.py", strategy="bayes", trials=12)
        >>> result.best_params, result.best_value
        ({'lr': 0.0021, 'batch_size': 64}, 0.978)
    """
    _validate(strategy, trials, timeout, workers, pruner, patience, grid_points)
    if isinstance(setup, (str, os.PathLike)):
        setup = load_setup(setup, seed=seed)
    if not isinstance(setup, Setup):
        raise SetupError(f"setup must be a Setup or a setup file path; "
                         f"received {type(setup).__name__}")
    setup_path = setup.source if setup.source.endswith(".py") and Path(setup.source).exists() \
        else None
    if workers > 1 and setup_path is None:
        raise SetupError("workers > 1 needs a setup loaded from a file (each worker process loads "
                         f"it); received a setup built in Python. Received: workers={workers}")
    import keras

    keras.utils.set_random_seed(seed)
    facts = model_facts(setup.build_model())
    raw_space = space if space is not None else setup.search_space
    if raw_space is not None:
        params = parse_search_space(raw_space, setup.build_model, facts)
    else:
        finding_ids = report.ids() if report is not None else ()
        params = default_space(setup, facts, finding_ids)
    url = resolve_storage_url(storage)
    name = study or (Path(setup_path).stem if setup_path else "fitdoctor")
    direction = "maximize" if setup.task.is_classification else "minimize"
    shares = [trials // workers + (1 if i < trials % workers else 0) for i in range(workers)]
    base = WorkerPlan(
        study=name, storage=url, strategy=strategy, pruner=pruner, trials=shares[0],
        timeout=timeout, space=tuple(p.to_dict() for p in params), direction=direction,
        seed=seed, sampler_seed=seed, patience=patience, grid_points=grid_points,
        max_epochs=setup.epochs, setup_path=setup_path, setup_seed=seed,
    )
    first_trial = None  # the user's own configuration, when every searched value is known
    if baseline and strategy != "grid":
        own = current_values(params, setup, facts)
        first_trial = own if len(own) == len(params) else None
    optuna_study, created = open_study(base, first_trial=first_trial)
    fail_orphaned_trials(optuna_study)
    existing = len([t for t in optuna_study.get_trials(deepcopy=False)
                    if t.state is not optuna.trial.TrialState.WAITING])
    # The process that creates the study samples from `seed` (a fresh study is reproducible);
    # one that joins or resumes it adds the trials so far and its own host:pid, so reruns and
    # workers started beside it (here or on other hosts) never sample the same sequence again.
    salt = 0 if created else zlib.crc32(worker_tag().encode()) % 1_000_003
    base = dataclasses.replace(base, sampler_seed=seed + existing + salt)
    optuna_study.sampler = make_sampler(strategy, params, base.sampler_seed, grid_points)
    reporter = _Reporter(progress, trials=trials, timeout=timeout, metric=setup.task.metric,
                         finished_before=optuna_study.get_trials(deepcopy=False, states=FINISHED))
    sub_plans = [dataclasses.replace(base, trials=n, sampler_seed=base.sampler_seed + 7919 * i)
                 for i, n in enumerate(shares[1:], start=1) if n > 0]
    with tempfile.TemporaryDirectory(prefix="fitdoctor-tune-") as tmp:
        procs = _start_subworkers(sub_plans, Path(tmp))
        try:
            optuna_study = run_worker(setup, base, lambda s, _: reporter.finished(s), optuna_study,
                                      on_start=lambda t: reporter.started(optuna_study, t))
            _wait_subworkers(procs, lambda: reporter.finished(optuna_study))
        except KeyboardInterrupt:
            _interrupt_subworkers(procs)
            fail_trials_of_this_process(optuna_study)
            fail_orphaned_trials(optuna_study)
            host = socket.gethostname()
            ours = {worker_tag(), *(f"{host}:{proc.pid}" for proc, _, _ in procs)}
            mine = [t for t in optuna_study.get_trials(deepcopy=False, states=FINISHED)
                    if t.number not in reporter.before and t.user_attrs.get(WORKER_ATTR) in ours]
            failed = [t.number for t in mine if t.state is optuna.trial.TrialState.FAIL
                      and t.user_attrs.get("error") in (INTERRUPTED, None)]
            finished = len(mine) - len(failed)
            raise TuneInterrupted(name, url, failed, finished, max(trials - finished, 0)) from None
        finally:
            for _, log, _ in procs:
                log.close()
    return summarize(optuna_study, setup, params, strategy=strategy, workers=workers,
                     new_trials=len(optuna_study.get_trials(deepcopy=False, states=FINISHED))
                     - len(reporter.before),
                     seconds=time.perf_counter() - reporter.start, out=out, seed=seed,
                     patience=patience, storage=url)


class _Reporter:
    """Turns the study's trials into `TuneProgress` events, each finished trial once."""

    def __init__(self, progress: Callable[[TuneProgress], None] | None, *, trials: int,
                 timeout: float | None, metric: str,
                 finished_before: Sequence[optuna.trial.FrozenTrial]) -> None:
        self.progress = progress
        self.trials = trials
        self.timeout = timeout
        self.metric = metric
        self.before = {t.number for t in finished_before}
        self.reported = set(self.before)
        self.start = time.perf_counter()

    def _event(self, study: optuna.Study, trial: TuneTrial, done: int) -> TuneProgress:
        try:
            best = study.best_trial
        except ValueError:  # no trial completed yet
            best = None
        elapsed = time.perf_counter() - self.start
        left = elapsed / done * max(self.trials - done, 0) if done else None
        if self.timeout is not None:
            left = min(left, self.timeout - elapsed) if left is not None else None
            left = None if left is None else max(left, 0.0)
        return TuneProgress(
            trial=trial, done=min(done, self.trials), total=self.trials, metric=self.metric,
            best_value=None if best is None else float(best.value),
            best_trial=None if best is None else best.number,
            best_params={} if best is None else dict(best.params),
            elapsed=elapsed, time_left=left,
        )

    def started(self, study: optuna.Study, trial: TuneTrial) -> None:
        """A trial of this process has its values and starts training."""
        if self.progress is not None:
            self.progress(self._event(study, trial, len(self.reported - self.before)))

    def finished(self, study: optuna.Study) -> None:
        """Report every trial of the study that finished since the last call."""
        if self.progress is None:
            return
        finished = study.get_trials(deepcopy=False, states=FINISHED)
        new = sorted((t for t in finished if t.number not in self.reported),
                     key=lambda t: t.number)
        done = len({t.number for t in finished} - self.before)
        for trial in new:
            self.reported.add(trial.number)
            self.progress(self._event(study, TuneTrial.from_optuna(trial), done))


def summarize(study: optuna.Study, setup: Setup, params: Sequence[Param], *, strategy: str,
              workers: int, new_trials: int, seconds: float, out: str | os.PathLike | None,
              seed: int, patience: int, storage: str) -> TuneResult:
    """Read the whole study into a `TuneResult`, saving the best model to `out` when given."""
    rows = tuple(TuneTrial.from_optuna(t) for t in study.get_trials(deepcopy=False))
    complete = [t for t in study.get_trials(deepcopy=False)
                if t.state is optuna.trial.TrialState.COMPLETE]
    best = None
    if complete:
        best = study.best_trial
    baseline = next((t.value for t in rows if t.baseline and t.state is TrialStatus.COMPLETE),
                    None)
    model_path = None
    if out is not None and best is not None:
        model, _, _, _ = train_trial(setup, params, best.params, seed=seed + best.number,
                                     patience=patience)
        folder = Path(out)
        folder.mkdir(parents=True, exist_ok=True)
        model_path = str(folder / "model.keras")
        model.save(model_path)
    return TuneResult(
        study=study.study_name,
        storage=storage_summary(storage),
        strategy=strategy,
        metric=setup.task.metric,
        direction=study.direction.name.lower(),
        best_params=dict(best.params) if best else {},
        best_value=float(best.value) if best else None,
        best_trial=best.number if best else None,
        baseline_value=baseline,
        trials=rows,
        importances=_importances(study, len(params)),
        space=tuple(p.to_dict() for p in params),
        new_trials=max(new_trials, 0),
        workers=workers,
        seconds=round(seconds, 3),
        model_path=model_path,
    )
