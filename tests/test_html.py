"""The HTML report: escaping, self-containment, plots from measurements, CLI options."""

from __future__ import annotations

import dataclasses
import re
import textwrap
from pathlib import Path

import keras
import matplotlib
import numpy as np
import pytest
from typer.testing import CliRunner

import fitdoctor
from fitdoctor.budget import get_budget
from fitdoctor.cli import app
from fitdoctor.diagnose import run_checks
from fitdoctor.evidence import Evidence, EvidenceUnavailable
from fitdoctor.findings import Report
from fitdoctor.report.html import fix_to_html, plots_for, tune_to_html
from fitdoctor.report.plots import REPORT_PLOTS, report_plots
from tests import html_samples
from tests.html_samples import HOSTILE

ESCAPED = "&lt;img src=x onerror=alert(1)&gt;"
NETWORK = re.compile(r"""(?:src|href|action|poster|data)\s*=\s*["']?\s*(?:https?:)?//"""
                     r"""|url\(\s*["']?(?:https?:)?//|@import""", re.I)


def assert_safe(text: str) -> None:
    """No raw hostile markup, no script from user text, nothing fetched from the network."""
    assert HOSTILE not in text
    assert "<script>alert(2)</script>" not in text
    assert "onerror=alert(1)>" not in text.replace(ESCAPED, "")
    assert NETWORK.search(text) is None, NETWORK.search(text)
    assert "<!DOCTYPE svg" not in text and "<?xml" not in text
    assert text.count("<script") == 1  # only the copy-button script


@pytest.fixture(scope="module")
def report_html() -> str:
    return html_samples.report().to_html()


def test_user_text_is_escaped_in_html_and_in_plots(report_html):
    assert_safe(report_html)
    assert ESCAPED in report_html
    # the hostile class and layer names are SVG <text>, escaped by matplotlib
    svg_texts = re.findall(r"<text[^>]*>([^<]*)</text>", report_html)
    assert any(ESCAPED in t for t in svg_texts)
    # a "$" in a class name is a character, not mathtext
    assert any("$x$ dog" in t for t in svg_texts)
    assert "&lt;/code&gt;&lt;/pre&gt;&lt;script&gt;alert(2)&lt;/script&gt;" in report_html


def test_every_plot_is_drawn_from_its_measurements(report_html):
    for key in REPORT_PLOTS:
        assert f'id="plot-{key}"' in report_html, key
    assert report_html.count("<svg") == len(REPORT_PLOTS)
    assert "suggested lr 0.003" in report_html and "your lr 0.5" in report_html
    assert "val loss not finite from epoch 6".replace("val", "validation") in report_html


def test_findings_keep_the_terminal_rank_with_their_plots(report_html):
    report = html_samples.report()
    positions = [report_html.index(f'<span class="fid">{f.id}</span>') for f in report.findings]
    assert positions == sorted(positions)
    first = report_html.split('id="finding-1"')[1].split('id="finding-2"')[0]
    assert "lr_too_high" in first and 'id="plot-lr_range"' in first
    assert plots_for(report.get("class_imbalance")) == ("class_balance",)
    imbalance = report_html.split('id="finding-3"')[1].split('id="finding-4"')[0]
    assert 'id="plot-class_balance"' in imbalance
    assert 'class="copy"' in first
    # the info finding is folded, problems are open
    assert report_html.count("<details><summary><h3>") == 1


def test_missing_or_malformed_measurements_give_no_plot_and_no_error():
    assert report_plots({}) == {}
    garbage = {
        "probe_run": {"history": "not a dict", "monitor": {"samples": [1, None, "x"]}},
        "lr_range": {"lrs": [1e-3], "losses": ["nan"]},
        "data_stats": {"class_counts_train": [1, 2]},
        "learning_curve": {"sizes": [10, 20], "val_scores": [0.5]},
        "baselines": {"scores": "none"},
    }
    assert report_plots(garbage) == {}
    text = Report(findings=(), measurements=garbage).to_html()
    assert "<svg" not in text and "No problems found" in text


def test_rendering_is_deterministic_and_leaves_matplotlib_state_alone():
    before = dict(matplotlib.rcParams)
    report = html_samples.report()
    first = report.to_html()
    assert Report.from_json(report.to_json()).to_html() == first
    assert dict(matplotlib.rcParams) == before
    ids = re.findall(r'\sid="([^"]+)"', first)
    assert len(ids) == len(set(ids)), "element ids clash between plots"


def test_to_html_writes_the_file_and_repr_html_is_a_fragment(tmp_path):
    report = html_samples.report()
    path = tmp_path / "sub" / "report.html"
    text = report.to_html(path)
    assert path.read_text(encoding="utf-8") == text
    assert text.startswith("<!DOCTYPE html>")
    fragment = report._repr_html_()
    assert fragment.startswith('<div class="fd">') and "<html" not in fragment
    assert_safe(fragment)


def test_fix_result_renders_before_after_and_one_row_per_remedy(tmp_path):
    result = html_samples.fix_result()
    text = fix_to_html(result, tmp_path / "fix.html")
    assert_safe(text)
    assert (tmp_path / "fix.html").exists()
    assert 'id="plot-remedies"' in text and "your setup as given" in text
    assert "lower_lr(0.01)" in text and "1 applied" in text and "2 rejected" in text
    assert "<th>before</th><th>after</th>" in text
    assert ESCAPED in text
    tried = text.split("<h2>Remedies tried</h2>")[1].split("<details>")[0]
    assert tried.count("<h3>for ") == 2  # grouped under lr_too_high and dead_relu
    assert tried.count("<td>lower_lr</td>") == 1  # one row for its two strengths
    assert "<td>+83.0 points</td><td>1.0 points</td><td>kept: beats run-to-run noise</td>" in tried
    assert "failed: ValueError: no such layer" in tried


