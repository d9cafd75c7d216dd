"""Plots for the HTML report, drawn with matplotlib and returned as inline SVG.

Each plot reads one entry of `Report.measurements` defensively: a probe that did not run, or
a key that is missing or shaped differently, yields no plot rather than an error. The shapes
read here (all JSON, non-finite floats stored as the strings `"nan"`/`"inf"`):

- `probe_run.history`: `{"loss": [...], "val_loss": [...], "accuracy": [...], ...}` per epoch.
- `lr_range`: `{"lrs": [...], "losses": [...], "suggested_lr": float, "current_lr": float}`.
- `probe_run.monitor` (`fitdoctor.monitor.MonitorRecord.to_measurements`): `batch_losses`
  (`{"stride": k, "values": [...]}`) and `samples`, one per sampled batch, each with `step`,
  `layer_grad_norms` (`{layer: norm}`), `dead_fraction` and `saturated_fraction` (`{layer: f}`).
- `data_stats`: `class_counts_train` and `class_counts_val` (`{class: n}`), and `features`
  (`{name: {"min", "max", "mean", "std"}}`, tabular data only).
- `learning_curve`: `{"sizes": [...], "train_scores": [...], "val_scores": [...], "metric": str}`.
- `baselines`: `{"metric": str, "scores": [{"name": str, "val_score": float}, ...]}`; the model's
  own best validation score on that metric is read from `probe_run.history`.

Why matplotlib to SVG: it is already the plotting library ML engineers have installed, it needs no
JavaScript and no network, the SVG is vector (sharp when zoomed, small for line plots) and its
text stays text, XML-escaped by matplotlib, so a hostile class name renders as characters. Figures
are built as `matplotlib.figure.Figure` objects on an Agg canvas, never through `pyplot`, and all
styling goes through `matplotlib.rc_context`, so nothing leaks into the user's matplotlib state.
"""

from __future__ import annotations

import dataclasses
import io
import math
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any

import matplotlib
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from fitdoctor.report.summary import network_score

COLORS = {
    "train": "#1f77b4",
    "val": "#d62728",
    "accent": "#2ca02c",
    "muted": "#7f7f7f",
    "extra": ["#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#ff7f0e"],
}

_RC = {
    "svg.fonttype": "none",  # keep text as <text>: small, selectable, escaped by matplotlib
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "legend.fontsize": 8,
    "legend.frameon": False,
}

MAX_CLASSES = 30
MAX_LAYERS = 12
MAX_FEATURES = 15


@dataclasses.dataclass(frozen=True)
class Plot:
    """One rendered plot.

    Args:
        key: Stable name, e.g. `"history"`; used as the HTML anchor `plot-<key>`.
        title: Heading shown above the plot.
        caption: One sentence on what to look for.
        svg: The `<svg>` element, ready to inline into HTML.
    """

    key: str
    title: str
    caption: str
    svg: str


def literal(text: Any) -> str:
    """User text for a plot label: `$` escaped so matplotlib shows it instead of parsing mathtext.

    (Turning mathtext off globally would break the `10^k` tick labels of log axes.)
    """
    return str(text).replace("$", r"\$")


def as_float(value: Any) -> float:
    """Read a JSON number back as a float: `"nan"`/`"inf"` strings and junk become floats or NaN."""
    if isinstance(value, bool):
        return float(value)
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def floats(values: Any) -> list[float]:
    """A list of floats from a JSON list (anything else gives an empty list)."""
    if not isinstance(values, Sequence) or isinstance(values, (str, bytes)):
        return []
    return [as_float(v) for v in values]


def first_key(mapping: Any, *names: str) -> Any:
    """The value of the first of `names` present in `mapping` (None if none or not a mapping)."""
    if not isinstance(mapping, Mapping):
        return None
    for name in names:
        if name in mapping and mapping[name] is not None:
            return mapping[name]
    return None


