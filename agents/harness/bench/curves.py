"""Training curves of a benchmark run: read from its episodes.csv, or from the summary kept in its result.json.

A run's episodes.csv holds every training episode (tens of thousands of rows), too much to commit for a grid of
a thousand runs. `summarise` keeps `CURVE_POINTS` evenly spaced points of each curve (env step, training seconds,
rolling mean return over the suite's `eval.window` episodes, curriculum level) in result.json, so the plots of a
leaderboard can be rebuilt from its committed result files alone.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import numpy as np

CURVE_WINDOW = 100
"""Episodes in the rolling mean return, unless the suite sets its own `eval.window`."""
CURVE_POINTS = 100
"""Points kept per curve in result.json."""
X_AXES = ("step", "time_s")
Y_AXES = ("return", "curriculum")


def rolling_mean(values: np.ndarray, window: int) -> np.ndarray:
    """Mean of the last `window` values at each index (fewer at the start)."""
    kernel = np.ones(min(window, len(values)))
    sums = np.convolve(values, kernel, mode="full")[: len(values)]
    return sums / np.minimum(np.arange(1, len(values) + 1), len(kernel))


def read_episodes(run_dir: Path, window: int) -> dict[str, np.ndarray] | None:
    """Every episode of episodes.csv as arrays: step, time_s, the rolling mean return, curriculum (NaN when the
    env has none); None without episodes."""
    path = run_dir / "episodes.csv"
    if not path.is_file():
        return None
    with path.open() as f:
        rows = list(csv.DictReader(f))
    if not rows:
        return None
    return {
        "step": np.array([float(r["step"]) for r in rows]),
        "time_s": np.array([float(r["time_s"]) for r in rows]),
        "return": rolling_mean(np.array([float(r["return"]) for r in rows]), window),
        "curriculum": np.array([float(r["curriculum"]) if r.get("curriculum") else np.nan for r in rows]),
    }


def summarise(run_dir: Path, window: int = CURVE_WINDOW, points: int = CURVE_POINTS) -> dict[str, Any] | None:
    """The run's curves at `points` evenly spaced episodes (the last one included), for result.json."""
    episodes = read_episodes(run_dir, window)
    if episodes is None:
        return None
    picked = np.unique(np.linspace(0, len(episodes["step"]) - 1, min(points, len(episodes["step"]))).round())
    idx = picked.astype(int)
    out: dict[str, Any] = {"window": window, "episodes": len(episodes["step"])}
    for key, values in episodes.items():
        out[key] = [None if np.isnan(v) else float(f"{v:.6g}") for v in values[idx]]
    return out


def read_curve(run_dir: Path, window: int, x: str = "step", y: str = "return") -> tuple[np.ndarray, np.ndarray] | None:
    """(x, y) of a run: x is "step" or "time_s"; y is the rolling mean return over `window` episodes ("return")
    or the curriculum level ("curriculum", the main progress signal).

    From episodes.csv when the run folder has it, else from the summary in result.json (whose rolling return is
    used only when its window is `window`); None when neither has the curve.
    """
    if x not in X_AXES or y not in Y_AXES:
        raise ValueError(f"curve axes must be x in {X_AXES} and y in {Y_AXES}, got x={x!r}, y={y!r}")
    episodes = read_episodes(run_dir, window)
    if episodes is None:
        episodes = _kept_curves(run_dir)
        if episodes is None or (y == "return" and episodes["window"] != window):
            return None
    xs, ys = np.asarray(episodes[x], dtype=float), np.asarray(episodes[y], dtype=float)
    keep = ~np.isnan(ys)
    return (xs[keep], ys[keep]) if keep.any() else None


def _kept_curves(run_dir: Path) -> dict[str, Any] | None:
    """The curve summary in the run's result.json (None without one)."""
    try:
        curves = json.loads((run_dir / "result.json").read_text()).get("curves")
    except (OSError, json.JSONDecodeError, AttributeError):
        return None
    if not isinstance(curves, dict) or not all(k in curves for k in ("window", *X_AXES, *Y_AXES)):
        return None
    kept: dict[str, Any] = {"window": curves["window"]}
    for key in (*X_AXES, *Y_AXES):
        kept[key] = [np.nan if v is None else v for v in curves[key]]
    return kept


def has_curve(run_dir: Path) -> bool:
    """Whether the run folder holds its training curves (episodes.csv or the summary in result.json)."""
    return (run_dir / "episodes.csv").is_file() or _kept_curves(run_dir) is not None
