"""The contract every registered check meets (in the spirit of scikit-learn's
`parametrize_with_checks`): a new check gets all of this by registering."""

from __future__ import annotations

import inspect

import pytest

import fitdoctor
from fitdoctor.checks import Check, register, registered_checks
from fitdoctor.findings import Finding

from .conftest import fingerprint

CHECKS = registered_checks()


def test_registry_is_not_empty():
    assert len(CHECKS) >= 1


def test_registering_a_duplicate_id_is_an_error():
    first = next(iter(CHECKS.values()))

    class Impostor(Check):
        id = first.id
        description = "x"

    with pytest.raises(ValueError, match="already registered"):
        register(Impostor)


@pytest.mark.parametrize("check_id", sorted(CHECKS))
def test_check_declares_its_contract(check_id):
    cls = CHECKS[check_id]
    assert cls.id == check_id and check_id == check_id.lower() and check_id.isidentifier()
    assert len(inspect.cleandoc(cls.description)) > 40, "describe the rule and thresholds"
    assert cls.category in ("data", "model", "training")
    instance = cls()  # builds with defaults
    assert isinstance(instance, Check)
    for name in cls.thresholds():
        assert name in inspect.cleandoc(cls.description) or name in (cls.__init__.__doc__ or ""), (
            f"{check_id}: threshold {name} is not documented"
        )


@pytest.mark.parametrize("check_id", sorted(CHECKS))
def test_check_is_silent_on_the_healthy_setup(check_id, healthy_report):
    problems = [f for f in healthy_report.problems if f.id == check_id]
    assert problems == [], f"false alarm: {[f.title for f in problems]}"
    failed = [f for f in healthy_report.findings
              if f.id == "check_failed" and f.evidence.get("check") == check_id]
    assert failed == [], failed[0].title if failed else ""


def test_checks_return_only_findings(healthy_report):
    assert all(isinstance(f, Finding) for f in healthy_report.findings)


def test_diagnosis_is_deterministic_and_leaves_data_untouched(healthy_setup, healthy_report):
    before = fingerprint(healthy_setup.x_train, healthy_setup.y_train,
                         healthy_setup.x_val, healthy_setup.y_val)
    again = fitdoctor.diagnose(setup=healthy_setup, seed=0, budget="quick")
    after = fingerprint(healthy_setup.x_train, healthy_setup.y_train,
                        healthy_setup.x_val, healthy_setup.y_val)
    assert before == after
    third = fitdoctor.diagnose(setup=healthy_setup, seed=0, budget="quick")
    assert again.ids(problems_only=False) == third.ids(problems_only=False)


def test_catalogue_is_up_to_date():
    from pathlib import Path

    from fitdoctor.catalogue import render

    committed = Path(__file__).parent.parent / "docs" / "findings.md"
    assert committed.read_text(encoding="utf-8") == render(), "run `make docs`"
