"""Input style: raw strings into a model whose first layer is `TextVectorization`.

Fault: a 3-way softmax head trained with binary cross-entropy on one-hot labels.
NumPy twin: `twins/text_token_ids_mismatch.py` (the same texts as token ids, same head).
"""

import keras
from _text import classifier, split, vectorizer

EXPECTED = ["loss_output_mismatch"]
TWIN = "healthy_digits_mlp.py"
NUMPY_TWIN = "twins/text_token_ids_mismatch.py"

VECTORIZE = vectorizer()


def load_data():
    (x, y), (xv, yv) = split()
    return (x[:, None], y), (xv[:, None], yv)


def build_model():
    inputs = keras.Input((1,), dtype="string")
    return classifier(inputs, VECTORIZE(inputs))


FIT = {"epochs": 5, "batch_size": 32}
