"""Fault: softmax over 10 classes trained with binary cross-entropy on one-hot labels.

Keras averages 10 independent binary losses, so the loss and "accuracy" look fine while the
model is not trained as a 10-way classifier. Twin: `healthy_digits_mlp.py`.
"""

import keras
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

EXPECTED = ["loss_output_mismatch"]
TWIN = "healthy_digits_mlp.py"


def load_data():
    digits = load_digits()
    x = digits.data.astype("float32") / 16.0
    y = np.eye(10, dtype="float32")[digits.target]
    x_train, x_val, y_train, y_val = train_test_split(
        x, y, test_size=0.25, random_state=0, stratify=digits.target
    )
    return (x_train, y_train), (x_val, y_val)


def build_model():
    model = keras.Sequential([
        keras.Input(shape=(64,)),
        keras.layers.Dense(64, activation="relu"),
        keras.layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer=keras.optimizers.Adam(1e-3),
                  loss="binary_crossentropy", metrics=["accuracy"])
    return model


FIT = {"epochs": 15, "batch_size": 32}
