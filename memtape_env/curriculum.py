"""Length curricula: the classic Gym promotion rule, the RL-NTM mixture, and fixed lengths.

A curriculum belongs to one env instance (shared by all the environments of a vector env). It turns a few
uniforms into an episode length and learns from finished episodes. Every curriculum consumes `N_UNIFORM` uniforms
per episode so that switching curricula never shifts the input streams of the tasks.
"""

from __future__ import annotations

import abc

import numpy as np

from memtape_env.tasks import Task

N_UNIFORM = 3
KINDS = ("classic", "rlntm", "none")


def first_full_window(history: np.ndarray, new: np.ndarray, window: int, ok) -> tuple[int, np.ndarray]:
    """Append `new` to `history` (values since the last promotion); find the first full window of `window` values
    ending in `new` whose sum satisfies `ok`. Returns (its last index in `new` or -1, the last `window` values)."""
    values = np.concatenate([history, new])
    if len(values) < window:  # no full window yet: the common case early on, kept cheap
        return -1, values
    sums = np.concatenate([[0.0], np.cumsum(values)])
    ends = np.arange(max(window, len(history) + 1), len(values) + 1)
    hits = np.flatnonzero(ok(sums[ends] - sums[ends - window]))
    if len(hits):
        return int(ends[hits[0]]) - len(history) - 1, values[:0]
    return -1, values[-window:]


class Curriculum(abc.ABC):
    """Base: lengths from uniforms, and an update from finished episodes (no-op by default)."""

    kind = "none"

    @abc.abstractmethod
    def lengths(self, u: np.ndarray) -> np.ndarray:
        """Episode lengths for rows of uniforms u (n, N_UNIFORM)."""

    def record(self, returns: np.ndarray, correct: np.ndarray, target_lens: np.ndarray) -> None:
        """Learn from finished episodes, given in environment order (fixed lengths learn nothing)."""
        return None

    @property
    @abc.abstractmethod
    def max_length(self) -> int:
        """The longest length this curriculum can ever produce."""

    def state(self) -> dict:
        """The curriculum's state, for logging and for `info`."""
        return {}


class FixedLength(Curriculum):
    """Lengths uniform on [low, high] (a single length when low == high): evaluation, generalisation tests."""

    kind = "none"

    def __init__(self, low: int, high: int) -> None:
        self.low, self.high = low, high

    def lengths(self, u: np.ndarray) -> np.ndarray:
        return self.low + np.minimum((u[:, 0] * (self.high - self.low + 1)).astype(np.int64), self.high - self.low)

    @property
    def max_length(self) -> int:
        return self.high

    def state(self) -> dict:
        return {"length": (self.low, self.high)}


class ClassicCurriculum(Curriculum):
    """gym 0.19: length = min_length + randint(3); promote when each of the last `window` episodes fell short of
    the full reward by at most -shortfall, up to min_length 30."""

    kind = "classic"

    def __init__(self, start: int, window: int, shortfall: float, cap: int = 30) -> None:
        self.min_length = start
        self.window = window
        self.shortfall = shortfall
        self.cap = cap
        self.history = np.zeros(0)  # 1.0 for each recent episode that fell short by more than allowed

    def lengths(self, u: np.ndarray) -> np.ndarray:
        return self.min_length + np.minimum((u[:, 0] * 3).astype(np.int64), 2)

    def record(self, returns: np.ndarray, correct: np.ndarray, target_lens: np.ndarray) -> None:
        bad = ((returns - target_lens) < self.shortfall).astype(np.float64)
        while True:
            if self.min_length >= self.cap:
                self.history = np.concatenate([self.history, bad])[-self.window :]
                return
            hit, self.history = first_full_window(self.history, bad, self.window, lambda s: s == 0)
            if hit < 0:
                return
            self.min_length += 1
            bad = bad[hit + 1 :]

    @property
    def max_length(self) -> int:
        return self.cap + 2

    def state(self) -> dict:
        return {"min_length": self.min_length}


