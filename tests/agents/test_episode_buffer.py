"""The episode buffer of Reinforce: its arrays, and exactly the episodes and updates of the list-of-steps
collection it replaced (kept below as the reference) for the same seed."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from gymnasium import spaces
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.env_util import make_vec_env

from agents.reinforce import EpisodeBatch, Reinforce
from agents.reinforce.buffer import EpisodeBuffer
from memtape_env.sb3 import MemTapeVecEnv

pytestmark = [pytest.mark.usefixtures("one_thread"), pytest.mark.filterwarnings("ignore:The `render_mode` attribute")]


# ----------------------------------------------------------------------------- the buffer alone
def test_buffer_cuts_episodes_in_finish_order_with_padding() -> None:
    buffer = EpisodeBuffer(n_envs=3, n_obs=1, n_actions=1, capacity=1)  # grows on the second step
    ends = {1: [0], 2: [1], 3: [0, 2]}  # step -> envs whose episode ends with it
    for step in range(4):
        dones = np.zeros(3, dtype=bool)
        dones[ends.get(step, [])] = True
        column = np.arange(3)
        ended = buffer.append(
            obs=(10 * step + column)[:, None],
            actions=(100 + 10 * step + column)[:, None],
            rewards=np.full(3, step, dtype=np.float32),
            targets=np.where(column == 1, step, -1),
            dones=dones,
        )
        np.testing.assert_array_equal(ended.envs, ends.get(step, []))
    assert buffer.n_finished == 4 and buffer.capacity == 4
    episodes = buffer.pop_finished()
    # Ended: env 0 after steps 0-1, env 1 after 0-2, env 0 after 2-3, env 2 after 0-3.
    np.testing.assert_array_equal(episodes.lengths, [2, 3, 2, 4])
    np.testing.assert_array_equal(
        episodes.obs[..., 0], [[0, 1, 20, 2], [10, 11, 30, 12], [0, 21, 0, 22], [0, 0, 0, 32]]
    )
    np.testing.assert_array_equal(episodes.actions[..., 0] - 100 * episodes.mask, episodes.obs[..., 0])
    np.testing.assert_array_equal(episodes.rewards, [[0, 0, 2, 0], [1, 1, 3, 1], [0, 2, 0, 2], [0, 0, 0, 3]])
    np.testing.assert_array_equal(episodes.targets[:, 1], [0, 1, 2, -1])
    assert (episodes.targets[:, [0, 2, 3]] == -1).all()
    with pytest.raises(RuntimeError, match="no episode has finished"):
        buffer.pop_finished()


def test_buffer_keeps_only_the_rows_of_running_episodes() -> None:
    buffer = EpisodeBuffer(n_envs=2, n_obs=1, n_actions=1, capacity=2)
    for step in range(100):
        dones = np.array([True, step % 3 == 2])
        buffer.append(np.full((2, 1), step), np.zeros((2, 1)), np.ones(2), np.full(2, -1), dones)
        if buffer.n_finished >= 4:
            episodes = buffer.pop_finished()
            assert (episodes.lengths >= 1).all()
    assert buffer.capacity <= 8  # not 128 rows: the finished ones were dropped
    with pytest.raises(ValueError, match="EpisodeBuffer: n_envs must be a positive integer, got 0"):
        EpisodeBuffer(0, 1, 1)


# ----------------------------------------------------------------------------- same as the list collection
class ListReinforce(Reinforce):
    """Reinforce with the collection it had before the buffer: per-env lists of (obs, action, reward, target)."""

    def collect_episodes(self, env, callback):  # the previous implementation, verbatim but for `_partial`
        assert self._last_obs is not None and self._last_episode_starts is not None
        n_envs = env.num_envs
        partial = getattr(self, "_partial", [])
        if self._state is None or len(partial) != n_envs:
            self._state = self.policy.initial_state(n_envs)
            self._partial = [[] for _ in range(n_envs)]
            self._last_episode_starts = np.ones(n_envs, dtype=bool)
        self.policy.set_training_mode(False)
        finished: list[list[tuple]] = []
        callback.on_rollout_start()
        while len(finished) < self.config.batch_episodes:
            obs = np.asarray(self._last_obs).reshape(n_envs, self._n_obs)
            with torch.no_grad():
                obs_t = torch.as_tensor(obs, device=self.device)
                starts = torch.as_tensor(self._last_episode_starts, device=self.device)
                actions_t, self._state = self.policy.step(obs_t, self._state, starts, greedy_components=self._greedy)
            actions = actions_t.cpu().numpy()
            env_actions = actions[:, 0] if isinstance(self.action_space, spaces.Discrete) else actions
            new_obs, rewards, dones, infos = env.step(env_actions)
            self.num_timesteps += n_envs
            self._update_info_buffer(infos, dones)
            callback.update_locals(locals())
            if not callback.on_step():
                return None
            for i in range(n_envs):
                target = infos[i].get("target_symbol", -1)
                target = -1 if target is None else int(target)
                self._partial[i].append((obs[i], actions[i], float(rewards[i]), target))
                if dones[i]:
                    self.episode_returns.append(sum(step[2] for step in self._partial[i]))
                    self.episode_lengths.append(len(self._partial[i]))
                    finished.append(self._partial[i])
                    self._partial[i] = []
            self._last_obs = new_obs
            self._last_episode_starts = dones
        callback.update_locals(locals())
        callback.on_rollout_end()
        return finished

    def _to_batch(self, episodes) -> EpisodeBatch:
        n, horizon = len(episodes), max(len(e) for e in episodes)
        obs = np.zeros((horizon, n, self._n_obs), dtype=np.int64)
        actions = np.zeros((horizon, n, self._n_actions), dtype=np.int64)
        rewards = np.zeros((horizon, n), dtype=np.float32)
        mask = np.zeros((horizon, n), dtype=bool)
        targets = np.full((horizon, n), -1, dtype=np.int64)
        for b, episode in enumerate(episodes):
            steps = len(episode)
            obs[:steps, b] = np.stack([s[0] for s in episode])
            actions[:steps, b] = np.stack([s[1] for s in episode])
            rewards[:steps, b] = [s[2] for s in episode]
            targets[:steps, b] = [s[3] for s in episode]
            mask[:steps, b] = True
        arrays = (obs, actions, rewards, mask, targets)
        return EpisodeBatch(*(torch.as_tensor(a) for a in arrays)).to(self.device)


class StopAt(BaseCallback):
    """Stops `learn` at a number of callback steps (mid-collection)."""

    def __init__(self, steps: int) -> None:
        super().__init__()
        self.steps = steps

    def _on_step(self) -> bool:
        return self.n_calls < self.steps


def run(cls: type[Reinforce], env_fn, steps: int, **kwargs) -> tuple[Reinforce, list[EpisodeBatch]]:
    batches: list[EpisodeBatch] = []

    class Recording(cls):  # type: ignore[valid-type, misc]
        def _to_batch(self, episodes):
            batch = super()._to_batch(episodes)
            batches.append(batch)
            return batch

    model = Recording("ControllerPolicy", env_fn(), seed=0, device="cpu", **kwargs)
    model.learn(steps)
    model.learn(steps // 2, reset_num_timesteps=False)  # carries the running episodes over
    model.learn(steps, reset_num_timesteps=False, callback=StopAt(7))  # stopped in the middle of a collection
    model.learn(steps // 2, reset_num_timesteps=False)
    return model, batches


def memtape(env_id: str, n: int, **env_kwargs):
    return lambda: MemTapeVecEnv(env_id, n, seed=3, **env_kwargs)


CASES = {
    # Episodes of many lengths (curriculum on), the hybrid objective's targets, fewer episodes than envs.
    "reverse-lstm-supervised": (
        memtape("memtape/ClassicReverse-v0", 16),
        dict(batch_episodes=10, supervised_output=True, policy_kwargs=dict(controller_class="lstm")),
    ),
    # More episodes than envs (envs finish several per batch), the DNC.
    "copy-dnc": (
        memtape("memtape/ClassicCopy-v0", 5, curriculum="none", length=3),
        dict(
            batch_episodes=12,
            policy_kwargs=dict(controller_class="dnc", controller_kwargs=dict(memory_size=8, word_size=8)),
        ),
    ),
    # A DummyVecEnv of Monitor-wrapped gym envs: float rewards, infos without targets, the offline baseline off.
    "dummy-vec-env-gru": (
        lambda: make_vec_env(
            "memtape/ClassicCopy-v0", n_envs=3, seed=1, env_kwargs=dict(curriculum="none", length=(1, 3))
        ),
        dict(batch_episodes=4, baseline="none", policy_kwargs=dict(controller_class="gru")),
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_buffer_gives_the_episodes_and_updates_of_the_list_collection(case: str) -> None:
    env_fn, kwargs = CASES[case]
    new, new_batches = run(Reinforce, env_fn, 600, **kwargs)
    old, old_batches = run(ListReinforce, env_fn, 600, **kwargs)
    assert len(new_batches) == len(old_batches) >= 3
    for a, b in zip(new_batches, old_batches, strict=True):
        for field in ("obs", "actions", "rewards", "mask", "targets"):
            x, y = getattr(a, field), getattr(b, field)
            assert x.dtype == y.dtype and torch.equal(x, y), field
    assert new.num_timesteps == old.num_timesteps
    assert list(new.episode_returns) == list(old.episode_returns)
    assert list(new.episode_lengths) == list(old.episode_lengths)
    np.testing.assert_array_equal(new._online_baseline, old._online_baseline)
    for p, q in zip(new.policy.parameters(), old.policy.parameters(), strict=True):
        assert torch.equal(p, q)
