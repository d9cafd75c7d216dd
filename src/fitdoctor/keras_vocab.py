"""What fitdoctor knows about Keras and about data, in one place.

Which layer types carry kernels, which losses are regression losses, how a loss is named, how
labels are encoded, what counts as an image: checks, evidence, remedies and tune all import these
from here, so there is one list of each and the copies cannot drift.
"""

from __future__ import annotations

from typing import Any

import numpy as np

#: Layers whose output is an affine map of their input: they have a kernel (and usually a bias).
KERNEL_LAYERS = frozenset({
    "Dense", "EinsumDense", "Conv1D", "Conv2D", "Conv3D", "SeparableConv1D", "SeparableConv2D",
    "DepthwiseConv1D", "DepthwiseConv2D", "Conv1DTranspose", "Conv2DTranspose",
    "Conv3DTranspose",
})

#: The convolution layers among them.
CONV_LAYERS = frozenset(k for k in KERNEL_LAYERS if "Conv" in k)

#: Kernel layers whose width is a `units` or `filters` argument that remedies may scale.
RESIZABLE_LAYERS = ("Dense", "Conv1D", "Conv2D", "Conv3D")

#: Layers that keep a linear map linear: seen between two kernel layers, they add no
#: nonlinearity (they reshape, regularize or rescale).
PASS_THROUGH_LAYERS = frozenset({
    "Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D", "GaussianDropout",
    "AlphaDropout", "GaussianNoise", "BatchNormalization", "Flatten", "Reshape", "Permute",
    "Identity", "RepeatVector",
})

#: Preprocessing layers that may come before the first trainable layer. What they output, not
#: their presence, decides whether the network sees scaled inputs.
PREPROCESSING_LAYERS = frozenset({
    "Normalization", "Rescaling", "TextVectorization", "StringLookup", "IntegerLookup",
    "CategoryEncoding", "Discretization", "HashedCrossing", "Hashing", "Resizing", "CenterCrop",
    "RandomFlip", "RandomRotation", "RandomTranslation", "RandomZoom", "RandomContrast",
    "RandomCrop", "RandomBrightness",
})

#: Loss names (canonical snake_case and Keras' aliases) that mean a regression task.
REGRESSION_LOSSES = frozenset({
    "mean_squared_error", "mse", "mean_absolute_error", "mae", "huber", "huber_loss", "log_cosh",
    "logcosh", "mean_absolute_percentage_error", "mape", "mean_squared_logarithmic_error", "msle",
    "poisson", "cosine_similarity",
})

#: Aliases Keras accepts for the same loss, mapped to the full name.
LOSS_ALIASES = {
    "mse": "mean_squared_error", "mae": "mean_absolute_error",
    "mape": "mean_absolute_percentage_error", "msle": "mean_squared_logarithmic_error",
    "huber_loss": "huber", "logcosh": "log_cosh",
}

#: Keras callbacks that never read the logs of an epoch's end, so never a validation metric.
BLIND_CALLBACKS = frozenset({"TerminateOnNaN", "LearningRateScheduler", "ProgbarLogger",
                             "History", "BackupAndRestore", "SwapEMAWeights"})

#: Label encodings fitdoctor tells apart (`Task.label_encoding`).
LABEL_ENCODINGS = ("integer", "onehot", "multihot", "continuous")


def loss_name(loss: Any) -> str:
    """Canonical snake_case name of a compiled loss (string, function or `keras.losses.Loss`).

    Example:
        >>> loss_name("MSE"), loss_name("sparse_categorical_crossentropy")
        ('mse', 'sparse_categorical_crossentropy')
    """
    if loss is None:
        return ""
    if isinstance(loss, str):
        return loss.lower()
    cls_name = getattr(loss, "name", None) or getattr(loss, "__name__", None)
    if cls_name is None:
        cls_name = type(loss).__name__
    snake = "".join("_" + c.lower() if c.isupper() else c for c in str(cls_name)).lstrip("_")
    return snake.lower()


