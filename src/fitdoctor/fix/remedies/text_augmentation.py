"""Augmented copies of text training rows, EDA-style (treats `overfitting`, `insufficient_data`).

Applies to text given as token ids (2-D whole numbers into an `Embedding` first layer). Every
training sequence gets `COPIES` augmented copies from `fitdoctor.augment.text.augment_tokens`,
each with one operation touching the searched fraction of its tokens. Synonym replacement and
insertion need the setup's vocabulary (`VOCABULARY` in a setup file) and WordNet
(`apt-get install wordnet-base`); without either, the remedy still runs with random swap and
deletion only, says so in a warning, and its code says how to get the synonyms.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from fitdoctor.augment.text import ThesaurusUnavailable, augment_tokens, load_thesaurus
from fitdoctor.findings import Finding
from fitdoctor.fix.remedies.base import Remedy, register, snippet
from fitdoctor.setup import Setup

logger = logging.getLogger(__name__)

#: Augmented copies added per training row.
COPIES = 2
#: Seed of the augmentation, so every try of one strength trains on the same rows.
SEED = 0

_WARNED: set[str] = set()


def thesaurus_for(setup: Setup) -> tuple[Mapping[str, Sequence[str]], str]:
    """The thesaurus to use on this setup and, when synonyms are off, why (else "")."""
    if setup.vocabulary is None:
        return {}, "the setup has no vocabulary"
    try:
        return load_thesaurus(), ""
    except ThesaurusUnavailable as exc:
        return {}, str(exc)


@register
class TextAugmentation(Remedy):
    id = "text_augmentation"
    treats = ("overfitting", "insufficient_data")
    judged_early = False  # its effect shows late in a run
    description = (f"Add {COPIES} augmented copies of every training sequence (EDA: WordNet "
                   "synonym replacement and insertion, random swap and deletion), touching the "
                   "searched fraction of each sequence's tokens.")
    grid = (0.05, 0.1, 0.2, 0.3)
    stage = 0
    changes_rows = True

    def applies(self, setup: Setup, finding: Finding) -> bool:
        return setup.token_inputs

    def apply(self, setup: Setup, finding: Finding, strength: Any = 0.1) -> Setup:
        thesaurus, why_not = thesaurus_for(setup)
        if why_not and why_not not in _WARNED:
            _WARNED.add(why_not)
            logger.warning("text_augmentation: swap and deletion only (%s)", why_not)
        rng = np.random.default_rng(SEED)
        copies = [augment_tokens(setup.x_train, setup.vocabulary, float(strength), rng,
                                 thesaurus=thesaurus)
                  for _ in range(COPIES)]
        return setup.replace(x_train=np.concatenate([setup.x_train, *copies]),
                             y_train=np.concatenate([setup.y_train] * (COPIES + 1)))

    def code(self, setup: Setup, finding: Finding, strength: Any = 0.1) -> str:
        _, why_not = thesaurus_for(setup)
        vocabulary, off = "VOCABULARY", ""
        note = "# VOCABULARY = vectorizer.get_vocabulary()  (your TextVectorization layer)"
        if setup.vocabulary is None:
            vocabulary = "None"
            note = ("# no vocabulary given: swap and deletion only; pass your TextVectorization\n"
                    "# layer's get_vocabulary() instead of None to add synonyms")
        elif why_not:
            off = ", thesaurus={}"
            note += ("\n# WordNet was not found, so fitdoctor tried swap and deletion only;\n"
                     "# `apt-get install wordnet-base` and dropping thesaurus={} add synonyms")
        lines = "\n".join(" " * 12 + line for line in note.splitlines())
        return snippet(f"""
            import numpy as np
            from fitdoctor.augment.text import augment_tokens

            # EDA (Wei & Zou 2019): {COPIES} augmented copies of every training sequence, each
            # with one of synonym replacement, synonym insertion, swap or deletion
{lines}
            rng = np.random.default_rng({SEED})
            copies = [augment_tokens(x_train, {vocabulary}, {float(strength):g}, rng{off})
                      for _ in range({COPIES})]
            x_train = np.concatenate([x_train, *copies])
            y_train = np.concatenate([y_train] * {COPIES + 1})
        """)
