"""The search space: what `tune` may change, over which ranges, and how each value is applied.

A user declares a space with a `SEARCH_SPACE` dict in the setup file (or `tune(space=...)`):

    SEARCH_SPACE = {
        "lr": ("log", 1e-4, 1e-1),        # float, sampled on a log scale (low > 0)
        "dropout": ("float", 0.0, 0.5),   # float, uniform; ("float", low, high, step) for a step
        "units": ("int", 32, 256, 32),    # integer, uniform, optional step
        "activation": ["relu", "tanh"],   # a list: one of these choices
        "batch_size": [16, 32, 64],
    }

Each name is applied in this order of preference:

1. a keyword argument of `build_model` (called as `build_model(name=value)`);
2. `batch_size` / `epochs`: passed to `model.fit` (`epochs` is the most epochs a trial may run;
   early stopping ends it sooner);
3. `lr` / `learning_rate`: assigned to the freshly built model's optimizer (constant rates
   only; a schedule must be exposed as a `build_model` argument instead);
4. `dropout`: set as the rate of every existing `Dropout` layer of the fresh model;
5. `l2`: an L2 penalty of that strength on the kernel of every `Dense`/`Conv*` layer;
6. any other name when `build_model` takes `**kwargs`.

Edits 3-5 touch only a fresh model built for one trial, before it trains, and never add or
remove layers: that is the part of a model fitdoctor can change without knowing its code.

Without a declared space, fitdoctor searches what it can set on any compiled model: the learning
rate a decade either side of the current one, the batch size at half, same and double, and
dropout / L2 where the model has layers they apply to. A diagnosis narrows that default space:
`lr_too_high` moves the learning-rate range down, `lr_too_low` up, `underfitting` drops the
regularization parameters.
"""

from __future__ import annotations

import dataclasses
import inspect
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from fitdoctor.errors import SetupError

KINDS = ("log", "float", "int", "choice")

#: Names fitdoctor knows how to apply without the user's code taking them as arguments.
RESERVED = ("lr", "learning_rate", "batch_size", "epochs", "dropout", "l2")

#: Where a value goes: build_model keyword, fit keyword, optimizer, Dropout rates, kernel L2.
TARGETS = ("build_model", "fit", "optimizer", "dropout_layers", "kernel_l2")

_KERNEL_LAYERS = ("Dense", "Conv1D", "Conv2D", "Conv3D", "EinsumDense")


