"""Every remedy: registered once, changes a copy of the setup, builds, saves, and shows its code.

Then one test per remedy (or family) pinning what it changes, on tiny real setups.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest
from sklearn.datasets import load_digits

import fitdoctor
from fitdoctor.findings import Finding
from fitdoctor.fix.model_edit import NotEditable, edited_builder
from fitdoctor.fix.remedies import Remedy, register, registered_remedies, remedies_for


def fingerprint(*arrays: np.ndarray) -> list[bytes]:
    return [np.ascontiguousarray(a).tobytes() for a in arrays]


def _digits(n: int = 360):
    data = load_digits()
    x, y = data.data.astype("float32")[:n], data.target[:n]
    return (x[:240], y[:240]), (x[240:], y[240:])


def _mlp(activation: str = "sigmoid", dropout: float | None = None, optimizer: str = "sgd"):
    def build():
        layers = [keras.Input(shape=(64,)), keras.layers.Dense(16, activation=activation)]
        if dropout is not None:
            layers.append(keras.layers.Dropout(dropout))
        layers.append(keras.layers.Dense(10, activation="softmax"))
        model = keras.Sequential(layers)
        opt = keras.optimizers.SGD(0.01) if optimizer == "sgd" else keras.optimizers.Adam(1e-3)
        model.compile(optimizer=opt, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        return model

    return build


def _functional_relu():
    def build():
        inputs = keras.Input(shape=(64,))
        hidden = keras.layers.Dense(16, activation="relu")(inputs)
        outputs = keras.layers.Dense(10, activation="softmax")(hidden)
        model = keras.Model(inputs, outputs)
        model.compile(optimizer=keras.optimizers.Adam(1e-3),
                      loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        return model

    return build


@pytest.fixture(scope="module")
def sigmoid_setup():
    """Raw 0-16 digits, a sigmoid MLP with heavy dropout, SGD, batch 8, one missing value."""
    (x, y), val = _digits()
    x = x.copy()
    x[3, 5] = np.nan
    return fitdoctor.Setup.from_arrays(_mlp(dropout=0.6), (x, y), val,
                                       {"epochs": 4, "batch_size": 8})


@pytest.fixture(scope="module")
def relu_setup():
    """A functional ReLU MLP; training rows hold duplicates, one outlier row and a val copy."""
    (x, y), (xv, yv) = _digits()
    x = x.copy()
    x[10:20] = x[0:10]
    y = y.copy()
    y[10:20] = y[0:10]
    x[30] = 1000.0
    x[40] = xv[0]
    return fitdoctor.Setup.from_arrays(_functional_relu(), (x, y), (xv, yv),
                                       {"epochs": 4, "batch_size": 32})


@pytest.fixture(scope="module")
def regression_setup():
    """Raw diabetes targets (25 to 346) under a sigmoid output: it can never reach them."""
    from sklearn.datasets import load_diabetes

    data = load_diabetes()
    x, y = data.data.astype("float32") * 10, data.target.astype("float32")

    def build():
        model = keras.Sequential([keras.Input(shape=(10,)),
                                  keras.layers.Dense(16, activation="relu"),
                                  keras.layers.Dense(1, activation="sigmoid")])
        model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="mse")
        return model

    return fitdoctor.Setup.from_arrays(build, (x[:300], y[:300]), (x[300:], y[300:]),
                                       {"epochs": 30, "batch_size": 32})


def _flat_digit_images(n: int = 600, epochs: int = 3):
    """Digits as 8x8x1 images, read by Flatten + one softmax layer (no convolutions)."""
    data = load_digits()
    x = (data.data[:n] / 16.0).reshape(-1, 8, 8, 1).astype("float32")
    y = data.target[:n]

    def build():
        model = keras.Sequential([keras.Input(shape=(8, 8, 1)), keras.layers.Flatten(),
                                  keras.layers.Dense(10, activation="softmax")])
        model.compile(optimizer=keras.optimizers.Adam(1e-3),
                      loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        return model

    cut = int(n * 2 / 3)
    return fitdoctor.Setup.from_arrays(build, (x[:cut], y[:cut]), (x[cut:], y[cut:]),
                                       {"epochs": epochs, "batch_size": 32})


@pytest.fixture(scope="module")
def flat_image_setup():
    return _flat_digit_images(240, 1)


def _finding(finding_id: str, **evidence) -> Finding:
    return Finding(finding_id, "warning", finding_id, evidence)


def _applicable(remedy: Remedy, setups):
    for setup in setups:
        for finding_id in remedy.treats:
            finding = _finding(finding_id)
            if remedy.applies(setup, finding):
                return setup, finding
    return None, None


REMEDY_IDS = sorted(registered_remedies())


def test_registry_has_every_family():
    ids = set(REMEDY_IDS)
    assert {"standardize_inputs", "impute_missing", "drop_outliers", "fix_mislabeled",
            "class_weights", "drop_irrelevant_features", "deduplicate", "image_augmentation",
            "l1_penalty", "l2_penalty", "dropout", "early_stopping", "learning_rate",
            "lr_schedule", "switch_to_adam", "gradient_clipping", "larger_batch",
            "relu_activation", "leaky_relu", "batch_normalization", "reinitialize",
            "target_scaling", "text_augmentation", "selu_activation", "deeper", "convolutions",
            "output_loss_pair", "more_capacity", "less_capacity"} <= ids
    assert [r.id for r in remedies_for("overfitting")]


@pytest.mark.parametrize("remedy_id", REMEDY_IDS)
def test_a_remedy_treats_only_registered_findings(remedy_id):
    from fitdoctor.checks import registered_checks

    unknown = set(registered_remedies()[remedy_id].treats) - set(registered_checks())
    assert not unknown, f"{remedy_id} treats finding ids no check emits: {sorted(unknown)}"


def test_registering_an_existing_id_is_an_error():
    class Duplicate(Remedy):
        id = "l2_penalty"
        treats = ("overfitting",)

    with pytest.raises(ValueError, match="already registered"):
        register(Duplicate)


@pytest.mark.parametrize("remedy_id", REMEDY_IDS)
def test_remedy_contract(remedy_id, sigmoid_setup, relu_setup, image_setup, regression_setup,
                         text_setup, flat_image_setup, tmp_path):
    """Builds on a copy, leaves the user's arrays alone, saves and reloads, shows code."""
    remedy = registered_remedies()[remedy_id]()
    assert remedy.description and remedy.treats and remedy.grid
    setup, finding = _applicable(
        remedy, (sigmoid_setup, relu_setup, image_setup, regression_setup, text_setup,
                 flat_image_setup))
    assert setup is not None, f"{remedy_id} applies to none of the test setups"
    before = fingerprint(setup.x_train, setup.y_train, setup.x_val, setup.y_val)
    strength = remedy.strengths(setup, finding)[-1]
    changed = remedy.apply(setup, finding, strength)
    assert changed is not setup
    assert fingerprint(setup.x_train, setup.y_train, setup.x_val, setup.y_val) == before
    keras.utils.set_random_seed(0)
    model = changed.build_model()
    model.fit(np.nan_to_num(changed.x_train[:64]), changed.y_train[:64], verbose=0,
              **changed.fit_kwargs(epochs=1))
    model.save(tmp_path / "m.keras")
    assert keras.saving.load_model(tmp_path / "m.keras") is not None
    code = remedy.code(setup, finding, strength)
    assert isinstance(code, str) and code.strip()


