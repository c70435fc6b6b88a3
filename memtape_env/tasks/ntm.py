"""NTM/DNC tasks (Graves et al. 2014, 2016), made discrete: associative recall, repeat copy with a count,
priority sort."""

from __future__ import annotations

import numpy as np

from memtape_env.tasks.base import CurriculumDefaults, Task, per_row

DATA = 8  # data symbols 0..7
ITEM = 3  # symbols per item in associative recall

# Associative recall: data 0..7, item delimiter 8, query delimiter 9.
_DELIM, _QUERY = DATA, DATA + 1


def _pick(u: float, n: int) -> int:
    return min(int(u * n), n - 1)


def _associative_recall(u: np.ndarray, length: int) -> tuple[list[list[int]], list[int]]:
    """`length` items of 3 symbols, each after a delimiter; then a query item. Target: the item after the query's
    first occurrence (the query is never the last item)."""
    items = [[_pick(u[i * ITEM + k], DATA) for k in range(ITEM)] for i in range(length)]
    q = _pick(u[length * ITEM], length - 1)
    first = items.index(items[q])
    row: list[int] = []
    for item in items:
        row += [_DELIM, *item]
    row += [_QUERY, *items[q]]
    return [row], items[first + 1]


MAX_REPEATS = 4


def _repeat_copy_count(u: np.ndarray, length: int) -> tuple[list[list[int]], list[int]]:
    """Input: x (length data symbols) then a count symbol DATA + c - 1 (c in 1..4). Target: x written c times."""
    x = [_pick(u[i], DATA) for i in range(length)]
    c = 1 + _pick(u[length], MAX_REPEATS)
    return [x + [DATA + c - 1]], x * c


PRIORITIES = 8


def _priority_sort(u: np.ndarray, length: int) -> tuple[list[list[int]], list[int]]:
    """Input: `length` (priority, value) pairs, priority symbols DATA..DATA+7 before each value. Target: the values
    in decreasing priority, ties in input order."""
    pairs = [(_pick(u[2 * i], PRIORITIES), _pick(u[2 * i + 1], DATA)) for i in range(length)]
    row: list[int] = []
    for p, v in pairs:
        row += [DATA + p, v]
    order = sorted(range(length), key=lambda i: -pairs[i][0])
    return [row], [pairs[i][1] for i in order]


TASKS = [
    Task(
        "AssociativeRecall",
        "ntm",
        "Given items and a query item, output the item that followed the query.",
        DATA + 2,
        DATA,
        per_row(_associative_recall, DATA + 2),
        lambda length: length * ITEM + 1,
        curriculum=CurriculumDefaults(kind="rlntm", start_length=2, min_length=2, max_length=12),
        reward_threshold=3.0,
        input_width=lambda length: (length + 1) * (ITEM + 1),
    ),
    Task(
        "RepeatCopyCount",
        "ntm",
        "Copy the sequence as many times as the final count symbol says (1-4).",
        DATA + MAX_REPEATS,
        DATA,
        per_row(_repeat_copy_count, DATA + MAX_REPEATS),
        lambda length: length + 1,
        curriculum=CurriculumDefaults(kind="rlntm", start_length=2, min_length=1, max_length=20),
        reward_threshold=20.0,
        input_width=lambda length: length + 1,
    ),
    Task(
        "PrioritySort",
        "ntm",
        "Output the values sorted by decreasing priority (stable).",
        DATA + PRIORITIES,
        DATA,
        per_row(_priority_sort, DATA + PRIORITIES),
        lambda length: 2 * length,
        curriculum=CurriculumDefaults(kind="rlntm", start_length=2, min_length=1, max_length=20),
        reward_threshold=16.0,
        input_width=lambda length: 2 * length,
    ),
]
