"""Input style: `tf.data.Dataset` pipelines (shuffled, batched, prefetched) for both splits.

Fault: plain SGD at learning rate 3.0. NumPy twin: `lr_too_high_sgd_digits.py`.
"""

import tensorflow as tf
from _shapes import digits, mlp

EXPECTED = ["lr_too_high"]
TWIN = "healthy_digits_mlp.py"
NUMPY_TWIN = "lr_too_high_sgd_digits.py"


def load_data():
    x_train, x_val, y_train, y_val = digits()
    train = (tf.data.Dataset.from_tensor_slices((x_train, y_train))
             .shuffle(len(x_train), seed=0).batch(32).prefetch(tf.data.AUTOTUNE))
    val = tf.data.Dataset.from_tensor_slices((x_val, y_val)).batch(64)
    return train, val


build_model = mlp
FIT = {"epochs": 15}
