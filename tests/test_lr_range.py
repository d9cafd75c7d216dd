"""The learning-rate range test probe."""

from __future__ import annotations

import keras
import numpy as np
import pytest

import fitdoctor
from fitdoctor.budget import get_budget
from fitdoctor.evidence import Evidence
from fitdoctor.evidence.lr_range import END_LR, MIN_STEPS, START_LR, range_test_steps, suggest

from .conftest import dense_classifier, fingerprint


def test_steps_are_the_share_clipped_to_the_budget_and_the_minimum():
    assert range_test_steps(200, share_steps=300) == 200
    assert range_test_steps(200, share_steps=100) == 100
    assert range_test_steps(200, share_steps=10) == MIN_STEPS


def test_suggest_finds_the_steepest_descent():
    lrs = np.logspace(-7, 1, 100)
    x = np.log10(lrs)
    losses = 2.3 - 2.0 / (1 + np.exp(-3 * (x + 3)))  # falls fastest at lr = 1e-3
    losses[80:] += np.linspace(0, 20, 20)  # then blows up
    steepest, min_loss = suggest(lrs, losses)
    assert steepest == pytest.approx(1e-3, rel=0.3)
    assert 1e-3 < min_loss <= lrs[80]


def test_suggest_gives_none_for_a_flat_curve():
    lrs = np.logspace(-7, 1, 100)
    assert suggest(lrs, np.full(100, 2.3))[0] is None


@pytest.fixture(scope="module")
def small(digits):
    (x, y), (xv, yv) = digits
    return (x[:400], y[:400]), (xv[:100], yv[:100])


def test_range_test_on_a_fresh_model(small):
    setup = fitdoctor.Setup.from_arrays(dense_classifier(), small[0], small[1],
                                        {"epochs": 5, "batch_size": 32})
    before = fingerprint(setup.x_train, setup.y_train)
    result = Evidence(setup, get_budget("quick"), seed=0).get("lr_range")
    assert fingerprint(setup.x_train, setup.y_train) == before
    assert len(result.lrs) == len(result.losses) == result.steps <= result.planned_steps <= 100
    assert result.lrs[0] == pytest.approx(START_LR) and result.lrs[-1] <= END_LR
    assert np.all(np.diff(result.lrs) > 0)
    assert result.current_lr == pytest.approx(1e-3)
    assert 1e-4 < result.suggested_lr < 1.0 and result.suggested_lr <= result.min_loss_lr
    assert result.diverged  # Adam blows up well before lr = 10
    # quick's share is 0.1 of this 65-step fit: the test runs its minimum and says so
    assert result.planned_steps == MIN_STEPS
    assert "pays for 6" in result.notes[0] and "quick budget" in result.notes[0]
    measured = result.to_measurements()
    assert measured["suggested_lr"] == result.suggested_lr and len(measured["lrs"]) == result.steps


def test_range_test_handles_a_schedule(small):
    def build():
        model = dense_classifier()()
        schedule = keras.optimizers.schedules.ExponentialDecay(0.01, 100, 0.9)
        model.compile(optimizer=keras.optimizers.SGD(schedule),
                      loss="sparse_categorical_crossentropy")
        return model

    setup = fitdoctor.Setup.from_arrays(build, small[0], small[1], {"epochs": 3})
    result = Evidence(setup, get_budget("quick"), seed=0).get("lr_range")
    assert result.current_lr == pytest.approx(0.01)
    assert result.suggested_lr is not None
