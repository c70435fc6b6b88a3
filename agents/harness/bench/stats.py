"""Interval estimates over seeds: the fraction of runs solved, the interquartile mean, and their aggregate.

Learning runs diverge across machines at float level, so a cell of a benchmark is a distribution over seeds, not a
number. These are rliable's estimators (Agarwal et al. 2021, "Deep RL at the Edge of the Statistical Precipice"):
percentile bootstrap intervals, the interquartile mean (IQM: the mean of the middle 50% of the runs), and, across
tasks, the stratified bootstrap (runs resampled within each task, so every task keeps its number of runs).
Written on numpy alone so that the package does not pull rliable's plotting dependencies; every estimate is a
deterministic function of its inputs and `seed`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import NamedTuple

import numpy as np

CONFIDENCE = 0.95
RESAMPLES = 10_000


class Interval(NamedTuple):
    """A point estimate with the bounds of its confidence interval."""

    point: float
    low: float
    high: float

    def format(self, digits: int = 2) -> str:
        """`0.50 [0.20, 0.80]`."""
        return f"{self.point:.{digits}f} [{self.low:.{digits}f}, {self.high:.{digits}f}]"


def iqm(values: Sequence[float] | np.ndarray) -> float:
    """Interquartile mean: the mean of the values between the 25th and 75th percentile (rliable's trimmed mean)."""
    x = np.asarray(values, dtype=float).ravel()
    if x.size == 0:
        raise ValueError("iqm of no values")
    return float(_iqm_rows(x[None])[0])


def _iqm_rows(x: np.ndarray) -> np.ndarray:
    """IQM of each row of a 2-D array; scipy.stats.trim_mean's rule: int(0.25 * n) values cut from each end."""
    n = x.shape[1]
    cut = int(0.25 * n)
    return np.sort(x, axis=1)[:, cut : n - cut].mean(axis=1)


def _mean_rows(x: np.ndarray) -> np.ndarray:
    return x.mean(axis=1)


def _check(confidence: float, resamples: int) -> None:
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    if resamples < 1:
        raise ValueError(f"resamples must be >= 1, got {resamples}")


def stratified_bootstrap(
    samples: Sequence[Sequence[float]],
    statistic: Callable[[np.ndarray], np.ndarray],
    confidence: float = CONFIDENCE,
    resamples: int = RESAMPLES,
    seed: int = 0,
) -> Interval:
    """Percentile bootstrap of `statistic` over the pooled values, resampling each sample (task) on its own.

    One sample is the plain percentile bootstrap. `statistic` maps a 2-D array (one pooled resample per row) to
    one value per row.
    """
    _check(confidence, resamples)
    arrays = [np.asarray(s, dtype=float).ravel() for s in samples]
    if not arrays or any(a.size == 0 for a in arrays):
        raise ValueError("every sample needs at least one value")
    rng = np.random.default_rng(seed)
    point = statistic(np.concatenate(arrays)[None])[0]
    draws = np.concatenate([a[rng.integers(0, a.size, size=(resamples, a.size))] for a in arrays], axis=1)
    stats = statistic(draws)
    alpha = (1.0 - confidence) / 2.0
    low, high = np.quantile(stats, [alpha, 1.0 - alpha])
    return Interval(float(point), float(low), float(high))


def fraction_interval(
    solved: Sequence[bool], confidence: float = CONFIDENCE, resamples: int = RESAMPLES, seed: int = 0
) -> Interval:
    """Fraction of runs solved with its percentile bootstrap interval (degenerate when every seed agrees)."""
    return stratified_bootstrap([np.asarray(solved, dtype=float)], _mean_rows, confidence, resamples, seed)


def iqm_interval(
    values: Sequence[float], confidence: float = CONFIDENCE, resamples: int = RESAMPLES, seed: int = 0
) -> Interval:
    """IQM of `values` (e.g. env steps to solve over the seeds that solved) with its bootstrap interval."""
    return stratified_bootstrap([values], _iqm_rows, confidence, resamples, seed)


def aggregate_iqm(
    per_task: Sequence[Sequence[float]], confidence: float = CONFIDENCE, resamples: int = RESAMPLES, seed: int = 0
) -> Interval:
    """IQM across tasks of per-run scores, with rliable's stratified bootstrap interval."""
    return stratified_bootstrap(per_task, _iqm_rows, confidence, resamples, seed)
