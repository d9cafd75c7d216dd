"""Unmodified training scripts: run the file with `keras.Model.fit` intercepted.

For a file that defines no `load_data()`/`build_model()`, fitdoctor runs it as a script (as
`python train.py ARGS` would, with `__name__ == "__main__"` and `sys.argv` set) while
`keras.Model.fit` is replaced, the way experiment trackers autolog. The chosen `fit` call's
model, data and keyword arguments become the setup; that call never trains, and the rest of the
script does not run. Calls before it return an empty `History` at once, without training. The
model instance is never trained: each run trains a clone with the same compile configuration.

What is intercepted: `keras.Model.fit` (Sequential, functional and subclassed models, and
`tf.keras`, which is Keras 3). What is not: custom training loops (`train_on_batch`,
`GradientTape`), `fit` of other libraries, and anything the script does after the call.
"""

from __future__ import annotations

import contextlib
import dataclasses
import inspect
import runpy
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from fitdoctor.errors import SetupError

#: `fit` arguments that describe the data rather than how to train on it.
_DATA_ARGS = ("x", "y", "validation_data", "sample_weight")


class _Captured(BaseException):
    """Raised inside the script at the chosen `fit` call; BaseException so `except Exception`
    in the user's code does not swallow it."""

    def __init__(self, model: Any, arguments: dict[str, Any]) -> None:
        super().__init__("fit intercepted")
        self.model = model
        self.arguments = arguments


@dataclasses.dataclass(frozen=True)
class FitCall:
    """The intercepted `fit` call.

    Args:
        model: The compiled model the script called `fit` on (never trained by fitdoctor).
        train_data: `(x, y)`, or the dataset / generator passed as `x`.
        validation_data: What the script passed as `validation_data` (None when absent).
        fit: The other keyword arguments (`epochs`, `batch_size`, `callbacks`, ...).
    """

    model: Any
    train_data: Any
    validation_data: Any
    fit: dict[str, Any]


@dataclasses.dataclass
class Interception:
    """What an `intercepting_fit` block saw: how many `fit` calls, and the one it took."""

    calls: int = 0
    call: FitCall | None = None


@contextlib.contextmanager
def intercepting_fit(call_number: int = 1) -> Iterator[Interception]:
    """Replace `keras.Model.fit` inside the block; the `call_number`-th call ends the block.

    Calls before it return an empty `History` without training. The chosen call raises an
    exception the block swallows after recording the call in the yielded `Interception`.
    """
    import keras

    original = keras.Model.fit
    signature = inspect.signature(original)
    seen = Interception()

    def fit(self, *args: Any, **kwargs: Any) -> Any:
        seen.calls += 1
        if seen.calls < call_number:
            history = keras.callbacks.History()
            history.set_model(self)
            return history
        bound = signature.bind(self, *args, **kwargs)
        raise _Captured(self, {k: v for k, v in bound.arguments.items() if k != "self"})

    keras.Model.fit = fit
    try:
        yield seen
    except _Captured as captured:
        seen.call = _fit_call(captured.model, captured.arguments)
    finally:
        keras.Model.fit = original


@contextlib.contextmanager
def script_argv(path: str | Path, args: Sequence[str]) -> Iterator[None]:
    """`sys.argv` as `python path ARGS` sets it, inside the block."""
    argv = sys.argv
    sys.argv = [str(path), *args]
    try:
        yield
    finally:
        sys.argv = argv


def capture_fit(path: str | Path, args: Sequence[str] = (), *, call_number: int = 1,
                run_name: str = "__main__") -> FitCall:
    """Run the script at `path` until its `call_number`-th `fit` call, and return that call.

    Args:
        path: The training script.
        args: Its command-line arguments (`sys.argv[1:]`). Defaults to none.
        call_number: Which `fit` call to take, from 1. Defaults to 1.
        run_name: `__name__` the script runs under. Defaults to `"__main__"`.

    Raises:
        SetupError: the script raised, or ended without reaching that call.
    """
    if call_number < 1:
        raise SetupError(f"--fit-call must be 1 or more. Received: {call_number}")
    path = Path(path)
    folder = str(path.resolve().parent)
    sys.path.insert(0, folder)
    try:
        with script_argv(path, args), intercepting_fit(call_number) as seen:
            runpy.run_path(str(path), run_name=run_name)
    except SystemExit as exc:
        raise SetupError(f"{path}: the script exited (code {exc.code}) before calling "
                         "model.fit; check its arguments after --") from None
    except SyntaxError as exc:
        raise SetupError(f"{path}:{exc.lineno}: syntax error: {exc.msg}") from exc
    except Exception as exc:
        raise SetupError(f"{path}: running the script raised {type(exc).__name__}: {exc}"
                         ) from exc
    finally:
        if folder in sys.path:
            sys.path.remove(folder)
    if seen.call is not None:
        return seen.call
    if seen.calls == 0:
        raise SetupError(f"{path} never calls model.fit, and defines no load_data() and "
                         "build_model(); see the README's setup contract")
    raise SetupError(f"{path} calls model.fit {seen.calls} time(s); --fit-call {call_number} "
                     "asks for a later one")


def _fit_call(model: Any, arguments: dict[str, Any]) -> FitCall:
    x, y = arguments.get("x"), arguments.get("y")
    if x is None:
        raise SetupError("the script called model.fit without data")
    train = (x, y) if y is not None else x
    if y is None and isinstance(x, (tuple, list)) and len(x) == 2:
        train = tuple(x)
    fit = {k: v for k, v in arguments.items() if k not in _DATA_ARGS and v is not None}
    fit.pop("kwargs", None)
    if arguments.get("sample_weight") is not None:
        raise SetupError("the script passes sample_weight to fit; fitdoctor reads it from a "
                         "dataset's (x, y, sample_weight) batches only")
    return FitCall(model, train, arguments.get("validation_data"), fit)


def builder_for(model: Any) -> Callable[[], Any]:
    """A `build_model` that returns a fresh clone of a compiled model: same layers, fresh
    weights, and the same compile configuration (a new optimizer of the same settings).

    The instance itself is never trained or changed.

    Raises:
        SetupError: the model is not compiled, or cannot be cloned (a subclassed model without
            `get_config`).
    """
    import keras

    if not getattr(model, "compiled", False):
        raise SetupError("the model passed to fitdoctor is not compiled; call model.compile")
    compile_config = model.get_compile_config()

    def clone() -> Any:
        try:
            copy = keras.models.clone_model(model)
        except Exception as exc:
            try:
                copy = type(model).from_config(model.get_config())
            except Exception:
                raise SetupError(
                    f"cannot clone the {type(model).__name__} instance ({exc}); give "
                    "fitdoctor a build_model() function instead"
                ) from None
        copy.compile_from_config(compile_config)
        return copy

    clone()  # fail now, not in the middle of a diagnosis
    return clone