@pytest.fixture(scope="module")
def image_setup():
    rng = np.random.default_rng(0)
    x = rng.random((40, 16, 16, 3)).astype("float32")
    y = (x[:, :8].mean(axis=(1, 2, 3)) > 0.5).astype(int)

    def build():
        model = keras.Sequential([
            keras.Input(shape=(16, 16, 3)),
            keras.layers.Conv2D(4, 3, activation="relu"),
            keras.layers.Flatten(),
            keras.layers.Dense(1, activation="sigmoid"),
        ])
        model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
        return model

    return fitdoctor.Setup.from_arrays(build, (x[:30], y[:30]), (x[30:], y[30:]), {"epochs": 1})


@pytest.fixture(scope="module")
def text_setup():
    """Reviews as token ids into an Embedding model (see tests/text_samples.py)."""
    from tests.text_samples import text_setup as reviews_setup

    return reviews_setup()


def _get(remedy_id: str) -> Remedy:
    return registered_remedies()[remedy_id]()


def _dense(model) -> list:
    return [la for la in model._flatten_layers() if type(la).__name__ == "Dense"]


def test_standardize_inputs_puts_normalization_in_the_model(sigmoid_setup):
    setup = _get("standardize_inputs").apply(sigmoid_setup, _finding("unscaled_inputs"))
    model = setup.build_model()
    normalization = [la for la in model._flatten_layers()
                     if type(la).__name__ == "Normalization"]
    assert len(normalization) == 1
    scaled = keras.ops.convert_to_numpy(normalization[0](np.nan_to_num(setup.x_train)))
    assert abs(float(scaled.mean())) < 0.1
    assert np.array_equal(np.isnan(setup.x_train), np.isnan(sigmoid_setup.x_train))