_SVG_START = re.compile(r"<svg\b")
_METADATA = re.compile(r"<metadata>.*?</metadata>\s*", re.S)


def figure_to_svg(fig: Figure, salt: str) -> str:
    """Render `fig` to an inline `<svg>` element.

    The XML prolog, DOCTYPE and RDF metadata are dropped (an inline SVG needs none of them, and
    the DOCTYPE names a URL), and every element id (and each reference to it) is prefixed with
    `fd-<salt>-`, so several plots can live in one HTML page without clashing ids.

    Args:
        fig: The figure.
        salt: A string unique to this plot within the page.
    """
    buffer = io.StringIO()
    with matplotlib.rc_context({**_RC, "svg.hashsalt": f"fitdoctor-{salt}"}):
        fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    text = buffer.getvalue()
    match = _SVG_START.search(text)
    text = text[match.start():] if match else text
    text = _METADATA.sub("", text)
    text = re.sub(r'\s(width|height)="[\d.]+pt"', "", text, count=2).strip()
    prefix = f"fd-{re.sub(r'[^A-Za-z0-9_-]', '_', salt)}-"
    text = re.sub(r'\bid="([^"]+)"', lambda m: f'id="{prefix}{m.group(1)}"', text)
    text = re.sub(r'href="#([^"]+)"', lambda m: f'href="#{prefix}{m.group(1)}"', text)
    return re.sub(r"url\(#([^)]+)\)", lambda m: f"url(#{prefix}{m.group(1)})", text)


def _figure(n_axes: int = 1, *, width: float = 6.4, height: float = 3.0) -> Figure:
    with matplotlib.rc_context(_RC):
        fig = Figure(figsize=(width, height), layout="constrained")
        FigureCanvasAgg(fig)
        fig.subplots(1, n_axes, squeeze=False)
    return fig


def _finite(values: Sequence[float]) -> list[float]:
    return [v for v in values if math.isfinite(v)]


def _use_log(values: Sequence[float], ratio: float = 100) -> bool:
    """Whether the values are positive and span more than `ratio` (then a log axis reads better)."""
    finite = _finite(values)
    return bool(finite) and min(finite) > 0 and max(finite) / min(finite) > ratio


def _label(key: str) -> str:
    return key.replace("val_", "validation ").replace("_", " ")


def history_plot(measurements: Mapping[str, Any], setup: Mapping[str, Any]) -> Figure | None:
    """Train and validation loss (left) and metrics (right) per epoch; NaN epochs marked."""
    history = first_key(first_key(measurements, "probe_run"), "history")
    if not isinstance(history, Mapping):
        return None
    series = {str(k): floats(v) for k, v in history.items() if floats(v)}
    series = {k: v for k, v in series.items() if k not in ("lr", "learning_rate")}
    losses = {k: v for k, v in series.items() if "loss" in k}
    metrics = {k: v for k, v in series.items() if "loss" not in k}
    if not losses:
        return None
    with matplotlib.rc_context(_RC):
        fig = _figure(2 if metrics else 1)
        axes = fig.axes
        for ax, group, ylabel in ((axes[0], losses, "loss"),
                                  (axes[1] if metrics else None, metrics, "metric")):
            if ax is None:
                continue
            extra = iter(COLORS["extra"])
            for key, values in list(group.items())[:8]:
                epochs = list(range(1, len(values) + 1))
                is_val = key.startswith("val_")
                color = COLORS["val"] if is_val else COLORS["train"]
                if ylabel == "metric" and key.removeprefix("val_") != _main_metric(group):
                    color = next(extra, COLORS["muted"])
                ax.plot(epochs, values, marker="o", markersize=3, color=color,
                        linestyle="--" if is_val else "-", label=literal(_label(key)))
                bad = [e for e, v in zip(epochs, values, strict=True) if not math.isfinite(v)]
                if bad:
                    ax.axvline(bad[0], color=COLORS["val"], alpha=0.5, linestyle=":")
                    ax.annotate(f"{literal(_label(key))} not finite from epoch {bad[0]}",
                                xy=(bad[0], 0.95), xycoords=("data", "axes fraction"),
                                fontsize=8, color=COLORS["val"], ha="right")
            if ylabel == "loss" and _use_log([v for vs in group.values() for v in vs]):
                ax.set_yscale("log")
            ax.set_xlabel("epoch")
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.set_ylabel(ylabel)
            ax.legend(loc="best")
        axes[0].set_title("loss per epoch")
        if metrics:
            axes[1].set_title("metrics per epoch")
    return fig


