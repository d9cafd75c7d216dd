"""Every input `model.fit` accepts goes through one training seam, and the checks read a sample.

Tiny real models on scikit-learn's digits (and the bundled cats/dogs photos), seeded.
"""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

import fitdoctor
from fitdoctor.errors import DataError
from fitdoctor.setup import NotEditable
from tests.conftest import dense_classifier

SRC = Path(__file__).resolve().parents[1] / "src" / "fitdoctor"
PHOTOS = Path(__file__).resolve().parent / "data" / "catsdogs" / "train"


def _dataset(x, y, batch=32, shuffle=False):
    ds = tf.data.Dataset.from_tensor_slices((x, y))
    if shuffle:
        ds = ds.shuffle(len(x), seed=0)
    return ds.batch(batch)


class _Batches(keras.utils.PyDataset):
    """A PyDataset over arrays, as users write them."""

    def __init__(self, x, y, batch=32):
        super().__init__()
        self.x, self.y, self.batch = x, y, batch

    def __len__(self):
        return int(np.ceil(len(self.x) / self.batch))

    def __getitem__(self, i):
        rows = slice(i * self.batch, (i + 1) * self.batch)
        return self.x[rows], self.y[rows]


def test_only_setup_train_calls_model_fit():
    """The refactor leaves one `model.fit` call site in src/: `Setup.train`."""
    sites = []
    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "fit"
                    and any(k.arg in ("validation_data", "callbacks", "epochs")
                            for k in node.keywords)):
                sites.append(f"{path.relative_to(SRC)}:{node.lineno}")
    assert sites and all(s.startswith("setup.py:") for s in sites) and len(sites) == 1, sites


def test_tf_data_trains_as_given_and_checks_read_a_complete_sample(digits):
    (x, y), (xv, yv) = digits
    setup = fitdoctor.Setup.from_arrays(dense_classifier(), _dataset(x, y), _dataset(xv, yv),
                                        {"epochs": 2})
    assert setup.feed.kind == "tf.data" and setup.feed.complete and not setup.sampled
    assert setup.n_train == len(x) and setup.batch_size == 32 and setup.steps_per_epoch == 43
    np.testing.assert_array_equal(setup.y_train, y)
    run = setup.train(0)
    assert len(run.history["loss"]) == 2 and "val_accuracy" in run.history


def test_an_endless_stream_is_sampled_within_the_row_limit(digits, monkeypatch):
    import fitdoctor.setup as setup_module

    monkeypatch.setattr(setup_module, "SAMPLE_ROWS", 300)
    (x, y), (xv, yv) = digits
    endless = _dataset(x, y).repeat()
    with pytest.raises(DataError, match="steps_per_epoch"):  # Keras would train forever
        fitdoctor.Setup.from_arrays(dense_classifier(), endless, (xv, yv), {"epochs": 1})
    setup = fitdoctor.Setup.from_arrays(dense_classifier(), endless, (xv, yv),
                                        {"epochs": 1, "steps_per_epoch": 50})
    assert setup.sampled and setup.n_train == 300
    one_epoch = fitdoctor.Setup.from_arrays(dense_classifier(), endless, (xv, yv),
                                            {"epochs": 1, "steps_per_epoch": 5})
    assert one_epoch.n_train == 160  # never more than the user's epoch of 5 batches
    with pytest.raises(NotEditable, match="sampled"):
        setup.subset(np.arange(100))
    assert len(one_epoch.train(0).history["loss"]) == 1


def test_pydataset_and_imagedatagenerator_are_streams(digits):
    (x, y), (xv, yv) = digits
    setup = fitdoctor.Setup.from_arrays(dense_classifier(), _Batches(x, y), _Batches(xv, yv),
                                        {"epochs": 1})
    assert setup.feed.kind == "PyDataset" and setup.n_train == len(x)
    assert setup.steps_per_epoch == len(_Batches(x, y))
    assert setup.train(0).history["val_loss"]


