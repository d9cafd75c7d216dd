"""NumPy twin of `input_imagedatagenerator_recipe.py`: the recipe's model at Adam 0.1, on the
same photos rescaled to [0, 1] as arrays (no augmentation)."""

from _photos import dense, photos

EXPECTED = ["lr_too_high"]


def load_data():
    (x, y), (xv, yv) = photos("train"), photos("val")
    return (x / 255.0, y), (xv / 255.0, yv)


def build_model():
    return dense(lr=0.1, recipe=True)


FIT = {"epochs": 10, "batch_size": 32}
