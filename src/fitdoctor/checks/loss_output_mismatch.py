"""`loss_output_mismatch`: the output layer, the loss and the labels disagree."""

from __future__ import annotations

import dataclasses

import numpy as np

from fitdoctor.checks.base import Check, register
from fitdoctor.evidence import Evidence
from fitdoctor.findings import Finding, Role, Severity
from fitdoctor.keras_vocab import REGRESSION_LOSSES

_SPARSE = {"sparse_categorical_crossentropy"}
_CATEGORICAL = {"categorical_crossentropy", "categorical_focal_crossentropy", "cce"}
_BINARY = {"binary_crossentropy", "binary_focal_crossentropy", "bce"}
_REGRESSION = REGRESSION_LOSSES
_PROBABILITY = {"softmax", "sigmoid"}


@dataclasses.dataclass(frozen=True)
class LabelView:
    """What the training labels look like, read from the labels alone (not from the loss).

    Args:
        encoding: `"class_ids"`, `"onehot"`, `"multihot"` or `"continuous"`.
        n_classes: Classes (columns for one-/multi-hot, largest id + 1 for class ids); targets
            per row for continuous labels.
        values: Up to 5 distinct label values (class ids only), for messages.
        low, high: Smallest and largest label value.
    """

    encoding: str
    n_classes: int
    values: tuple[float, ...]
    low: float
    high: float


def label_view(y: np.ndarray, max_class_ids: int) -> LabelView:
    """Read the label encoding from the labels. Integer labels with at most `max_class_ids`
    distinct non-negative values count as class ids."""
    y = np.asarray(y, dtype="float64")
    finite = y[np.isfinite(y)]
    low = float(finite.min()) if finite.size else 0.0
    high = float(finite.max()) if finite.size else 0.0
    if y.ndim == 2 and y.shape[1] > 1:
        if finite.size and np.isin(finite, (0.0, 1.0)).all():
            onehot = np.allclose(np.nansum(y, axis=1), 1.0)
            return LabelView("onehot" if onehot else "multihot", int(y.shape[1]), (), low, high)
        return LabelView("continuous", int(y.shape[1]), (), low, high)
    flat = finite.reshape(-1)
    distinct = np.unique(flat)
    integral = flat.size > 0 and np.allclose(distinct, np.round(distinct))
    if integral and len(distinct) <= max_class_ids:
        n = int(max(distinct.max() + 1, len(distinct))) if low >= 0 else len(distinct)
        return LabelView("class_ids", max(n, 2), tuple(float(v) for v in distinct[:5]), low, high)
    return LabelView("continuous", 1, (), low, high)


def _loss_family(loss: str) -> str:
    for family, names in (("sparse", _SPARSE), ("categorical", _CATEGORICAL),
                          ("binary", _BINARY), ("regression", _REGRESSION)):
        if loss in names:
            return family
    return "other"


def _fmt_values(values: tuple[float, ...]) -> str:
    return "{" + ", ".join(f"{v:g}" for v in values) + "}"


def _head(labels: LabelView, logits: bool, regression_loss: str) -> tuple[str, str, str]:
    """(output layer, loss expression, metrics) that fit `labels`."""
    if labels.encoding == "continuous":
        loss = regression_loss if _loss_family(regression_loss) == "regression" else "mse"
        return f"keras.layers.Dense({labels.n_classes})", f'"{loss}"', '["mae"]'
    binary = labels.encoding == "class_ids" and labels.n_classes <= 2
    if binary or labels.encoding == "multihot":
        units = 1 if binary else labels.n_classes
        loss_cls, loss_str, activation = "BinaryCrossentropy", "binary_crossentropy", "sigmoid"
        metrics = '["accuracy"]' if binary else '[keras.metrics.BinaryAccuracy()]'
    else:
        units = labels.n_classes
        activation = "softmax"
        metrics = '["accuracy"]'
        if labels.encoding == "onehot":
            loss_cls, loss_str = "CategoricalCrossentropy", "categorical_crossentropy"
        else:
            loss_cls, loss_str = "SparseCategoricalCrossentropy", "sparse_categorical_crossentropy"
    if logits:
        return (f"keras.layers.Dense({units})  # logits: no activation",
                f"keras.losses.{loss_cls}(from_logits=True)", metrics)
    return f'keras.layers.Dense({units}, activation="{activation}")', f'"{loss_str}"', metrics


