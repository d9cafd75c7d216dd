"""`tune_tiny_digits`, but its second trial waits in its first batch until the process is stopped.

When the environment names a file in `FITDOCTOR_TEST_STARTED`, the second `fit` of each process
creates that file with `.PID` appended and then waits (for at most 10 minutes), so a test knows
which processes have a trial running when it sends SIGINT. Without the variable it is exactly
`tune_tiny_digits`.
"""

import os
import time
from pathlib import Path

import keras
from tune_tiny_digits import build_model, load_data  # noqa: F401  (the setup's functions)


class WaitInSecondFit(keras.callbacks.Callback):
    """Create the marker file and wait, in the first batch of the second fit it joins."""

    def __init__(self) -> None:
        super().__init__()
        self.fits = 0

    def on_train_begin(self, logs=None) -> None:
        self.fits += 1

    def on_train_batch_end(self, batch, logs=None) -> None:
        marker = os.environ.get("FITDOCTOR_TEST_STARTED")
        if not marker or self.fits != 2 or batch != 0:
            return
        Path(f"{marker}.{os.getpid()}").touch()
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            time.sleep(0.05)


FIT = {"epochs": 4, "batch_size": 32, "callbacks": [WaitInSecondFit()]}
