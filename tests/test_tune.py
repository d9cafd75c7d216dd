"""`fitdoctor.tune` and `fitdoctor tune` on a tiny digits setup (600 rows, a few epochs)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import optuna
import pytest
from typer.testing import CliRunner

import fitdoctor
from fitdoctor.errors import SetupError
from fitdoctor.findings import Finding, Report, Severity
from fitdoctor.tune import TrialStatus
from fitdoctor.tune.run import INTERRUPTED, TuneInterrupted
from fitdoctor.tune.space import default_space, model_facts, parse_search_space
from fitdoctor.tune.storage import WORKER_ATTR, open_storage, resolve_storage_url
from fitdoctor.tune.trial import build_trial_model
from tests.tune_race import duplicated_configurations, race

SETUP_FILE = Path(__file__).with_name("tune_tiny_digits.py")


@pytest.fixture()
def setup_file():
    return SETUP_FILE


@pytest.fixture(scope="module")
def tiny():
    return fitdoctor.load_setup(SETUP_FILE)


def _journal(tmp_path):
    return str(tmp_path / "study.journal")


@pytest.mark.parametrize("strategy", ["grid", "random", "qmc", "bayes"])
def test_each_strategy_runs_a_study_and_reports_the_best(tiny, tmp_path, strategy):
    events = []
    result = fitdoctor.tune(tiny, strategy=strategy, trials=2, storage=_journal(tmp_path),
                            study=strategy, pruner="none", seed=1, progress=events.append)
    # Each trial's start, then its end with the best so far and the time left.
    assert [(e.trial.number, e.trial.state.value, e.done) for e in events] == [
        (0, "RUNNING", 0), (0, "COMPLETE", 1), (1, "RUNNING", 1), (1, "COMPLETE", 2)]
    assert [e.best_value for e in events[1::2]] == [result.trials[0].value, result.best_value]
    assert events[1].time_left > 0 and events[3].time_left == 0
    assert events[3].trial == result.trials[1]
    assert len(result.trials) == 2 and result.new_trials == 2
    assert result.count("COMPLETE") == 2
    values = [t.value for t in result.trials]
    assert result.best_value == max(values) and 0.3 < result.best_value <= 1.0  # chance: 0.1
    assert set(result.best_params) == {p["name"] for p in result.space}
    data = json.loads(result.to_json())
    assert {"best_params", "best_value", "trials"} <= set(data)
    assert {"number", "state", "params", "value"} <= set(data["trials"][0])
    if strategy == "grid":  # every trial is a grid point
        grid_lrs = set(np.geomspace(1e-3, 1e-1, 3).round(12))
        assert all(round(t.params["lr"], 12) in grid_lrs for t in result.trials)
    else:  # the user's configuration ran first, as the baseline
        assert result.trials[0].baseline and result.baseline_value is not None


@pytest.mark.slow
def test_rerun_with_same_study_adds_trials_and_saves_best_model(tiny, tmp_path):
    first = fitdoctor.tune(tiny, strategy="random", trials=2, storage=_journal(tmp_path),
                           study="s", pruner="none")
    second = fitdoctor.tune(tiny, strategy="bayes", trials=2, storage=_journal(tmp_path),
                            study="s", pruner="none", out=tmp_path / "best")
    assert [t.number for t in second.trials] == [0, 1, 2, 3]
    assert second.new_trials == 2
    assert second.trials[:2] == first.trials  # nothing earlier was lost or changed
    model = keras.saving.load_model(second.model_path)
    accuracy = np.mean(model.predict(tiny.x_val, verbose=0).argmax(1) == tiny.y_val)
    assert accuracy == pytest.approx(second.best_value, abs=0.02)


class _InterruptAt(keras.callbacks.Callback):
    """Raise KeyboardInterrupt at the n-th epoch end it sees (over every fit it joins)."""

    def __init__(self, n: int) -> None:
        super().__init__()
        self.n = n
        self.seen = 0

    def on_epoch_end(self, epoch, logs=None):
        self.seen += 1
        if self.seen == self.n:
            raise KeyboardInterrupt


def test_resume_after_an_interrupted_study(tiny, tmp_path):
    interrupted = tiny.replace(fit={**tiny.fit, "callbacks": [_InterruptAt(5)]})
    with pytest.raises(TuneInterrupted) as stop:
        fitdoctor.tune(interrupted, strategy="random", trials=4, storage=_journal(tmp_path),
                       study="crash", pruner="none", patience=5)
    assert (stop.value.study, stop.value.failed) == ("crash", (1,))
    assert (stop.value.finished, stop.value.remaining) == (1, 3)
    assert isinstance(stop.value, KeyboardInterrupt)  # what Python code already catches
    storage = open_storage(resolve_storage_url(_journal(tmp_path)))
    before = optuna.load_study(study_name="crash", storage=storage).get_trials()
    assert [t.state.name for t in before] == ["COMPLETE", "FAIL"]
    resumed = fitdoctor.tune(tiny, strategy="random", trials=2, storage=_journal(tmp_path),
                             study="crash", pruner="none")
    assert [t.state.value for t in resumed.trials] == ["COMPLETE", "FAIL", "COMPLETE", "COMPLETE"]
    assert resumed.trials[0].value == before[0].value
    assert resumed.trials[1].error == INTERRUPTED


def test_trial_of_a_killed_worker_is_failed_on_resume(tiny, tmp_path):
    storage = open_storage(resolve_storage_url(_journal(tmp_path)))
    study = optuna.create_study(study_name="killed", storage=storage, direction="maximize")
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    orphan = study.ask()
    orphan.set_user_attr(WORKER_ATTR, f"{__import__('socket').gethostname()}:{dead.pid}")
    result = fitdoctor.tune(tiny, strategy="random", trials=1, storage=_journal(tmp_path),
                            study="killed", pruner="none")
    assert [t.state.value for t in result.trials] == ["FAIL", "COMPLETE"]


@pytest.mark.slow
def test_median_pruner_stops_bad_trials(tiny, tmp_path):
    result = fitdoctor.tune(tiny, strategy="random", trials=8, storage=_journal(tmp_path),
                            space={"lr": ("log", 1e-6, 1e-1)}, pruner="median", seed=0,
                            baseline=False)
    pruned = [t for t in result.trials if t.state is TrialStatus.PRUNED]
    assert pruned, [(t.params, t.value) for t in result.trials]
    assert all(t.epochs < tiny.epochs for t in pruned)
    best_lr = result.best_params["lr"]
    assert all(t.params["lr"] < best_lr for t in pruned)


def test_declared_space_goes_to_build_model_and_layers(tiny):
    facts = model_facts(tiny.build_model())
    space = parse_search_space({"units": [16, 48], "dropout": ("float", 0.0, 0.5),
                                "l2": ("log", 1e-5, 1e-2), "lr": ("log", 1e-4, 1e-2),
                                "batch_size": [16, 64]}, tiny.build_model, facts)
    assert {p.name: p.target for p in space} == {
        "units": "build_model", "dropout": "dropout_layers", "l2": "kernel_l2",
        "lr": "optimizer", "batch_size": "fit"}
    model, fit = build_trial_model(tiny, space, {"units": 48, "dropout": 0.4, "l2": 1e-3,
                                                 "lr": 5e-3, "batch_size": 64})
    assert model.layers[0].units == 48
    assert model.layers[1].rate == pytest.approx(0.4)
    assert float(model.optimizer.learning_rate) == pytest.approx(5e-3)
    assert fit == {"batch_size": 64}
    assert len(model.losses) == 2  # an L2 penalty on both Dense kernels
    assert model.get_config()["layers"][1]["config"]["kernel_regularizer"] is not None


def test_lr_too_high_finding_moves_the_default_lr_range_down(tiny):
    facts = model_facts(tiny.build_model())
    plain = {p.name: p for p in default_space(tiny, facts)}
    report = Report(findings=(Finding("lr_too_high", Severity.CRITICAL, "lr too high"),))
    narrowed = {p.name: p for p in default_space(tiny, facts, report.ids())}
    assert (plain["lr"].low, plain["lr"].high) == pytest.approx((1e-3, 1e-1))
    assert (narrowed["lr"].low, narrowed["lr"].high) == pytest.approx((1e-4, 1e-2))
    assert set(plain) == {"lr", "batch_size", "dropout", "l2"}


@pytest.mark.parametrize(("space", "message"), [
    ({"lr": ("log", 0, 1)}, "SEARCH_SPACE['lr']: a log range needs low > 0"),
    ({"units": ("int", 64, 32)}, "SEARCH_SPACE['units']: low must be below high"),
    ({"units": (32, 64)}, "SEARCH_SPACE['units'] must be a list of choices or a tuple"),
    ({"units": []}, "SEARCH_SPACE['units']: the list of choices is empty"),
    ({"width": [1, 2]}, "SEARCH_SPACE['width']: build_model takes no keyword argument"),
    ({"dropout": ("float", 0.0, "a")}, "SEARCH_SPACE['dropout']: high must be a finite number"),
    ("lr", "SEARCH_SPACE must be a non-empty dict"),
])
def test_malformed_search_space_is_a_setup_error_naming_the_key(tiny, space, message):
    with pytest.raises(SetupError, match=message.replace("[", r"\[").replace("]", r"\]")
                       .replace("(", r"\(")):
        fitdoctor.tune(tiny, space=space, trials=1)


@pytest.mark.parametrize(("args", "message"), [
    (["--strategy", "anneal"], "strategy must be one of grid, random, qmc, bayes. "
                               "Received: strategy='anneal'"),
    (["--trials", "0"], "trials must be a positive integer. Received: trials=0"),
    (["--storage", "redis://localhost/0"], "storage must be a journal file path or a"),
    (["--storage", "postgresql://u:secret@127.0.0.1:1/db"], "cannot open storage "
                                                           "postgresql://u:***@127.0.0.1:1/db"),
])
def test_cli_bad_input_is_one_line_and_exit_2(setup_file, tmp_path, monkeypatch, args, message):
    from fitdoctor.cli import app

    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["tune", str(setup_file), *args])
    assert result.exit_code == 2, result.output
    output = " ".join(result.output.split())
    assert message in output and "secret" not in output
    assert "Traceback" not in result.output


def test_cli_tunes_and_writes_json_and_model(setup_file, tmp_path, monkeypatch):
    from fitdoctor.cli import app

    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["tune", str(setup_file), "--trials", "2", "--strategy",
                                      "random", "--json", "out/tune.json", "--out", "out"])
    assert result.exit_code == 0, result.output
    assert "best" in result.output and "trial" in result.output
    data = json.loads((tmp_path / "out" / "tune.json").read_text())
    assert data["study"] == "tune_tiny_digits" and len(data["trials"]) == 2
    assert (tmp_path / "out" / "model.keras").exists()
    assert (tmp_path / ".fitdoctor" / "tune.journal").exists()  # the default storage


@pytest.mark.slow
def test_two_local_workers_share_one_study(setup_file, tmp_path):
    result = fitdoctor.tune(setup_file, strategy="random", trials=4, workers=2,
                            storage=_journal(tmp_path), pruner="none")
    assert [t.number for t in result.trials] == [0, 1, 2, 3]
    assert result.count("COMPLETE") == 4
    assert len({t.worker for t in result.trials}) == 2


@pytest.mark.slow
def test_processes_starting_together_on_a_new_journal_study_duplicate_no_trial(setup_file,
                                                                               tmp_path):
    # Two `tune` processes create-or-load each fresh study at the same instant (a barrier).
    for trials in race(setup_file, _journal(tmp_path), workers=2, rounds=2, trials=2):
        assert sorted(t.number for t in trials) == [0, 1, 2, 3]
        assert all(t.state is optuna.trial.TrialState.COMPLETE for t in trials)
        assert sum(bool(t.user_attrs.get("baseline")) for t in trials) == 1
        assert duplicated_configurations(trials) == []


def test_workers_need_a_setup_file(tiny, digits):
    python_setup = fitdoctor.Setup.from_arrays(tiny.build_model, digits[0], digits[1])
    with pytest.raises(SetupError, match="workers > 1 needs a setup loaded from a file"):
        fitdoctor.tune(python_setup, workers=2, trials=2)


def test_regression_minimizes_the_users_loss(tmp_path):
    from sklearn.datasets import make_regression

    x, y = make_regression(n_samples=300, n_features=8, noise=5.0, random_state=0)
    x, y = x.astype("float32"), (y / y.std()).astype("float32")

    def build_model():
        model = keras.Sequential([keras.Input(shape=(8,)),
                                  keras.layers.Dense(16, activation="relu"),
                                  keras.layers.Dense(1)])
        model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="mse")
        return model

    setup = fitdoctor.Setup.from_arrays(build_model, (x[:240], y[:240]), (x[240:], y[240:]),
                                        {"epochs": 3, "batch_size": 32})
    result = fitdoctor.tune(setup, strategy="random", trials=3, storage=_journal(tmp_path),
                            pruner="hyperband")
    assert result.direction == "minimize" and result.metric == "loss"
    finished = [t.value for t in result.trials if t.state is TrialStatus.COMPLETE]
    assert result.best_value == min(finished) and result.best_value < float(np.var(y[240:]))
