"""Training throughput: env steps per second of Reinforce against sb3-contrib RecurrentPPO and SB3's PPO, one run.

Every model trains on the same task with the same number of envs (the batch), on one torch thread, for the
same number of env steps after a short warm-up; the script prints steps/s and ratios to a reference measured
in the same run (machine load moves the rates, the ratios much less). Three tables:

- default: Reinforce (LSTM) and RecurrentPPO (LSTM of the same width) at `--n-envs`, and their ratio.
- `--scaling 16,64,256,1024`: Reinforce (LSTM), RecurrentPPO and PPO at each env count; the reference of each
  column is its own rate at the first count. Reinforce replays with its default `replay_groups="auto"` (one
  padded batch below 256 episodes, 4 groups of similar episode length from there); `--replay-groups 1` adds
  Reinforce with that fixed number of groups (`ReinforceConfig.replay_groups`). The PPOs keep a rollout of
  `max(2048, 8 * envs)` steps (`n_steps = max(8, 2048 // envs)`, RecurrentPPO's default 128 at 16 envs), 4
  minibatches and SB3's 10 epochs, so that their updates do the same work per env step at every count.
- `--controllers lstm,dnc,neural_gpu`: Reinforce with each controller (each with its defaults and the wiring of
  `agents.harness.controller_setup`) at `--n-envs`: microseconds per env step (collection and updates) and the
  ratio to the first controller.
`--rounds N` repeats the measurements in N interleaved rounds and keeps each one's best (load spikes only slow).

    python benchmarks/bench_training_speed.py                      # ClassicReverse, 16 envs, 20k steps each
    python benchmarks/bench_training_speed.py --scaling 16,64,256,1024 --replay-groups 1
    python benchmarks/bench_training_speed.py --controllers lstm,dnc,neural_gpu --task memtape/Copy-v0
    python benchmarks/bench_training_speed.py --controllers lstm,dnc --compile --warmup 5000  # the compiled DNC
"""

from __future__ import annotations

import argparse
import inspect
import time
import warnings
from collections.abc import Callable
from typing import Any

import torch
from sb3_contrib import RecurrentPPO
from stable_baselines3 import PPO
from stable_baselines3.common.base_class import BaseAlgorithm

from agents.controllers import CONTROLLERS
from agents.harness.controller_setup import controller_setup
from agents.policies.extractors import FlattenExtractor
from agents.reinforce import Reinforce
from memtape_env.sb3 import MemTapeVecEnv

warnings.filterwarnings("ignore", message="The `render_mode` attribute")


def steps_per_second(model: BaseAlgorithm, steps: int, warmup: int) -> float:
    """Env steps per second of `model.learn`, timed after `warmup` steps."""
    model.learn(warmup)
    start_steps, start = model.num_timesteps, time.perf_counter()
    model.learn(steps, reset_num_timesteps=False)
    return (model.num_timesteps - start_steps) / (time.perf_counter() - start)


def reinforce(
    task: str,
    n_envs: int,
    seed: int,
    controller: str = "lstm",
    hidden: int | None = None,
    replay_groups: int | None = None,
    compile_step: bool = False,
) -> Reinforce:
    """Reinforce with the hybrid objective on `n_envs` envs (`batch_episodes=n_envs`); `replay_groups` None keeps
    Reinforce's default; `compile_step` passes `compile=True` to a controller that takes it (the DNC)."""
    policy_kwargs, env_kwargs = controller_setup(controller, task)
    extra: dict[str, Any] = {}
    if hidden is not None:
        extra["hidden_size"] = hidden
    if compile_step and "compile" in inspect.signature(CONTROLLERS[controller]).parameters:
        extra["compile"] = True
    if extra:
        policy_kwargs["controller_kwargs"] = {**policy_kwargs.get("controller_kwargs", {}), **extra}
    return Reinforce(
        "ControllerPolicy",
        MemTapeVecEnv(task, n_envs, seed=seed, **env_kwargs),
        batch_episodes=n_envs,
        supervised_output=True,
        **({"replay_groups": replay_groups} if replay_groups is not None else {}),
        seed=seed,
        device="cpu",
        policy_kwargs=policy_kwargs,
    )


