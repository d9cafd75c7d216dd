"""Fault: "is this digit an 8?" with only 10 eights left in the training data (1 in 120 rows),
while validation keeps its natural one in ten.

Twin: `healthy_digits_mlp.py`.
"""

import keras
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

EXPECTED = ["class_imbalance"]
TWIN = "healthy_digits_mlp.py"


def load_data():
    digits = load_digits()
    x = digits.data.astype("float32") / 16.0
    y = (digits.target == 8).astype("int64")
    x_train, x_val, y_train, y_val = train_test_split(
        x, y, test_size=0.25, random_state=0, stratify=y
    )
    keep = np.concatenate([np.flatnonzero(y_train == 0), np.flatnonzero(y_train == 1)[:10]])
    return (x_train[keep], y_train[keep]), (x_val, y_val)


def build_model():
    model = keras.Sequential([
        keras.Input(shape=(64,)),
        keras.layers.Dense(64, activation="relu"),
        keras.layers.Dense(1, activation="sigmoid"),
    ])
    model.compile(optimizer=keras.optimizers.Adam(1e-3),
                  loss="binary_crossentropy", metrics=["accuracy"])
    return model


FIT = {"epochs": 15, "batch_size": 32}
