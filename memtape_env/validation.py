"""Checks on what users pass in, each failing with an error that names the problem.

The one place for the value checks of the whole project (integers, numbers in a range, flags, actions): the
environments use them, and `agents` reuses them (it may import `memtape_env`, not the other way round), so every
"must be a positive integer" reads the same and names its owner and field.
"""

from __future__ import annotations

import numbers
import operator

import numpy as np


class WrongTypeError(TypeError, ValueError):
    """A value of the wrong type: a TypeError by Python's convention, and a ValueError so that code catching bad
    values (config loaders, the command line) catches it as well."""


def _fail(name: str, rule: str, value: object, owner: str | None, error: type[ValueError] = ValueError) -> ValueError:
    """The error for `name` of `owner` breaking `rule`: "Owner: name must be RULE, got VALUE"."""
    subject = f"{name} must be" if name else "must be"
    prefix = f"{owner}: " if owner else ""
    return error(f"{prefix}{subject} {rule}, got {value!r}")


def _int_rule(low: int | None, high: int | None) -> str:
    if high is not None:
        return f"an integer in [{'-inf' if low is None else low}, {high}]"
    if low == 1:
        return "a positive integer"
    return "an integer" if low is None else f"an integer >= {low}"


def check_int(
    name: str, value: object, low: int | None = None, high: int | None = None, *, owner: str | None = None
) -> int:
    """`value` as an int when it is an integer (numpy integers too, booleans not) in [low, high]; raise otherwise.

    :param name: the field, as the user wrote it (`"hidden_size"`, `"hidden_sizes[1]"`)
    :param value: what the user passed
    :param low: the smallest allowed value (None: no bound)
    :param high: the largest allowed value (None: no bound)
    :param owner: the class or config the field belongs to, put in front of the message (`"DNC"`)
    :return: `value` as a Python int
    :raises WrongTypeError: (a TypeError and a ValueError) for a non-integer
    :raises ValueError: for an integer out of range
    """
    return _check_int(name, value, low, high, owner, optional=False)


def check_optional_int(
    name: str, value: object, low: int | None = None, high: int | None = None, *, owner: str | None = None
) -> int | None:
    """`check_int` that lets None through (an argument whose default is "none given")."""
    return None if value is None else _check_int(name, value, low, high, owner, optional=True)


def check_positive_int(name: str, value: object, *, owner: str | None = None) -> int:
    """`value` as an int when it is an integer >= 1 (sizes, counts, lengths); raise naming `owner` and `name`."""
    return _check_int(name, value, 1, None, owner, optional=False)


def _check_int(name: str, value: object, low: int | None, high: int | None, owner: str | None, optional: bool) -> int:
    rule = _int_rule(low, high) + (" or None" if optional else "")
    if isinstance(value, bool | np.bool_):
        raise _fail(name, rule, value, owner, WrongTypeError)
    try:
        number = operator.index(value)  # type: ignore[arg-type]
    except TypeError:
        raise _fail(name, rule, value, owner, WrongTypeError) from None
    if (low is not None and number < low) or (high is not None and number > high):
        raise _fail(name, rule, value, owner)
    return number


def _interval(low: float | None, high: float | None, low_open: bool, high_open: bool) -> str:
    if low is not None and high is not None:
        return f"in {'(' if low_open else '['}{low}, {high}{')' if high_open else ']'}"
    if low is not None:
        return f"{'>' if low_open else '>='} {low}"
    if high is not None:
        return f"{'<' if high_open else '<='} {high}"
    return ""


def check_number(
    name: str,
    value: object,
    low: float | None = None,
    high: float | None = None,
    *,
    low_open: bool = False,
    high_open: bool = False,
    finite: bool = False,
    owner: str | None = None,
) -> float:
    """`value` as a float when it is a real number (not a boolean, not NaN) in the interval; raise otherwise.

    :param name: the field, as the user wrote it
    :param value: what the user passed
    :param low: the lower bound (None: none)
    :param high: the upper bound (None: none)
    :param low_open: exclude `low` itself (`low < value` rather than `low <= value`)
    :param high_open: exclude `high` itself
    :param finite: reject infinities as well
    :param owner: the class or config the field belongs to, put in front of the message
    :return: `value` as a Python float
    :raises WrongTypeError: (a TypeError and a ValueError) for a non-number
    :raises ValueError: for NaN or a number out of range
    """
    interval = _interval(low, high, low_open, high_open)
    if low == 0 and low_open and high is None:
        rule = "a finite positive number" if finite else "a positive number"
    elif not interval:
        rule = "a finite number" if finite else "a number"
    else:  # "gamma must be in (0, 1]", "clip_value must be finite and >= 0"
        rule = f"finite and {interval}" if finite else interval
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
        what = f"a finite number {interval}" if finite else f"a number {interval}"
        raise _fail(name, what.rstrip(), value, owner, WrongTypeError)
    number = float(value)
    inside = not (
        np.isnan(number)
        or (finite and not np.isfinite(number))
        or (low is not None and (number <= low if low_open else number < low))
        or (high is not None and (number >= high if high_open else number > high))
    )
    if not inside:
        raise _fail(name, rule, value, owner)
    return number


def check_non_negative(name: str, value: object, *, finite: bool = False, owner: str | None = None) -> float:
    """`value` as a float when it is a number >= 0 (coefficients, budgets, norms); raise naming `owner` and `name`."""
    return check_number(name, value, 0, finite=finite, owner=owner)


def check_actions(actions: object, nvec: np.ndarray, names: tuple[str, ...], batch: int | None) -> np.ndarray:
    """Return `actions` as an int64 array of shape (len(nvec),) or (batch, len(nvec)), or raise.

    Rejects wrong shapes, non-integer types (floats, NaN, strings, booleans) and out-of-range components, naming the
    component and the allowed range.
    """
    expected = (len(nvec),) if batch is None else (batch, len(nvec))
    if type(actions) is np.ndarray and actions.dtype == np.int64 and actions.shape == expected:
        # The common cases, checked cheaply: one action in Python (a few components), a batch in one comparison
        # (seen as unsigned, a negative component exceeds any bound).
        if batch is None:
            values = actions.tolist()
            if all(map(operator.lt, values, nvec.tolist())) and min(values) >= 0:
                return actions
        elif not (actions.view(np.uint64) >= nvec.view(np.uint64)).nonzero()[0].size:
            return actions
    try:
        arr = np.asarray(actions)
    except (TypeError, ValueError) as e:  # ragged lists and the like
        raise ValueError(f"action {actions!r} is not an array of integers: {e}") from None
    if arr.shape != expected:
        what = "action" if batch is None else "actions"
        raise ValueError(
            f"{what} must have shape {expected} (components {', '.join(names)}), got shape {arr.shape}: {actions!r}"
        )
    if arr.dtype.kind not in "iu":
        if arr.dtype.kind == "f" and np.isnan(arr).any():
            raise ValueError(f"action contains NaN: {actions!r}")
        raise TypeError(f"action must hold integers, got dtype {arr.dtype}: {actions!r}")
    arr = arr.astype(np.int64, copy=False)
    bad = (arr < 0) | (arr >= nvec)
    if bad.any():
        j = int(np.flatnonzero(bad.reshape(-1, len(nvec)).any(axis=0))[0])
        values = arr[..., j]
        raise ValueError(f"action component {names[j]!r} must be in [0, {int(nvec[j]) - 1}], got {values.tolist()}")
    return arr


def check_flag(name: str, value: object) -> bool:
    """Booleans only: a constructor flag given as 1, 'yes' or None is a mistake worth naming."""
    if not isinstance(value, bool | np.bool_):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return bool(value)
