"""Fault: sigmoid outputs trained with categorical cross-entropy on wine's one-hot labels.

Categorical cross-entropy expects a probability distribution over the classes; independent
sigmoids are not one. Keras rescales the outputs to sum to 1 inside the loss, so training still
works here, but `predict()` returns scores that are not class probabilities. Twin:
`healthy_wine_onehot_mlp.py` (softmax output).
"""

import keras
import numpy as np
from sklearn.datasets import load_wine
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

EXPECTED = ["loss_output_mismatch"]
TWIN = "healthy_wine_onehot_mlp.py"


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
        keras.layers.Dense(3, activation="sigmoid"),
    ])
    model.compile(optimizer=keras.optimizers.Adam(3e-3),
                  loss="categorical_crossentropy", metrics=["accuracy"])
    return model


FIT = {"epochs": 30, "batch_size": 16}
