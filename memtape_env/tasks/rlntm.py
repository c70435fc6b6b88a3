"""The five RL-NTM tasks (Zaremba & Sutskever 2015, Table 1): 30 symbols, head moves {left, stay, right}."""

from __future__ import annotations

import numpy as np

from memtape_env.tasks.base import (
    FORWARD_MOVES,
    Task,
    concat_rows,
    reverse_rows,
    sequence,
    symbols,
    tape,
    width_is_length,
)

BASE = 30


def _copy(u: np.ndarray, lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x = sequence(u, lengths, BASE)
    return tape(x, BASE), x


def _duplicated_input(u: np.ndarray, lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x = sequence(u, lengths, BASE)
    dup = np.repeat(x, 3, axis=1)  # padding (-1) repeats into padding
    return tape(dup, BASE), x


def _reverse(u: np.ndarray, lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x = sequence(u, lengths, BASE)
    return tape(x, BASE), reverse_rows(x, lengths)


def _repeat_copy(u: np.ndarray, lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    # u[:, 0] picks the repeat count m in {2, 3}; the input tape is [m, x_1, ..., x_L].
    m = 2 + symbols(u[:, 0], 2)
    x = sequence(u, lengths, BASE, offset=1)
    one = np.ones_like(lengths)
    inputs, _ = concat_rows([m[:, None], x], [one, lengths])
    targets, _ = concat_rows([x, x, x], [lengths, lengths, np.where(m == 3, lengths, 0)])
    return tape(inputs, BASE), targets


def _three_n(length: int) -> int:
    return 3 * length


def _n_plus_one(length: int) -> int:
    return length + 1


TASKS = [
    Task(
        "Copy",
        "rlntm",
        "Copy the input tape to the output tape.",
        BASE,
        BASE,
        _copy,
        width_is_length,
        input_width=width_is_length,
    ),
    Task(
        "DuplicatedInput",
        "rlntm",
        "Each symbol appears three times in a row on the input; output it once.",
        BASE,
        BASE,
        _duplicated_input,
        width_is_length,
        input_width=_three_n,
    ),
    Task(
        "Reverse",
        "rlntm",
        "Write the input tape in reverse order.",
        BASE,
        BASE,
        _reverse,
        width_is_length,
        input_width=width_is_length,
    ),
    Task(
        "RepeatCopy",
        "rlntm",
        "The first symbol m (2 or 3) says how many copies of the rest of the input to write.",
        BASE,
        BASE,
        _repeat_copy,
        _n_plus_one,
        input_width=_n_plus_one,
    ),
    Task(
        "ForwardReverse",
        "rlntm",
        "Reverse the input, but the input head may only move forward: the memory tape is required.",
        BASE,
        BASE,
        _reverse,
        width_is_length,
        input_moves=FORWARD_MOVES,
        has_memory=True,
        input_width=width_is_length,
    ),
]
