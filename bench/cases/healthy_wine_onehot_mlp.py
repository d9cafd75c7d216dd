"""Healthy: wine (3 classes), one-hot labels, softmax output with categorical cross-entropy."""

import keras
import numpy as np
from sklearn.datasets import load_wine
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

EXPECTED = []


def load_data():
    data = load_wine()
    x_train, x_val, y_train, y_val = train_test_split(
        data.data, data.target, test_size=0.3, random_state=0, stratify=data.target
    )
    scaler = StandardScaler().fit(x_train)
    onehot = np.eye(3, dtype="float32")
    return (
        (scaler.transform(x_train).astype("float32"), onehot[y_train]),
        (scaler.transform(x_val).astype("float32"), onehot[y_val]),
    )


def build_model():
    model = keras.Sequential([
        keras.Input(shape=(13,)),
        keras.layers.Dense(16, activation="relu"),
        keras.layers.Dense(3, activation="softmax"),
    ])
    model.compile(optimizer=keras.optimizers.Adam(3e-3),
                  loss="categorical_crossentropy", metrics=["accuracy"])
    return model


FIT = {"epochs": 30, "batch_size": 16}
