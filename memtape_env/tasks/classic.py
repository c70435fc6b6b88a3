"""The classic Gym algorithmic tasks (gym 0.19 `gym/envs/algorithmic`), with their semantics kept exactly.

Differences from gym 0.19 are in form only: actions are `MultiDiscrete([moves, 2, base])` instead of a `Tuple`,
and the observation is `MultiDiscrete([base + 1])`. The rules are gym's: moves left/right (grid: left, right, up,
down), internal step limit input_width + target_length + 4 (addition: 2 * input_width + 4), length =
min_length + randint(3), and promotion when each of the last 10 episodes (Reverse, RepeatCopy: 50) fell short of
the full reward by at most 1 (0.1), up to min_length 30.
"""

from __future__ import annotations

import numpy as np

from memtape_env.tasks.base import (
    CLASSIC_GRID_MOVES,
    CLASSIC_MOVES,
    CurriculumDefaults,
    Task,
    concat_rows,
    reverse_rows,
    sequence,
    symbols,
    tape,
    width_is_length,
)

ALPHA = tuple(chr(ord("A") + i) for i in range(26))
DIGITS = tuple(str(i) for i in range(10))


def _classic(start: int = 2, window: int = 10, shortfall: float = -1.0) -> CurriculumDefaults:
    return CurriculumDefaults(
        kind="classic", start_length=start, min_length=1, max_length=32, window=window, shortfall=shortfall
    )


def _copy(u: np.ndarray, lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x = sequence(u, lengths, 5)
    return tape(x, 5), x


def _duplicated_input(u: np.ndarray, lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    # gym: size < 2 becomes 2; size // 2 symbols, each written twice.
    half = np.maximum(lengths, 2) // 2
    x = sequence(u, half, 5)
    return tape(np.repeat(x, 2, axis=1), 5), x


def _repeat_copy(u: np.ndarray, lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x = sequence(u, lengths, 5)
    target, _ = concat_rows([x, reverse_rows(x, lengths), x], [lengths, lengths, lengths])
    return tape(x, 5), target


def _reverse(u: np.ndarray, lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x = sequence(u, lengths, 2)
    return tape(x, 2), reverse_rows(x, lengths)


def reversed_addition(u: np.ndarray, lengths: np.ndarray, rows: int, base: int) -> tuple[np.ndarray, np.ndarray]:
    """Grid of `rows` numbers written least significant digit first; target: their sum, LSB first.

    Column j holds u[:, j * rows : (j + 1) * rows]; the final carry is written when non-zero, as gym does.
    """
    n, width = u.shape[0], int(lengths.max())
    digits = symbols(u[:, : width * rows].reshape(n, width, rows), base)
    valid = np.arange(width)[None, :] < lengths[:, None]
    digits = np.where(valid[:, :, None], digits, 0)
    target = np.full((n, width + 1), -1, dtype=np.int64)
    carry = np.zeros(n, dtype=np.int64)
    for j in range(width):
        total = digits[:, j].sum(axis=1) + carry
        target[:, j] = np.where(valid[:, j], total % base, -1)
        carry = np.where(valid[:, j], total // base, carry)
    # Final carry goes right after each row's last digit.
    has_carry = carry > 0
    target[np.arange(n)[has_carry], lengths[has_carry]] = carry[has_carry]
    grid = np.where(valid[:, :, None], digits, base).transpose(0, 2, 1)  # (n, rows, width)
    return grid, target[:, : int((lengths + has_carry).max())]


def _addition_limit(input_width: np.ndarray, target_len: np.ndarray) -> np.ndarray:
    # gym quirk kept: the input width counts twice, not the (possibly longer) target.
    return 2 * input_width + 4


def _classic_limit(input_width: np.ndarray, target_len: np.ndarray) -> np.ndarray:
    return input_width + target_len + 4


def _addition_task(name: str, rows: int) -> Task:
    return Task(
        name,
        "classic",
        f"Add {rows} base-3 numbers written in a {rows}-row grid, least significant digit first (gym {name[7:]}-v0).",
        3,
        3,
        lambda u, lengths: reversed_addition(u, lengths, rows, 3),
        lambda length: length * rows,
        rows=rows,
        input_moves=CLASSIC_GRID_MOVES,
        curriculum=_classic(),
        time_limit=_addition_limit,
        reward_threshold=25.0,
        max_episode_steps=200,
        charmap=DIGITS[:3],
        input_width=width_is_length,
    )


TASKS = [
    Task(
        "ClassicCopy",
        "classic",
        "Copy the input tape (gym Copy-v0, base 5).",
        5,
        5,
        _copy,
        width_is_length,
        input_moves=CLASSIC_MOVES,
        curriculum=_classic(),
        time_limit=_classic_limit,
        reward_threshold=25.0,
        max_episode_steps=200,
        charmap=ALPHA[:5],
        input_width=width_is_length,
    ),
    Task(
        "ClassicDuplicatedInput",
        "classic",
        "Each symbol appears twice; output it once (gym DuplicatedInput-v0).",
        5,
        5,
        _duplicated_input,
        lambda length: max(length, 2) // 2,
        input_moves=CLASSIC_MOVES,
        curriculum=_classic(),
        time_limit=_classic_limit,
        reward_threshold=9.0,
        max_episode_steps=200,
        charmap=ALPHA[:5],
        input_width=lambda length: 2 * (max(length, 2) // 2),
    ),
    Task(
        "ClassicRepeatCopy",
        "classic",
        "Output x, reversed(x), x (gym RepeatCopy-v0, base 5).",
        5,
        5,
        _repeat_copy,
        width_is_length,
        input_moves=CLASSIC_MOVES,
        curriculum=_classic(window=50, shortfall=-0.1),
        time_limit=_classic_limit,
        reward_threshold=75.0,
        max_episode_steps=200,
        charmap=ALPHA[:5],
        input_width=width_is_length,
    ),
    Task(
        "ClassicReverse",
        "classic",
        "Reverse the input tape (gym Reverse-v0, base 2).",
        2,
        2,
        _reverse,
        width_is_length,
        input_moves=CLASSIC_MOVES,
        curriculum=_classic(start=1, window=50, shortfall=-0.1),
        time_limit=_classic_limit,
        reward_threshold=25.0,
        max_episode_steps=200,
        charmap=ALPHA[:2],
        input_width=width_is_length,
    ),
    _addition_task("ClassicReversedAddition", 2),
    _addition_task("ClassicReversedAddition3", 3),
]
