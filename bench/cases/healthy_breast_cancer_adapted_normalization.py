"""Healthy: raw breast cancer features standardized inside the model by a `Normalization` layer
adapted on the training split, a small MLP."""

import keras
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split

EXPECTED = []


def load_data():
    data = load_breast_cancer()
    x_train, x_val, y_train, y_val = train_test_split(
        data.data.astype("float32"), data.target, test_size=0.25, random_state=0,
        stratify=data.target
    )
    return (x_train, y_train), (x_val, y_val)


def build_model():
    (x_train, _), _ = load_data()
    normalizer = keras.layers.Normalization()
    normalizer.adapt(x_train)
    model = keras.Sequential([
        keras.Input(shape=(30,)),
        normalizer,
        keras.layers.Dense(32, activation="relu"),
        keras.layers.Dense(1, activation="sigmoid"),
    ])
    model.compile(optimizer=keras.optimizers.Adam(1e-3),
                  loss="binary_crossentropy", metrics=["accuracy"])
    return model


FIT = {"epochs": 30, "batch_size": 16}
