"""The cats/dogs photos of tests/data/catsdogs as arrays (32x32 RGB, 0-255), for NumPy twins."""

from pathlib import Path

import keras
import numpy as np

PHOTOS = Path(__file__).resolve().parents[3] / "tests" / "data" / "catsdogs"


def photos(split):
    xs, ys = [], []
    for label, name in enumerate(("cats", "dogs")):
        for path in sorted((PHOTOS / split / name).glob("*.jpg")):
            image = keras.utils.load_img(path, target_size=(32, 32))
            xs.append(keras.utils.img_to_array(image))
            ys.append(label)
    return np.stack(xs).astype("float32"), np.asarray(ys, dtype="float32")


def dense(lr=1e-3, rescale=False, recipe=False):
    layers = [keras.Input((32, 32, 3))]
    if rescale:
        layers.append(keras.layers.Rescaling(1.0 / 255))
    layers.append(keras.layers.Flatten())
    if recipe:
        layers += [keras.layers.Dense(128, activation="relu",
                                      kernel_regularizer=keras.regularizers.L2(0.01)),
                   keras.layers.Dropout(0.5)]
    else:
        layers.append(keras.layers.Dense(64, activation="relu"))
    layers.append(keras.layers.Dense(1, activation="sigmoid"))
    model = keras.Sequential(layers)
    model.compile(keras.optimizers.Adam(lr), "binary_crossentropy", metrics=["accuracy"])
    return model
