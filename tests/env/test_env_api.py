"""The Gymnasium contract of every registered id: checkers, spaces, names, registration metadata."""

from __future__ import annotations

import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import memtape_env
from memtape_env.tasks import TASKS
from tests.conftest import ALL_IDS

ACTION_ORDER = ("input_move", "memory_move", "memory_write", "output_write", "output_symbol")


def test_at_least_sixteen_ids_across_every_family():
    assert len(ALL_IDS) >= 16
    families = {t.family for t in TASKS.values()}
    assert families == {"rlntm", "classic", "neural_gpu", "ntm", "grid"}
    for name in ("Copy", "DuplicatedInput", "Reverse", "RepeatCopy", "ForwardReverse"):
        assert f"memtape/{name}-v0" in ALL_IDS
    for name in ("Copy", "DuplicatedInput", "RepeatCopy", "Reverse", "ReversedAddition", "ReversedAddition3"):
        assert f"memtape/Classic{name}-v0" in ALL_IDS


@pytest.mark.parametrize("env_id", ALL_IDS)
def test_gymnasium_checker_passes_without_warnings(env_id):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_env(gym.make(env_id).unwrapped)


@pytest.mark.parametrize("env_id", ALL_IDS)
def test_registration_metadata(env_id):
    spec = gym.spec(env_id)
    assert spec.max_episode_steps is not None
    assert spec.reward_threshold is not None
    assert spec.vector_entry_point is not None
    vec = gym.make_vec(env_id, 3, vectorization_mode="vector_entry_point")
    assert isinstance(vec, memtape_env.MemTapeVectorEnv)


@pytest.mark.parametrize("env_id", ALL_IDS)
def test_space_layout_and_names(env_id):
    env = gym.make(env_id, observe_prev_action=True, observe_heads=True, observe_tape=80)
    u = env.unwrapped
    assert isinstance(env.action_space, gym.spaces.MultiDiscrete)
    assert isinstance(env.observation_space, gym.spaces.MultiDiscrete)
    assert len(u.action_names) == len(env.action_space.nvec)
    assert len(u.observation_names) == len(env.observation_space.nvec)
    # Action components keep the documented order (docs/design.md).
    assert list(u.action_names) == [n for n in ACTION_ORDER if n in u.action_names]
    assert u.observation_names[0] == "input_symbol"
    has_memory = u.task.has_memory
    assert ("memory_symbol" in u.observation_names) == has_memory
    assert ("memory_head" in u.observation_names) == has_memory
    assert u.observation_names[1] == ("memory_symbol" if has_memory else "prev_input_move")
    assert [n for n in u.observation_names if n.startswith("tape[")][-1] == f"tape[{80 * u.task.rows - 1}]"
    obs, _ = env.reset(seed=0)
    assert env.observation_space.contains(obs)


def test_memtape_env_does_not_import_torch_or_sb3():
    import subprocess
    import sys

    code = "import sys, memtape_env; assert 'torch' not in sys.modules and 'stable_baselines3' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_classic_spaces_match_gym_019():
    for name, moves, base in (("ClassicCopy", 2, 5), ("ClassicReverse", 2, 2), ("ClassicReversedAddition", 4, 3)):
        env = gym.make(f"memtape/{name}-v0")
        assert env.action_space.nvec.tolist() == [moves, 2, base]
        assert env.observation_space.nvec.tolist() == [base + 1]


def test_memory_tape_blank_is_last_index():
    env = gym.make("memtape/ForwardReverse-v0")
    obs, _ = env.reset(seed=0)
    j = env.unwrapped.observation_names.index("memory_symbol")
    assert obs[j] == env.observation_space.nvec[j] - 1
    assert env.unwrapped.action_names == ("input_move", "memory_move", "memory_write", "output_write", "output_symbol")


def test_prev_action_observation_reports_last_action():
    env = gym.make("memtape/Copy-v0", observe_prev_action=True)
    obs, _ = env.reset(seed=0)
    nvec = env.action_space.nvec
    assert obs[1:].tolist() == nvec.tolist()  # "no action yet"
    action = np.array([2, 0, 5])
    obs, *_ = env.step(action)
    assert obs[1:].tolist() == action.tolist()


def test_head_observations_follow_the_heads():
    env = gym.make("memtape/ForwardReverse-v0", observe_heads=True, curriculum="none", length=6)
    names = env.unwrapped.observation_names
    obs, _ = env.reset(seed=1)
    assert obs[names.index("input_head")] == 1 and obs[names.index("memory_head")] == 0
    # input right, memory right, write symbol 3 into memory, no output
    obs, *_ = env.step(np.array([1, 2, 4, 0, 0]))
    assert obs[names.index("input_head")] == 2 and obs[names.index("memory_head")] == 1
    obs, *_ = env.step(np.array([0, 0, 0, 0, 0]))  # memory left
    assert obs[names.index("memory_symbol")] == 3


@pytest.mark.parametrize("view", ["env", "vector_env"])
def test_views_take_the_machine_options_by_name_type_and_default(view):
    """Every view lists the machine's options explicitly (help(), IDEs), the same as `build_machine`."""
    import inspect

    from memtape_env.env import MemTapeEnv
    from memtape_env.machine import MACHINE_OPTIONS, build_machine
    from memtape_env.vector_env import MemTapeVectorEnv

    cls = {"env": MemTapeEnv, "vector_env": MemTapeVectorEnv}[view]
    machine = inspect.signature(build_machine).parameters
    assert tuple(n for n, p in machine.items() if p.kind is p.KEYWORD_ONLY) == MACHINE_OPTIONS
    params = inspect.signature(cls.__init__).parameters
    assert all(p.kind is not p.VAR_KEYWORD for p in params.values())
    for name in MACHINE_OPTIONS:
        assert params[name].kind is inspect.Parameter.KEYWORD_ONLY, name
        assert (params[name].default, params[name].annotation) == (machine[name].default, machine[name].annotation)


def test_env_docstring_tables_every_argument():
    import inspect

    from memtape_env.env import MemTapeEnv

    for name in inspect.signature(MemTapeEnv.__init__).parameters:
        if name != "self":
            assert f"| `{name}` |" in MemTapeEnv.__doc__, name
