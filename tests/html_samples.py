"""Reports, fix and tune results with every plot's measurements, for the renderers' tests.

The shapes follow the probes' `to_measurements()` (probe_run with Monitor samples, data_stats,
learning_curve, baselines) and the `lr_range` shape the plots module documents. User-facing
names (a class, a layer, a metric, the setup file, a remedy, a parameter) are hostile on purpose.
"""

from __future__ import annotations

import math

from fitdoctor.findings import Finding, Fix, Report, Role
from fitdoctor.fix.evaluate import Scores
from fitdoctor.fix.records import Candidate, CandidateStatus, Change, FixResult, NoiseRule, Stage
from fitdoctor.tune.run import TrialStatus, TuneResult, TuneTrial

HOSTILE = "<img src=x onerror=alert(1)>"
SCRIPT_IN_CODE = "model.fit(x, y)  # </code></pre><script>alert(2)</script>"


def _lr_range() -> dict:
    lrs = [1e-6 * 10 ** (i / 20) for i in range(120)]
    losses = [2.3 - 1.8 / (1 + math.exp(-(math.log10(lr) + 3.5) * 3))
              + (lr / 0.05) ** 2 for lr in lrs]
    return {"lrs": lrs, "losses": losses, "suggested_lr": 3e-3}


def _monitor() -> dict:
    samples = []
    for i in range(8):
        samples.append({
            "epoch": i // 2, "batch": 0, "step": i * 20, "loss": 2.0 / (i + 1),
            "grad_norm": 1.0,
            "layer_grad_norms": {"dense": 1.0 / 2 ** i, HOSTILE: 2.0 * 1.5 ** i},
            "dead_fraction": {"dense": min(0.1 * i, 0.7)},
            "saturated_fraction": {HOSTILE: 0.4},
        })
    return {"history": {}, "batch_losses": {"stride": 2,
                                            "values": [2.3 / (1 + 0.05 * i) for i in range(80)]},
            "samples": samples}


def measurements() -> dict:
    """Measurements in the shapes every plot reads."""
    history = {"loss": [2.3, 1.5, 1.0, 0.8, 0.7, "nan"],
               "val_loss": [2.2, 1.6, 1.2, 1.1, 1.3, "nan"],
               "accuracy": [0.2, 0.5, 0.7, 0.8, 0.85, 0.1],
               "val_accuracy": [0.2, 0.45, 0.6, 0.65, 0.62, 0.1]}
    return {
        "probe_run": {"history": history, "monitor": _monitor(), "epochs": 6},
        "lr_range": _lr_range(),
        "model_info": {"learning_rate": 0.5},
        "data_stats": {"class_counts_train": {"cat": 500, HOSTILE: 20, "$x$ dog": 100},
                       "class_counts_val": {"cat": 100, HOSTILE: 5, "$x$ dog": 30},
                       "features": {"age": {"min": 18, "max": 90, "mean": 40, "std": 12},
                                    HOSTILE: {"min": 0, "max": 1e4, "mean": 300, "std": 900},
                                    "ratio": {"min": -1, "max": 1, "mean": 0, "std": 0.5}}},
        "learning_curve": {"metric": "accuracy", "sizes": [100, 200, 400, 800],
                           "train_scores": [1.0, 0.99, 0.98, 0.97],
                           "val_scores": [0.6, 0.7, 0.78, 0.82]},
        "baselines": {"metric": "accuracy", "best": "svm_rbf", "scores": [
            {"name": "logistic_regression", "val_score": 0.95},
            {"name": "svm_rbf", "val_score": 0.97}]},
    }


