"""`missing_values`: NaN or infinite values the network would see, and missing values written
as numbers (-999-style codes, zeros where zero is impossible)."""

from __future__ import annotations

import math

import numpy as np

from fitdoctor.checks.base import Check, register
from fitdoctor.evidence import Evidence, EvidenceUnavailable
from fitdoctor.evidence.data_stats import Sentinel
from fitdoctor.findings import Finding, Severity
from fitdoctor.loaders import source_column

#: What NaN inputs account for: the loss, the gradients and every judgement made from them.
_NAN_EXPLAINS = ("nan_loss", "exploding_gradients", "lr_too_high", "underfitting",
                 "baseline_beats_model")
#: Codes like -999 also stretch the column's range and make their rows look like outliers.
_CODE_EXPLAINS = ("unscaled_inputs", "outliers", "underfitting", "baseline_beats_model")


@register
class MissingValues(Check):
    id = "missing_values"
    description = (
        "Two kinds of missing values. (1) NaN, None and infinite values per feature column in "
        "the training and validation features, and in the labels, over all rows. They count "
        "when they reach the model's first trainable layer: when the model starts with "
        "preprocessing layers, training rows holding NaN/Inf are pushed through them, and the "
        "finding is dropped if those layers turn every one of them finite (the model imputes in "
        "its graph), or raised if they create NaN/Inf from finite inputs (a Normalization "
        "adapted on data with NaN). When the layer that fills them is fitdoctor's own "
        "(`FillMissing`, in the model `--data` builds), the finding stays, as a warning: the "
        "data has them and the user's model must fill them too. Keras has no missing-value "
        "handling: one NaN in a batch "
        "makes that batch's loss NaN and, through the gradient, every weight NaN, so this is "
        "critical and explains a `nan_loss`. (2) Missing values written as numbers, a warning: "
        "an all-nines code (-99, -999, 9999, ...) held by at least `min_count` (2) rows of a "
        "column and farther from the column's other values than `min_code_gap` (1) times their "
        "range; and exact zeros in a column whose other values are all positive and "
        "continuous (at least 20 distinct values: on a scale of a few levels, such as pixels "
        "in sixteenths, zero is one of them), when zero cannot be one of the column's ordinary "
        "values. Zeros count as missing when at least "
        "`min_count` rows hold them, at most `max_zero_share` (0.9) of the rows do (when nine "
        "rows in ten are zero, zero is the column's normal value: no capital gain, no rain), "
        "the empty interval between 0 and the smallest positive value m would hold at least "
        "`min_expected_in_gap` (5) values if the column ran on down to zero at the density of "
        "its lowest tenth of positive values (counted on the column's resolution, so integer "
        "counts such as pregnancies, where m = 1, never qualify), and zero is either a large "
        "share of the rows (at least `min_zero_share`, 0.1) or lies at least `min_zero_depth` "
        "(3) robust standard deviations below the positive values' median. Pima's glucose, "
        "blood pressure, skin thickness, insulin and BMI zeros meet this rule; zero concavity "
        "in scikit-learn's breast cancer data (2 % of rows, 2 robust deviations from the "
        "median) and Adult's capital gain and loss (92-95 % zeros) do not. The finding names "
        "each column with its count (at most `max_columns_shown`)."
    )
    category = "data"
    rank = 2
    requires = ("data_stats", "forward_pass")
    explains = tuple(dict.fromkeys(_NAN_EXPLAINS + _CODE_EXPLAINS))

    def __init__(self, *, max_columns_shown: int = 10, min_count: int = 2,
                 min_code_gap: float = 1.0, max_zero_share: float = 0.9,
                 min_expected_in_gap: float = 5.0, min_zero_share: float = 0.1,
                 min_zero_depth: float = 3.0) -> None:
        """Args:
        max_columns_shown: Columns listed in the finding, most missing first. Defaults to 10.
        min_count: Rows a code or zero needs in the training sample. Defaults to 2.
        min_code_gap: Distance of a code from the other values, in their ranges. Defaults to 1.
        max_zero_share: Zeros above this share of rows are the column's normal value.
            Defaults to 0.9.
        min_expected_in_gap: Values the gap below the smallest positive value would hold.
            Defaults to 5.
        min_zero_share: Share of zeros that is large on its own. Defaults to 0.1.
        min_zero_depth: Robust deviations below the median that make a rarer zero
            implausible. Defaults to 3.
        """
        for name, value in (("max_columns_shown", max_columns_shown), ("min_count", min_count),
                            ("min_code_gap", min_code_gap), ("max_zero_share", max_zero_share),
                            ("min_expected_in_gap", min_expected_in_gap),
                            ("min_zero_share", min_zero_share),
                            ("min_zero_depth", min_zero_depth)):
            if value <= 0:
                raise ValueError(f"{name} must be positive. Received: {name}={value}")
        self.max_columns_shown = max_columns_shown
        self.min_count = min_count
        self.min_code_gap = min_code_gap
        self.max_zero_share = max_zero_share
        self.min_expected_in_gap = min_expected_in_gap
        self.min_zero_share = min_zero_share
        self.min_zero_depth = min_zero_depth

    def is_missing(self, sentinel: Sentinel) -> bool:
        """Whether a measured code or zero counts as a missing value by this check's rule."""
        if sentinel.count_train < self.min_count:
            return False
        if sentinel.kind == "code":
            return sentinel.gap_to_range >= self.min_code_gap
        if sentinel.share > self.max_zero_share:
            return False
        if not sentinel.expected_in_gap >= self.min_expected_in_gap:
            return False
        return sentinel.share >= self.min_zero_share or sentinel.depth >= self.min_zero_depth

    def run(self, evidence: Evidence) -> list[Finding]:
        stats = evidence.get("data_stats")
        nan = self._nan_facts(evidence, stats)
        written = [] if evidence.setup.token_inputs else [  # token ids are not measurements
            s for s in stats.sentinels if self.is_missing(s)]
        if nan is None and not written:
            return []
        facts: dict = {}
        titles, explains = [], []
        if nan is not None:
            facts.update(nan["facts"])
            titles.append(nan["title"])
            explains += _NAN_EXPLAINS
        if written:
            written.sort(key=lambda s: -s.count_train)
            shown = written[: self.max_columns_shown]
            facts["written_as_numbers"] = {f"{s.feature}={s.value:g}": s.as_evidence()
                                           for s in shown}
            facts["columns_with_written_missing"] = len({s.feature for s in written})
            facts.update(stats.sample_note())
            names = ", ".join(f"{s.count_train} x {s.value:g} in {s.feature}" for s in shown[:3])
            titles.append(f"missing values written as numbers ({names})")
            explains += _CODE_EXPLAINS if any(s.kind == "code" for s in written) else (
                "underfitting", "baseline_beats_model")
        code = _NAN_FIX if nan is not None else ""
        if written:
            code = (code + "\n\n" if code else "") + written_missing_code(
                [(s.feature, s.value) for s in written[:5]])
        return [self.finding(
            Severity.CRITICAL if nan is not None and not nan["filled"] else Severity.WARNING,
            "; ".join(titles),
            facts,
            "Mark missing values as missing and fill them before training (keep the imputer's "
            "statistics from the training split only), and drop rows whose label is missing."
            + (" A number standing for 'unknown' (-999, or 0 where 0 is impossible) is read as "
               "a real measurement otherwise." if written else ""),
            code,
            explains=tuple(dict.fromkeys(explains)),
        )]

    def _nan_facts(self, evidence: Evidence, stats) -> dict | None:
        """Evidence and title for NaN/Inf that reach the network, or None when none do."""
        train, val = stats.missing_train, stats.missing_val
        try:
            passed = evidence.get("forward_pass")
        except EvidenceUnavailable:  # no forward pass: judge the data as given
            passed = None
        if passed is None or not passed.preprocessing:
            passed = _AS_GIVEN
        # fitdoctor's own model (--data mode) fills them: the user's model must too, so say so
        filled_by_us = "FillMissing" in passed.preprocessing
        absorbed = (passed.preprocessing and passed.missing_rows_checked > 0
                    and passed.missing_rows_reaching == 0 and not filled_by_us)
        total = 0 if absorbed else int(train.sum() + val.sum())
        if total == 0 and stats.label_missing == 0 and passed.nonfinite_created == 0:
            return None
        names, train, val = _by_source_column(stats.feature_names, train, val)
        if total:
            total = int(train.sum() + val.sum())
        both = train + val
        order = [int(i) for i in np.argsort(-both, kind="stable") if both[i] > 0][
            : self.max_columns_shown]
        facts = {
            "missing_in_train_features": int(train.sum()),
            "missing_in_val_features": int(val.sum()),
            "missing_labels": stats.label_missing,
            "columns_with_missing": int((both > 0).sum()),
            "by_column": {names[i]: {"train": int(train[i]), "val": int(val[i])}
                          for i in order},
        }
        where = ", ".join(names[i] for i in order[:3]) or "the labels"
        if stats.image:
            facts["by_column"] = {"pixels": {"train": int(train.sum()), "val": int(val.sum())}}
            where = "pixel values"
        if passed.preprocessing:
            facts.update(measured_after=list(passed.preprocessing),
                         missing_rows_checked=passed.missing_rows_checked,
                         missing_rows_reaching_network=passed.missing_rows_reaching,
                         rows_made_nonfinite_by_preprocessing=passed.nonfinite_created)
        if filled_by_us:
            facts["filled_by"] = "fitdoctor's default model (training medians)"
            title = (f"{total + stats.label_missing} values are missing ({where}); fitdoctor's "
                     "own model fills them with the training medians, a model of yours must "
                     "fill them too")
        elif absorbed and stats.label_missing:
            title = f"{stats.label_missing} labels are NaN/Inf"
        elif passed.nonfinite_created:
            layers = ", ".join(passed.preprocessing)
            title = (f"{passed.nonfinite_created} of {passed.rows_measured} sampled rows turn "
                     f"NaN/Inf in the model's {layers} layer(s) before the first trainable "
                     "layer")
        else:
            title = (f"{total + stats.label_missing} NaN/Inf values reach the model ({where}); "
                     "one NaN in a batch turns the loss into NaN")
        return {"facts": facts, "title": title, "filled": filled_by_us}


