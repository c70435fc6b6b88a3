"""Training throughput: env steps per second of Reinforce (LSTM) against sb3-contrib RecurrentPPO, same run.

Both train an LSTM of the same width on the same task with the same number of envs (the batch), on one torch
thread, for the same number of env steps after a short warm-up; the script prints steps/s of each and the ratio
Reinforce / RecurrentPPO. Reinforce replays each batch of episodes in one fused LSTM call and takes one gradient
step per batch; RecurrentPPO (defaults: n_steps=128, 10 epochs of minibatch 128) does many more passes per step.

    python benchmarks/bench_training_speed.py                      # ClassicReverse, 16 envs, 20k steps each
    python benchmarks/bench_training_speed.py --task memtape/Copy-v0 --steps 50000 --hidden 128
"""

from __future__ import annotations

import argparse
import time
import warnings

import torch
from sb3_contrib import RecurrentPPO

from agents.extractors import FlattenExtractor
from agents.reinforce import Reinforce
from memtape_env.sb3 import MemTapeVecEnv

warnings.filterwarnings("ignore", message="The `render_mode` attribute")


def steps_per_second(model, steps: int, warmup: int) -> float:
    """Env steps per second of `model.learn`, timed after `warmup` steps."""
    model.learn(warmup)
    start_steps, start = model.num_timesteps, time.perf_counter()
    model.learn(steps, reset_num_timesteps=False)
    return (model.num_timesteps - start_steps) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--task", default="memtape/ClassicReverse-v0")
    parser.add_argument("--n-envs", type=int, default=16, help="envs stepped together (the batch) for both")
    parser.add_argument("--hidden", type=int, default=64, help="LSTM width for both")
    parser.add_argument("--steps", type=int, default=20_000, help="timed env steps per algorithm")
    parser.add_argument("--warmup", type=int, default=2_000)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    def env() -> MemTapeVecEnv:
        return MemTapeVecEnv(args.task, args.n_envs, seed=args.seed)

    reinforce = Reinforce(
        "ControllerPolicy",
        env(),
        batch_episodes=args.n_envs,
        supervised_output=True,
        seed=args.seed,
        device="cpu",
        policy_kwargs=dict(controller_class="lstm", controller_kwargs={"hidden_size": args.hidden}),
    )
    ppo = RecurrentPPO(
        "MlpLstmPolicy",
        env(),
        seed=args.seed,
        device="cpu",
        policy_kwargs=dict(lstm_hidden_size=args.hidden, n_lstm_layers=1, features_extractor_class=FlattenExtractor),
    )
    rates = {}
    for name, model in (("Reinforce (LSTM)", reinforce), ("RecurrentPPO (MlpLstmPolicy)", ppo)):
        rates[name] = steps_per_second(model, args.steps, args.warmup)
        print(f"{name:<30} {rates[name]:9.0f} env steps/s", flush=True)
    ratio = rates["Reinforce (LSTM)"] / rates["RecurrentPPO (MlpLstmPolicy)"]
    print(
        f"\n{args.task}, {args.n_envs} envs, LSTM width {args.hidden}, {args.threads} thread(s), "
        f"{args.steps} timed steps each\nReinforce / RecurrentPPO throughput ratio: {ratio:.2f}x"
    )


if __name__ == "__main__":
    main()
