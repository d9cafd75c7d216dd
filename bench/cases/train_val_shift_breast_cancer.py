"""Fault: validation rows are the quarter of tumours with the largest mean radius, not a random
quarter: training and validation data come from different distributions.

Twin: `healthy_breast_cancer_mlp.py` (random stratified split).
"""

import keras
import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.preprocessing import StandardScaler

EXPECTED = ["train_val_shift"]
TWIN = "healthy_breast_cancer_mlp.py"


def load_data():
    data = load_breast_cancer()
    order = np.argsort(data.data[:, 0])
    cut = int(0.75 * len(order))
    train, val = order[:cut], order[cut:]
    scaler = StandardScaler().fit(data.data[train])
    x_train = scaler.transform(data.data[train]).astype("float32")
    x_val = scaler.transform(data.data[val]).astype("float32")
    return (x_train, data.target[train]), (x_val, data.target[val])


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
