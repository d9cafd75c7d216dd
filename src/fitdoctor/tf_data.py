"""The tf.data pipelines Keras builds from arrays, without the autotuning thread that can stall.

Given NumPy arrays, Keras' TensorFlow backend feeds `fit`, `evaluate` and `predict` through a
tf.data pipeline of its own (`ArrayDataAdapter.get_tf_dataset`: a parallel `map` and a
`prefetch`, both `AUTOTUNE`). Autotuning starts a background thread that re-optimizes the
pipeline at a period doubling from 10 ms up to 60 s. When the pipeline's iterator is freed, the
thread is woken and the freeing waits for it to end. The wake-up can be lost in TensorFlow: the
thread checks whether it was cancelled before the cancellation is marked done (the flag is set
after the callbacks run), goes back to sleep, and the freeing waits out the rest of the period.

In a process that trains many short runs (fix's candidates, tune's trials, the probes) that
wait lands at random, wherever Python frees the last run's iterator: two runs of the repair
benchmark stalled 20 and 38 s there while their siblings took about a second
(`bench/results/stalls/`). `bench/iterator_stall.py` reproduces it in a few minutes with
autotuning and never without.

`arrays_without_autotune()` switches autotuning off for the pipelines Keras builds from arrays
while it is entered, and only those: a user's own `tf.data.Dataset`, generator or `PyDataset`
is fed as given. The order of the batches comes from the pipeline's shuffle, not from its
parallelism, so the weights a run ends on are the same (`tests/test_tf_data.py`).
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


@functools.cache
def _install() -> bool:
    """Wrap Keras' array pipeline once per process; outside the context it is unchanged.

    Returns whether it could (False where this Keras has no such adapter: then nothing
    changes and the stall stays possible).
    """
    try:
        from keras.src.trainers.data_adapters.array_data_adapter import ArrayDataAdapter
    except ImportError:  # pragma: no cover - another Keras layout
        logger.debug("no ArrayDataAdapter in this Keras; tf.data autotuning left on")
        return False
    original = ArrayDataAdapter.get_tf_dataset

    @functools.wraps(original)
    def get_tf_dataset(self: Any) -> Any:
        dataset = original(self)
        if not _active():
            return dataset
        import tensorflow as tf

        options = tf.data.Options()
        options.autotune.enabled = False
        return dataset.with_options(options)

    ArrayDataAdapter.get_tf_dataset = get_tf_dataset
    return True


@contextlib.contextmanager
def arrays_without_autotune() -> Iterator[bool]:
    """Within, the pipelines Keras builds from arrays in this thread do not autotune.

    Re-entrant. Yields whether it applies (False where this Keras builds them elsewhere).

    Example (run by `tests/test_tf_data.py`):

        with arrays_without_autotune():
            model.fit(x, y, epochs=5)   # the same weights, no autotuning thread to wait for
    """
    installed = _install()
    _state.depth = getattr(_state, "depth", 0) + 1
    try:
        yield installed
    finally:
        _state.depth -= 1
