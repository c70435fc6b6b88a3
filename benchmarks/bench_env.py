"""Environment speed: steps per second of each view of the tape machine, against a SyncVectorEnv reference measured
in the same run, plus the peak memory of 4096 envs with inputs of length 500.

    python benchmarks/bench_env.py [--env memtape/Copy-v0] [--seconds 2]

Absolute figures vary with the machine and its load; the ratios are what to compare. Each figure is the best of
several timed rounds.
"""

from __future__ import annotations

import argparse
import time
import tracemalloc

import gymnasium as gym
import numpy as np
from gymnasium.vector import SyncVectorEnv

import memtape_env  # noqa: F401


def _actions(space: gym.spaces.MultiDiscrete, shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
    """Random valid actions, sampled before timing so that sampling cost is not counted."""
    return np.random.default_rng(seed).integers(0, space.nvec, size=(*shape, len(space.nvec)))


REPEATS = 5  # each figure is the best of this many timed rounds, as timeit reports: the least disturbed one


def single_env_rate(env_id: str, seconds: float) -> float:
    env = gym.make(env_id)
    env.reset(seed=0)
    acts = _actions(env.action_space, (2048,))
    best = 0.0
    for _ in range(REPEATS):
        steps, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds / REPEATS:
            for a in acts:
                _, _, terminated, truncated, _ = env.step(a)
                if terminated or truncated:
                    env.reset()
            steps += len(acts)
        best = max(best, steps / (time.perf_counter() - start))
    return best


def vector_rate(env: gym.vector.VectorEnv, seconds: float) -> float:
    env.reset(seed=0)
    acts = _actions(env.single_action_space, (16, env.num_envs))
    best = 0.0
    for _ in range(REPEATS):
        steps, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds / REPEATS:
            for a in acts:
                env.step(a)
            steps += len(acts) * env.num_envs
        best = max(best, steps / (time.perf_counter() - start))
    return best


def peak_memory_mb(env_id: str, num_envs: int, length: int) -> float:
    """Peak traced allocation (numpy arrays included) while building, resetting and stepping the vector env."""
    tracemalloc.start()
    env = gym.make_vec(env_id, num_envs, vectorization_mode="vector_entry_point", curriculum="none", length=length)
    env.reset(seed=0)
    for a in _actions(env.single_action_space, (20, num_envs)):
        env.step(a)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--env", default="memtape/Copy-v0")
    parser.add_argument("--seconds", type=float, default=3.0, help="time per measurement (split into rounds)")
    args = parser.parse_args()
    rows: list[tuple[str, float]] = []
    rows.append(("single env via gym.make", single_env_rate(args.env, args.seconds)))
    sync = SyncVectorEnv([lambda: gym.make(args.env) for _ in range(64)])
    sync_rate = vector_rate(sync, args.seconds)
    for n in (1, 64, 1024, 4096):
        native = gym.make_vec(args.env, n, vectorization_mode="vector_entry_point")
        rows.append((f"native vector env, {n} envs", vector_rate(native, args.seconds)))
    rows.append(("SyncVectorEnv of single envs, 64 envs (reference)", sync_rate))
    print(f"{args.env}, random valid actions, one process\n")
    print(f"| {'view':<52} | {'steps/s':>12} | {'x SyncVectorEnv':>15} |")
    print(f"|{'-' * 54}|{'-' * 14}|{'-' * 17}|")
    for name, rate in rows:
        print(f"| {name:<52} | {rate:>12,.0f} | {rate / sync_rate:>15.1f} |")
    mb = peak_memory_mb(args.env, 4096, 500)
    print(f"\npeak memory of the native vector env, 4096 envs, inputs of length 500: {mb:.0f} MB")


if __name__ == "__main__":
    main()
