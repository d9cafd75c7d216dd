"""The training-dynamics checks fire on their fault and stay silent on a healthy twin."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from sklearn.datasets import make_regression

import fitdoctor

DYNAMICS = ["nan_loss", "exploding_gradients", "vanishing_gradients", "dead_relu",
            "saturated_activations", "lr_too_high", "lr_too_low", "batch_too_small"]


@pytest.fixture(scope="module")
def small_digits(digits):
    """400 training rows of the scaled digits, for quick probe runs."""
    (x, y), (x_val, y_val) = digits
    return (x[:400], y[:400]), (x_val[:200], y_val[:200])


def mlp(optimizer, *, activation="relu", depth=1, hidden=64, kernel="glorot_uniform",
        bias="zeros"):
    def build():
        layers = [keras.Input(shape=(64,))]
        layers += [keras.layers.Dense(hidden, activation=activation, kernel_initializer=kernel,
                                      bias_initializer=bias) for _ in range(depth)]
        layers.append(keras.layers.Dense(10, activation="softmax"))
        model = keras.Sequential(layers)
        model.compile(optimizer=optimizer(), loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"])
        return model

    return build


def diagnose(build, data, *, epochs=5, batch_size=32, scale=1.0, checks=DYNAMICS):
    (x, y), (x_val, y_val) = data
    setup = fitdoctor.Setup.from_arrays(build, (x * scale, y), (x_val * scale, y_val),
                                        {"epochs": epochs, "batch_size": batch_size})
    return fitdoctor.diagnose(setup=setup, checks=checks, budget="quick")


def adam():
    return keras.optimizers.Adam(1e-3)


@pytest.fixture(scope="module")
def healthy_report(small_digits):
    return diagnose(mlp(adam), small_digits, epochs=8)


def test_healthy_twin_gets_no_dynamics_problem(healthy_report):
    assert healthy_report.problems == ()
    assert not [f for f in healthy_report.findings if f.id == "check_failed"]


def test_lr_too_high_on_sgd_5(small_digits):
    report = diagnose(mlp(lambda: keras.optimizers.SGD(5.0)), small_digits)
    found = report.get("lr_too_high")
    assert found is not None and found.is_problem
    assert found.evidence["current_over_suggested"] >= 3
    assert "learning_rate=" in found.fix.code
    assert report.ids()[0] == "lr_too_high"


def test_lr_too_high_ranks_before_the_nan_it_causes():
    x, y = make_regression(n_samples=400, n_features=10, noise=5.0, random_state=0)
    x, y = x.astype("float32"), ((y - y.mean()) / y.std()).astype("float32")

    def build():
        model = keras.Sequential([keras.Input(shape=(10,)), keras.layers.Dense(32, "relu"),
                                  keras.layers.Dense(1)])
        model.compile(optimizer=keras.optimizers.SGD(5.0), loss="mse")
        return model

    setup = fitdoctor.Setup.from_arrays(build, (x[:300], y[:300]), (x[300:], y[300:]),
                                        {"epochs": 5, "batch_size": 32})
    report = fitdoctor.diagnose(setup=setup, checks=DYNAMICS, budget="quick")
    ids = report.ids()
    assert "nan_loss" in ids and "lr_too_high" in ids
    assert ids.index("lr_too_high") < ids.index("nan_loss")
    assert report.get("lr_too_high").severity is fitdoctor.Severity.CRITICAL


def test_lr_too_low_on_sgd_1e_5(small_digits):
    report = diagnose(mlp(lambda: keras.optimizers.SGD(1e-5)), small_digits)
    assert "lr_too_low" in report.ids()
    assert "lr_too_high" not in report.ids()
    assert report.get("lr_too_low").evidence["progress"] < 0.5


def test_vanishing_gradients_on_deep_sigmoid_with_tiny_init(small_digits):
    build = mlp(lambda: keras.optimizers.SGD(0.01), activation="sigmoid", depth=8,
                kernel=keras.initializers.RandomNormal(stddev=0.01))
    report = diagnose(build, small_digits)
    found = report.get("vanishing_gradients")
    assert found is not None and found.is_problem
    assert found.evidence["median_grad_ratio"] < 1e-3


def test_exploding_gradients_on_large_init(small_digits):
    build = mlp(lambda: keras.optimizers.SGD(0.01), depth=6,
                kernel=keras.initializers.RandomNormal(stddev=1.0))
    report = diagnose(build, small_digits)
    found = report.get("exploding_gradients")
    assert found is not None and found.is_problem
    assert found.evidence["first_grad_norm"] >= 1e3
    assert found.role is fitdoctor.findings.Role.CAUSE  # present before any step: not the LR


def test_dead_relu_on_negative_bias(small_digits):
    build = mlp(adam, bias=keras.initializers.Constant(-5.0))
    report = diagnose(build, small_digits)
    found = report.get("dead_relu")
    assert found is not None and found.severity is fitdoctor.Severity.CRITICAL
    assert found.evidence["dead_from_start"] is True
    assert "lr_too_high" not in report.ids() and "lr_too_low" not in report.ids()


def test_saturated_activations_on_tanh_with_huge_inputs(small_digits):
    build = mlp(adam, activation="tanh", kernel=keras.initializers.RandomNormal(stddev=3.0))
    report = diagnose(build, small_digits, scale=20.0)
    found = report.get("saturated_activations")
    assert found is not None and found.is_problem
    assert max(found.evidence["saturated_fraction_last_epoch"].values()) >= 0.5


def test_tanh_twin_is_not_saturated(small_digits):
    report = diagnose(mlp(adam, activation="tanh"), small_digits,
                      checks=["saturated_activations", "vanishing_gradients"])
    assert report.problems == ()


@pytest.mark.slow
def test_batch_too_small_on_batch_of_2(small_digits):
    report = diagnose(mlp(adam), small_digits, epochs=2, batch_size=2,
                      checks=["batch_too_small"])
    found = report.get("batch_too_small")
    assert found is not None and found.is_problem
    assert found.evidence["median_gradient_noise"] >= 10


def test_thresholds_are_validated():
    from fitdoctor.checks import registered_checks

    checks = registered_checks()
    with pytest.raises(ValueError, match="Received: max_dead_fraction=0"):
        checks["dead_relu"](max_dead_fraction=0)
    with pytest.raises(ValueError, match="lr_ratio=0.5"):
        checks["lr_too_high"](lr_ratio=0.5)


def test_stricter_threshold_turns_a_check_on(healthy_report, small_digits):
    """Thresholds are real: the healthy twin's dead units pass the default, not a strict one."""
    dead = healthy_report.measurements["probe_run"]["monitor"]["samples"][-1]["dead_fraction"]
    assert max(dead.values()) < 0.5
    if max(dead.values()) == 0:
        pytest.skip("no dead unit in the healthy twin to test a strict threshold on")
    from fitdoctor.checks import registered_checks

    strict = registered_checks()["dead_relu"](max_dead_fraction=1e-6)
    report = diagnose(mlp(adam), small_digits, epochs=8, checks=[strict])
    assert "dead_relu" in report.ids()
    np.testing.assert_allclose(
        report.get("dead_relu").evidence["threshold_max_dead_fraction"], 1e-6)
