"""Fault: 5 % of three feature columns missing (NaN) in training and validation data.

Twin: `healthy_breast_cancer_mlp.py`.
"""

import keras
import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

EXPECTED = ["missing_values"]
TWIN = "healthy_breast_cancer_mlp.py"


def load_data():
    data = load_breast_cancer()
    x_train, x_val, y_train, y_val = train_test_split(
        data.data, data.target, test_size=0.25, random_state=0, stratify=data.target
    )
    scaler = StandardScaler().fit(x_train)
    x_train = scaler.transform(x_train).astype("float32")
    x_val = scaler.transform(x_val).astype("float32")
    rng = np.random.default_rng(0)
    for x in (x_train, x_val):
        for column in (2, 7, 21):
            x[rng.random(len(x)) < 0.05, column] = np.nan
    return (x_train, y_train), (x_val, y_val)


def build_model():
    model = keras.Sequential([
        keras.Input(shape=(30,)),
        keras.layers.Dense(32, activation="relu"),
        keras.layers.Dense(1, activation="sigmoid"),
    ])
    model.compile(optimizer=keras.optimizers.Adam(1e-3),
                  loss="binary_crossentropy", metrics=["accuracy"])
    return model


FIT = {"epochs": 30, "batch_size": 16}
