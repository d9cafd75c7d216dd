"""Fault: an 8-layer ReLU MLP with weights drawn at stddev 1.0 (about 8x He) and no clipping.

Activations and gradients grow by roughly 8x per layer; the loss jumps to huge values or NaN.
Twin: `healthy_digits_mlp.py`.
"""

import keras
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

EXPECTED = ["exploding_gradients"]
TWIN = "healthy_digits_mlp.py"


def load_data():
    digits = load_digits()
    x = digits.data.astype("float32") / 16.0
    x_train, x_val, y_train, y_val = train_test_split(
        x, digits.target, test_size=0.25, random_state=0, stratify=digits.target
    )
    return (x_train, y_train), (x_val, y_val)


def build_model():
    init = keras.initializers.RandomNormal(stddev=1.0)
    layers = [keras.Input(shape=(64,))]
    layers += [keras.layers.Dense(64, activation="relu", kernel_initializer=init)
               for _ in range(8)]
    layers.append(keras.layers.Dense(10, activation="softmax", kernel_initializer=init))
    model = keras.Sequential(layers)
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.01),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


FIT = {"epochs": 15, "batch_size": 32}
