"""Fault: plain SGD at learning rate 1e-5 on the digits MLP: the loss barely moves in 15 epochs.

Twin: `healthy_digits_mlp.py` (Adam at 1e-3).
"""

import keras
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

EXPECTED = ["lr_too_low"]
TWIN = "healthy_digits_mlp.py"


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
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=1e-5),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


FIT = {"epochs": 15, "batch_size": 32}
