"""Fault: 40 training rows (3 %), each with eight pixels recorded as 30-90 instead of [0, 1].

Twin: `healthy_digits_mlp.py`.
"""

import keras
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

EXPECTED = ["outliers"]
TWIN = "healthy_digits_mlp.py"


def load_data():
    digits = load_digits()
    x = digits.data.astype("float32") / 16.0
    x_train, x_val, y_train, y_val = train_test_split(
        x, digits.target, test_size=0.25, random_state=0, stratify=digits.target
    )
    x_train = x_train.copy()
    rng = np.random.default_rng(0)
    for row in rng.choice(len(x_train), 40, replace=False):  # entry errors, each its own
        x_train[row, rng.choice(64, 8, replace=False)] = rng.uniform(30, 90, 8)
    return (x_train, y_train), (x_val, y_val)


def build_model():
    model = keras.Sequential([
        keras.Input(shape=(64,)),
        keras.layers.Dense(64, activation="relu"),
        keras.layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer=keras.optimizers.Adam(1e-3),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


FIT = {"epochs": 15, "batch_size": 32}
