"""Input style: the much-copied recipe, unchanged: `ImageDataGenerator(...).flow_from_directory`
with augmentation, Dense + L2(0.01) + Dropout(0.5), and Adam on ExponentialDecay(0.1, 1000, 0.96).

Fault: Adam starting at learning rate 0.1, a hundred times its default.
NumPy twin: `twins/photos_arrays_adam_0_1.py` (the same photos and model, as arrays).
"""

from pathlib import Path

import keras
from tensorflow.keras.preprocessing.image import ImageDataGenerator

EXPECTED = ["lr_too_high"]
TWIN = "twins/photos_arrays_rescaled.py"
NUMPY_TWIN = "twins/photos_arrays_adam_0_1.py"

PHOTOS = Path(__file__).resolve().parents[2] / "tests" / "data" / "catsdogs"


def load_data():
    augment = ImageDataGenerator(rescale=1.0 / 255, rotation_range=20, zoom_range=0.2,
                                 horizontal_flip=True)
    plain = ImageDataGenerator(rescale=1.0 / 255)
    train = augment.flow_from_directory(PHOTOS / "train", target_size=(32, 32), batch_size=32,
                                        class_mode="binary", seed=0)
    val = plain.flow_from_directory(PHOTOS / "val", target_size=(32, 32), batch_size=32,
                                    class_mode="binary", shuffle=False)
    return train, val


def build_model():
    schedule = keras.optimizers.schedules.ExponentialDecay(0.1, decay_steps=1000, decay_rate=0.96)
    model = keras.Sequential([
        keras.Input((32, 32, 3)),
        keras.layers.Flatten(),
        keras.layers.Dense(128, activation="relu",
                           kernel_regularizer=keras.regularizers.L2(0.01)),
        keras.layers.Dropout(0.5),
        keras.layers.Dense(1, activation="sigmoid"),
    ])
    model.compile(keras.optimizers.Adam(schedule), "binary_crossentropy", metrics=["accuracy"])
    return model


FIT = {"epochs": 10}
