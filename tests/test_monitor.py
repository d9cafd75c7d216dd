"""`fitdoctor.Monitor`: records inside a user's own `fit` without changing its results."""

from __future__ import annotations

import json
import math
import warnings

import keras
import numpy as np
import pytest

import fitdoctor


@pytest.fixture(scope="module")
def images(digits):
    (x, y), _ = digits
    return x[:300].reshape(-1, 8, 8, 1), y[:300]


def cnn():
    inputs = keras.Input(shape=(8, 8, 1))
    h = keras.layers.Conv2D(8, 3, activation="relu", padding="same", name="conv_a")(inputs)
    h = keras.layers.Conv2D(8, 3, activation="tanh", name="conv_b")(h)
    h = keras.layers.Flatten()(h)
    outputs = keras.layers.Dense(10, activation="softmax", name="out")(h)
    model = keras.Model(inputs, outputs)  # functional
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    return model


def fit(x, y, build, callbacks=(), epochs=2, batch_size=32):
    keras.utils.set_random_seed(0)
    model = build()
    model.fit(x, y, epochs=epochs, batch_size=batch_size, verbose=0, callbacks=list(callbacks))
    return model


def test_monitor_records_a_cnn(images):
    x, y = images
    monitor = fitdoctor.Monitor(data=(x[:64], y[:64]), samples_per_epoch=2, batch_size=16)
    fit(x, y, cnn, [monitor])
    record = monitor.record
    assert len(record.batch_losses) == 2 and len(record.batch_losses[0]) == 10
    assert len(record.history["loss"]) == 2
    assert [(s.epoch, s.batch) for s in record.samples] == [(0, 0), (0, 9), (1, 0), (1, 9)]
    first = record.samples[0]
    assert set(first.layer_grad_norms) == {"conv_a", "conv_b", "out"}
    assert all(v > 0 and math.isfinite(v) for v in first.layer_grad_norms.values())
    assert all(0 < v < 1 for v in first.update_ratios.values())
    assert set(first.dead_fraction) == {"conv_a"} and set(first.saturated_fraction) == {"conv_b"}
    assert first.gradient_noise > 0
    # the first batch's loss is the untrained model's: about ln(10) for 10 classes
    assert abs(record.batch_losses[0][0] - math.log(10)) < 0.5
    json.dumps(monitor.to_measurements(), allow_nan=True)


def test_monitor_does_not_change_training(images):
    x, y = images
    plain = fit(x, y, cnn)
    watched = fit(x, y, cnn, [fitdoctor.Monitor(data=(x[:64], y[:64]), batch_size=16)])
    for a, b in zip(plain.weights, watched.weights, strict=True):
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(a), keras.ops.convert_to_numpy(b))


def test_monitor_is_reusable(images):
    x, y = images
    monitor = fitdoctor.Monitor(data=(x[:64], y[:64]))
    fit(x, y, cnn, [monitor], epochs=2)
    fit(x, y, cnn, [monitor], epochs=1)
    assert len(monitor.record.history["loss"]) == 1
    assert {s.epoch for s in monitor.record.samples} == {0}


def test_monitor_without_data_records_losses_and_updates(images):
    x, y = images
    monitor = fitdoctor.Monitor()
    fit(x, y, cnn, [monitor], epochs=1)
    assert monitor.record.gradients_unavailable
    assert monitor.record.samples[0].update_ratios
    assert math.isnan(monitor.record.samples[0].grad_norm)


def diverging():
    model = keras.Sequential([keras.Input(shape=(64,)), keras.layers.Dense(16),
                              keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(100.0), loss="mse")
    return model


def test_stop_on_nan_is_opt_in(digits):
    (x, y), _ = digits
    x, y = x[:256] * 50, y[:256].astype("float32") * 100
    default = fitdoctor.Monitor(data=(x[:32], y[:32]))
    fit(x, y, diverging, [default], epochs=3)
    assert default.record.nonfinite_loss and not default.record.stopped_on_nan
    assert len(default.record.history["loss"]) == 3
    stopper = fitdoctor.Monitor(stop_on_nan=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # warn=False: silent
        fit(x, y, diverging, [stopper], epochs=3)
    assert stopper.record.stopped_on_nan
    steps_run = sum(len(e) for e in stopper.record.batch_losses)
    assert steps_run == stopper.record.first_nonfinite_step + 1


def test_warn_is_opt_in(digits):
    (x, y), _ = digits
    monitor = fitdoctor.Monitor(warn=True)
    with pytest.warns(RuntimeWarning, match="loss became"):
        fit(x[:256] * 50, y[:256].astype("float32") * 100, diverging, [monitor], epochs=1)


@pytest.mark.parametrize("kwargs, message", [
    ({"samples_per_epoch": 0}, "samples_per_epoch=0"),
    ({"batch_size": -1}, "batch_size=-1"),
    ({"data": np.zeros(3)}, "data must be a pair"),
    ({"data": (np.zeros((3, 2)), np.zeros(2))}, "3 x rows and 2 y rows"),
])
def test_constructor_validates(kwargs, message):
    with pytest.raises(ValueError, match=message):
        fitdoctor.Monitor(**kwargs)
