"""`train_val_leakage`: validation rows that are copies of training rows, and inflate the score."""

from __future__ import annotations

import math

import numpy as np

from fitdoctor.checks.base import Check, register
from fitdoctor.evidence import Evidence, EvidenceUnavailable
from fitdoctor.evidence.fast_baseline import group_difference
from fitdoctor.findings import Finding


def labels_equal(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per row, whether two label arrays hold the same label (all outputs equal)."""
    a = np.asarray(a, dtype="float64").reshape(len(a), -1)
    b = np.asarray(b, dtype="float64").reshape(len(b), -1)
    return np.isclose(a, b, rtol=1e-6, atol=1e-9).all(axis=1)


def copy_masks(evidence: Evidence, near_ratio: float) -> tuple[np.ndarray, np.ndarray]:
    """Per sampled validation row and per sampled training row: has it a (near) twin in training?

    Exact twins come from the full-data fingerprints; near twins lie within `near_ratio` of
    the median nearest-neighbour distance among the sampled training rows.
    """
    stats, nb = evidence.get("data_stats"), evidence.get("neighbours")
    limit = near_ratio * nb.typical
    val = stats.val_in_train_mask[nb.val_rows] | (nb.nearest_val <= limit)
    train = stats.train_has_twin[nb.train_rows] | (nb.nearest_train <= limit)
    return val, train


@register
class TrainValLeakage(Check):
    id = "train_val_leakage"
    description = (
        "Finds validation rows with a twin in the training data: identical (all rows, by row "
        "fingerprint) or a near copy (closer to a training row than `near_ratio` times the "
        "median nearest-neighbour distance among training rows, on the neighbour sample). "
        "Rows that share every feature are not leakage by themselves: with few distinct "
        "values per column, distinct records tie by chance. The chance rate is measured on "
        "the training data itself: the share of training rows with a twin among the other "
        "training rows. Leakage is claimed only when (1) the validation rows whose twin has "
        "the same label are at least `max_fraction` of the validation rows (critical from "
        "`critical_fraction`), (2) the copies are more than chance allows (one-sided binomial "
        "test against the chance rate, p at most `max_chance_p`), and (3) the fast baseline "
        "(logistic or ridge regression fitted on the training sample) scores higher on those "
        "validation rows than on the rest by at least `min_inflation_se` standard errors: the "
        "validation score measures memory, not generalisation. When (1) and (2) hold but the "
        "score is not inflated it is info; ties at the chance rate are silent."
    )
    category = "data"
    rank = 15
    requires = ("data_stats", "neighbours", "row_effects")

    def __init__(self, *, max_fraction: float = 0.01, critical_fraction: float = 0.1,
                 near_ratio: float = 0.05, max_chance_p: float = 1e-3,
                 min_inflation_se: float = 2.0) -> None:
        """Args:
        max_fraction: Share of validation rows copied (with the same label) that is a
            warning. Defaults to 0.01.
        critical_fraction: Share that is critical. Defaults to 0.1.
        near_ratio: Distance, as a fraction of the median nearest-neighbour distance, under
            which a validation row is a near copy. Defaults to 0.05.
        max_chance_p: Largest binomial p-value of the copy count under the training data's own
            twin rate for the copies to count as more than chance. Defaults to 0.001.
        min_inflation_se: How many standard errors the baseline's score on the copies must
            exceed its score on the other validation rows. Defaults to 2.
        """
        if not 0 < max_fraction <= critical_fraction <= 1:
            raise ValueError(
                "need 0 < max_fraction <= critical_fraction <= 1. Received: "
                f"max_fraction={max_fraction}, critical_fraction={critical_fraction}"
            )
        if not 0 < near_ratio < 1:
            raise ValueError(f"near_ratio must be in (0, 1). Received: near_ratio={near_ratio}")
        if not 0 < max_chance_p < 1:
            raise ValueError(
                f"max_chance_p must be in (0, 1). Received: max_chance_p={max_chance_p}"
            )
        if min_inflation_se < 0:
            raise ValueError(
                f"min_inflation_se must be >= 0. Received: min_inflation_se={min_inflation_se}"
            )
        self.max_fraction, self.critical_fraction = max_fraction, critical_fraction
        self.near_ratio = near_ratio
        self.max_chance_p, self.min_inflation_se = max_chance_p, min_inflation_se

    def run(self, evidence: Evidence) -> list[Finding]:
        from scipy.stats import binom

        stats, nb, setup = evidence.get("data_stats"), evidence.get("neighbours"), evidence.setup
        val_copy, train_copy = copy_masks(evidence, self.near_ratio)
        if not val_copy.any():
            return []
        y_tr, y_va = np.asarray(setup.y_train), np.asarray(setup.y_val)
        agree = val_copy & labels_equal(y_va[nb.val_rows], y_tr[nb.nearest_val_index])
        train_agree = labels_equal(y_tr[nb.train_rows], y_tr[nb.nearest_train_index])
        n = len(nb.val_rows)
        share = agree.sum() / n
        copied = int(val_copy.sum())
        chance = float(train_copy.mean())
        p_chance = float(binom.sf(copied - 1, n, chance)) if chance > 0 else 0.0
        if share < self.max_fraction or p_chance > self.max_chance_p:
            return []
        exact = stats.val_in_train_mask[nb.val_rows]
        near_share = (val_copy & ~exact).mean()
        facts: dict = {
            "val_rows_in_train": stats.val_in_train,
            "val_rows_near_train_estimated": int(round(near_share * stats.n_val)),
            "copied_val_fraction": round(float(val_copy.mean()), 4),
            "copies_with_same_label_fraction": round(float(share), 4),
            "label_agreement_of_copies": round(float(agree.sum() / copied), 4),
            "chance_twin_rate_in_training": round(chance, 4),
            "label_agreement_of_training_twins": (
                round(float(train_agree[train_copy].mean()), 4) if train_copy.any() else None),
            "p_value_copies_by_chance": float(f"{p_chance:.3g}"),
            "val_rows_measured": n,
            "val_row_indices": list(stats.val_in_train_rows[:20]),
        }
        near = val_copy & ~exact
        if near.any():
            idx = np.flatnonzero(near)[:5]
            facts["near_pairs_val_train"] = [[int(nb.val_rows[i]), int(nb.nearest_val_index[i])]
                                             for i in idx]
        if setup.val_source == "held_out":
            facts["validation"] = "held out by fitdoctor (duplicates in training data leak)"
        inflation, se, reason = math.nan, math.nan, ""
        try:
            effects = evidence.get("row_effects")
        except EvidenceUnavailable as exc:
            reason = f"the score inflation could not be measured: {exc}"
        else:
            inflation, se = group_difference(effects.val_scores, agree)
            facts.update({"baseline": effects.model, "baseline_metric": effects.metric,
                          "baseline_score_on_copies": round(
                              float(np.nanmean(effects.val_scores[agree])), 4),
                          "baseline_score_on_other_rows": round(
                              float(np.nanmean(effects.val_scores[~agree])), 4)
                          if (~agree).any() else None,
                          "score_inflation": round(inflation, 4) if math.isfinite(inflation)
                          else None,
                          "score_inflation_se": round(se, 4) if math.isfinite(se) else None})
            if not math.isfinite(inflation):
                reason = "too few copied or other validation rows to compare their scores"
            elif inflation <= self.min_inflation_se * se:
                reason = (f"the baseline scores no higher on the copies ({inflation:+.3f} "
                          f"± {se:.3f} against the other validation rows)")
        inflated = not reason
        severity = ("info" if not inflated
                    else "critical" if share >= self.critical_fraction else "warning")
        title = (f"{share:.0%} of validation rows are copies of training rows with the same "
                 f"label ({chance:.0%} expected from the training rows' own ties)")
        if inflated:
            title += f"; they score {inflation:+.2f} higher: validation overstates generalisation"
        else:
            facts["why_not_a_warning"] = reason
        return [self.finding(
            severity,
            title,
            facts,
            "Deduplicate before splitting, and split by group (patient, user, source file) when "
            "rows from one group are near copies.",
            """
            import numpy as np
            from sklearn.model_selection import GroupShuffleSplit

            _, first = np.unique(x.reshape(len(x), -1), axis=0, return_index=True)
            x, y = x[np.sort(first)], y[np.sort(first)]
            # rows of one group stay on one side:
            train_idx, val_idx = next(GroupShuffleSplit(test_size=0.2).split(x, y, groups))
            """,
        )]
