"""Token-level text augmentation on token-id arrays, with WordNet as the thesaurus.

Text, to fitdoctor, is what `keras.layers.TextVectorization` outputs: integer token ids of shape
(n, seq_len), 0 being padding, with the vocabulary (`get_vocabulary()`) naming the word behind
each id. `augment_tokens` applies the four operations of EDA (Wei & Zou 2019, "EDA: Easy Data
Augmentation Techniques for Boosting Performance on Text Classification Tasks", EMNLP-IJCNLP):
synonym replacement, random insertion of a synonym, random swap and random deletion, one
operation per sequence, touching a `strength` fraction of its tokens.

Synonyms come from WordNet 3.0 as Debian and Ubuntu package it (`apt-get install wordnet-base`,
which puts `data.noun`, `data.verb`, `data.adj` and `data.adv` in `/usr/share/wordnet`). The
files are read directly, so no NLTK download is needed; set `FITDOCTOR_WORDNET` to a folder
holding the same files to read another copy.
"""

from __future__ import annotations

import functools
import os
import re
import types
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from fitdoctor.errors import FitdoctorError
from fitdoctor.setup import is_token_ids

#: Environment variable naming a folder with WordNet's `data.*` files.
WORDNET_ENV = "FITDOCTOR_WORDNET"
#: Where Debian's and Ubuntu's `wordnet-base` package installs them.
DEFAULT_WORDNET = Path("/usr/share/wordnet")
#: The token operations, in the order EDA lists them.
OPERATIONS = ("synonym", "insert", "swap", "delete")

_PARTS_OF_SPEECH = ("noun", "verb", "adj", "adv")
#: Syntactic markers WordNet appends to some adjectives: `galore(ip)`, `elect(p)`.
_ADJECTIVE_MARKER = re.compile(r"\((a|p|ip)\)$")


class ThesaurusUnavailable(FitdoctorError):
    """No WordNet data files where fitdoctor looked; the message says where and how to fix it."""


def wordnet_folder(path: str | Path | None = None) -> Path:
    """The folder WordNet is read from: `path`, else `$FITDOCTOR_WORDNET`, else Debian's."""
    if path is None:
        path = os.environ.get(WORDNET_ENV) or DEFAULT_WORDNET
    return Path(path).expanduser()


def load_thesaurus(path: str | Path | None = None) -> Mapping[str, tuple[str, ...]]:
    """Read WordNet's synonyms: each single-word lemma and the other single words it shares a
    synset with, lowercased.

    Multi-word lemmas (`ice_cream`) are skipped, as they are never one token. A word's synonyms
    pool all its synsets and parts of speech, sorted; words without any are left out. The result
    is read once per folder and cached (read-only).

    Args:
        path: Folder holding `data.noun`, `data.verb`, `data.adj` and `data.adv` (any that exist
            are read). Defaults to None: `$FITDOCTOR_WORDNET`, else `/usr/share/wordnet`.

    Raises:
        ThesaurusUnavailable: the folder holds none of the four files.

    Example (run by `tests/test_text_augmentation.py`):

        thesaurus = load_thesaurus("tests/data/wordnet")
        "glad" in thesaurus["happy"]  # True
    """
    return _read_wordnet(str(wordnet_folder(path).resolve()))


@functools.lru_cache(maxsize=4)
def _read_wordnet(folder: str) -> Mapping[str, tuple[str, ...]]:
    files = [Path(folder) / f"data.{part}" for part in _PARTS_OF_SPEECH]
    found = [f for f in files if f.is_file()]
    if not found:
        raise ThesaurusUnavailable(
            f"no WordNet data files (data.noun, data.verb, data.adj, data.adv) in {folder}; "
            f"install them with `apt-get install wordnet-base` (Debian/Ubuntu) or set "
            f"{WORDNET_ENV} to a folder that holds them"
        )
    pooled: dict[str, set[str]] = {}
    for file in found:
        with file.open(encoding="utf-8", errors="replace") as lines:
            for line in lines:
                words = synset_words(line)
                for word in words:
                    pooled.setdefault(word, set()).update(words)
    return types.MappingProxyType({
        word: tuple(sorted(others - {word})) for word, others in sorted(pooled.items())
        if len(others) > 1
    })


