"""Start `fitdoctor.tune` workers on a fresh study at the same instant, several times over.

Each worker is a spawned process that imports fitdoctor and loads the setup first (the slow
part), then waits on a shared barrier placed right where `tune` creates or loads the study. All
workers leave the barrier together, so every round is the worst case for the race between
creating a study and enqueuing the user's configuration: no round depends on machine load.
"""

from __future__ import annotations

import importlib
import multiprocessing
import os
from collections import Counter
from pathlib import Path

import optuna

from fitdoctor.tune.storage import open_storage


def _worker(barrier, setup_file: str, storage: str, studies: list[str], trials: int) -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import fitdoctor

    run = importlib.import_module("fitdoctor.tune.run")  # `fitdoctor.tune` is the function

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    original = run.open_study

    def open_together(*args, **kwargs):
        barrier.wait(timeout=600)
        return original(*args, **kwargs)

    run.open_study = open_together
    setup = fitdoctor.load_setup(setup_file)
    for study in studies:
        fitdoctor.tune(setup, storage=storage, study=study, trials=trials, strategy="random",
                       pruner="none", seed=0)


def race(setup_file: Path, storage: str, *, workers: int = 2, rounds: int = 3,
         trials: int = 2, prefix: str = "race") -> list[list[optuna.trial.FrozenTrial]]:
    """Run `rounds` fresh studies, each started by `workers` processes at once.

    Returns:
        The trials of each round's study.
    """
    studies = [f"{prefix}-{i}" for i in range(rounds)]
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(workers)
    procs = [ctx.Process(target=_worker, args=(barrier, str(setup_file), storage, studies, trials))
             for _ in range(workers)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(timeout=900)
    codes = [proc.exitcode for proc in procs]
    for proc in procs:
        if proc.is_alive():
            proc.kill()
    if codes != [0] * workers:
        raise AssertionError(f"race workers exited with {codes}")
    opened = open_storage(storage)
    return [optuna.load_study(study_name=s, storage=opened).get_trials() for s in studies]


def duplicated_configurations(trials: list[optuna.trial.FrozenTrial]) -> list[dict]:
    """The parameter sets that appear on more than one trial."""
    counts = Counter(tuple(sorted(t.params.items())) for t in trials)
    return [dict(key) for key, n in counts.items() if n > 1]
