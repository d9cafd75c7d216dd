"""Keras' array pipelines run without tf.data autotuning inside fitdoctor's runs, to the same
weights; outside them, and for the user's own datasets, nothing changes."""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf
from keras.src.trainers.data_adapters.array_data_adapter import ArrayDataAdapter

import fitdoctor
from fitdoctor.tf_data import keras_pipelines_without_autotune

from .conftest import dense_classifier


def _autotunes(x: np.ndarray, y: np.ndarray) -> bool:
    dataset = ArrayDataAdapter(x, y, batch_size=32, shuffle=True).get_tf_dataset()
    return dataset.options().autotune.enabled is not False  # None: TensorFlow's default, on


def test_inside_the_context_the_array_pipeline_does_not_autotune_and_outside_it_does(digits):
    (x, y), _ = digits
    assert _autotunes(x, y)
    with keras_pipelines_without_autotune() as applies:
        assert applies
        assert not _autotunes(x, y)
        with keras_pipelines_without_autotune():  # re-entrant
            assert not _autotunes(x, y)
        assert not _autotunes(x, y)
    assert _autotunes(x, y)


def test_setup_train_builds_its_pipelines_without_autotuning(digits, monkeypatch):
    """Every dataset Keras builds from arrays inside `Setup.train` (training and validation)
    has autotuning off; the same fit outside it keeps TensorFlow's default."""
    with keras_pipelines_without_autotune():
        pass  # installed first: the recorder below sees what fitdoctor's wrapper returns
    seen = []
    built = ArrayDataAdapter.get_tf_dataset

    def recorded(self):
        dataset = built(self)
        seen.append(dataset.options().autotune.enabled)
        return dataset

    monkeypatch.setattr(ArrayDataAdapter, "get_tf_dataset", recorded)
    (x, y), (xv, yv) = digits
    setup = fitdoctor.Setup.from_arrays(dense_classifier(), (x[:300], y[:300]),
                                        (xv[:100], yv[:100]), {"epochs": 1, "batch_size": 32})
    setup.train(0)
    assert len(seen) >= 2 and all(enabled is False for enabled in seen)  # train and validation
    seen.clear()
    dense_classifier()().fit(x[:300], y[:300], validation_data=(xv[:100], yv[:100]),
                             epochs=1, verbose=0)
    assert len(seen) >= 2 and all(enabled is None for enabled in seen)


def test_a_run_without_autotuning_ends_on_the_same_weights_as_the_users_fit(digits):
    """The batches' order comes from the pipeline's shuffle, not its parallelism."""
    (x, y), (xv, yv) = digits
    setup = fitdoctor.Setup.from_arrays(dense_classifier(), (x[:600], y[:600]),
                                        (xv[:200], yv[:200]), {"epochs": 3, "batch_size": 32})
    ours = setup.train(0)
    keras.utils.set_random_seed(0)
    users = dense_classifier()()
    users.fit(x[:600], y[:600], validation_data=(xv[:200], yv[:200]), epochs=3, batch_size=32,
              verbose=0)
    assert all(np.array_equal(a, b) for a, b in
               zip(ours.model.get_weights(), users.get_weights(), strict=True))


def test_a_users_own_dataset_keeps_its_options(digits, monkeypatch):
    """Only the pipelines Keras builds from arrays change: a `tf.data.Dataset` is fed as given."""
    (x, y), (xv, yv) = digits
    given = tf.data.Dataset.from_tensor_slices((x[:300], y[:300])).batch(32)
    fed = []
    fit = keras.Model.fit

    def recorded(self, data, *args, **kwargs):
        fed.append(data)
        return fit(self, data, *args, **kwargs)

    monkeypatch.setattr(keras.Model, "fit", recorded)
    setup = fitdoctor.Setup.from_arrays(dense_classifier(), given, (xv[:100], yv[:100]),
                                        {"epochs": 1})
    setup.train(0)
    datasets = [data for data in fed if isinstance(data, tf.data.Dataset)]
    assert datasets and all(data.options().autotune.enabled is None for data in datasets)


def test_a_generators_pipeline_does_not_autotune_inside_the_context(digits):
    from keras.src.trainers.data_adapters.generator_data_adapter import GeneratorDataAdapter

    (x, y), _ = digits

    def batches():
        for start in range(0, 96, 32):
            yield x[start:start + 32], y[start:start + 32]

    assert GeneratorDataAdapter(batches()).get_tf_dataset().options().autotune.enabled is None
    with keras_pipelines_without_autotune():
        dataset = GeneratorDataAdapter(batches()).get_tf_dataset()
    assert dataset.options().autotune.enabled is False
