"""Where the agents stall on RepeatCopy: the repeat count m is itself a data symbol.

RepeatCopy's input tape is [m, x_1, ..., x_L] with m in {2, 3} drawn from the same 30 symbols as x. After each
copy the head must walk back to the start of x. A policy can find the start by its position (the first cell, or
the blank before it) or by a shortcut: turn right on reading a 2 or a 3. The shortcut is right on short inputs,
which seldom hold a 2 or a 3, and wrong on long ones: an input of length L is free of both with probability
(28/30)^L, 0.47 at L = 11.

This script trains one agent of bench_learning.py on RepeatCopy for a step budget, then runs greedy episodes at
a fixed length and splits them by whether x holds a 2 or a 3. For every left-to-right turn of the input head it
records where it happened: at m or left of the tape, at x_1 (a policy may write x_1 as it turns), or further in
(a false turn), and the symbol read at the false turns.

    python benchmarks/diagnose_repeat_copy.py --agent reinforce-mlp --hyperparams ent_coef=0.1 \
        --timesteps 4000000 --length 12
    python benchmarks/diagnose_repeat_copy.py --agent reinforce-mlp-heads --seed 1 --timesteps 1000000 --length 30
"""

from __future__ import annotations

import argparse
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import torch
from bench_learning import AGENTS, Overrides, curriculum_length, make_agent, solved_episode
from stable_baselines3.common.base_class import BaseAlgorithm

from agents.harness.cli import parse_assignments
from agents.reinforce import Reinforce
from memtape_env.sb3 import MemTapeVecEnv

TASK = "memtape/RepeatCopy-v0"
M_SYMBOLS = (2, 3)
LEFT, RIGHT = 0, 2  # input moves


@dataclass
class Episodes:
    """Greedy episodes at one length, split by m and by whether x holds a 2 or a 3."""

    success: dict[tuple[int, bool], list[bool]] = field(default_factory=dict)
    start_turns: int = 0  # at m or left of the tape
    first_turns: int = 0  # at x_1
    false_turns: Counter = field(default_factory=Counter)  # symbol read at the false turn -> count


def rollouts(model: BaseAlgorithm, length: int, env_kwargs: dict, episodes: int, seed: int) -> Episodes:
    env = MemTapeVecEnv(TASK, 16, seed=seed, curriculum="none", length=length, **env_kwargs)
    machine = env.machine
    move = env.get_attr("action_names")[0].index("input_move")
    obs, state = env.reset(), None
    starts = np.ones(env.num_envs, dtype=bool)

    def kinds() -> np.ndarray:  # (m, x holds a 2 or a 3) of each environment's current episode
        return np.stack([machine.input[:, 0, 0], np.isin(machine.input[:, 0, 1 : length + 1], M_SYMBOLS).any(1)], 1)

    kind = kinds()
    last_move = np.full(env.num_envs, -1)
    out = Episodes()
    while sum(len(v) for v in out.success.values()) < episodes:
        actions, state = model.predict(obs, state=state, episode_start=starts, deterministic=True)
        turns = (last_move == LEFT) & (actions[:, move] == RIGHT)
        for i in np.flatnonzero(turns):
            x = int(machine.in_x[i])
            if x <= 0:
                out.start_turns += 1
            elif x == 1:
                out.first_turns += 1
            else:
                width = machine.input.shape[2]
                out.false_turns[int(machine.input[i, 0, x]) if x < width else machine.task.blank] += 1
        last_move = actions[:, move].copy()
        obs, rewards, dones, infos = env.step(actions)
        for i in np.flatnonzero(dones):
            out.success.setdefault((int(kind[i, 0]), bool(kind[i, 1])), []).append(solved_episode(rewards[i], infos[i]))
        kind = np.where(dones[:, None], kinds(), kind)  # autoreset loaded the next inputs of the finished ones
        last_move = np.where(dones, -1, last_move)
        starts = dones
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--agent", default="reinforce-mlp", choices=list(AGENTS))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--timesteps", type=int, default=2_000_000, help="training budget in env steps")
    parser.add_argument("--length", type=int, default=12, help="length of the greedy test episodes")
    parser.add_argument("--episodes", type=int, default=512)
    parser.add_argument("--load", default=None, help="diagnose this saved Reinforce model instead of training one")
    parser.add_argument("--hyperparams", nargs="+", default=[], metavar="KEY=VALUE")
    parser.add_argument("--env-kwargs", nargs="+", default=[], metavar="KEY=VALUE")
    args = parser.parse_args()
    torch.set_num_threads(1)
    overrides = Overrides(
        hyper=parse_assignments(args.hyperparams, "--hyperparams"),
        env_kwargs=parse_assignments(args.env_kwargs, "--env-kwargs"),
    )
    env_kwargs = {**AGENTS[args.agent].env_kwargs, **overrides.env_kwargs}
    if args.load is not None:
        model: BaseAlgorithm = Reinforce.load(args.load, device="cpu")
        print(f"{args.load}: {model.num_timesteps} steps")
    else:
        model, raw, env_kwargs = make_agent(TASK, args.agent, args.seed, overrides)
        while model.num_timesteps < args.timesteps:
            model.learn(50_000, reset_num_timesteps=model.num_timesteps == 0, log_interval=10**9)
        length = curriculum_length(raw)
        print(f"{args.agent} seed {args.seed}: {model.num_timesteps} steps, curriculum length {length}")
    result = rollouts(model, args.length, env_kwargs, args.episodes, args.seed + 1000)
    for (m, holds), runs in sorted(result.success.items()):
        label = "x holds a 2 or a 3" if holds else "x holds neither"
        print(f"  length {args.length}, m = {m}, {label}: {len(runs)} episodes, greedy success {np.mean(runs):.2f}")
    false = sum(result.false_turns.values())
    print(
        f"  left-to-right turns: {result.start_turns} at m or left of the tape, {result.first_turns} at x_1, "
        f"{false} further in"
    )
    if false:
        top = ", ".join(f"{s}: {n}" for s, n in result.false_turns.most_common(5))
        print(f"  symbols read at the false turns (symbol: count): {top}")


if __name__ == "__main__":
    main()
