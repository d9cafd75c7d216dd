"""The fault benchmark's cases keep their contract, and its runner survives broken cases.

No training here: every case is loaded (data + one model build), never fitted.
"""

from __future__ import annotations

import pytest

import fitdoctor
from fitdoctor.checks import registered_checks

from .conftest import BENCH, bench_module

#: Finding ids the benchmark may expect before their check is registered (lane A's
#: training-dynamics checks are being written alongside the benchmark).
PLANNED_IDS = {
    "nan_loss", "exploding_gradients", "vanishing_gradients", "dead_relu",
    "saturated_activations", "lr_too_high", "lr_too_low", "batch_too_small",
}


runner = bench_module("run")
CASES = runner.discover()
BY_FILE = {case.path.name: case for case in CASES}


def test_the_benchmark_has_faulty_and_healthy_cases():
    assert sum(case.healthy for case in CASES) >= 6
    assert sum(not case.healthy for case in CASES) >= 12


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_case_loads_and_declares_known_ids(case):
    setup = fitdoctor.load_setup(case.path, seed=0)
    assert setup.n_train >= 100 and len(setup.x_val) >= 30
    assert setup.epochs >= 1
    known = set(registered_checks()) | PLANNED_IDS
    unknown = set(case.expected) - known
    assert not unknown, f"{case.name} expects ids no check emits: {sorted(unknown)}"


@pytest.mark.parametrize("case", [c for c in CASES if not c.healthy], ids=lambda c: c.name)
def test_faulty_case_names_an_existing_healthy_twin(case):
    assert case.twin, f"{case.name} sets EXPECTED but no TWIN"
    if case.twin in BY_FILE:
        assert BY_FILE[case.twin].healthy, f"{case.name}: TWIN {case.twin} is not healthy"
        return
    # a twin that is not a case of its own lives in bench/cases/twins/ and must load
    path = BENCH / "cases" / case.twin
    assert path.parent.name == "twins" and path.exists(), f"{case.name}: no TWIN {case.twin!r}"
    assert fitdoctor.load_setup(path, seed=0).n_train >= 100


@pytest.mark.parametrize("case", [c for c in CASES if c.numpy_twin], ids=lambda c: c.name)
def test_an_input_style_case_names_a_numpy_twin_with_the_same_fault(case):
    path = BENCH / "cases" / case.numpy_twin
    assert path.exists(), f"{case.name}: no NUMPY_TWIN {case.numpy_twin!r}"
    twin = runner.read_declarations(path)
    if case.healthy:
        assert twin["EXPECTED"] == [], f"{case.name}: its NumPy twin is not healthy"
    else:
        assert set(twin["EXPECTED"]) & set(case.expected), f"{case.name}: twin's fault differs"
    setup = fitdoctor.load_setup(path, seed=0)
    assert setup.feed is None  # the twin is plain arrays


def test_the_input_styles_users_write_each_have_a_case():
    styles = {c.name for c in CASES if c.numpy_twin}
    for style in ("tfdata", "pydataset", "generator", "dict_two_inputs", "subclassed",
                  "script", "image_dataset", "imagedatagenerator", "model_instance",
                  "text_vectorization"):
        assert any(style in name for name in styles), style


def test_declarations_must_be_literals(tmp_path):
    missing = tmp_path / "no_expected.py"
    missing.write_text("TWIN = 'x.py'\n")
    with pytest.raises(ValueError, match="no module-level EXPECTED"):
        runner.read_declarations(missing)
    computed = tmp_path / "computed.py"
    computed.write_text("EXPECTED = sorted(['a'])\n")
    with pytest.raises(ValueError, match="must be a literal"):
        runner.read_declarations(computed)
    wrong_type = tmp_path / "wrong.py"
    wrong_type.write_text("EXPECTED = 'lr_too_high'\n")
    with pytest.raises(ValueError, match="Received: EXPECTED='lr_too_high'"):
        runner.read_declarations(wrong_type)


def test_a_raising_case_becomes_an_error_row(tmp_path):
    broken = tmp_path / "broken_case.py"
    broken.write_text(
        "EXPECTED = ['lr_too_high']\nTWIN = 'healthy.py'\n"
        "def load_data():\n    raise RuntimeError('disk on fire')\n"
        "def build_model():\n    return None\n"
    )
    (case,) = runner.discover(cases_dir=tmp_path)
    row = runner.run_case(case, budget="quick", seed=0, reports_dir=None)
    assert row["error"].startswith("SetupError") and "disk on fire" in row["error"]
    assert row["found"] is None and row["diagnose_s"] is None


def test_summary_and_markdown_count_found_faults_and_false_alarms():
    def row(case, expected, top3, found, healthy, ratio, error=None, numpy_twin=None,
            twin_first=None):
        return {"case": case, "expected": expected, "top3": top3, "found": found,
                "healthy": healthy, "false_alarms": top3 if healthy else [],
                "plain_fit_s": 2.0, "diagnose_s": 2.0 * ratio, "ratio": ratio, "error": error,
                "hit1": bool(top3) and top3[0] in expected, "numpy_twin": numpy_twin,
                "twin_first": twin_first,
                "same_first": None if numpy_twin is None else twin_first == (top3 or [None])[0]}

    rows = [
        row("lr_high", ["lr_too_high"], ["lr_too_high", "nan_loss"], True, False, 2.0),
        row("dead", ["dead_relu"], ["underfitting"], False, False, 3.0),
        row("stream", ["lr_too_high"], ["nan_loss", "lr_too_high"], True, False, 2.0,
            numpy_twin="twin.py", twin_first="lr_too_high"),
        row("ok", [], [], None, True, 2.5),
        row("ok2", [], ["label_noise"], None, True, 4.0),
    ]
    summary = runner.summarize(rows)
    assert summary["faults_found"] == 2 and summary["faults"] == 3
    assert summary["faults_first"] == 1
    assert summary["numpy_twins"] == 1 and summary["numpy_twins_same_first"] == 0
    assert summary["healthy_with_false_alarms"] == 1 and summary["false_alarm_findings"] == 1
    assert summary["ratio_median"] == pytest.approx(2.5) and summary["ratio_max"] == 4.0
    meta = {"budget": "standard", "seed": 0, "machine": "m", "tensorflow": "t", "keras": "k",
            "load_before": "0", "load_after": "0"}
    text = runner.render_markdown(rows, summary, meta, None)
    assert "| dead | `dead_relu` | `underfitting` | **no** | no |" in text
    assert "Faults found in the top 3 (hit@3): **2/3**; first (hit@1): **1/3**" in text
    assert "`lr_too_high` (differs)" in text
    assert "Healthy setups with a false alarm: **1/2**" in text
