"""`EpisodeBuffer`: the steps of every env in preallocated numpy arrays, cut into padded batches of episodes.

Collection appends one row per step for all envs at once: the arrays are time-major, (rows, n_envs, ...), and
grow by doubling. An env's episode is the run of rows in its column from the row where the episode started to
the row where it ended, so a finished episode is recorded as three numbers (env, first row, length) and
`pop_finished` gathers all of them by index arithmetic into the (T, B) arrays of an `EpisodeArrays`, in the
order they finished (step by step, env index within a step). Rows that no running episode needs any more are
then dropped, so the arrays stay as long as the longest running episode, not the whole run.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from memtape_env.validation import check_positive_int


@dataclass(frozen=True)
class EpisodeArrays:
    """Whole episodes padded to the longest, as numpy arrays (T, B, ...) with `mask` marking real steps.

    Padding holds 0 (observations, actions, rewards) and -1 (targets), as `EpisodeBatch` expects.
    """

    obs: np.ndarray
    """(T, B, n_obs) int64 observations seen before each action."""
    actions: np.ndarray
    """(T, B, n_actions) int64 actions taken."""
    rewards: np.ndarray
    """(T, B) float32 rewards received after each action."""
    mask: np.ndarray
    """(T, B) bool, true on real steps."""
    targets: np.ndarray
    """(T, B) int64 `info["target_symbol"]` after output writes, -1 elsewhere."""

    @property
    def n_episodes(self) -> int:
        return self.mask.shape[1]

    @property
    def lengths(self) -> np.ndarray:
        """(B,) number of steps of each episode."""
        return self.mask.sum(0)


@dataclass(frozen=True)
class FinishedStep:
    """What one `EpisodeBuffer.append` ended: envs (ascending), and their episodes' returns and lengths."""

    envs: np.ndarray
    returns: np.ndarray
    lengths: np.ndarray


class EpisodeBuffer:
    """Steps of `n_envs` envs, appended a whole batch at a time; finished episodes cut out as `EpisodeArrays`.

    The running return of each env is summed in float64 in step order, as Python's `sum` over the rewards.
    """

    def __init__(self, n_envs: int, n_obs: int, n_actions: int, capacity: int = 64) -> None:
        for name, value in (("n_envs", n_envs), ("n_obs", n_obs), ("n_actions", n_actions), ("capacity", capacity)):
            check_positive_int(name, value, owner="EpisodeBuffer")
        self.n_envs, self.n_obs, self.n_actions = n_envs, n_obs, n_actions
        self._obs = np.zeros((capacity, n_envs, n_obs), dtype=np.int64)
        self._actions = np.zeros((capacity, n_envs, n_actions), dtype=np.int64)
        self._rewards = np.zeros((capacity, n_envs), dtype=np.float32)
        self._targets = np.zeros((capacity, n_envs), dtype=np.int64)
        self._row = 0  # the next row to write
        self._start = np.zeros(n_envs, dtype=np.int64)  # first row of each env's running episode
        self._return = np.zeros(n_envs, dtype=np.float64)
        self._finished: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []  # (envs, first rows, lengths)
        self.n_finished = 0
        self._no_finish = FinishedStep(np.zeros(0, np.int64), np.zeros(0, np.float64), np.zeros(0, np.int64))

    @property
    def capacity(self) -> int:
        return self._obs.shape[0]

    def _arrays(self) -> tuple[np.ndarray, ...]:
        return self._obs, self._actions, self._rewards, self._targets

    def _grow(self) -> None:
        """Double the rows, keeping the ones written."""
        grown = []
        for a in self._arrays():
            bigger = np.zeros((2 * a.shape[0], *a.shape[1:]), dtype=a.dtype)
            bigger[: self._row] = a[: self._row]
            grown.append(bigger)
        self._obs, self._actions, self._rewards, self._targets = grown

    def append(
        self, obs: np.ndarray, actions: np.ndarray, rewards: np.ndarray, targets: np.ndarray, dones: np.ndarray
    ) -> FinishedStep:
        """Record one step of every env.

        :param obs: the observations seen before `actions` (n_envs, n_obs)
        :param actions: the actions taken (n_envs, n_actions)
        :param rewards: the rewards after them (n_envs,)
        :param targets: the target symbols after them (n_envs,), -1 where nothing was written
        :param dones: which episodes ended with this step (n_envs,)
        :return: the episodes this step ended
        """
        if self._row == self.capacity:
            self._grow()
        row = self._row
        self._obs[row] = obs
        self._actions[row] = actions
        self._rewards[row] = rewards
        self._targets[row] = targets
        self._return += np.asarray(rewards, dtype=np.float64)
        self._row = row + 1
        if not dones.any():
            return self._no_finish
        envs = np.flatnonzero(dones)
        starts = self._start[envs]
        lengths = self._row - starts
        returns = self._return[envs]
        self._finished.append((envs, starts, lengths))
        self.n_finished += len(envs)
        self._return[envs] = 0.0
        self._start[envs] = self._row
        return FinishedStep(envs, returns, lengths)

    def pop_finished(self) -> EpisodeArrays:
        """The finished episodes, padded into (T, B) arrays in the order they ended; forgets them."""
        if not self._finished:
            raise RuntimeError("no episode has finished since the last pop_finished")
        envs, starts, lengths = (np.concatenate(parts) for parts in zip(*self._finished, strict=True))
        horizon = int(lengths.max())
        t = np.arange(horizon)[:, None]
        mask = t < lengths[None, :]
        rows = starts[None, :] + np.minimum(t, lengths[None, :] - 1)  # (T, B), clipped into each episode
        cols = np.broadcast_to(envs[None, :], rows.shape)
        obs = self._obs[rows, cols]
        actions = self._actions[rows, cols]
        obs[~mask] = 0
        actions[~mask] = 0
        rewards = np.where(mask, self._rewards[rows, cols], np.float32(0.0))
        targets = np.where(mask, self._targets[rows, cols], -1)
        self.discard_finished()
        return EpisodeArrays(obs=obs, actions=actions, rewards=rewards, mask=mask, targets=targets)

    def discard_finished(self) -> None:
        """Forget the finished episodes not yet popped (a collection stopped by a callback drops them)."""
        self._finished.clear()
        self.n_finished = 0
        self._drop_unneeded_rows()

    def _drop_unneeded_rows(self) -> None:
        """Move the rows of the running episodes to the top (only those are still needed)."""
        first = int(self._start.min())
        if first == 0:
            return
        kept = self._row - first
        for a in self._arrays():
            a[:kept] = a[first : self._row]  # numpy copies overlapping slices safely
        self._start -= first
        self._row = kept
