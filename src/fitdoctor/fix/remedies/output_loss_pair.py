"""The output activation and loss that match the task.

Treats `loss_output_mismatch` and `output_range_mismatch`.
"""

from __future__ import annotations

from typing import Any

from fitdoctor.findings import Finding
from fitdoctor.fix.model_edit import edited_builder, probe_model
from fitdoctor.fix.remedies.activation import output_activation
from fitdoctor.fix.remedies.base import Remedy, register, snippet
from fitdoctor.keras_vocab import is_regression_loss, loss_name
from fitdoctor.setup import Setup


def _units(setup: Setup) -> int:
    return int(probe_model(setup).outputs[0].shape[-1])


def matching_pair(setup: Setup) -> tuple[str, str]:
    """`(output activation, loss)` for the setup's task, labels and output width."""
    task = setup.task
    if task.kind == "regression":
        current = loss_name(probe_model(setup).loss)
        return "linear", current if is_regression_loss(current) else "mean_squared_error"
    if task.kind == "multilabel" or (task.kind == "binary" and _units(setup) == 1):
        return "sigmoid", "binary_crossentropy"
    if task.label_encoding == "onehot":
        return "softmax", "categorical_crossentropy"
    return "softmax", "sparse_categorical_crossentropy"


@register
class OutputLossPair(Remedy):
    id = "output_loss_pair"
    treats = ("loss_output_mismatch", "output_range_mismatch")
    description = ("Give the output layer the activation the task needs (sigmoid, softmax or "
                   "linear) and compile with the loss that matches it.")
    edits_model = True
    stage = 1

    def apply(self, setup: Setup, finding: Finding, strength: Any = None) -> Setup:
        activation, loss = matching_pair(setup)

        def compile_edit(config: dict[str, Any]) -> dict[str, Any]:
            config["loss"] = loss
            return config

        builder = edited_builder(setup.build_model, layer_edit=output_activation(activation),
                                 compile_edit=compile_edit)
        return setup.replace(build_model=builder)

    def code(self, setup: Setup, finding: Finding, strength: Any = None) -> str:
        activation, loss = matching_pair(setup)
        return snippet(f"""
            # in build_model(): the output layer and the loss
            keras.layers.Dense(n_outputs, activation="{activation}"),
            ...
            model.compile(optimizer=..., loss="{loss}", metrics=...)
        """)
