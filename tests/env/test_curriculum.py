"""The RL-NTM mixture curriculum and fixed lengths."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

from memtape_env.curriculum import MixtureCurriculum, first_full_window


def _sample_mixture_by_definition(rng, n, current, low, high):
    """Sample the RL-NTM mixture as the paper words it, component by component."""
    out = np.empty(n, dtype=np.int64)
    for i in range(n):
        e = 1
        while rng.random() >= 0.5:  # p(e = k) = 2^-k
            e += 1
        top = min(current + e, high)
        r = rng.random()
        if r < 0.10:
            out[i] = rng.integers(low, high + 1)
        elif r < 0.35:
            out[i] = rng.integers(low, top + 1)
        else:
            out[i] = top
    return out


def test_mixture_matches_its_definition():
    c = MixtureCurriculum(start=10, low=1, high=40)
    ours = c.lengths(np.random.default_rng(0).random((100_000, 1)))
    ref = _sample_mixture_by_definition(np.random.default_rng(1), 100_000, 10, 1, 40)
    assert ours.min() >= 1 and ours.max() <= 40
    p_ours = np.bincount(ours, minlength=41) / len(ours)
    p_ref = np.bincount(ref, minlength=41) / len(ref)
    assert np.abs(p_ours - p_ref).max() < 0.01
    assert abs(p_ours[11] - 0.35) < 0.01  # 65% * 1/2 at C + 1, plus the uniform parts


def test_mixture_promotes_when_error_is_low_and_not_before_window():
    c = MixtureCurriculum(start=3, low=1, high=20, window=100)
    c.record(np.zeros(99), np.full(99, 10), np.full(99, 10))
    assert c.current == 3
    c.record(np.zeros(1), np.full(1, 10), np.full(1, 10))
    assert c.current == 4
    c.record(np.zeros(150), np.full(150, 5), np.full(150, 10))  # error 0.5: no promotion
    assert c.current == 4


def test_first_full_window_finds_earliest():
    hit, rest = first_full_window(np.zeros(0), np.array([1.0, 0, 0, 0, 1]), 3, lambda s: s == 0)
    assert hit == 3 and len(rest) == 0
    hit, rest = first_full_window(np.array([0.0]), np.array([1.0, 0]), 3, lambda s: s == 0)
    assert hit == -1 and rest.tolist() == [0.0, 1.0, 0.0]


def test_env_curriculum_promotes_in_the_env():
    env = gym.make("memtape/Copy-v0").unwrapped
    env.reset(seed=0)
    start = env.machine.curriculum.current
    for _ in range(100):
        m = env.machine
        for k in range(int(m.target_len[0])):
            env.step(np.array([1, 1, int(m.target[0, k])]))
        env.reset()
    assert env.machine.curriculum.current == start + 1


def test_fixed_length_range():
    env = gym.make("memtape/Copy-v0", curriculum="none", length=(3, 5)).unwrapped
    seen = set()
    for seed in range(50):
        env.reset(seed=seed)
        seen.add(int(env.machine.length[0]))
    assert seen == {3, 4, 5}


def test_first_full_window_batch_equals_one_at_a_time():
    rng = np.random.default_rng(0)
    for _ in range(300):
        window = int(rng.integers(1, 6))
        history = rng.integers(0, 2, size=int(rng.integers(0, window))).astype(float)
        new = rng.integers(0, 2, size=int(rng.integers(1, 12))).astype(float)
        hit, _ = first_full_window(history, new, window, lambda s: s == 0)
        one, h = -1, history
        for j, v in enumerate(new):
            r, h = first_full_window(h, np.array([v]), window, lambda s: s == 0)
            if r >= 0:
                one = j
                break
        assert hit == one


def test_curriculum_is_public_on_every_view():
    pytest.importorskip("stable_baselines3")
    from memtape_env.sb3 import MemTapeVecEnv

    env = gym.make("memtape/ClassicCopy-v0")
    assert env.unwrapped.curriculum.state() == {"min_length": 2}
    vec = gym.make_vec("memtape/Copy-v0", 2, vectorization_mode="vector_entry_point")
    assert vec.curriculum.state() == {"current_length": 2}
    assert MemTapeVecEnv("memtape/Copy-v0", 2).get_attr("curriculum")[0].kind == "rlntm"


def test_mixture_one_episode_at_a_time_equals_batches():
    """The single env records one episode per reset (a running-sum shortcut); batches go through
    first_full_window: both must promote at the same episodes and keep the same window."""
    rng = np.random.default_rng(0)
    target = rng.integers(1, 8, size=5000)
    # Errors hovering around the bar (0.2), so that many windows are decided by a hair.
    correct = np.where(rng.random(5000) < 0.6, target, rng.integers(0, 8, size=5000) % (target + 1))
    one, batched = MixtureCurriculum(2, 1, 40), MixtureCurriculum(2, 1, 40)
    currents_one, currents_batched = [], []
    for i in range(5000):
        one.record(np.zeros(1), correct[i : i + 1], target[i : i + 1])
        currents_one.append(one.current)
    cuts = np.sort(rng.choice(np.arange(1, 5000), size=700, replace=False))
    for lo, hi in zip(np.r_[0, cuts], np.r_[cuts, 5000], strict=True):
        batched.record(np.zeros(hi - lo), correct[lo:hi], target[lo:hi])
        currents_batched.append((hi, batched.current))
    assert 2 < one.current < 40  # the test exercises promotions, and stays below the top
    assert all(currents_one[hi - 1] == c for hi, c in currents_batched)
    assert np.array_equal(one.history, batched.history)


def test_find_curriculum_in_every_view() -> None:
    """The one lookup of a live curriculum: single env (wrapped or not), vector env, and neither."""
    import gymnasium as gym

    from memtape_env.curriculum import Curriculum, find_curriculum
    from memtape_env.vector_env import MemTapeVectorEnv

    env = gym.make("memtape/Copy-v0")
    found = find_curriculum(env)
    assert isinstance(found, Curriculum) and found is env.unwrapped.curriculum
    vec = MemTapeVectorEnv("Copy", num_envs=2)
    assert find_curriculum(vec) is vec.curriculum
    assert find_curriculum(gym.make("CartPole-v1")) is None
    assert find_curriculum(object()) is None
