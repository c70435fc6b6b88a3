"""Checks on what users pass in, each failing with an error that names the problem."""

from __future__ import annotations

import operator

import numpy as np


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