@pytest.mark.slow
def test_the_imagedatagenerator_recipe_on_photos_is_read_after_its_rescaling():
    from tensorflow.keras.preprocessing.image import ImageDataGenerator

    flow = ImageDataGenerator(rescale=1 / 255, horizontal_flip=True).flow_from_directory(
        str(PHOTOS), target_size=(32, 32), batch_size=16, class_mode="binary", seed=0)

    def build():
        model = keras.Sequential([keras.Input((32, 32, 3)), keras.layers.Flatten(),
                                  keras.layers.Dense(1, activation="sigmoid")])
        model.compile("adam", "binary_crossentropy", metrics=["accuracy"])
        return model

    setup = fitdoctor.Setup.from_arrays(build, flow, None, {"epochs": 1})
    assert setup.val_source == "held_out"  # all photos fit in the sample: held out from it
    assert setup.x_train.shape[1:] == (32, 32, 3) and float(setup.x_train.max()) <= 1.0
    assert setup.task.kind == "binary"


def test_a_generator_is_made_afresh_for_each_run(tmp_path, digits):
    (x, y), (xv, yv) = digits
    np.savez(tmp_path / "digits.npz", x=x, y=y, xv=xv, yv=yv)
    (tmp_path / "gen_setup.py").write_text(textwrap.dedent("""
        import keras, numpy as np
        from pathlib import Path
        CALLS = Path(__file__).with_name("calls.txt")
        def load_data():
            CALLS.write_text(str(int(CALLS.read_text() or 0) + 1) if CALLS.exists() else "1")
            d = np.load(Path(__file__).with_name("digits.npz"))
            def batches():
                while True:
                    for i in range(0, len(d["x"]), 64):
                        yield d["x"][i:i + 64], d["y"][i:i + 64]
            return batches(), (d["xv"], d["yv"])
        def build_model():
            m = keras.Sequential([keras.Input((64,)), keras.layers.Dense(10, "softmax")])
            m.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
            return m
        FIT = {"epochs": 2, "steps_per_epoch": 5}
    """))
    setup = fitdoctor.load_setup(tmp_path / "gen_setup.py")
    assert setup.feed.kind == "generator" and setup.n_train == 320  # one epoch: 5 batches
    setup.train(0)
    setup.train(1)
    assert (tmp_path / "calls.txt").read_text() == "3"  # sampled once, then one per run


def test_a_bare_generator_is_refused_with_how_to_pass_it(digits):
    (x, y), val = digits
    batches = ((x[i:i + 32], y[i:i + 32]) for i in range(0, len(x), 32))
    with pytest.raises(DataError, match="a generator runs once"):
        fitdoctor.Setup.from_arrays(dense_classifier(), batches, val, {"epochs": 1})


def _two_input_model():
    pixels = keras.Input((64,), name="pixels")
    extra = keras.Input((1,), name="extra")
    h = keras.layers.Concatenate()([pixels, extra])
    h = keras.layers.Dense(32, activation="relu")(h)
    model = keras.Model({"pixels": pixels, "extra": extra},
                        keras.layers.Dense(10, activation="softmax")(h))
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def test_a_dict_fed_two_input_model_is_audited_per_input_by_name(digits):
    (x, y), (xv, yv) = digits
    train = ({"pixels": x, "extra": x[:, :1] * 0 + 3.0}, y)
    val = ({"pixels": xv, "extra": xv[:, :1] * 0 + 3.0}, yv)
    setup = fitdoctor.Setup.from_arrays(_two_input_model, train, val, {"epochs": 1})
    assert setup.x_train.shape == (len(x), 65)
    assert setup.feature_names[0] == "pixels[0]" and "extra" in setup.feature_names
    assert setup.train(0).history["val_accuracy"]
    report = fitdoctor.diagnose(setup=setup, budget="quick", checks=["loss_output_mismatch"])
    assert report.ids() == []


def _text_model(vectorizer):
    model = keras.Sequential([keras.Input((1,), dtype="string"), vectorizer,
                              keras.layers.Embedding(50, 8),
                              keras.layers.GlobalAveragePooling1D(),
                              keras.layers.Dense(1, activation="sigmoid")])
    model.compile("adam", "binary_crossentropy", metrics=["accuracy"])
    return model


