"""Learning benchmark: how far each agent gets on the RL-NTM tasks and classic Reverse, over seeds.

For every (task, agent, seed) it trains on the task's own curriculum (RL-NTM mixture or classic promotion rule)
until a step budget, a wall-clock budget, or the task is solved (curriculum at its top length, or, for classic
tasks, the mean return of the last 100 episodes at the env's reward threshold). It then reports the longest
curriculum length reached, the success rate at that length (episodes at that fixed length with every target
symbol right, once with greedy and once with sampled actions), env steps and wall time, as a Markdown table. The
agents run side by side in the same run:

- reinforce-lstm:   Reinforce, LSTM controller, RL-NTM hybrid objective (moves by REINFORCE, symbols by backprop)
- reinforce-rlntm:  the same with the RL-NTM direct-access tape controller (env memory tape added: memory=True)
- reinforce-rlntm-ff: the same with a feed-forward core (core="feedforward": no hidden state, only the tape),
                    and an entropy bonus of 0.1
- reinforce-mlp:    Reinforce, MLP controller (memoryless; the previous action is observed), hybrid objective
- reinforce-mlp-heads: the same MLP that also sees its input head position (observe_heads, head_features=
                    ("input_head",)), and an entropy bonus of 0.1
- reinforce-pure:   Reinforce, LSTM, every action component by REINFORCE
- recurrent-ppo:    sb3-contrib RecurrentPPO, MlpLstmPolicy, defaults

    python benchmarks/bench_learning.py --tasks ClassicReverse --agents reinforce-lstm recurrent-ppo \
        --seeds 0 --timesteps 2000000 --time-limit 900
    python benchmarks/bench_learning.py --tasks Copy DuplicatedInput Reverse RepeatCopy ForwardReverse \
        ClassicReverse --seeds 0 1 2 --time-limit 1800 --out results.md
    python benchmarks/bench_learning.py --tasks ForwardReverse --agents reinforce-rlntm \
        --hyperparams ent_coef=0.05 --controller-kwargs hidden_size=128   # a variant
"""

from __future__ import annotations

import argparse
import dataclasses
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from sb3_contrib import RecurrentPPO
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.utils import safe_mean
from stable_baselines3.common.vec_env import VecMonitor

from agents.harness.cli import parse_assignments
from agents.harness.controller_setup import TAPE_CONTROLLERS, TAPE_FIXED_ACTIONS
from agents.policies.extractors import FlattenExtractor
from agents.reinforce import Reinforce
from memtape_env.sb3 import MemTapeVecEnv

warnings.filterwarnings("ignore", message="The `render_mode` attribute")
RLNTM_TASKS = ("Copy", "DuplicatedInput", "Reverse", "RepeatCopy", "ForwardReverse")
HYBRID = dict(batch_episodes=16, learning_rate=3e-3, ent_coef=0.0, supervised_output=True, greedy_output_symbol=True)
HYBRID_EXPLORE = {**HYBRID, "ent_coef": 0.1}  # keeps the write decision sampled until the counting plateau is left


@dataclass(frozen=True)
class Overrides:
    """Changes to an agent from the command line: Reinforce hyperparameters, controller kwargs, env kwargs."""

    hyper: dict[str, Any] = dataclasses.field(default_factory=dict)
    controller_kwargs: dict[str, Any] = dataclasses.field(default_factory=dict)
    env_kwargs: dict[str, Any] = dataclasses.field(default_factory=dict)


Builder = Callable[[VecMonitor, int, Overrides], BaseAlgorithm]


@dataclass(frozen=True)
class Agent:
    """How to build one agent: env kwargs it needs and a constructor."""

    env_kwargs: dict[str, Any]
    build: Builder


def _reinforce(
    controller: str, kwargs: dict[str, Any], head_features: bool | tuple[str, ...] = False, **hyper: Any
) -> Builder:
    def build(env: VecMonitor, seed: int, overrides: Overrides) -> BaseAlgorithm:
        controller_kwargs = {**kwargs, **overrides.controller_kwargs}
        names = env.get_attr("observation_names")[0]
        if "memory_head" in names:  # one controller cell per env memory cell
            controller_kwargs["memory_size"] = int(env.observation_space.nvec[names.index("memory_head")])
        policy_kwargs: dict[str, Any] = dict(
            controller_class=controller, controller_kwargs=controller_kwargs, head_features=head_features
        )
        if controller in TAPE_CONTROLLERS:  # it keeps vectors in its own cells: the env's symbol write stays "keep"
            policy_kwargs["fixed_actions"] = dict(TAPE_FIXED_ACTIONS)
        return Reinforce(
            "ControllerPolicy",
            env,
            seed=seed,
            device="auto",
            policy_kwargs=policy_kwargs,
            **{**hyper, **overrides.hyper},
        )

    return build


