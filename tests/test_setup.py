"""The training-setup contract: loading setup files and validating what the user gave."""

from __future__ import annotations

import textwrap

import keras
import numpy as np
import pandas as pd
import pytest

import fitdoctor
from fitdoctor.errors import DataError, SetupError
from fitdoctor.setup import infer_task

from .conftest import dense_classifier

GOOD = textwrap.dedent(
    """
    import keras
    import numpy as np
    from pathlib import Path

    HERE = Path(__file__).parent

    def load_data():
        rng = np.random.default_rng(0)
        x = rng.normal(size=(60, 4)).astype("float32")
        y = (x[:, 0] > 0).astype("int64")
        return (x[:40], y[:40]), (x[40:], y[40:])

    def build_model():
        model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1, activation="sigmoid")])
        model.compile("adam", "binary_crossentropy", metrics=["accuracy"])
        return model

    FIT = {"epochs": 2, "batch_size": 8}
    SEEN_FILE = __file__
    """
)


def write(tmp_path, text, name="setup.py"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def test_a_setup_file_loads_with_its_own_path_as_file(tmp_path):
    setup = fitdoctor.load_setup(write(tmp_path, GOOD))
    assert setup.n_train == 40 and len(setup.x_val) == 20
    assert setup.task.kind == "binary" and setup.epochs == 2 and setup.batch_size == 8
    assert setup.source.endswith("setup.py")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("x = 1\n", "never calls model.fit, and defines no load_data() and build_model()"),
        ("def load_data():\n    return 1\ndef build_model():\n    pass\n",
         "must return ((x_train, y_train), (x_val, y_val))"),
        ("def load_data(:\n", "syntax error"),
        ("raise RuntimeError('boom')\n", "RuntimeError: boom"),
    ],
)
def test_a_malformed_setup_file_gets_a_clear_error(tmp_path, text, message):
    with pytest.raises(SetupError, match=message.replace("(", r"\(").replace(")", r"\)")):
        fitdoctor.load_setup(write(tmp_path, text))


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(SetupError, match="setup file not found: .*nope.py"):
        fitdoctor.load_setup(tmp_path / "nope.py")


def test_an_uncompiled_model_is_refused():
    def build():
        return keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])

    x = np.zeros((10, 4), "float32")
    with pytest.raises(SetupError, match="uncompiled model"):
        fitdoctor.Setup.from_arrays(build, (x, np.zeros(10)), (x, np.zeros(10)))


def test_x_and_y_of_different_lengths_are_refused(digits):
    (x, y), val = digits
    with pytest.raises(DataError, match=r"x has 1347 rows, y has 1346"):
        fitdoctor.Setup.from_arrays(dense_classifier(), (x, y[:-1]), val)


def test_non_numeric_dataframe_columns_are_named():
    frame = pd.DataFrame({"age": [1.0, 2.0, 3.0], "city": ["a", "b", "c"]})
    with pytest.raises(DataError, match="non-numeric column.*city"):
        fitdoctor.Setup.from_arrays(dense_classifier(2, 2), (frame, [0, 1, 0]), None)


def test_feature_shapes_must_agree_between_train_and_validation(digits):
    (x, y), (xv, yv) = digits
    with pytest.raises(DataError, match="differ in shape"):
        fitdoctor.Setup.from_arrays(dense_classifier(), (x, y), (xv[:, :10], yv))


@pytest.mark.parametrize("bad", [{"epochs": 0}, {"batch_size": -1}, {"epochs": "5"}])
def test_bad_fit_arguments_say_what_was_received(digits, bad):
    with pytest.raises(SetupError, match="Received"):
        fitdoctor.Setup.from_arrays(dense_classifier(), digits[0], digits[1], bad)


def test_missing_validation_data_is_held_out_stratified(digits):
    setup = fitdoctor.Setup.from_arrays(dense_classifier(), digits[0], None)
    assert setup.val_source == "held_out"
    assert len(setup.x_val) == pytest.approx(0.2 * 1347, abs=1)
    assert set(np.unique(setup.y_val)) == set(range(10))


@pytest.mark.parametrize(
    ("y", "kind", "n", "encoding"),
    [
        (np.array([0, 1, 1, 0]), "binary", 2, "integer"),
        (np.array([0, 2, 1, 3]), "multiclass", 4, "integer"),
        (np.eye(3)[[0, 1, 2, 1]], "multiclass", 3, "onehot"),
        (np.array([[1, 1, 0], [0, 0, 1], [1, 0, 1], [0, 0, 0]]), "multilabel", 3, "multihot"),
        (np.array([0.5, 1.7, -2.0, 3.1]), "regression", 0, "continuous"),
    ],
)
def test_the_task_is_inferred_from_the_labels(y, kind, n, encoding):
    task = infer_task(y)
    assert (task.kind, task.n_classes, task.label_encoding) == (kind, n, encoding)


