"""The shared value checks: what they accept, and errors that name the owner, the field and the rule."""

from __future__ import annotations

import re

import numpy as np
import pytest

from memtape_env.validation import (
    WrongTypeError,
    check_int,
    check_non_negative,
    check_number,
    check_optional_int,
    check_positive_int,
)


@pytest.mark.parametrize(
    ("call", "expected"),
    [
        (lambda: check_positive_int("n", 3), 3),
        (lambda: check_positive_int("n", np.int64(3)), 3),
        (lambda: check_int("seed", 0, 0), 0),
        (lambda: check_int("k", 16, 0, 16), 16),
        (lambda: check_optional_int("size", None, 1), None),
        (lambda: check_number("gamma", 1, 0, 1, low_open=True), 1.0),
        (lambda: check_number("x", np.float32(0.5), 0, 1, high_open=True), 0.5),
        (lambda: check_non_negative("c", 0), 0.0),
        (lambda: check_non_negative("c", float("inf")), float("inf")),
    ],
)
def test_accepts_and_converts(call, expected) -> None:
    value = call()
    assert value == expected and type(value) is type(expected)


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (
            lambda: check_positive_int("hidden_size", 0, owner="LSTM"),
            ValueError,
            "LSTM: hidden_size must be a positive integer, got 0",
        ),
        (lambda: check_positive_int("n", 2.5), WrongTypeError, "n must be a positive integer, got 2.5"),
        (lambda: check_positive_int("n", True), WrongTypeError, "n must be a positive integer, got True"),
        (lambda: check_positive_int("n", "3"), WrongTypeError, "n must be a positive integer, got '3'"),
        (lambda: check_int("seed", -1, 0), ValueError, "seed must be an integer >= 0, got -1"),
        (
            lambda: check_int("link_k", 17, 0, 16, owner="DNC"),
            ValueError,
            "DNC: link_k must be an integer in [0, 16], got 17",
        ),
        (lambda: check_optional_int("size", 0, 1), ValueError, "size must be a positive integer or None, got 0"),
        (lambda: check_number("gamma", 0, 0, 1, low_open=True), ValueError, "gamma must be in (0, 1], got 0"),
        (lambda: check_number("decay", 1.0, 0, 1, high_open=True), ValueError, "decay must be in [0, 1), got 1.0"),
        (lambda: check_number("lr", -1e-3, 0, low_open=True), ValueError, "lr must be a positive number, got -0.001"),
        (lambda: check_number("lr", "fast", 0, low_open=True), WrongTypeError, "lr must be a number > 0, got 'fast'"),
        (lambda: check_number("t", float("inf"), finite=True), ValueError, "t must be a finite number, got inf"),
        (lambda: check_non_negative("c", float("nan")), ValueError, "c must be >= 0, got nan"),
        (
            lambda: check_non_negative("clip", float("inf"), finite=True),
            ValueError,
            "clip must be finite and >= 0, got inf",
        ),
        (lambda: check_positive_int("", 0), ValueError, "must be a positive integer, got 0"),
    ],
)
def test_errors_name_owner_field_and_rule(call, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=f"^{re.escape(message)}$"):
        call()


def test_wrong_type_is_both_a_type_and_a_value_error() -> None:
    """Callers catching either (Python's convention, or config loaders catching bad values) catch it."""
    for caught in (TypeError, ValueError):
        with pytest.raises(caught):
            check_int("n", 1.5)
