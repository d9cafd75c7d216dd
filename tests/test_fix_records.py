"""fix's bookkeeping as frozen values, and fix.md read from them."""

from __future__ import annotations

import dataclasses
import json
import math

import pytest

from fitdoctor.fix.evaluate import Scores
from fitdoctor.fix.records import Candidate, CandidateStatus, NoiseRule, Stage, points_text
from fitdoctor.fix.write import render_markdown
from tests import html_samples


def _scores(*values: float, loss: float = 1.0) -> Scores:
    n = len(values)
    return Scores(values, values, (loss,) * n, (1.0,) * n)


def test_a_candidate_is_built_once_from_its_numbers_and_decisions_return_new_records():
    rule = NoiseRule(min_gain=0.01, noise_factor=2.0, n_seeds=2)
    kept = Candidate.scored(remedy="l2_penalty", finding="overfitting", strength=1e-4,
                            label="l2_penalty(0.0001)", stage=Stage.ALONE,
                            status=CandidateStatus.ACCEPTED, reason="beats run-to-run noise",
                            scores=_scores(0.90, 0.92), reference=_scores(0.80, 0.80), rule=rule)
    assert kept.gain == pytest.approx(0.11) and kept.gain_points == pytest.approx(11.0)
    assert kept.threshold == pytest.approx(rule.threshold(_scores(0.80, 0.80), _scores(0.9, 0.92)))
    assert kept.gain_text == "+11.0 points"
    with pytest.raises(dataclasses.FrozenInstanceError):
        kept.status = CandidateStatus.REJECTED  # type: ignore[misc]
    later = kept.decided(CandidateStatus.REJECTED, "adds nothing on top")
    assert later.status is CandidateStatus.REJECTED and later.gain == kept.gain
    assert kept.status is CandidateStatus.ACCEPTED  # the old record is untouched


def test_regression_gains_read_as_a_percent_of_the_loss():
    rule = NoiseRule(min_gain=0.01, noise_factor=2.0, n_seeds=1, regression=True)
    before, after = _scores(-86.0), _scores(-80.0)  # scores are minus the loss
    assert rule.threshold(before, after) == pytest.approx(0.86)
    assert rule.text(rule.threshold(before, after), before.mean, signed=False) == \
        "1.0 % of the loss"
    assert points_text(6.0, -86.0, regression=True) == "+7.0 % of the loss"
    assert math.isnan(Candidate("r", "f", None, "r", Stage.ALONE,
                                CandidateStatus.FAILED).gain_points)


def test_fix_md_has_one_row_per_remedy_grouped_by_finding_with_gains_in_points():
    text = render_markdown(html_samples.fix_result())
    assert "### For `lr_too_high`" in text and "### For `dead_relu`" in text
    rows = [line for line in text.splitlines() if line.startswith("| `")]
    assert [r.split("|")[1].strip() for r in rows] == [
        "`lower_lr`", f"`{html_samples.HOSTILE}`", "`swap_activation`"]
    lower_lr = rows[0]
    assert "| 0.01 | 0.01, 0.1 | +83.0 points | 1.0 points | kept: beats run-to-run noise |" \
        in lower_lr
    assert "failed: ValueError: no such layer" in rows[2]
    assert "more than 2.0 points over your setup as given" in text  # threshold=0.02


def test_fix_json_stays_json():
    data = json.loads(json.dumps(html_samples.fix_result().to_dict(), allow_nan=False))
    assert [t["status"] for t in data["remedies"]] == ["accepted", "rejected", "rejected",
                                                      "failed"]
    assert len(data["rejected"]) == 3 and data["remedies"][0]["gain_points"] == pytest.approx(83)
    assert data["changes"][0]["remedy"] == "lower_lr" and data["applied"] == ["lower_lr(0.01)"]
    assert "val_accuracy" not in data["remedies"][3]  # a failure has no numbers
