"""NumPy twin of `input_text_vectorization_mismatch.py`: the same texts, vectorized beforehand
into token ids, and the same faulty head."""

import sys
from pathlib import Path

import keras

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _text import classifier, split, vectorizer  # noqa: E402

EXPECTED = ["loss_output_mismatch"]

VECTORIZE = vectorizer()


def load_data():
    (x, y), (xv, yv) = split()
    return (VECTORIZE(x).numpy(), y), (VECTORIZE(xv).numpy(), yv)


def build_model():
    inputs = keras.Input((12,), dtype="int64")
    return classifier(inputs, inputs)


FIT = {"epochs": 5, "batch_size": 32}
