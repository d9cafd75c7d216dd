"""Fault: tanh layers with weights at stddev 5: pre-activations sit far in the flat tails.

Twin: `healthy_digits_mlp.py`.
"""

import keras
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

EXPECTED = ["saturated_activations"]
TWIN = "healthy_digits_mlp.py"


def load_data():
    digits = load_digits()
    x = digits.data.astype("float32") / 16.0
    x_train, x_val, y_train, y_val = train_test_split(
        x, digits.target, test_size=0.25, random_state=0, stratify=digits.target
    )
    return (x_train, y_train), (x_val, y_val)


def build_model():
    init = keras.initializers.RandomNormal(stddev=5.0)
    model = keras.Sequential([
        keras.Input(shape=(64,)),
        keras.layers.Dense(64, activation="tanh", kernel_initializer=init),
        keras.layers.Dense(64, activation="tanh", kernel_initializer=init),
        keras.layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.01),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


FIT = {"epochs": 15, "batch_size": 32}
