"""Input style: `keras.utils.image_dataset_from_directory` on real photos (cats/dogs, 64x64).

Fault: raw 0-255 pixels into a dense network, no Rescaling layer.
NumPy twin: `twins/photos_arrays_unscaled.py` (the same photos as arrays).
"""

from pathlib import Path

import keras

EXPECTED = ["unscaled_inputs"]
TWIN = "twins/photos_arrays_rescaled.py"
NUMPY_TWIN = "twins/photos_arrays_unscaled.py"

PHOTOS = Path(__file__).resolve().parents[2] / "tests" / "data" / "catsdogs"


def load_data():
    def folder(split, shuffle):
        return keras.utils.image_dataset_from_directory(
            PHOTOS / split, image_size=(32, 32), batch_size=32, label_mode="binary",
            shuffle=shuffle, seed=0, verbose=False)

    return folder("train", True), folder("val", False)


def build_model():
    model = keras.Sequential([
        keras.Input((32, 32, 3)),
        keras.layers.Flatten(),
        keras.layers.Dense(64, activation="relu"),
        keras.layers.Dense(1, activation="sigmoid"),
    ])
    model.compile("adam", "binary_crossentropy", metrics=["accuracy"])
    return model


FIT = {"epochs": 10}
