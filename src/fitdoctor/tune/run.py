"""`tune`: search the setup's hyperparameters with an Optuna study and keep the best model."""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import os
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
    open_storage,
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


@dataclasses.dataclass(frozen=True)
class TuneProgress:
    """Where a running tune stands (given to the `progress` callback after each trial)."""

    done: int
    total: int
    best_value: float | None
    best_params: Mapping[str, Any]
    elapsed: float
    time_left: float | None


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
        trials: One dict per trial: `number`, `state`, `params`, `value`, `epochs`,
            `seconds`, `worker`.
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
    trials: tuple[Mapping[str, Any], ...]
    importances: Mapping[str, float]
    space: tuple[Mapping[str, Any], ...]
    new_trials: int
    workers: int
    seconds: float
    model_path: str | None = None

    def count(self, state: str) -> int:
        """How many trials are in `state` (`"COMPLETE"`, `"PRUNED"`, `"FAIL"`, ...)."""
        return sum(t["state"] == state for t in self.trials)

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
               study: optuna.Study | None = None) -> optuna.Study:
    """Run `plan.trials` trials of the plan's study on `setup` in this process.

    Args:
        setup: The setup to train.
        plan: The study, sampler and share of trials.
        on_trial: Optuna callback after each finished trial. Defaults to None.
        study: The study already opened with the plan's sampler. Defaults to None (opened here).
    """
    if study is None:
        study, _ = open_study(plan)
        fail_orphaned_trials(study)
    params = plan.params

    def objective(trial: optuna.Trial) -> float:
        trial.set_user_attr(WORKER_ATTR, worker_tag())
        values = {p.name: p.suggest(trial) for p in params}
        start = time.perf_counter()
        _, value, scores, pruned = train_trial(
            setup, params, values, seed=plan.seed + trial.number, trial=trial,
            patience=plan.patience,
        )
        trial.set_user_attr("epochs", len(scores))
        trial.set_user_attr("seconds", round(time.perf_counter() - start, 3))
        if pruned:
            raise optuna.TrialPruned(f"stopped after {len(scores)} epoch(s)")
        if not math.isfinite(value):
            raise FloatingPointError("validation score is not finite")
        return value

    study.optimize(objective, n_trials=plan.trials, timeout=plan.timeout,
                   callbacks=[on_trial] if on_trial else None, catch=(Exception,))
    return study


def _trial_row(trial: optuna.trial.FrozenTrial) -> dict[str, Any]:
    return {
        "number": trial.number,
        "state": trial.state.name,
        "params": dict(trial.params),
        "value": trial.value,
        "epochs": trial.user_attrs.get("epochs"),
        "seconds": trial.user_attrs.get("seconds"),
        "worker": trial.user_attrs.get(WORKER_ATTR),
        "baseline": bool(trial.user_attrs.get("baseline", False)),
    }


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
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": os.environ.get("TF_CPP_MIN_LOG_LEVEL", "3")}
    procs = []
    for i, plan in enumerate(plans, start=1):
        plan_path = logdir / f"worker-{i}.json"
        plan_path.write_text(plan.to_json(), encoding="utf-8")
        log = open(logdir / f"worker-{i}.log", "w", encoding="utf-8")  # noqa: SIM115
        proc = subprocess.Popen([sys.executable, "-m", "fitdoctor.tune.worker", str(plan_path)],
                                stdout=log, stderr=subprocess.STDOUT, env=env)
        procs.append((proc, log, logdir / f"worker-{i}.log"))
    return procs


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
    finished_before = len(optuna_study.get_trials(deepcopy=False, states=FINISHED))
    # The process that creates the study samples from `seed` (a fresh study is reproducible);
    # one that joins or resumes it adds the trials so far and its own host:pid, so reruns and
    # workers started beside it (here or on other hosts) never sample the same sequence again.
    salt = 0 if created else zlib.crc32(worker_tag().encode()) % 1_000_003
    base = dataclasses.replace(base, sampler_seed=seed + existing + salt)
    optuna_study.sampler = make_sampler(strategy, params, base.sampler_seed, grid_points)
    start = time.perf_counter()

    def on_trial(study_: optuna.Study, _trial: optuna.trial.FrozenTrial) -> None:
        if progress is None:
            return
        done = len(study_.get_trials(deepcopy=False, states=FINISHED)) - finished_before
        try:
            best_value, best_params = study_.best_value, study_.best_params
        except ValueError:
            best_value, best_params = None, {}
        elapsed = time.perf_counter() - start
        if timeout is not None:
            left = max(0.0, timeout - elapsed)
        else:
            left = elapsed / max(done, 1) * max(trials - done, 0)
        progress(TuneProgress(min(done, trials), trials, best_value, dict(best_params), elapsed,
                              left))

    sub_plans = [dataclasses.replace(base, trials=n, sampler_seed=base.sampler_seed + 7919 * i)
                 for i, n in enumerate(shares[1:], start=1) if n > 0]
    with tempfile.TemporaryDirectory(prefix="fitdoctor-tune-") as tmp:
        procs = _start_subworkers(sub_plans, Path(tmp))
        try:
            optuna_study = run_worker(setup, base, on_trial, optuna_study)
        finally:
            for proc, log, log_path in procs:
                code = proc.wait()
                log.close()
                if code != 0:
                    tail = log_path.read_text(encoding="utf-8", errors="replace")[-2000:]
                    logger.warning("tune worker exited with code %d:\n%s", code, tail)
    return summarize(optuna_study, setup, params, strategy=strategy, workers=workers,
                     new_trials=len(optuna_study.get_trials(deepcopy=False, states=FINISHED))
                     - finished_before,
                     seconds=time.perf_counter() - start, out=out, seed=seed, patience=patience,
                     storage=url)


def summarize(study: optuna.Study, setup: Setup, params: Sequence[Param], *, strategy: str,
              workers: int, new_trials: int, seconds: float, out: str | os.PathLike | None,
              seed: int, patience: int, storage: str) -> TuneResult:
    """Read the whole study into a `TuneResult`, saving the best model to `out` when given."""
    rows = tuple(_trial_row(t) for t in study.get_trials(deepcopy=False))
    complete = [t for t in study.get_trials(deepcopy=False)
                if t.state is optuna.trial.TrialState.COMPLETE]
    best = None
    if complete:
        best = study.best_trial
    baseline = next((r["value"] for r in rows if r["baseline"] and r["state"] == "COMPLETE"), None)
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
