"""Fault: a linear classifier (no hidden layer) on two concentric circles: it stays at chance.

A baseline that beats the network names the same capacity gap, so it also counts as found.
Twin: `healthy_circles_mlp.py` (two hidden ReLU layers).
"""

import keras
from sklearn.datasets import make_circles
from sklearn.model_selection import train_test_split

EXPECTED = ["underfitting", "baseline_beats_model"]
TWIN = "healthy_circles_mlp.py"


def load_data():
    x, y = make_circles(n_samples=1200, noise=0.1, factor=0.5, random_state=0)
    x_train, x_val, y_train, y_val = train_test_split(
        x.astype("float32"), y, test_size=0.25, random_state=0, stratify=y
    )
    return (x_train, y_train), (x_val, y_val)


def build_model():
    model = keras.Sequential([
        keras.Input(shape=(2,)),
        keras.layers.Dense(1, activation="sigmoid"),
    ])
    model.compile(optimizer=keras.optimizers.Adam(1e-2),
                  loss="binary_crossentropy", metrics=["accuracy"])
    return model


FIT = {"epochs": 30, "batch_size": 32}
