"""The SB3 `MemTapeVecEnv` against SB3's own expectations: Monitor's episode info, `is_success`, indices, options."""

from __future__ import annotations

import warnings

import gymnasium as gym
import numpy as np
import pytest
from stable_baselines3.common.env_checker import check_env as sb3_check_env
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.monitor import Monitor
from stable_baselines3.common.vec_env import VecMonitor

from memtape_env.sb3 import MemTapeVecEnv
from tests.conftest import ALL_IDS
from tests.env.test_vector_env import _random_actions


def _rollout(env, steps: int, seed: int) -> list[dict]:
    rng = np.random.default_rng(seed)
    nvec = env.action_space.nvec
    ends = []
    env.reset()
    for _ in range(steps):
        _, _, dones, infos = env.step(rng.integers(0, nvec, size=(env.num_envs, len(nvec))))
        ends += [info for info, d in zip(infos, dones, strict=True) if d]
    return ends


def test_episode_and_is_success_as_monitor_gives_them():
    ours = _rollout(MemTapeVecEnv("memtape/ClassicCopy-v0", 3, seed=1), 200, 0)
    ref = _rollout(make_vec_env("memtape/ClassicCopy-v0", n_envs=3, seed=1), 200, 0)
    assert len(ours) == len(ref) > 0
    for x, y in zip(ours, ref, strict=True):
        assert {**x["episode"], "t": 0} == {**y["episode"], "t": 0}
        assert x["is_success"] is y["is_success"]
    assert all(isinstance(e["episode"]["t"], float) for e in ours)


def test_evaluate_policy_and_vec_monitor_see_a_monitor():
    from stable_baselines3.common.evaluation import evaluate_policy

    env = MemTapeVecEnv("memtape/ClassicCopy-v0", 2, seed=0)
    assert env.env_is_wrapped(Monitor) == [True, True]
    assert env.env_is_wrapped(VecMonitor) == [False, False]

    class Random:
        def predict(self, obs, state=None, episode_start=None, deterministic=False):
            return np.stack([env.action_space.sample() for _ in range(len(obs))]), None

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rewards, lengths = evaluate_policy(Random(), env, n_eval_episodes=6, return_episode_rewards=True)
    assert len(rewards) == 6 and all(length > 0 for length in lengths)


def test_indices_honoured_and_bad_ones_rejected_as_dummy_vec_env():
    ours = MemTapeVecEnv("memtape/Copy-v0", 3, seed=0)
    ref = make_vec_env("memtape/Copy-v0", n_envs=3, seed=0)
    for indices in (None, 0, [0], [2, 1], -1):
        assert len(ours.get_attr("render_mode", indices)) == len(ref.get_attr("render_mode", indices))
        assert len(ours.env_is_wrapped(Monitor, indices)) == len(ref.env_is_wrapped(Monitor, indices))
    for bad in (3, [0, 5], -4):
        with pytest.raises(IndexError):
            ref.get_attr("render_mode", bad)
        with pytest.raises(IndexError, match="out of range for 3 envs"):
            ours.get_attr("render_mode", bad)
        with pytest.raises(IndexError, match="out of range"):
            ours.env_method("render", indices=bad)


def test_env_method_refuses_a_subset_and_calls_the_batch_once():
    env = MemTapeVecEnv("memtape/Copy-v0", 3, seed=0)
    with pytest.raises(ValueError, match="share one machine"):
        env.env_method("reset", indices=[0])
    calls = []
    env.count = lambda: calls.append(1) or len(calls)  # type: ignore[attr-defined]
    assert env.env_method("count") == [1, 1, 1]
    assert env.env_method("count", indices=[0, 1, 2]) == [2, 2, 2]


def test_options_rejected_as_the_single_env_rejects_them():
    ours = MemTapeVecEnv("memtape/Copy-v0", 2, seed=0)
    ref = make_vec_env("memtape/Copy-v0", n_envs=2, seed=0)
    for env in (ours, ref):
        env.set_options({"length": 3})
        with pytest.raises(ValueError, match="options"):
            env.reset()


@pytest.mark.parametrize("env_id", ALL_IDS)
def test_sb3_checker_passes_without_warnings(env_id):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sb3_check_env(gym.make(env_id))


@pytest.mark.parametrize("env_id", ALL_IDS)
def test_sb3_vec_env_equals_dummy_vec_env(env_id):
    n = 3
    ours = MemTapeVecEnv(env_id, n, seed=5)
    ref = make_vec_env(env_id, n_envs=n, seed=5)
    assert np.array_equal(ours.reset(), ref.reset())
    for a in _random_actions(ours.action_space, n, 200, 2):
        o1, r1, d1, i1 = ours.step(a)
        o2, r2, d2, i2 = ref.step(a)
        assert np.array_equal(o1, o2) and np.array_equal(r1, r2) and np.array_equal(d1, d2)
        for x, y in zip(i1, i2, strict=True):
            assert x.keys() == y.keys()
            for k in x:
                if k == "episode":  # Monitor's entry; "t" is wall time
                    assert {**x[k], "t": 0} == {**y[k], "t": 0}
                else:
                    assert np.array_equal(x[k], y[k])


def test_sb3_vec_env_takes_the_machine_options_by_name_type_and_default():
    import inspect

    from memtape_env.machine import MACHINE_OPTIONS, build_machine

    machine = inspect.signature(build_machine).parameters
    params = inspect.signature(MemTapeVecEnv.__init__).parameters
    assert all(p.kind is not p.VAR_KEYWORD for p in params.values())
    for name in MACHINE_OPTIONS:
        assert (params[name].default, params[name].annotation) == (machine[name].default, machine[name].annotation)
    with pytest.raises(TypeError, match="bogus"):
        MemTapeVecEnv("memtape/Copy-v0", 2, bogus=1)
