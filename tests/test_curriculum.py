"""The RL-NTM mixture curriculum and fixed lengths."""

from __future__ import annotations

import gymnasium as gym
import numpy as np

from memtape_env.curriculum import MixtureCurriculum, first_full_window


def test_mixture_proportions():
    c = MixtureCurriculum(start=10, low=1, high=40)
    u = np.random.default_rng(0).random((200_000, 3))
    lengths = c.lengths(u)
    assert lengths.min() >= 1 and lengths.max() <= 40
    # 65% are C + e with e >= 1 (so > C); e = 1 has probability 1/2 within that part.
    assert abs(np.mean(lengths == 11) - (0.65 * 0.5 + 0.25 * 0.5 / 11 + 0.10 / 40)) < 0.01
    assert np.mean(lengths > 10) > 0.65


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
