"""fix on several processes: helpers train the runs known in advance; one fix decides."""

from __future__ import annotations

import importlib
import json
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import optuna
import pytest

import fitdoctor
from fitdoctor.fix.store import KEY_ATTR, SCORES_ATTR
from fitdoctor.tune.storage import WORKER_ATTR, open_storage

pytestmark = pytest.mark.slow

run_module = importlib.import_module("fitdoctor.fix.run")  # `fitdoctor.fix` is the function

#: Iris with its features x100 into SGD: standardizing the inputs is what helps.
SETUP = '''
import keras
from sklearn.datasets import load_iris
from sklearn.model_selection import train_test_split


def load_data():
    x, y = load_iris(return_X_y=True)
    x_tr, x_val, y_tr, y_val = train_test_split(x * 100, y, test_size=0.4, random_state=0,
                                                stratify=y)
    return (x_tr.astype("float32"), y_tr), (x_val.astype("float32"), y_val)


def build_model():
    model = keras.Sequential([keras.Input(shape=(4,)),
                              keras.layers.Dense(16, activation="relu"),
                              keras.layers.Dense(3, activation="softmax")])
    model.compile(optimizer=keras.optimizers.SGD(0.05),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


FIT = {"epochs": 15, "batch_size": 16}
'''


@pytest.fixture()
def setup_file(tmp_path) -> Path:
    path = tmp_path / "iris_raw.py"
    path.write_text(SETUP)
    return path


def decisions(result) -> tuple:
    return result.applied, [(t.label, t.stage.value, t.status.value) for t in result.trials]


def json_decisions(data: dict) -> tuple:
    return tuple(data["applied"]), [(r["label"], r["stage"], r["status"])
                                    for r in data["remedies"]]


def completed_runs(storage: str, study: str = "fix") -> list[optuna.trial.FrozenTrial]:
    trials = optuna.load_study(study_name=study, storage=open_storage(storage)).get_trials()
    return [t for t in trials if t.state == optuna.trial.TrialState.COMPLETE
            and SCORES_ATTR in t.user_attrs]


def _counted(monkeypatch) -> list[int]:
    calls: list[int] = []
    original = run_module.train_and_score

    def counted(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(run_module, "train_and_score", counted)
    return calls


def fitdoctor_command(*args: str, cwd: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "fitdoctor.cli", *args], cwd=cwd,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def test_a_helper_trains_the_runs_known_in_advance_and_the_fix_only_the_rest(
        setup_file, tmp_path, monkeypatch):
    setup = fitdoctor.load_setup(setup_file)
    alone = fitdoctor.fix(setup=setup, budget="quick")
    storage = str(tmp_path / "fix.journal")
    made = run_module.help_fix(setup, storage=storage, budget="quick")
    assert made >= 3  # the unchanged setup on both seeds, and a screening run at least
    calls = _counted(monkeypatch)
    shared = fitdoctor.fix(setup=setup, budget="quick", storage=storage)
    assert decisions(shared) == decisions(alone)
    keys = Counter(t.user_attrs[KEY_ATTR] for t in completed_runs(storage))
    assert max(keys.values()) == 1  # no run was trained twice
    assert len(calls) == len(keys) - made  # the fix trained only what the helper could not know


def test_fix_with_two_workers_decides_as_one(setup_file, tmp_path):
    alone = fitdoctor.fix(setup=fitdoctor.load_setup(setup_file), budget="quick")
    proc = fitdoctor_command("fix", str(setup_file), "--out", str(tmp_path / "out"),
                             "--budget", "quick", "--workers", "2",
                             "--json", str(tmp_path / "fix.json"), cwd=tmp_path)
    output, _ = proc.communicate(timeout=900)
    assert proc.returncode == 0, output
    data = json.loads((tmp_path / "fix.json").read_text())
    assert json_decisions(data) == decisions(alone)
    runs = completed_runs(str(tmp_path / ".fitdoctor" / "fix.journal"))
    keys = Counter(t.user_attrs[KEY_ATTR] for t in runs)
    assert max(keys.values()) == 1
    assert len({t.user_attrs[WORKER_ATTR] for t in runs}) == 2  # both processes trained runs


def test_killing_a_helper_loses_no_run_it_finished(setup_file, tmp_path, monkeypatch):
    storage = str(tmp_path / "fix.journal")
    helper = fitdoctor_command("fix", str(setup_file), "--out", str(tmp_path / "out"),
                               "--budget", "quick", "--storage", storage, "--helper",
                               cwd=tmp_path)
    deadline = time.time() + 600
    while time.time() < deadline and helper.poll() is None:
        if Path(storage).exists() and len(completed_runs(storage)) >= 2:
            break
        time.sleep(0.5)
    helper.send_signal(signal.SIGKILL)  # no chance to give its claim up
    helper.wait(timeout=60)
    finished = {t.user_attrs[KEY_ATTR] for t in completed_runs(storage)}
    assert len(finished) >= 2
    setup = fitdoctor.load_setup(setup_file)
    alone = fitdoctor.fix(setup=setup, budget="quick")
    calls = _counted(monkeypatch)
    resumed = fitdoctor.fix(setup=setup, budget="quick", storage=storage)
    assert decisions(resumed) == decisions(alone)
    keys = {t.user_attrs[KEY_ATTR] for t in completed_runs(storage)}
    assert finished <= keys and len(calls) == len(keys - finished)
