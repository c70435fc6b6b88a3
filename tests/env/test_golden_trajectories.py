"""Fixed-seed trajectories hashed against recorded values: speed work on the machine must not change a single
observation, reward, termination, truncation, target symbol or curriculum decision.

Each trace mixes random actions with writes of the correct symbol (read from the machine), so that episodes both
fail and succeed, curricula promote, and every code path of reset, step and record runs. The golden hashes were
recorded before the single-env fast path existed; a mismatch means the dynamics or the random streams changed.
"""

from __future__ import annotations

import hashlib

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.vector import AutoresetMode

from tests.conftest import ALL_IDS

KWARG_VARIANTS: dict[str, dict] = {
    "plain": {},
    "extras": {"memory": True, "observe_prev_action": True, "observe_heads": True},
    "tape": {"observe_tape": 64, "curriculum": "none", "length": (1, 8)},
}


class _Hasher:
    """sha256 over a canonical byte form of ints, floats, bools and integer arrays."""

    def __init__(self) -> None:
        self.h = hashlib.sha256()

    def add(self, *values: object) -> None:
        for v in values:
            if isinstance(v, np.ndarray):
                a = np.ascontiguousarray(v)
                self.h.update(f"{a.dtype.kind}{a.shape}".encode())
                self.h.update(a.astype(np.float64 if a.dtype.kind == "f" else np.int64).tobytes())
            else:
                self.h.update(repr(v).encode())

    def hexdigest(self) -> str:
        return self.h.hexdigest()[:16]


def _oracle(machine, i: int, action: np.ndarray, rng: np.random.Generator, names: tuple[str, ...]) -> np.ndarray:
    """Nine times in ten, turn `action` into a write of the symbol the target expects next."""
    if rng.random() < 0.9:
        pos = min(int(machine.out_pos[i]), machine.target.shape[1] - 1)
        symbol = int(machine.target[i, pos])
        if symbol >= 0:
            action = action.copy()
            action[names.index("output_write")] = 1
            action[names.index("output_symbol")] = symbol
    return action


def single_env_hash(env_id: str, variant: str, steps: int = 1000, seed: int = 3) -> str:
    env = gym.make(env_id, **KWARG_VARIANTS[variant])
    machine = env.unwrapped.machine
    names = env.unwrapped.action_names
    rng = np.random.default_rng(seed)
    h = _Hasher()
    obs, _ = env.reset(seed=seed)
    h.add(obs)
    for k in range(steps):
        a = _oracle(machine, 0, rng.integers(0, env.action_space.nvec), rng, names)
        obs, reward, terminated, truncated, info = env.step(a)
        h.add(obs, reward, terminated, truncated, info.get("target_symbol", -1))
        if terminated or truncated:
            obs, _ = env.reset(seed=seed + k if k % 7 == 0 else None)
            h.add(obs)
    h.add(sorted(env.unwrapped.curriculum.state().items()))
    return h.hexdigest()


def vector_env_hash(env_id: str, mode: AutoresetMode, n: int = 5, steps: int = 300, seed: int = 5) -> str:
    env = gym.make_vec(env_id, n, vectorization_mode="vector_entry_point", autoreset_mode=mode)
    machine = env.unwrapped.machine
    names = env.unwrapped.action_names
    rng = np.random.default_rng(seed)
    h = _Hasher()
    obs, _ = env.reset(seed=seed)
    h.add(obs)
    for _ in range(steps):
        acts = rng.integers(0, env.single_action_space.nvec, size=(n, len(names)))
        acts = np.stack([_oracle(machine, i, acts[i], rng, names) for i in range(n)])
        obs, reward, terminated, truncated, info = env.step(acts)
        target = np.where(info["_target_symbol"], info["target_symbol"], -1) if "target_symbol" in info else -1
        h.add(obs, reward, terminated, truncated, target)
        if "final_obs" in info:
            h.add(info["_final_obs"], *[o for o in info["final_obs"] if o is not None])
    h.add(sorted(env.unwrapped.curriculum.state().items()))
    return h.hexdigest()


def sb3_vec_env_hash(env_id: str, n: int = 5, steps: int = 300, seed: int = 9) -> str:
    from memtape_env.sb3 import MemTapeVecEnv

    env = MemTapeVecEnv(env_id, n, seed=seed)
    machine = env.machine
    names = env.action_names
    rng = np.random.default_rng(seed)
    h = _Hasher()
    h.add(env.reset())
    for _ in range(steps):
        acts = rng.integers(0, env.action_space.nvec, size=(n, len(names)))
        acts = np.stack([_oracle(machine, i, acts[i], rng, names) for i in range(n)])
        obs, reward, done, infos = env.step(acts)
        h.add(obs, reward, done)
        for info in infos:
            h.add(info.get("target_symbol", -1), info["TimeLimit.truncated"])
            if "terminal_observation" in info:
                h.add(info["terminal_observation"])
    h.add(sorted(env.curriculum.state().items()))
    return h.hexdigest()


SINGLE_CASES = [(i, "plain") for i in ALL_IDS] + [
    (i, v)
    for i in ("memtape/Copy-v0", "memtape/ClassicReversedAddition-v0", "memtape/Walk-v0")
    for v in KWARG_VARIANTS
    if v != "plain"
]
VECTOR_CASES = [
    (i, mode)
    for i in ("memtape/Copy-v0", "memtape/RepeatCopy-v0", "memtape/ClassicCopy-v0", "memtape/Walk-v0")
    for mode in (AutoresetMode.NEXT_STEP, AutoresetMode.SAME_STEP)
]
SB3_CASES = ["memtape/ForwardReverse-v0", "memtape/ClassicReverse-v0"]