def test_impute_missing_fills_with_median(sigmoid_setup):
    setup = _get("impute_missing").apply(sigmoid_setup, _finding("missing_values"))
    assert not np.isnan(setup.x_train).any()
    assert setup.x_train[3, 5] == np.nanmedian(sigmoid_setup.x_train[:, 5])
    assert np.isnan(sigmoid_setup.x_train[3, 5])


def test_drop_outliers_uses_the_rows_the_check_named(relu_setup):
    remedy = _get("drop_outliers")
    named = remedy.apply(relu_setup, _finding("outliers", rows=[1, 2]))
    assert named.n_train == relu_setup.n_train - 2
    detected = remedy.apply(relu_setup, _finding("outliers"))
    assert detected.n_train == relu_setup.n_train - 1
    assert detected.x_train.max() < 1000


def test_detected_outliers_are_those_of_nan_aware_medians_with_gaps_in_the_table():
    from fitdoctor.fix.remedies.outliers import outlier_rows

    rng = np.random.default_rng(3)
    x = rng.normal(size=(200, 6))
    x[rng.random(x.shape) < 0.1] = np.nan
    x[:, 4] = np.nan  # a column with no value at all
    x[[7, 50], 2] = 40.0
    def build():
        model = keras.Sequential([keras.Input(shape=(6,)), keras.layers.Dense(2, "softmax")])
        model.compile("adam", "sparse_categorical_crossentropy")
        return model

    setup = fitdoctor.Setup.from_arrays(build, (x, np.arange(200) % 2),
                                        (x[:20], np.arange(20) % 2), {"epochs": 1})
    median = np.nanmedian(x, axis=0)
    mad = np.nanmedian(np.abs(x - median), axis=0) * 1.4826
    robust_z = np.nan_to_num(np.abs(x - median) / np.where(mad > 1e-12, mad, np.inf))
    expected = np.flatnonzero(robust_z.max(axis=1) > 6.0)
    assert list(expected) == [7, 50]
    assert list(outlier_rows(setup, _finding("outliers"))) == list(expected)


def test_fix_mislabeled_drops_or_relabels_flipped_rows():
    data = load_digits()
    x, y = data.data[:400] / 16.0, data.target[:400].copy()
    flipped = np.arange(0, 400, 20)
    y[flipped] = (y[flipped] + 1) % 10
    setup = fitdoctor.Setup.from_arrays(_mlp(optimizer="adam"), (x[:300], y[:300]),
                                        (x[300:], y[300:]), {"epochs": 1})
    remedy = _get("fix_mislabeled")
    dropped = remedy.apply(setup, _finding("label_noise"), "drop")
    removed = setup.n_train - dropped.n_train
    assert 5 <= removed <= 45
    relabelled = remedy.apply(setup, _finding("label_noise"), "relabel")
    truth = data.target[:300]
    assert (relabelled.y_train == truth).sum() > (setup.y_train == truth).sum()


def test_class_weights_and_oversampling_balance_classes(digits):
    (x, y), val = digits
    keep = (y != 1) | (np.arange(len(y)) % 10 == 0)
    setup = fitdoctor.Setup.from_arrays(_mlp(optimizer="adam"), (x[keep], y[keep]), val,
                                        {"epochs": 1})
    weighted = _get("class_weights").apply(setup, _finding("class_imbalance"), 1.0)
    weights = weighted.fit["class_weight"]
    assert weights[1] > 5 * weights[0]
    resampled = _get("oversample_minority").apply(setup, _finding("class_imbalance"))
    counts = np.bincount(resampled.y_train)
    assert counts.min() == counts.max()


