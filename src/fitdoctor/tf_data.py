"""The tf.data pipelines Keras builds itself, without the autotuning thread that can stall.

Given NumPy arrays, a Python generator or a `PyDataset`, Keras' TensorFlow backend feeds `fit`,
`evaluate` and `predict` through a tf.data pipeline of its own (`get_tf_dataset` of its
`ArrayDataAdapter`, `GeneratorDataAdapter` and `PyDatasetAdapter`, each ending in an `AUTOTUNE`
prefetch). Autotuning starts a background thread that re-optimizes the pipeline at a period
doubling from 10 ms up to 60 s. When the pipeline's iterator is freed, the thread is woken and
the freeing waits for it to end. The wake-up can be lost in TensorFlow (2.21): the thread's
cancellation callback notifies it before the cancellation manager marks itself cancelled (the
flag is set after the callbacks have run), so a thread that wakes at once sees "not cancelled",
goes back to sleep, and the freeing waits out the rest of the period.

In a process that trains many short runs (fix's candidates, tune's trials, the probes) that
wait lands at random, wherever Python frees the last run's iterator: two runs of the repair
benchmark stalled 20 and 38 s there while their siblings took about a second
(`bench/results/stalls/`). `bench/iterator_stall.py` reproduces it with Keras' own array
pipeline, autotuned, and never without autotuning.

`keras_pipelines_without_autotune()` switches autotuning off for the pipelines Keras builds
while it is entered, and only those (Keras does the same for a `PyDataset` with workers): a
user's own `tf.data.Dataset` is fed as given. The order of the batches comes from the
pipeline's shuffle, not from its parallelism, so the weights a run ends on are the same
(`tests/test_tf_data.py`).
"""

from __future__ import annotations

import contextlib
import functools
import logging
import threading
from collections.abc import Iterator
from typing import Any

logger = logging.getLogger(__name__)

_state = threading.local()


def _active() -> bool:
    return getattr(_state, "depth", 0) > 0


#: Keras' adapters whose `get_tf_dataset` builds an autotuned pipeline around the user's data.
KERAS_BUILT = (
    ("keras.src.trainers.data_adapters.array_data_adapter", "ArrayDataAdapter"),
    ("keras.src.trainers.data_adapters.generator_data_adapter", "GeneratorDataAdapter"),
    ("keras.src.trainers.data_adapters.py_dataset_adapter", "PyDatasetAdapter"),
)


@functools.cache
def _install() -> bool:
    """Wrap Keras' pipeline builders once per process; outside the context they are unchanged.

    Returns whether every one could be wrapped (False where this Keras lays them out
    otherwise: those stay as they are, and the stall stays possible there).
    """
    import importlib

    wrapped = 0
    for module_name, class_name in KERAS_BUILT:
        try:
            adapter = getattr(importlib.import_module(module_name), class_name)
        except (ImportError, AttributeError):  # pragma: no cover - another Keras layout
            logger.debug("no %s in this Keras; its tf.data autotuning left on", class_name)
            continue
        adapter.get_tf_dataset = _without_autotune(adapter.get_tf_dataset)
        wrapped += 1
    return wrapped == len(KERAS_BUILT)


def _without_autotune(get_tf_dataset: Any) -> Any:
    @functools.wraps(get_tf_dataset)
    def wrapper(self: Any) -> Any:
        dataset = get_tf_dataset(self)
        if not _active():
            return dataset
        import tensorflow as tf

        options = tf.data.Options()
        options.autotune.enabled = False
        return dataset.with_options(options)

    return wrapper


@contextlib.contextmanager
def keras_pipelines_without_autotune() -> Iterator[bool]:
    """Keep the pipelines Keras builds in this thread off tf.data autotuning while entered.

    Those are the pipelines around arrays, generators and `PyDataset`s. Re-entrant. Yields
    whether it applies to all three (False where this Keras builds them elsewhere).

    Example (run by `tests/test_tf_data.py`):

        with keras_pipelines_without_autotune():
            model.fit(x, y, epochs=5)   # the same weights, no autotuning thread to wait for
    """
    installed = _install()
    _state.depth = getattr(_state, "depth", 0) + 1
    try:
        yield installed
    finally:
        _state.depth -= 1
