"""Length curricula: the classic Gym promotion rule, the RL-NTM mixture, and fixed lengths.

A curriculum belongs to one env instance (shared by all the environments of a vector env). It keeps the
distribution of episode lengths as a table (recomputed only when it promotes), turns one uniform per episode into
a length with a single `searchsorted`, and learns from finished episodes.
"""

from __future__ import annotations

import abc

import numpy as np

from memtape_env.tasks import Task
from memtape_env.validation import check_int

N_UNIFORM = 1
KINDS = ("classic", "rlntm", "none")


def first_full_window(history: np.ndarray, new: np.ndarray, window: int, ok) -> tuple[int, np.ndarray]:
    """Append `new` to `history` and find the first full window of values ending in `new` whose sum satisfies `ok`.

    One new value, the single env's case, costs a single sum; a batch uses running sums.

    :param history: the values since the last promotion
    :param new: the values to append
    :param window: the number of values in a window
    :param ok: the test on a window's sum (vectorised over an array of sums)
    :return: (the window's last index in `new`, or -1 when none passes; the last `window` values)
    """
    values = np.concatenate([history, new])
    if len(values) < window:  # no full window yet
        return -1, values
    if len(new) == 1:
        return (0, values[:0]) if ok(values[-window:].sum()) else (-1, values[-window:])
    first = max(0, len(history) + 1 - window)
    # Running sums keep batches O(n); windows of 0/1 flags (the classic rule) stay exact.
    csum = np.concatenate([[0.0], np.cumsum(values[first:])])
    sums = csum[window:] - csum[:-window]
    hits = np.flatnonzero(ok(sums))
    if len(hits):
        return first + int(hits[0]) + window - len(history) - 1, values[:0]
    return -1, values[-window:]


class Curriculum(abc.ABC):
    """Base: a length distribution on [low, high] kept as a cumulative table, and updates from finished episodes."""

    kind = "none"
    low: int
    high: int

    def __init__(self) -> None:
        self._cdf = self._table()
        self._low = np.array(self.low, dtype=np.int64)  # 0-d: numpy adds it faster than a Python int

    @abc.abstractmethod
    def probabilities(self) -> np.ndarray:
        """P(length = low + i) for i = 0 .. high - low, under the current state."""

    def _table(self) -> np.ndarray:
        p = self.probabilities()
        cdf = np.cumsum(p / p.sum())
        cdf[-1] = 1.0
        return cdf

    def lengths(self, u: np.ndarray) -> np.ndarray:
        """Episode lengths for uniforms u (n, N_UNIFORM)."""
        return self._cdf.searchsorted(u[:, 0], "right") + self._low

    def record(self, returns: np.ndarray, correct: np.ndarray, target_lens: np.ndarray) -> None:
        """Learn from finished episodes, given in environment order (fixed lengths learn nothing)."""
        return None

    @property
    def max_length(self) -> int:
        """The longest length this curriculum can ever produce."""
        return self.high

    @property
    def level(self) -> int:
        """Where the curriculum stands, as one length (the progress signal of a learning curve)."""
        return self.high

    @property
    def top_level(self) -> int:
        """The highest `level` the curriculum can reach: a run there has learned every length it trains on."""
        return self.high

    def state(self) -> dict:
        """The curriculum's state, for logging."""
        return {}


class FixedLength(Curriculum):
    """Lengths uniform on [low, high] (a single length when low == high): evaluation, generalisation tests."""

    kind = "none"

    def __init__(self, low: int, high: int) -> None:
        self.low, self.high = low, high
        super().__init__()

    def probabilities(self) -> np.ndarray:
        return np.ones(self.high - self.low + 1)

    def state(self) -> dict:
        return {"length": (self.low, self.high)}


class ClassicCurriculum(Curriculum):
    """gym 0.19: length = min_length + randint(3); promote when each of the last `window` episodes fell short of
    the full reward by at most -shortfall, up to min_length `cap` (30)."""

    kind = "classic"

    def __init__(self, start: int, window: int, shortfall: float, cap: int = 30) -> None:
        self._min_length = start
        self.window = window
        self.shortfall = shortfall
        self.cap = cap
        self.low, self.high = start, cap + 2
        self.run = 0  # consecutive good episodes since the last promotion or shortfall
        super().__init__()

    @property
    def min_length(self) -> int:
        """gym's min_length: episodes have lengths min_length .. min_length + 2."""
        return self._min_length

    @min_length.setter
    def min_length(self, value: int) -> None:
        self._min_length = check_int("min_length", value, self.low, self.cap)
        self._cdf = self._table()

    def probabilities(self) -> np.ndarray:
        p = np.zeros(self.high - self.low + 1)
        p[self.min_length - self.low : self.min_length - self.low + 3] = 1.0
        return p

    def record(self, returns: np.ndarray, correct: np.ndarray, target_lens: np.ndarray) -> None:
        # gym keeps the last `window` shortfalls (cleared at promotion) and promotes when none is below the bar:
        # the same as counting consecutive good episodes since the last promotion or bad one.
        bad = (returns - target_lens) < self.shortfall
        if bad.all():  # the common case early in training, kept to three calls
            self.run = 0
            return
        while len(bad):
            pos = np.arange(1, len(bad) + 1)
            last_bad = np.maximum.accumulate(np.where(bad, pos, 0))
            run = np.where(last_bad > 0, pos - last_bad, self.run + pos)
            hits = np.flatnonzero(run >= self.window)
            if self.min_length >= self.cap or not len(hits):
                self.run = int(run[-1])
                return
            self.min_length += 1
            self.run = 0
            bad = bad[hits[0] + 1 :]

    @property
    def level(self) -> int:
        return self.min_length

    @property
    def top_level(self) -> int:
        return self.cap

    def state(self) -> dict:
        return {"min_length": self.min_length}


