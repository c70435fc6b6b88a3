"""Experiment: is ForwardReverse hard for the RL-NTM tape agent because of its memory, or because of the search?

Question. ForwardReverse asks for the input reversed, but the input head may only move forward, so the agent
must store the input on its memory tape and read it back. Tape agents with an LSTM core can stay at curriculum
length 2 with a counting strategy (move on twice, then write) that is right on the length-3 inputs the RL-NTM
curriculum draws most often there and wrong on every longer one. Is the difficulty in the memory (the controller
cannot hold the input and read it back) or in the reinforcement-learning search (when to start writing)?

Method. Two checks, each taking part of the problem away:

1. `scripted-memory`: the ForwardReverse agent preset (`configs/hyperparams/reinforce.yml`, the RL-NTM
   direct-access controller; its core is `--core`), trained by Reinforce with its memory-head moves replaced by
   the scripted ones (right while the input head moves right, left from the first blank on). The input moves,
   when to write, and the symbols are still learned. Then the harness's success test
   (`agents.harness.evaluate.is_solved`: curriculum top reached, then at least 90% of fresh inputs of that length
   answered exactly), the success rate at `--length`, and one greedy episode at `--length`, all with the same
   scripted memory moves.
2. `supervised`: the preset's controller alone (the same class and kwargs), trained by backprop to output the
   reversed input from its memory with the same scripted head positions (lengths 1 to 10), then tested at
   length 20.

How to run it (one torch thread; the budgets are env steps and optimizer updates):

    python benchmarks/experiments/forward_reverse_memory.py scripted-memory --timesteps 1000000 --core lstm
    python benchmarks/experiments/forward_reverse_memory.py scripted-memory --core feedforward --seed 1
    python benchmarks/experiments/forward_reverse_memory.py supervised --updates 500 --json supervised.json

`--hyperparams KEY=VALUE ...` overrides keys of the preset as `memtape train` does (`ent_coef=0.05`,
`policy_kwargs.controller_kwargs.hidden_size=128`).

Output. A summary on stdout, then the result as one JSON object: on the last line of stdout, or in `--json PATH`
instead. Its fields:

- both checks: `experiment`, `check`, `env_id`, `core`, `seed`, `controller_kwargs` (what the controller was built
  with).
- `scripted-memory`: `timesteps` (env steps trained), `curriculum` (`[env step, level]` at the first episode
  end and each time the level rose past every earlier one), `top_length`, `top_step` (first env step at the top;
  null if never), `at_top` (the harness's length evaluation at the top length, null if never reached), `solved`
  (`is_solved`), `at_length` (the length evaluation at `--length`), `episode` (the greedy episode at `--length`:
  `[input symbol read, action sent, reward]` per step, the action with the scripted memory move in it).
- `supervised`: `updates`, `test_length`, `curve` (`{update, loss, accuracy}` every 100 updates and at the end;
  accuracy is the fraction of reversed symbols right at `test_length`), `accuracy` (the last one).

How to read it. If `supervised` reaches an accuracy of 1.0 while `scripted-memory` is not `solved`, the
controller can represent the solution and what remains hard is the search: read `episode` for where the agent
starts writing (at the first blank is right; earlier is the counting strategy). If `scripted-memory` is solved
with the scripted moves but the same preset is not without them (`memtape bench standard --tasks
memtape/ForwardReverse-v0`), the difficulty is in learning the memory moves. One seed is an anecdote: repeat over
`--seed` before concluding.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import torch
from stable_baselines3.common.utils import set_random_seed
from stable_baselines3.common.vec_env import VecEnv, VecEnvWrapper
from torch import nn

from agents.controllers import CONTROLLERS
from agents.harness.atomic import atomic_write_json
from agents.harness.callbacks import EpisodeLog
from agents.harness.cli import parse_assignments, positive_int
from agents.harness.configs import ConfigError, deep_merge, load_hyperparams
from agents.harness.evaluate import eval_env_kwargs, evaluate_episodes, is_solved
from agents.harness.train import build_model, env_threshold, make_vec_env

# The settings of the experiment, as data.
ENV_ID = "memtape/ForwardReverse-v0"
ALGO = "reinforce"
CORES = ("lstm", "feedforward")  # the RL-NTM direct-access controller's core (the preset's is feedforward)
SCRIPTED_MEMORY = {"timesteps": 1_000_000, "length": 4, "episodes": 64}
SUPERVISED = {"updates": 500, "batch": 32, "train_lengths": (1, 10), "test_length": 20, "learning_rate": 3e-3}
REPORT_EVERY = 100  # supervised updates between accuracy measurements
LEFT, STAY, RIGHT = 0, 1, 2  # memory moves


class ScriptedMemoryMoves(VecEnvWrapper):
    """Replace the `memory_move` action: right while the input head moves right, left from the first blank on."""

    def __init__(self, venv: VecEnv) -> None:
        super().__init__(venv)
        actions = venv.get_attr("action_names")[0]
        observations = venv.get_attr("observation_names")[0]
        task = venv.get_attr("task")[0]
        self.move, self.memory_move = actions.index("input_move"), actions.index("memory_move")
        self.symbol = observations.index("input_symbol")
        self.right, self.blank = task.input_moves.index("right"), task.blank
        self.past_input = np.zeros(venv.num_envs, dtype=bool)
        self.obs = np.zeros((venv.num_envs, len(observations)), dtype=np.int64)

    def reset(self) -> np.ndarray:
        self.obs = self.venv.reset()
        self.past_input[:] = False
        return self.obs

    def scripted(self, actions: np.ndarray) -> np.ndarray:
        """The actions with the scripted memory move; updates the phase from the current observation."""
        actions = np.array(actions)
        self.past_input |= self.obs[:, self.symbol] == self.blank
        forward = np.where(actions[:, self.move] == self.right, RIGHT, STAY)
        actions[:, self.memory_move] = np.where(self.past_input, LEFT, forward)
        return actions

    def step_async(self, actions: np.ndarray) -> None:
        self.venv.step_async(self.scripted(actions))

    def step_wait(self):  # noqa: ANN201 (SB3's VecEnvStepReturn)
        obs, rewards, dones, infos = self.venv.step_wait()
        self.past_input[dones] = False
        self.obs = obs
        return obs, rewards, dones, infos


def preset_overrides(core: str, hyperparams: dict[str, Any]) -> dict[str, Any]:
    """Overrides on the ForwardReverse preset: the controller's core, then the command line's keys."""
    return deep_merge({"policy_kwargs": {"controller_kwargs": {"core": core}}}, hyperparams)


def curriculum_rises(rows: list[tuple[int, float, float, int, float | None]]) -> list[list[float]]:
    """`[env step, level]` at the first episode end and each time the level rose past every earlier one."""
    rises: list[list[float]] = []
    for step, _, _, _, level in rows:
        if level is not None and (not rises or level > rises[-1][1]):
            rises.append([step, level])
    return rises


def greedy_episode(model: Any, env_kwargs: dict[str, Any], length: int, seed: int) -> list[list[Any]]:
    """One greedy episode at `length` with the scripted memory moves: `[symbol read, action sent, reward]` a step."""
    limit = 4 * length + 4
    env = ScriptedMemoryMoves(make_vec_env(ALGO, ENV_ID, 1, seed, eval_env_kwargs(env_kwargs, length, limit)))
    obs, state, starts = env.reset(), None, np.ones(1, dtype=bool)
    trace: list[list[Any]] = []
    for _ in range(limit):
        actions, state = model.predict(obs, state=state, episode_start=starts, deterministic=True)
        symbol, sent = int(obs[0, env.symbol]), env.scripted(actions)
        env.venv.step_async(sent)
        obs, rewards, starts, _ = env.step_wait()
        trace.append([symbol, sent[0].tolist(), float(rewards[0])])
        if starts[0]:
            break
    env.close()
    return trace


def scripted_memory(args: argparse.Namespace, overrides: dict[str, Any]) -> dict[str, Any]:
    """Train the preset with scripted memory moves, then apply the harness's success test with the same moves."""
    hp = load_hyperparams(ALGO, ENV_ID, overrides)
    env_kwargs = hp.meta.env_kwargs
    set_random_seed(args.seed)
    env = ScriptedMemoryMoves(make_vec_env(hp.algo, ENV_ID, hp.meta.n_envs, args.seed, env_kwargs))
    model = build_model(hp, env, args.seed, None, 0, device="cpu")
    log = EpisodeLog(env_threshold(ENV_ID))
    model.learn(total_timesteps=args.timesteps, callback=log)
    env.close()
    rises = curriculum_rises(log.rows)
    print(f"{model.num_timesteps} env steps; curriculum rises [step, level]: {rises}", flush=True)
    at_top = None
    if log.top_step is not None and log.top is not None:
        at_top, _ = evaluate_episodes(
            model, ALGO, ENV_ID, env_kwargs, int(log.top), args.episodes, args.seed + 1000,
            vec_wrapper=ScriptedMemoryMoves,
        )  # fmt: skip
    at_length, _ = evaluate_episodes(
        model, ALGO, ENV_ID, env_kwargs, args.length, args.episodes, args.seed + 2000, vec_wrapper=ScriptedMemoryMoves
    )
    episode = greedy_episode(model, env_kwargs, args.length, args.seed + 3000)
    solved = is_solved(log.top_step, at_top)
    print(f"solved: {solved}; success at length {args.length}: {at_length.success_rate:.2f}")
    print(f"one greedy episode at length {args.length} (symbol read, action sent, reward):")
    for symbol, sent, reward in episode:
        print(f"  {symbol:>2} {sent} {reward:+.1f}")
    return {
        "timesteps": int(model.num_timesteps),
        "curriculum": rises,
        "top_length": log.top,
        "top_step": log.top_step,
        "at_top": None if at_top is None else vars(at_top),
        "solved": solved,
        "at_length": vars(at_length),
        "episode": episode,
    }


