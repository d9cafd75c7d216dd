"""Twin of `batch_too_small_digits.py`: the same 600 training rows, batch 32, 15 epochs.

Not a case of its own (no `EXPECTED`, kept out of the fault benchmark): the healthy setup that the
batch-size fault should be compared with. `healthy_digits_mlp.py` trains on all 1,347 rows, so
it measured the extra rows as much as the batch size.
"""
import keras
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split


def load_data():
    digits = load_digits()
    x = digits.data.astype("float32") / 16.0
    x_train, x_val, y_train, y_val = train_test_split(
        x, digits.target, test_size=0.25, random_state=0, stratify=digits.target
    )
    return (x_train[:600], y_train[:600]), (x_val, y_val)


def build_model():
    model = keras.Sequential([
        keras.Input(shape=(64,)),
        keras.layers.Dense(64, activation="relu"),
        keras.layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer=keras.optimizers.Adam(1e-3),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


FIT = {"epochs": 15, "batch_size": 32}
