"""Grid tasks from "Learning Simple Algorithms from Examples" (Zaremba et al. 2016), on a 2-D input grid with
head moves {left, right, up, down, stay}."""

from __future__ import annotations

import numpy as np

from memtape_env.tasks.base import GRID_MOVES, CurriculumDefaults, Task, per_row
from memtape_env.tasks.classic import reversed_addition

WALK_ROWS = 4
RIGHT, DOWN, BLANK = 10, 11, 12  # arrow symbols on the Walk grid; digits are 0..9


def _pick(u: float, n: int) -> int:
    return min(int(u * n), n - 1)


def _walk(u: np.ndarray, length: int) -> tuple[list[list[int]], list[int]]:
    """A path from the top-left corner moving right; arrow cells turn it down, or right again. Every other path
    cell holds a digit; the target is the path's digits in order. The path is monotone, so it never crosses
    itself, and it ends where the next cell is blank."""
    digits = [_pick(u[i], 10) for i in range(length)]
    grid: dict[tuple[int, int], int] = {}
    x = y = 0
    going_down = False
    for i, d in enumerate(digits):
        if i > 0:
            forced = going_down and y == WALK_ROWS - 1  # a down run must turn right on the bottom row
            may_turn = going_down or y < WALK_ROWS - 2  # a down run needs room for a digit and the turn back
            if forced or (may_turn and u[length + i] < 1 / 3):
                going_down = not going_down
                grid[(x, y)] = DOWN if going_down else RIGHT
                x, y = (x, y + 1) if going_down else (x + 1, y)
        grid[(x, y)] = d
        x, y = (x, y + 1) if going_down else (x + 1, y)
    width = max(c for c, _ in grid) + 1
    rows = [[grid.get((c, r), BLANK) for c in range(width)] for r in range(WALK_ROWS)]
    return rows, digits


def _single_digit_multiplication(u: np.ndarray, length: int) -> tuple[list[list[int]], list[int]]:
    """Row 0: a number of `length` digits, LSB first; row 1, column 0: one digit. Target: the product, LSB first,
    the final carry written when non-zero."""
    a = [_pick(u[i], 10) for i in range(length)]
    m = _pick(u[length], 10)
    out, carry = [], 0
    for d in a:
        carry, digit = divmod(d * m + carry, 10)
        out.append(digit)
    if carry:
        out.append(carry)
    return [a, [m] + [10] * (length - 1)], out


TASKS = [
    Task(
        "Walk",
        "grid",
        "Follow the arrows from the top-left corner and output the digits on the path.",
        12,
        10,
        per_row(_walk, 12),
        lambda length: 2 * length,
        rows=WALK_ROWS,
        input_moves=GRID_MOVES,
        curriculum=CurriculumDefaults(kind="rlntm", start_length=2, min_length=1, max_length=20),
        reward_threshold=20.0,
        input_width=lambda length: length,
    ),
    Task(
        "GridAddition3",
        "grid",
        "Add three decimal numbers in a 3-row grid, LSB first.",
        10,
        10,
        lambda u, lengths: reversed_addition(u, lengths, 3, 10),
        lambda length: 3 * length,
        rows=3,
        input_moves=GRID_MOVES,
        curriculum=CurriculumDefaults(kind="rlntm", start_length=2, min_length=1, max_length=20),
        reward_threshold=20.0,
        input_width=lambda length: length,
    ),
    Task(
        "SingleDigitMultiplication",
        "grid",
        "Multiply a number (row 0) by one digit (row 1), LSB first.",
        10,
        10,
        per_row(_single_digit_multiplication, 10),
        lambda length: length + 1,
        rows=2,
        input_moves=GRID_MOVES,
        curriculum=CurriculumDefaults(kind="rlntm", start_length=2, min_length=1, max_length=20),
        reward_threshold=20.0,
        input_width=lambda length: length,
    ),
]
