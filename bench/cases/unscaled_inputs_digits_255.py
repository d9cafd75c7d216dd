"""Fault: digits as 8-bit pixel values 0..255 (raw image bytes) with SGD at 0.05.

The first steps blow the ReLU layer up (training loss in the thousands) and leave it dead at
chance accuracy. Twin: `healthy_digits_mlp_sgd.py`: the same model and optimizer on pixels
divided by 255.
"""

import keras
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

EXPECTED = ["unscaled_inputs"]
TWIN = "healthy_digits_mlp_sgd.py"


def load_data():
    digits = load_digits()
    x = (digits.data * (255.0 / 16.0)).astype("float32")  # 0..255, as read from image files
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
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.05),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


FIT = {"epochs": 15, "batch_size": 32}