def _main_metric(group: Mapping[str, Any]) -> str:
    names = [k.removeprefix("val_") for k in group]
    return names[0] if names else ""


def lr_range_plot(measurements: Mapping[str, Any], setup: Mapping[str, Any]) -> Figure | None:
    """Loss against learning rate from the range test, suggested and current rates marked."""
    data = first_key(measurements, "lr_range")
    lrs = floats(first_key(data, "lrs", "lr", "learning_rates"))
    losses = floats(first_key(data, "losses", "loss", "smoothed_losses"))
    n = min(len(lrs), len(losses))
    pairs = zip(lrs[:n], losses[:n], strict=True)
    points = [(a, b) for a, b in pairs if a > 0 and math.isfinite(b)]
    if len(points) < 2:
        return None
    suggested = as_float(first_key(data, "suggested_lr", "suggestion", "best_lr"))
    current = as_float(first_key(data, "current_lr"))
    if not math.isfinite(current):
        current = as_float(first_key(first_key(measurements, "model_info"), "learning_rate"))
    with matplotlib.rc_context(_RC):
        fig = _figure()
        ax = fig.axes[0]
        ax.plot([p[0] for p in points], [p[1] for p in points], color=COLORS["train"],
                label="loss")
        ax.set_xscale("log")
        low = min(p[1] for p in points)
        start = points[0][1]
        high = max(p[1] for p in points)
        ax.set_ylim(low - 0.05 * abs(low), min(high, max(4 * start, low + 1e-9)) * 1.05)
        if math.isfinite(suggested) and suggested > 0:
            ax.axvline(suggested, color=COLORS["accent"], linestyle="--",
                       label=f"suggested lr {suggested:.2g}")
        if math.isfinite(current) and current > 0:
            ax.axvline(current, color=COLORS["val"], linestyle=":",
                       label=f"your lr {current:.2g}")
        ax.set_xlabel("learning rate (log scale)")
        ax.set_ylabel("training loss")
        ax.set_title("learning-rate range test")
        ax.legend(loc="best")
    return fig