def ppo_kwargs(n_envs: int) -> dict[str, int]:
    """Rollout and minibatch sizes that keep the update work per env step equal at every env count."""
    n_steps = max(8, 2048 // n_envs)
    return dict(n_steps=n_steps, batch_size=n_steps * n_envs // 4)


def recurrent_ppo(task: str, n_envs: int, seed: int, hidden: int, scaled: bool = False) -> RecurrentPPO:
    """sb3-contrib's RecurrentPPO (`MlpLstmPolicy`, defaults unless `scaled`, see `ppo_kwargs`)."""
    return RecurrentPPO(
        "MlpLstmPolicy",
        MemTapeVecEnv(task, n_envs, seed=seed),
        seed=seed,
        device="cpu",
        policy_kwargs=dict(lstm_hidden_size=hidden, n_lstm_layers=1, features_extractor_class=FlattenExtractor),
        **(ppo_kwargs(n_envs) if scaled else {}),
    )


def ppo(task: str, n_envs: int, seed: int) -> PPO:
    """SB3's PPO (`MlpPolicy`, sizes of `ppo_kwargs`)."""
    return PPO(
        "MlpPolicy",
        MemTapeVecEnv(task, n_envs, seed=seed),
        seed=seed,
        device="cpu",
        policy_kwargs=dict(features_extractor_class=FlattenExtractor),
        **ppo_kwargs(n_envs),
    )


def table(header: list[str], rows: list[list[str]]) -> str:
    """A markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows])


def run_default(args: argparse.Namespace) -> None:
    rates = {}
    builders: dict[str, Callable[[], BaseAlgorithm]] = {
        "Reinforce (LSTM)": lambda: reinforce(args.task, args.n_envs, args.seed, hidden=args.hidden),
        "RecurrentPPO (MlpLstmPolicy)": lambda: recurrent_ppo(args.task, args.n_envs, args.seed, args.hidden),
    }
    for name, build in builders.items():
        rates[name] = steps_per_second(build(), args.steps, args.warmup)
        print(f"{name:<30} {rates[name]:9.0f} env steps/s", flush=True)
    ratio = rates["Reinforce (LSTM)"] / rates["RecurrentPPO (MlpLstmPolicy)"]
    print(
        f"\n{args.task}, {args.n_envs} envs, LSTM width {args.hidden}, {args.threads} thread(s), "
        f"{args.steps} timed steps each\nReinforce / RecurrentPPO throughput ratio: {ratio:.2f}x"
    )


def run_scaling(args: argparse.Namespace) -> None:
    counts = [int(n) for n in args.scaling.split(",")]
    algos: dict[str, Callable[[int], BaseAlgorithm]] = {
        "Reinforce (LSTM)": lambda n: reinforce(args.task, n, args.seed, hidden=args.hidden),
        **(
            {
                f"Reinforce (LSTM, replay_groups={args.replay_groups})": lambda n: reinforce(
                    args.task, n, args.seed, hidden=args.hidden, replay_groups=args.replay_groups
                )
            }
            if args.replay_groups is not None
            else {}
        ),
        "RecurrentPPO": lambda n: recurrent_ppo(args.task, n, args.seed, args.hidden, scaled=True),
        "PPO": lambda n: ppo(args.task, n, args.seed),
    }
    rates: dict[str, dict[int, float]] = {name: {} for name in algos}
    for round_ in range(args.rounds):  # rounds interleave the counts; each (algorithm, count) keeps its best
        for n in counts:
            for name, build in algos.items():
                # At least a few iterations or rollouts at every count: a rollout is max(2048, 8n) steps.
                steps = max(args.steps, 3 * max(2048, 8 * n))
                rate = steps_per_second(build(n), steps, max(args.warmup, 2 * n, max(2048, 8 * n)))
                rates[name][n] = max(rate, rates[name].get(n, rate))
                print(f"round {round_ + 1}: {n:>5} envs  {name:<36} {rate:9.0f} env steps/s", flush=True)
    rows = []
    for n in counts:
        row = [str(n)]
        for name in algos:
            row.append(f"{rates[name][n]:,.0f} ({rates[name][n] / rates[name][counts[0]]:.1f}x)")
        row.append(f"{rates['Reinforce (LSTM)'][n] / rates['RecurrentPPO'][n]:.1f}x")
        rows.append(row)
    print(
        f"\n{args.task}, LSTM width {args.hidden}, {args.threads} thread(s), best of {args.rounds} round(s); env "
        f"steps/s (x the same algorithm's rate at {counts[0]} envs)\n"
    )
    print(table(["envs", *algos, "Reinforce / RecurrentPPO"], rows))
    ours = rates["Reinforce (LSTM)"]
    print(
        f"\nReinforce with its default replay: {ours[counts[-1]]:,.0f} env steps/s at {counts[-1]} envs, "
        f"{ours[counts[-1]] / ours[counts[0]]:.1f}x its {ours[counts[0]]:,.0f} at {counts[0]} envs"
    )


def run_controllers(args: argparse.Namespace) -> None:
    names = args.controllers.split(",")
    cost: dict[str, float] = {}
    for round_ in range(args.rounds):  # rounds interleave the controllers; each keeps its best round
        for name in names:
            model = reinforce(args.task, args.n_envs, args.seed, controller=name, compile_step=args.compile)
            us = 1e6 / steps_per_second(model, args.steps, args.warmup)
            cost[name] = min(us, cost.get(name, us))
            print(f"round {round_ + 1}: {name:<12} {us:9.0f} us per env step", flush=True)
    rows = [[name, f"{cost[name]:,.0f}", f"{cost[name] / cost[names[0]]:.1f}x"] for name in names]
    print(
        f"\n{args.task}, Reinforce{' (compiled steps)' if args.compile else ''}, {args.n_envs} envs, "
        f"{args.threads} thread(s), {args.steps} timed steps each, "
        f"best of {args.rounds} round(s)\n"
    )
    print(table(["controller", "us per env step", f"x {names[0]}"], rows))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--task", default="memtape/ClassicReverse-v0")
    parser.add_argument("--n-envs", type=int, default=16, help="envs stepped together (the batch)")
    parser.add_argument("--hidden", type=int, default=64, help="LSTM width of Reinforce and RecurrentPPO")
    parser.add_argument("--steps", type=int, default=20_000, help="timed env steps per model (at least)")
    parser.add_argument("--warmup", type=int, default=2_000)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--replay-groups", type=int, help="--scaling: also Reinforce with this replay_groups (1: one padded batch)"
    )
    parser.add_argument(
        "--rounds", type=int, default=1, help="rounds (--controllers, --scaling), the best of each kept"
    )
    parser.add_argument(
        "--compile",
        action="store_true",
        help="--controllers: compile=True for the controllers that take it (the DNC); raise --warmup to cover "
        "the compile (it runs on the first steps, the DNC's in a minute or two)",
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--scaling", metavar="COUNTS", help="env counts, comma-separated, e.g. 16,64,256,1024")
    mode.add_argument("--controllers", metavar="NAMES", help="Reinforce controllers, e.g. lstm,dnc,neural_gpu")
    args = parser.parse_args()
    if args.rounds < 1 or (args.replay_groups is not None and args.replay_groups < 1):
        parser.error(f"--rounds and --replay-groups must be positive ints, got {args.rounds}, {args.replay_groups}")
    if args.scaling is not None:
        counts = args.scaling.split(",")
        if not all(c.isdigit() and int(c) > 0 for c in counts):
            parser.error(f"--scaling takes positive env counts separated by commas, got {args.scaling!r}")
    torch.set_num_threads(args.threads)
    if args.scaling:
        run_scaling(args)
    elif args.controllers:
        run_controllers(args)
    else:
        run_default(args)


if __name__ == "__main__":
    main()
