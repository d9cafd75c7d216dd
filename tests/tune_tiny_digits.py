"""A tiny setup file for the tune tests: 600 digits rows, 4 epochs, a small MLP."""

import keras
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split


def load_data():
    digits = load_digits()
    x = digits.data[:800].astype("float32") / 16.0
    y = digits.target[:800]
    x_tr, x_val, y_tr, y_val = train_test_split(x, y, test_size=0.25, random_state=0,
                                                stratify=y)
    return (x_tr, y_tr), (x_val, y_val)


def build_model(units=32):
    model = keras.Sequential([
        keras.Input(shape=(64,)),
        keras.layers.Dense(units, activation="relu"),
        keras.layers.Dropout(0.1),
        keras.layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer=keras.optimizers.Adam(1e-2),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


FIT = {"epochs": 4, "batch_size": 32}
