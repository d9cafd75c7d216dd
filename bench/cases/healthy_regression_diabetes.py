"""Healthy: scikit-learn's diabetes regression, inputs and target standardized, MLP with MSE."""

import keras
from sklearn.datasets import load_diabetes
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

EXPECTED = []


def load_data():
    data = load_diabetes()
    x_train, x_val, y_train, y_val = train_test_split(
        data.data, data.target, test_size=0.25, random_state=0
    )
    x_scaler = StandardScaler().fit(x_train)
    mean, std = y_train.mean(), y_train.std()
    return (
        (x_scaler.transform(x_train).astype("float32"), ((y_train - mean) / std).astype("float32")),
        (x_scaler.transform(x_val).astype("float32"), ((y_val - mean) / std).astype("float32")),
    )


def build_model():
    model = keras.Sequential([
        keras.Input(shape=(10,)),
        keras.layers.Dense(32, activation="relu"),
        keras.layers.Dense(1),
    ])
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse", metrics=["mae"])
    return model


FIT = {"epochs": 40, "batch_size": 16}