def test_drop_irrelevant_features_narrows_the_model():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 6)).astype("float32")
    y = (x[:, 0] + x[:, 1] > 0).astype(int)

    def build():
        model = keras.Sequential([keras.Input(shape=(6,)), keras.layers.Dense(8, activation="relu"),
                                  keras.layers.Dense(1, activation="sigmoid")])
        model.compile(optimizer="adam", loss="binary_crossentropy")
        return model

    setup = fitdoctor.Setup.from_arrays(build, (x[:200], y[:200]), (x[200:], y[200:]))
    changed = _get("drop_irrelevant_features").apply(
        setup, _finding("irrelevant_features", columns=[2, 3, 4, 5]))
    assert changed.x_train.shape[1] == 2 and changed.x_val.shape[1] == 2
    assert changed.build_model().input_shape == (None, 2)


def test_deduplicate_drops_copies_and_leaked_rows(relu_setup):
    changed = _get("deduplicate").apply(relu_setup, _finding("duplicate_samples"))
    assert changed.n_train == relu_setup.n_train - 11


def test_weight_penalties_dropout_and_capacity_edit_layers(relu_setup):
    l2 = _get("l2_penalty").apply(relu_setup, _finding("overfitting"), 1e-3).build_model()
    assert all(la.kernel_regularizer is not None for la in _dense(l2))
    l1 = _get("l1_penalty").apply(relu_setup, _finding("overfitting"), 1e-4).build_model()
    assert type(_dense(l1)[0].kernel_regularizer).__name__ == "L1"
    dropped = _get("dropout").apply(relu_setup, _finding("overfitting"), 0.35).build_model()
    rates = [la.rate for la in dropped._flatten_layers() if type(la).__name__ == "Dropout"]
    assert rates == [0.35]
    wider = _get("more_capacity").apply(relu_setup, _finding("underfitting"), 4).build_model()
    assert [la.units for la in _dense(wider)] == [64, 10]
    narrower = _get("less_capacity").apply(relu_setup, _finding("overfitting"), 0.5).build_model()
    assert [la.units for la in _dense(narrower)] == [8, 10]


def test_lower_dropout_caps_rates(sigmoid_setup):
    model = _get("lower_dropout").apply(sigmoid_setup, _finding("dropout_too_high"), 0.1)
    rates = [la.rate for la in model.build_model().layers if type(la).__name__ == "Dropout"]
    assert rates == [0.1]


def test_early_stopping_restores_best_weights(relu_setup):
    changed = _get("early_stopping").apply(relu_setup, _finding("overfitting"))
    (stop,) = changed.fit["callbacks"]
    assert stop.restore_best_weights and stop.monitor == "val_loss"
    assert "callbacks" not in relu_setup.fit


def test_optimizer_remedies_change_the_compile_config(sigmoid_setup):
    lr = _get("learning_rate")
    suggested = lr.apply(sigmoid_setup, _finding("lr_too_low", suggested_lr=0.05))
    assert lr.strengths(sigmoid_setup, _finding("lr_too_low", suggested_lr=0.05)) == (0.05,)
    assert float(suggested.build_model().optimizer.learning_rate) == pytest.approx(0.05)
    assert lr.strengths(sigmoid_setup, _finding("lr_too_high")) == (0.001, 0.0001)
    adam = _get("switch_to_adam").apply(sigmoid_setup, _finding("lr_too_low")).build_model()
    assert type(adam.optimizer).__name__ == "Adam"
    clipped = _get("gradient_clipping").apply(sigmoid_setup, _finding("exploding_gradients"), 1.0)
    assert clipped.build_model().optimizer.clipnorm == 1.0
    cosine = _get("lr_schedule").apply(sigmoid_setup, _finding("lr_too_high"), "cosine")
    schedule = cosine.build_model().optimizer._learning_rate
    assert type(schedule).__name__ == "CosineDecay"
    bigger = _get("larger_batch").apply(sigmoid_setup, _finding("batch_too_small"), 32)
    assert bigger.batch_size == 32 and sigmoid_setup.batch_size == 8


