"""Fault: a 10-layer sigmoid MLP on digits: gradients shrink layer by layer towards the input.

Twin: `healthy_digits_mlp.py` (one ReLU hidden layer).
"""

import keras
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

EXPECTED = ["vanishing_gradients"]
TWIN = "healthy_digits_mlp.py"


def load_data():
    digits = load_digits()
    x = digits.data.astype("float32") / 16.0
    x_train, x_val, y_train, y_val = train_test_split(
        x, digits.target, test_size=0.25, random_state=0, stratify=digits.target
    )
    return (x_train, y_train), (x_val, y_val)


def build_model():
    layers = [keras.Input(shape=(64,))]
    layers += [keras.layers.Dense(32, activation="sigmoid") for _ in range(10)]
    layers.append(keras.layers.Dense(10, activation="softmax"))
    model = keras.Sequential(layers)
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.01),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


FIT = {"epochs": 15, "batch_size": 32}
