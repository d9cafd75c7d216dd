"""The cost model: budgets in plain fits of the user's setup, and each probe's share."""

from __future__ import annotations

import math

import pytest

import fitdoctor
from fitdoctor.budget import BUDGETS, Budget, get_budget
from fitdoctor.evidence import Evidence, cost
from fitdoctor.evidence.learning_curve import LearningCurve, points_for

from .conftest import dense_classifier


def test_the_module_example_holds():
    budget = get_budget("standard")
    assert budget.fit_multiple == 1.5 and budget.seeds == 1
    assert cost.spare_fits(budget) == pytest.approx(0.5)
    assert cost.share_fits(budget, "learning_curve") == pytest.approx(0.25)


def test_budgets_are_plain_fits_with_the_probe_runs_included():
    assert {name: b.fit_multiple for name, b in BUDGETS.items()} == {
        "quick": 1.2, "standard": 1.5, "thorough": 4.0}
    assert cost.spare_fits(get_budget("thorough")) == pytest.approx(1.0)  # 3 probe seeds
    training = ("lr_range", "learning_curve")
    assert sum(cost.SHARES[name] for name in training) == pytest.approx(1.0)
    assert cost.share_fits(get_budget("quick"), "no_such_probe") == 0.0


def test_a_budget_below_its_probe_runs_is_refused():
    with pytest.raises(ValueError, match=r"fit_multiple must be at least seeds.*fit_multiple=2"):
        Budget("odd", seeds=3, lr_range_steps=10, learning_curve=False, max_audit_rows=100,
               fit_multiple=2.0)


def test_a_fix_bound_below_one_confirmed_remedy_is_refused():
    assert {name: (b.fix_seeds, b.fix_runs) for name, b in BUDGETS.items()} == {
        "quick": (2, 9), "standard": (2, 30), "thorough": (3, None)}
    with pytest.raises(ValueError, match=r"fix_runs must be at least fix_seeds.*fix_runs=2"):
        Budget("odd", seeds=1, lr_range_steps=10, learning_curve=False, max_audit_rows=100,
               fix_seeds=3, fix_runs=2)


def test_a_share_pays_for_a_fraction_of_the_fits_steps():
    share = cost.Share("lr_range", "standard", fits=0.15, seconds=None)
    assert share.steps(epochs=20, steps_per_epoch=45) == 135
    assert share.describe() == "0.15 of a plain fit on the standard budget"


def test_learning_curve_points_are_what_the_share_pays_for():
    def points(fits):
        return points_for(cost.Share("learning_curve", "x", fits, None))

    assert points(0.25) == ((0.25,), ())
    assert points(0.5) == ((0.5,), ())
    assert points(0.8) == ((0.25, 0.5), ())
    fractions, notes = points(0.1)
    assert fractions == () and "25% of the rows" in notes[0] and "0.1 of a plain fit" in notes[0]
    assert [points(cost.share_fits(get_budget(name), "learning_curve"))[0]
            for name in ("standard", "thorough")] == [(0.25,), (0.5,)]


def curve(sizes, val, higher=True, chance=None):
    return LearningCurve("accuracy" if higher else "loss", higher, sizes, val, val, (), (),
                         chance=chance)


def test_learning_curve_gain_is_per_doubling_of_the_rows():
    two_doublings = curve((100, 400), (0.50, 0.60))
    assert two_doublings.gain_per_doubling == pytest.approx(0.05) and two_doublings.still_rising
    flat = curve((200, 400), (0.600, 0.605))
    assert flat.gain_per_doubling == pytest.approx(0.005) and not flat.still_rising
    loss = curve((100, 400), (1.0, 0.81), higher=False)  # 10 % lower per doubling
    assert loss.gain_per_doubling == pytest.approx(0.1) and loss.still_rising
    assert curve((400,), (0.6,)).gain_per_doubling is None
    assert curve((100, 400), (math.nan, 0.6)).gain_per_doubling is None


