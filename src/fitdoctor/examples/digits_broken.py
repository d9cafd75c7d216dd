"""A broken setup on scikit-learn's digits: raw 0-16 pixels and a far too high learning rate.

Run `fitdoctor diagnose` on it to see both causes named; `digits_healthy.py` is its twin.
"""

import keras
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split


def load_data():
    digits = load_digits()
    x = digits.data.astype("float32")  # pixel values 0..16, not scaled
    y = digits.target
    x_train, x_val, y_train, y_val = train_test_split(
        x, y, test_size=0.25, random_state=0, stratify=y
    )
    return (x_train, y_train), (x_val, y_val)


def build_model():
    model = keras.Sequential([
        keras.Input(shape=(64,)),
        keras.layers.Dense(64, activation="relu"),
        keras.layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.5),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


FIT = {"epochs": 15, "batch_size": 32}