def _recurrent_ppo(env: VecMonitor, seed: int, overrides: Overrides) -> BaseAlgorithm:
    if overrides.hyper or overrides.controller_kwargs:
        raise ValueError("--hyperparams and --controller-kwargs apply to the Reinforce agents only, not recurrent-ppo")
    return RecurrentPPO(
        "MlpLstmPolicy", env, seed=seed, device="auto", policy_kwargs=dict(features_extractor_class=FlattenExtractor)
    )


AGENTS: dict[str, Agent] = {
    "reinforce-lstm": Agent({"observe_prev_action": True}, _reinforce("lstm", {"hidden_size": 64}, **HYBRID)),
    "reinforce-mlp": Agent({"observe_prev_action": True}, _reinforce("mlp", {"hidden_sizes": (64, 64)}, **HYBRID)),
    "reinforce-mlp-heads": Agent(
        {"observe_prev_action": True, "observe_heads": True},
        _reinforce("mlp", {"hidden_sizes": (64, 64)}, head_features=("input_head",), **HYBRID_EXPLORE),
    ),
    "reinforce-rlntm": Agent(
        {"observe_prev_action": True, "observe_heads": True, "memory": True},
        _reinforce("rlntm_direct", {"hidden_size": 64, "memory_dim": 16}, **HYBRID),
    ),
    "reinforce-rlntm-ff": Agent(
        {"observe_prev_action": True, "observe_heads": True, "memory": True},
        _reinforce("rlntm_direct", {"hidden_size": 64, "memory_dim": 16, "core": "feedforward"}, **HYBRID_EXPLORE),
    ),
    "reinforce-pure": Agent(
        {"observe_prev_action": True},
        _reinforce("lstm", {"hidden_size": 64}, batch_episodes=16, learning_rate=3e-3, ent_coef=0.0),
    ),
    "recurrent-ppo": Agent({"observe_prev_action": True}, _recurrent_ppo),
}


@dataclass
class Result:
    task: str
    agent: str
    seed: int
    longest_length: int = 0
    top_length: int = 0
    success_rate: float = float("nan")
    sampled_success_rate: float = float("nan")
    env_steps: int = 0
    wall_s: float = 0.0
    mean_return: float = float("nan")
    reward_threshold: float | None = None
    solved: bool = False
    steps_to_solve: int | None = None
    note: str = ""


def curriculum_length(env: MemTapeVecEnv) -> int:
    state = env.machine.curriculum.state()
    for key in ("current_length", "min_length"):
        if key in state:
            return int(state[key])
    return int(env.machine.curriculum.max_length)


def solved_episode(reward: float, info: dict[str, Any]) -> bool:
    """An episode that ended on a rewarded step, not at the step limit: every target symbol written right."""
    return bool(reward > 0 and not info.get("TimeLimit.truncated", False))


def evaluate(
    model: BaseAlgorithm,
    task_id: str,
    length: int,
    kwargs: dict[str, Any],
    episodes: int,
    seed: int,
    deterministic: bool = True,
) -> float:
    """Fraction of episodes at a fixed length that write every target symbol right.

    `deterministic` takes the argmax of every action component; otherwise actions are sampled as in training.
    A memoryless policy can need the sampled form: its argmax may stay put forever where sampling moves on.
    """
    env = MemTapeVecEnv(task_id, 16, seed=seed, curriculum="none", length=length, **kwargs)
    obs, state, starts = env.reset(), None, np.ones(env.num_envs, dtype=bool)
    outcomes: list[bool] = []
    while len(outcomes) < episodes:
        actions, state = model.predict(obs, state=state, episode_start=starts, deterministic=deterministic)
        obs, rewards, dones, infos = env.step(actions)
        for i in np.flatnonzero(dones):
            outcomes.append(solved_episode(rewards[i], infos[i]))
        starts = dones
    return float(np.mean(outcomes[:episodes]))


def make_agent(
    task_id: str, agent_name: str, seed: int, overrides: Overrides, n_envs: int = 16
) -> tuple[BaseAlgorithm, MemTapeVecEnv, dict[str, Any]]:
    """The agent `agent_name` on a fresh training env: (model, the unwrapped env, the env kwargs it was made with)."""
    agent = AGENTS[agent_name]
    env_kwargs = {**agent.env_kwargs, **overrides.env_kwargs}
    raw = MemTapeVecEnv(task_id, n_envs, seed=seed, **env_kwargs)
    torch.manual_seed(seed)
    return agent.build(VecMonitor(raw), seed, overrides), raw, env_kwargs