def full_loss_name(loss: Any) -> str:
    """`loss_name` with Keras' short aliases expanded (`"mse"` -> `"mean_squared_error"`)."""
    name = loss_name(loss)
    return LOSS_ALIASES.get(name, name)


def is_regression_loss(loss: Any) -> bool:
    """Whether a compiled loss is one of Keras' regression losses."""
    return loss_name(loss) in REGRESSION_LOSSES


def loss_from_logits(loss: Any) -> bool:
    """Whether a compiled loss was built with `from_logits=True`."""
    config = getattr(loss, "get_config", None)
    if callable(config):
        try:
            return bool(config().get("from_logits", False))
        except Exception:  # a custom loss whose config we cannot read
            return False
    return False


def reads_validation(callbacks: Any) -> bool:
    """Whether any of a `fit`'s callbacks may act on a validation metric during training.

    A callback with a `monitor` (EarlyStopping, ReduceLROnPlateau, ModelCheckpoint) reads one
    when it monitors a `val_` key; one of `BLIND_CALLBACKS` never does; any other (your own, a
    logger) is assumed to. A run whose callbacks read none trains to the same weights without
    validating every epoch, and a measurement that scores the model itself at the end need not.
    """
    for callback in callbacks or ():
        monitor = getattr(callback, "monitor", None)
        if isinstance(monitor, str):
            if monitor.startswith("val_"):
                return True
        elif type(callback).__name__ not in BLIND_CALLBACKS:
            return True
    return False


def build_training_state(model: Any, x: Any, y: Any) -> bool:
    """Create a built model's optimizer, loss and metric variables before `fit`, from the
    shapes of a few rows `(x, y)`. Returns whether it did.

    On TensorFlow, without a distribution strategy, Keras creates them while it traces the
    first training step; a `tf.function` that creates variables is traced a second time, so
    every fresh model pays its step's tracing twice. Keras builds them first itself (its
    `_symbolic_build`, from symbolic tensors) under a strategy; this does the same for any
    model. The variables start as they would (zeros, the optimizer's step count) and nothing
    draws from a random generator, so the weights trained come out identical. Measured: one
    trace instead of two; a 5-epoch batched run of bench case `label_noise_digits` (Adam)
    0.81 -> 0.55 s, and of `bench/fit_overheads.py`'s SGD MLP 0.69 -> 0.54 s.

    A Keras without that method, or a model it cannot build this way (the rows' form, a
    custom step), is left to build while it traces, as before.
    """
    build = getattr(model, "_symbolic_build", None)
    if not callable(build) or not getattr(model, "built", False):
        return False
    try:
        import keras

        def symbolic(v: Any) -> Any:  # any batch size, as the data's own spec has
            v = np.asarray(v) if not hasattr(v, "shape") else v
            return keras.KerasTensor((None, *v.shape[1:]), dtype=keras.backend.standardize_dtype(
                v.dtype))

        build(data_batch=keras.tree.map_structure(symbolic, (x, y)))
    except Exception:
        return False
    return True


def is_image(x: Any) -> bool:
    """Whether samples have more than one axis: (height, width) or (height, width, channels)."""
    return getattr(x, "ndim", 0) >= 3


def is_image_shape(shape: tuple[int, ...]) -> bool:
    """Whether one sample's shape (no batch axis) looks like a picture of at least 5×5 pixels."""
    return (len(shape) == 2 and min(shape) >= 5) or (
        len(shape) == 3 and min(shape[:2]) >= 5 and shape[2] <= 4)


def is_photo_batch(x: Any, min_side: int = 8) -> bool:
    """Whether `x` is a batch of 2-D images with 1, 3 or 4 channels, each side >= `min_side`."""
    shape = getattr(x, "shape", ())
    return len(shape) == 4 and shape[-1] in (1, 3, 4) and min(shape[1:3]) >= min_side


def class_ids(y: Any, label_encoding: str) -> np.ndarray:
    """Labels as one class id per row: argmax of one-hot rows, the id column otherwise."""
    y = np.asarray(y)
    if label_encoding == "onehot":
        return y.argmax(axis=-1)
    return y.reshape(len(y), -1)[:, 0]
