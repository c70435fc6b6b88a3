"""Per-environment uniform streams, consumed in batches.

Each environment of a batch owns a `numpy.random.Generator` (seeded as Gymnasium seeds single envs) and a buffer of
uniforms drawn from it in fixed-size blocks. Drawing k uniforms for many environments at once is then one gather,
and environment i's numbers never depend on the batch it sits in: a vector env of n equals n single envs.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from gymnasium.utils import seeding


class UniformStreams:
    """`n` independent uniform streams, each refilled `block` float32 values at a time from its own Generator."""

    def __init__(self, n: int, block: int) -> None:
        self.n = n
        self.block = block
        # One flat buffer with a block of slack at the end, so that reading a full-width window never needs
        # clipping (what lies past a row's count is unspecified anyway).
        self._flat = np.zeros(n * block + block, dtype=np.float32)
        self.buffer = self._flat[: n * block].reshape(n, block)
        self.pos = np.full(n, block, dtype=np.int64)  # empty: the first take refills
        self.generators: list[np.random.Generator] = [seeding.np_random(None)[0] for _ in range(n)]
        self._starts = np.arange(n) * block  # each stream's offset in the flat buffer
        self._cols = np.arange(block + 1)
        self._draws: tuple[np.ndarray | None, np.ndarray | None] = (None, None)  # see take_episode
        self._windows = np.zeros((0, 0), dtype=np.float32)  # row s: the values after flat index s (take_episode)
        self._top = block  # an upper bound on every stream's position, kept in Python (see take_episode)

    def use(self, index: int, generator: np.random.Generator) -> None:
        """Draw stream `index` from `generator` from now on, dropping its buffered values."""
        self.generators[index] = generator
        self.pos[index] = self.block
        self._top = self.block

    def take(self, idx: np.ndarray, counts: np.ndarray | int) -> np.ndarray:
        """Take the next counts[j] uniforms of stream idx[j].

        :param idx: the streams to draw from
        :param counts: how many uniforms each draws (an int: the same for all)
        :return: float32 (len(idx), max(counts)); row j holds its counts[j] values first, what follows them is
            unspecified (task builders read only the prefix a row's length asks for, which the task tests check)
        """
        if isinstance(counts, int):  # a scalar broadcasts below
            width = counts
        else:
            width = int(counts.max()) if len(idx) else 0
        if width > self.block:
            raise ValueError(f"an episode needs {width} random numbers but streams hold {self.block}")
        pos = self.pos[idx]
        short = pos + counts > self.block
        if short.any():
            for i in idx[short].tolist():
                self.buffer[i] = self.generators[i].random(self.block, dtype=np.float32)
            pos[short] = 0
        start = idx * self.block + pos
        self.pos[idx] = pos + counts
        self._top = self.block
        if width == 1:
            return self._flat[start][:, None]
        return self._flat.take(start[:, None] + np.arange(width))

    def take_episode(
        self, idx: np.ndarray | None, lengths_of: Callable[[np.ndarray], np.ndarray], counts: np.ndarray, most: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """What one reset draws: one uniform for the episode length, then the uniforms of the input.

        The same numbers as `take(idx, 1)` followed by `take(idx, counts[lengths])`, read in one pass when no
        stream can run out on the way (the common case): one gather for the lengths, one for the inputs. Whether
        one can is judged from a Python bound on the positions, made exact again whenever it says maybe.

        :param idx: the streams to draw from (None: all)
        :param lengths_of: turns the first uniform of each stream into its episode length
        :param counts: counts[length], the uniforms an input of that length draws
        :param most: the largest value of `counts`
        :return: (lengths, uniforms)
        """
        if self._top + 1 + most > self.block:
            self._top = int(np.maximum.reduce(self.pos)) if self.n else 0
            if self._top + 1 + most > self.block or (idx is not None and not len(idx)):  # a refill may intervene
                every = self._starts // self.block if idx is None else idx
                lengths = lengths_of(self.take(every, 1))
                values = self.take(every, counts[lengths])
                self._top = int(np.maximum.reduce(self.pos)) if self.n else 0
                return lengths, values
        self._top += 1 + most
        sel = slice(None) if idx is None else idx
        pos = self.pos[sel]
        start = self._starts[sel] + pos
        lengths = lengths_of(self._flat[start][:, None])
        if self._draws[0] is not counts:  # uniforms per episode, by length: the count plus the length's own
            self._draws = (counts, counts + 1)
        self.pos[sel] = pos + self._draws[1].take(lengths)
        if len(lengths) * most <= 4096:  # a few rows read the widest window at once, as rows of a strided view
            if self._windows.shape[1] != most:
                self._windows = np.lib.stride_tricks.sliding_window_view(self._flat[1:], most)
            return lengths, self._windows[start]
        width = int(np.maximum.reduce(counts.take(lengths)))  # many rows read only as far as the longest needs
        return lengths, self._flat.take(start[:, None] + self._cols[1 : width + 1])