def supervised(args: argparse.Namespace, controller_kwargs: dict[str, Any], name: str) -> dict[str, Any]:
    """Train the preset's controller by backprop to reverse from its memory, with scripted head positions."""
    torch.manual_seed(args.seed)
    symbols, batch, test_length = 30, SUPERVISED["batch"], SUPERVISED["test_length"]
    lo, hi = SUPERVISED["train_lengths"]
    kwargs = {**controller_kwargs, "memory_size": max(int(controller_kwargs.get("memory_size", 0)), 2 * test_length)}
    ctrl = CONTROLLERS[name](input_dim=symbols + 2, **kwargs)
    head = nn.Linear(ctrl.output_dim, symbols)
    opt = torch.optim.Adam([*ctrl.parameters(), *head.parameters()], lr=SUPERVISED["learning_rate"])

    def run(length: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Logits and targets (-100 where nothing is written) of one batch at `length`."""
        x = torch.randint(0, symbols, (batch, length))
        steps = 2 * length + 1
        features = torch.zeros(steps, batch, symbols + 2)
        heads = torch.zeros(steps, batch, dtype=torch.long)
        targets = torch.full((steps, batch), -100)
        for t in range(length):  # read phase: one-hot input symbol, memory head under the symbol's index
            features[t, torch.arange(batch), x[:, t]] = 1
            heads[t] = t
        for k in range(length + 1):  # past the input: a blank flag, memory head walking back
            features[length + k, :, symbols] = features[length + k, :, symbols + 1] = 1
            heads[length + k] = length - k
            if k:
                targets[length + k] = x[:, length - k]
        state, outs = ctrl.initial_state(batch), []
        for t in range(steps):
            out, state = ctrl.step(features[t], state, {"memory_head": heads[t]})
            outs.append(out)
        return head(torch.stack(outs)), targets

    curve: list[dict[str, float]] = []
    for update in range(1, args.updates + 1):
        logits, targets = run(int(torch.randint(lo, hi + 1, ())))
        loss = nn.functional.cross_entropy(logits.reshape(-1, symbols), targets.reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
        if update % REPORT_EVERY == 0 or update == args.updates:
            with torch.no_grad():
                logits, targets = run(test_length)
            mask = targets >= 0
            accuracy = (logits.argmax(-1)[mask] == targets[mask]).float().mean().item()
            curve.append({"update": update, "loss": loss.item(), "accuracy": accuracy})
            print(f"update {update}: loss {loss.item():.4f}, symbol accuracy at length {test_length}: {accuracy:.3f}")
    return {"updates": args.updates, "test_length": test_length, "curve": curve, "accuracy": curve[-1]["accuracy"]}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("check", choices=["scripted-memory", "supervised"])
    parser.add_argument("--core", choices=CORES, default="lstm", help="the direct-access controller's core")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--timesteps", type=positive_int, default=SCRIPTED_MEMORY["timesteps"])
    parser.add_argument("--length", type=positive_int, default=SCRIPTED_MEMORY["length"])
    parser.add_argument("--episodes", type=positive_int, default=SCRIPTED_MEMORY["episodes"])
    parser.add_argument("--updates", type=positive_int, default=SUPERVISED["updates"])
    parser.add_argument("--hyperparams", nargs="+", default=[], metavar="KEY=VALUE")
    parser.add_argument("--json", type=Path, default=None, help="write the result here (JSON)")
    args = parser.parse_args(argv)
    if args.seed < 0:
        parser.error(f"--seed must be >= 0, got {args.seed}")
    torch.set_num_threads(1)
    try:
        overrides = preset_overrides(args.core, parse_assignments(args.hyperparams, "--hyperparams"))
        hp = load_hyperparams(ALGO, ENV_ID, overrides)
    except (ValueError, ConfigError) as err:
        parser.error(str(err))
    policy_kwargs = hp.kwargs["policy_kwargs"]
    controller_kwargs = dict(policy_kwargs.get("controller_kwargs") or {})
    try:  # a bad controller kwarg fails here with its name, before any training
        CONTROLLERS[policy_kwargs["controller_class"]](input_dim=1, **controller_kwargs)
    except (TypeError, ValueError) as err:
        parser.error(f"--hyperparams: the controller {policy_kwargs['controller_class']!r} cannot take {err}")
    result: dict[str, Any] = {
        "experiment": "forward_reverse_memory",
        "check": args.check,
        "env_id": ENV_ID,
        "core": args.core,
        "seed": args.seed,
        "controller_kwargs": controller_kwargs,
    }
    if args.check == "scripted-memory":
        result.update(scripted_memory(args, overrides))
    else:
        result.update(supervised(args, controller_kwargs, policy_kwargs["controller_class"]))
    if args.json is not None:
        atomic_write_json(args.json, result)
    else:
        json.dump(result, sys.stdout)
        print()


if __name__ == "__main__":
    main()
