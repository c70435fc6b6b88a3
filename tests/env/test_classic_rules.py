"""The classic Gym ids follow gym 0.19 to the letter: rewards, internal step limit, curriculum, thresholds."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

THRESHOLDS = {
    "Copy": 25.0,
    "RepeatCopy": 75.0,
    "ReversedAddition": 25.0,
    "ReversedAddition3": 25.0,
    "DuplicatedInput": 9.0,
    "Reverse": 25.0,
}


@pytest.mark.parametrize(("name", "threshold"), THRESHOLDS.items())
def test_thresholds_and_episode_steps(name, threshold):
    spec = gym.spec(f"memtape/Classic{name}-v0")
    assert spec.reward_threshold == threshold
    assert spec.max_episode_steps == 200


def test_rewards_correct_wrong():
    env = gym.make("memtape/ClassicCopy-v0").unwrapped
    env.reset(seed=0)
    target = env.machine.target[0]
    _, r, te, _, info = env.step(np.array([1, 1, target[0]]))
    assert (r, te, info["target_symbol"]) == (1.0, False, target[0])
    _, r, te, _, _ = env.step(np.array([1, 0, 0]))
    assert (r, te) == (0.0, False)
    _, r, te, tr, _ = env.step(np.array([1, 1, (target[1] + 1) % 5]))
    assert (r, te, tr) == (-0.5, True, False)


@pytest.mark.parametrize(
    ("name", "limit"),
    [
        ("Copy", lambda w, t: w + t + 4),
        ("RepeatCopy", lambda w, t: w + t + 4),
        ("ReversedAddition", lambda w, t: 2 * w + 4),
    ],
)
def test_internal_step_limit(name, limit):
    env = gym.make(f"memtape/Classic{name}-v0").unwrapped
    env.reset(seed=1)
    m = env.machine
    expected = limit(int(m.input_len[0]), int(m.target_len[0]))
    assert m.limit[0] == expected
    for _ in range(expected):
        _, r, te, tr, _ = env.step(np.array([1, 0, 0]))
        assert (r, te, tr) == (0.0, False, False)
    _, r, te, tr, _ = env.step(np.array([1, 0, 0]))  # time > limit
    assert (r, te, tr) == (-1.0, False, True)


def test_lengths_start_and_range():
    for name, start in (("Copy", 2), ("Reverse", 1)):
        env = gym.make(f"memtape/Classic{name}-v0").unwrapped
        lengths = set()
        for seed in range(60):
            env.reset(seed=seed)
            lengths.add(int(env.machine.length[0]))
        assert lengths == {start, start + 1, start + 2}


def test_duplicated_input_rounds_down_to_pairs():
    env = gym.make("memtape/ClassicDuplicatedInput-v0", curriculum="none", length=5).unwrapped
    env.reset(seed=0)
    assert env.machine.input_len[0] == 4 and env.machine.target_len[0] == 2


def _play(env, n: int, fail: bool = False) -> None:
    """Play the current episode and n - 1 more, perfectly or with a wrong first symbol, resetting after each
    (gym 0.19 records an episode's shortfall at the next reset)."""
    for _ in range(n):
        m = env.machine
        for k in range(int(m.target_len[0])):
            symbol = int(m.target[0, k])
            if fail and k == 0:
                symbol = (symbol + 1) % env.task.output_base
            _, _, te, tr, _ = env.step(np.array([1, 1, symbol]))
            if te or tr:
                break
        env.reset()


@pytest.mark.parametrize(
    ("name", "window"), [("Copy", 10), ("DuplicatedInput", 10), ("Reverse", 50), ("RepeatCopy", 50)]
)
def test_promotion_after_window_of_good_episodes(name, window):
    env = gym.make(f"memtape/Classic{name}-v0").unwrapped
    env.reset(seed=0)
    start = env.machine.curriculum.min_length
    _play(env, window - 1)
    assert env.machine.curriculum.min_length == start
    _play(env, 1)
    assert env.machine.curriculum.min_length == start + 1
    assert int(env.machine.length[0]) in (start + 1, start + 2, start + 3)


def test_no_promotion_when_one_episode_falls_short():
    env = gym.make("memtape/ClassicCopy-v0").unwrapped
    env.reset(seed=0)
    _play(env, 9)
    _play(env, 1, fail=True)  # shortfall below -1: resets the run of good episodes
    _play(env, 9)
    assert env.machine.curriculum.min_length == 2
    _play(env, 1)
    assert env.machine.curriculum.min_length == 3


def test_reset_mid_episode_counts_as_an_episode():
    """gym 0.19 checks promotion at every reset, so an abandoned episode counts with its partial reward."""
    env = gym.make("memtape/ClassicCopy-v0").unwrapped
    env.reset(seed=0)
    _play(env, 9)
    env.reset()  # abandons an episode with reward 0: shortfall = -target_length < -1
    _play(env, 9)
    assert env.machine.curriculum.min_length == 2


def test_promotion_caps_at_30():
    env = gym.make("memtape/ClassicCopy-v0").unwrapped
    env.reset(seed=0)
    env.machine.curriculum.min_length = 30
    _play(env, 25)
    assert env.machine.curriculum.min_length == 30
    assert int(env.machine.length[0]) <= 32