def _samples(measurements: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    monitor = first_key(first_key(measurements, "probe_run"), "monitor")
    samples = first_key(monitor, "samples")
    if not isinstance(samples, Sequence) or isinstance(samples, str):
        return []
    return [s for s in samples if isinstance(s, Mapping)]


def _layer_series(samples: Sequence[Mapping[str, Any]], field: str) -> dict[str, list[float]]:
    """Per layer, the values of `samples[i][field][layer]` in sample order (NaN where absent)."""
    layers = list(dict.fromkeys(str(k) for s in samples
                                for k in (s.get(field) if isinstance(s.get(field), Mapping)
                                          else {})))
    series = {}
    for layer in layers:
        series[layer] = [as_float((s.get(field) or {}).get(layer)) for s in samples]
    return series


def batch_loss_plot(measurements: Mapping[str, Any], setup: Mapping[str, Any]) -> Figure | None:
    """Training loss of every (thinned) batch from the Monitor: spikes and divergence show here."""
    monitor = first_key(first_key(measurements, "probe_run"), "monitor")
    batches = first_key(monitor, "batch_losses")
    values = floats(first_key(batches, "values"))
    stride = max(1, int(as_float(first_key(batches, "stride") or 1)))
    if len(_finite(values)) < 2:
        return None
    steps = [i * stride for i in range(len(values))]
    with matplotlib.rc_context(_RC):
        fig = _figure(height=2.6)
        ax = fig.axes[0]
        ax.plot(steps, values, color=COLORS["train"], linewidth=0.9)
        bad = [st for st, v in zip(steps, values, strict=True) if not math.isfinite(v)]
        if bad:
            ax.axvline(bad[0], color=COLORS["val"], linestyle=":",
                       label=f"loss not finite from step {bad[0]}")
            ax.legend(loc="best")
        if _use_log(values):
            ax.set_yscale("log")
        ax.set_xlabel("optimizer step")
        ax.set_ylabel("batch loss")
        ax.set_title("training loss per batch")
    return fig


def gradients_plot(measurements: Mapping[str, Any], setup: Mapping[str, Any]) -> Figure | None:
    """Per-layer gradient norms at the Monitor's sampled steps (log scale)."""
    samples = _samples(measurements)
    norms = {k: v for k, v in _layer_series(samples, "layer_grad_norms").items() if _finite(v)}
    if not norms:
        return None
    steps = [as_float(s.get("step")) for s in samples]
    with matplotlib.rc_context(_RC):
        fig = _figure()
        ax = fig.axes[0]
        colors = [COLORS["train"], COLORS["val"], COLORS["accent"], *COLORS["extra"]]
        for i, (layer, values) in enumerate(list(norms.items())[:MAX_LAYERS]):
            ax.plot(steps, values, color=colors[i % len(colors)], label=literal(layer),
                    linewidth=1.2, marker="o", markersize=2)
        if _use_log([v for vs in norms.values() for v in vs], ratio=10):
            ax.set_yscale("log")
        ax.set_xlabel("optimizer step")
        ax.set_ylabel("gradient norm")
        ax.set_title("gradient norm per layer")
        ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5))
    return fig


def _final(series: Mapping[str, Sequence[float]]) -> dict[str, float]:
    out = {}
    for layer, values in series.items():
        finite = _finite(values)
        if finite:
            out[layer] = finite[-1]
    return out


def units_plot(measurements: Mapping[str, Any], setup: Mapping[str, Any]) -> Figure | None:
    """Share of dead and saturated units per layer at the last sampled step, as grouped bars."""
    samples = _samples(measurements)
    dead = _final(_layer_series(samples, "dead_fraction"))
    saturated = _final(_layer_series(samples, "saturated_fraction"))
    layers = list(dict.fromkeys([*dead, *saturated]))[:MAX_LAYERS]
    if not layers:
        return None
    with matplotlib.rc_context(_RC):
        fig = _figure(height=max(2.0, 0.35 * len(layers) + 1.0))
        ax = fig.axes[0]
        ys = list(range(len(layers)))
        ax.barh([y - 0.2 for y in ys], [dead.get(k, 0.0) for k in layers], height=0.4,
                color=COLORS["val"], label="dead (ReLU)")
        ax.barh([y + 0.2 for y in ys], [saturated.get(k, 0.0) for k in layers],
                height=0.4, color=COLORS["extra"][5], label="saturated (sigmoid/tanh)")
        ax.set_yticks(ys, [literal(k) for k in layers])
        ax.invert_yaxis()
        for y, k in zip(ys, layers, strict=True):
            for offset, values in ((-0.2, dead), (0.2, saturated)):
                if k in values:
                    ax.annotate(f"{values[k]:.0%}", xy=(values[k], y + offset), xytext=(3, 0),
                                textcoords="offset points", va="center", fontsize=7)
        ax.set_xlim(0, 1.05)
        ax.set_xlabel("share of the layer's units, end of training")
        ax.set_title("dead and saturated units per layer")
        ax.legend(loc="lower right")
    return fig


def _counts(value: Any) -> dict[str, float]:
    if isinstance(value, Mapping):
        return {str(k): as_float(v) for k, v in value.items()}
    return {}