def _by_source_column(names: tuple[str, ...], train: np.ndarray, val: np.ndarray
                      ) -> tuple[tuple[str, ...], np.ndarray, np.ndarray]:
    """Missing counts per column of the user's table: one-hot columns (`"occupation=Sales"`,
    as `--data` encodes a text column) are missing together, so a group counts its most
    missing member once, under the source column's name."""
    groups: dict[str, list[int]] = {}
    for i, name in enumerate(names):
        groups.setdefault(source_column(name), []).append(i)
    if len(groups) == len(names):
        return tuple(map(str, names)), np.asarray(train), np.asarray(val)
    pick = list(groups.values())
    return (tuple(groups),
            np.array([np.asarray(train)[idx].max() for idx in pick]),
            np.array([np.asarray(val)[idx].max() for idx in pick]))


class _AsGiven:
    """The forward pass of a model without preprocessing layers: the data reach it as given."""

    preprocessing = ()
    missing_rows_checked = missing_rows_reaching = nonfinite_created = rows_measured = 0


_AS_GIVEN = _AsGiven()

_NAN_FIX = """
from sklearn.impute import SimpleImputer
import numpy as np

imputer = SimpleImputer(strategy="median").fit(x_train)
x_train, x_val = imputer.transform(x_train), imputer.transform(x_val)
keep = np.isfinite(y_train)
x_train, y_train = x_train[keep], y_train[keep]
"""


def written_missing_code(written: list[tuple[str, float]]) -> str:
    """Code that turns values written for 'unknown' ((column, value) pairs: -999 codes, zeros
    where zero is impossible) into NaN, then imputes (pandas columns). The `impute_missing`
    remedy writes the same."""
    lines = ["import numpy as np", "from sklearn.impute import SimpleImputer", "",
             "# these values mean 'unknown': mark them missing, then fill them"]
    for feature, number in written:
        value = int(number) if math.isfinite(number) and number == int(number) else number
        lines.append(f"x_train[{feature!r}] = x_train[{feature!r}].replace({value}, np.nan)")
        lines.append(f"x_val[{feature!r}] = x_val[{feature!r}].replace({value}, np.nan)")
    lines += ["imputer = SimpleImputer(strategy=\"median\").fit(x_train)",
              "x_train, x_val = imputer.transform(x_train), imputer.transform(x_val)"]
    return "\n".join(lines)
