"""Plain-Python reference solutions, written from each task's definition (not from the env's code).

`solve(task_name, grid)` takes the input as a list of rows (blank cells included) and returns the target list.
"""

from __future__ import annotations


def _digits_to_int(digits: list[int], base: int) -> int:
    return sum(d * base**i for i, d in enumerate(digits))


def _int_to_digits(value: int, base: int, width: int) -> list[int]:
    return [(value // base**i) % base for i in range(width)]


def _strip(row: list[int], blank: int) -> list[int]:
    return [s for s in row if s != blank]


def _column_sum(grid: list[list[int]], base: int, blank: int) -> list[int]:
    width = sum(1 for s in grid[0] if s != blank)
    total = sum(_digits_to_int(row[:width], base) for row in grid)
    out = []
    for _ in range(width):
        out.append(total % base)
        total //= base
    while total:  # gym writes the final carry when it is non-zero
        out.append(total % base)
        total //= base
    return out


def _walk(grid: list[list[int]]) -> list[int]:
    x = y = 0
    dx, dy = 1, 0
    out = []
    while 0 <= y < len(grid) and 0 <= x < len(grid[0]) and grid[y][x] != 12:
        s = grid[y][x]
        if s == 10:
            dx, dy = 1, 0
        elif s == 11:
            dx, dy = 0, 1
        else:
            out.append(s)
        x, y = x + dx, y + dy
    return out


def solve(task: str, grid: list[list[int]]) -> list[int]:
    row = grid[0]
    if task in ("Copy", "Reverse", "DuplicatedInput", "RepeatCopy", "ForwardReverse"):
        x = _strip(row, 30)
        return {
            "Copy": lambda: x,
            "Reverse": lambda: x[::-1],
            "ForwardReverse": lambda: x[::-1],
            "DuplicatedInput": lambda: x[::3],
            "RepeatCopy": lambda: x[1:] * x[0],
        }[task]()
    if task.startswith("Classic"):
        name = task[len("Classic") :]
        if name.startswith("ReversedAddition"):
            return _column_sum(grid, 3, 3)
        base = 2 if name == "Reverse" else 5
        x = _strip(row, base)
        return {
            "Copy": lambda: x,
            "Reverse": lambda: x[::-1],
            "DuplicatedInput": lambda: x[::2],
            "RepeatCopy": lambda: x + x[::-1] + x,
        }[name]()
    for prefix, base in (("Binary", 2), ("Decimal", 10)):
        if task.startswith(prefix):
            op = task[len(prefix) :]
            x = _strip(row, base + 1) if op in ("Addition", "Multiplication") else _strip(row, base)
            if op in ("Addition", "Multiplication"):
                k = x.index(base)
                a, b = _digits_to_int(x[:k], base), _digits_to_int(x[k + 1 :], base)
                if op == "Addition":
                    return _int_to_digits(a + b, base, k + 1)
                return _int_to_digits(a * b, base, 2 * k)
            if op == "Sort":
                return sorted(x)
            if op == "Duplicate":
                return x + x
            if op == "Reverse":
                return x[::-1]
            return _int_to_digits(_digits_to_int(x, base) + 1, base, len(x) + 1)  # Increment
    if task == "AssociativeRecall":
        x = _strip(row, 10)
        items, i = [], 0
        while x[i] == 8:
            items.append(x[i + 1 : i + 4])
            i += 4
        query = x[i + 1 : i + 4]
        return items[items.index(query) + 1]
    if task == "RepeatCopyCount":
        x = _strip(row, 12)
        return x[:-1] * (x[-1] - 8 + 1)
    if task == "PrioritySort":
        x = _strip(row, 16)
        pairs = [(x[i] - 8, x[i + 1]) for i in range(0, len(x), 2)]
        return [v for _, v in sorted(pairs, key=lambda p: -p[0])]
    if task == "Walk":
        return _walk(grid)
    if task == "GridAddition3":
        return _column_sum(grid, 10, 10)
    if task == "SingleDigitMultiplication":
        a = _strip(row, 10)
        value = _digits_to_int(a, 10) * grid[1][0]
        out = _int_to_digits(value, 10, len(a))
        carry = value // 10 ** len(a)
        return out + ([carry] if carry else [])
    raise KeyError(task)