def test_the_clock_has_no_deadline_until_the_probe_run_is_timed(digits):
    (x, y), (xv, yv) = digits
    setup = fitdoctor.Setup.from_arrays(dense_classifier(), (x[:200], y[:200]),
                                        (xv[:50], yv[:50]), {"epochs": 2})
    evidence = Evidence(setup, get_budget("standard"), seed=0)
    clock = cost.Clock(evidence, "baselines")
    assert cost.plain_fit_seconds(evidence) is None and clock.deadline() is None
    assert not clock.expired()
    evidence.get("probe_run")
    fit = cost.plain_fit_seconds(evidence)
    assert fit == evidence.get("probe_run").fit_seconds[0] > 0
    assert clock.deadline() >= clock.started + cost._floor(fit) and not clock.expired()
    assert cost.share(evidence, "baselines").seconds == pytest.approx(0.1 * fit)


def test_cpu_probes_get_one_thread_beside_training_on_the_cpu():
    import tensorflow as tf

    if tf.config.list_physical_devices("GPU"):
        pytest.skip("a GPU trains the model here")
    assert cost.cpu_threads() == 1


def test_a_curve_that_ends_at_chance_is_not_rising():
    # a linear model on two circles: 225 rows land below chance, 900 rows reach it
    assert not curve((225, 900), (0.333, 0.483), chance=0.5).still_rising
    assert curve((225, 900), (0.333, 0.60), chance=0.5).still_rising


def _spent_budget(digits, monkeypatch):
    """Digits' 64 pixels with the whole budget spent once the probe run has timed the fit."""
    monkeypatch.setattr(cost, "MIN_SECONDS", 0.0)
    tight = Budget("tight", seeds=1, lr_range_steps=10, learning_curve=False,
                   max_audit_rows=1000, fit_multiple=1.0)
    (x, y), val = digits
    setup = fitdoctor.Setup.from_arrays(dense_classifier(), (x, y), val, {"epochs": 1})
    evidence = Evidence(setup, tight)
    evidence.get("probe_run")
    return evidence


def test_feature_relevance_past_its_time_stops_between_features_and_says_so(digits,
                                                                            monkeypatch):
    from fitdoctor.evidence import EvidenceUnavailable

    evidence = _spent_budget(digits, monkeypatch)
    with pytest.raises(EvidenceUnavailable, match="estimated for 32 of 64 features only"):
        evidence.get("feature_relevance")


def test_feature_relevance_within_its_time_estimates_every_feature(digits):
    (x, y), val = digits
    setup = fitdoctor.Setup.from_arrays(dense_classifier(), (x, y), val, {"epochs": 1})
    evidence = Evidence(setup, get_budget("standard"))
    evidence.get("probe_run")
    relevance = evidence.get("feature_relevance")
    assert len(relevance.signal) == 64 and relevance.notes == ()


def test_oof_probs_past_its_time_keep_the_first_screening_model(digits, monkeypatch):
    evidence = _spent_budget(digits, monkeypatch)
    oof = evidence.get("oof_probs")
    assert oof.model.startswith("logistic regression")
    assert len(oof.notes) == 1 and "15-nearest-neighbours not tried" in oof.notes[0]
    assert "past the diagnosis's 1 plain fits" in oof.notes[0]


@pytest.mark.parametrize("fit, floor_seconds", [(0.5, 9.0), (1.0, 8.0), (3.0, 4.0),
                                                (4.95, 0.1), (5.1, 0.0), (30.0, 0.0)])
def test_the_clock_floors_a_probe_on_a_short_fit_down_to_nothing_at_five_seconds(
        digits, monkeypatch, fit, floor_seconds):
    # the floor shrinks to nothing as the fit nears five seconds: no step in the cost there
    (x, y), (xv, yv) = digits
    setup = fitdoctor.Setup.from_arrays(dense_classifier(), (x[:200], y[:200]),
                                        (xv[:50], yv[:50]), {"epochs": 2})
    evidence = Evidence(setup, get_budget("standard"), seed=0)
    monkeypatch.setattr(cost, "plain_fit_seconds", lambda _: fit)
    clock = cost.Clock(evidence, "feature_relevance")
    clock.started = evidence.started + 1.5 * fit  # it starts as the whole budget is spent
    own = clock.started + cost.share_fits(evidence.budget, "feature_relevance") * fit
    whole = evidence.started + 1.5 * fit
    floor = clock.started + floor_seconds
    assert clock.deadline() == pytest.approx(max(own, whole, floor))
    assert (f"at least {floor_seconds:.1f} s" in clock.spent()) is (floor_seconds > 0)


