"""Environment speed: steps per second of each view of the tape machine, against two references measured in the
same run (a SyncVectorEnv of single envs, and the classic gym 0.19 Copy env, a pure-Python env, through the same
`gym.make` wrappers), plus the peak memory of 4096 envs with inputs of length 500.

    python benchmarks/bench_env.py [--env memtape/Copy-v0] [--seconds 3]

Absolute figures vary with the machine; the ratios are what to compare. Each figure is the best of several timed
rounds of this process's CPU time (one thread), so that other jobs on a shared machine disturb it less. The single
envs play random valid actions and reset whenever an episode ends (with random actions, every two or three steps),
so their rates include the resets.
"""

from __future__ import annotations

import argparse
import time
import tracemalloc

import gymnasium as gym
import numpy as np
from gymnasium.vector import SyncVectorEnv

import memtape_env  # noqa: F401

CLASSIC_ID = "bench/ClassicGymCopy-v0"


class ClassicGymCopy(gym.Env):
    """gym 0.19's `CopyEnv` (`gym/envs/algorithmic`: base 5, moves left/right, time limit input + target + 4,
    promotion after 10 episodes within 1 of the full reward), line for line in the Gymnasium API: the speed of the
    classic pure-Python env, as a reference. It takes gym's Tuple action as a (move, write, symbol) tuple."""

    MOVEMENTS = ("left", "right")

    def __init__(self, base: int = 5) -> None:
        self.base = base
        self.last = 10
        self.min_length = 2
        self.episode_total_reward: float | None = None
        self.reward_shortfalls: list[float] = []
        self.action_space = gym.spaces.Tuple(
            [gym.spaces.Discrete(len(self.MOVEMENTS)), gym.spaces.Discrete(2), gym.spaces.Discrete(base)]
        )
        self.observation_space = gym.spaces.Discrete(base + 1)
        self.legacy_random = np.random.RandomState(0)  # gym 0.19 seeded a RandomState

    def _get_obs(self) -> int:
        pos = self.read_head_position
        if pos < 0:
            return self.base
        try:
            return self.input_data[pos]
        except IndexError:
            return self.base

    def step(self, action):
        assert self.action_space.contains(action)
        inp_act, out_act, pred = action
        done = False
        reward = 0.0
        self.time += 1
        if out_act == 1:
            try:
                correct = pred == self.target[self.write_head_position]
            except IndexError:
                correct = False
            if correct:
                reward = 1.0
            else:
                reward = -0.5
                done = True
            self.write_head_position += 1
            if self.write_head_position >= len(self.target):
                done = True
        self.read_head_position += 1 if self.MOVEMENTS[inp_act] == "right" else -1
        if self.time > len(self.input_data) + len(self.target) + 4:
            reward = -1.0
            done = True
        obs = self._get_obs()
        self.episode_total_reward += reward
        return obs, reward, done, False, {}

    def _check_levelup(self) -> None:
        if self.episode_total_reward is None:
            return
        self.reward_shortfalls.append(self.episode_total_reward - len(self.target))
        self.reward_shortfalls = self.reward_shortfalls[-self.last :]
        if len(self.reward_shortfalls) == self.last and min(self.reward_shortfalls) >= -1 and self.min_length < 30:
            self.min_length += 1
            self.reward_shortfalls = []

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self._check_levelup()
        self.read_head_position = 0
        self.write_head_position = 0
        self.episode_total_reward = 0.0
        self.time = 0
        length = self.legacy_random.randint(3) + self.min_length
        self.input_data = [self.legacy_random.randint(self.base) for _ in range(length)]
        self.target = self.input_data
        return self._get_obs(), {}


if CLASSIC_ID not in gym.registry:
    gym.register(CLASSIC_ID, entry_point=ClassicGymCopy, max_episode_steps=200)


def _actions(space: gym.spaces.MultiDiscrete, shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
    """Random valid actions, sampled before timing so that sampling cost is not counted."""
    return np.random.default_rng(seed).integers(0, space.nvec, size=(*shape, len(space.nvec)))


REPEATS = 5  # each figure is the best of this many timed rounds, as timeit reports: the least disturbed one
# CPU time of this process: on a machine shared with other jobs, their load does not count against the figures
# (everything measured here runs on one thread, so on an idle machine this equals wall time).
clock = time.process_time


def single_env_rate(env_id: str, seconds: float, unwrapped: bool = False) -> float:
    env = gym.make(env_id)
    env.reset(seed=0)
    if isinstance(env.action_space, gym.spaces.Tuple):  # the classic reference takes gym's tuples of ints
        nvec = np.array([space.n for space in env.action_space.spaces])
        acts = [tuple(a) for a in _actions(gym.spaces.MultiDiscrete(nvec), (2048,)).tolist()]
    else:
        acts = _actions(env.action_space, (2048,))
    if unwrapped:
        env = env.unwrapped
    best = 0.0
    for _ in range(REPEATS):
        steps, start = 0, clock()
        while clock() - start < seconds / REPEATS:
            for a in acts:
                _, _, terminated, truncated, _ = env.step(a)
                if terminated or truncated:
                    env.reset()
            steps += len(acts)
        best = max(best, steps / (clock() - start))
    return best


def vector_rate(env: gym.vector.VectorEnv, seconds: float) -> float:
    env.reset(seed=0)
    acts = _actions(env.single_action_space, (16, env.num_envs))
    best = 0.0
    for _ in range(REPEATS):
        steps, start = 0, clock()
        while clock() - start < seconds / REPEATS:
            for a in acts:
                env.step(a)
            steps += len(acts) * env.num_envs
        best = max(best, steps / (clock() - start))
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
    rows.append(("single env, unwrapped", single_env_rate(args.env, args.seconds, unwrapped=True)))
    classic_rate = single_env_rate(CLASSIC_ID, args.seconds)
    sync = SyncVectorEnv([lambda: gym.make(args.env) for _ in range(64)])
    sync_rate = vector_rate(sync, args.seconds)
    for n in (1, 64, 1024, 4096):
        native = gym.make_vec(args.env, n, vectorization_mode="vector_entry_point")
        rows.append((f"native vector env, {n} envs", vector_rate(native, args.seconds)))
    rows.append(("SyncVectorEnv of single envs, 64 envs (reference)", sync_rate))
    rows.append(("classic gym 0.19 Copy via gym.make (reference)", classic_rate))
    print(f"{args.env}, random valid actions, one process\n")
    print(f"| {'view':<52} | {'steps/s':>12} | {'x SyncVectorEnv':>15} | {'x classic gym':>13} |")
    print(f"|{'-' * 54}|{'-' * 14}|{'-' * 17}|{'-' * 15}|")
    for name, rate in rows:
        print(f"| {name:<52} | {rate:>12,.0f} | {rate / sync_rate:>15.1f} | {rate / classic_rate:>13.2f} |")
    mb = peak_memory_mb(args.env, 4096, 500)
    print(f"\npeak memory of the native vector env, 4096 envs, inputs of length 500: {mb:.0f} MB")


if __name__ == "__main__":
    main()