def findings() -> list[Finding]:
    """A cause, the symptom it explains, data/model warnings and an info note."""
    return [
        Finding("lr_too_high", "critical", f"learning rate 0.5 is far too high for {HOSTILE}",
                {"learning_rate": 0.5, "suggested_lr": 3e-3, HOSTILE: HOSTILE},
                Fix(f"Lower the learning rate {HOSTILE}",
                    "model.compile(optimizer=keras.optimizers.SGD(3e-3))\n" + SCRIPT_IN_CODE),
                explains=("nan_loss",)),
        Finding("nan_loss", "critical", "loss became NaN at epoch 6", {"epoch": 6},
                Fix("Fix the learning rate first."), role=Role.SYMPTOM),
        Finding("class_imbalance", "warning", f"class {HOSTILE} is 3 % of the rows",
                {"minority_share": 0.03}, Fix("Weight the classes.",
                                               "model.fit(x, y, class_weight=weights)"),
                category="data"),
        Finding("dead_relu", "warning", "70 % of dense's units are dead", {"dead_fraction": 0.7},
                Fix("Use LeakyReLU.", "keras.layers.LeakyReLU(negative_slope=0.1)"),
                category="model"),
        Finding("beaten_by_baseline", "info", "svm_rbf beats the network", {"gap": 0.3},
                Fix("Look at inputs and architecture.")),
    ]


def report() -> Report:
    """A report with every kind of measurement and hostile user text."""
    return Report(findings=tuple(findings()),
                  setup={"source": f"/tmp/{HOSTILE}.py", "task": "multiclass",
                         "n_train": 620, "n_val": 135, "validation": "held_out"},
                  measurements=measurements(), version="0.1.0", timings={"total": 1.5})


def fix_result() -> FixResult:
    """A `fix` result: one remedy accepted, one rejected, one failed, with hostile names."""
    rule = NoiseRule(min_gain=0.01, noise_factor=2.0, n_seeds=1)
    before = Scores((0.1,), (0.1,), (math.inf,), (1.0,))

    def scored(remedy, strength, finding, status, reason, score, *, chosen=True):
        return Candidate.scored(
            remedy=remedy, finding=finding, strength=strength,
            label=remedy if strength is None else f"{remedy}({strength})", stage=Stage.ALONE,
            status=status, reason=reason, scores=Scores((score,), (score,), (0.3,), (1.0,)),
            reference=before, rule=rule, chosen=chosen)

    trials = (
        scored("lower_lr", 0.01, "lr_too_high", CandidateStatus.ACCEPTED,
               "beats run-to-run noise", 0.93),
        scored("lower_lr", 0.1, "lr_too_high", CandidateStatus.REJECTED, "weaker than lower_lr",
               0.5, chosen=False),
        scored(HOSTILE, 2, "dead_relu", CandidateStatus.REJECTED, f"gain below noise {HOSTILE}",
               0.11),
        Candidate(remedy="swap_activation", finding="dead_relu", strength=None,
                  label="swap_activation", stage=Stage.ALONE, status=CandidateStatus.FAILED,
                  reason="ValueError: no such layer"),
    )
    return FixResult(
        before=before.summary(),
        after={"val_accuracy": 0.93, "val_loss": 0.25, "score": 0.93},
        applied=("lower_lr(0.01)",), trials=trials, advice=(),
        changes=(Change("lower_lr", "lr_too_high", 0.01, "Lower the lr.", SCRIPT_IN_CODE),),
        threshold=0.02, seeds=(0,), report=report(), timings={"total": 3.0},
    )


def tune_result() -> TuneResult:
    """A `tune` result with a pruned trial and hostile parameter names."""
    trials = tuple(TuneTrial(number=i, state=TrialStatus.PRUNED if i == 3 else
                             TrialStatus.COMPLETE,
                             params={"learning_rate": 10 ** -(i % 4), HOSTILE: i},
                             value=None if i == 3 else 0.5 + 0.05 * i, epochs=5, seconds=1.0,
                             worker="host:1", baseline=i == 0)
                   for i in range(6))
    return TuneResult(
        study="demo", storage={"kind": "journal"}, strategy="bayes", metric="accuracy",
        direction="maximize", best_params={"learning_rate": 0.1, HOSTILE: 5}, best_value=0.75,
        best_trial=5, baseline_value=0.5, trials=trials,
        importances={"learning_rate": 0.8, HOSTILE: 0.2},
        space=({"name": "learning_rate"}, {"name": HOSTILE}), new_trials=6, workers=1,
        seconds=6.0)
