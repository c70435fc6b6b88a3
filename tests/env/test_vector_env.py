"""Determinism and the views of the machine: single env, native vector env, SyncVectorEnv (SB3 VecEnv:
tests/agents/test_sb3_vecenv.py)."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.vector import AutoresetMode, SyncVectorEnv

from tests.conftest import ALL_IDS


def _random_actions(space: gym.spaces.MultiDiscrete, n: int, steps: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    # Bias towards writing so that episodes end (and autoreset) often.
    acts = rng.integers(0, space.nvec, size=(steps, n, len(space.nvec)))
    return acts


@pytest.mark.parametrize("env_id", ALL_IDS)
def test_same_seed_same_rollout(env_id):
    runs = []
    for _ in range(2):
        env = gym.make(env_id)
        obs, _ = env.reset(seed=7)
        trace = [obs.tolist()]
        for a in _random_actions(env.action_space, 1, 200, 0)[:, 0]:
            obs, r, te, tr, info = env.step(a)
            trace.append((obs.tolist(), r, te, tr, info))
            if te or tr:
                obs, _ = env.reset()
                trace.append(obs.tolist())
        runs.append(trace)
    assert runs[0] == runs[1]


@pytest.mark.parametrize("mode", [AutoresetMode.NEXT_STEP, AutoresetMode.SAME_STEP])
@pytest.mark.parametrize("env_id", ALL_IDS)
def test_native_vector_env_equals_sync_vector_env(env_id, mode):
    n = 4
    native = gym.make_vec(env_id, n, vectorization_mode="vector_entry_point", autoreset_mode=mode)
    sync = SyncVectorEnv([lambda: gym.make(env_id) for _ in range(n)], autoreset_mode=mode)
    o1, _ = native.reset(seed=11)
    o2, _ = sync.reset(seed=11)
    assert np.array_equal(o1, o2)
    for a in _random_actions(native.single_action_space, n, 150, 1):
        r1, r2 = native.step(a), sync.step(a)
        for x, y in zip(r1[:4], r2[:4], strict=True):
            assert np.array_equal(x, y)
        _assert_infos_equal(r1[4], r2[4])


def _assert_infos_equal(a: dict, b: dict) -> None:
    assert set(a) == set(b), (a, b)
    for key in a:
        if key.startswith("_"):
            assert np.array_equal(a[key], b[key])
        elif isinstance(a[key], dict):
            _assert_infos_equal(a[key], b[key])
        else:
            mask = a[f"_{key}"]
            for x, y in zip(a[key][mask], b[key][mask], strict=True):
                assert np.array_equal(x, y)


def test_vector_env_seeds_list_and_none():
    v = gym.make_vec("memtape/Copy-v0", 3, vectorization_mode="vector_entry_point")
    o1, _ = v.reset(seed=[1, 2, 3])
    o2, _ = v.reset(seed=1)
    assert np.array_equal(o1, o2)
    with pytest.raises(ValueError, match="3 envs"):
        v.reset(seed=[1, 2])


def test_vector_env_long_inputs_and_memory_budget():
    """4096 envs with inputs of length 500 fit: input, target and random buffers stay small."""
    v = gym.make_vec("memtape/Copy-v0", 4096, vectorization_mode="vector_entry_point", curriculum="none", length=500)
    v.reset(seed=0)
    m = v.unwrapped.machine if hasattr(v, "unwrapped") else v.machine
    nbytes = sum(a.nbytes for a in (m.input, m.target, m.streams.buffer, m.mem))
    assert nbytes < 200 * 2**20
    obs, *_ = v.step(np.zeros((4096, 3), dtype=np.int64))
    assert obs.shape == (4096, 1)


@pytest.mark.parametrize("mode", [AutoresetMode.NEXT_STEP, AutoresetMode.SAME_STEP])
def test_curriculum_sees_exactly_the_finished_episodes(mode):
    """Envs waiting for their autoreset take no real step, so nothing extra reaches the curriculum."""
    v = gym.make_vec("memtape/Copy-v0", 16, vectorization_mode="vector_entry_point", autoreset_mode=mode)
    v.reset(seed=0)
    finished = 0
    for a in _random_actions(v.single_action_space, 16, 100, 3):
        _, _, terminated, truncated, _ = v.step(a)
        finished += int((terminated | truncated).sum())
    assert finished > 100
    assert v.machine.episodes == finished