def test_raw_strings_into_textvectorization_are_read_as_token_ids():
    rng = np.random.default_rng(0)
    words = np.array(["good", "great", "fine", "bad", "awful", "poor", "the", "a", "film"])
    labels = rng.integers(0, 2, 200)
    text = np.array([" ".join(rng.choice(words[:3] if lab else words[3:6], 3)) + " the film"
                     for lab in labels])
    vectorizer = keras.layers.TextVectorization(max_tokens=50, output_sequence_length=6)
    vectorizer.adapt(text)
    setup = fitdoctor.Setup.from_arrays(lambda: _text_model(vectorizer),
                                        (text[:150, None], labels[:150]),
                                        (text[150:, None], labels[150:]), {"epochs": 1})
    assert setup.feed.kind == "inputs" and setup.token_inputs
    assert setup.x_train.shape == (150, 6) and np.issubdtype(setup.x_train.dtype, np.integer)
    assert setup.train(0).history["loss"]


class DigitNet(keras.Model):
    def __init__(self):
        super().__init__()
        self.hidden = keras.layers.Dense(32, activation="relu")
        self.out = keras.layers.Dense(10, activation="softmax")

    def call(self, x):
        return self.out(self.hidden(x))


def _subclassed():
    model = DigitNet()
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def test_a_subclassed_model_is_read_after_a_batch_not_guessed(digits):
    setup = fitdoctor.Setup.from_arrays(_subclassed, digits[0], digits[1], {"epochs": 1})
    report = fitdoctor.diagnose(setup=setup, budget="quick",
                                checks=["loss_output_mismatch", "output_range_mismatch"])
    assert report.ids() == []  # it has 10 softmax units: no "needs 10" false alarm


def test_validation_split_is_applied_as_keras_does(digits):
    (x, y), _ = digits
    setup = fitdoctor.Setup.from_arrays(dense_classifier(), (x, y), None,
                                        {"epochs": 1, "validation_split": 0.25})
    assert setup.val_source == "validation_split"
    split_at = int(np.ceil(len(x) * 0.75))
    np.testing.assert_array_equal(setup.x_val, x[split_at:])
    np.testing.assert_array_equal(setup.x_train, x[:split_at])


def test_a_model_that_cannot_take_the_data_stops_before_any_training(digits):
    def wrong_input():
        model = keras.Sequential([keras.Input((32,)), keras.layers.Dense(10, "softmax")])
        model.compile("adam", "sparse_categorical_crossentropy")
        return model

    with pytest.raises(DataError) as info:
        fitdoctor.Setup.from_arrays(wrong_input, digits[0], digits[1], {"epochs": 50})
    message = str(info.value)
    assert "\n" not in message and "32" in message and "64" in message


def test_a_loss_that_cannot_read_the_labels_is_reported_or_refused(digits):
    def regression_head():  # 3 outputs against one target column: no check knows the fix
        model = keras.Sequential([keras.Input((64,)), keras.layers.Dense(3)])
        model.compile("adam", "mse")
        return model

    (x, _), (xv, _) = digits
    y, yv = np.stack([x[:, 0]] * 2, 1), np.stack([xv[:, 0]] * 2, 1)
    setup = fitdoctor.Setup.from_arrays(regression_head, (x, y), (xv, yv), {"epochs": 1})
    assert setup.loss_error and "(8, 2)" in setup.loss_error and "(8, 3)" in setup.loss_error
    report = fitdoctor.diagnose(setup=setup, budget="quick", checks=["loss_output_mismatch"])
    assert report.ids() == ["loss_output_mismatch"]


_SCRIPT = """
import argparse
from pathlib import Path

import keras
from sklearn.datasets import load_digits

def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=3)
    args = parser.parse_args()
    x, y = load_digits(return_X_y=True)
    x = x / 16.0
    model = keras.Sequential([keras.Input((64,)), keras.layers.Dense(10, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x[:1000], y[:1000], epochs=1, verbose=0)  # a warm-up call
    model.fit(x[:1000], y[:1000], validation_data=(x[1000:], y[1000:]), epochs=args.epochs,
              batch_size=64, verbose=0)
    Path(__file__).with_name("after_fit.txt").write_text("the rest of the script ran")

if __name__ == "__main__":
    main()
"""


