"""Healthy twin of the photo input cases: the same photos, a Rescaling(1/255) layer first."""

from _photos import dense, photos

EXPECTED = []


def load_data():
    return photos("train"), photos("val")


def build_model():
    return dense(rescale=True)


FIT = {"epochs": 10, "batch_size": 32}
