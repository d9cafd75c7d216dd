"""The terminal report: rank order with role labels, wrapped titles, the headline line."""

from __future__ import annotations

import dataclasses
import math

import keras
import numpy as np
import pytest
from rich.console import Console

import fitdoctor
from fitdoctor.findings import Finding, Report, Role
from fitdoctor.report.summary import Headline, headline, role_label
from fitdoctor.report.terminal import render_report
from tests import html_samples

LONG_TITLE = ("the validation loss stopped improving after epoch three while the training loss "
              "kept falling, which is what a network memorising its training rows looks like")


def _text(report: Report, width: int = 60) -> str:
    console = Console(width=width, record=True, color_system=None)
    render_report(report, console)
    return console.export_text()


def test_findings_show_in_report_order_with_cause_and_explained_by_labels():
    report = html_samples.report()
    text = _text(report)
    positions = [text.index(f"{i}. {f.severity.value.upper()} {f.id}")
                 for i, f in enumerate(report.findings, 1)]
    assert positions == sorted(positions)
    assert "lr_too_high  [cause]" in text
    assert "nan_loss  [explained by lr_too_high]" in text
    assert [role_label(f) for f in report.findings] == [
        "cause", "explained by lr_too_high", "cause", "cause", "cause"]


def test_a_symptom_whose_explainer_is_absent_is_labelled_a_cause():
    symptom = Finding("nan_loss", "critical", "loss became NaN", role=Role.SYMPTOM)
    other = Finding("dead_relu", "warning", "dead units", explains=("vanishing_gradients",))
    report = Report(findings=(symptom, other))
    assert [role_label(f) for f in report.findings] == ["cause", "cause"]
    assert "[explained by" not in _text(report)


def test_two_explainers_are_both_named_and_rank_above_what_they_explain():
    symptom = Finding("nan_loss", "critical", "loss became NaN", role=Role.SYMPTOM)
    causes = (Finding("lr_too_high", "critical", "lr", explains=("nan_loss",)),
              Finding("missing_values", "critical", "NaN inputs", explains=("nan_loss",)))
    report = Report(findings=(symptom, *causes))
    assert report.ids()[-1] == "nan_loss"
    label = role_label(report.get("nan_loss"))
    assert label.startswith("explained by ") and set(label[13:].split(", ")) == {
        "lr_too_high", "missing_values"}
    assert f"nan_loss  [{label}]" in _text(report, width=120)


def test_a_long_title_wraps_in_a_narrow_terminal_instead_of_being_cut():
    report = Report(findings=(Finding("overfitting", "warning", LONG_TITLE, {"gap": 0.2}),))
    text = _text(report, width=60)
    assert "…" not in text
    words = [w for line in text.splitlines() for w in line.strip("│╭╮╰╯─ ").split()]
    assert " ".join(LONG_TITLE.split()) in " ".join(words)
    assert max(len(line) for line in text.splitlines()) <= 60


def test_headline_states_network_baseline_and_cost_in_plain_fits():
    report = html_samples.report()
    report = dataclasses.replace(
        report, timings={"total": 12.0},
        measurements={**report.measurements,
                      "probe_run": {**report.measurements["probe_run"], "fit_seconds": [5.0]}})
    line = headline(report)
    assert line == Headline(metric="accuracy", network=0.65, baseline="svm_rbf",
                            baseline_score=0.97, seconds=12.0, plain_fit=5.0)
    assert line.cost == pytest.approx(2.4)
    assert line.text() == ("validation accuracy: your network 0.65, best baseline svm_rbf 0.97"
                           " · diagnosis 12.0 s = 2.4× one plain fit (5.0 s)")
    assert line.text() in _text(report, width=200)


def test_headline_without_measurements_says_nothing_it_did_not_measure():
    line = headline(Report(findings=()))
    assert line.network is None and line.baseline is None and line.cost is None
    assert line.text() == ""
    assert "No problems found" in _text(Report(findings=()))


@pytest.mark.slow
def test_headline_of_a_real_quick_diagnosis():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(240, 6)).astype("float32")
    y = (x[:, 0] + x[:, 1] > 0).astype("int64")

    def build():
        model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(8, activation="relu"),
                                  keras.layers.Dense(1, activation="sigmoid")])
        model.compile("adam", "binary_crossentropy", metrics=["accuracy"])
        return model

    setup = fitdoctor.Setup.from_arrays(build, (x[:180], y[:180]), (x[180:], y[180:]),
                                        {"epochs": 3, "batch_size": 32})
    report = fitdoctor.diagnose(setup=setup, budget="quick", checks=["baseline_beats_model"])
    line = headline(report)
    probe, baselines = report.measurements["probe_run"], report.measurements["baselines"]
    assert line.metric == "accuracy"
    assert line.network == max(probe["history"]["val_accuracy"])
    best = next(s for s in baselines["scores"] if s["name"] == baselines["best"])
    assert (line.baseline, line.baseline_score) == (baselines["best"], best["val_score"])
    assert line.plain_fit == probe["fit_seconds"][0]
    assert line.cost == pytest.approx(report.timings["total"] / probe["fit_seconds"][0])
    assert math.isfinite(line.cost) and line.cost > 1  # the diagnosis includes the probe fit
    assert f"one plain fit ({line.plain_fit:.1f} s)" in _text(report, width=200)


def test_the_notes_say_how_the_data_was_split_and_sampled():
    from fitdoctor.report.summary import data_notes

    assert data_notes({"validation": "given"}) == []
    held, = data_notes({"validation": "held_out"})
    assert "20 % of the training rows were held out" in held
    split, sampled = data_notes({"validation": "validation_split", "sampled": True,
                                 "n_train": 20000, "input": "tf.data"})
    assert "validation_split" in split
    assert "20000 training rows sampled from your tf.data input" in sampled
