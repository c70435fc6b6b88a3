"""Experiment: on RepeatCopy, does an agent find the start of the input by its position or by a shortcut?

Question. RepeatCopy's input tape is [m, x_1, ..., x_L], with the repeat count m (2 or 3) drawn from the same 30
symbols as x. The episode ends when the last copy is written, so no counter is needed: after each copy the agent
walks back to the start of x and copies again. It can find that start by its position (turn at x_1, or at m or
the blank left of the tape) or by a shortcut: turn right on reading a 2 or a 3. The shortcut is right on short
inputs, which seldom hold a 2 or a 3, and wrong on long ones: an x of length L is free of both with probability
(28/30)^L, 0.47 at L = 11. Which rule does each agent learn, and does seeing its input head position (the
RepeatCopy preset's `head_features`) make it take the positional one?

Method. Train one variant of the RepeatCopy agent preset (`configs/hyperparams/reinforce.yml`) with the harness
(`agents.harness.train.train`), or load a run directory that `memtape train` or `memtape bench` wrote. Apply the
harness's success test (`agents.harness.evaluate.is_solved`) at the curriculum's top length. Then play greedy
episodes at `--length` (one per sub-env, as the harness's evaluation does), split their success by m and by
whether x holds a 2 or a 3, and record where the input head turns from moving left to moving right: at m or left
of the tape, at x_1 (a policy may write x_1 as it turns), or further in (a false turn), with the symbol read at
each false turn.

The variants (`VARIANTS`, overrides on the preset):

- `preset`: the memoryless MLP controller that also sees its input head position (one-hot, `head_features`).
- `no-position`: the same MLP without the position feature: the symbol under the head and the previous action.
- `lstm`: an LSTM controller (hybrid objective, the same entropy bonus), which could count but sees no position.

How to run it (one torch thread; the budget is env steps):

    python benchmarks/experiments/repeat_copy_heads.py --variant preset --seed 1 --timesteps 1000000 --length 30
    python benchmarks/experiments/repeat_copy_heads.py --variant no-position --timesteps 4000000 --length 12
    python benchmarks/experiments/repeat_copy_heads.py --length 30 \
        --load runs/bench/standard/reinforce_tuned__memtape_RepeatCopy-v0__s3   # a run of the standard suite

Training writes its run directory to `--out` (default `runs/experiments/repeat_copy_heads/<variant>_s<seed>`).
`--hyperparams KEY=VALUE ...` overrides keys of the variant as `memtape train` does (`ent_coef=0.2`).

Output. A summary on stdout, then the result as one JSON object: on the last line of stdout, or in `--json PATH`
instead. Its fields: `experiment`, `env_id`, `variant` (null with `--load`), `seed`, `run_dir`, `train` (the
harness's `TrainResult`; null with `--load`), `at_top` (the harness's length evaluation at the curriculum top,
null if the top was never reached or with `--load`), `solved` (`is_solved`; null with `--load`), `length`,
`at_length` (the length evaluation at `--length`), `by_kind` (a list of `{m, x_holds_2_or_3, episodes,
success_rate}`), `turns` (`{at_start, at_x1, further_in, false_turn_symbols}`, the last a mapping from the symbol
read at a false turn to its count).

How to read it. A positional policy turns at x_1 or at the start and never further in, and its success does not
depend on `x_holds_2_or_3`. The shortcut shows as false turns on the symbols 2 and 3, and as failures where m is
the count the policy does not turn on, or where x holds the symbol it does turn on. One seed is an anecdote: how
often each variant solves the task is a question for many seeds (`memtape bench standard --tasks
memtape/RepeatCopy-v0 --algorithms reinforce_tuned reinforce_lstm`).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import torch
from stable_baselines3.common.vec_env import VecEnv, VecEnvWrapper

from agents.harness.atomic import atomic_write_json
from agents.harness.cli import parse_assignments, positive_int
from agents.harness.configs import ConfigError, deep_merge
from agents.harness.evaluate import evaluate_episodes, is_solved
from agents.harness.train import TrainSpec, load_run, train

# The settings of the experiment, as data.
ENV_ID = "memtape/RepeatCopy-v0"
ALGO = "reinforce"
M_SYMBOLS = (2, 3)  # the repeat counts, also data symbols of x
VARIANTS: dict[str, dict[str, Any]] = {
    "preset": {},
    "no-position": {"policy_kwargs": {"head_features": False}},
    "lstm": {"policy_kwargs": {"controller_class": "lstm", "controller_kwargs": {"hidden_size": 64}},
             "learning_rate": 3e-3, "ent_coef": 0.1, "supervised_output": True, "greedy_output_symbol": True,
             "env_kwargs": {"observe_prev_action": True}},
}  # fmt: skip
DEFAULTS = {"timesteps": 2_000_000, "length": 12, "episodes": 512}
TOP_EPISODES = 64  # episodes of the success test at the curriculum top


class TurnRecorder(VecEnvWrapper):
    """Record, for the first episode of each sub-env, its kind (m, x holds a 2 or a 3) and the input head's turns.

    A turn is a step whose input move is right after a step whose input move was left; where it happens is read
    from the machine's input head before the step.
    """

    def __init__(self, venv: VecEnv, length: int) -> None:
        super().__init__(venv)
        self.machine = venv.unwrapped.machine
        task = self.machine.task
        self.length = length
        self.move = venv.get_attr("action_names")[0].index("input_move")
        self.left, self.right, self.blank = task.input_moves.index("left"), task.input_moves.index("right"), task.blank
        n = venv.num_envs
        self.m = np.zeros(n, dtype=np.int64)
        self.holds = np.zeros(n, dtype=bool)
        self.active = np.ones(n, dtype=bool)
        self.last_move = np.full(n, -1)
        self.at_start = self.at_x1 = 0
        self.false_turns: Counter[int] = Counter()

    def reset(self) -> np.ndarray:
        obs = self.venv.reset()
        tape = self.machine.input[:, 0]
        self.m = tape[:, 0].astype(np.int64)
        self.holds = np.isin(tape[:, 1 : self.length + 1], M_SYMBOLS).any(1)
        self.active[:] = True
        self.last_move[:] = -1
        return obs

    def step_async(self, actions: np.ndarray) -> None:
        moves = np.asarray(actions)[:, self.move]
        for i in np.flatnonzero(self.active & (self.last_move == self.left) & (moves == self.right)):
            x = int(self.machine.in_x[i])
            if x <= 0:
                self.at_start += 1
            elif x == 1:
                self.at_x1 += 1
            else:
                width = self.machine.input.shape[2]
                self.false_turns[int(self.machine.input[i, 0, x]) if x < width else self.blank] += 1
        self.last_move = moves.copy()
        self.venv.step_async(actions)

    def step_wait(self):  # noqa: ANN201 (SB3's VecEnvStepReturn)
        obs, rewards, dones, infos = self.venv.step_wait()
        self.active &= ~dones
        return obs, rewards, dones, infos


def by_kind(m: np.ndarray, holds: np.ndarray, success: np.ndarray) -> list[dict[str, Any]]:
    """Success split by (m, whether x holds a 2 or a 3)."""
    rows = []
    for value in sorted(set(m.tolist())):
        for held in (False, True):
            sel = (m == value) & (holds == held)
            if sel.any():
                rows.append(
                    {
                        "m": int(value),
                        "x_holds_2_or_3": held,
                        "episodes": int(sel.sum()),
                        "success_rate": float(success[sel].mean()),
                    }
                )
    return rows


def diagnose(model: Any, env_kwargs: dict[str, Any], length: int, episodes: int, seed: int) -> dict[str, Any]:
    """Greedy episodes at `length`: the harness's evaluation, its success split by kind, and the turns."""
    recorders: list[TurnRecorder] = []

    def wrap(venv: VecEnv) -> VecEnv:
        recorders.append(TurnRecorder(venv, length))
        return recorders[-1]

    result, success = evaluate_episodes(model, ALGO, ENV_ID, env_kwargs, length, episodes, seed, vec_wrapper=wrap)
    rec = recorders[0]
    return {
        "length": length,
        "at_length": asdict(result),
        "by_kind": by_kind(rec.m, rec.holds, success),
        "turns": {
            "at_start": rec.at_start,
            "at_x1": rec.at_x1,
            "further_in": sum(rec.false_turns.values()),
            "false_turn_symbols": {str(k): v for k, v in rec.false_turns.most_common()},
        },
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--variant", choices=list(VARIANTS), default="preset")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--timesteps", type=positive_int, default=DEFAULTS["timesteps"])
    parser.add_argument("--length", type=positive_int, default=DEFAULTS["length"], help="length of the test episodes")
    parser.add_argument("--episodes", type=positive_int, default=DEFAULTS["episodes"])
    parser.add_argument("--hyperparams", nargs="+", default=[], metavar="KEY=VALUE")
    parser.add_argument("--out", type=Path, default=None, help="run directory to train into")
    parser.add_argument("--force", action="store_true", help="replace a finished run in --out")
    parser.add_argument("--load", type=Path, default=None, help="diagnose this run directory instead of training")
    parser.add_argument("--json", type=Path, default=None, help="write the result here (JSON)")
    args = parser.parse_args(argv)
    if args.seed < 0:
        parser.error(f"--seed must be >= 0, got {args.seed}")
    torch.set_num_threads(1)
    result: dict[str, Any] = {"experiment": "repeat_copy_heads", "env_id": ENV_ID, "seed": args.seed}
    if args.load is not None:
        try:
            model, spec = load_run(args.load, device="cpu")
        except (FileNotFoundError, ConfigError) as err:
            parser.error(f"--load: {err}")
        if spec.env_id != ENV_ID:
            parser.error(f"--load: {args.load} is a run on {spec.env_id}, not {ENV_ID}")
        result.update(variant=None, seed=spec.seed, run_dir=str(args.load), train=None, at_top=None, solved=None)
    else:
        out = args.out or Path("runs") / "experiments" / "repeat_copy_heads" / f"{args.variant}_s{args.seed}"
        try:
            overrides = deep_merge(VARIANTS[args.variant], parse_assignments(args.hyperparams, "--hyperparams"))
            spec = TrainSpec(ALGO, ENV_ID, args.seed, args.timesteps, hyperparams=overrides, tensorboard=False)
            trained = train(spec, out, force=args.force)
        except (ValueError, ConfigError) as err:
            parser.error(str(err))
        print(f"{args.variant} seed {args.seed}: {trained.timesteps} env steps, curriculum {trained.max_curriculum}")
        model, spec = load_run(out, device="cpu")
        at_top = None
        if trained.top_step is not None and trained.top_length is not None:
            at_top, _ = evaluate_episodes(
                model, ALGO, ENV_ID, spec.env_kwargs, int(trained.top_length), TOP_EPISODES, 20_000 + args.seed
            )
        result.update(
            variant=args.variant,
            run_dir=str(out),
            train=asdict(trained),
            at_top=None if at_top is None else asdict(at_top),
            solved=is_solved(trained.top_step, at_top),
        )
        print(f"  solved: {result['solved']}")
    result.update(diagnose(model, spec.env_kwargs, args.length, args.episodes, 1000 + spec.seed))
    for row in result["by_kind"]:
        label = "x holds a 2 or a 3" if row["x_holds_2_or_3"] else "x holds neither"
        print(f"  length {args.length}, m = {row['m']}, {label}: {row['episodes']} episodes, "
              f"greedy success {row['success_rate']:.2f}")  # fmt: skip
    turns = result["turns"]
    print(f"  left-to-right turns: {turns['at_start']} at m or left of the tape, {turns['at_x1']} at x_1, "
          f"{turns['further_in']} further in")  # fmt: skip
    if turns["further_in"]:
        print(f"  symbols read at the false turns (symbol: count): {turns['false_turn_symbols']}")
    if args.json is not None:
        atomic_write_json(args.json, result)
    else:
        json.dump(result, sys.stdout)
        print()


if __name__ == "__main__":
    main()
