"""Healthy: scikit-learn's digits scaled to [0, 1], a small ReLU MLP, Adam at its default rate.

The twin of most digits fault cases (learning rate, activations, loss/output mismatch).
"""

import keras
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

EXPECTED = []


def load_data():
    digits = load_digits()
    x = digits.data.astype("float32") / 16.0
    x_train, x_val, y_train, y_val = train_test_split(
        x, digits.target, test_size=0.25, random_state=0, stratify=digits.target
    )
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
