"""The contract every registered check meets (in the spirit of scikit-learn's
`parametrize_with_checks`): a new check gets all of this by registering."""

from __future__ import annotations

import inspect

import keras
import numpy as np
import pytest
from sklearn.datasets import load_diabetes, load_digits
from sklearn.preprocessing import StandardScaler

import fitdoctor
from fitdoctor.budget import get_budget
from fitdoctor.checks import Check, register, registered_checks
from fitdoctor.evidence import Evidence, registered_probes
from fitdoctor.findings import Finding

from .conftest import dense_classifier, fingerprint

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


# `requires` is what a check reads ---------------------------------------------------------------

class RecordingEvidence:
    """Evidence that notes every probe a check asks for, and answers from the real store."""

    def __init__(self, evidence: Evidence) -> None:
        self._evidence = evidence
        self.asked: set[str] = set()

    def get(self, name: str):
        self.asked.add(name)
        return self._evidence.get(name)

    def __getattr__(self, name: str):
        return getattr(self._evidence, name)


def _asked_per_check(setup) -> dict[str, set[str]]:
    evidence = Evidence(setup, get_budget("quick"), seed=0)
    asked = {}
    for cls in CHECKS.values():
        recording = RecordingEvidence(evidence)
        check = cls()
        try:
            if check.applies(recording):
                check.run(recording)
        except Exception:  # a check that cannot run still asked for what it asked for
            pass
        asked[cls.id] = recording.asked
    return asked


def _regression_setup():
    """Raw diabetes targets and Adam at 1e-6: regression paths, `unscaled_targets` to its end,
    and a loss that barely moves (so `lr_too_low` reads the range test)."""
    data = load_diabetes()
    x = StandardScaler().fit_transform(data.data).astype("float32")
    y = data.target.astype("float32")

    def build():
        model = keras.Sequential([keras.Input((10,)), keras.layers.Dense(16, activation="relu"),
                                  keras.layers.Dense(1)])
        model.compile(optimizer=keras.optimizers.Adam(1e-6), loss="mse", metrics=["mae"])
        return model

    return fitdoctor.Setup.from_arrays(build, (x[:330], y[:330]), (x[330:], y[330:]),
                                       {"epochs": 5, "batch_size": 32})


def _oversized_setup():
    """A wide MLP on 150 digits, 40 of them copied into validation: it overfits (capacity
    checks read past their first test) and leaks."""
    data = load_digits()
    x, y = (data.data / 16.0).astype("float32"), data.target
    return fitdoctor.Setup.from_arrays(dense_classifier(hidden=512), (x[:150], y[:150]),
                                       (np.r_[x[1500:], x[:40]], np.r_[y[1500:], y[:40]]),
                                       {"epochs": 30, "batch_size": 16})


def _faulty_setup():
    """Batch size 4, SGD at rate 5, copied rows, outliers and a rare class on digits: checks
    that read more evidence only when something is wrong get to read it."""
    data = load_digits()
    x, y = (data.data / 16.0).astype("float32"), data.target
    keep = np.r_[np.flatnonzero(y[:300] != 9), np.flatnonzero(y[:300] == 9)[:3]]
    x_tr, y_tr = np.r_[x[keep], x[:60]], np.r_[y[keep], y[:60]]
    x_val, y_val = np.r_[x[1500:1660], x[100:140]], np.r_[y[1500:1660], y[100:140]]
    x_tr[[3, 100, 200, 250], 10] = 60.0
    return fitdoctor.Setup.from_arrays(dense_classifier(lr=5.0, optimizer="sgd"),
                                       (x_tr, y_tr), (x_val, y_val),
                                       {"epochs": 3, "batch_size": 4})


@pytest.fixture(scope="module")
def asked(healthy_setup):
    """Per scenario, per check: the probes the check asked `Evidence` for."""
    scenarios = (healthy_setup, _regression_setup(), _oversized_setup(), _faulty_setup())
    return [_asked_per_check(s) for s in scenarios]


def test_requires_names_registered_probes():
    probes = set(registered_probes())
    for check_id, cls in CHECKS.items():
        assert set(cls.requires) <= probes, f"{check_id}: {set(cls.requires) - probes}"


@pytest.mark.slow
@pytest.mark.parametrize("check_id", sorted(CHECKS))
def test_requires_lists_exactly_what_the_check_reads(check_id, asked):
    declared = set(CHECKS[check_id].requires)
    for scenario, per_check in enumerate(asked):
        undeclared = per_check[check_id] - declared
        assert not undeclared, (f"{check_id} read {sorted(undeclared)} (scenario {scenario}) "
                                "without declaring it in `requires`")
    read = set().union(*(per_check[check_id] for per_check in asked))
    assert declared <= read, f"{check_id} declares {sorted(declared - read)} but never read it"
