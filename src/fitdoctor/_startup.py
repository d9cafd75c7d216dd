"""Load Keras and TensorFlow without their native start-up log when the process is the CLI.

TensorFlow 2.21 logs through Abseil before any log level applies: "Could not find cuda
drivers", the oneDNN notice, the CPU-feature banner and the cuInit error reach file descriptor 2
whatever `TF_CPP_MIN_LOG_LEVEL` says. The only way to keep them off the terminal is to point
that descriptor elsewhere while TensorFlow loads and probes its platforms. The `fitdoctor`
command does this once, before anything else imports Keras; with `--debug` it shows
everything. A Python user importing fitdoctor keeps TensorFlow's own behaviour.

This module imports only the standard library: it runs before TensorFlow is loaded.
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

#: Names the `fitdoctor` command runs under: the console script, or `python -m MODULE`.
CLI_NAMES = ("fitdoctor",)
CLI_MODULES = ("fitdoctor", "fitdoctor.cli")


def running_as_cli(argv: list[str] | None = None, orig_argv: list[str] | None = None) -> bool:
    """Whether this process is the `fitdoctor` command (console script or `python -m`).

    Args:
        argv: The program's arguments. Defaults to None (`sys.argv`).
        orig_argv: The interpreter's own arguments. Defaults to None (`sys.orig_argv`).
    """
    argv = sys.argv if argv is None else argv
    orig_argv = list(getattr(sys, "orig_argv", [])) if orig_argv is None else orig_argv
    if argv and argv[0] and Path(argv[0]).stem in CLI_NAMES:
        return True
    if "-m" in orig_argv:
        position = orig_argv.index("-m")
        return orig_argv[position + 1:position + 2] in ([m] for m in CLI_MODULES)
    return False


@contextmanager
def native_stderr_hidden() -> Iterator[None]:
    """Point file descriptor 2 at a temporary file for the block, then restore it.

    What native code wrote there is dropped, unless the block raises: then it is written back
    to the real stderr before the exception travels on, since it may explain the failure.
    """
    _flush_stderr()
    try:
        saved = os.dup(2)
    except OSError:  # no stderr to hide
        yield
        return
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            yield
        except BaseException:
            _flush_stderr()
            os.dup2(saved, 2)
            captured.seek(0)
            os.write(2, captured.read())
            raise
        finally:
            _flush_stderr()
            os.dup2(saved, 2)
            os.close(saved)


def _flush_stderr() -> None:
    if sys.stderr is not None:
        sys.stderr.flush()


def load_backend() -> None:
    """Import Keras and let TensorFlow probe its devices (where it logs a missing CUDA)."""
    import keras

    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        tf.config.list_physical_devices()


def quiet_cli_startup() -> None:
    """When this process is the CLI without `--debug`: load the backend with stderr hidden.

    Also keeps library chatter out of the command's output: Keras' Python warnings and
    Abseil's Python log below ERROR. Does nothing for a Python user, or once Keras is loaded.
    """
    if not running_as_cli():
        return
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    if "--debug" in sys.argv[1:] or "keras" in sys.modules:
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    warnings.filterwarnings("ignore", module="keras")
    logging.getLogger("absl").setLevel(logging.ERROR)
    with native_stderr_hidden():
        load_backend()
