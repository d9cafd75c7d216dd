"""Fault: raw breast cancer features (up to about 4,000) behind a `Normalization()` layer that
was never adapted. Such a layer is an identity, so the first Dense layer sees the raw values:
a layer's presence is not its effect.

Twin: `healthy_breast_cancer_adapted_normalization.py` (the same layer, adapted).
"""

import keras
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split

EXPECTED = ["unscaled_inputs"]
TWIN = "healthy_breast_cancer_adapted_normalization.py"


def load_data():
    data = load_breast_cancer()
    x_train, x_val, y_train, y_val = train_test_split(
        data.data.astype("float32"), data.target, test_size=0.25, random_state=0,
        stratify=data.target
    )
    return (x_train, y_train), (x_val, y_val)


def build_model():
    model = keras.Sequential([
        keras.Input(shape=(30,)),
        keras.layers.Normalization(),  # never adapted: mean 0, variance 1
        keras.layers.Dense(32, activation="relu"),
        keras.layers.Dense(1, activation="sigmoid"),
    ])
    model.compile(optimizer=keras.optimizers.Adam(1e-3),
                  loss="binary_crossentropy", metrics=["accuracy"])
    return model


FIT = {"epochs": 30, "batch_size": 16}