def _adam_at(lr: float, schedule: bool = False):
    def build():
        model = keras.Sequential([keras.Input(shape=(64,)), keras.layers.Dense(10, "softmax")])
        rate = keras.optimizers.schedules.ExponentialDecay(lr, 1000, 0.96) if schedule else lr
        model.compile(optimizer=keras.optimizers.Adam(rate),
                      loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        return model

    return build


def test_learning_rate_also_tries_the_keras_default_when_it_lies_further_the_same_way():
    train, val = _digits()
    remedy = _get("learning_rate")
    # The ImageDataGenerator recipe: Adam on ExponentialDecay(0.1, ...), the range test says 0.0233.
    recipe = fitdoctor.Setup.from_arrays(_adam_at(0.1, schedule=True), train, val, {"epochs": 1})
    assert remedy.strengths(recipe, _finding("lr_too_high", suggested_lr=0.0233)) == (0.0233, 0.001)
    # A suggestion within 2x of the default: the default is not a distinct try.
    assert remedy.strengths(recipe, _finding("lr_too_high", suggested_lr=0.0015)) == (0.0015,)
    # Too low: the default is tried when it is above both the rate and the suggestion.
    slow = fitdoctor.Setup.from_arrays(_adam_at(1e-5), train, val, {"epochs": 1})
    assert remedy.strengths(slow, _finding("lr_too_low", suggested_lr=1e-4)) == (1e-4, 0.001)
    # Never the wrong way: a default above a rate judged too high is not tried.
    assert remedy.strengths(slow, _finding("lr_too_high", suggested_lr=1e-6)) == (1e-6,)
    changed = remedy.apply(recipe, _finding("lr_too_high"), 0.001).build_model()
    assert float(changed.optimizer.learning_rate) == pytest.approx(0.001)


def test_activation_remedies_swap_hidden_activations_only(sigmoid_setup, relu_setup):
    relu = _get("relu_activation").apply(sigmoid_setup, _finding("vanishing_gradients"))
    names = [la.activation.__name__ for la in _dense(relu.build_model())]
    assert names == ["relu", "softmax"]
    leaky = _get("leaky_relu").apply(relu_setup, _finding("dead_relu"))
    names = [la.activation.__name__ for la in _dense(leaky.build_model())]
    assert names == ["leaky_relu", "softmax"]
    selu = _get("selu_activation").apply(relu_setup, _finding("dead_relu")).build_model()
    assert [la.activation.__name__ for la in _dense(selu)] == ["selu", "softmax"]
    assert type(_dense(selu)[0].kernel_initializer).__name__ == "LecunNormal"
    he = _get("reinitialize").apply(relu_setup, _finding("dead_relu")).build_model()
    assert type(_dense(he)[0].kernel_initializer).__name__ == "HeNormal"
    bn = _get("batch_normalization").apply(sigmoid_setup, _finding("vanishing_gradients"))
    kinds = [type(la).__name__ for la in bn.build_model()._flatten_layers()]
    assert "BatchNormalization" in kinds and "Activation" in kinds


def _dead_bias_mlp(bias: float = -5.0, stddev: float | None = None, activation: str = "relu"):
    def build():
        init = (keras.initializers.RandomNormal(stddev=stddev) if stddev
                else "glorot_uniform")
        model = keras.Sequential([
            keras.Input(shape=(64,)),
            keras.layers.Dense(32, activation=activation, kernel_initializer=init,
                               bias_initializer=keras.initializers.Constant(bias)),
            keras.layers.Dense(10, activation="softmax", kernel_initializer=init),
        ])
        model.compile(optimizer=keras.optimizers.Adam(1e-3),
                      loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        return model

    return build


def test_reinitialize_gives_each_layer_the_initializer_of_its_activation():
    (x, y), val = _digits()
    dead = fitdoctor.Setup.from_arrays(_dead_bias_mlp(-5.0), (x / 16, y), (val[0] / 16, val[1]))
    remedy = _get("reinitialize")
    assert remedy.applies(dead, _finding("dead_relu"))
    hidden, output = _dense(remedy.apply(dead, _finding("dead_relu")).build_model())
    assert type(hidden.kernel_initializer).__name__ == "HeNormal"
    assert np.all(keras.ops.convert_to_numpy(hidden.bias) == 0.0)
    assert type(output.kernel_initializer).__name__ == "GlorotUniform"
    wide_tanh = fitdoctor.Setup.from_arrays(_dead_bias_mlp(0.0, 5.0, "tanh"), (x / 16, y),
                                            (val[0] / 16, val[1]))
    hidden, _ = _dense(remedy.apply(wide_tanh, _finding("saturated_activations")).build_model())
    assert type(hidden.kernel_initializer).__name__ == "GlorotUniform"
    assert float(np.std(keras.ops.convert_to_numpy(hidden.kernel))) < 0.5
    healthy = fitdoctor.Setup.from_arrays(_dead_bias_mlp(0.0, None, "tanh"), (x / 16, y),
                                          (val[0] / 16, val[1]))
    assert not remedy.applies(healthy, _finding("saturated_activations"))


@pytest.mark.slow
def test_fix_revives_dead_relu_units_by_reinitializing():
    data = load_digits()
    x, y = data.data[:600] / 16.0, data.target[:600]
    setup = fitdoctor.Setup.from_arrays(_dead_bias_mlp(-5.0), (x[:400], y[:400]),
                                        (x[400:], y[400:]), {"epochs": 6, "batch_size": 32})
    report = fitdoctor.Report(findings=(_finding("dead_relu"),))
    result = fitdoctor.fix(setup=setup, report=report, budget="quick", remedies=["reinitialize"])
    assert result.applied == ("reinitialize",)
    assert result.after["val_accuracy"] > result.before["val_accuracy"] + 0.3


def test_target_scaling_learns_in_the_targets_units(regression_setup):
    remedy = _get("target_scaling")
    finding = _finding("output_range_mismatch")
    assert remedy.applies(regression_setup, finding)
    scaled = remedy.apply(regression_setup, finding)
    keras.utils.set_random_seed(0)
    model = scaled.build_model()
    assert _dense(model)[-1].activation.__name__ == "linear"
    model.fit(scaled.x_train, scaled.y_train, verbose=0, **scaled.fit_kwargs())
    pred = keras.ops.convert_to_numpy(model(scaled.x_val)).ravel()
    y_val = regression_setup.y_val
    mse = float(np.mean((pred - y_val) ** 2))
    assert mse < 0.7 * float(np.var(y_val))  # explains variance in raw units
    code = remedy.code(regression_setup, finding)
    assert "Rescaling(scale=" in code and "offset=" in code


def test_target_scaling_stays_out_of_scaled_targets_and_classification(regression_setup,
                                                                         sigmoid_setup):
    remedy = _get("target_scaling")
    y = regression_setup.y_train
    standardized = regression_setup.replace(y_train=(y - y.mean()) / y.std())
    assert not remedy.applies(standardized, _finding("underfitting"))
    assert remedy.applies(regression_setup, _finding("underfitting"))
    assert not remedy.applies(sigmoid_setup, _finding("underfitting"))


def test_deeper_adds_a_hidden_layer_as_wide_as_the_last(relu_setup, flat_image_setup):
    remedy = _get("deeper")
    deeper = remedy.apply(relu_setup, _finding("underfitting"))
    for _ in range(2):  # layer names change from build to build; the edit must not depend on them
        dense = _dense(deeper.build_model())
        assert [la.units for la in dense] == [16, 16, 10]
        assert [la.activation.__name__ for la in dense] == ["relu", "relu", "softmax"]
    assert not remedy.applies(flat_image_setup, _finding("underfitting"))  # no hidden layer


def test_convolutions_go_in_front_of_dense_only_image_models(flat_image_setup, image_setup,
                                                            relu_setup):
    remedy = _get("convolutions")
    finding = _finding("underfitting")
    assert remedy.applies(flat_image_setup, finding)
    assert not remedy.applies(image_setup, finding)  # already convolutional
    assert not remedy.applies(relu_setup, finding)  # not images
    model = remedy.apply(flat_image_setup, finding).build_model()
    kinds = [type(la).__name__ for la in model.layers]
    assert kinds[:5] == ["Conv2D", "MaxPooling2D", "Conv2D", "MaxPooling2D", "Flatten"]
    assert model.output_shape == (None, 10) and model.loss == "sparse_categorical_crossentropy"


@pytest.mark.slow
def test_fix_keeps_convolutions_for_a_dense_model_on_images():
    setup = _flat_digit_images(600, 6)
    report = fitdoctor.Report(findings=(_finding("underfitting"),))
    result = fitdoctor.fix(setup=setup, report=report, budget="quick", remedies=["convolutions"])
    assert result.applied == ("convolutions",)
    assert result.after["val_accuracy"] > result.before["val_accuracy"] + 0.02


def test_output_loss_pair_matches_the_task():
    data = load_digits()
    x, y = data.data[:300] / 16.0, (data.target[:300] > 4).astype(int)

    def build():  # one softmax unit with categorical cross-entropy: always outputs 1
        model = keras.Sequential([keras.Input(shape=(64,)),
                                  keras.layers.Dense(8, activation="relu"),
                                  keras.layers.Dense(1, activation="softmax")])
        model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
        return model

    setup = fitdoctor.Setup.from_arrays(build, (x[:200], y[:200]), (x[200:], y[200:]))
    model = _get("output_loss_pair").apply(setup, _finding("loss_output_mismatch")).build_model()
    assert model.layers[-1].activation.__name__ == "sigmoid"
    assert model.loss == "binary_crossentropy"


def test_image_augmentation_is_inactive_at_inference(image_setup):
    remedy = _get("image_augmentation")
    assert not remedy.applies(fitdoctor.Setup.from_arrays(_mlp(), *_digits()),
                              _finding("overfitting"))
    model = remedy.apply(image_setup, _finding("overfitting"), 0.3).build_model()
    x = image_setup.x_val[:4]
    first = keras.ops.convert_to_numpy(model(x, training=False))
    assert np.allclose(first, keras.ops.convert_to_numpy(model(x, training=False)))
    kinds = {type(la).__name__ for la in model._flatten_layers()}
    assert {"RandomFlip", "RandomRotation", "RandomZoom", "RandomContrast"} <= kinds


def test_subclassed_model_cannot_be_edited(digits):
    class Tiny(keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = keras.layers.Dense(10, activation="softmax")

        def call(self, x):
            return self.dense(x)

    def build():
        model = Tiny()
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        return model

    with pytest.raises(NotEditable, match="subclassed"):
        edited_builder(build, layer_edit=lambda layer, config, is_output: None)()


# adapted preprocessing layers survive a layer edit --------------------------------------------

def _raw_table():
    return np.random.default_rng(0).normal(100, 10, size=(200, 3)).astype("float32")


def _normalized_builder(x):
    def build():
        norm = keras.layers.Normalization()
        norm.adapt(x)
        model = keras.Sequential([keras.Input((3,)), norm, keras.layers.Dense(8, activation="relu"),
                                  keras.layers.Dense(1, activation="sigmoid")])
        model.compile("adam", "binary_crossentropy", metrics=["accuracy"])
        return model
    return build


def test_a_layer_edit_keeps_an_adapted_normalization():
    x = _raw_table()
    y = (x[:, 0] > 100).astype("int64")
    setup = fitdoctor.Setup.from_arrays(_normalized_builder(x), (x, y), (x[:50], y[:50]),
                                        {"epochs": 1})
    changed = _get("l2_penalty").apply(setup, _finding("overfitting"), 1e-4)
    model = changed.build_model()
    assert any(layer.kernel_regularizer is not None for layer in model.layers
               if isinstance(layer, keras.layers.Dense))
    seen = keras.ops.convert_to_numpy(model.layers[0](x))
    # what the Dense layers receive is still standardized, not the raw values near 100
    assert np.abs(seen.mean(axis=0)).max() < 0.1 and np.abs(seen.std(axis=0) - 1).max() < 0.1


def test_a_layer_edit_keeps_a_text_vectorization_vocabulary():
    texts = np.array(["good film", "bad film", "good plot", "bad plot"] * 10, dtype=object)
    labels = np.array([1, 0, 1, 0] * 10)

    def build():
        vectorize = keras.layers.TextVectorization(max_tokens=20, output_sequence_length=2)
        vectorize.adapt(texts)
        inputs = keras.Input((), dtype="string")
        hidden = keras.layers.Embedding(20, 4)(vectorize(inputs))
        hidden = keras.layers.Dense(8, activation="relu")(keras.layers.Flatten()(hidden))
        model = keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid")(hidden))
        model.compile("adam", "binary_crossentropy")
        return model

    edited = edited_builder(build, layer_edit=lambda layer, config, is_output: None)()
    assert edited.layers[1].get_vocabulary() == build().layers[1].get_vocabulary()
    edited.fit(texts, labels, epochs=1, verbose=0)  # the lookup table is initialized
