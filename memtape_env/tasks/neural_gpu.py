"""Neural GPU tasks (Kaiser & Sutskever 2015), binary and decimal: the input tape holds `a <op> b` or a sequence.

Numbers are written least significant digit first, both on the input and on the output, and results have a fixed
width (sum: L + 1 digits, product: 2L, increment: L + 1), leading zeros included, so the target length depends on
the length only. `length` is the number of digits per operand (or sequence length).
"""

from __future__ import annotations

import numpy as np

from memtape_env.tasks.base import CurriculumDefaults, Task, concat_rows, reverse_rows, sequence, tape


def _digits(value: int, base: int, width: int) -> list[int]:
    out = []
    for _ in range(width):
        value, d = divmod(value, base)
        out.append(d)
    return out


def _value(digits: np.ndarray, base: int) -> int:
    v = 0
    for d in reversed(digits.tolist()):
        v = v * base + int(d)
    return v


def _vector_add(a: np.ndarray, b: np.ndarray, base: int) -> np.ndarray:
    """Digit-wise a + b for (n, L) arrays, LSB first; returns (n, L + 1)."""
    n, width = a.shape
    out = np.zeros((n, width + 1), dtype=np.int64)
    carry = np.zeros(n, dtype=np.int64)
    for j in range(width):
        total = a[:, j] + b[:, j] + carry
        out[:, j] = total % base
        carry = total // base
    out[:, width] = carry
    return out


def _binary_op(base: int, op: str):
    """Builders for `a <op> b` tasks; the operator symbol is `base` (so input_base = base + 1)."""

    def build(u: np.ndarray, lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        length = int(lengths[0])
        if not (lengths == length).all():  # mixed lengths in one batch: build each length separately
            return _by_length(build, u, lengths, base + 1)
        a = sequence(u, lengths, base)
        b = sequence(u, lengths, base, offset=length)
        op_sym = np.full((len(lengths), 1), base, dtype=np.int64)
        inputs, _ = concat_rows([a, op_sym, b], [lengths, np.ones_like(lengths), lengths])
        if op == "+":
            target = _vector_add(a, b, base)
        else:
            target = np.array(
                [_digits(_value(ra, base) * _value(rb, base), base, 2 * length) for ra, rb in zip(a, b, strict=True)],
                dtype=np.int64,
            ).reshape(len(a), 2 * length)
        return tape(inputs, base + 1), target

    return build


def _by_length(build, u: np.ndarray, lengths: np.ndarray, blank: int) -> tuple[np.ndarray, np.ndarray]:
    """Build rows grouped by length and merge them, padding inputs with `blank` and targets with -1."""
    parts = {int(k): build(u[lengths == k], lengths[lengths == k]) for k in np.unique(lengths)}
    n = len(lengths)
    rows = next(iter(parts.values()))[0].shape[1]
    width = max(p[0].shape[2] for p in parts.values())
    twidth = max(p[1].shape[1] for p in parts.values())
    inputs = np.full((n, rows, width), blank, dtype=np.int64)
    targets = np.full((n, twidth), -1, dtype=np.int64)
    for k, (inp, tgt) in parts.items():
        idx = np.flatnonzero(lengths == k)
        inputs[idx, :, : inp.shape[2]] = inp
        targets[idx, : tgt.shape[1]] = tgt
    return inputs, targets


def _unary(base: int, kind: str):
    def build(u: np.ndarray, lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        x = sequence(u, lengths, base)
        if kind == "sort":
            target = np.sort(np.where(x < 0, base, x), axis=1)
            target = np.where(target == base, -1, target)
        elif kind == "reverse":
            target = reverse_rows(x, lengths)
        elif kind == "duplicate":
            target, _ = concat_rows([x, x], [lengths, lengths])
        else:  # increment, LSB first, L + 1 digits
            if not (lengths == lengths[0]).all():
                return _by_length(build, u, lengths, base)
            one = np.zeros_like(x)
            one[:, 0] = 1
            target = _vector_add(x, one, base)
        return tape(x, base), target

    return build


_OPS = {"Addition": "+", "Multiplication": "*"}
_UNARY = {
    "Sort": "Sort the input symbols in increasing order.",
    "Duplicate": "Write the input twice.",
    "Reverse": "Write the input in reverse order.",
    "Increment": "Add one to the number on the tape (LSB first); output L + 1 digits.",
}


def _tasks() -> list[Task]:
    tasks = []
    for prefix, base in (("Binary", 2), ("Decimal", 10)):
        chars = tuple(str(i) for i in range(base))
        curriculum = CurriculumDefaults(kind="rlntm", start_length=2, min_length=1, max_length=20)
        for name, op in _OPS.items():
            tasks.append(
                Task(
                    f"{prefix}{name}",
                    "neural_gpu",
                    f"{name} of two {prefix.lower()} numbers a {op} b on one tape, LSB first.",
                    base + 1,
                    base,
                    _binary_op(base, op),
                    lambda length: 2 * length,
                    curriculum=curriculum,
                    reward_threshold=21.0 if op == "+" else 40.0,
                    charmap=chars + (op,),
                    input_width=lambda length: 2 * length + 1,
                )
            )
        for name, text in _UNARY.items():
            tasks.append(
                Task(
                    f"{prefix}{name}",
                    "neural_gpu",
                    text,
                    base,
                    base,
                    _unary(base, name.lower()),
                    lambda length: length,
                    curriculum=curriculum,
                    reward_threshold=40.0 if name == "Duplicate" else (21.0 if name == "Increment" else 20.0),
                    charmap=chars,
                    input_width=lambda length: length,
                )
            )
    return tasks


TASKS = _tasks()
