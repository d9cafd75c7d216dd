"""NumPy twin of `input_image_dataset_unscaled.py`: the same photos as 0-255 arrays."""

from _photos import dense, photos

EXPECTED = ["unscaled_inputs"]


def load_data():
    return photos("train"), photos("val")


def build_model():
    return dense()


FIT = {"epochs": 10, "batch_size": 32}
