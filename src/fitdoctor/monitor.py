"""`Monitor`: a Keras callback that records how training behaves inside, cheaply.

Drop it into your own `model.fit(..., callbacks=[fitdoctor.Monitor(data=(x[:256], y[:256]))])`.
Every batch it keeps the loss (a float); on a few sampled batches per epoch it also measures,
on a fixed probe sample of your data, the gradient norm of each layer, how far the optimizer
step moved each layer's weights relative to their size, the share of dead ReLU units and of
saturated sigmoid/tanh units, and, when told your batch size, how noisy one batch's gradient
is. It never steps the optimizer, never runs a layer in training mode and never touches a
random generator, so training results are the same with and without it.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import warnings
import weakref
from collections.abc import Mapping, Sequence
from typing import Any

import keras
import numpy as np

from fitdoctor.data import n_rows

logger = logging.getLogger(__name__)

#: A unit counts as saturated when it is within this distance of its activation's bound.
SATURATION_MARGIN = 0.02
#: ... on at least this share of the probe samples (and positions, for conv layers).
SATURATION_SHARE = 0.9

_RELU = ("relu", "relu6")
_BOUNDED = {"sigmoid": (0.0, 1.0), "tanh": (-1.0, 1.0), "hard_sigmoid": (0.0, 1.0)}


@dataclasses.dataclass(frozen=True)
class MonitorSample:
    """What one sampled batch showed.

    Args:
        epoch: Epoch index (0-based).
        batch: Batch index inside the epoch.
        step: Optimizer step counted from the start of `fit`.
        loss: The batch's training loss (NaN when Keras did not report one).
        grad_norm: Global gradient norm on the probe sample, before the step.
        layer_grad_norms: Gradient norm per layer with trainable weights.
        layer_grad_rms: Root-mean-square gradient entry per layer (size-independent).
        update_ratios: Per layer, `||w_after - w_before|| / ||w_before||` over this step.
        dead_fraction: Per ReLU layer, share of units that output 0 on every probe sample.
        saturated_fraction: Per sigmoid/tanh layer, share of units saturated on nearly all samples.
        gradient_noise: `E||g_batch - g||^2 / ||g||^2` at the given batch size (NaN if unmeasured).
    """

    epoch: int
    batch: int
    step: int
    loss: float
    grad_norm: float
    layer_grad_norms: Mapping[str, float]
    layer_grad_rms: Mapping[str, float]
    update_ratios: Mapping[str, float]
    dead_fraction: Mapping[str, float]
    saturated_fraction: Mapping[str, float]
    gradient_noise: float

    def to_dict(self) -> dict[str, Any]:
        return {k: (dict(v) if isinstance(v, Mapping) else v)
                for k, v in dataclasses.asdict(self).items()}


@dataclasses.dataclass(frozen=True)
class MonitorRecord:
    """Everything one `fit` under a `Monitor` recorded.

    Args:
        history: Per-epoch logs, like `History.history`.
        batch_losses: Per epoch, the loss of each batch (recovered from Keras' running mean).
        samples: The sampled batches, in order.
        first_nonfinite_step: First step whose loss was NaN or infinite (None when none was).
        nonfinite_weights: Whether any weight became NaN or infinite.
        nonfinite_gradients: Whether any measured gradient was NaN or infinite.
        stopped_on_nan: Whether the monitor stopped training (only with `stop_on_nan=True`).
        gradients_unavailable: Why gradients/activations were not measured ("" when they were).
        layer_kinds: Class name of each layer with trainable weights, in model order.
    """

    history: Mapping[str, Sequence[float]]
    batch_losses: tuple[tuple[float, ...], ...]
    samples: tuple[MonitorSample, ...]
    first_nonfinite_step: int | None
    nonfinite_weights: bool
    nonfinite_gradients: bool
    stopped_on_nan: bool
    gradients_unavailable: str = ""
    layer_kinds: Mapping[str, str] = dataclasses.field(default_factory=dict)

    @property
    def nonfinite_loss(self) -> bool:
        return self.first_nonfinite_step is not None

    def to_measurements(self, max_batch_losses: int = 400) -> dict[str, Any]:
        """A JSON-able summary; per-batch losses are thinned to at most `max_batch_losses`."""
        flat = [v for epoch in self.batch_losses for v in epoch]
        stride = max(1, math.ceil(len(flat) / max_batch_losses))
        return {
            "history": {k: list(v) for k, v in self.history.items()},
            "batch_losses": {"stride": stride, "values": flat[::stride]},
            "samples": [s.to_dict() for s in self.samples],
            "nonfinite": {
                "first_loss_step": self.first_nonfinite_step,
                "weights": self.nonfinite_weights,
                "gradients": self.nonfinite_gradients,
            },
            "stopped_on_nan": self.stopped_on_nan,
            "gradients_unavailable": self.gradients_unavailable,
            "layer_kinds": dict(self.layer_kinds),
        }


def _activation_kind(layer: keras.layers.Layer) -> str:
    """`"relu"`, `"sigmoid"`, `"tanh"`, ... for layers whose output is an activation, else ""."""
    if isinstance(layer, keras.layers.ReLU):
        slope = float(getattr(layer, "negative_slope", 0.0) or 0.0)
        return "relu" if slope == 0.0 else ""
    act = getattr(layer, "activation", None)
    name = getattr(act, "__name__", "") if act is not None else ""
    name = name.lower()
    if name in _RELU or name in _BOUNDED:
        return name
    return ""


def _values(variables: Sequence[Any]) -> list[np.ndarray]:
    """Copies of the variables' current values."""
    return [np.array(keras.ops.convert_to_numpy(v)) for v in variables]


def _sq(a: np.ndarray) -> float:
    return float(np.sum(np.square(a, dtype="float64")))


def _nonfinite(values: Sequence[np.ndarray]) -> bool:
    return any(not np.isfinite(v).all() for v in values)


class Monitor(keras.callbacks.Callback):
    """Record losses, gradients, weight updates and activations while `fit` runs.

    Per-batch work is a float per batch; the gradient/activation measurement runs on
    `samples_per_epoch` batches per epoch only, through one compiled function cached per model,
    on a fixed probe sample. Reset on every `on_train_begin`, so one instance can watch several
    `fit` calls; the last one's record is `monitor.record`.

    Args:
        data: `(x, y)` probe sample for gradients and activations (a few hundred rows is
            plenty). Without it only losses, weight updates and NaN/Inf are recorded.
            Defaults to None.
        samples_per_epoch: Batches per epoch to measure, spread evenly over the epoch (the
            first batch is always one). Defaults to 2.
        batch_size: The batch size you train with; when given, the gradient noise of one such
            batch is measured on the probe sample. Defaults to None.
        warn: Emit a `RuntimeWarning` when the loss, a weight or a gradient becomes NaN/Inf,
            or a layer's units are all dead. Defaults to False.
        stop_on_nan: Stop training (`model.stop_training = True`) at the first NaN/Inf loss.
            Defaults to False.

    Example:
        >>> monitor = fitdoctor.Monitor(data=(x_train[:256], y_train[:256]))
        >>> model.fit(x_train, y_train, epochs=5, callbacks=[monitor])
        >>> monitor.record.samples[-1].dead_fraction
        {'dense': 0.03}
    """

    def __init__(
        self,
        data: tuple[Any, Any] | None = None,
        *,
        samples_per_epoch: int = 2,
        batch_size: int | None = None,
        warn: bool = False,
        stop_on_nan: bool = False,
    ) -> None:
        super().__init__()
        if not isinstance(samples_per_epoch, int) or samples_per_epoch < 1:
            raise ValueError(
                "samples_per_epoch must be a positive integer. "
                f"Received: samples_per_epoch={samples_per_epoch!r}"
            )
        if batch_size is not None and (not isinstance(batch_size, int) or batch_size < 1):
            raise ValueError(
                "batch_size must be a positive integer or None. "
                f"Received: batch_size={batch_size!r}"
            )
        if data is not None:
            if not isinstance(data, (tuple, list)) or len(data) != 2:
                raise ValueError(
                    f"data must be a pair (x, y). Received: data of type {type(data).__name__}"
                )
            if n_rows(data[0]) != len(data[1]) or len(data[1]) < 1:
                raise ValueError(
                    "data must hold the same number (at least 1) of x and y rows. "
                    f"Received: {n_rows(data[0])} x rows and {len(data[1])} y rows"
                )
        self.data = data
        self.samples_per_epoch = samples_per_epoch
        self.batch_size = batch_size
        self.warn = warn
        self.stop_on_nan = stop_on_nan
        self.record: MonitorRecord | None = None
        self._compiled: tuple[weakref.ref, Any, tuple] | None = None
        self._reset()

    # -- state --------------------------------------------------------------------------

    def _reset(self) -> None:
        self._history: dict[str, list[float]] = {}
        self._batch_losses: list[list[float]] = []
        self._samples: list[MonitorSample] = []
        self._first_nonfinite: int | None = None
        self._nonfinite_weights = False
        self._nonfinite_grads = False
        self._stopped = False
        self._unavailable = "" if self.data is not None else "no probe data given to Monitor"
        self._epoch = 0
        self._step = 0
        self._prev_mean = 0.0
        self._sample_batches: set[int] = {0}
        self._pending: dict[str, Any] | None = None
        self._warned: set[str] = set()
        self._kinds: dict[str, str] = {}

    def _finish(self) -> None:
        self.record = MonitorRecord(
            history={k: tuple(v) for k, v in self._history.items()},
            batch_losses=tuple(tuple(e) for e in self._batch_losses),
            samples=tuple(self._samples),
            first_nonfinite_step=self._first_nonfinite,
            nonfinite_weights=self._nonfinite_weights,
            nonfinite_gradients=self._nonfinite_grads,
            stopped_on_nan=self._stopped,
            gradients_unavailable=self._unavailable,
            layer_kinds=self._kinds,
        )

    def to_measurements(self) -> dict[str, Any]:
        """The last record as a JSON-able dict (empty before the first `fit`)."""
        return self.record.to_measurements() if self.record is not None else {}

    # -- hooks --------------------------------------------------------------------------

    def on_train_begin(self, logs=None):
        logs = logs or {}
        self._reset()
        self.record = None
        self._groups = self._layer_groups()
        by_name = {layer.name: type(layer).__name__ for layer in self.model.layers}
        self._kinds = {name: by_name[name] for name, _ in self._groups}
        if self.data is not None:
            try:
                self._measure_fn()
            except Exception as exc:  # an exotic model: keep recording losses and updates
                logger.debug("Monitor cannot measure gradients", exc_info=True)
                self._unavailable = f"{type(exc).__name__}: {exc}"

    def on_epoch_begin(self, epoch, logs=None):
        logs = logs or {}
        self._epoch = int(epoch)
        self._prev_mean = 0.0
        self._batch_losses.append([])
        steps = (self.params or {}).get("steps")
        if steps:
            picks = np.linspace(0, int(steps) - 1, num=min(self.samples_per_epoch, int(steps)))
            self._sample_batches = {int(round(p)) for p in picks}
        else:
            self._sample_batches = set(range(self.samples_per_epoch))

    def on_train_batch_begin(self, batch, logs=None):
        logs = logs or {}
        if batch not in self._sample_batches:
            return
        weights = _values(self.model.trainable_variables)
        self._pending = {"weights": weights, "stats": self._measure()}

    def on_train_batch_end(self, batch, logs=None):
        logs = logs or {}
        loss = self._batch_loss(batch, logs.get("loss"))
        self._batch_losses[-1].append(loss)
        if not math.isfinite(loss) and self._first_nonfinite is None:
            self._first_nonfinite = self._step
            self._alert("loss", f"loss became {loss} at step {self._step} (epoch {self._epoch})")
            if self.stop_on_nan:
                self._stopped = True
                self.model.stop_training = True
        if self._pending is not None:
            self._record_sample(batch, loss)
            self._pending = None
        self._step += 1

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        for key, value in logs.items():
            try:
                self._history.setdefault(key, []).append(float(value))
            except (TypeError, ValueError):
                continue

    def on_train_end(self, logs=None):
        logs = logs or {}
        if not self._nonfinite_weights and _nonfinite(_values(self.model.weights)):
            self._nonfinite_weights = True
        self._finish()

    # -- measurement --------------------------------------------------------------------

    def _batch_loss(self, batch: int, running_mean: Any) -> float:
        """The batch's own loss from Keras' running epoch mean (equal-size batches assumed)."""
        if running_mean is None:
            return math.nan
        mean = float(running_mean)
        loss = mean
        if math.isfinite(mean) and math.isfinite(self._prev_mean):
            loss = (batch + 1) * mean - batch * self._prev_mean
        self._prev_mean = mean
        return float(loss)

    def _layer_groups(self) -> list[tuple[str, list[int]]]:
        """Trainable variables grouped by the top-level layer that owns them."""
        index = {id(v): i for i, v in enumerate(self.model.trainable_variables)}
        groups = []
        for layer in self.model.layers:
            ids = [index[id(v)] for v in layer.trainable_weights if id(v) in index]
            if ids:
                groups.append((layer.name, ids))
        return groups

    def _activation_layers(self) -> list[tuple[str, str, Any]]:
        outputs = {id(t) for t in self.model.outputs}
        found = []
        for layer in self.model.layers:
            kind = _activation_kind(layer)
            if not kind:
                continue
            try:
                out = layer.output
            except (AttributeError, ValueError):
                continue
            if id(out) in outputs:  # a confident output layer is meant to saturate
                continue
            found.append((layer.name, kind, out))
        return found

    def _measure_fn(self):
        """The compiled measurement for this model, built once per model and reused."""
        model = self.model
        if self._compiled is not None and self._compiled[0]() is model:
            return self._compiled[1]
        import tensorflow as tf

        if isinstance(model.loss, (Mapping, list, tuple)):
            raise ValueError("models with several losses are not measured")
        loss_fn = keras.losses.get(model.loss) if isinstance(model.loss, str) else model.loss
        if loss_fn is None:
            raise ValueError("the model has no loss")
        acts = []
        try:
            acts = self._activation_layers()
            probe_model = keras.Model(model.inputs, [a[2] for a in acts] + [model.outputs[0]])
        except Exception:  # subclassed models have no symbolic graph: gradients only
            acts, probe_model = [], None
        # x may be a dict or list of inputs (several-input models), or strings.
        x = tf.nest.map_structure(lambda a: tf.convert_to_tensor(np.asarray(a)), self.data[0])
        y = tf.convert_to_tensor(np.asarray(self.data[1]))
        n = int(y.shape[0])
        chunk = self.batch_size if self.batch_size and n // self.batch_size >= 2 else 0
        n_chunks = min(4, n // chunk) if chunk else 0
        variables = model.trainable_variables
        kinds = tuple(a[1] for a in acts)

        def loss_and_grads(xb, yb, with_acts):
            with tf.GradientTape() as tape:
                if probe_model is not None and with_acts:
                    outs = probe_model(xb, training=False)
                    outs = outs if isinstance(outs, (list, tuple)) else [outs]
                    activations, pred = outs[:-1], outs[-1]
                else:
                    activations, pred = [], model(xb, training=False)
                if len(yb.shape) == len(pred.shape) - 1 and pred.shape[-1] == 1:
                    yb = tf.expand_dims(yb, -1)  # (n,) labels for a (n, 1) output, as fit allows
                loss = tf.reduce_mean(tf.cast(loss_fn(yb, pred), "float32"))
            grads = tape.gradient(loss, variables)
            grads = [tf.zeros_like(v) if g is None else tf.convert_to_tensor(g)
                     for g, v in zip(grads, variables, strict=True)]
            return loss, grads, activations

        def flat(grads):
            return tf.concat([tf.reshape(tf.cast(g, "float32"), [-1]) for g in grads], 0)

        # autograph=False: the loops below are over Python lists, and skipping autograph's
        # conversion of every layer's `call` cuts tracing time by about 4x.
        @tf.function(autograph=False)
        def measure_probe():
            _, grads, activations = loss_and_grads(x, y, True)
            sq = [tf.reduce_sum(tf.square(tf.cast(g, "float32"))) for g in grads]
            dead, saturated = [], []
            for kind, a in zip(kinds, activations, strict=True):
                a = tf.cast(tf.reshape(a, [-1, tf.shape(a)[-1]]), "float32")
                if kind in _RELU:
                    dead.append(tf.reduce_mean(tf.cast(tf.reduce_max(a, axis=0) <= 0.0, "float32")))
                    saturated.append(tf.constant(0.0))
                else:
                    low, high = _BOUNDED[kind]
                    near = (a <= low + SATURATION_MARGIN) | (a >= high - SATURATION_MARGIN)
                    share = tf.reduce_mean(tf.cast(near, "float32"), axis=0)
                    saturated.append(tf.reduce_mean(tf.cast(share >= SATURATION_SHARE, "float32")))
                    dead.append(tf.constant(0.0))
            full = flat(grads)
            # Gradient noise at the user's batch size, in the same graph: one call per sample.
            spreads = []
            for i in range(n_chunks):
                rows = slice(i * chunk, (i + 1) * chunk)
                _, chunk_grads, _ = loss_and_grads(
                    tf.nest.map_structure(lambda t, r=rows: t[r], x), y[rows], False)
                spreads.append(tf.reduce_sum(tf.square(flat(chunk_grads) - full)))
            noise = (tf.reduce_mean(tf.stack(spreads))
                     / tf.maximum(tf.reduce_sum(tf.square(full)), 1e-30)
                     if spreads else tf.constant(float("nan")))
            return sq, dead, saturated, noise

        def measure():
            sq, dead, saturated, noise = measure_probe()
            return sq, dead, saturated, float(noise)

        self._compiled = (weakref.ref(model), measure, tuple(a[0] for a in acts), kinds)
        return measure

    def _measure(self) -> dict[str, Any] | None:
        if self._unavailable:
            return None
        measure = self._measure_fn()
        sq, dead, saturated, noise = measure()
        return {
            "sq": np.array([float(v) for v in sq], dtype="float64"),
            "names": self._compiled[2],
            "kinds": self._compiled[3],
            "dead": [float(v) for v in dead],
            "saturated": [float(v) for v in saturated],
            "noise": float(noise),
        }

    def _record_sample(self, batch: int, loss: float) -> None:
        before = self._pending["weights"]
        after = _values(self.model.trainable_variables)
        if _nonfinite(after) and not self._nonfinite_weights:
            self._nonfinite_weights = True
            self._alert("weights", f"weights became NaN/Inf at step {self._step}")
        ratios, grad_norms, grad_rms = {}, {}, {}
        stats = self._pending["stats"]
        for name, ids in self._groups:
            w_norm = math.sqrt(sum(_sq(before[i]) for i in ids))
            delta = math.sqrt(sum(_sq(after[i] - before[i]) for i in ids))
            ratios[name] = delta / w_norm if w_norm > 0 else math.inf if delta > 0 else 0.0
            if stats is not None:
                sq = float(sum(stats["sq"][i] for i in ids))
                size = sum(int(before[i].size) for i in ids)
                grad_norms[name] = math.sqrt(sq) if sq >= 0 else math.nan
                grad_rms[name] = math.sqrt(sq / size) if size and sq >= 0 else math.nan
        dead, saturated, noise, total = {}, {}, math.nan, math.nan
        if stats is not None:
            total = math.sqrt(float(np.sum(stats["sq"])))
            if not math.isfinite(total) and not self._nonfinite_grads:
                self._nonfinite_grads = True
                self._alert("gradients", f"gradients became NaN/Inf at step {self._step}")
            for name, kind, d, s in zip(stats["names"], stats["kinds"], stats["dead"],
                                        stats["saturated"], strict=True):
                if kind in _RELU:
                    dead[name] = d
                    if d >= 1.0:
                        self._alert(f"dead:{name}", f"every unit of layer {name} outputs 0")
                else:
                    saturated[name] = s
            noise = stats["noise"]
        self._samples.append(MonitorSample(
            epoch=self._epoch, batch=int(batch), step=self._step, loss=loss, grad_norm=total,
            layer_grad_norms=grad_norms, layer_grad_rms=grad_rms, update_ratios=ratios,
            dead_fraction=dead, saturated_fraction=saturated, gradient_noise=noise,
        ))

    def _alert(self, key: str, message: str) -> None:
        if self.warn and key not in self._warned:
            self._warned.add(key)
            warnings.warn(f"fitdoctor.Monitor: {message}", RuntimeWarning, stacklevel=2)