def test_integer_targets_with_a_regression_loss_are_regression():
    assert infer_task(np.array([1, 5, 3, 2]), "mse").kind == "regression"


def test_the_readme_python_example_runs(digits, tmp_path):
    """The call shown in the README and in `diagnose`'s docstring, on the digits with SGD 5."""
    (x, y), (xv, yv) = digits
    report = fitdoctor.diagnose(dense_classifier(lr=5.0, optimizer="sgd"), (x, y),
                                validation_data=(xv, yv), fit={"epochs": 5, "batch_size": 32},
                                budget="quick")
    assert "lr_too_high" in report.ids()[:3]
    report.to_json(tmp_path / "report.json")
    assert fitdoctor.Report.from_json(tmp_path / "report.json").ids() == report.ids()


def test_a_batched_run_ends_on_the_same_weights_and_leaves_the_model_as_compiled(digits,
                                                                               monkeypatch):
    """`Setup.train(batched=True)` runs an epoch's steps in one compiled call: the same updates
    in the same order, so the same weights; the model keeps its own `steps_per_execution`."""
    fit, seen = keras.Model.fit, []

    def recorded(self, *args, **kwargs):
        seen.append(self.steps_per_execution)
        return fit(self, *args, **kwargs)

    monkeypatch.setattr(keras.Model, "fit", recorded)
    (x, y), val = digits
    setup = fitdoctor.Setup.from_arrays(dense_classifier(), (x[:600], y[:600]),
                                        (val[0][:200], val[1][:200]),
                                        {"epochs": 2, "batch_size": 32})
    plain = setup.train(0, validate=False)
    batched = setup.train(0, validate=False, batched=True)
    assert setup.steps_per_epoch == 19 and seen == [1, 19]
    assert all(np.array_equal(a, b) for a, b in
               zip(plain.model.get_weights(), batched.model.get_weights(), strict=True))
    assert batched.model.steps_per_execution == 1


def _counting_steps(build, traces: list[int]):
    """`build`, with each model's training step counting its traces into `traces`."""

    def counted():
        model = build()
        step = model.train_step

        def train_step(data):
            traces.append(1)
            return step(data)

        model.train_step = train_step  # read when Keras makes the train function
        return model

    return counted


@pytest.mark.parametrize("batched", [False, True])
def test_a_run_traces_its_step_once_and_ends_on_the_weights_keras_would_reach(
        digits, monkeypatch, batched):
    """`Setup.train` creates the optimizer's, loss's and metrics' variables before `fit`
    (`build_training_state`): Keras would create them inside the first trace of the training
    step, and TensorFlow then traces it a second time. The weights come out the same."""
    import fitdoctor.setup as setup_module

    (x, y), val = digits
    traces: list[int] = []
    setup = fitdoctor.Setup.from_arrays(_counting_steps(dense_classifier(), traces),
                                        (x[:300], y[:300]), (val[0][:100], val[1][:100]),
                                        {"epochs": 2, "batch_size": 32})
    prebuilt = setup.train(0, validate=False, batched=batched)
    assert len(traces) == 1
    monkeypatch.setattr(setup_module, "build_training_state", lambda model, x, y: False)
    traces.clear()
    as_keras = setup.train(0, validate=False, batched=batched)
    assert len(traces) == 2  # what the first run was spared

    def state(run):
        return [*run.model.get_weights(), *(np.asarray(v) for v in run.model.optimizer.variables)]

    assert all(np.array_equal(a, b) for a, b in zip(state(prebuilt), state(as_keras),
                                                    strict=True))


def test_build_training_state_leaves_what_it_cannot_build_to_keras():
    from fitdoctor.keras_vocab import build_training_state

    unbuilt = keras.Sequential([keras.layers.Dense(2)])
    unbuilt.compile(optimizer="adam", loss="mse")
    rows = np.zeros((2, 3), "float32"), np.zeros((2, 2), "float32")
    assert build_training_state(unbuilt, *rows) is False
    assert not unbuilt.optimizer.built
    assert build_training_state(object(), *rows) is False
    built = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    built.compile(optimizer="adam", loss="mse")
    assert build_training_state(built, *rows) is True
    assert built.optimizer.built


def test_a_batched_run_with_a_callback_calls_it_on_every_batch(digits):
    (x, y), val = digits
    setup = fitdoctor.Setup.from_arrays(dense_classifier(), (x[:600], y[:600]),
                                        (val[0][:200], val[1][:200]),
                                        {"epochs": 1, "batch_size": 32})
    batches = []
    counter = keras.callbacks.LambdaCallback(on_train_batch_end=lambda b, logs: batches.append(b))
    setup.train(0, validate=False, batched=True, callbacks=[counter])
    assert batches == list(range(19))
