"""Shared fixtures: tiny real data and models, seeded."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

import fitdoctor  # noqa: E402


@pytest.fixture(scope="session")
def digits():
    """scikit-learn's digits, scaled to [0, 1], split 75/25 stratified."""
    data = load_digits()
    x = (data.data / 16.0).astype("float32")
    x_tr, x_val, y_tr, y_val = train_test_split(
        x, data.target, test_size=0.25, random_state=0, stratify=data.target
    )
    return (x_tr, y_tr), (x_val, y_val)


def dense_classifier(n_inputs: int = 64, n_classes: int = 10, *, lr: float = 1e-3,
                     hidden: int = 64, optimizer: str = "adam"):
    """A builder for a healthy small MLP classifier."""

    def build():
        model = keras.Sequential([
            keras.Input(shape=(n_inputs,)),
            keras.layers.Dense(hidden, activation="relu"),
            keras.layers.Dense(n_classes, activation="softmax"),
        ])
        opt = (keras.optimizers.Adam(lr) if optimizer == "adam"
               else keras.optimizers.SGD(lr))
        model.compile(optimizer=opt, loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"])
        return model

    return build


@pytest.fixture(scope="session")
def healthy_setup(digits):
    """The healthy digits setup every check must stay silent on."""
    return fitdoctor.Setup.from_arrays(
        dense_classifier(), digits[0], digits[1], {"epochs": 15, "batch_size": 32}
    )


@pytest.fixture(scope="session")
def healthy_report(healthy_setup):
    """One standard diagnosis of the healthy setup, shared by the conformance suite."""
    return fitdoctor.diagnose(setup=healthy_setup, seed=0)


def flip_labels(y: np.ndarray, share: float, n_classes: int = 10, seed: int = 0
                ) -> tuple[np.ndarray, np.ndarray]:
    """`y` with a seeded `share` of its labels moved to another class, and the rows moved."""
    rng = np.random.default_rng(seed)
    flipped = rng.choice(len(y), size=int(len(y) * share), replace=False)
    noisy = y.copy()
    noisy[flipped] = (noisy[flipped] + rng.integers(1, n_classes, len(flipped))) % n_classes
    return noisy, flipped


def fingerprint(*arrays: np.ndarray) -> list[str]:
    """Hashes of arrays, to show nothing wrote to them."""
    import hashlib

    return [hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest() for a in arrays]


BENCH = Path(__file__).resolve().parents[1] / "bench"


def bench_module(name: str):
    """Import `bench/<name>.py` (not a package) as the module `bench_<name>`."""
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while building
    spec.loader.exec_module(module)
    return module
