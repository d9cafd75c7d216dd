"""Text augmentation: the WordNet reader, the four EDA operations, the remedy, and token-id
setups under diagnosis (no data check reads token ids as numbers).

Everything reads the WordNet excerpt in `tests/data/wordnet` (through `FITDOCTOR_WORDNET`), so
the tests pass whether or not Debian's `wordnet-base` is installed.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import keras
import numpy as np
import pytest

import fitdoctor
from fitdoctor.augment.text import (
    DEFAULT_WORDNET,
    OPERATIONS,
    ThesaurusUnavailable,
    augment_tokens,
    load_thesaurus,
    synonym_ids,
    synset_words,
)
from fitdoctor.budget import get_budget
from fitdoctor.errors import DataError
from fitdoctor.evidence import Evidence, EvidenceSkipped
from fitdoctor.findings import Finding
from fitdoctor.fix.records import CandidateStatus
from fitdoctor.fix.remedies import registered_remedies

from .conftest import fingerprint
from .text_samples import NEGATIVE, POSITIVE, VOCABULARY, WORDNET, healthy_text_setup, reviews
from .text_samples import text_setup as make_text_setup


@pytest.fixture(autouse=True)
def _wordnet_excerpt(monkeypatch):
    monkeypatch.setenv("FITDOCTOR_WORDNET", str(WORDNET))


@pytest.fixture(scope="module")
def thesaurus():
    return load_thesaurus(WORDNET)


@pytest.fixture(scope="module")
def text_setup():
    return make_text_setup()


def _overfitting() -> Finding:
    return Finding("overfitting", "warning", "overfitting", {})


def _multiset(row: np.ndarray) -> dict[int, int]:
    values, counts = np.unique(row[row != 0], return_counts=True)
    return dict(zip(values.tolist(), counts.tolist(), strict=True))


def _padded_at_end(x: np.ndarray) -> bool:
    """Every row is non-zero tokens then zeros, never a gap."""
    lengths = (x != 0).sum(axis=1)
    return all((row[:n] != 0).all() and (row[n:] == 0).all()
               for row, n in zip(x, lengths, strict=True))


# --- the thesaurus ----------------------------------------------------------------------------

def test_thesaurus_reads_single_word_synonyms(thesaurus):
    assert set(thesaurus["happy"]) == {"glad", "felicitous"}
    assert "really" in thesaurus["very"] and "movie" in thesaurus["film"]
    assert "dread" in thesaurus["dreadful"]  # "dread(a)": the adjective marker is dropped
    words = set(thesaurus) | {s for synonyms in thesaurus.values() for s in synonyms}
    assert "moving_picture" not in words and not any("_" in w for w in words)
    assert all(w == w.lower() for w in words)
    assert "software" not in words  # the license header is not read as synsets
    assert all(word not in synonyms for word, synonyms in thesaurus.items())


def test_thesaurus_pools_synsets_and_is_cached(thesaurus):
    # "miserable" sits in four synsets of the excerpt, with pathetic, wretched, deplorable ...
    assert {"pathetic", "wretched", "deplorable", "poor", "pitiful"} <= set(thesaurus["miserable"])
    assert load_thesaurus(WORDNET) is thesaurus
    assert load_thesaurus() is thesaurus  # FITDOCTOR_WORDNET points at the same folder
    with pytest.raises(TypeError):
        thesaurus["happy"] = ("sad",)


@pytest.mark.skipif(not (DEFAULT_WORDNET / "data.noun").is_file(),
                    reason="Debian's wordnet-base is not installed (apt-get install wordnet-base)")
def test_debian_wordnet_reads_whole():
    full = load_thesaurus(DEFAULT_WORDNET)
    assert len(full) > 40_000
    assert {"glad", "felicitous"} <= set(full["happy"]) and "movie" in full["film"]


def test_synset_lines_are_parsed_field_by_field():
    line = ("00193799 00 s 0c awful 0 dire 1 direful 1 dread(a) 0 dreaded 0 dreadful 0 fearful 0 "
            "fearsome 0 frightening 0 horrendous 0 horrific 0 terrible 0 001 & 00193015 a 0000 | "
            "causing fear or dread or terror")
    assert synset_words(line) == {"awful", "dire", "direful", "dread", "dreaded", "dreadful",
                                  "fearful", "fearsome", "frightening", "horrendous", "horrific",
                                  "terrible"}
    assert synset_words("  1 This software and database is being provided to you  \n") == set()
    assert synset_words("not a synset line\n") == set()


def test_a_missing_thesaurus_is_a_clear_error(tmp_path):
    with pytest.raises(ThesaurusUnavailable, match="wordnet-base"):
        load_thesaurus(tmp_path)


def test_synonym_ids_stay_inside_the_vocabulary(thesaurus):
    ids = synonym_ids(VOCABULARY, thesaurus)
    index = {w: i for i, w in enumerate(VOCABULARY)}
    assert set(ids[index["happy"]].tolist()) == {index["glad"], index["felicitous"]}
    for source, targets in ids.items():
        assert source != 0 and 0 not in targets and source not in targets
        assert all(VOCABULARY[t] in thesaurus[VOCABULARY[source]] for t in targets)
    positive = {w for k, v in POSITIVE.items() for w in (k, *v)}
    negative = {w for k, v in NEGATIVE.items() for w in (k, *v)}
    for source, targets in ids.items():  # the test data never crosses sentiment
        words = {VOCABULARY[t] for t in targets}
        assert not (VOCABULARY[source] in positive and words & negative)
        assert not (VOCABULARY[source] in negative and words & positive)


# --- the operations ---------------------------------------------------------------------------

@pytest.mark.parametrize("operation", OPERATIONS)
def test_each_operation_keeps_shape_padding_and_input(operation, thesaurus):
    x, _ = reviews(60, seed=5, synonyms=False)
    before = fingerprint(x)
    out = augment_tokens(x, VOCABULARY, 0.3, rng=1, thesaurus=thesaurus, operations=[operation])
    assert fingerprint(x) == before
    assert out.shape == x.shape and out.dtype == x.dtype
    assert _padded_at_end(out)
    assert ((out != 0).sum(axis=1) >= 1).all()
    assert not np.array_equal(out, x)
    again = augment_tokens(x, VOCABULARY, 0.3, rng=1, thesaurus=thesaurus,
                           operations=[operation])
    assert np.array_equal(out, again)
    other = augment_tokens(x, VOCABULARY, 0.3, rng=2, thesaurus=thesaurus,
                           operations=[operation])
    assert not np.array_equal(out, other)


def test_what_each_operation_changes(thesaurus):
    x, _ = reviews(60, seed=5, synonyms=False)
    ids = synonym_ids(VOCABULARY, thesaurus)

    def run(operation):
        return augment_tokens(x, VOCABULARY, 0.3, rng=3, thesaurus=thesaurus,
                              operations=[operation])

    for old, new in zip(x, run("swap"), strict=True):
        assert _multiset(new) == _multiset(old)
    for old, new in zip(x, run("delete"), strict=True):
        kept = _multiset(new)
        assert all(kept[t] <= _multiset(old).get(t, 0) for t in kept)
        assert (new != 0).sum() < (old != 0).sum() or np.array_equal(new, old)
    for old, new in zip(x, run("synonym"), strict=True):
        changed = np.flatnonzero(old != new)
        assert len(changed) >= 1
        assert all(new[p] in ids[int(old[p])] for p in changed)
    for old, new in zip(x, run("insert"), strict=True):
        extra = Counter(new[new != 0].tolist()) - Counter(old[old != 0].tolist())
        # each inserted word is a synonym of a word in the sequence (perhaps one inserted before)
        assert extra and all(any(t in ids.get(int(s), ()) for s in new[new != 0]) for t in extra)
        assert (new != 0).sum() > (old != 0).sum()


def test_without_a_vocabulary_only_swap_and_deletion_run():
    x, _ = reviews(40, seed=6, synonyms=False)
    out = augment_tokens(x, None, 0.3, rng=0)
    for old, new in zip(x, out, strict=True):
        assert set(_multiset(new)) <= set(_multiset(old))
    assert np.array_equal(augment_tokens(x, None, 0.3, rng=0, operations=["synonym"]), x)
    no_synonyms = augment_tokens(x, VOCABULARY, 0.3, rng=0, thesaurus={}, operations=["insert"])
    assert np.array_equal(no_synonyms, x)


def test_padding_stays_where_it_was():
    x = np.array([[0, 0, 0, 7, 8, 9], [7, 8, 9, 0, 0, 0], [0, 0, 0, 0, 0, 0]])
    out = augment_tokens(x, None, 1.0, rng=0, operations=["delete"])
    assert (out[0, :3] == 0).all() and out[0, -1] != 0
    assert out[1, 0] != 0 and (out[1, 3:] == 0).all()
    assert (out[2] == 0).all()
    full = np.array([[VOCABULARY.index("happy"), VOCABULARY.index("film")] * 3])
    grown = augment_tokens(full, VOCABULARY, 0.5, rng=0, operations=["insert"])
    assert grown.shape == full.shape and (grown != 0).all()


def test_bad_arguments_say_what_was_received():
    x = np.array([[3, 4, 0]])
    with pytest.raises(ValueError, match="2-D"):
        augment_tokens(x[None], None)
    with pytest.raises(ValueError, match="non-negative whole"):
        augment_tokens(np.array([[0.5, 1.0]]), None)
    with pytest.raises(ValueError, match="strength=0"):
        augment_tokens(x, None, 0)
    with pytest.raises(ValueError, match="shuffle"):
        augment_tokens(x, None, operations=["shuffle"])
    with pytest.raises(ValueError, match="token id 4"):
        augment_tokens(x, ["", "[UNK]", "a"], thesaurus={})


def test_docstring_examples_run(monkeypatch):
    monkeypatch.chdir(Path(__file__).parent.parent)
    assert "glad" in load_thesaurus("tests/data/wordnet")["happy"]
    vocabulary = ["", "[UNK]", "film", "happy", "glad", "very"]
    x = np.array([[5, 3, 2, 0, 0]])
    out = augment_tokens(x, vocabulary, 0.3, rng=0, operations=["synonym"])
    assert out.tolist() == [[5, 4, 2, 0, 0]]


# --- the setup --------------------------------------------------------------------------------

def test_setup_keeps_a_checked_vocabulary(text_setup):
    assert text_setup.vocabulary == VOCABULARY and text_setup.token_inputs
    build, train = text_setup.build_model, (text_setup.x_train, text_setup.y_train)
    val = (text_setup.x_val, text_setup.y_val)
    with pytest.raises(DataError, match="token id"):
        fitdoctor.Setup.from_arrays(build, train, val, vocabulary=VOCABULARY[:10])
    with pytest.raises(DataError, match="list of words"):
        fitdoctor.Setup.from_arrays(build, train, val, vocabulary="the movie")
    with pytest.raises(DataError, match="strings"):
        fitdoctor.Setup.from_arrays(build, train, val, vocabulary=list(range(len(VOCABULARY))))
    floats = (train[0] + 0.5, train[1])
    with pytest.raises(DataError, match="not token ids"):
        fitdoctor.Setup.from_arrays(build, floats, val, vocabulary=VOCABULARY)


def test_setup_files_set_vocabulary(tmp_path):
    (tmp_path / "text_setup.py").write_text(
        "import keras\n"
        "import numpy as np\n"
        "VOCABULARY = ['', '[UNK]', 'happy', 'glad', 'sad']\n"
        "FIT = {'epochs': 1}\n"
        "def load_data():\n"
        "    x = np.array([[2, 3, 0], [4, 0, 0]] * 10)\n"
        "    y = np.array([1, 0] * 10)\n"
        "    return (x, y), (x[:6], y[:6])\n"
        "def build_model():\n"
        "    model = keras.Sequential([keras.Input(shape=(3,)), keras.layers.Embedding(5, 4),\n"
        "                              keras.layers.GlobalAveragePooling1D(),\n"
        "                              keras.layers.Dense(1, activation='sigmoid')])\n"
        "    model.compile(optimizer='adam', loss='binary_crossentropy')\n"
        "    return model\n",
        encoding="utf-8",
    )
    setup = fitdoctor.load_setup(tmp_path / "text_setup.py")
    assert setup.vocabulary == ("", "[UNK]", "happy", "glad", "sad") and setup.token_inputs


def _dense(n_inputs: int):
    def build():
        model = keras.Sequential([keras.Input(shape=(n_inputs,)),
                                  keras.layers.Dense(1, activation="sigmoid")])
        model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
        return model

    return build


def test_token_inputs_need_whole_numbers_and_an_embedding(healthy_setup):
    assert not healthy_setup.token_inputs  # scaled digits into a Dense layer
    x = np.random.default_rng(0).integers(0, 17, size=(60, 8))
    y = (x.sum(axis=1) > 64).astype(int)
    counts = fitdoctor.Setup.from_arrays(_dense(8), (x[:40], y[:40]), (x[40:], y[40:]))
    assert not counts.token_inputs  # whole numbers, but counts fed to a Dense layer


# --- the remedy -------------------------------------------------------------------------------

def _image_setup():
    x = np.random.default_rng(0).random((20, 8, 8, 3)).astype("float32")
    y = np.arange(20) % 2

    def build():
        model = keras.Sequential([keras.Input(shape=(8, 8, 3)), keras.layers.Flatten(),
                                  keras.layers.Dense(1, activation="sigmoid")])
        model.compile(optimizer="adam", loss="binary_crossentropy")
        return model

    return fitdoctor.Setup.from_arrays(build, (x[:14], y[:14]), (x[14:], y[14:]))


def test_remedy_applies_to_token_ids_only(text_setup, healthy_setup):
    remedy = registered_remedies()["text_augmentation"]()
    assert remedy.treats == ("overfitting", "insufficient_data") and remedy.changes_rows
    assert remedy.applies(text_setup, _overfitting())
    assert remedy.applies(make_text_setup(vocabulary=False), _overfitting())
    assert not remedy.applies(healthy_setup, _overfitting())
    assert not remedy.applies(_image_setup(), _overfitting())


def test_remedy_adds_augmented_copies_with_synonyms(text_setup):
    remedy = registered_remedies()["text_augmentation"]()
    before = fingerprint(text_setup.x_train, text_setup.y_train)
    changed = remedy.apply(text_setup, _overfitting(), 0.2)
    assert fingerprint(text_setup.x_train, text_setup.y_train) == before
    n = text_setup.n_train
    assert changed.n_train == 3 * n
    assert np.array_equal(changed.x_train[:n], text_setup.x_train)
    assert np.array_equal(changed.y_train, np.tile(text_setup.y_train, 3))
    assert np.array_equal(changed.x_val, text_setup.x_val)
    assert np.array_equal(remedy.apply(text_setup, _overfitting(), 0.2).x_train, changed.x_train)
    held_out = {VOCABULARY.index(w) for group in (POSITIVE, NEGATIVE) for v in group.values()
                for w in v}
    assert not held_out & set(np.unique(text_setup.x_train).tolist())
    assert held_out & set(np.unique(changed.x_train[n:]).tolist())


def test_remedy_code_reproduces_what_fix_tried(text_setup):
    remedy = registered_remedies()["text_augmentation"]()
    code = remedy.code(text_setup, _overfitting(), 0.2)
    assert "augment_tokens(x_train, VOCABULARY, 0.2, rng)" in code
    namespace = {"x_train": text_setup.x_train, "y_train": text_setup.y_train,
                 "VOCABULARY": list(VOCABULARY)}
    exec(code, namespace)
    changed = remedy.apply(text_setup, _overfitting(), 0.2)
    assert np.array_equal(namespace["x_train"], changed.x_train)
    assert np.array_equal(namespace["y_train"], changed.y_train)


def test_remedy_falls_back_to_swap_and_deletion(text_setup, tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("FITDOCTOR_WORDNET", str(tmp_path))  # an empty folder: no WordNet
    remedy = registered_remedies()["text_augmentation"]()
    with caplog.at_level("WARNING"):
        changed = remedy.apply(text_setup, _overfitting(), 0.3)
    assert "swap and deletion only" in caplog.text
    n = text_setup.n_train
    for k in (1, 2):
        for old, new in zip(text_setup.x_train, changed.x_train[k * n:(k + 1) * n], strict=True):
            assert set(_multiset(new)) <= set(_multiset(old))
    code = remedy.code(text_setup, _overfitting(), 0.3)
    assert "thesaurus={}" in code and "wordnet-base" in code
    bare = make_text_setup(vocabulary=False)
    assert "augment_tokens(x_train, None, 0.3, rng)" in remedy.code(bare, _overfitting(), 0.3)


# --- diagnosis and fix on a real Embedding model ----------------------------------------------

def test_a_healthy_text_setup_raises_no_false_alarm():
    setup = healthy_text_setup()
    report = fitdoctor.diagnose(setup=setup, seed=0)
    assert not report.problems, [f.title for f in report.problems]
    assert not [f for f in report.findings if f.id == "check_failed"]
    evidence = Evidence(setup, get_budget("quick"))
    for name in ("oof_probs", "data_shift", "feature_relevance"):
        with pytest.raises(EvidenceSkipped, match="token ids"):
            evidence.get(name)
    # the same ids into a Dense layer are numbers up to 57, and unscaled ones
    as_numbers = fitdoctor.Setup.from_arrays(
        _dense(setup.x_train.shape[1]), (setup.x_train, setup.y_train),
        (setup.x_val, setup.y_val))
    assert not as_numbers.token_inputs
    seen = fitdoctor.diagnose(setup=as_numbers, checks=["unscaled_inputs"], budget="quick")
    assert seen.ids() == ["unscaled_inputs"]


@pytest.mark.slow
def test_fix_keeps_text_augmentation_when_validation_uses_synonyms(text_setup):
    """Validation reviews use WordNet synonyms the training reviews never contain, so only
    synonym replacement/insertion can teach the model those words; swap and deletion alone
    (no vocabulary) get nothing to learn from, and must not be kept."""
    result = fitdoctor.fix(setup=text_setup, budget="quick", remedies=["text_augmentation"],
                           grids={"text_augmentation": (0.1,)})
    assert "overfitting" in result.report.ids()
    (trial,) = [t for t in result.trials if t.remedy == "text_augmentation"]
    assert {"strength", "finding", "status", "reason", "val_accuracy", "gain",
            "threshold"} <= set(trial.to_dict())
    assert trial.status is CandidateStatus.ACCEPTED, trial
    assert result.applied == ("text_augmentation(0.1)",)
    assert result.after["val_accuracy"] - result.before["val_accuracy"] > 0.1

    bare = make_text_setup(vocabulary=False)
    ablation = fitdoctor.fix(setup=bare, budget="quick", report=result.report,
                             remedies=["text_augmentation"],
                             grids={"text_augmentation": (0.1, 0.3)})
    assert ablation.applied == ()
    assert all(t.status is CandidateStatus.REJECTED and t.gain < 0.05 for t in ablation.trials)
