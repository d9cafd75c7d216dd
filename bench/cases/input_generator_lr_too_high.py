"""Input style: an endless Python generator with `steps_per_epoch`, validation as arrays.

Fault: plain SGD at learning rate 3.0. NumPy twin: `lr_too_high_sgd_digits.py`.
"""

import numpy as np
from _shapes import digits, mlp

EXPECTED = ["lr_too_high"]
TWIN = "healthy_digits_mlp.py"
NUMPY_TWIN = "lr_too_high_sgd_digits.py"


def load_data():
    x_train, x_val, y_train, y_val = digits()

    def batches(batch_size=32):
        rng = np.random.default_rng(0)
        while True:
            order = rng.permutation(len(x_train))
            for start in range(0, len(order) - batch_size + 1, batch_size):
                rows = order[start:start + batch_size]
                yield x_train[rows], y_train[rows]

    return batches(), (x_val, y_val)


build_model = mlp
FIT = {"epochs": 15, "steps_per_epoch": 42}
