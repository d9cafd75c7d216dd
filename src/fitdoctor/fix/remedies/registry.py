"""Imports every remedy module so its `@register` runs. One line per remedy module."""
# ruff: noqa: I001  (one line per module, so concurrent additions never conflict)
from fitdoctor.fix.remedies import augmentation  # noqa: F401
from fitdoctor.fix.remedies import batch_normalization  # noqa: F401
from fitdoctor.fix.remedies import class_weights  # noqa: F401
from fitdoctor.fix.remedies import dedupe  # noqa: F401
from fitdoctor.fix.remedies import dropout  # noqa: F401
from fitdoctor.fix.remedies import early_stopping  # noqa: F401
from fitdoctor.fix.remedies import gradient_clipping  # noqa: F401
from fitdoctor.fix.remedies import he_initialization  # noqa: F401
from fitdoctor.fix.remedies import impute  # noqa: F401
from fitdoctor.fix.remedies import irrelevant_features  # noqa: F401
from fitdoctor.fix.remedies import l1  # noqa: F401
from fitdoctor.fix.remedies import l2  # noqa: F401
from fitdoctor.fix.remedies import label_noise  # noqa: F401
from fitdoctor.fix.remedies import larger_batch  # noqa: F401
from fitdoctor.fix.remedies import leaky_relu  # noqa: F401
from fitdoctor.fix.remedies import learning_rate  # noqa: F401
from fitdoctor.fix.remedies import less_capacity  # noqa: F401
from fitdoctor.fix.remedies import lower_dropout  # noqa: F401
from fitdoctor.fix.remedies import lr_schedule  # noqa: F401
from fitdoctor.fix.remedies import more_capacity  # noqa: F401
from fitdoctor.fix.remedies import outliers  # noqa: F401
from fitdoctor.fix.remedies import output_loss_pair  # noqa: F401
from fitdoctor.fix.remedies import relu_activation  # noqa: F401
from fitdoctor.fix.remedies import resample  # noqa: F401
from fitdoctor.fix.remedies import scaling  # noqa: F401
from fitdoctor.fix.remedies import switch_to_adam  # noqa: F401
