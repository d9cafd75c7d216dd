"""Finding and Report: ranking and the JSON round trip."""

import json
import math

from fitdoctor.findings import Finding, Fix, Report, Role, Severity, rank_findings


def _f(id_, severity, role=Role.CAUSE, explains=(), rank=50):
    return Finding(id_, severity, id_, {"x": 1.0}, Fix("do it", "x = 1"), role=role,
                   explains=explains, rank=rank)


def test_critical_before_warning_before_info():
    ranked = rank_findings([_f("a", "info"), _f("b", "critical"), _f("c", "warning")])
    assert [f.id for f in ranked] == ["b", "c", "a"]


def test_a_cause_ranks_before_the_symptom_it_explains():
    nan = _f("nan_loss", "critical", role=Role.SYMPTOM, rank=0)
    lr = _f("lr_too_high", "warning", explains=("nan_loss",), rank=40)
    assert [f.id for f in rank_findings([nan, lr])] == ["lr_too_high", "nan_loss"]


def test_causes_before_symptoms_at_equal_severity():
    ranked = rank_findings([_f("s", "warning", role=Role.SYMPTOM, rank=0), _f("c", "warning")])
    assert [f.id for f in ranked] == ["c", "s"]


def test_report_round_trips_through_json_with_non_finite_numbers():
    finding = Finding("nan_loss", Severity.CRITICAL, "NaN", {"loss": math.nan, "lr": 10.0},
                      Fix("lower it", "keras.optimizers.Adam(1e-3)"))
    report = Report((finding,), setup={"task": "binary"}, measurements={"h": [1.0, math.inf]})
    text = report.to_json()
    json.loads(text)  # strict JSON: no NaN literals
    back = Report.from_json(text)
    assert back.findings[0].id == "nan_loss"
    assert back.findings[0].evidence["loss"] == "nan"
    assert back.to_dict() == Report.from_json(back.to_json()).to_dict()


def test_only_critical_and_warning_are_problems():
    report = Report((_f("a", "info"), _f("b", "warning")))
    assert report.ids() == ["b"]
    assert report.ids(problems_only=False) == ["b", "a"]
