"""A small seeded text classification set as token ids, for the text augmentation tests.

Reviews are a few neutral words and two sentiment words, positive or negative. Each sentiment
group is a word the training reviews use and some of its WordNet synonyms (all in the excerpt
under `tests/data/wordnet`), so reviews can be written with the training words only, or with
any word of each group. No synonym crosses from a positive group to a negative one.
"""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np

import fitdoctor

#: The WordNet excerpt these reviews' synonyms come from.
WORDNET = Path(__file__).parent / "data" / "wordnet"
#: Training word -> its synonyms that only the `synonyms=True` reviews use.
POSITIVE = {
    "happy": ("glad", "felicitous"),
    "excellent": ("splendid", "first-class"),
    "wonderful": ("marvelous", "fantastic", "terrific"),
    "brilliant": ("superb", "magnificent", "glorious"),
    "enjoyable": ("pleasurable", "gratifying"),
}
NEGATIVE = {
    "terrible": ("dreadful", "atrocious", "horrendous"),
    "sad": ("deplorable", "lamentable", "pitiful"),
    "boring": ("tedious", "tiresome", "dull"),
    "poor": ("miserable", "pathetic", "inadequate"),
    "ugly": ("vile", "despicable", "wretched"),
}
FILLERS = ("the", "movie", "film", "plot", "acting", "was", "a", "story", "and", "very",
           "really", "it", "this", "i", "found", "ending", "cast", "music", "script", "quite")
_WORDS = (*FILLERS,
          *(w for group in (POSITIVE, NEGATIVE) for k, v in group.items() for w in (k, *v)))
#: Index = token id, as `TextVectorization.get_vocabulary()` lists it: padding, unknown, then
#: the words in a seeded shuffle, so that an id's size says nothing about its sentiment.
VOCABULARY = ("", "[UNK]", *(_WORDS[i] for i in np.random.default_rng(0).permutation(len(_WORDS))))
SEQ_LEN = 12

_ID = {word: i for i, word in enumerate(VOCABULARY)}


def reviews(n: int, seed: int, *, synonyms: bool) -> tuple[np.ndarray, np.ndarray]:
    """`n` reviews as token ids (n, SEQ_LEN), int64, padded at the end, and 0/1 labels.

    Args:
        n: Reviews to write.
        seed: Seed of the generator.
        synonyms: Whether sentiment words come from each whole group (True) or are the
            training words only (False).
    """
    rng = np.random.default_rng(seed)
    x = np.zeros((n, SEQ_LEN), dtype=np.int64)
    y = rng.integers(0, 2, size=n)
    for row, label in enumerate(y):
        groups = POSITIVE if label else NEGATIVE
        words = list(rng.choice(FILLERS, size=int(rng.integers(4, 9))))
        for key in rng.choice(list(groups), size=2, replace=False):
            word = rng.choice((key, *groups[key])) if synonyms else key
            words.insert(int(rng.integers(len(words) + 1)), str(word))
        x[row, :len(words)] = [_ID[w] for w in words]
    return x, y


def embedding_classifier(dim: int = 8, lr: float = 1e-2):
    """A builder for an Embedding -> average -> sigmoid classifier over `VOCABULARY`."""

    def build():
        model = keras.Sequential([
            keras.Input(shape=(SEQ_LEN,), dtype="int32"),
            keras.layers.Embedding(len(VOCABULARY), dim),
            keras.layers.GlobalAveragePooling1D(),
            keras.layers.Dense(1, activation="sigmoid"),
        ])
        model.compile(optimizer=keras.optimizers.Adam(lr), loss="binary_crossentropy",
                      metrics=["accuracy"])
        return model

    return build


def text_setup(n_train: int = 300, n_val: int = 200, *, val_synonyms: bool = True,
               epochs: int = 8, vocabulary: bool = True) -> fitdoctor.Setup:
    """Training reviews with the training words only; validation reviews with `val_synonyms`."""
    train = reviews(n_train, 0, synonyms=False)
    val = reviews(n_val, 1, synonyms=val_synonyms)
    return fitdoctor.Setup.from_arrays(
        embedding_classifier(), train, val, {"epochs": epochs, "batch_size": 32},
        vocabulary=VOCABULARY if vocabulary else None,
    )


def healthy_text_setup() -> fitdoctor.Setup:
    """Training and validation reviews from the same distribution (every group word in both)."""
    train = reviews(400, 2, synonyms=True)
    val = reviews(200, 3, synonyms=True)
    return fitdoctor.Setup.from_arrays(embedding_classifier(), train, val,
                                       {"epochs": 10, "batch_size": 32}, vocabulary=VOCABULARY)