def class_balance_plot(measurements: Mapping[str, Any], setup: Mapping[str, Any]) -> Figure | None:
    """Share of each class in training and validation data, side by side."""
    stats = first_key(measurements, "data_stats")
    train = _counts(first_key(stats, "class_counts_train"))
    val = _counts(first_key(stats, "class_counts_val"))
    train = {k: v for k, v in train.items() if math.isfinite(v)}
    if len(train) < 1:
        return None
    classes = list(dict.fromkeys([*train, *val]))
    if len(classes) > MAX_CLASSES:  # the most frequent ones
        classes = sorted(classes, key=lambda c: -train.get(c, 0.0))[:MAX_CLASSES]
    numeric = all(math.isfinite(as_float(c)) for c in classes)
    classes.sort(key=lambda c: (as_float(c), c) if numeric else (0.0, c))

    def shares(c: Mapping[str, float]) -> list[float]:
        total = sum(v for v in c.values() if math.isfinite(v)) or 1.0
        return [c.get(k, 0.0) / total for k in classes]

    with matplotlib.rc_context(_RC):
        fig = _figure(width=max(6.4, 0.3 * len(classes) + 2))
        ax = fig.axes[0]
        xs = list(range(len(classes)))
        width = 0.4 if val else 0.8
        ax.bar([x - (0.2 if val else 0) for x in xs], shares(train), width=width,
               color=COLORS["train"], label="train")
        if val:
            ax.bar([x + 0.2 for x in xs], shares(val), width=width, color=COLORS["val"],
                   label="validation")
        crowded = len(classes) > 8
        ax.set_xticks(xs, [literal(c) for c in classes], rotation=45 if crowded else 0,
                      ha="right" if crowded else "center")
        ax.set_ylabel("share of rows")
        ax.set_title("class distribution")
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return fig


def feature_ranges_plot(measurements: Mapping[str, Any],
                        setup: Mapping[str, Any]) -> Figure | None:
    """Min-to-max range and mean of the widest input features, on one axis."""
    features = first_key(first_key(measurements, "data_stats"), "features")
    if not isinstance(features, Mapping):
        return None
    rows = []
    for name, stats in features.items():
        low, high = as_float(first_key(stats, "min")), as_float(first_key(stats, "max"))
        if math.isfinite(low) and math.isfinite(high):
            rows.append((str(name), low, high, as_float(first_key(stats, "mean"))))
    if not rows:
        return None
    rows = sorted(rows, key=lambda r: -max(abs(r[1]), abs(r[2])))[:MAX_FEATURES]
    with matplotlib.rc_context(_RC):
        fig = _figure(height=max(2.0, 0.28 * len(rows) + 1.0))
        ax = fig.axes[0]
        ys = list(range(len(rows)))
        ax.hlines(ys, [r[1] for r in rows], [r[2] for r in rows], color=COLORS["train"],
                  linewidth=5, label="min to max")
        ax.plot([r[3] for r in rows], ys, "o", color=COLORS["val"], markersize=4, label="mean")
        ax.set_yticks(ys, [literal(r[0]) for r in rows])
        ax.invert_yaxis()
        if max(max(abs(r[1]), abs(r[2])) for r in rows) > 100:
            ax.set_xscale("symlog")
        ax.set_xlabel("value in the training data")
        ax.set_title(f"input ranges, the {len(rows)} widest features")
        ax.legend(loc="best")
    return fig


