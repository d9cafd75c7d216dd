"""Input style: `tf.data.Dataset` pipelines, healthy (Adam at 1e-3): no problem finding expected.

The healthy twin of `input_tfdata_lr_too_high.py`; the same as `healthy_digits_mlp.py` as arrays.
"""

import keras
import tensorflow as tf
from _shapes import digits

EXPECTED = []
NUMPY_TWIN = "healthy_digits_mlp.py"


def load_data():
    x_train, x_val, y_train, y_val = digits()
    train = (tf.data.Dataset.from_tensor_slices((x_train, y_train))
             .shuffle(len(x_train), seed=0).batch(32).prefetch(tf.data.AUTOTUNE))
    val = tf.data.Dataset.from_tensor_slices((x_val, y_val)).batch(64)
    return train, val


def build_model():
    model = keras.Sequential([
        keras.Input(shape=(64,)),
        keras.layers.Dense(64, activation="relu"),
        keras.layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer=keras.optimizers.Adam(1e-3),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


FIT = {"epochs": 15}
