"""The scikit-learn baselines probe and the `baseline_beats_model` check."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.model_selection import train_test_split

import fitdoctor
from fitdoctor.budget import Budget, get_budget
from fitdoctor.evidence import Evidence, EvidenceSkipped


def breast_cancer(scaled: bool):
    data = load_breast_cancer()
    x_tr, x_val, y_tr, y_val = train_test_split(
        data.data.astype("float32"), data.target, test_size=0.3, random_state=0,
        stratify=data.target)
    if scaled:
        mean, std = x_tr.mean(axis=0), x_tr.std(axis=0)
        x_tr, x_val = (x_tr - mean) / std, (x_val - mean) / std
    return (x_tr, y_tr[:, None]), (x_val, y_val[:, None])


def small_mlp(n_inputs: int = 30, loss: str = "binary_crossentropy", units: int = 1,
              activation: str | None = "sigmoid"):
    def build():
        model = keras.Sequential([
            keras.Input(shape=(n_inputs,)),
            keras.layers.Dense(16, activation="relu"),
            keras.layers.Dense(units, activation=activation),
        ])
        model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=loss, metrics=["accuracy"])
        return model

    return build


def evidence_for(build, data, budget="standard"):
    setup = fitdoctor.Setup.from_arrays(build, data[0], data[1], {"epochs": 20})
    return Evidence(setup, get_budget(budget), seed=0)


def test_classification_baselines_score_accuracy_on_validation_data():
    result = evidence_for(small_mlp(), breast_cancer(scaled=True)).get("baselines")
    assert result.metric == "accuracy" and result.higher_is_better
    assert [s.name for s in result.scores] == ["logistic_regression", "svm_rbf",
                                               "gradient_boosting"]
    assert all(0.9 < s.val_score <= 1.0 for s in result.scores)
    assert result.best.cv_std is not None and result.best.cv_mean > 0.9  # best one is CV'd
    assert result.n_used == result.n_train == 398 and result.notes == ()
    assert result.beats(0.80, 0.03) and not result.beats(0.99, 0.03)


def test_regression_baselines_use_the_users_loss():
    data = load_diabetes()
    x, y = data.data.astype("float32"), data.target.astype("float32")
    build = small_mlp(10, loss="mae", activation=None)
    result = evidence_for(build, ((x[:300], y[:300]), (x[300:], y[300:]))).get("baselines")
    assert result.metric == "mean_absolute_error" and not result.higher_is_better
    assert {s.name for s in result.scores} == {"ridge", "svr_rbf", "gradient_boosting"}
    mae_of_mean = float(np.mean(np.abs(y[300:] - y[:300].mean())))
    assert result.best.val_score < mae_of_mean  # the baselines learn something
    assert result.beats(result.best.val_score * 1.5, 0.1)


def test_baselines_subsample_and_say_so():
    small_budget = Budget("tiny", seeds=1, lr_range_steps=10, learning_curve=False,
                          max_audit_rows=100)
    setup = fitdoctor.Setup.from_arrays(small_mlp(), *breast_cancer(scaled=True), {"epochs": 1})
    result = Evidence(setup, small_budget).get("baselines")
    assert result.n_used == 100 and all(s.n_rows == 100 for s in result.scores)
    assert any("100 of 398" in note for note in result.notes)


def test_baselines_skip_multilabel_and_unscorable_losses():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(80, 5)).astype("float32")
    multihot = (rng.random((80, 3)) < 0.5).astype("float32")
    build = small_mlp(5, units=3)
    with pytest.raises(EvidenceSkipped, match="multi-label"):
        evidence_for(build, ((x, multihot), (x, multihot))).get("baselines")
    y = rng.uniform(1, 2, 80).astype("float32")
    build = small_mlp(5, loss="msle", activation=None)
    with pytest.raises(EvidenceSkipped, match="msle|mean_squared_logarithmic"):
        evidence_for(build, ((x, y), (x, y))).get("baselines")


def diagnose(data):
    keras.utils.set_random_seed(0)
    setup = fitdoctor.Setup.from_arrays(small_mlp(), data[0], data[1],
                                        {"epochs": 20, "batch_size": 32})
    return fitdoctor.diagnose(setup=setup, checks=["baseline_beats_model"], budget="quick")


@pytest.mark.slow
def test_baseline_beats_a_network_fed_unscaled_features():
    report = diagnose(breast_cancer(scaled=False))
    finding = report.get("baseline_beats_model")
    assert finding is not None and finding.is_problem, report.ids()
    evidence = finding.evidence
    assert evidence["baseline_val_score"] - evidence["network_best_val_score"] > evidence["margin"]
    assert "make_pipeline(StandardScaler()" in finding.fix.code


@pytest.mark.slow
def test_baseline_does_not_beat_the_scaled_twin():
    report = diagnose(breast_cancer(scaled=True))
    assert report.problems == (), report.ids()


def wide_table(n_features: int, rows: int = 600, seed: int = 0):
    """Many features driven by 5 hidden factors, as pixels are; the label is a rule on them."""
    rng = np.random.default_rng(seed)
    factors = rng.normal(size=(rows, 5))
    x = factors @ rng.normal(size=(5, n_features)) + 0.5 * rng.normal(size=(rows, n_features))
    x = x.astype("float32")
    y = (factors.sum(axis=1) > 0).astype("int64")
    cut = rows * 3 // 4
    return (x[:cut], y[:cut, None]), (x[cut:], y[cut:, None])


def test_wide_inputs_are_reduced_to_principal_components_and_get_the_svm_back():
    data = wide_table(300)
    result = evidence_for(small_mlp(300), data).get("baselines")
    assert result.reduction == "PCA(n_components=100, random_state=0)"
    assert any("300 input features reduced to 100" in n for n in result.notes)
    assert [s.name for s in result.scores] == ["logistic_regression", "svm_rbf",
                                               "gradient_boosting"]
    assert result.best.val_score > 0.85  # the factors survive the reduction


def test_the_svm_is_left_out_where_it_is_not_cheap():
    result = evidence_for(small_mlp(150), wide_table(150)).get("baselines")
    assert [s.name for s in result.scores] == ["logistic_regression", "gradient_boosting"]
    assert result.reduction == ""
    assert any("svm_rbf left out: 150 features" in n for n in result.notes)


def test_photos_are_averaged_over_pixel_blocks_before_the_reduction(digits):
    (x, y), (xv, yv) = digits
    def photos(a):  # 8x8 digits blown up to 40x40 grey pictures
        return np.kron(a.reshape(-1, 8, 8), np.ones((5, 5), "float32"))[..., None]

    def build():
        model = keras.Sequential([keras.Input((40, 40, 1)), keras.layers.Flatten(),
                                  keras.layers.Dense(10, activation="softmax")])
        model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
        return model

    data = ((photos(x[:500]), y[:500]), (photos(xv[:200]), yv[:200]))
    result = evidence_for(build, data).get("baselines")
    assert any("pixel blocks from 1600 to 400 values" in n for n in result.notes)
    assert result.reduction.startswith("PCA(n_components=100")
    assert result.best.val_score > 0.85


def test_pixel_blocks_are_averaged():
    from fitdoctor.evidence.baselines import MAX_PIXELS, _pool_pixels

    img = np.arange(2 * 64 * 64 * 3, dtype="float32").reshape(2, 64, 64, 3)
    pooled = _pool_pixels(img)
    assert pooled.shape == (2, 16 * 16 * 3) and pooled.shape[1] <= MAX_PIXELS
    assert pooled[0, 0] == pytest.approx(img[0, :4, :4, 0].mean())
    assert _pool_pixels(img[:, :8, :8]).shape == (2, 8 * 8 * 3)  # small enough already


def test_baselines_are_deterministic_for_a_seed():
    def scores():
        result = evidence_for(small_mlp(300), wide_table(300)).get("baselines")
        return [(s.name, s.val_score, s.n_rows, s.cv_mean, s.cv_std) for s in result.scores]

    assert scores() == scores()


def test_baselines_past_their_time_keep_the_cheapest_and_say_what_they_skipped(monkeypatch):
    from fitdoctor.evidence import cost

    monkeypatch.setattr(cost, "MIN_SECONDS", 0.0)
    no_spare = Budget("tight", seeds=1, lr_range_steps=10, learning_curve=False,
                      max_audit_rows=1000, fit_multiple=1.0)
    setup = fitdoctor.Setup.from_arrays(small_mlp(), *breast_cancer(scaled=True), {"epochs": 1})
    evidence = Evidence(setup, no_spare)
    evidence.get("probe_run")  # times the fit; the whole budget is then spent
    result = evidence.get("baselines")
    assert [s.name for s in result.scores] == ["logistic_regression"]
    skipped = [n for n in result.notes if "skipped" in n]
    assert [n.split()[0] for n in skipped] == ["gradient_boosting", "svm_rbf", "cross-validation"]
    assert "past the diagnosis's 1 plain fits" in skipped[0]
    assert result.best.cv_std is None


def _pid_recorded(monkeypatch, tmp_path, name: str):
    """Wrap probe `name` so that each run writes the id of the process it ran in."""
    import os

    from fitdoctor.evidence import base

    probes = base.registered_probes()
    measure = probes[name]

    def recorded(evidence):
        (tmp_path / f"{name}.{os.getpid()}").write_text(str(os.nice(0)))  # and its niceness
        return measure(evidence)

    monkeypatch.setitem(base._PROBES, name, recorded)
    return lambda: sorted(int(p.suffix[1:]) for p in tmp_path.glob(f"{name}.*"))


def _diagnosed_baselines(epochs: int = 20):
    setup = fitdoctor.Setup.from_arrays(small_mlp(), *breast_cancer(scaled=True),
                                        {"epochs": epochs})
    report = fitdoctor.diagnose(setup=setup, checks=["baseline_beats_model"])
    return report, [(s["name"], s["val_score"], s["cv_std"])
                    for s in report.measurements["baselines"]["scores"]]


@pytest.mark.slow
def test_baselines_run_beside_the_probe_run_in_another_process_with_the_same_result(
        monkeypatch, tmp_path):
    """On Linux the CPU-only probes are forked: they do not share the interpreter's lock with
    the training loop. What they measure is what they measure in this process."""
    import os

    from fitdoctor.evidence import beside as beside_module
    from fitdoctor.evidence.beside import can_fork

    niceness = os.nice(0)
    alone = evidence_for(small_mlp(), breast_cancer(scaled=True)).get("baselines")
    pids = _pid_recorded(monkeypatch, tmp_path, "baselines")
    report, beside = _diagnosed_baselines()
    if can_fork():
        assert len(pids()) == 1 and pids()[0] != os.getpid()
        # the child runs at the lowest priority, and this process's is left as it was
        assert (tmp_path / f"baselines.{pids()[0]}").read_text() == str(beside_module.NICENESS)
        assert os.nice(0) == niceness < beside_module.NICENESS
    else:
        assert pids() == [os.getpid()]
    assert report.timings["total"] >= report.timings["probe:probe_run"]  # counted from the start
    assert report.timings["probe:baselines"] > 0  # its time came back with it
    assert beside == [(s.name, s.val_score, s.cv_std) for s in alone.scores]

    monkeypatch.setenv("FITDOCTOR_FORK_PROBES", "0")  # in a thread of this process instead
    pids = _pid_recorded(monkeypatch, tmp_path / "thread", "baselines")
    (tmp_path / "thread").mkdir()
    _, in_thread = _diagnosed_baselines()
    assert pids() == [os.getpid()] and in_thread == beside


@pytest.mark.slow
def test_probes_beside_are_measured_here_when_their_process_dies_or_cannot_send(monkeypatch,
                                                                                tmp_path):
    """A child that dies before sending anything, or a result that will not pickle, leaves
    the probe to the check that asks for it, in this process, with the same result."""
    import os

    from fitdoctor.evidence import beside

    if not beside.can_fork():
        pytest.skip("the CPU-only probes are forked on Linux only")
    _, expected = _diagnosed_baselines(epochs=3)
    pids = _pid_recorded(monkeypatch, tmp_path, "baselines")
    monkeypatch.setattr(beside, "_child", lambda *args: os._exit(3))
    _, measured = _diagnosed_baselines(epochs=3)
    assert pids() == [os.getpid()] and measured == expected

    monkeypatch.undo()
    pids = _pid_recorded(monkeypatch, tmp_path / "unsent", "baselines")
    (tmp_path / "unsent").mkdir()
    pickled = beside._pickled

    def unpicklable(name, kind, value, seconds):
        return pickled(name, kind, (lambda: None) if name == "baselines" else value, seconds)

    monkeypatch.setattr(beside, "_pickled", unpicklable)
    _, measured = _diagnosed_baselines(epochs=3)
    assert len(pids()) == 2 and os.getpid() in pids() and measured == expected


def test_a_probe_asked_for_from_two_threads_runs_once():
    import threading

    started = []
    setup = fitdoctor.Setup.from_arrays(small_mlp(), *breast_cancer(scaled=True), {"epochs": 1})
    evidence = Evidence(setup, get_budget("quick"), progress=started.append)
    results = []
    workers = [threading.Thread(target=lambda: results.append(evidence.get("baselines")))
               for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert started == ["baselines"] and results[0] is results[1]


@pytest.mark.slow
def test_once_the_probe_run_is_done_this_process_takes_the_probes_the_child_has_not_started(
        monkeypatch, tmp_path):
    """The child measures its probes in order; once the probe run is done, this process
    measures the rest from the last. Each probe runs once, in one of the two, to the same
    findings and numbers as when the child measures them all."""
    import os
    import time

    from fitdoctor.evidence import base, beside

    if not beside.can_fork():
        pytest.skip("the CPU-only probes are forked on Linux only")
    parent, took_over = os.getpid(), tmp_path / "took_over"
    setup = fitdoctor.Setup.from_arrays(small_mlp(), *breast_cancer(scaled=True), {"epochs": 3})
    checks = ["class_imbalance", "baseline_beats_model", "irrelevant_features"]
    names = ["data_stats", "oof_probs", "baselines", "feature_relevance"]  # their order beside
    taken = []
    take_over = beside.ForkedProbes.take_over
    monkeypatch.setattr(beside.ForkedProbes, "take_over",
                        lambda self, measure: taken.extend(take_over(self, measure)) or taken)

    def all_in_the_child():
        """The child keeps up: the probe run ends only once it has claimed every probe."""
        fit_timed = beside.ForkedProbes.fit_timed

        def when_all_claimed(self, seconds):
            while beside.UNCLAIMED in list(self._claims):
                time.sleep(0.01)
            fit_timed(self, seconds)

        monkeypatch.setattr(beside.ForkedProbes, "fit_timed", when_all_claimed)
        report = fitdoctor.diagnose(setup=setup, checks=checks, budget="quick")
        monkeypatch.setattr(beside.ForkedProbes, "fit_timed", fit_timed)
        return report

    expected = all_in_the_child()
    assert taken == []

    measure_stats, measure_relevance = base._PROBES["data_stats"], base._PROBES["feature_relevance"]

    def stats_held_up_in_the_child(evidence):
        deadline = time.monotonic() + 60
        while os.getpid() != parent and not took_over.exists() and time.monotonic() < deadline:
            time.sleep(0.02)  # until this process has taken over the last probe
        return measure_stats(evidence)

    def relevance(evidence):
        if os.getpid() == parent:
            took_over.touch()
        return measure_relevance(evidence)

    monkeypatch.setitem(base._PROBES, "data_stats", stats_held_up_in_the_child)
    monkeypatch.setitem(base._PROBES, "feature_relevance", relevance)
    pids = {name: _pid_recorded(monkeypatch, tmp_path, name) for name in names}
    report = fitdoctor.diagnose(setup=setup, checks=checks, budget="quick")
    assert taken[0] == "feature_relevance" and "data_stats" not in taken
    for name in names:
        assert len(pids[name]()) == 1, name  # measured once, in one process
        assert (pids[name]() == [parent]) == (name in taken), name
    assert report.ids() == expected.ids()
    for name in names:
        assert _untimed(report.measurements[name]) == _untimed(expected.measurements[name]), name


def _untimed(measured):
    """Measurements without the seconds they took."""
    if isinstance(measured, dict):
        return {k: _untimed(v) for k, v in measured.items() if "seconds" not in k}
    if isinstance(measured, list):
        return [_untimed(v) for v in measured]
    return measured


class _ClockAfter:
    """A probe clock that expires after it has been read `reads` times."""

    def __init__(self, reads: int) -> None:
        self.reads = reads

    def expired(self) -> bool:
        self.reads -= 1
        return self.reads < 0

    def spent(self) -> str:
        return "time spent"


def _boosted(n_rows: int):
    from sklearn.datasets import make_classification
    from sklearn.ensemble import HistGradientBoostingClassifier

    x, y = make_classification(n_rows, 12, n_informative=6, n_classes=3, random_state=0)
    model = HistGradientBoostingClassifier(max_iter=40, learning_rate=0.2, max_leaf_nodes=15,
                                           random_state=0)
    return model, x, y


def test_boosted_trees_grown_between_clock_readings_are_the_trees_of_one_call():
    from sklearn.base import clone

    from fitdoctor.evidence.baselines import _fit

    model, x, y = _boosted(2000)
    whole = clone(model).fit(x, y)
    assert _fit(model, x, y, _ClockAfter(reads=10)) == ""
    assert model.n_iter_ == 40
    np.testing.assert_array_equal(model.predict_proba(x), whole.predict_proba(x))
    assert (model.max_iter, model.warm_start) == (40, False)  # a clone starts afresh


def test_boosted_trees_stop_once_the_clock_is_spent_and_say_after_how_many_rounds():
    from fitdoctor.evidence.baselines import BOOSTING_ROUNDS_PER_STEP, _fit

    model, x, y = _boosted(2000)
    stopped = _fit(model, x, y, _ClockAfter(reads=1))
    assert stopped == (f"stopped after {2 * BOOSTING_ROUNDS_PER_STEP} of 40 boosting rounds: "
                       "time spent")
    assert (model.max_iter, model.warm_start) == (40, False)
    # with early stopping (above 10,000 rows by default) one call, whatever the clock says
    model, x, y = _boosted(10_500)
    assert _fit(model, x, y, _ClockAfter(reads=0)) == ""
    assert model.n_iter_ > BOOSTING_ROUNDS_PER_STEP


def test_baselines_leave_out_boosted_trees_stopped_by_the_clock_and_say_so(monkeypatch):
    from fitdoctor.evidence import cost

    reads = iter([False])  # gradient boosting starts, grows one step, then time is up
    monkeypatch.setattr(cost.Clock, "expired", lambda self: next(reads, True))
    result = evidence_for(small_mlp(), breast_cancer(scaled=True)).get("baselines")
    assert [s.name for s in result.scores] == ["logistic_regression"]
    assert any(n.startswith("gradient_boosting left out: stopped after 10 of 40 boosting rounds")
               for n in result.notes)


def test_checks_waiting_for_a_probe_measured_elsewhere_run_last_and_keep_their_place():
    """`run_checks` runs first the checks whose probes are at hand, then those waiting for a
    probe another process still measures; the findings come in the checks' own order."""
    from fitdoctor.checks import Check
    from fitdoctor.diagnose import run_checks

    setup = fitdoctor.Setup.from_arrays(small_mlp(), *breast_cancer(scaled=True), {"epochs": 1})
    evidence = Evidence(setup, get_budget("quick"))
    release = evidence.hold("baselines")  # as while a forked child measures it
    ran = []

    class Waiting(Check):
        id, requires = "ordered", ("baselines",)  # one id: the ranking keeps their order

        def run(self, evidence):
            ran.append("waiting")
            return [self.finding("info", "listed first", {}, "nothing")]

    class Ready(Check):
        id, requires = "ordered", ("model_info",)

        def run(self, evidence):
            ran.append("ready")
            assert evidence.held("baselines") and not evidence.held("model_info")
            release()  # the other process is done
            return [self.finding("info", "listed second", {}, "nothing")]

    report = run_checks(evidence, [Waiting(), Ready()])
    assert ran == ["ready", "waiting"] and not evidence.held("baselines")
    assert [f.title for f in report.findings] == ["listed first", "listed second"]
