"""Healthy: the digits MLP trained with plain SGD at 0.05 on pixels scaled to [0, 1].

A healthy setup that does not use Adam, so a learning-rate check cannot pass it just for
using Adam's default. Twin of `unscaled_inputs_digits_255.py`.
"""

import keras
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

EXPECTED = []


def load_data():
    digits = load_digits()
    x = (digits.data * (255.0 / 16.0)).astype("float32") / 255.0
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
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.05),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


FIT = {"epochs": 15, "batch_size": 32}
