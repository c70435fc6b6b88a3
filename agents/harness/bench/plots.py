"""Suite plots as PNG (matplotlib, Agg backend): learning curves and generalisation curves, one panel per task.

Learning curve: rolling mean episode return against env steps (and against training wall time), mean over seeds
with a min-max band (each seed's curve is interpolated onto a common grid). Generalisation curve: success rate
at each fixed evaluation length.
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from agents.harness.bench.curves import has_curve, read_curve
from agents.harness.bench.report import generalisation
from agents.harness.bench.runs import Run
from agents.harness.configs import Suite


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _grid(n: int) -> tuple[Any, np.ndarray]:
    plt = _pyplot()
    cols = min(n, 3)
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(5 * cols, 3.6 * rows), squeeze=False)
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    return fig, axes.flat


def learning_curves(
    suite: Suite,
    results: list[dict[str, Any]],
    runs: list[Run],
    root: Path,
    path: Path,
    x: str = "step",
    y: str = "return",
) -> Path:
    """Plot rolling return (or the curriculum level, y="curriculum") vs env steps (or training seconds,
    x="time_s") for every (task, algorithm): mean over seeds with a min-max band, the seed count in the legend; a
    seed that stopped earlier than the others holds its last value. `runs` is the suite's grid (`expand`)."""
    fig, axes = _grid(len(suite.tasks))
    for ax, task in zip(axes, suite.tasks, strict=False):
        for algo in suite.algorithms:
            curves = []
            for run in runs:
                if run.task_id == task.id and run.algo_name == algo.name:
                    curve = read_curve(root / run.dirname, suite.eval.window, x, y)
                    if curve is not None:
                        curves.append(curve)
            if not curves:
                continue
            end = max(c[0][-1] for c in curves)
            xs = np.linspace(0, end, 200)
            ys = np.array([np.interp(xs, s, v, left=np.nan, right=v[-1]) for s, v in curves])
            with warnings.catch_warnings():  # steps before a seed's first episode are NaN for that seed
                warnings.simplefilter("ignore", RuntimeWarning)
                mean, low, high = np.nanmean(ys, 0), np.nanmin(ys, 0), np.nanmax(ys, 0)
            (line,) = ax.plot(xs, mean, label=f"{algo.name} ({len(curves)} seed{'s' if len(curves) > 1 else ''})")
            if len(curves) > 1:
                ax.fill_between(xs, low, high, color=line.get_color(), alpha=0.2)
        threshold = next(
            (r["train"]["threshold"] for r in results if r.get("task_id") == task.id and "train" in r), None
        )
        if threshold is not None and y == "return":
            ax.axhline(threshold, color="grey", linestyle="--", linewidth=1)
        ax.set_title(task.id, fontsize=10)
        ax.set_xlabel("env steps" if x == "step" else "training wall time (s)")
        ax.set_ylabel(f"return (rolling {suite.eval.window})" if y == "return" else "curriculum length")
        _legend(ax)
    return _save(fig, path)


def generalisation_curves(suite: Suite, results: list[dict[str, Any]], path: Path) -> Path:
    """Plot success rate against fixed evaluation length (log x) for every (task, algorithm)."""
    gen = generalisation(suite, results)
    fig, axes = _grid(len(suite.tasks))
    for ax, task in zip(axes, suite.tasks, strict=False):
        for algo in suite.algorithms:
            cell = gen.get((task.id, algo.name))
            if cell:
                ax.plot(list(cell), list(cell.values()), marker="o", label=algo.name)
        ax.set_xscale("log")
        ax.set_ylim(-0.05, 1.05)
        ax.set_title(task.id, fontsize=10)
        ax.set_xlabel("input length")
        ax.set_ylabel("success rate")
        _legend(ax)
    return _save(fig, path)


def _legend(ax: Any) -> None:
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7)


def _save(fig: Any, path: Path) -> Path:
    from agents.harness.atomic import atomic_write

    fig.tight_layout()
    atomic_write(path, lambda f: fig.savefig(f, format="png", dpi=100))
    _pyplot().close(fig)
    return path


def write_plots(
    suite: Suite, results: list[dict[str, Any]], runs: list[Run], root: Path, out_dir: Path
) -> dict[str, Path]:
    """Write curriculum.png (curriculum length vs env steps), learning_curves.png (return vs env steps),
    learning_curves_time.png (vs seconds), generalisation.png.

    The training curves come from the runs' episodes.csv, or from the curve summary their result.json keeps
    (`agents.harness.bench.curves`); results without either (written before result.json kept curves) leave those
    plots as they are and write the generalisation plot alone. `runs` is the suite's grid (`expand`), computed
    once by the caller.
    """
    files = {}
    if any(has_curve(root / run.dirname) for run in runs):
        files["curriculum"] = learning_curves(suite, results, runs, root, out_dir / "curriculum.png", y="curriculum")
        files["learning_curves"] = learning_curves(suite, results, runs, root, out_dir / "learning_curves.png")
        files["learning_curves_time"] = learning_curves(
            suite, results, runs, root, out_dir / "learning_curves_time.png", x="time_s"
        )
    files["generalisation"] = generalisation_curves(suite, results, out_dir / "generalisation.png")
    return files
