"""The measured effect data checks read before they warn: the baseline with and without rows."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from fitdoctor.evidence import Evidence, EvidenceUnavailable
from fitdoctor.evidence.fast_baseline import paired_difference


def measured_gain(evidence: Evidence, refit: str, min_gain_se: float, what: str
                  ) -> tuple[bool, dict[str, Any]]:
    """Whether refitting the baseline without some rows raises its validation score.

    Args:
        evidence: The run's evidence (reads `row_effects`).
        refit: `RowEffects` field holding the refitted per-row scores (`"without_outliers"`,
            `"without_repeats"`).
        min_gain_se: Standard errors the paired gain must exceed.
        what: The change in words, for the reason (`"leaving them out"`).

    Returns:
        (gain beyond noise, evidence entries: the scores, the gain and its standard error, or
        why it is not a warning).
    """
    try:
        effects = evidence.get("row_effects")
    except EvidenceUnavailable as exc:
        return False, {"why_not_a_warning": f"the effect could not be measured: {exc}"}
    refitted = getattr(effects, refit)
    facts: dict[str, Any] = {"baseline": effects.model, "baseline_metric": effects.metric}
    if refitted is None:
        return False, {**facts, "why_not_a_warning": "the baseline could not be refitted "
                       f"after {what}"}
    gain, se = paired_difference(refitted, effects.val_scores)
    facts.update({
        "baseline_val_score": round(float(np.nanmean(effects.val_scores)), 4),
        f"baseline_val_score_after_{what.replace(' ', '_')}": round(float(np.nanmean(refitted)),
                                                                     4),
        "measured_gain": round(gain, 4) if math.isfinite(gain) else None,
        "measured_gain_se": round(se, 4) if math.isfinite(se) else None,
    })
    if math.isfinite(gain) and gain > 0 and gain > min_gain_se * se:
        return True, facts
    shown = f"{gain:+.4f} ± {se:.4f}" if math.isfinite(gain) else "not measurable"
    facts["why_not_a_warning"] = (f"{what} does not measurably change the baseline's "
                                  f"validation score ({shown})")
    return False, facts