@register
class LossOutputMismatch(Check):
    id = "loss_output_mismatch"
    category = "model"
    role = Role.CAUSE
    rank = 1
    requires = ("model_info",)
    explains = ("underfitting", "baseline_beats_model")
    description = """
    The output layer, the loss and the label encoding disagree, so the model optimizes the
    wrong thing or cannot learn at all; read from the compiled model and the labels before any
    training. Flagged combinations: softmax over one unit (always outputs 1); `from_logits=True`
    on a softmax/sigmoid output, or a cross-entropy with `from_logits=False` on an output that
    is not a probability (linear, relu, ...); a sparse loss with one-hot labels; categorical
    cross-entropy with integer class ids or on a single unit (always 0); binary cross-entropy on
    one-hot labels of more than two classes or on class ids above 1; class ids that are negative
    or reach past the output units; output units that differ from the number of classes, labels
    or regression targets; softmax or a categorical loss on multi-hot (multi-label) rows; a
    cross-entropy on continuous targets outside [0, 1]; and a regression loss (MSE, MAE, ...) on a
    classification head (softmax output, one-hot or multi-hot labels, or a sigmoid on 0/1
    labels). Labels count as class ids when they are integers with at most `max_class_ids`
    distinct non-negative values. Severity is critical, except for extra unused output units
    and MSE on a sigmoid with 0/1 labels, which still train (warning).
    """

    def __init__(self, *, max_class_ids: int = 100) -> None:
        if max_class_ids < 2:
            raise ValueError(f"max_class_ids must be at least 2. Received: {max_class_ids}")
        self.max_class_ids = max_class_ids

    def run(self, evidence: Evidence) -> list[Finding]:
        info = evidence.get("model_info")
        labels = label_view(evidence.setup.y_train, self.max_class_ids)
        act, units, loss = info.output_activation, info.output_units, info.loss
        family = _loss_family(loss)
        problems: list[tuple[str, str]] = []  # (severity, sentence)

        def flag(sentence: str, severity: str = "critical") -> None:
            problems.append((severity, sentence))

        if act == "softmax" and units == 1:
            flag("softmax over a single output unit always outputs 1.0, so nothing is learned")
        cross_entropy = family in ("sparse", "categorical", "binary")
        if cross_entropy and info.from_logits and act in _PROBABILITY:
            flag(f"the loss has from_logits=True but the output layer already applies {act}")
        if cross_entropy and not info.from_logits and act not in _PROBABILITY:
            flag(f"the {act} output is not a probability but the loss expects one "
                 "(from_logits=False)")
        if family in ("sparse", "categorical") and act == "sigmoid" and units > 1 and (
                labels.encoding != "multihot"):
            flag(f"{loss} expects a softmax over the classes but the output is sigmoid, "
                 "whose outputs do not sum to 1")
        problems += self._encoding_problems(labels, act, units, loss, family)
        if not problems:
            return []
        severity = (Severity.CRITICAL if any(s == "critical" for s, _ in problems)
                    else Severity.WARNING)
        logits = info.from_logits or (cross_entropy and act == "linear")
        layer, loss_expr, metrics = _head(labels, logits, loss)
        optimizer = (f"keras.optimizers.{info.optimizer}(learning_rate={info.learning_rate:g})"
                     if info.learning_rate else f'"{info.optimizer.lower()}"')
        sentences = [s for _, s in problems]
        title = f"Output layer, loss and labels disagree: {sentences[0]}"
        return [self.finding(
            severity,
            title,
            {
                "output_activation": act,
                "output_units": units,
                "loss": loss,
                "from_logits": info.from_logits,
                "label_encoding": labels.encoding,
                "n_classes": labels.n_classes if labels.encoding != "continuous" else 0,
                "label_range": [labels.low, labels.high],
                "problems": sentences,
            },
            "Make the last layer, the loss and the labels agree: " + "; ".join(sentences) + ".",
            f"""
            # last layer of build_model():
            {layer},
            # and compile with the matching loss:
            model.compile(optimizer={optimizer},
                          loss={loss_expr},
                          metrics={metrics})
            """,
        )]

    def _encoding_problems(self, labels: LabelView, act: str, units: int, loss: str,
                           family: str) -> list[tuple[str, str]]:
        """Disagreements between the label encoding, the loss and the output units."""
        out: list[tuple[str, str]] = []
        k = labels.n_classes
        if labels.encoding == "onehot":
            if family == "sparse":
                out.append(("critical", f"{loss} expects integer class ids but the labels are "
                            f"one-hot rows of {k}; use categorical_crossentropy"))
            elif family == "binary" and k > 2:
                out.append(("critical", f"binary cross-entropy on {k} one-hot classes scores "
                            "each unit as a separate yes/no (and 'accuracy' becomes per-unit "
                            "binary accuracy); use softmax with categorical_crossentropy"))
            elif family == "regression":
                out.append(("critical", f"the regression loss {loss} is used on one-hot class "
                            "labels; use softmax with categorical_crossentropy"))
            if units != k:
                out.append(("critical", f"the output has {units} unit(s) for {k} classes"))
        elif labels.encoding == "multihot":
            if act == "softmax":
                out.append(("critical", "softmax makes the labels compete (outputs sum to 1) "
                            "but rows carry several positive labels; use sigmoid"))
            if family in ("sparse", "categorical"):
                out.append(("critical", f"{loss} assumes one label per row but the labels are "
                            "multi-hot; use binary_crossentropy"))
            elif family == "regression":
                out.append(("critical", f"the regression loss {loss} is used on multi-hot "
                            "labels; use sigmoid with binary_crossentropy"))
            if units != k:
                out.append(("critical", f"the output has {units} unit(s) for {k} labels"))
        elif labels.encoding == "class_ids":
            out += self._class_id_problems(labels, act, units, loss, family)
        else:
            if family in ("sparse", "categorical"):
                out.append(("critical", f"{loss} is a classification loss but the targets are "
                            "continuous; use a regression loss such as mse"))
            elif family == "binary" and (labels.low < 0 or labels.high > 1):
                out.append(("critical", "binary cross-entropy needs targets in [0, 1] but they "
                            f"span [{labels.low:g}, {labels.high:g}]; use mse"))
            if family in ("regression", "binary") and units != k:
                out.append(("critical", f"the output has {units} unit(s) but each row has {k} "
                            "target(s), so the loss broadcasts one target over every unit"))
        return out

    def _class_id_problems(self, labels: LabelView, act: str, units: int, loss: str,
                           family: str) -> list[tuple[str, str]]:
        out: list[tuple[str, str]] = []
        k, values = labels.n_classes, _fmt_values(labels.values)
        negative = labels.low < 0
        if negative and family in ("sparse", "binary", "categorical"):
            out.append(("critical", f"the labels take the values {values}, including negative "
                        f"ones; {loss} needs class ids 0..{max(k - 1, 1)}"))
        if family == "categorical":
            if units == 1:
                out.append(("critical", "categorical cross-entropy over a single output unit "
                            "is always 0, so nothing is learned"))
            else:
                out.append(("critical", f"{loss} expects one-hot labels but the labels are "
                            "integer class ids; use sparse_categorical_crossentropy"))
        elif family == "sparse":
            if not negative and units < k:
                out.append(("critical", f"class ids reach {labels.high:g} but the output has "
                            f"only {units} unit(s); it needs {k}"))
            elif not negative and units > k:
                out.append(("warning", f"the output has {units} units for {k} classes; the "
                            "extra units are never a target"))
        elif family == "binary":
            if k > 2:
                out.append(("critical", f"binary cross-entropy on {k} integer classes: labels "
                            "above 1 are not probabilities; use softmax with "
                            "sparse_categorical_crossentropy"))
            elif units != 1:
                out.append(("critical", f"binary cross-entropy on 0/1 labels needs 1 sigmoid "
                            f"unit but the output has {units}"))
            if act == "softmax" and units > 1:
                out.append(("critical", "softmax with binary cross-entropy: use one sigmoid "
                            "unit for two classes"))
        elif family == "regression":
            if act == "softmax":
                out.append(("critical", f"the regression loss {loss} is used on a softmax "
                            "classifier; use a cross-entropy loss"))
            elif act == "sigmoid" and k <= 2 and units == 1:
                out.append(("warning", f"{loss} on 0/1 labels with a sigmoid output trains "
                            "slower than binary_crossentropy"))
            elif act != "sigmoid" and units != 1:
                out.append(("critical", f"the output has {units} units but each row has one "
                            "target, so the loss broadcasts it over every unit"))
        return out
