"""Every bad input named in docs/design.md raises an error that names the problem."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import memtape_env
from memtape_env.tasks import get_task


@pytest.fixture
def env():
    e = gym.make("memtape/Copy-v0").unwrapped
    e.reset(seed=0)
    return e


@pytest.mark.parametrize(
    ("action", "error", "match"),
    [
        (np.array([1, 0]), ValueError, "shape"),
        (np.array([[1, 0, 0]]), ValueError, "shape"),
        (np.array([1.0, 0.0, 0.0]), TypeError, "integers"),
        (np.array([np.nan, 0, 0]), ValueError, "NaN"),
        (np.array([3, 0, 0]), ValueError, "input_move"),
        (np.array([1, 2, 0]), ValueError, "output_write"),
        (np.array([1, 0, 30]), ValueError, "output_symbol"),
        (np.array([-1, 0, 0]), ValueError, "input_move"),
        ("abc", ValueError, "shape"),
        ([1, [0, 1], 2], ValueError, "not an array"),
    ],
)
def test_bad_actions(env, action, error, match):
    with pytest.raises(error, match=match):
        env.step(action)


def test_plain_list_action_is_accepted(env):
    env.step([1, 0, 0])


def test_step_before_reset():
    e = gym.make("memtape/Copy-v0").unwrapped
    with pytest.raises(RuntimeError, match="reset"):
        e.step(np.array([1, 0, 0]))
    v = memtape_env.MemTapeVectorEnv("Copy", 2)
    with pytest.raises(RuntimeError, match="reset"):
        v.step(np.zeros((2, 3), dtype=np.int64))


def test_step_after_episode_end(env):
    env.step(np.array([1, 1, (env.machine.target[0, 0] + 1) % 30]))  # wrong symbol: terminates
    with pytest.raises(RuntimeError, match="episode has ended"):
        env.step(np.array([1, 0, 0]))


def test_vector_actions_checked():
    v = memtape_env.MemTapeVectorEnv("Copy", 2)
    v.reset(seed=0)
    with pytest.raises(ValueError, match="shape"):
        v.step(np.zeros((3, 3), dtype=np.int64))
    with pytest.raises(ValueError, match="output_symbol"):
        v.step(np.array([[1, 0, 0], [1, 0, 99]]))


def test_unknown_task_and_kwargs():
    with pytest.raises(gym.error.Error):
        gym.make("memtape/NoSuchTask-v0")
    with pytest.raises(KeyError, match="unknown task 'Nope'"):
        get_task("Nope")
    with pytest.raises(TypeError, match="unexpected keyword argument 'bogus'"):
        gym.make("memtape/Copy-v0", bogus=1)
    with pytest.raises(TypeError, match="unexpected keyword argument 'bogus'"):
        gym.make_vec("memtape/Copy-v0", 2, vectorization_mode="vector_entry_point", bogus=1)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"curriculum": "weird"}, ValueError, "curriculum must be one of"),
        ({"curriculum": "none"}, ValueError, "needs length"),
        ({"curriculum": "none", "length": 0}, ValueError, "length 0 is invalid"),
        ({"curriculum": "none", "length": (5, 3)}, ValueError, "invalid"),
        ({"curriculum": "none", "length": "ten"}, TypeError, "length must be"),
        ({"length": 5}, ValueError, "only used with curriculum='none'"),
        ({"observe_heads": 1}, TypeError, "observe_heads must be True or False"),
        ({"observe_tape": 0}, ValueError, "observe_tape must be a positive"),
        ({"memory_size": 2.5}, TypeError, "memory_size must be a positive integer or None"),
        ({"render_mode": "bogus"}, ValueError, "render_mode"),
        ({"max_length": 0}, ValueError, "max_length"),
    ],
)
def test_bad_constructor_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        gym.make("memtape/Copy-v0", **kwargs)


def test_memory_cannot_be_removed_from_forward_reverse():
    with pytest.raises(ValueError, match="needs its memory tape"):
        gym.make("memtape/ForwardReverse-v0", memory=False)


def test_observe_tape_too_narrow_is_named():
    env = gym.make("memtape/Copy-v0", curriculum="none", length=10, observe_tape=5)
    with pytest.raises(ValueError, match="observe_tape=5"):
        env.reset(seed=0)


def test_reset_options_rejected():
    with pytest.raises(ValueError, match="options"):
        gym.make("memtape/Copy-v0").reset(options={"length": 3})
