"""Per-environment uniform streams, consumed in batches.

Each environment of a batch owns a `numpy.random.Generator` (seeded as Gymnasium seeds single envs) and a buffer of
uniforms drawn from it in fixed-size blocks. Drawing k uniforms for many environments at once is then one gather,
and environment i's numbers never depend on the batch it sits in: a vector env of n equals n single envs.
"""

from __future__ import annotations

import numpy as np
from gymnasium.utils import seeding


class UniformStreams:
    """`n` independent uniform streams, each refilled `block` float32 values at a time from its own Generator."""

    def __init__(self, n: int, block: int) -> None:
        self.n = n
        self.block = block
        self.buffer = np.zeros((n, block), dtype=np.float32)
        self.pos = np.full(n, block, dtype=np.int64)  # empty: the first take refills
        self.generators: list[np.random.Generator] = [seeding.np_random(None)[0] for _ in range(n)]

    def use(self, index: int, generator: np.random.Generator) -> None:
        """Draw stream `index` from `generator` from now on, dropping its buffered values."""
        self.generators[index] = generator
        self.pos[index] = self.block

    def take(self, idx: np.ndarray, counts: np.ndarray | int) -> np.ndarray:
        """Take the next counts[j] uniforms of stream idx[j]; returns float64 (len(idx), max(counts)), where row j
        holds its counts[j] values first and zeros after them."""
        counts = np.broadcast_to(np.asarray(counts, dtype=np.int64), idx.shape)
        width = int(counts.max()) if len(idx) else 0
        if width > self.block:
            raise ValueError(f"an episode needs {width} random numbers but streams hold {self.block}")
        for i in idx[self.pos[idx] + counts > self.block].tolist():
            self.buffer[i] = self.generators[i].random(self.block, dtype=np.float32)
            self.pos[i] = 0
        pos = self.pos[idx]
        cols = np.arange(width)
        out = self.buffer[idx[:, None], np.minimum(pos[:, None] + cols, self.block - 1)]
        out[cols >= counts[:, None]] = 0.0
        self.pos[idx] = pos + counts
        return out.astype(np.float64)
