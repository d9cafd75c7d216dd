"""Input style: a two-input functional model fed a dict of arrays (pixels and a second view).

Fault: plain SGD at learning rate 3.0. NumPy twin: `lr_too_high_sgd_digits.py`.
"""

import keras
from _shapes import compile_sgd, digits

EXPECTED = ["lr_too_high"]
TWIN = "healthy_digits_mlp.py"
NUMPY_TWIN = "lr_too_high_sgd_digits.py"


def _views(x):
    return {"left": x.reshape(-1, 8, 8)[:, :, :4].reshape(-1, 32),
            "right": x.reshape(-1, 8, 8)[:, :, 4:].reshape(-1, 32)}


def load_data():
    x_train, x_val, y_train, y_val = digits()
    return (_views(x_train), y_train), (_views(x_val), y_val)


def build_model():
    left, right = keras.Input((32,), name="left"), keras.Input((32,), name="right")
    hidden = keras.layers.Dense(64, activation="relu")(keras.layers.Concatenate()([left, right]))
    out = keras.layers.Dense(10, activation="softmax")(hidden)
    return compile_sgd(keras.Model({"left": left, "right": right}, out))


FIT = {"epochs": 15, "batch_size": 32}
