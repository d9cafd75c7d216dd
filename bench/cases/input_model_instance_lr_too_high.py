"""Input style: a compiled model instance (`MODEL = ...`) instead of a `build_model()` function,
as code without a builder has it. fitdoctor trains clones; the instance is never trained.

Fault: plain SGD at learning rate 3.0. NumPy twin: `lr_too_high_sgd_digits.py`.
"""

from _shapes import digits, mlp

EXPECTED = ["lr_too_high"]
TWIN = "healthy_digits_mlp.py"
NUMPY_TWIN = "lr_too_high_sgd_digits.py"


def load_data():
    x_train, x_val, y_train, y_val = digits()
    return (x_train, y_train), (x_val, y_val)


MODEL = mlp()
FIT = {"epochs": 15, "batch_size": 32}
