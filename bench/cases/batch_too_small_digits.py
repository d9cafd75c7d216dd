"""Fault: batch size 1 with Adam at 3e-3: every step follows one sample's noisy gradient.

Twin: `twins/digits_mlp_600_rows.py` (the same 600 rows at batch 32). Trained on 600 rows so one
fit stays a few seconds.
"""

import keras
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

EXPECTED = ["batch_too_small"]
TWIN = "twins/digits_mlp_600_rows.py"


def load_data():
    digits = load_digits()
    x = digits.data.astype("float32") / 16.0
    x_train, x_val, y_train, y_val = train_test_split(
        x, digits.target, test_size=0.25, random_state=0, stratify=digits.target
    )
    return (x_train[:600], y_train[:600]), (x_val, y_val)


def build_model():
    model = keras.Sequential([
        keras.Input(shape=(64,)),
        keras.layers.Dense(64, activation="relu"),
        keras.layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer=keras.optimizers.Adam(3e-3),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


FIT = {"epochs": 4, "batch_size": 1}
