"""Finding and Report: ranking and the JSON round trip."""

import json
import math

import pytest

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


# The rank-1 rule (`rank_findings`): explained findings rank below their explainers ----------

def test_an_explained_finding_carries_explained_by_and_a_root_cause_none():
    nan = _f("nan_loss", "critical", role=Role.SYMPTOM, rank=0)
    lr = _f("lr_too_high", "warning", explains=("nan_loss",), rank=40)
    ranked = rank_findings([nan, lr])
    assert [(f.id, f.explained_by) for f in ranked] == [("lr_too_high", ()),
                                                        ("nan_loss", ("lr_too_high",))]


def test_explained_by_round_trips_through_json():
    report = Report((_f("nan_loss", "critical", role=Role.SYMPTOM),
                     _f("lr_too_high", "warning", explains=("nan_loss",))))
    back = Report.from_json(report.to_json())
    assert back.get("nan_loss").explained_by == ("lr_too_high",)
    assert back.to_dict() == report.to_dict()
    assert Finding.from_dict(report.get("nan_loss").to_dict()) == report.get("nan_loss")


def test_given_explained_by_is_replaced_by_the_derived_one():
    stale = Finding("nan_loss", "critical", "NaN", explained_by=("gone",))
    assert rank_findings([stale])[0].explained_by == ()


def test_an_explained_finding_ranks_below_every_explainer_whatever_its_rank():
    symptom = _f("underfitting", "critical", role=Role.SYMPTOM, rank=0)
    late = _f("late_cause", "warning", explains=("underfitting",), rank=90)
    early = _f("early_cause", "warning", explains=("underfitting",), rank=10)
    ranked = rank_findings([symptom, late, early])
    assert [f.id for f in ranked] == ["early_cause", "late_cause", "underfitting"]
    assert ranked[-1].explained_by == ("early_cause", "late_cause")


def test_among_unexplained_findings_severity_then_role_then_rank():
    ranked = rank_findings([
        _f("w_cause_late", "warning", rank=60), _f("w_symptom", "warning", Role.SYMPTOM, rank=1),
        _f("w_cause_early", "warning", rank=5), _f("c_symptom", "critical", Role.SYMPTOM),
    ])
    assert [f.id for f in ranked] == ["c_symptom", "w_cause_early", "w_cause_late", "w_symptom"]


def test_a_cause_weighs_as_much_as_what_it_explains_transitively():
    nan = _f("nan_loss", "critical", role=Role.SYMPTOM)
    lr = _f("lr_too_high", "warning", explains=("nan_loss",))
    root = _f("missing_values", "info", explains=("lr_too_high",))  # info: explains nothing
    other = _f("other", "critical", rank=1)
    warn_root = _f("unscaled_inputs", "warning", explains=("lr_too_high",), rank=99)
    ranked = rank_findings([nan, lr, root, other, warn_root])
    assert [f.id for f in ranked][:4] == ["other", "unscaled_inputs", "lr_too_high", "nan_loss"]
    assert ranked[2].explained_by == ("unscaled_inputs",)
    assert rank_findings([nan, lr, root])[-1].id == "missing_values"


def test_findings_that_explain_each_other_keep_one_edge():
    a = _f("a", "critical", explains=("b",), rank=1)
    b = _f("b", "critical", explains=("a",), rank=2)
    ranked = rank_findings([b, a])
    assert [(f.id, f.explained_by) for f in ranked] == [("a", ()), ("b", ("a",))]


def _from_check(check_id, severity):
    """A finding as the registered check builds it: its own role, rank and `explains`."""
    from fitdoctor.checks import registered_checks

    return registered_checks()[check_id]().finding(severity, check_id, {}, "advice")


@pytest.mark.parametrize("cause, symptom", [
    ("missing_values", "underfitting"),
    ("unscaled_targets", "underfitting"),
    ("unscaled_inputs", "underfitting"),
    ("lr_too_high", "nan_loss"),
    ("missing_values", "nan_loss"),
    ("missing_values", "lr_too_high"),
    ("unscaled_targets", "lr_too_low"),
    ("unscaled_inputs", "lr_too_high"),
    ("class_imbalance", "underfitting"),  # predicting the common class scores chance accuracy
])
@pytest.mark.parametrize("cause_severity", ["critical", "warning"])
def test_the_checks_encode_cause_above_symptom(cause, symptom, cause_severity):
    ranked = rank_findings([_from_check(symptom, "critical"), _from_check(cause, cause_severity)])
    assert [f.id for f in ranked] == [cause, symptom]
    assert ranked[1].explained_by == (cause,)


def test_nan_inputs_rank_above_unscaled_inputs_at_equal_severity():
    ranked = rank_findings([_from_check("unscaled_inputs", "critical"),
                            _from_check("missing_values", "critical")])
    assert [f.id for f in ranked] == ["missing_values", "unscaled_inputs"]


def test_a_bounded_output_ranks_above_unscaled_targets():
    ranked = rank_findings([_from_check("unscaled_targets", "critical"),
                            _from_check("output_range_mismatch", "critical")])
    assert [f.id for f in ranked] == ["output_range_mismatch", "unscaled_targets"]