GOLDEN_SINGLE: dict[tuple[str, str], str] = {
    ("memtape/Copy-v0", "plain"): "74afb83388ce172b",
    ("memtape/DuplicatedInput-v0", "plain"): "9382f0f88158b69d",
    ("memtape/Reverse-v0", "plain"): "d3f6ab26282566bf",
    ("memtape/RepeatCopy-v0", "plain"): "a9179583df4ca399",
    ("memtape/ForwardReverse-v0", "plain"): "0378440fab2ac656",
    ("memtape/ClassicCopy-v0", "plain"): "df903d55525df5da",
    ("memtape/ClassicDuplicatedInput-v0", "plain"): "c2dab753f30bc832",
    ("memtape/ClassicRepeatCopy-v0", "plain"): "35b05907a2b7f5d6",
    ("memtape/ClassicReverse-v0", "plain"): "26762e28f69a62f1",
    ("memtape/ClassicReversedAddition-v0", "plain"): "a71c09ef599423b4",
    ("memtape/ClassicReversedAddition3-v0", "plain"): "a258c7a35f442c14",
    ("memtape/BinaryAddition-v0", "plain"): "94a4191c619b3b10",
    ("memtape/BinaryMultiplication-v0", "plain"): "ec33e0a4910e998a",
    ("memtape/BinarySort-v0", "plain"): "25bf5b11500544fe",
    ("memtape/BinaryDuplicate-v0", "plain"): "66efa1f2e44e025a",
    ("memtape/BinaryReverse-v0", "plain"): "b0be86b00622fb09",
    ("memtape/BinaryIncrement-v0", "plain"): "f6c8494058212bae",
    ("memtape/DecimalAddition-v0", "plain"): "fb196d113290290d",
    ("memtape/DecimalMultiplication-v0", "plain"): "407434e388c1c516",
    ("memtape/DecimalSort-v0", "plain"): "6f86faea5164ca4c",
    ("memtape/DecimalDuplicate-v0", "plain"): "7d14015bb67c1df3",
    ("memtape/DecimalReverse-v0", "plain"): "ad1063dcf1cc4841",
    ("memtape/DecimalIncrement-v0", "plain"): "77d437aea9017f06",
    ("memtape/AssociativeRecall-v0", "plain"): "c4186fdea463bb9f",
    ("memtape/RepeatCopyCount-v0", "plain"): "93839df017b2964f",
    ("memtape/PrioritySort-v0", "plain"): "9ef54719dbdb8045",
    ("memtape/Walk-v0", "plain"): "32cca111c2f7a257",
    ("memtape/GridAddition3-v0", "plain"): "708ab0346d905dce",
    ("memtape/SingleDigitMultiplication-v0", "plain"): "fb59721158260850",
    ("memtape/Copy-v0", "extras"): "ab4e5b3ba7e8982a",
    ("memtape/Copy-v0", "tape"): "294f1adfaec02890",
    ("memtape/ClassicReversedAddition-v0", "extras"): "67f2655294c0cce0",
    ("memtape/ClassicReversedAddition-v0", "tape"): "ea670c5edfcf2f69",
    ("memtape/Walk-v0", "extras"): "1a43c606460df5cc",
    ("memtape/Walk-v0", "tape"): "d656fe6c28eaad52",
}
GOLDEN_VECTOR: dict[tuple[str, str], str] = {
    ("memtape/Copy-v0", "NextStep"): "b2aeb10b1ac0a55f",
    ("memtape/Copy-v0", "SameStep"): "f9bb39cd6c7206f0",  # final_obs rows now int (were object when all envs ended)
    ("memtape/RepeatCopy-v0", "NextStep"): "828ae3673b0ea177",
    ("memtape/RepeatCopy-v0", "SameStep"): "974220fc265c7d45",
    ("memtape/ClassicCopy-v0", "NextStep"): "3d712014628dadfc",
    ("memtape/ClassicCopy-v0", "SameStep"): "931e50044a79373d",
    ("memtape/Walk-v0", "NextStep"): "25792610607fa112",
    ("memtape/Walk-v0", "SameStep"): "1c2772e0324cd254",
}
GOLDEN_SB3: dict[str, str] = {
    "memtape/ForwardReverse-v0": "41cdad57da9bb56b",
    "memtape/ClassicReverse-v0": "9d80391bb75c6f87",
}


@pytest.mark.parametrize("env_id,variant", SINGLE_CASES)
def test_single_env_trajectory_unchanged(env_id, variant):
    assert single_env_hash(env_id, variant) == GOLDEN_SINGLE[(env_id, variant)]


@pytest.mark.parametrize("env_id,mode", VECTOR_CASES)
def test_vector_env_trajectory_unchanged(env_id, mode):
    assert vector_env_hash(env_id, mode) == GOLDEN_VECTOR[(env_id, mode.value)]


@pytest.mark.parametrize("env_id", SB3_CASES)
def test_sb3_vec_env_trajectory_unchanged(env_id):
    pytest.importorskip("stable_baselines3")
    assert sb3_vec_env_hash(env_id) == GOLDEN_SB3[env_id]


if __name__ == "__main__":  # prints the golden tables (run on the reference code)
    print("GOLDEN_SINGLE = {")
    for env_id, variant in SINGLE_CASES:
        print(f"    ({env_id!r}, {variant!r}): {single_env_hash(env_id, variant)!r},")
    print("}\nGOLDEN_VECTOR = {")
    for env_id, mode in VECTOR_CASES:
        print(f"    ({env_id!r}, {mode.value!r}): {vector_env_hash(env_id, mode)!r},")
    print("}\nGOLDEN_SB3 = {")
    for env_id in SB3_CASES:
        print(f"    {env_id!r}: {sb3_vec_env_hash(env_id)!r},")
    print("}")