def run(task: str, agent_name: str, seed: int, args: argparse.Namespace) -> Result:
    task_id = task if "/" in task else f"memtape/{task}-v0"
    result = Result(task, agent_name, seed, reward_threshold=gym.spec(task_id).reward_threshold)
    model, raw, env_kwargs = make_agent(task_id, agent_name, seed, args.overrides, args.n_envs)
    classic = raw.machine.curriculum.kind == "classic"
    result.top_length = int(raw.machine.curriculum.max_length)
    start = time.perf_counter()
    while model.num_timesteps < args.timesteps and time.perf_counter() - start < args.time_limit:
        model.learn(args.chunk, reset_num_timesteps=model.num_timesteps == 0, log_interval=10**9)
        length = curriculum_length(raw)
        result.longest_length = max(result.longest_length, length)
        returns = [ep["r"] for ep in list(model.ep_info_buffer)]
        result.mean_return = float(safe_mean(returns)) if returns else float("nan")
        if classic:
            solved = len(returns) >= 100 and result.reward_threshold is not None
            solved = solved and result.mean_return >= result.reward_threshold
        else:
            solved = length >= raw.machine.curriculum.max_length
        if args.verbose:
            print(
                f"  {task} {agent_name} seed {seed}: {model.num_timesteps} steps, "
                f"{time.perf_counter() - start:.0f} s, length {length}, mean return {result.mean_return:.2f}",
                flush=True,
            )
        if solved:
            result.solved, result.steps_to_solve = True, model.num_timesteps
            break
    result.env_steps = model.num_timesteps
    result.wall_s = time.perf_counter() - start
    eval_length = max(result.longest_length, 1)
    result.success_rate = evaluate(model, task_id, eval_length, env_kwargs, args.eval_episodes, seed + 1000)
    result.sampled_success_rate = evaluate(
        model, task_id, eval_length, env_kwargs, args.eval_episodes, seed + 1000, deterministic=False
    )
    return result


def table(results: list[Result]) -> str:
    head = (
        "| task | agent | seed | longest length (top) | success at it, greedy / sampled | mean return (threshold) "
        "| solved at steps | env steps | wall s |\n|---|---|---|---|---|---|---|---|---|"
    )
    rows = [head]
    for r in results:
        if r.note:
            rows.append(f"| {r.task} | {r.agent} | {r.seed} | {r.note} | | | | | |")
            continue
        threshold = "" if r.reward_threshold is None else f" ({r.reward_threshold:g})"
        solved = f"{r.steps_to_solve}" if r.solved else "not solved"
        rows.append(
            f"| {r.task} | {r.agent} | {r.seed} | {r.longest_length} ({r.top_length}) | "
            f"{r.success_rate:.2f} / {r.sampled_success_rate:.2f} | "
            f"{r.mean_return:.2f}{threshold} | {solved} | {r.env_steps} | {r.wall_s:.0f} |"
        )
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", nargs="+", default=[*RLNTM_TASKS, "ClassicReverse"])
    parser.add_argument("--agents", nargs="+", default=list(AGENTS), choices=list(AGENTS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument("--timesteps", type=int, default=2_000_000, help="env-step budget per run")
    parser.add_argument("--time-limit", type=float, default=600.0, help="wall-clock budget per run, seconds")
    parser.add_argument("--chunk", type=int, default=20_000, help="env steps between curriculum checks")
    parser.add_argument("--n-envs", type=int, default=16)
    parser.add_argument("--eval-episodes", type=int, default=100)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", default=None, help="also write the Markdown table here")
    parser.add_argument("--verbose", action="store_true")
    for flag, what in (
        ("--hyperparams", "Reinforce hyperparameters"),
        ("--controller-kwargs", "controller kwargs"),
        ("--env-kwargs", "env kwargs"),
    ):  # the `memtape train` convention: KEY=VALUE items, values read as YAML
        parser.add_argument(flag, nargs="+", metavar="KEY=VALUE", help=f"override the agents' {what}")
    args = parser.parse_args()
    args.overrides = Overrides(
        *(
            parse_assignments(getattr(args, f), "--" + f.replace("_", "-"))
            for f in ("hyperparams", "controller_kwargs", "env_kwargs")
        )
    )
    torch.set_num_threads(args.threads)
    results = []
    for task in args.tasks:
        for agent in args.agents:
            for seed in args.seeds:
                result = run(task, agent, seed, args)
                results.append(result)
                print(dataclasses.asdict(result), flush=True)
    text = table(results)
    print("\n" + text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()