class MixtureCurriculum(Curriculum):
    """RL-NTM: 10% uniform over all lengths, 25% uniform on [min, C + e], 65% C + e, with p(e = k) = 2^-k.

    C grows by one when the length-normalised 0-1 error (the fraction of target symbols not written correctly) over
    the last `window` episodes falls under `threshold`, at least `window` episodes after the last promotion (the
    paper counts updates; an env sees episodes).
    """

    kind = "rlntm"

    def __init__(self, start: int, low: int, high: int, window: int = 100, threshold: float = 0.2) -> None:
        self.current = start
        self.low, self.high = low, high
        self.window = window
        self.threshold = threshold
        self.history = np.zeros(0)  # length-normalised errors of the episodes since the last promotion

    def lengths(self, u: np.ndarray) -> np.ndarray:
        # e >= 1 with p(e = k) = 2^-k: e = 1 + floor(-log2(u)).
        e = 1 + np.floor(-np.log2(np.maximum(u[:, 1], 1e-12))).astype(np.int64)
        top = np.minimum(self.current + e, self.high)
        span_all = self.high - self.low + 1
        uniform_all = self.low + np.minimum((u[:, 2] * span_all).astype(np.int64), span_all - 1)
        span_c = top - self.low + 1
        uniform_c = self.low + np.minimum((u[:, 2] * span_c).astype(np.int64), span_c - 1)
        return np.where(u[:, 0] < 0.10, uniform_all, np.where(u[:, 0] < 0.35, uniform_c, top))

    def record(self, returns: np.ndarray, correct: np.ndarray, target_lens: np.ndarray) -> None:
        errors = 1.0 - correct / np.maximum(target_lens, 1)
        while True:
            if self.current >= self.high:
                self.history = np.concatenate([self.history, errors])[-self.window :]
                return
            hit, self.history = first_full_window(
                self.history, errors, self.window, lambda s: s < self.threshold * self.window
            )
            if hit < 0:
                return
            self.current += 1
            errors = errors[hit + 1 :]

    @property
    def max_length(self) -> int:
        return self.high

    def state(self) -> dict:
        return {"current_length": self.current}


def make_curriculum(
    task: Task,
    curriculum: str | None,
    length: int | tuple[int, int] | None,
    max_length: int | None,
) -> Curriculum:
    """Build the curriculum an env asked for, checking every argument against the task."""
    kind = task.curriculum.kind if curriculum is None else curriculum
    if kind not in KINDS:
        raise ValueError(f"curriculum must be one of {KINDS}, got {kind!r}")
    floor = task.curriculum.min_length
    if kind == "none":
        if length is None:
            raise ValueError("curriculum='none' needs length=int or length=(low, high)")
        pair = (length, length) if isinstance(length, int | np.integer) else length
        if not (
            isinstance(pair, tuple | list)
            and len(pair) == 2
            and all(isinstance(v, int | np.integer) and not isinstance(v, bool) for v in pair)
        ):
            raise TypeError(f"length must be an int or a pair of ints (low, high), got {length!r}")
        low, high = pair
        if low < floor or high < low:
            raise ValueError(f"length {length!r} is invalid for {task.name}: need {floor} <= low <= high")
        return FixedLength(int(low), int(high))
    if length is not None:
        raise ValueError(f"length= is only used with curriculum='none' (got curriculum={kind!r})")
    high = task.curriculum.max_length if max_length is None else int(max_length)
    if high < floor:
        raise ValueError(f"max_length {high} is below {task.name}'s minimum length {floor}")
    if kind == "classic":
        c = task.curriculum
        window, shortfall = (c.window, c.shortfall) if c.kind == "classic" else (10, -1.0)
        return ClassicCurriculum(max(c.start_length, floor), window, shortfall, cap=max(high - 2, floor))
    return MixtureCurriculum(min(max(task.curriculum.start_length, floor), high), floor, high)