def synset_words(line: str) -> set[str]:
    """The single-word lemmas of one line of a WordNet `data.*` file, lowercased.

    A synset line reads `offset lex_filenum ss_type w_cnt word lex_id [word lex_id ...] ...`,
    `w_cnt` in hexadecimal. License lines (starting with two spaces) and malformed lines give an
    empty set.
    """
    if line.startswith("  "):
        return set()
    fields = line.split(" ")
    if len(fields) < 5 or not fields[0].isdigit():
        return set()
    try:
        count = int(fields[3], 16)
    except ValueError:
        return set()
    words = set()
    for lemma in fields[4:4 + 2 * count:2]:
        lemma = _ADJECTIVE_MARKER.sub("", lemma).lower()
        if lemma and "_" not in lemma:
            words.add(lemma)
    return words


def synonym_ids(vocabulary: Sequence[str], thesaurus: Mapping[str, Sequence[str]]
                ) -> dict[int, np.ndarray]:
    """For each token id, the ids of its synonyms that are in `vocabulary` (padding excluded).

    Words are matched lowercased; a word listed twice maps to its first id.
    """
    index: dict[str, int] = {}
    for i, word in enumerate(vocabulary):
        index.setdefault(str(word).lower(), i)
    out = {}
    for i, word in enumerate(vocabulary):
        if i == 0:
            continue
        ids = {index[s] for s in thesaurus.get(str(word).lower(), ()) if s in index} - {0, i}
        if ids:
            out[i] = np.asarray(sorted(ids), dtype=np.int64)
    return out