def test_tune_result_renders_trials_and_importances(tmp_path):
    text = tune_to_html(html_samples.tune_result(), tmp_path / "tune.html")
    assert_safe(text)
    assert 'id="plot-trials"' in text and 'id="plot-importances"' in text
    assert "best accuracy 0.75" in text and "PRUNED" in text and "(yours)" in text


def test_empty_fix_and_tune_results_still_render():
    empty_fix = dataclasses.replace(html_samples.fix_result(), trials=(), changes=(),
                                    applied=(), report=Report(findings=()))
    assert "0 applied" in fix_to_html(empty_fix) and "Remedies tried" not in fix_to_html(empty_fix)
    empty_tune = dataclasses.replace(html_samples.tune_result(), trials=(), best_params={},
                                     best_value=None, best_trial=None, baseline_value=None,
                                     importances={})
    text = tune_to_html(empty_tune)
    assert "no trial completed" in text and "<svg" not in text


def test_report_labels_each_finding_cause_or_explained_by(report_html):
    second = report_html.split('id="finding-2"')[1].split('id="finding-3"')[0]
    assert '<span class="role">explained by lr_too_high</span>' in second
    first = report_html.split('id="finding-1"')[1].split('id="finding-2"')[0]
    assert '<span class="role cause">cause</span>' in first
    assert "your network 0.65, best baseline svm_rbf 0.97" in report_html


def _tiny_setup() -> fitdoctor.Setup:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(240, 6)).astype("float32")
    y = np.digitize(x[:, 0] + x[:, 1], [-0.5, 0.5]).astype("int64")  # 3 classes

    def build():
        model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(8, activation="relu"),
                                  keras.layers.Dense(3, activation="softmax")])
        model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
        return model

    return fitdoctor.Setup.from_arrays(build, (x[:180], y[:180]), (x[180:], y[180:]),
                                       {"epochs": 3, "batch_size": 32})


def test_a_real_quick_diagnosis_renders_its_measured_history(tmp_path):
    keras.utils.set_random_seed(0)
    evidence = Evidence(_tiny_setup(), get_budget("quick"), seed=0)
    evidence.get("probe_run")
    try:
        evidence.get("data_stats")
    except (KeyError, EvidenceUnavailable):
        pass  # lane C's probe; the history plot alone is enough here
    report = run_checks(evidence, [])
    text = report.to_html(tmp_path / "real.html")
    assert_safe(text)
    assert 'id="plot-history"' in text
    assert "loss per epoch" in text
    monitor = report.measurements["probe_run"].get("monitor") or {}
    if any(s.get("layer_grad_norms") for s in monitor.get("samples", [])):
        assert 'id="plot-gradients"' in text
    if monitor.get("batch_losses"):
        assert 'id="plot-batch_loss"' in text
    if "data_stats" in report.measurements:
        assert 'id="plot-class_balance"' in text


@pytest.mark.slow
def test_a_real_fix_renders_its_candidates(tmp_path):
    from fitdoctor.findings import Finding

    finding = Finding("lr_too_low", "warning", "lr too low", {"suggested_lr": 5.0})
    result = fitdoctor.fix(setup=_tiny_setup(), report=Report(findings=(finding,)),
                           budget="quick")
    text = fix_to_html(result, tmp_path / "fix.html")
    assert_safe_page(text)
    (trial,) = result.trials
    assert "<h3>for <span class=\"fid\">lr_too_low</span></h3>" in text
    assert f"<td>{trial.gain_text}</td>" in text and "<td>learning_rate</td>" in text


@pytest.mark.slow
def test_tune_html_option_writes_the_page(tmp_path, monkeypatch):
    setup_file = Path(__file__).with_name("tune_tiny_digits.py")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["tune", str(setup_file), "--trials", "2", "--strategy",
                                      "random", "--out", "out", "--html", "out/tune.html"])
    assert result.exit_code == 0, result.output
    text = (tmp_path / "out" / "tune.html").read_text(encoding="utf-8")
    assert_safe_page(text)
    assert 'id="plot-trials"' in text and "tune_tiny_digits" in text


def assert_safe_page(text: str) -> None:
    """A page with no user text of its own: nothing fetched, only the copy-button script."""
    assert NETWORK.search(text) is None and text.count("<script") == 1


TINY = textwrap.dedent(
    """
    import keras
    import numpy as np

    def load_data():
        rng = np.random.default_rng(0)
        x = rng.normal(size=(80, 4)).astype("float32")
        y = (x[:, 0] + x[:, 1] > 0).astype("int64")
        return (x[:60], y[:60]), (x[60:], y[60:])

    def build_model():
        model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1, activation="sigmoid")])
        model.compile("adam", "binary_crossentropy", metrics=["accuracy"])
        return model

    FIT = {"epochs": 2, "batch_size": 16}
    """
)


@pytest.mark.slow
def test_diagnose_html_option_writes_the_report_and_says_where(tmp_path):
    setup = tmp_path / "setup.py"
    setup.write_text(TINY)
    out = tmp_path / "out" / "report.html"
    result = CliRunner().invoke(app, ["diagnose", str(setup), "--budget", "quick",
                                      "--html", str(out)])
    assert result.exit_code == 0, result.output
    assert out.exists() and "fitdoctor report" in out.read_text(encoding="utf-8")
    assert "HTML report written to" in result.output