def learning_curve_plot(measurements: Mapping[str, Any], setup: Mapping[str, Any]) -> Figure | None:
    """Train and validation score against training-set size."""
    data = first_key(measurements, "learning_curve")
    sizes = floats(first_key(data, "sizes", "train_sizes", "n_train"))
    train = floats(first_key(data, "train_scores", "train", "train_score"))
    val = floats(first_key(data, "val_scores", "val", "validation_scores", "val_score"))
    if len(sizes) < 2 or len(val) != len(sizes):
        return None
    metric = str(first_key(data, "metric", "score") or "score")
    with matplotlib.rc_context(_RC):
        fig = _figure()
        ax = fig.axes[0]
        if len(train) == len(sizes):
            ax.plot(sizes, train, marker="o", color=COLORS["train"], label="train")
        ax.plot(sizes, val, marker="o", linestyle="--", color=COLORS["val"], label="validation")
        ax.set_xlabel("training rows")
        ax.set_ylabel(literal(metric))
        ax.set_title("learning curve")
        ax.legend(loc="best")
    return fig


def baselines_plot(measurements: Mapping[str, Any], setup: Mapping[str, Any]) -> Figure | None:
    """The model's best validation score beside simple scikit-learn models' scores."""
    data = first_key(measurements, "baselines")
    metric = str(first_key(data, "metric") or "score")
    bars = {}
    for entry in first_key(data, "scores") or []:
        name, score = first_key(entry, "name"), as_float(first_key(entry, "val_score"))
        if name is not None and math.isfinite(score):
            bars[str(name)] = score
    if not bars:
        return None
    history = first_key(first_key(measurements, "probe_run"), "history")
    model = network_score(history, metric)
    if math.isfinite(model):
        bars = {"your model": model, **bars}
    better = "higher" if metric == "accuracy" else "lower"
    with matplotlib.rc_context(_RC):
        fig = _figure(height=max(2.0, 0.4 * len(bars) + 1.0))
        ax = fig.axes[0]
        names = list(bars)
        colors = [COLORS["val"] if n == "your model" else COLORS["muted"] for n in names]
        ax.barh([literal(n) for n in names], [bars[n] for n in names], color=colors)
        for y, n in enumerate(names):
            ax.annotate(f"{bars[n]:.3g}", xy=(bars[n], y), xytext=(3, 0),
                        textcoords="offset points", va="center", fontsize=8)
        ax.invert_yaxis()
        ax.set_xlabel(literal(f"validation {metric} ({better} is better)"))
        ax.set_title("your model against baselines")
    return fig


PlotFn = Callable[[Mapping[str, Any], Mapping[str, Any]], "Figure | None"]

#: key -> (title, caption, function). The order is the order of the "measurements" section.
REPORT_PLOTS: dict[str, tuple[str, str, PlotFn]] = {
    "history": ("Training history",
                "Loss and metrics per epoch from the probe run; train solid, validation dashed.",
                history_plot),
    "lr_range": ("Learning-rate range test",
                 "Loss while the learning rate grows; train a little below where it turns up.",
                 lr_range_plot),
    "batch_loss": ("Loss per batch",
                   "Training loss of each batch (thinned); spikes, oscillation or divergence "
                   "show here before they show per epoch.",
                   batch_loss_plot),
    "gradients": ("Gradient norms",
                  "Per-layer gradient norms during the probe run; vanishing or exploding shows "
                  "as lines falling toward zero or climbing steeply.",
                  gradients_plot),
    "units": ("Dead and saturated units",
              "Share of each layer's units that never activate (dead) or sit at their limits "
              "(saturated).",
              units_plot),
    "class_balance": ("Class distribution",
                      "Share of each class in the training and validation data.",
                      class_balance_plot),
    "feature_ranges": ("Input ranges",
                       "Range of the widest input features; networks train best on inputs of "
                       "similar, small scale (about -1 to 1).",
                       feature_ranges_plot),
    "learning_curve": ("Learning curve",
                       "Score against training-set size; a gap that closes with more rows means "
                       "more data helps.",
                       learning_curve_plot),
    "baselines": ("Baselines",
                  "Your model's validation score beside simple models on the same data.",
                  baselines_plot),
}