def test_learning_curve_points_train_batched_to_the_same_scores(digits, monkeypatch):
    (x, y), (xv, yv) = digits
    setup = fitdoctor.Setup.from_arrays(dense_classifier(), (x[:400], y[:400]),
                                        (xv[:100], yv[:100]), {"epochs": 3, "batch_size": 16})
    train, asked = fitdoctor.Setup.train, []

    def recording(self, seed, **kwargs):
        asked.append(kwargs.get("batched", False))
        return train(self, seed, **kwargs)

    monkeypatch.setattr(fitdoctor.Setup, "train", recording)
    batched = Evidence(setup, get_budget("standard"), seed=0).get("learning_curve")
    assert asked == [False, True]  # the probe run as the user's fit runs it, then the point
    monkeypatch.setattr(fitdoctor.Setup, "train", lambda self, seed, **kwargs: train(
        self, seed, **{**kwargs, "batched": False}))
    plain = Evidence(setup, get_budget("standard"), seed=0).get("learning_curve")
    assert batched.sizes == plain.sizes == (100, 400)  # the point and the probe run
    assert batched.train_scores == plain.train_scores
    assert batched.val_scores == plain.val_scores


@pytest.mark.parametrize("shared", [True, False])
def test_the_probe_run_estimates_a_fit_for_the_probes_beside_only_where_it_shares_the_cores(
        digits, monkeypatch, shared):
    (x, y), (xv, yv) = digits
    setup = fitdoctor.Setup.from_arrays(dense_classifier(), (x[:300], y[:300]),
                                        (xv[:60], yv[:60]), {"epochs": 4, "batch_size": 32})
    monkeypatch.setattr(cost, "training_shares_the_cores", lambda: shared)
    evidence = Evidence(setup, get_budget("quick"), seed=0)
    clock = cost.Clock(evidence, "baselines")
    told = []  # what a listener (the forked probes) is told, and what the clocks read then
    evidence.when_fit_estimated(
        lambda seconds: told.append((seconds, cost.plain_fit_seconds(evidence),
                                     clock.deadline())))
    run = evidence.get("probe_run")
    if not shared:  # idle cores: the probes beside run free until the fit is timed
        assert told == [] and evidence.fit_estimate is None
        return
    assert len(told) == 1  # once, after the second epoch, while the probe run still trains
    seconds, read, deadline = told[0]
    assert seconds == evidence.fit_estimate == read > 0
    assert deadline == pytest.approx(max(clock.started + cost._floor(seconds),
                                         evidence.started + 1.2 * seconds,
                                         clock.started + 0.04 * seconds))
    assert cost.plain_fit_seconds(evidence) == run.fit_seconds[0]  # timed: the estimate is done
    assert run.epochs_run == 4  # the estimate only reads a clock


@pytest.mark.parametrize("budget, per_epoch", [("quick", 1), ("standard", 2)])
def test_the_probe_runs_monitor_measures_the_budgets_batches_per_epoch(digits, budget,
                                                                        per_epoch):
    (x, y), (xv, yv) = digits
    setup = fitdoctor.Setup.from_arrays(dense_classifier(), (x[:300], y[:300]),
                                        (xv[:60], yv[:60]), {"epochs": 3, "batch_size": 32})
    record = Evidence(setup, get_budget(budget), seed=0).get("probe_run").monitor.record
    assert [s.epoch for s in record.samples] == [e for e in range(3) for _ in range(per_epoch)]
    assert all(math.isfinite(s.gradient_noise) for s in record.samples)  # at the batch size


def test_a_budget_measuring_no_batch_is_refused():
    with pytest.raises(ValueError, match="monitor_samples must be at least 1"):
        Budget("odd", seeds=1, lr_range_steps=10, learning_curve=False, max_audit_rows=100,
               monitor_samples=0)
