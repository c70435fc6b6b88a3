"""The native vector env's infos and `final_obs` against a `SyncVectorEnv`, with Gymnasium's own equality helper.

`data_equivalence` compares types, dtypes, shapes and every value (masked-off entries included). Each id runs
with one env (so every episode end is an end of the whole batch) and with three, on a fixed length so that no
curriculum promotes; random actions end episodes every few steps.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import data_equivalence
from gymnasium.vector import AutoresetMode, SyncVectorEnv

from tests.conftest import ALL_IDS

MODES = [AutoresetMode.NEXT_STEP, AutoresetMode.SAME_STEP]
FIXED = {"curriculum": "none", "length": 3}


def _pair(env_id: str, n: int, mode: AutoresetMode) -> tuple[gym.vector.VectorEnv, SyncVectorEnv]:
    native = gym.make_vec(env_id, n, vectorization_mode="vector_entry_point", autoreset_mode=mode, **FIXED)
    sync = SyncVectorEnv([lambda: gym.make(env_id, **FIXED) for _ in range(n)], autoreset_mode=mode)
    return native, sync


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("env_id", ALL_IDS)
def test_infos_and_final_obs_equal_sync_vector_env(env_id, mode):
    ends = {1: 0, 3: 0}
    for n in ends:
        native, sync = _pair(env_id, n, mode)
        assert data_equivalence(native.reset(seed=3), sync.reset(seed=3), exact=True)
        rng = np.random.default_rng(n)
        for _ in range(40):
            a = rng.integers(0, native.single_action_space.nvec, size=(n, len(native.single_action_space.nvec)))
            got, want = native.step(a), sync.step(a)
            assert data_equivalence(got, want, exact=True), (got, want)
            done = got[2] | got[3]
            ends[n] += int(done.all())
    assert ends[1] > 0  # the whole batch ended on one step: the case that used to give a 2-D final_obs


@pytest.mark.parametrize("env_id", ALL_IDS)
def test_is_success_at_every_episode_end(env_id):
    """The single env sets is_success exactly at episode ends; True only when the episode ends on a correct
    symbol (solved), checked with a scripted perfect writer on ClassicCopy below."""
    env = gym.make(env_id, **FIXED)
    env.reset(seed=0)
    rng = np.random.default_rng(0)
    ended = 0
    for _ in range(60):
        _, reward, terminated, truncated, info = env.step(rng.integers(0, env.action_space.nvec))
        assert ("is_success" in info) == (terminated or truncated)
        if terminated or truncated:
            assert info["is_success"] == (terminated and reward > 0)
            ended += 1
            env.reset()
    assert ended > 0


def test_is_success_true_when_solved():
    env = gym.make("memtape/ClassicCopy-v0", curriculum="none", length=2)
    env.reset(seed=0)
    unwrapped = env.unwrapped
    target = unwrapped.machine.target[0]
    for k in range(int(unwrapped.machine.target_len[0])):
        # move right, write, the correct symbol
        _, reward, terminated, truncated, info = env.step(np.array([1, 1, int(target[k])]))
    assert terminated and info["is_success"] is True


def test_native_options_rejected_like_single_env():
    native, _ = _pair("memtape/Copy-v0", 2, AutoresetMode.NEXT_STEP)
    with pytest.raises(ValueError, match="options"):
        native.reset(options={"length": 3})
    with pytest.raises(ValueError, match="options"):
        gym.make("memtape/Copy-v0").reset(options={"length": 3})
