"""A decaying learning rate (treats `lr_too_high`)."""

from __future__ import annotations

from typing import Any

import keras

from fitdoctor.findings import Finding
from fitdoctor.fix.model_edit import edited_builder, optimizer_config
from fitdoctor.fix.remedies._helpers import learning_rate
from fitdoctor.fix.remedies.base import Remedy, register, snippet
from fitdoctor.setup import Setup


def _schedule(setup: Setup, kind: str) -> Any:
    lr = learning_rate(setup)
    steps = setup.epochs * setup.steps_per_epoch
    if kind == "cosine":
        return keras.optimizers.schedules.CosineDecay(lr, decay_steps=steps)
    return keras.optimizers.schedules.ExponentialDecay(
        lr, decay_steps=setup.steps_per_epoch, decay_rate=0.1 ** (1 / max(1, setup.epochs))
    )


@register
class LearningRateSchedule(Remedy):
    id = "lr_schedule"
    treats = ("lr_too_high",)
    judged_early = False  # its schedule is set over the whole run
    description = ("Decay the learning rate during training: CosineDecay or ExponentialDecay "
                   "(to a tenth by the last epoch), or ReduceLROnPlateau on val_loss; all tried.")
    grid = ("cosine", "exponential", "plateau")
    ordered_grid = False

    def apply(self, setup: Setup, finding: Finding, strength: Any = "cosine") -> Setup:
        if strength == "plateau":
            plateau = keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=2)
            callbacks = [*(setup.fit.get("callbacks") or []), plateau]
            return setup.replace(fit={**setup.fit, "callbacks": callbacks})
        schedule = keras.optimizers.schedules.serialize(_schedule(setup, strength))

        def edit(config: dict[str, Any]) -> dict[str, Any]:
            optimizer_config(config)["learning_rate"] = schedule
            return config

        return setup.replace(build_model=edited_builder(setup.build_model, compile_edit=edit))

    def code(self, setup: Setup, finding: Finding, strength: Any = "cosine") -> str:
        lr = learning_rate(setup)
        if strength == "plateau":
            return snippet("""
                plateau = keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5,
                                                            patience=2)
                FIT = {**FIT, "callbacks": [*FIT.get("callbacks", []), plateau]}
            """)
        if strength == "cosine":
            body = (f"keras.optimizers.schedules.CosineDecay({lr:g}, "
                    f"decay_steps={setup.epochs} * steps_per_epoch)")
        else:
            rate = 0.1 ** (1 / max(1, setup.epochs))
            body = (f"keras.optimizers.schedules.ExponentialDecay({lr:g}, "
                    f"decay_steps=steps_per_epoch, decay_rate={rate:.3f})")
        return snippet(f"""
            steps_per_epoch = math.ceil(len(x_train) / FIT["batch_size"])
            schedule = {body}
            # in build_model(): pass it as the optimizer's learning_rate
            optimizer = keras.optimizers.Adam(learning_rate=schedule)  # your optimizer class
        """)
