"""fix's run store: a fix that dies loses no finished run; started again, it decides the same."""

from __future__ import annotations

import importlib
import math

import keras
import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import fitdoctor
from fitdoctor.errors import SetupError
from fitdoctor.findings import Finding, Report
from fitdoctor.fix.evaluate import PartScores, Scores
from fitdoctor.fix.store import RunStore, scores_from_json, scores_to_json

run_module = importlib.import_module("fitdoctor.fix.run")  # `fitdoctor.fix` is the function


def _sgd_mlp():
    model = keras.Sequential([keras.Input(shape=(64,)), keras.layers.Dense(32, "relu"),
                              keras.layers.Dense(10, "softmax")])
    model.compile(optimizer=keras.optimizers.SGD(0.5), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


@pytest.fixture(scope="module")
def unscaled():
    """Raw 0-16 digit pixels into SGD at 0.5: standardizing the inputs is what helps."""
    data = load_digits()
    x, y = data.data[:600].astype("float32"), data.target[:600]
    x_tr, x_val, y_tr, y_val = train_test_split(x, y, test_size=200, random_state=0, stratify=y)
    setup = fitdoctor.Setup.from_arrays(_sgd_mlp, (x_tr, y_tr), (x_val, y_val),
                                        {"epochs": 6, "batch_size": 32})
    report = Report(findings=(Finding("unscaled_inputs", "warning", "unscaled"),
                              Finding("overfitting", "warning", "overfits")))
    return setup, report


def _fix(setup, report, **kwargs):
    return fitdoctor.fix(setup=setup, report=report, budget="quick",
                         remedies=["standardize_inputs", "l2_penalty"], **kwargs)


class _Crash(BaseException):
    """The process dying mid-run (fix reports a remedy's Exception and goes on; not this)."""


def _counted(monkeypatch, fail_after: int | None = None) -> list[int]:
    calls: list[int] = []
    original = run_module.train_and_score

    def counted(*args, **kwargs):
        if fail_after is not None and len(calls) == fail_after:
            raise _Crash("the machine went down")
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(run_module, "train_and_score", counted)
    return calls


def _decisions(result):
    return [(t.label, t.stage, t.status) for t in result.trials], result.applied


def test_scores_go_through_json_and_back_with_non_finite_values():
    part = PartScores(3, (0.5, 0.25), (0.5, 0.25), (1.0, math.inf),
                      per_row=np.array([[1.0, 0.0, -math.inf], [0.0, 1.0, 1.0]]))
    scores = Scores((0.9, math.nan), (0.9, math.nan), (0.3, math.nan), (1.5, 2.0), None, part)
    back = scores_from_json(scores_to_json(scores))
    assert back.score[0] == 0.9 and math.isnan(back.score[1])
    assert back.held_back.val_loss == (1.0, math.inf)
    np.testing.assert_array_equal(back.held_back.per_row, part.per_row)
    assert back.fit_seconds == (1.5, 2.0) and back.model is None


def test_a_fix_started_again_after_a_crash_retrains_nothing_it_finished(unscaled, tmp_path,
                                                                       monkeypatch):
    setup, report = unscaled
    plain = _fix(setup, report)  # no store: what fix decides
    calls = _counted(monkeypatch)
    uninterrupted = _fix(setup, report, storage=str(tmp_path / "whole.journal"))
    runs = len(calls)  # with a store, one call per run
    monkeypatch.undo()

    storage = str(tmp_path / "fix.journal")
    _counted(monkeypatch, fail_after=3)
    with pytest.raises(_Crash, match="went down"):
        _fix(setup, report, storage=storage)
    monkeypatch.undo()
    fingerprint = run_module.fingerprint(setup, (0, 1), "quick",
                                         run_module.split_validation(setup, 0),
                                         run_module.NoiseRule(0.01, 2.0, 2))
    assert len(RunStore.open(storage, "fix", fingerprint)) == 3  # recorded as each finished

    calls = _counted(monkeypatch)
    resumed = _fix(setup, report, storage=storage)
    assert runs > 3 and len(calls) == runs - 3  # only the runs the crash cut off
    assert _decisions(resumed) == _decisions(uninterrupted) == _decisions(plain)
    assert resumed.applied == ("standardize_inputs",)
    assert resumed.before["val_accuracy"] == pytest.approx(uninterrupted.before["val_accuracy"])
    assert resumed.after["val_accuracy"] == pytest.approx(uninterrupted.after["val_accuracy"])
    assert resumed.model is not None


def test_a_study_made_for_another_setup_is_refused(unscaled, tmp_path):
    setup, _ = unscaled
    storage = str(tmp_path / "fix.journal")
    rule = run_module.NoiseRule(0.01, 2.0, 2)
    RunStore.open(storage, "fix", run_module.fingerprint(setup, (0, 1), "quick", None, rule))
    again = RunStore.open(storage, "fix", run_module.fingerprint(setup, (0, 1), "quick", None,
                                                                 rule))
    assert len(again) == 0  # the same setup opens its own study
    other = setup.replace(fit={**setup.fit, "epochs": 3})
    with pytest.raises(SetupError, match="another setup"):
        RunStore.open(storage, "fix", run_module.fingerprint(other, (0, 1), "quick", None, rule))
