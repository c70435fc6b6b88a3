"""The report's interval estimates on inputs whose answers are known."""

from __future__ import annotations

import numpy as np
import pytest

from agents.harness.bench.stats import Interval, aggregate_iqm, fraction_interval, iqm, iqm_interval


def test_iqm_is_the_mean_of_the_middle_half() -> None:
    assert iqm([1, 2, 3, 4, 5, 6, 7, 8]) == 4.5
    assert iqm([100.0, 1, 2, 3]) == 2.5  # the outlier is cut, order does not matter
    assert iqm([7.0]) == 7.0


def test_iqm_matches_scipy_trim_mean() -> None:
    scipy_stats = pytest.importorskip("scipy.stats")
    x = np.random.default_rng(0).normal(size=37)
    assert iqm(x) == pytest.approx(scipy_stats.trim_mean(x, 0.25))


def test_fraction_interval_of_half_is_the_binomial_quantiles() -> None:
    # Resampling 10 runs of which 5 solved: the fraction is Binomial(10, 0.5) / 10, whose 2.5% and 97.5% quantiles
    # are 0.2 and 0.8.
    ci = fraction_interval([True] * 5 + [False] * 5)
    assert ci == Interval(0.5, 0.2, 0.8)


def test_fraction_interval_is_degenerate_when_every_seed_agrees() -> None:
    assert fraction_interval([True] * 10) == Interval(1.0, 1.0, 1.0)
    assert fraction_interval([False] * 3) == Interval(0.0, 0.0, 0.0)


def test_intervals_contain_the_point_and_are_deterministic() -> None:
    x = np.random.default_rng(1).exponential(size=20)
    a, b = iqm_interval(x, seed=3), iqm_interval(x, seed=3)
    assert a == b
    assert a.low <= a.point <= a.high
    assert iqm_interval(x, confidence=0.5).high - iqm_interval(x, confidence=0.5).low < a.high - a.low


def test_aggregate_keeps_each_task_in_its_stratum() -> None:
    # Two tasks whose runs never mix: every stratified resample draws 4 runs from each, so the pooled IQM stays
    # between the tasks' values; a pooled (unstratified) resample could draw all 8 from one task.
    ci = aggregate_iqm([[0.0] * 4, [1.0] * 4])
    assert ci.point == 0.5
    assert ci.low == ci.high == 0.5


@pytest.mark.parametrize("bad", [dict(confidence=1.0), dict(confidence=0.0), dict(resamples=0)])
def test_bad_arguments_are_named(bad: dict) -> None:
    with pytest.raises(ValueError, match=next(iter(bad))):
        iqm_interval([1.0, 2.0], **bad)


def test_empty_input_is_an_error() -> None:
    with pytest.raises(ValueError, match="at least one value"):
        fraction_interval([])
    with pytest.raises(ValueError, match="no values"):
        iqm([])
