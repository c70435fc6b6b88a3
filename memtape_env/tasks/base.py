"""What a task is: an input sampler driven by uniforms, a target function, interfaces and defaults.

Inputs are built from a matrix of uniforms in [0, 1) rather than from a `Generator` directly, so that the batched
machine can draw each environment's uniforms from that environment's own stream (single and vector envs then
agree bit for bit) while `Task.generate` still offers the plain `numpy.random.Generator` interface. Row i of `u`
uses only its first `n_uniform(lengths[i])` columns, so a row's input never depends on the other rows.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from memtape_env.validation import check_positive_int

# Names of input-head moves and their (dx, dy) deltas on the tape/grid.
MOVE_DELTAS: dict[str, tuple[int, int]] = {
    "left": (-1, 0),
    "right": (1, 0),
    "up": (0, -1),
    "down": (0, 1),
    "stay": (0, 0),
}
RLNTM_MOVES = ("left", "stay", "right")
CLASSIC_MOVES = ("left", "right")
GRID_MOVES = ("left", "right", "up", "down", "stay")
CLASSIC_GRID_MOVES = ("left", "right", "up", "down")
FORWARD_MOVES = ("stay", "right")

# build(u, lengths) -> (inputs (n, rows, width) padded with blank, targets (n, target_width) padded with -1)
Builder = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


def width_is_length(length: int) -> int:
    """An input width (or target length) equal to the input length: tasks that read one symbol per cell."""
    return length


@dataclass(frozen=True)
class CurriculumDefaults:
    """A task's default curriculum, as data: kind, lengths, and the classic promotion rule's parameters.

    `memtape_env.curriculum.make_curriculum` turns it into the live `Curriculum` an env samples lengths from.
    """

    kind: str = "rlntm"
    start_length: int = 2
    min_length: int = 1
    max_length: int = 30
    window: int = 10
    shortfall: float = -1.0


@dataclass(frozen=True)
class Task:
    """One algorithmic task: alphabet sizes, interfaces, how to sample inputs, the target, and its defaults.

    `length` is the task's size parameter (symbols for sequence tasks, digits per operand for arithmetic, items
    for recall); `n_uniform(length)` says how many uniforms one input of that length consumes.
    """

    name: str
    family: str
    description: str
    input_base: int
    output_base: int
    build: Builder
    n_uniform: Callable[[int], int]
    rows: int = 1
    input_moves: tuple[str, ...] = RLNTM_MOVES
    has_memory: bool = False
    curriculum: CurriculumDefaults = field(default_factory=CurriculumDefaults)
    # Internal step limit as a function of (input_width, target_length); None = 2 * (width + target) + 4.
    time_limit: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None
    reward_threshold: float = 20.0
    max_episode_steps: int = 20_000
    charmap: tuple[str, ...] | None = None
    # Widest input tape an input of size `length` can have, from the task's definition (non-decreasing in length).
    # None: measured by building inputs, which costs time and memory proportional to the length.
    input_width: Callable[[int], int] | None = None

    @property
    def blank(self) -> int:
        """The symbol read off the tape and in empty memory cells."""
        return self.input_base

    @property
    def memory_base(self) -> int:
        """Symbols a memory cell can hold (the output alphabet, so the agent can store what it will write)."""
        return max(self.input_base, self.output_base)

    def generate(self, rng: np.random.Generator, n: int, length: int) -> tuple[np.ndarray, np.ndarray]:
        """Sample `n` inputs of size `length` and their targets.

        :param rng: the generator to draw from
        :param n: the number of inputs
        :param length: their size (at least the task's minimum length)
        :return: int64 `inputs` (n, rows, width), padded with `blank`, and `targets` (n, target_width), padded
            with -1
        """
        length = int(length)
        if length < self.curriculum.min_length:
            raise ValueError(f"{self.name}: length {length} is below the task's minimum {self.curriculum.min_length}")
        n = check_positive_int("n", n, owner=self.name)
        u = rng.random((n, self.n_uniform(length)))
        return self.build(u, np.full(n, length, dtype=np.int64))

    def limit(self, input_width: np.ndarray, target_len: np.ndarray) -> np.ndarray:
        """Internal step limit for episodes with these input widths and target lengths."""
        if self.time_limit is not None:
            return self.time_limit(input_width, target_len)
        return (input_width + target_len) * _TWO + _FOUR

    def symbol_str(self, s: int) -> str:
        """One character for symbol `s` (blank is a space), for ansi rendering."""
        if s < 0 or s == self.blank:
            return " "
        if self.charmap is not None:
            return self.charmap[s]
        return _DEFAULT_CHARS[s] if s < len(_DEFAULT_CHARS) else "?"


_TWO, _FOUR = np.array(2, dtype=np.int64), np.array(4, dtype=np.int64)  # 0-d: cheaper for numpy than ints
_DEFAULT_CHARS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


# ---- helpers shared by the task tables -------------------------------------------------------------------------


def symbols(u: np.ndarray, base: int) -> np.ndarray:
    """Map uniforms in [0, 1) to symbols 0..base-1."""
    scale, top = _symbol_constants(base)
    return np.minimum((u * scale).astype(np.int64), top)


@functools.cache
def _symbol_constants(base: int) -> tuple[np.ndarray, np.ndarray]:
    """`base` for scaling float32 uniforms and `base - 1` for clipping, as 0-d arrays (numpy combines those with
    arrays several times faster than Python ints; float32 keeps float32 uniforms in float32, as an int does)."""
    return np.array(base, dtype=np.float32), np.array(base - 1, dtype=np.int64)


def pad_mask(lengths: np.ndarray, width: int) -> np.ndarray:
    """(n, width) boolean mask, true at positions < lengths[i]."""
    return np.arange(width)[None, :] < lengths[:, None]


def sequence(u: np.ndarray, lengths: np.ndarray, base: int, offset: int = 0) -> np.ndarray:
    """Row i: `lengths[i]` symbols from u[i, offset:], padded with -1 to the longest row."""
    if len(lengths) == 1:  # one row (a single env's reset) has no padding
        return symbols(u[:, offset : offset + int(lengths[0])], base)
    width = int(np.maximum.reduce(lengths))
    return np.where(pad_mask(lengths, width), symbols(u[:, offset : offset + width], base), -1)


def reverse_rows(x: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Reverse the first lengths[i] entries of each row; padding (-1) stays at the end."""
    width = x.shape[1]
    j = np.arange(width)[None, :]
    idx = np.clip(lengths[:, None] - 1 - j, 0, max(width - 1, 0))
    out = np.take_along_axis(x, idx, axis=1)
    return np.where(j < lengths[:, None], out, -1)


def tape(rows: np.ndarray, blank: int) -> np.ndarray:
    """Turn (n, width) rows of symbols in [0, blank), padded with -1, into an (n, 1, width) input tape padded with
    `blank` (-1 mod blank + 1 = blank, in one numpy call)."""
    return np.remainder(rows, _modulus(blank))[:, None, :]


@functools.cache
def _modulus(blank: int) -> np.ndarray:
    return np.array(blank + 1, dtype=np.int64)


def concat_rows(parts: list[np.ndarray], lengths: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Concatenate per-row prefixes: row i is parts[0][i, :lengths[0][i]] + parts[1][i, :lengths[1][i]] + ...

    :param parts: arrays with one row per sequence
    :param lengths: how much of each row of the matching part to keep
    :return: the rows padded with -1, and their total lengths
    """
    total = sum(lengths)
    width = int(total.max())
    out = np.full((parts[0].shape[0], width + 1), -1, dtype=np.int64)  # the extra column swallows padding
    start = np.zeros_like(total)
    for part, length in zip(parts, lengths, strict=True):
        j = np.arange(part.shape[1])[None, :]
        cols = np.where(j < length[:, None], start[:, None] + j, width)
        np.put_along_axis(out, cols, part, axis=1)
        start = start + length
    return out[:, :width], total


def per_row(fn: Callable[[np.ndarray, int], tuple[list[list[int]], list[int]]], blank: int) -> Builder:
    """Wrap a one-row builder (uniforms, length) -> (input rows, target) into a batched builder.

    For tasks whose targets are awkward to vectorise (big-number multiplication, sorting by key); the fast
    tasks (copy, reverse, addition) are vectorised directly.
    """

    def build(u: np.ndarray, lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        results = [fn(u[i], int(lengths[i])) for i in range(u.shape[0])]
        n_rows = len(results[0][0])
        width = max(len(r[0][0]) for r in results)
        twidth = max(len(r[1]) for r in results)
        inputs = np.full((len(results), n_rows, width), blank, dtype=np.int64)
        targets = np.full((len(results), twidth), -1, dtype=np.int64)
        for i, (grid, target) in enumerate(results):
            for r, row in enumerate(grid):
                inputs[i, r, : len(row)] = row
            targets[i, : len(target)] = target
        return inputs, targets

    return build