def augment_tokens(
    x: np.ndarray,
    vocabulary: Sequence[str] | None = None,
    strength: float = 0.1,
    rng: np.random.Generator | int = 0,
    *,
    thesaurus: Mapping[str, Sequence[str]] | None = None,
    operations: Sequence[str] = OPERATIONS,
) -> np.ndarray:
    """Return augmented copies of token-id sequences: one EDA operation per sequence.

    Each sequence gets one operation drawn from those that can act on it: synonym replacement
    (`strength` of its tokens replaced by a synonym), insertion (a synonym of one of its words
    put at a random place, `strength` x length times), swap (two tokens swapped, as many times)
    or deletion (each token dropped with probability `strength`, never all). Synonyms are only
    ever words of `vocabulary`, so no new token id appears. Padding (0) stays on the side it was
    on; a sequence that insertion grows past `seq_len` loses its last tokens (its first ones when
    padded at the start). All-padding rows stay as they are. `x` itself is never written to.

    Args:
        x: Token ids, shape (n, seq_len), 0 = padding (`TextVectorization`'s output).
        vocabulary: The word behind each token id (`TextVectorization.get_vocabulary()`).
            Defaults to None: synonym replacement and insertion are off; swap and deletion run.
        strength: Fraction of each sequence's tokens an operation touches (EDA's alpha), in
            (0, 1]. Defaults to 0.1.
        rng: A `numpy.random.Generator`, or a seed for one. Defaults to 0.
        thesaurus: Word -> synonyms. Defaults to None: WordNet through `load_thesaurus()` when a
            vocabulary is given. Pass `{}` to switch the synonym operations off.
        operations: Operations to draw from, among `"synonym"`, `"insert"`, `"swap"` and
            `"delete"`. Defaults to all four.

    Returns:
        A new array with the shape and dtype of `x`.

    Raises:
        ValueError: `x` is not 2-D non-negative whole numbers, `strength` is outside (0, 1], an
            operation is unknown, or `vocabulary` is shorter than the largest token id + 1.
        ThesaurusUnavailable: a vocabulary was given with no thesaurus and WordNet is missing.

    Example (run by `tests/test_text_augmentation.py`):

        vocabulary = ["", "[UNK]", "film", "happy", "glad", "very"]
        x = np.array([[5, 3, 2, 0, 0]])
        augment_tokens(x, vocabulary, 0.3, rng=0, operations=["synonym"])  # [[5, 4, 2, 0, 0]]
    """
    x = np.asarray(x)
    if not is_token_ids(x):
        raise ValueError(
            "x must be token ids: a 2-D array of non-negative whole numbers. "
            f"Received: shape {x.shape}, dtype {x.dtype}"
        )
    if not 0 < strength <= 1:
        raise ValueError(f"strength must be in (0, 1]. Received: strength={strength}")
    unknown = sorted(set(operations) - set(OPERATIONS))
    if unknown or not operations:
        raise ValueError(f"operations must be among {OPERATIONS}. Received: {list(operations)}")
    synonyms: dict[int, np.ndarray] = {}
    if vocabulary is not None:
        top = int(x.max()) if x.size else 0
        if len(vocabulary) <= top:
            raise ValueError(
                f"vocabulary has {len(vocabulary)} words but x holds token id {top}; it needs "
                "one word per id (TextVectorization.get_vocabulary())"
            )
        if thesaurus is None:
            thesaurus = load_thesaurus()
        synonyms = synonym_ids(vocabulary, thesaurus)
    rng = np.random.default_rng(rng)
    out = np.zeros_like(x)
    width = x.shape[1]
    for r, row in enumerate(x):
        tokens = row[row != 0].astype(np.int64)
        if tokens.size == 0:
            out[r] = row
            continue
        usable = [op for op in operations if _can(op, tokens, synonyms)]
        if usable:
            op = usable[int(rng.integers(len(usable)))]
            tokens = _OPERATIONS[op](tokens, strength, rng, synonyms)
        pre_padded = row[0] == 0 and row[-1] != 0
        if pre_padded:
            tokens = tokens[-width:]
            out[r, width - len(tokens):] = tokens
        else:
            tokens = tokens[:width]
            out[r, :len(tokens)] = tokens
    return out


def _changes(tokens: np.ndarray, strength: float) -> int:
    return max(1, int(round(strength * len(tokens))))


def _can(op: str, tokens: np.ndarray, synonyms: Mapping[int, np.ndarray]) -> bool:
    if op in ("synonym", "insert"):
        return any(int(t) in synonyms for t in tokens)
    return len(tokens) >= 2


def _replace(tokens, strength, rng, synonyms):
    tokens = tokens.copy()
    candidates = np.flatnonzero([int(t) in synonyms for t in tokens])
    picked = rng.choice(candidates, min(_changes(tokens, strength), len(candidates)),
                        replace=False)
    for p in picked:
        tokens[p] = rng.choice(synonyms[int(tokens[p])])
    return tokens


def _insert(tokens, strength, rng, synonyms):
    for _ in range(_changes(tokens, strength)):
        candidates = np.flatnonzero([int(t) in synonyms for t in tokens])
        source = tokens[rng.choice(candidates)]
        tokens = np.insert(tokens, int(rng.integers(len(tokens) + 1)),
                           rng.choice(synonyms[int(source)]))
    return tokens


def _swap(tokens, strength, rng, synonyms):
    tokens = tokens.copy()
    for _ in range(_changes(tokens, strength)):
        i, j = rng.choice(len(tokens), 2, replace=False)
        tokens[i], tokens[j] = tokens[j], tokens[i]
    return tokens


def _delete(tokens, strength, rng, synonyms):
    keep = rng.random(len(tokens)) >= strength
    if not keep.any():
        keep[rng.integers(len(tokens))] = True
    return tokens[keep]


_OPERATIONS = {"synonym": _replace, "insert": _insert, "swap": _swap, "delete": _delete}
