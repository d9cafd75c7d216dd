"""`fitdoctor.fix` and `fitdoctor fix`: remedies kept only when they beat noise, outputs written."""

from __future__ import annotations

import json
import math
import textwrap
from pathlib import Path

import keras
import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from typer.testing import CliRunner

import fitdoctor
from fitdoctor.cli import app
from fitdoctor.findings import Finding, Report
from fitdoctor.fix import CandidateStatus, Stage
from fitdoctor.fix.evaluate import accuracy, split_validation
from fitdoctor.fix.remedies.base import Remedy

CASES = Path(__file__).resolve().parents[1] / "bench" / "cases"

def _mlp(lr: float = 1e-3, optimizer: str = "adam"):
    def build():
        model = keras.Sequential([
            keras.Input(shape=(64,)),
            keras.layers.Dense(32, activation="relu"),
            keras.layers.Dense(10, activation="softmax"),
        ])
        opt = keras.optimizers.Adam(lr) if optimizer == "adam" else keras.optimizers.SGD(lr)
        model.compile(optimizer=opt, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        return model

    return build


@pytest.fixture(scope="module")
def small_digits():
    """600 digits rows, raw 0-16 pixels, split 2:1 stratified."""
    data = load_digits()
    x, y = data.data[:600].astype("float32"), data.target[:600]
    x_tr, x_val, y_tr, y_val = train_test_split(x, y, test_size=200, random_state=0, stratify=y)
    return (x_tr, y_tr), (x_val, y_val)


def _report(*findings: Finding) -> Report:
    return Report(findings=findings)


def _record_runs(monkeypatch) -> list:
    """A list that each `Setup.train` call appends `(seed, epochs)` to (progress messages may
    be appended to it too)."""
    events: list = []
    train = fitdoctor.Setup.train

    def recorded(self, seed, **kwargs):
        events.append((seed, kwargs.get("epochs")))
        return train(self, seed, **kwargs)

    monkeypatch.setattr(fitdoctor.Setup, "train", recorded)
    return events


def test_fix_standardizes_unscaled_inputs_and_writes_outputs(small_digits, tmp_path):
    (x, y), val = small_digits
    setup = fitdoctor.Setup.from_arrays(_mlp(0.5, "sgd"), (x, y), val,
                                        {"epochs": 8, "batch_size": 32})
    report = fitdoctor.diagnose(setup=setup, budget="quick", checks=["unscaled_inputs"])
    assert report.ids() == ["unscaled_inputs"]
    before_arrays = x.copy()
    result = fitdoctor.fix(setup=setup, report=report, out=tmp_path, budget="quick")
    assert result.applied == ("standardize_inputs",)
    assert result.after["val_accuracy"] > result.before["val_accuracy"] + 0.3
    assert np.array_equal(x, before_arrays)
    data = json.loads((tmp_path / "fix.json").read_text())
    assert data["applied"] == ["standardize_inputs"]
    assert set(data["before"]) >= {"val_accuracy", "val_loss"}
    assert data["remedies"][0]["status"] == "accepted"
    assert result.trials[0].status is CandidateStatus.ACCEPTED and result.trials[0].chosen
    model = keras.saving.load_model(tmp_path / "model.keras")
    pred = keras.ops.convert_to_numpy(model(val[0]))
    held = split_validation(setup, seed=0).held_back  # before/after are the held-back rows'
    assert accuracy(pred[held], val[1][held], setup.task) == pytest.approx(
        result.after["per_seed"]["val_accuracy"][0])
    text = (tmp_path / "fix.md").read_text()
    assert "keras.layers.Normalization" in text
    # a change was confirmed, so your setup was trained on both seeds too
    assert data["runs"]["unchanged_seeds"] == 2 and "only:" not in text


def test_remedy_that_hurts_is_rejected(small_digits, tmp_path):
    (x, y), val = small_digits
    setup = fitdoctor.Setup.from_arrays(_mlp(), (x / 16, y), (val[0] / 16, val[1]),
                                        {"epochs": 8, "batch_size": 32})
    harmful = Finding("lr_too_low", "warning", "lr too low", {"suggested_lr": 5.0})
    result = fitdoctor.fix(setup=setup, report=_report(harmful), out=tmp_path, budget="quick")
    assert result.applied == ()
    assert result.after == result.before
    (trial,) = result.rejected
    assert trial.remedy == "learning_rate" and trial.strength == 5.0
    assert trial.gain < 0 and "worse" in trial.reason
    # worse than your setup's run on the screening seed: rejected without a confirming run
    assert len(trial.per_seed["val_accuracy"]) == 1 and "not confirmed" in trial.reason
    assert trial.gain_points == pytest.approx(100 * trial.gain)
    text = (tmp_path / "fix.md").read_text()
    assert "No change beat run-to-run noise" in text and "`learning_rate`" in text
    assert "### For `lr_too_low`" in text
    (row,) = [line for line in text.splitlines() if line.startswith("| `learning_rate`")]
    assert f"{trial.gain_points:+.1f} points" in row and "rejected: made it worse" in row


def test_a_try_on_top_that_loses_on_the_screening_seed_costs_one_run(small_digits):
    """Standardizing is kept; a learning rate of 5 then hurts on top of it, seen on one seed."""
    (x, y), val = small_digits
    setup = fitdoctor.Setup.from_arrays(_mlp(0.5, "sgd"), (x, y), val,
                                        {"epochs": 8, "batch_size": 32})
    report = _report(Finding("unscaled_inputs", "warning", "unscaled"),
                     Finding("lr_too_low", "warning", "lr too low", {"suggested_lr": 5.0}))
    result = fitdoctor.fix(setup=setup, report=report, budget="quick",
                           remedies=["standardize_inputs", "learning_rate"])
    assert result.applied == ("standardize_inputs",)
    (kept,) = [t for t in result.trials if t.remedy == "standardize_inputs"]
    alone, on_top = [t for t in result.trials if t.remedy == "learning_rate"]
    assert kept.status is CandidateStatus.ACCEPTED and len(kept.per_seed["val_accuracy"]) == 2
    assert alone.stage is Stage.ALONE and alone.status is CandidateStatus.REJECTED
    assert on_top.stage is Stage.COMBINED
    assert on_top.status is CandidateStatus.REJECTED and "not confirmed" in on_top.reason
    assert "on top of standardize_inputs" in on_top.reason
    assert len(on_top.per_seed["val_accuracy"]) == 1


def test_a_symptom_of_a_treated_cause_is_searched_on_top_only(small_digits, tmp_path):
    """Underfitting explained by unscaled inputs: once standardizing is kept, more capacity is
    searched on top of it, never alone against the raw pixels. Its healthy twin: the same
    findings with no explanation between them, where more capacity is searched alone first."""
    (x, y), val = small_digits
    setup = fitdoctor.Setup.from_arrays(_mlp(0.5, "sgd"), (x, y), val,
                                        {"epochs": 8, "batch_size": 32})
    kwargs = {"setup": setup, "budget": "quick", "remedies": ["standardize_inputs",
                                                              "more_capacity"]}
    underfits = Finding("underfitting", "warning", "underfits")
    cause = Finding("unscaled_inputs", "warning", "unscaled", explains=("underfitting",))
    report = _report(cause, underfits)
    assert report.problems[1].explained_by == ("unscaled_inputs",)
    result = fitdoctor.fix(report=report, out=tmp_path, **kwargs)
    (kept,) = [t for t in result.trials if t.remedy == "standardize_inputs"]
    assert kept.stage is Stage.ALONE and kept.status is CandidateStatus.ACCEPTED
    capacity = [t for t in result.trials if t.remedy == "more_capacity"]
    assert capacity and all(t.stage is Stage.COMBINED for t in capacity)
    # judged at full length against the combination's runs; screened on 3 of the 8 epochs
    # against the combination's run of that length
    full = [t for t in capacity if t.trained and t.epochs is None]
    short = [t for t in capacity if t.trained and t.epochs is not None]
    assert all(t.reference == pytest.approx(kept.score) for t in full)
    assert short and all(t.epochs == 3 for t in short)
    assert len({t.reference for t in short}) == 1  # the one shortened run of the combination
    (chosen,) = [t for t in capacity if t.chosen]
    assert "on top of standardize_inputs" in chosen.reason
    (outcome,) = [o for o in result.outcomes() if o.remedy == "more_capacity"]
    assert outcome.best == chosen and outcome.strengths == tuple(t.strength for t in capacity)
    assert "searched on top of the changes kept before it" in (tmp_path / "fix.md").read_text()

    twin = fitdoctor.fix(report=_report(Finding("unscaled_inputs", "warning", "unscaled"),
                                        underfits), **kwargs)
    assert any(t.remedy == "more_capacity" and t.stage is Stage.ALONE for t in twin.trials)


def test_the_diagnosis_probe_run_is_the_first_run_of_your_setup(small_digits, monkeypatch):
    """fix scores the model the diagnosis trained on the first seed instead of training it again."""
    import importlib

    probe_module = importlib.import_module("fitdoctor.evidence.probe_run")
    runs = []

    def recorded(*args, **kwargs):
        runs.append(original(*args, **kwargs))
        return runs[-1]

    original = probe_module.train_once
    monkeypatch.setattr(probe_module, "train_once", recorded)
    (x, y), val = small_digits
    setup = fitdoctor.Setup.from_arrays(_mlp(), (x / 16, y), (val[0] / 16, val[1]),
                                        {"epochs": 4, "batch_size": 32})
    trained = []
    monkeypatch.setattr(fitdoctor.Setup, "train", _counting(fitdoctor.Setup.train, trained))
    result = fitdoctor.fix(setup=setup, budget="quick", seed=3, remedies=[])
    assert result.applied == () and len(runs) == 1
    assert result.model is runs[0].model  # the unchanged setup's first run: the probe's
    # with nothing to confirm, your setup's second seed is never needed, nor trained
    assert not [seed for seed, plain in trained if plain]
    assert result.seeds == (3, 4) and result.runs["unchanged_seeds"] == 1
    assert result.timings["plain_fit"] == pytest.approx(runs[0].seconds, abs=2e-3)
    assert len(result.before["per_seed"]["val_accuracy"]) == 1


def test_a_spent_budget_skips_what_ranks_after_and_says_so(small_digits, tmp_path,
                                                           monkeypatch):
    """At most two candidate runs: the learning rate, ranked first, is screened on one, and
    rejected there; standardizing would need two (screen and confirm), so it is recorded as
    skipped, never trained."""
    (x, y), val = small_digits
    setup = fitdoctor.Setup.from_arrays(_mlp(0.5, "sgd"), (x, y), val,
                                        {"epochs": 8, "batch_size": 32})
    report = _report(Finding("unscaled_inputs", "warning", "unscaled"),
                     Finding("lr_too_low", "warning", "lr too low", {"suggested_lr": 5.0}))
    trained = []
    monkeypatch.setattr(fitdoctor.Setup, "train", _counting(fitdoctor.Setup.train, trained))
    result = fitdoctor.fix(setup=setup, report=report, budget="quick", max_runs=2, out=tmp_path,
                           remedies=["standardize_inputs", "learning_rate"])
    assert [t.remedy for t in result.trials] == ["learning_rate", "standardize_inputs"]
    assert result.applied == ()
    # a shortened screening run and a full confirmation on both seeds would need 2.375 runs,
    # so the learning rate is screened at full length
    assert result.runs == {"budget": "quick", "max_runs": 2, "candidate_runs": 1, "skipped": 1,
                           "screen_epochs": None, "epochs": 8, "unchanged_seeds": 1}
    # your setup and the learning rate on the screening seed; with nothing to confirm, your
    # setup's second seed is never trained
    assert trained == [(0, True), (0, True)]
    rejected, skipped = result.trials
    assert rejected.status is CandidateStatus.REJECTED and rejected.trained
    assert skipped.status is CandidateStatus.SKIPPED and skipped.skipped and not skipped.trained
    assert "2 candidate runs were spent" in skipped.reason
    assert "per_seed" not in skipped.to_dict()
    text = (tmp_path / "fix.md").read_text()
    assert "1 of at most 2 candidate runs; 1 left untried" in text
    (row,) = [line for line in text.splitlines() if line.startswith("| `standardize_inputs`")]
    assert "skipped: not tried" in row and "| – | – |" in row


def test_a_remedy_kept_alone_is_not_combined_untried_when_the_budget_is_spent(small_digits):
    """Standardizing and a lower learning rate each help alone; with no runs left to try the
    second on top of the first, it is left out of the fix and marked skipped, with its numbers."""
    (x, y), val = small_digits
    setup = fitdoctor.Setup.from_arrays(_mlp(0.5, "sgd"), (x, y), val,
                                        {"epochs": 8, "batch_size": 32})
    report = _report(Finding("unscaled_inputs", "warning", "unscaled"),
                     Finding("lr_too_high", "warning", "lr too high", {"suggested_lr": 0.01}))
    kwargs = {"setup": setup, "report": report, "budget": "quick",
              "remedies": ["standardize_inputs", "learning_rate"], "grids": {
                  "learning_rate": (0.01,)}}
    # each is screened on 3 of the 8 epochs and confirmed on both seeds: 2 x (3/8 + 2) runs
    bounded = fitdoctor.fix(max_runs=5, **kwargs)
    alone = [t for t in bounded.trials if t.stage is Stage.ALONE]
    assert len(alone) == 2 and all(t.trained for t in alone)
    assert len(bounded.applied) == 1 and bounded.runs["candidate_runs"] == 4.75
    (left_out,) = [t for t in alone if t.label not in bounded.applied]
    assert left_out.status is CandidateStatus.SKIPPED and left_out.trained
    assert "helps alone, but on top of" in left_out.reason and "not kept" in left_out.reason
    (on_top,) = [t for t in bounded.trials if t.stage is Stage.COMBINED]
    assert on_top.skipped and on_top.label == left_out.label
    # the healthy twin: with no bound, the same two remedies are tried alone with the same
    # numbers, and the second is tried on top
    free = fitdoctor.fix(max_runs=100, **kwargs)
    assert free.runs["skipped"] == 0
    assert [t.score for t in free.trials if t.stage is Stage.ALONE] == [t.score for t in alone]
    assert any(t.stage is Stage.COMBINED and t.trained for t in free.trials)


def test_screening_runs_are_shortened_to_a_third_of_the_epochs_never_below_three():
    from fitdoctor.fix.run import screening_epochs

    assert [screening_epochs(e) for e in (1, 3, 4, 8, 30)] == [None, None, 3, 3, 10]


def test_a_remedy_judged_early_is_screened_short_and_confirmed_at_full_length(small_digits,
                                                                             monkeypatch):
    """Standardizing (judged early) is screened on 3 of the 8 epochs, against your setup's run
    of 3 epochs on the same seed, then trained for all 8 on both seeds, and kept with those
    numbers. Its twin, an L2 penalty (whose effect shows late in a run), is screened at full
    length."""
    (x, y), val = small_digits
    setup = fitdoctor.Setup.from_arrays(_mlp(0.5, "sgd"), (x, y), val,
                                        {"epochs": 8, "batch_size": 32})
    report = _report(Finding("unscaled_inputs", "warning", "unscaled"),
                     Finding("overfitting", "warning", "overfits"))
    events = _record_runs(monkeypatch)
    result = fitdoctor.fix(setup=setup, report=report, budget="quick", progress=events.append,
                           remedies=["standardize_inputs", "l2_penalty"],
                           grids={"l2_penalty": (1e-4,)})

    def runs_after(message: str) -> list:
        start = events.index(message) + 1
        end = next((i for i in range(start, len(events)) if isinstance(events[i], str)),
                   len(events))
        return events[start:end]

    assert runs_after("training your setup as given") == [(0, None)]
    # two shortened runs: your setup's on the screening seed, once, and standardizing's
    assert [e for e in events if isinstance(e, tuple) and e[1] is not None] == [(0, 3), (0, 3)]
    assert runs_after("trying standardize_inputs for unscaled_inputs") == [(0, 3)]
    # standardizing on both seeds, then your setup on its second seed, to judge it against
    assert runs_after("confirming standardize_inputs for unscaled_inputs") == [
        (0, None), (1, None), (1, None)]
    assert runs_after("trying l2_penalty(0.0001) for overfitting")[0] == (0, None)
    standardize = next(t for t in result.trials if t.label == "standardize_inputs")
    assert standardize.status is CandidateStatus.ACCEPTED and standardize.epochs is None
    assert len(standardize.per_seed["val_accuracy"]) == 2
    # kept against your setup's full-length runs, not its shortened one
    assert standardize.reference == pytest.approx(result.before["chosen_on"]["score"])
    l2 = next(t for t in result.trials if t.label == "l2_penalty(0.0001)"
              and t.stage is Stage.ALONE)
    assert l2.epochs is None
    assert result.runs["screen_epochs"] == 3 and result.runs["epochs"] == 8
    assert "train 3 of 8 epochs and count that share" in result.runs_text()


def _counting(train, calls):
    """`train`, appending `(seed, whether it is a run of the user's fit as given)` to `calls`:
    no `fit` argument, epochs or callback of fitdoctor's own (how it validates and batches
    aside: the weights are the same)."""
    def wrapped(self, seed, **kwargs):
        calls.append((seed, not set(kwargs) - {"validate", "batched"}))
        return train(self, seed, **kwargs)

    return wrapped


def test_combination_starts_from_the_best_remedy_when_it_beats_the_cause_by_more_than_noise():
    from fitdoctor.fix.evaluate import Scores
    from fitdoctor.fix.records import NoiseRule
    from fitdoctor.fix.run import choose_base

    def scores(*accuracy: float) -> Scores:
        return Scores(accuracy, accuracy, (1.0,) * len(accuracy), (1.0,) * len(accuracy))

    rule = NoiseRule(min_gain=0.01, noise_factor=2.0, n_seeds=2)
    cause, symptom, close = scores(0.60, 0.62), scores(0.95, 0.95), scores(0.94, 0.95)
    assert choose_base([cause, symptom], rule) == 1
    # within noise of the best: the root cause's remedy stays the base
    assert choose_base([close, symptom], rule) == 0


def test_a_remedy_far_behind_a_kept_one_on_screening_is_only_tried_on_top():
    """ReLU units whose biases start at -5 (the bench case): reinitializing revives them at
    once, SELU more slowly. SELU's screening run gains, but far less than reinitializing's did,
    so it is not confirmed alone (two full runs saved) and is tried on top instead."""
    setup = fitdoctor.load_setup(CASES / "dead_relu_negative_bias.py", seed=0)
    result = fitdoctor.fix(setup=setup, report=_report(Finding("dead_relu", "critical", "dead")),
                           budget="quick", remedies=["reinitialize", "selu_activation"])
    assert result.applied[0] == "reinitialize"
    alone, on_top = [t for t in result.trials if t.remedy == "selu_activation"]
    assert alone.stage is Stage.ALONE and alone.epochs == 5
    assert alone.gain > result.threshold  # it did gain, alone
    assert "reinitialize, kept, gained" in alone.reason or "not kept alone" in alone.reason
    assert len(alone.per_seed["val_accuracy"]) == 1  # never confirmed alone
    assert on_top.stage is Stage.COMBINED and on_top.trained
    assert "on top of reinitialize" in on_top.reason


def test_a_gain_seen_only_early_stops_its_confirmation_after_one_full_length_seed(monkeypatch):
    """Three well-separated blobs: SGD at a small rate is still at 81 % after 10 of 30 epochs
    on seed 0, where Adam is already at 100 %, so Adam passes its shortened screening run;
    by epoch 30 both are at 100 % on that seed. The confirmation stops there: Adam is not
    trained on seed 1, nor your setup on it. (Its twin, a gain that holds at full length, is
    confirmed on both seeds: `test_a_remedy_judged_early_is_screened_short_and_...`.)"""
    from sklearn.datasets import make_blobs

    x, y = make_blobs(n_samples=600, centers=3, n_features=4, cluster_std=1.0, random_state=0)
    x = ((x - x.mean(0)) / x.std(0)).astype("float32")

    def build():
        model = keras.Sequential([keras.Input(shape=(4,)),
                                  keras.layers.Dense(16, activation="relu"),
                                  keras.layers.Dense(3, activation="softmax")])
        model.compile(optimizer=keras.optimizers.SGD(0.003),
                      loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        return model

    setup = fitdoctor.Setup.from_arrays(build, (x[:400], y[:400]), (x[400:], y[400:]),
                                        {"epochs": 30, "batch_size": 32})
    events = _record_runs(monkeypatch)
    result = fitdoctor.fix(setup=setup, report=_report(Finding("lr_too_low", "warning", "slow")),
                           budget="quick", remedies=["switch_to_adam"], progress=events.append)
    assert events[events.index("trying switch_to_adam for lr_too_low") + 1:] == [
        (0, 10), "confirming switch_to_adam for lr_too_low", (0, None)]
    (adam,) = result.trials
    assert adam.status is CandidateStatus.REJECTED and adam.epochs is None
    assert adam.reason == ("no gain at full length on seed 0, so not confirmed on the other "
                           "seeds")
    assert len(adam.per_seed["val_accuracy"]) == 1
    assert result.applied == () and result.runs["unchanged_seeds"] == 1


def test_a_remedy_outscreened_by_a_kept_one_is_not_confirmed_alone():
    """Successive halving across remedies: one whose screening gain trails a kept remedy's by
    more than two runs of your setup differ is only tried on top; one within that is confirmed."""
    from fitdoctor.fix.evaluate import Scores
    from fitdoctor.fix.records import NoiseRule
    from fitdoctor.fix.run import outscreened

    rule = NoiseRule(min_gain=0.01, noise_factor=2.0, n_seeds=2)
    against = Scores((0.10,), (0.10,), (2.3,), (1.0,))
    # the kept remedy gained 88 points on its screening run, this one 81: 7 points behind
    assert outscreened(0.81, 0.88, against, noise=0.003, rule=rule)
    # the healthy twins: 0.5 points behind, or 7 behind where your setup's runs differ by 3
    assert not outscreened(0.875, 0.88, against, noise=0.003, rule=rule)
    assert not outscreened(0.81, 0.88, against, noise=0.03, rule=rule)
    # a screening run that diverged is no evidence either way
    assert not outscreened(math.nan, 0.88, against, noise=0.003, rule=rule)


@pytest.mark.slow
def test_over_strong_setting_stops_the_grid_search(small_digits):
    (x, y), val = small_digits
    setup = fitdoctor.Setup.from_arrays(_mlp(), (x / 16, y), (val[0] / 16, val[1]),
                                        {"epochs": 6, "batch_size": 32})
    overfit = Finding("overfitting", "warning", "overfits")
    result = fitdoctor.fix(setup=setup, report=_report(overfit), budget="quick",
                           remedies=["l2_penalty"], grids={"l2_penalty": (1e-5, 3.0, 10.0)})
    assert [t.strength for t in result.trials] == [1e-5, 3.0]
    assert result.trials[1].reason.startswith("over-strong")
    assert result.trials[0].chosen and not result.trials[1].chosen
    assert "l2_penalty(3.0)" not in result.applied


def test_healthy_setup_comes_out_unchanged(healthy_setup, tmp_path):
    result = fitdoctor.fix(setup=healthy_setup, report=_report(), out=tmp_path, budget="quick")
    assert result.applied == () and result.trials == ()
    assert result.after == result.before and result.before["val_accuracy"] > 0.9
    assert len(result.seeds) == 2 and result.threshold >= 0.01
    assert keras.saving.load_model(tmp_path / "model.keras") is not None
    # nothing to confirm: the second seed of your setup was never needed, and fix.md says so
    assert result.runs["unchanged_seeds"] == 1
    assert "trained on seed 0 only" in (tmp_path / "fix.md").read_text()


def test_subclassed_model_gets_the_change_as_advice(small_digits, tmp_path):
    class Tiny(keras.Model):
        def __init__(self):
            super().__init__()
            self.hidden = keras.layers.Dense(16, activation="relu")
            self.out = keras.layers.Dense(10, activation="softmax")

        def call(self, x):
            return self.out(self.hidden(x))

    def build():
        model = Tiny()
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        return model

    (x, y), val = small_digits
    setup = fitdoctor.Setup.from_arrays(build, (x / 16, y), (val[0] / 16, val[1]), {"epochs": 2})
    overfit = Finding("overfitting", "warning", "overfits")
    result = fitdoctor.fix(setup=setup, report=_report(overfit), out=tmp_path,
                           remedies=["l2_penalty"])
    (advice,) = result.advice
    assert advice.remedy == "l2_penalty" and "subclassed" in advice.reason
    assert "kernel_regularizer" in advice.code
    assert "could not make itself" in (tmp_path / "fix.md").read_text()


def test_fix_rejects_bad_arguments(healthy_setup):
    with pytest.raises(fitdoctor.SetupError, match="unknown remedy"):
        fitdoctor.fix(setup=healthy_setup, report=_report(), remedies=["nope"])
    with pytest.raises(fitdoctor.SetupError, match="min_gain must be >= 0. Received"):
        fitdoctor.fix(setup=healthy_setup, report=_report(), min_gain=-1)
    with pytest.raises(fitdoctor.SetupError, match="needs build_model"):
        fitdoctor.fix()
    with pytest.raises(fitdoctor.SetupError, match=r"max_runs \(--max-runs\) must be a whole "
                                                   r"number of at least 2 .* Received: "
                                                   r"max_runs=1"):
        fitdoctor.fix(setup=healthy_setup, report=_report(), budget="quick", max_runs=1)


def test_cli_fix_missing_setup_is_a_one_line_error(tmp_path):
    result = CliRunner().invoke(app, ["fix", str(tmp_path / "nope.py"), "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert "setup file not found" in result.output


def test_a_storage_fix_cannot_use_is_a_one_line_error(healthy_setup):
    with pytest.raises(fitdoctor.SetupError, match="storage must be a journal file path"):
        fitdoctor.fix(setup=healthy_setup, report=_report(), storage="ftp://host/runs")


SETUP_FILE = textwrap.dedent('''
    import keras
    from sklearn.datasets import load_iris
    from sklearn.model_selection import train_test_split


    def load_data():
        x, y = load_iris(return_X_y=True)
        x_tr, x_val, y_tr, y_val = train_test_split(x * 100, y, test_size=0.3, random_state=0,
                                                    stratify=y)
        return (x_tr.astype("float32"), y_tr), (x_val.astype("float32"), y_val)


    def build_model():
        model = keras.Sequential([keras.Input(shape=(4,)),
                                  keras.layers.Dense(16, activation="relu"),
                                  keras.layers.Dense(3, activation="softmax")])
        model.compile(optimizer=keras.optimizers.SGD(0.05),
                      loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        return model


    FIT = {"epochs": 20, "batch_size": 16}
''')


def test_cli_fix_max_runs_below_the_seeds_is_a_one_line_error(tmp_path):
    setup_file = tmp_path / "iris_raw.py"
    setup_file.write_text(SETUP_FILE)
    result = CliRunner().invoke(app, ["fix", str(setup_file), "--out", str(tmp_path / "o"),
                                      "--budget", "thorough", "--max-runs", "2"])
    assert result.exit_code == 2
    [line] = [x for x in result.output.splitlines() if x.strip()]
    assert line.startswith("error: max_runs (--max-runs) must be a whole number of at least 3")
    assert not (tmp_path / "o").exists()


@pytest.mark.slow
def test_cli_fix_end_to_end(tmp_path):
    """Unscaled iris (features x100): diagnose names it, fix standardizes, files are written."""
    setup_file = tmp_path / "iris_raw.py"
    setup_file.write_text(SETUP_FILE)
    original = setup_file.read_text()
    out = tmp_path / "fixed"
    journal = tmp_path / "runs" / "fix.journal"
    command = ["fix", str(setup_file), "--out", str(out), "--budget", "quick",
               "--storage", str(journal)]
    result = CliRunner().invoke(app, [*command, "--json", str(tmp_path / "r.json")])
    assert result.exit_code == 0, result.output
    data = json.loads((tmp_path / "r.json").read_text())
    assert "unscaled_inputs" in data["diagnosis"]
    assert "standardize_inputs" in data["applied"]
    assert data["after"]["val_accuracy"] > data["before"]["val_accuracy"]
    assert sorted(p.name for p in out.iterdir()) == ["fix.json", "fix.md", "model.keras"]
    assert setup_file.read_text() == original
    # the same command again reads every run from the journal and decides the same
    again = CliRunner().invoke(app, [*command, "--json", str(tmp_path / "again.json")])
    assert again.exit_code == 0, again.output
    second = json.loads((tmp_path / "again.json").read_text())
    assert second["applied"] == data["applied"]
    assert second["after"]["val_accuracy"] == pytest.approx(data["after"]["val_accuracy"])


CATSDOGS = Path(__file__).parent / "data" / "catsdogs"


def _photos(folder: Path, size: int = 32):
    import tensorflow as tf

    xs, ys = [], []
    for label, name in enumerate(("cats", "dogs")):
        for path in sorted((folder / name).glob("*.jpg")):
            image = tf.io.decode_jpeg(tf.io.read_file(str(path)), channels=3)
            xs.append(tf.image.resize(image, (size, size)).numpy())
            ys.append(label)
    return np.stack(xs).astype("float32") / 255.0, np.asarray(ys)


def _cnn():
    model = keras.Sequential([
        keras.Input(shape=(32, 32, 3)),
        keras.layers.Conv2D(16, 3, activation="relu"),
        keras.layers.MaxPooling2D(),
        keras.layers.Conv2D(32, 3, activation="relu"),
        keras.layers.MaxPooling2D(),
        keras.layers.Flatten(),
        keras.layers.Dense(64, activation="relu"),
        keras.layers.Dense(1, activation="sigmoid"),
    ])
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="binary_crossentropy",
                  metrics=["accuracy"])
    return model


@pytest.mark.slow
def test_over_strong_augmentation_on_real_photos_is_rejected(tmp_path):
    """300 cat/dog photos: augmentation at strength 0.9 wrecks them and is never kept."""
    setup = fitdoctor.Setup.from_arrays(_cnn, _photos(CATSDOGS / "train"),
                                        _photos(CATSDOGS / "val"), {"epochs": 15})
    overfit = Finding("overfitting", "warning", "overfits")
    result = fitdoctor.fix(setup=setup, report=_report(overfit), out=tmp_path, budget="quick",
                           remedies=["image_augmentation"],
                           grids={"image_augmentation": (0.05, 0.9)})
    strengths = {t.strength: t for t in result.trials}
    assert set(strengths) == {0.05, 0.9}
    assert strengths[0.9].status is CandidateStatus.REJECTED
    assert strengths[0.9].val_accuracy < strengths[0.05].val_accuracy
    assert "image_augmentation(0.9)" not in result.applied
    assert result.after["val_accuracy"] >= result.before["val_accuracy"]


class _ReshuffleRows(Remedy):
    """A remedy that changes nothing but the order of the training rows: only noise
    (not registered; the test hands it to fix)."""

    id = "reshuffle_rows"
    treats = ("overfitting",)
    ordered_grid = False

    def strengths(self, setup, finding):
        return (1, 2, 3, 4)

    def apply(self, setup, finding, strength=None):
        order = np.random.default_rng(strength).permutation(setup.n_train)
        return setup.subset(order)

    def code(self, setup, finding, strength=None):
        return f"order = np.random.default_rng({strength}).permutation(len(x_train))"

    def label(self, strength):
        return f"reshuffle_rows({strength})"


@pytest.mark.slow
def test_a_remedy_that_does_nothing_is_rejected(small_digits, monkeypatch):
    """Best of four reshuffles, each only noise: fix must keep none of them."""
    (x, y), val = small_digits
    setup = fitdoctor.Setup.from_arrays(_mlp(), (x / 16, y), (val[0] / 16, val[1]),
                                        {"epochs": 4, "batch_size": 32})
    import importlib

    monkeypatch.setattr(importlib.import_module("fitdoctor.fix.run"), "remedies_for",
                        lambda finding_id: [_ReshuffleRows()] if finding_id == "overfitting"
                        else [])
    overfit = Finding("overfitting", "warning", "overfits")
    result = fitdoctor.fix(setup=setup, report=_report(overfit), budget="quick", seed=0)
    assert [t.strength for t in result.trials] == [1, 2, 3, 4]
    assert result.applied == ()
    assert all(t.status is not CandidateStatus.ACCEPTED for t in result.trials)


def test_before_and_after_are_measured_on_validation_rows_no_decision_saw(small_digits,
                                                                          tmp_path):
    (x, y), val = small_digits
    setup = fitdoctor.Setup.from_arrays(_mlp(0.5, "sgd"), (x, y), val,
                                        {"epochs": 8, "batch_size": 32})
    unscaled = Finding("unscaled_inputs", "warning", "unscaled")
    result = fitdoctor.fix(setup=setup, report=_report(unscaled), out=tmp_path, budget="quick",
                           remedies=["standardize_inputs"])
    v = result.validation
    assert v["rows_chosen_on"] + v["rows_held_back"] == len(val[1]) == 200
    assert abs(v["rows_chosen_on"] - v["rows_held_back"]) <= 1
    # the held-back numbers are the report's before/after; the choosing rows' are apart
    assert result.before["chosen_on"]["score"] == pytest.approx(result.trials[0].reference)
    assert v["held_back_gain"] == pytest.approx(
        result.after["val_accuracy"] - result.before["val_accuracy"])
    assert v["held_back_gain"] > 0.3 and 0 < v["held_back_gain_se"] < 0.1
    data = json.loads((tmp_path / "fix.json").read_text())
    assert data["validation"]["rows_held_back"] == v["rows_held_back"]
    assert "which no decision saw" in (tmp_path / "fix.md").read_text()


def test_a_tiny_validation_set_is_not_split_and_the_report_says_so(small_digits):
    (x, y), (xv, yv) = small_digits
    setup = fitdoctor.Setup.from_arrays(_mlp(), (x / 16, y), (xv[:30] / 16, yv[:30]),
                                        {"epochs": 1, "batch_size": 32})
    result = fitdoctor.fix(setup=setup, report=_report(), budget="quick")
    assert result.validation["rows_held_back"] == 0
    assert "too small to hold a part back" in result.validation_text()
    assert "chosen_on" not in result.before


def test_reads_validation_tells_callbacks_that_act_on_a_validation_metric():
    from fitdoctor.keras_vocab import reads_validation

    assert reads_validation([keras.callbacks.EarlyStopping(monitor="val_loss")])
    assert reads_validation([keras.callbacks.ReduceLROnPlateau(monitor="val_accuracy")])
    assert reads_validation([keras.callbacks.LambdaCallback()])  # yours: assumed to read it
    assert not reads_validation(None)
    assert not reads_validation([keras.callbacks.EarlyStopping(monitor="loss"),
                                 keras.callbacks.TerminateOnNaN(),
                                 keras.callbacks.LearningRateScheduler(lambda e, lr: lr)])


def test_candidate_runs_skip_per_epoch_validation_and_score_the_same(small_digits, monkeypatch):
    """fix scores each run's model itself, so a run validates every epoch only when a callback
    acts on it; the weights, and so every score, are those of a run that validated."""
    from fitdoctor.fix.evaluate import original_loss, train_and_score

    (x, y), val = small_digits
    setup = fitdoctor.Setup.from_arrays(_mlp(), (x / 16, y), (val[0] / 16, val[1]),
                                        {"epochs": 3, "batch_size": 32})
    validated: list = []
    train = fitdoctor.Setup.train

    def recorded(self, seed, **kwargs):
        run = train(self, seed, **kwargs)
        validated.append(any(k.startswith("val_") for k in run.history))
        return run

    monkeypatch.setattr(fitdoctor.Setup, "train", recorded)
    quiet = train_and_score(setup, (0,), original_loss(setup))
    assert validated == [False]
    watched = setup.replace(fit={**setup.fit, "callbacks": [
        keras.callbacks.EarlyStopping(monitor="val_loss", patience=50)]})
    loud = train_and_score(watched, (0,), original_loss(setup))
    assert validated == [False, True]
    assert quiet.score == loud.score and quiet.val_loss == loud.val_loss
