"""A seeded synthetic review corpus for the text input cases: 1,600 short "reviews" whose label
(negative, positive or mixed, one-hot) is carried by sentiment words among neutral filler, and
the models that read them."""

import keras
import numpy as np

POSITIVE = "good great fine superb lovely moving brilliant fun warm clever".split()
NEGATIVE = "bad awful poor dull boring weak clumsy flat cold silly".split()
FILLER = ("the a film story cast plot scene acting music it was and very quite "
          "this that with of in on").split()


def reviews(n=1600, seed=0):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 3, n)
    texts = []
    for label in labels:
        words = list(rng.choice(FILLER, 8))
        moods = [(NEGATIVE, NEGATIVE), (POSITIVE, POSITIVE), (POSITIVE, NEGATIVE)][label]
        for mood in moods:
            words.insert(int(rng.integers(0, len(words) + 1)), str(rng.choice(mood)))
        texts.append(" ".join(words))
    return np.array(texts), np.eye(3, dtype="float32")[labels]


def split():
    texts, labels = reviews()
    return (texts[:1200], labels[:1200]), (texts[1200:], labels[1200:])


def vectorizer():
    layer = keras.layers.TextVectorization(max_tokens=64, output_sequence_length=12)
    layer.adapt(split()[0][0])
    return layer


def classifier(inputs, x):
    """Embedding + pooling + the faulty head: 3 softmax units under binary cross-entropy."""
    x = keras.layers.Embedding(64, 16)(x)
    x = keras.layers.GlobalAveragePooling1D()(x)
    x = keras.layers.Dense(16, activation="relu")(x)
    model = keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(x))
    model.compile("adam", "binary_crossentropy", metrics=["accuracy"])
    return model
