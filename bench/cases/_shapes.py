"""Shared pieces of the input-style cases: the digits split and the SGD-at-3.0 MLP.

Each `input_*` case feeds the same data and the same fault (plain SGD at learning rate 3.0, as in
`lr_too_high_sgd_digits.py`, its NumPy twin) to `fit` in another form users write.
"""

import keras
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split


def digits():
    data = load_digits()
    x = data.data.astype("float32") / 16.0
    return train_test_split(x, data.target, test_size=0.25, random_state=0,
                            stratify=data.target)


def compile_sgd(model, lr=3.0):
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=lr),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def mlp():
    return compile_sgd(keras.Sequential([
        keras.Input(shape=(64,)),
        keras.layers.Dense(64, activation="relu"),
        keras.layers.Dense(10, activation="softmax"),
    ]))
