"""Input style: a subclassed `keras.Model` (no symbolic outputs, layers known only once called).

Fault: plain SGD at learning rate 3.0. NumPy twin: `lr_too_high_sgd_digits.py`.
"""

import keras
from _shapes import compile_sgd, digits

EXPECTED = ["lr_too_high"]
TWIN = "healthy_digits_mlp.py"
NUMPY_TWIN = "lr_too_high_sgd_digits.py"


class DigitNet(keras.Model):
    def __init__(self):
        super().__init__()
        self.hidden = keras.layers.Dense(64, activation="relu")
        self.classify = keras.layers.Dense(10, activation="softmax")

    def call(self, x):
        return self.classify(self.hidden(x))


def load_data():
    x_train, x_val, y_train, y_val = digits()
    return (x_train, y_train), (x_val, y_val)


def build_model():
    return compile_sgd(DigitNet())


FIT = {"epochs": 15, "batch_size": 32}