def report_plots(measurements: Mapping[str, Any],
                 setup: Mapping[str, Any] | None = None) -> dict[str, Plot]:
    """Render every plot the measurements support.

    Args:
        measurements: `Report.measurements`.
        setup: `Report.setup`. Defaults to None (empty).

    Returns:
        Plots by key, in `REPORT_PLOTS` order; a plot whose data is missing is absent.
    """
    out = {}
    for key, (title, caption, fn) in REPORT_PLOTS.items():
        fig = fn(measurements or {}, setup or {})
        if fig is not None:
            out[key] = Plot(key, title, caption, figure_to_svg(fig, key))
    return out


def line_plot(series: Mapping[str, Sequence[Any]], *, title: str, xlabel: str, ylabel: str,
              key: str, x: Sequence[Any] | None = None, log_y: bool = False,
              integer_x: bool = False) -> str | None:
    """A small line plot of named series as inline SVG (None when no series has data).

    Args:
        series: Label -> y values.
        title: Axes title. `xlabel`, `ylabel`: axis labels.
        key: Unique id salt within the page.
        x: Shared x values. Defaults to None (1, 2, ...).
        log_y: Log-scale the y axis. Defaults to False.
        integer_x: Only integer ticks on the x axis (epochs, trial numbers). Defaults to False.
    """
    data = {str(k): floats(v) for k, v in series.items() if _finite(floats(v))}
    if not data:
        return None
    with matplotlib.rc_context(_RC):
        fig = _figure()
        ax = fig.axes[0]
        colors = [COLORS["train"], COLORS["val"], COLORS["accent"], *COLORS["extra"]]
        for i, (label, ys) in enumerate(data.items()):
            xs = floats(x) if x is not None and len(x) == len(ys) else range(1, len(ys) + 1)
            ax.plot(list(xs), ys, marker="o", markersize=3, label=literal(label),
                    color=colors[i % len(colors)])
        if log_y and _use_log([v for ys in data.values() for v in ys]):
            ax.set_yscale("log")
        if integer_x:
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_title(literal(title))
        ax.set_xlabel(literal(xlabel))
        ax.set_ylabel(literal(ylabel))
        ax.legend(loc="best")
    return figure_to_svg(fig, key)


def bar_plot(values: Mapping[str, Any], *, title: str, xlabel: str, key: str,
             highlight: Collection[str] = (), reference: float | None = None,
             reference_label: str = "") -> str | None:
    """Horizontal bars of named values as inline SVG (None when nothing is finite).

    Args:
        values: Label -> value.
        title: Axes title. `xlabel`: value axis label.
        key: Unique id salt within the page.
        highlight: Labels drawn in the accent color. Defaults to ().
        reference: Draw a vertical line here (e.g. the score before). Defaults to None.
        reference_label: Legend text for the reference line. Defaults to "".
    """
    bars = {str(k): as_float(v) for k, v in values.items()}
    bars = {k: v for k, v in bars.items() if math.isfinite(v)}
    if not bars:
        return None
    names = list(bars)[:MAX_CLASSES]
    with matplotlib.rc_context(_RC):
        fig = _figure(height=max(1.8, 0.35 * len(names) + 1.0))
        ax = fig.axes[0]
        colors = [COLORS["accent"] if n in highlight else COLORS["train"] for n in names]
        ax.barh([literal(n) for n in names], [bars[n] for n in names], color=colors)
        for y, n in enumerate(names):
            ax.annotate(f"{bars[n]:.3g}", xy=(bars[n], y), xytext=(3, 0),
                        textcoords="offset points", va="center", fontsize=8)
        if reference is not None and math.isfinite(as_float(reference)):
            ax.axvline(as_float(reference), color=COLORS["val"], linestyle="--",
                       label=literal(reference_label) or None)
            if reference_label:
                ax.legend(loc="lower right")
        ax.invert_yaxis()
        ax.set_xlabel(literal(xlabel))
        ax.set_title(literal(title))
    return figure_to_svg(fig, key)
