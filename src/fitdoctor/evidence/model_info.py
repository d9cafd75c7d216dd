"""Static facts about the compiled model: layers, output, loss, optimizer. No training."""

from __future__ import annotations

import dataclasses
from typing import Any

import keras
import numpy as np

from fitdoctor.evidence.base import Evidence, EvidenceUnavailable, probe
from fitdoctor.keras_vocab import KERNEL_LAYERS, loss_from_logits, loss_name


@dataclasses.dataclass(frozen=True)
class LayerInfo:
    """One layer as the checks see it.

    Args:
        name: Layer name; `kind`: its class name (`"Dense"`, `"Conv2D"`, `"Dropout"`, ...).
        activation: Activation name (`"linear"` for none on Dense/Conv, `""` for layers without
            one, such as Dropout or Flatten).
        units: Units or filters, where the layer has them.
        params: Trainable parameters; `rate`: the dropout rate, where the layer has one.
        has_regularizer: Whether it has a kernel, bias or activity regularizer.
        inbound: Names of the layers feeding it (empty for inputs or when unreadable).
    """

    name: str
    kind: str
    activation: str
    units: int | None
    params: int
    rate: float | None
    has_regularizer: bool
    inbound: tuple[str, ...] = ()

    @property
    def is_dropout(self) -> bool:
        return "Dropout" in self.kind

    @property
    def is_weighted(self) -> bool:
        """A Dense or convolution layer: one whose output is an affine map of its input."""
        return self.kind in KERNEL_LAYERS


@dataclasses.dataclass(frozen=True)
class ModelInfo:
    """What `build_model()` returned, read without training.

    Args:
        layers: Every layer in order, as `LayerInfo`.
        n_params: Trainable parameters.
        output_shape: Output shape without the batch axis.
        output_activation: Activation of the last layer that has one (`"linear"` if none).
        loss: Canonical loss name, `from_logits`: whether the loss expects logits.
        optimizer: Optimizer class name; `learning_rate`: its initial learning rate.
        metrics: Names of the compiled metrics.
        input_shape: Input shape without the batch axis.
    """

    layers: tuple[LayerInfo, ...]
    n_params: int
    output_shape: tuple[int, ...]
    output_activation: str
    loss: str
    from_logits: bool
    optimizer: str
    learning_rate: float | None
    metrics: tuple[str, ...]
    input_shape: tuple[int, ...] = ()

    @property
    def output_units(self) -> int:
        return int(np.prod(self.output_shape)) if self.output_shape else 1

    @property
    def dropout_rates(self) -> tuple[float, ...]:
        """Rates of the Dropout-family layers, in order."""
        return tuple(float(layer.rate or 0.0) for layer in self.layers if layer.is_dropout)

    @property
    def has_regularization(self) -> bool:
        """Whether any layer has a weight/activity regularizer or is a Dropout layer."""
        return any(layer.has_regularizer or layer.is_dropout for layer in self.layers)

    @property
    def n_hidden(self) -> int:
        """Dense/convolution layers before the output layer."""
        return max(0, sum(layer.is_weighted for layer in self.layers) - 1)

    @property
    def has_conv(self) -> bool:
        return any(layer.kind.startswith(("Conv", "Separable", "Depthwise"))
                   for layer in self.layers)

    def to_measurements(self) -> dict[str, Any]:
        return {
            "n_params": self.n_params,
            "output_shape": list(self.output_shape),
            "output_activation": self.output_activation,
            "loss": self.loss,
            "from_logits": self.from_logits,
            "optimizer": self.optimizer,
            "learning_rate": self.learning_rate,
            "input_shape": list(self.input_shape),
            "layers": [dataclasses.asdict(layer) for layer in self.layers],
        }


def _activation_name(layer: keras.layers.Layer) -> str:
    if isinstance(layer, keras.layers.Activation) or hasattr(layer, "activation"):
        act = getattr(layer, "activation", None)
        if act is None:
            return ""
        return getattr(act, "__name__", type(act).__name__).lower()
    if isinstance(layer, keras.layers.Softmax):
        return "softmax"
    if isinstance(layer, keras.layers.ReLU):
        return "relu"
    if isinstance(layer, keras.layers.LeakyReLU):
        return "leaky_relu"
    return ""