@dataclasses.dataclass(frozen=True)
class Param:
    """One searched hyperparameter.

    Args:
        name: The name trials record, e.g. `"lr"`.
        kind: `"log"`, `"float"`, `"int"` or `"choice"`.
        target: Where the value goes (see `TARGETS`).
        low: Lower bound (numeric kinds).
        high: Upper bound (numeric kinds).
        step: Step for `"float"` / `"int"`; None for continuous floats.
        choices: The options of a `"choice"` parameter.
    """

    name: str
    kind: str
    target: str
    low: float | None = None
    high: float | None = None
    step: float | None = None
    choices: tuple[Any, ...] = ()

    def suggest(self, trial: Any) -> Any:
        """Ask an Optuna trial for this parameter's value."""
        if self.kind == "choice":
            return trial.suggest_categorical(self.name, list(self.choices))
        if self.kind == "int":
            return trial.suggest_int(self.name, int(self.low), int(self.high),
                                     step=int(self.step or 1))
        if self.kind == "log":
            return trial.suggest_float(self.name, self.low, self.high, log=True)
        return trial.suggest_float(self.name, self.low, self.high, step=self.step)

    def grid(self, points: int = 3) -> list[Any]:
        """Values a grid search visits: the choices, or `points` spread over the range.

        Args:
            points: Values per continuous axis. Defaults to 3.
        """
        if self.kind == "choice":
            return list(self.choices)
        if self.kind == "log":
            return [float(v) for v in np.geomspace(self.low, self.high, points)]
        if self.kind == "int":
            step = int(self.step or 1)
            raw = np.linspace(self.low, self.high, points)
            values = sorted({int(self.low + step * round((v - self.low) / step)) for v in raw})
            return [v for v in values if self.low <= v <= self.high]
        if self.step:
            raw = np.linspace(self.low, self.high, points)
            values = sorted({self.low + self.step * round((v - self.low) / self.step) for v in raw})
            return [float(v) for v in values if self.low <= v <= self.high]
        return [float(v) for v in np.linspace(self.low, self.high, points)]

    def to_dict(self) -> dict[str, Any]:
        return {k: (list(v) if isinstance(v, tuple) else v)
                for k, v in dataclasses.asdict(self).items()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Param:
        return cls(**{**data, "choices": tuple(data.get("choices", ()))})


def builder_keywords(build_model: Callable[..., Any]) -> tuple[set[str], bool]:
    """Keyword arguments `build_model` takes by name, and whether it takes `**kwargs`."""
    try:
        signature = inspect.signature(build_model)
    except (TypeError, ValueError):
        return set(), False
    names = {p.name for p in signature.parameters.values()
             if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    var_kw = any(p.kind is p.VAR_KEYWORD for p in signature.parameters.values())
    return names, var_kw


@dataclasses.dataclass(frozen=True)
class ModelFacts:
    """What the default space and the validation need to know about the user's model."""

    learning_rate: float | None
    lr_is_schedule: bool
    n_dropout: int
    n_kernels: int
    dropout_rate: float | None = None
    has_l2: bool = False


def model_facts(model: Any) -> ModelFacts:
    """Read the learning rate and the layers dropout / L2 could apply to."""
    import keras

    from fitdoctor.evidence.model_info import learning_rate_of

    schedule = isinstance(getattr(model.optimizer, "_learning_rate", None),
                          keras.optimizers.schedules.LearningRateSchedule)
    layers = _all_layers(model)
    dropouts = [layer for layer in layers if isinstance(layer, keras.layers.Dropout)]
    lr = learning_rate_of(model.optimizer)
    return ModelFacts(
        learning_rate=float(f"{lr:.6g}") if lr else lr,  # drop float32 noise: 0.0010000000475
        lr_is_schedule=schedule,
        n_dropout=len(dropouts),
        n_kernels=sum(type(layer).__name__ in _KERNEL_LAYERS for layer in layers),
        dropout_rate=float(dropouts[0].rate) if dropouts else None,
        has_l2=any(getattr(layer, "kernel_regularizer", None) is not None for layer in layers),
    )


def _all_layers(model: Any) -> list[Any]:
    out = []
    for layer in getattr(model, "layers", []):
        out.append(layer)
        if hasattr(layer, "layers"):
            out.extend(_all_layers(layer))
    return out


def _target(name: str, keywords: set[str], var_kw: bool, facts: ModelFacts) -> str:
    if name in keywords:
        return "build_model"
    if name in ("batch_size", "epochs"):
        return "fit"
    if name in ("lr", "learning_rate"):
        if facts.lr_is_schedule:
            raise SetupError(
                f"SEARCH_SPACE[{name!r}]: the model's optimizer uses a learning-rate schedule, "
                "which fitdoctor cannot replace; make the rate a build_model keyword argument"
            )
        return "optimizer"
    if name == "dropout":
        if facts.n_dropout == 0:
            raise SetupError(
                "SEARCH_SPACE['dropout']: the model has no Dropout layer to set and build_model "
                "takes no dropout argument"
            )
        return "dropout_layers"
    if name == "l2":
        if facts.n_kernels == 0:
            raise SetupError(
                "SEARCH_SPACE['l2']: the model has no Dense/Conv layer to regularize and "
                "build_model takes no l2 argument"
            )
        return "kernel_l2"
    if var_kw:
        return "build_model"
    raise SetupError(
        f"SEARCH_SPACE[{name!r}]: build_model takes no keyword argument {name!r} and it is not "
        f"one fitdoctor sets itself ({', '.join(RESERVED)})"
    )


def _number(name: str, value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise SetupError(f"SEARCH_SPACE[{name!r}]: {what} must be a finite number. "
                         f"Received: {value!r}")
    return float(value)


def parse_param(name: Any, spec: Any, target: str = "build_model") -> Param:
    """Validate one `SEARCH_SPACE` entry and turn it into a `Param`.

    Raises:
        SetupError: naming the key and what was received.
    """
    if not isinstance(name, str) or not name.isidentifier():
        raise SetupError(f"SEARCH_SPACE keys must be identifiers (names). Received: {name!r}")
    if isinstance(spec, list):
        if not spec:
            raise SetupError(f"SEARCH_SPACE[{name!r}]: the list of choices is empty")
        for choice in spec:
            if choice is not None and not isinstance(choice, (bool, int, float, str)):
                raise SetupError(
                    f"SEARCH_SPACE[{name!r}]: choices must be numbers, strings, booleans or "
                    f"None. Received: {choice!r}"
                )
        return Param(name, "choice", target, choices=tuple(spec))
    if not isinstance(spec, tuple) or not spec or spec[0] not in KINDS[:3]:
        raise SetupError(
            f"SEARCH_SPACE[{name!r}] must be a list of choices or a tuple ('log'|'float'|'int', "
            f"low, high[, step]). Received: {spec!r}"
        )
    kind = spec[0]
    if len(spec) not in (3, 4) or (kind == "log" and len(spec) == 4):
        raise SetupError(
            f"SEARCH_SPACE[{name!r}]: expected ({kind!r}, low, high"
            f"{'' if kind == 'log' else '[, step]'}). Received: {spec!r}"
        )
    low = _number(name, spec[1], "low")
    high = _number(name, spec[2], "high")
    step = _number(name, spec[3], "step") if len(spec) == 4 else None
    if not low < high:
        raise SetupError(f"SEARCH_SPACE[{name!r}]: low must be below high. Received: {spec!r}")
    if kind == "log" and low <= 0:
        raise SetupError(f"SEARCH_SPACE[{name!r}]: a log range needs low > 0. Received: {spec!r}")
    if step is not None and step <= 0:
        raise SetupError(f"SEARCH_SPACE[{name!r}]: step must be positive. Received: {spec!r}")
    if kind == "int":
        if not (low.is_integer() and high.is_integer() and (step is None or step.is_integer())):
            raise SetupError(
                f"SEARCH_SPACE[{name!r}]: an int range needs integer bounds. Received: {spec!r}"
            )
    return Param(name, kind, target, low, high, step)


def parse_search_space(raw: Any, build_model: Callable[..., Any],
                       facts: ModelFacts) -> tuple[Param, ...]:
    """Validate a user's `SEARCH_SPACE` dict against their `build_model` and model.

    Raises:
        SetupError: a malformed entry or a name nothing can apply, naming the key.
    """
    if not isinstance(raw, Mapping) or not raw:
        raise SetupError(
            f"SEARCH_SPACE must be a non-empty dict of name -> range. Received: {raw!r}"
        )
    keywords, var_kw = builder_keywords(build_model)
    params = []
    for name, spec in raw.items():
        param = parse_param(name, spec)
        params.append(dataclasses.replace(param, target=_target(name, keywords, var_kw, facts)))
    if {"lr", "learning_rate"} <= {p.name for p in params}:
        raise SetupError("SEARCH_SPACE names both 'lr' and 'learning_rate'; keep one")
    return tuple(params)


def default_space(setup: Any, facts: ModelFacts,
                  finding_ids: Sequence[str] = ()) -> tuple[Param, ...]:
    """The space fitdoctor searches when the user declares none, narrowed by a diagnosis.

    Args:
        setup: The `Setup` being tuned.
        facts: What `model_facts` read from its model.
        finding_ids: Ids of the problems a diagnosis reported (may be empty).
    """
    keywords, _ = builder_keywords(setup.build_model)
    params: list[Param] = []
    lr_name = next((n for n in ("lr", "learning_rate") if n in keywords), None)
    if lr_name or (facts.learning_rate and not facts.lr_is_schedule):
        lr0 = facts.learning_rate or 1e-3
        low, high = lr0 / 10, lr0 * 10
        if "lr_too_high" in finding_ids:
            low, high = lr0 / 100, lr0
        elif "lr_too_low" in finding_ids:
            low, high = lr0, lr0 * 100
        params.append(Param(lr_name or "lr", "log", "build_model" if lr_name else "optimizer",
                            float(low), float(high)))
    bs = setup.batch_size
    sizes = sorted({max(1, bs // 2), bs, bs * 2})
    sizes = [s for s in sizes if s <= setup.n_train] or [bs]
    params.append(Param("batch_size", "choice",
                        "build_model" if "batch_size" in keywords else "fit",
                        choices=tuple(sizes)))
    if "underfitting" not in finding_ids:
        if "dropout" in keywords or facts.n_dropout:
            params.append(Param("dropout", "float",
                                "build_model" if "dropout" in keywords else "dropout_layers",
                                0.0, 0.5))
        if "l2" in keywords or facts.n_kernels:
            params.append(Param("l2", "log", "build_model" if "l2" in keywords else "kernel_l2",
                                1e-6, 1e-2))
    return tuple(params)


def current_values(params: Sequence[Param], setup: Any, facts: ModelFacts) -> dict[str, Any]:
    """The user's own value of each parameter where it is known and inside the range.

    Used to enqueue the user's configuration as the first trial, so the study shows what
    tuning gained over it. A model without kernel regularizers counts as L2 at the range's
    lower bound (1e-6 by default: no measurable penalty).
    """
    known: dict[str, Any] = {
        "lr": facts.learning_rate, "learning_rate": facts.learning_rate,
        "batch_size": setup.batch_size,
        "dropout": facts.dropout_rate,
        "epochs": setup.epochs,
    }
    l2 = next((p for p in params if p.target == "kernel_l2"), None)
    if l2 is not None and not facts.has_l2:
        known["l2"] = l2.low
    keywords, _ = builder_keywords(setup.build_model)
    defaults = {p.name: p.default for p in inspect.signature(setup.build_model).parameters.values()
                if p.default is not inspect.Parameter.empty} if keywords else {}
    out = {}
    for param in params:
        value = defaults.get(param.name, known.get(param.name))
        if value is None:
            continue
        if param.kind == "choice":
            if value in param.choices:
                out[param.name] = value
        elif isinstance(value, (int, float)) and param.low <= value <= param.high:
            out[param.name] = int(value) if param.kind == "int" else float(value)
    return out
