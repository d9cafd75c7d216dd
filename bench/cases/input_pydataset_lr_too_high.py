"""Input style: a `keras.utils.PyDataset` subclass that serves batches by index.

Fault: plain SGD at learning rate 3.0. NumPy twin: `lr_too_high_sgd_digits.py`.
"""

import keras
import numpy as np
from _shapes import digits, mlp

EXPECTED = ["lr_too_high"]
TWIN = "healthy_digits_mlp.py"
NUMPY_TWIN = "lr_too_high_sgd_digits.py"


class DigitBatches(keras.utils.PyDataset):
    def __init__(self, x, y, batch_size=32):
        super().__init__()
        self.x, self.y, self.batch_size = x, y, batch_size

    def __len__(self):
        return int(np.ceil(len(self.x) / self.batch_size))

    def __getitem__(self, index):
        rows = slice(index * self.batch_size, (index + 1) * self.batch_size)
        return self.x[rows], self.y[rows]


def load_data():
    x_train, x_val, y_train, y_val = digits()
    return DigitBatches(x_train, y_train), DigitBatches(x_val, y_val, 64)


build_model = mlp
FIT = {"epochs": 15}
