"""Healthy: generated multi-label data (5 labels), sigmoid outputs, binary cross-entropy."""

import keras
from sklearn.datasets import make_multilabel_classification
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

EXPECTED = []


def load_data():
    x, y = make_multilabel_classification(
        n_samples=1200, n_features=20, n_classes=5, n_labels=2, random_state=0
    )
    x_train, x_val, y_train, y_val = train_test_split(x, y, test_size=0.25, random_state=0)
    scaler = StandardScaler().fit(x_train)
    return (
        (scaler.transform(x_train).astype("float32"), y_train.astype("float32")),
        (scaler.transform(x_val).astype("float32"), y_val.astype("float32")),
    )


def build_model():
    model = keras.Sequential([
        keras.Input(shape=(20,)),
        keras.layers.Dense(64, activation="relu"),
        keras.layers.Dense(5, activation="sigmoid"),
    ])
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="binary_crossentropy",
                  metrics=[keras.metrics.BinaryAccuracy(name="accuracy")])
    return model


FIT = {"epochs": 25, "batch_size": 32}
