"""Fault: 120 columns of random noise appended to the 30 real features.

Twin: `healthy_breast_cancer_mlp.py`.
"""

import keras
import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

EXPECTED = ["irrelevant_features"]
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
    x_train = np.hstack([x_train, rng.normal(size=(len(x_train), 120))]).astype("float32")
    x_val = np.hstack([x_val, rng.normal(size=(len(x_val), 120))]).astype("float32")
    return (x_train, y_train), (x_val, y_val)


def build_model():
    model = keras.Sequential([
        keras.Input(shape=(150,)),
        keras.layers.Dense(32, activation="relu"),
        keras.layers.Dense(1, activation="sigmoid"),
    ])
    model.compile(optimizer=keras.optimizers.Adam(1e-3),
                  loss="binary_crossentropy", metrics=["accuracy"])
    return model


FIT = {"epochs": 30, "batch_size": 16}