def test_an_unmodified_script_is_diagnosed_at_its_fit_call(tmp_path):
    script = tmp_path / "train.py"
    script.write_text(_SCRIPT)
    first = fitdoctor.load_setup(script, script_args=["--epochs", "7"])
    assert first.epochs == 1 and first.val_source == "held_out"
    second = fitdoctor.load_setup(script, script_args=["--epochs", "7"], fit_call=2)
    assert second.epochs == 7 and second.batch_size == 64 and second.val_source == "given"
    assert second.n_train == 1000 and len(second.x_val) == 797
    assert not (tmp_path / "after_fit.txt").exists()  # neither fit nor the rest ran
    assert second.train(0, epochs=1).history["val_accuracy"]


def test_a_script_that_never_calls_fit_gets_one_line(tmp_path):
    from fitdoctor.errors import SetupError

    script = tmp_path / "prep.py"
    script.write_text("import numpy as np\nprint(np.zeros(3).sum())\n")
    with pytest.raises(SetupError, match="never calls model.fit"):
        fitdoctor.load_setup(script)
    script.write_text(_SCRIPT)
    with pytest.raises(SetupError, match="calls model.fit 2 time"):
        fitdoctor.load_setup(script, fit_call=3)


def test_a_compiled_model_instance_is_cloned_never_trained(digits):
    model = dense_classifier()()
    before = [w.copy() for w in model.get_weights()]
    report = fitdoctor.diagnose(model=model, train_data=digits[0], validation_data=digits[1],
                                fit={"epochs": 2}, budget="quick",
                                checks=["loss_output_mismatch", "lr_too_high"])
    assert report.ids() == []
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights(), strict=True))
    assert model.optimizer.iterations.numpy() == 0


def test_a_subclassed_model_trains_under_monitor(digits):
    setup = fitdoctor.Setup.from_arrays(_subclassed, digits[0], digits[1], {"epochs": 2})
    report = fitdoctor.diagnose(setup=setup, budget="quick",
                                checks=["exploding_gradients", "nan_loss"])
    assert [f.id for f in report.findings] == []  # no "check could not run" either
    assert report.measurements["probe_run"]["monitor"]



def test_a_setup_file_may_give_a_compiled_model_instead_of_a_builder(tmp_path):
    (tmp_path / "instance.py").write_text(textwrap.dedent("""
        import keras
        from sklearn.datasets import load_digits
        x, y = load_digits(return_X_y=True)
        def load_data():
            return (x[:1000] / 16, y[:1000]), (x[1000:] / 16, y[1000:])
        MODEL = keras.Sequential([keras.Input((64,)), keras.layers.Dense(10, "softmax")])
        MODEL.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
        FIT = {"epochs": 1}
    """))
    setup = fitdoctor.load_setup(tmp_path / "instance.py")
    assert setup.train(0).history["val_accuracy"]
    assert setup.build_model() is not setup.build_model()  # a fresh clone each time


@pytest.mark.slow
def test_fix_takes_a_compiled_model_instance_and_never_trains_it(digits):
    model = dense_classifier()()
    before = [w.copy() for w in model.get_weights()]
    result = fitdoctor.fix(model=model, train_data=digits[0], validation_data=digits[1],
                           fit={"epochs": 2}, budget="quick", remedies=["early_stopping"])
    assert result.before["val_accuracy"] > 0.5
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights(), strict=True))


def test_a_remedy_that_mends_the_output_loss_pair_can_train_again(digits):
    def categorical_on_ids():  # integer labels into categorical cross-entropy: cannot train
        model = keras.Sequential([keras.Input((64,)), keras.layers.Dense(10, "softmax")])
        model.compile("adam", "categorical_crossentropy", metrics=["accuracy"])
        return model

    def sparse_on_ids():
        model = keras.Sequential([keras.Input((64,)), keras.layers.Dense(10, "softmax")])
        model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
        return model

    setup = fitdoctor.Setup.from_arrays(categorical_on_ids, digits[0], digits[1], {"epochs": 1})
    assert setup.loss_error is not None
    mended = setup.replace(build_model=sparse_on_ids)
    assert mended.loss_error is None and mended.train(0).history["val_accuracy"]
    assert setup.replace(fit={"epochs": 2}).loss_error == setup.loss_error