class MixtureCurriculum(Curriculum):
    """RL-NTM: 10% uniform over all lengths, 25% uniform on [low, C + e], 65% C + e, with p(e = k) = 2^-k, k >= 1.

    C grows by one when the length-normalised 0-1 error (the fraction of target symbols not written correctly)
    over the last `window` episodes falls under `threshold`, at least `window` episodes after the last promotion
    (the paper counts updates; an env sees episodes).
    """

    kind = "rlntm"

    def __init__(self, start: int, low: int, high: int, window: int = 100, threshold: float = 0.2) -> None:
        self._current = start
        self.low, self.high = low, high
        self.window = window
        self.threshold = threshold
        # Length-normalised errors of the episodes since the last promotion (the last `window` are kept): a
        # buffer with room to append, so that the single env's one episode per reset costs no reallocation.
        self._errors = np.zeros(2 * window)
        self._count = 0
        self._sum = 0.0  # running sum of the last window, only to skip the exact sum when far from the bar
        super().__init__()

    @property
    def history(self) -> np.ndarray:
        """The last (up to `window`) length-normalised errors since the last promotion."""
        return self._errors[max(0, self._count - self.window) : self._count]

    @history.setter
    def history(self, values: np.ndarray) -> None:
        values = values[-self.window :]
        self._errors[: len(values)] = values
        self._count = len(values)
        self._sum = float(np.add.reduce(values))

    @property
    def current(self) -> int:
        """C, the length the mixture centres on."""
        return self._current

    @current.setter
    def current(self, value: int) -> None:
        self._current = check_int("current length", value, self.low, self.high)
        self._cdf = self._table()

    def probabilities(self) -> np.ndarray:
        n = self.high - self.low + 1
        p = np.full(n, 0.10 / n)
        for k in range(1, 64):  # p(e = k) = 2^-k; the tail past 63 is below float precision
            top = min(self.current + k, self.high) - self.low
            p[: top + 1] += 0.25 * 2.0**-k / (top + 1)
            p[top] += 0.65 * 2.0**-k
        return p

    def record(self, returns: np.ndarray, correct: np.ndarray, target_lens: np.ndarray) -> None:
        if len(correct) == 1 and self.current < self.high:  # Python floats round as numpy's float64 does
            self._record_one(1.0 - int(correct[0]) / max(int(target_lens[0]), 1))
            return
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

    def _record_one(self, error: float) -> None:
        """`record` for one episode (the single env's case): append, then test the last window's sum. The exact
        sum is the one `first_full_window` takes; a running sum (rounding error far below 1e-6: it is recomputed
        at least every window + 1 episodes) skips it while the window is clearly above the bar."""
        buf, n, window = self._errors, self._count, self.window
        if n == len(buf):  # full: keep the last window - 1 values, all a later window can reach
            buf[: window - 1] = buf[n - window + 1 :]
            n = window - 1
            self._sum = float(np.add.reduce(buf[:n]))
        buf[n] = error
        self._sum += error
        if n >= window:
            self._sum -= buf.item(n - window)
        n += 1
        self._count = n
        bar = self.threshold * window
        if n >= window and self._sum < bar + 1e-6 and np.add.reduce(buf[n - window : n]) < bar:
            self.current += 1
            self._count = 0
            self._sum = 0.0

    @property
    def level(self) -> int:
        return self.current

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


def find_curriculum(env: object) -> Curriculum | None:
    """The live curriculum behind `env`, or None when it has none (another package's env).

    Takes a memtape env (possibly wrapped), a `MemTapeVectorEnv`, or an SB3 VecEnv (`MemTapeVecEnv`, or a
    `DummyVecEnv` of memtape envs, whose first env is asked): the one place that knows where a curriculum lives.
    """
    get_attr = getattr(env, "get_attr", None)
    if callable(get_attr):  # an SB3 VecEnv
        try:
            found = get_attr("curriculum", indices=[0])[0]
        except (AttributeError, IndexError, KeyError, TypeError):
            return None
    else:
        found = getattr(getattr(env, "unwrapped", env), "curriculum", None)
    return found if isinstance(found, Curriculum) else None
