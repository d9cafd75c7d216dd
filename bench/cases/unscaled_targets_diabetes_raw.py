"""Fault: scikit-learn's diabetes regression with raw targets (25 to 346) and Adam at its default
rate: the network's MSE stays above that of predicting the mean. The cause is the target scale,
not capacity: `unscaled_targets` must rank above the `underfitting` it produces.

Twin: `healthy_regression_diabetes.py` (the same inputs with standardized targets).
"""

import keras
from sklearn.datasets import load_diabetes
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

EXPECTED = ["unscaled_targets"]
TWIN = "healthy_regression_diabetes.py"


def load_data():
    data = load_diabetes()
    x_train, x_val, y_train, y_val = train_test_split(
        data.data, data.target, test_size=0.25, random_state=0
    )
    x_scaler = StandardScaler().fit(x_train)
    return (
        (x_scaler.transform(x_train).astype("float32"), y_train.astype("float32")),
        (x_scaler.transform(x_val).astype("float32"), y_val.astype("float32")),
    )


def build_model():
    model = keras.Sequential([
        keras.Input(shape=(10,)),
        keras.layers.Dense(32, activation="relu"),
        keras.layers.Dense(1),
    ])
    model.compile(optimizer=keras.optimizers.Adam(), loss="mse", metrics=["mae"])
    return model


FIT = {"epochs": 20, "batch_size": 32}
