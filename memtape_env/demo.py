"""A two-minute tour: play a few episodes with a scripted and a random agent and print them as ansi.

Run `python -m memtape_env.demo [--length 6] [--seed 0]` (or the `memtape-demo` script): the scripted copy agent on
`memtape/Copy-v0`, then a random agent on `memtape/ClassicReverse-v0`.
"""

from __future__ import annotations

import argparse

import gymnasium as gym
import numpy as np

import memtape_env  # noqa: F401  (registers the ids)


def scripted_copy_action(obs: np.ndarray) -> np.ndarray:
    """The copy algorithm: write the symbol under the head, move right (works on any 1-D copy task)."""
    return np.array([2, 1, obs[0]])


def play(env_id: str, length: int, policy: str, seed: int) -> float:
    env = gym.make(env_id, render_mode="ansi", curriculum="none", length=length)
    obs, _ = env.reset(seed=seed)
    print(env.render())
    total, done = 0.0, False
    while not done:
        action = scripted_copy_action(obs) if policy == "scripted" else env.action_space.sample()
        obs, reward, terminated, truncated, info = env.step(action)
        total += reward
        done = terminated or truncated
        print(env.render())
    print(f"{policy} agent on {env_id}: return {total:+.1f} ({'solved' if total == length else 'failed'})\n")
    return total


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--length", type=int, default=6, help="input length")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    print(f"{len(memtape_env.registered_ids())} environments: {', '.join(memtape_env.registered_ids())}\n")
    play("memtape/Copy-v0", args.length, "scripted", args.seed)
    play("memtape/ClassicReverse-v0", args.length, "random", args.seed)


if __name__ == "__main__":
    main()