def _inbound_names(layer: keras.layers.Layer) -> tuple[str, ...]:
    """Names of the layers feeding `layer` on its first call (empty for inputs)."""
    nodes = getattr(layer, "_inbound_nodes", None) or []
    if not nodes:
        return ()
    try:
        return tuple(parent.operation.name for parent in nodes[0].parent_nodes)
    except AttributeError:  # a Keras internals change: degrade to "unknown"
        return ()


def learning_rate_of(optimizer: Any) -> float | None:
    """The optimizer's current learning rate as a float (schedules: their initial value)."""
    lr = getattr(optimizer, "learning_rate", None)
    if lr is None:
        return None
    schedule = getattr(optimizer, "_learning_rate", None)
    if isinstance(schedule, keras.optimizers.schedules.LearningRateSchedule):
        config = schedule.get_config()
        for key in ("initial_learning_rate", "learning_rate"):
            if key in config:
                return float(config[key])
        return float(schedule(0))
    try:
        return float(np.asarray(keras.ops.convert_to_numpy(lr)))
    except Exception:
        return None


def describe_model(model: keras.Model) -> ModelInfo:
    """Read a compiled model into a `ModelInfo`."""
    layers = []
    for layer in model.layers:
        units = getattr(layer, "units", None) or getattr(layer, "filters", None)
        layers.append(
            LayerInfo(
                name=layer.name,
                kind=type(layer).__name__,
                activation=_activation_name(layer),
                units=int(units) if units is not None else None,
                params=int(sum(np.prod(w.shape) for w in layer.trainable_weights)),
                rate=float(layer.rate) if hasattr(layer, "rate") else None,
                has_regularizer=any(
                    getattr(layer, attr, None) is not None
                    for attr in ("kernel_regularizer", "bias_regularizer", "activity_regularizer")
                ),
                inbound=_inbound_names(layer),
            )
        )
    output_activation = "linear"
    for layer in reversed(layers):
        if layer.activation:  # layers without one (Dropout, Flatten, ...) are skipped
            output_activation = layer.activation
            break
    out = model.outputs[0].shape if getattr(model, "outputs", None) else ()
    inputs = model.inputs[0].shape if getattr(model, "inputs", None) else ()
    metric_names = []
    for m in getattr(model, "metrics", []) or []:
        metric_names.append(getattr(m, "name", str(m)))
    return ModelInfo(
        layers=tuple(layers),
        n_params=int(sum(np.prod(w.shape) for w in model.trainable_weights)),
        output_shape=tuple(int(d) for d in out[1:] if d is not None),
        output_activation=output_activation,
        loss=loss_name(model.loss),
        from_logits=loss_from_logits(model.loss),
        optimizer=type(model.optimizer).__name__,
        learning_rate=learning_rate_of(model.optimizer),
        metrics=tuple(metric_names),
        input_shape=tuple(int(d) for d in inputs[1:] if d is not None),
    )


def _measured_output_activation(pred: np.ndarray) -> str:
    """The output activation read off predictions, for a model whose layer order is unknown."""
    finite = pred[np.isfinite(pred)]
    if not finite.size:
        return "linear"
    if pred.ndim == 2 and pred.shape[1] > 1 and finite.min() >= 0 and np.allclose(
            pred.sum(axis=1), 1, atol=1e-4):
        return "softmax"
    if finite.min() >= 0 and finite.max() <= 1:
        return "sigmoid"
    return "linear"


@probe("model_info")
def model_info(evidence: Evidence) -> ModelInfo:
    """Describe the user's model (the setup's reference model, built once).

    A subclassed model has no symbolic outputs and no known layer order: its output shape and
    output activation are measured on two training rows instead of read from its layers.
    """
    setup = evidence.setup
    model = setup.reference_model
    info = describe_model(model)
    if getattr(model, "outputs", None):
        return info
    try:
        out = model(setup.model_rows(slice(0, 2))[0], training=False)
    except Exception as exc:
        raise EvidenceUnavailable(
            f"could not call the model on two training rows to read its output: {exc}"
        ) from exc
    if isinstance(out, (list, tuple, dict)):
        out = list(out.values())[0] if isinstance(out, dict) else out[0]
    pred = np.asarray(keras.ops.convert_to_numpy(out), dtype="float64")
    return dataclasses.replace(
        info, output_shape=tuple(int(d) for d in pred.shape[1:]),
        output_activation=_measured_output_activation(pred),
        input_shape=tuple(int(d) for d in setup.x_train.shape[1:]),
    )
