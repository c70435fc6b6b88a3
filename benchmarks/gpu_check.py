"""GPU check: Reinforce (LSTM, DNC, Neural GPU) and the supervised Neural GPU on a CUDA device, against the CPU.

Two parts, in one run (about 5 minutes at most with the default budgets):
1. Same numbers: on small inputs, the CPU model and a copy of it on the device get the same batch (episodes
   collected on the CPU, or a supervised batch); the forward values (Reinforce: the step's log-probabilities
   and the replay's per-step log-probabilities; supervised: the logits), the loss and every gradient must agree
   within `--tolerance`, as the largest absolute difference relative to the largest CPU magnitude. TF32 is
   off and cuDNN deterministic for this part, so the differences are float32 rounding only.
2. Throughput: each model trains on the device for `--steps` steps (Reinforce: collection steps of `--n-envs`
   envs; supervised: optimizer steps), each run cut at `--time-limit` seconds; prints steps/s.

With no CUDA device the script says so and exits with code 0. `--device cpu` runs everything with the CPU on
both sides (a self-check of the script itself, which the tests use). Exit code 1 when a comparison fails.

    python benchmarks/gpu_check.py                 # cuda (or "no CUDA device", exit 0)
    python benchmarks/gpu_check.py --device cpu --steps 5 --time-limit 10
"""

from __future__ import annotations

import argparse
import copy
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from stable_baselines3.common.callbacks import BaseCallback
from torch import nn

from agents.harness.controller_setup import controller_setup
from agents.policies import ControllerPolicy
from agents.reinforce import EpisodeBatch, Reinforce, ReinforceConfig, reinforce_loss
from agents.supervised import NeuralGPUModel, SupervisedConfig, Trainer, batch_loss
from memtape_env.sb3 import MemTapeVecEnv
from memtape_env.tasks import get_task

warnings.filterwarnings("ignore", message="The `render_mode` attribute")

CONTROLLERS = ("lstm", "dnc", "neural_gpu")
REINFORCE_TASK = "memtape/Copy-v0"
SUPERVISED = dict(task="BinaryAddition", controller="neural_gpu", controller_kwargs={"channels": 24, "layers": 2})


@dataclass
class Comparison:
    """One quantity computed on the CPU and on the device: the largest difference relative to its scale."""

    name: str
    error: float
    tolerance: float

    @property
    def ok(self) -> bool:
        return self.error <= self.tolerance

    def __str__(self) -> str:
        return f"{'ok  ' if self.ok else 'FAIL'} {self.name:<44} relative difference {self.error:.2e}"


def relative_difference(cpu: torch.Tensor, other: torch.Tensor) -> float:
    cpu, other = cpu.detach().double(), other.detach().cpu().double()
    if cpu.shape != other.shape:
        return float("inf")
    if cpu.numel() == 0:
        return 0.0
    finite = torch.isfinite(cpu) & torch.isfinite(other)
    if not bool((finite | (cpu == other)).all()):
        return float("inf")
    cpu, other = cpu[finite], other[finite]
    return float((cpu - other).abs().max() / cpu.abs().max().clamp_min(1e-6))


def compare_values(
    prefix: str, cpu: dict[str, torch.Tensor], dev: dict[str, torch.Tensor], tolerance: float
) -> list[Comparison]:
    return [Comparison(f"{prefix} {key}", relative_difference(cpu[key], dev[key]), tolerance) for key in cpu]


def gradients(module: nn.Module) -> dict[str, torch.Tensor]:
    return {f"grad {name}": p.grad for name, p in module.named_parameters() if p.grad is not None}


# ----------------------------------------------------------------------------- Reinforce
def reinforce_model(controller: str, n_envs: int, device: str, seed: int = 0) -> Reinforce:
    policy_kwargs, env_kwargs = controller_setup(controller, REINFORCE_TASK)
    env = MemTapeVecEnv(REINFORCE_TASK, n_envs, seed=seed, **env_kwargs)
    return Reinforce(
        "ControllerPolicy",
        env,
        batch_episodes=n_envs,
        supervised_output=True,
        seed=seed,
        device=device,
        policy_kwargs=policy_kwargs,
    )


def reinforce_values(policy: ControllerPolicy, config: ReinforceConfig, batch: EpisodeBatch) -> dict[str, torch.Tensor]:
    """Step log-probabilities (first step of every episode), replay log-probabilities, loss and gradients."""
    policy.zero_grad(set_to_none=True)
    with torch.no_grad():
        features, context = policy.layout.split(batch.obs[0])
        latent, _ = policy.controller.step(features, policy.initial_state(batch.obs.shape[1]), context)
        step_logp = torch.cat(policy.action_head.log_softmax(latent), dim=-1)
    replay = policy.evaluate_episodes(batch.obs, batch.actions).log_prob.detach()
    online = torch.zeros(batch.mask.shape[0], device=batch.mask.device)
    loss, _ = reinforce_loss(policy, batch, config, online_baseline=online)
    loss.backward()
    return {"step log-probs": step_logp, "replay log-probs": replay, "loss": loss.detach(), **gradients(policy)}


def check_reinforce(controller: str, device: str, tolerance: float) -> list[Comparison]:
    """Episodes collected on the CPU, replayed by the CPU policy and by its copy on `device`."""
    model = reinforce_model(controller, n_envs=4, device="cpu")
    model._setup_learn(1)
    episodes = model.collect_episodes(model.env, model._init_callback(None))
    assert episodes is not None
    batch = model._to_batch(episodes)
    cpu = reinforce_values(model.policy, model.config, batch)
    dev = reinforce_values(copy.deepcopy(model.policy).to(device), model.config, batch.to(device))
    return compare_values(f"reinforce {controller}:", cpu, dev, tolerance)


class StopAfter(BaseCallback):
    """Stops `learn` after a wall-clock limit."""

    def __init__(self, seconds: float) -> None:
        super().__init__()
        self.deadline = time.perf_counter() + seconds

    def _on_step(self) -> bool:
        return time.perf_counter() < self.deadline


def reinforce_throughput(controller: str, device: str, n_envs: int, steps: int, time_limit: float) -> float:
    model = reinforce_model(controller, n_envs, device)
    model.learn(n_envs, callback=StopAfter(time_limit))  # warm-up: kernels, allocator
    start_steps, start = model.num_timesteps, time.perf_counter()
    model.learn(steps * n_envs, callback=StopAfter(time_limit), reset_num_timesteps=False)
    return (model.num_timesteps - start_steps) / (time.perf_counter() - start)


# ----------------------------------------------------------------------------- supervised Neural GPU
def check_supervised(device: str, tolerance: float) -> list[Comparison]:
    """One batch of BinaryAddition through the supervised Neural GPU on the CPU and on `device`."""
    torch.manual_seed(0)
    task = get_task(SUPERVISED["task"])
    model = NeuralGPUModel(task, **SUPERVISED["controller_kwargs"])
    x, y = task.generate(np.random.default_rng(0), 8, 6)
    inputs, targets = torch.from_numpy(x), torch.from_numpy(y)

    def values(m: NeuralGPUModel, dev: str) -> dict[str, torch.Tensor]:
        m.zero_grad(set_to_none=True)
        i, t = inputs.to(dev), targets.to(dev)
        with torch.no_grad():
            logits = m(i[:, 0], t.shape[1])
        loss, _ = batch_loss(m, i, t)
        loss.backward()
        return {"logits": logits, "loss": loss.detach(), **gradients(m)}

    cpu = values(model, "cpu")
    dev = values(copy.deepcopy(model).to(device), device)
    return compare_values("supervised neural_gpu:", cpu, dev, tolerance)


def supervised_throughput(device: str, steps: int, time_limit: float) -> float:
    cfg = SupervisedConfig(
        **SUPERVISED, steps=steps, batch_size=32, max_length=20, eval_every=10**9, device=device, time_budget=time_limit
    )
    trainer = Trainer(cfg)
    trainer.train_step()  # warm-up
    start_step, start = trainer.step, time.perf_counter()
    trainer.train(log=False)
    return (trainer.step - start_step) / (time.perf_counter() - start)


# ----------------------------------------------------------------------------- main
def run(device: str, steps: int, n_envs: int, time_limit: float, tolerance: float) -> bool:
    """All comparisons and throughputs on `device`; True when every comparison passed."""
    if device.startswith("cuda"):
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
        torch.backends.cudnn.deterministic = True
        print(f"device: {torch.cuda.get_device_name(torch.device(device))}, torch {torch.__version__}", flush=True)
    else:
        print(f"device: {device} (self-check: the CPU on both sides), torch {torch.__version__}", flush=True)
    started = time.perf_counter()
    checks: list[Comparison] = []
    for controller in CONTROLLERS:
        checks += check_reinforce(controller, device, tolerance)
    checks += check_supervised(device, tolerance)
    failed = [c for c in checks if not c.ok]
    worst: dict[str, Comparison] = {}
    for c in checks:
        group = c.name.split(":")[0]
        if group not in worst or c.error > worst[group].error:
            worst[group] = c
    print(f"\n{len(checks)} comparisons with the CPU, tolerance {tolerance:g}; largest per model:")
    for c in worst.values():
        print(f"  {c}")
    for c in failed:
        print(f"  {c}")
    print(f"\nthroughput on {device} ({time.perf_counter() - started:.0f} s so far):", flush=True)
    runs: dict[str, Callable[[], float]] = {
        **{
            f"reinforce {c}, {n_envs} envs (env steps/s)": (
                lambda c=c: reinforce_throughput(c, device, n_envs, steps, time_limit)
            )
            for c in CONTROLLERS
        },
        "supervised neural_gpu, batch 32 (optimizer steps/s)": lambda: supervised_throughput(device, steps, time_limit),
    }
    for name, measure in runs.items():
        print(f"  {name:<52} {measure():10.1f}", flush=True)
    print(
        f"\n{'PASS' if not failed else 'FAIL'}: {len(failed)} of {len(checks)} comparisons out of tolerance; "
        f"{time.perf_counter() - started:.0f} s in all"
    )
    return not failed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cuda", help='a CUDA device ("cuda", "cuda:1") or "cpu" (self-check)')
    parser.add_argument("--steps", type=int, default=300, help="training steps per throughput run")
    parser.add_argument("--n-envs", type=int, default=64, help="envs of the Reinforce throughput runs")
    parser.add_argument("--time-limit", type=float, default=45.0, help="seconds at most per throughput run")
    parser.add_argument("--tolerance", type=float, default=1e-4, help="largest relative difference allowed")
    args = parser.parse_args(argv)
    if args.steps < 1 or args.n_envs < 1 or not args.time_limit > 0 or not args.tolerance > 0:
        parser.error("--steps and --n-envs must be positive ints, --time-limit and --tolerance positive numbers")
    if args.device != "cpu":
        try:
            device = torch.device(args.device)
        except RuntimeError:
            parser.error(f"--device must be 'cpu' or a CUDA device such as 'cuda:0', got {args.device!r}")
        if device.type != "cuda":
            parser.error(f"--device must be 'cpu' or a CUDA device such as 'cuda:0', got {args.device!r}")
        if not torch.cuda.is_available():
            print("no CUDA device: nothing to check (run with --device cpu for the script's self-check)")
            return 0
    torch.set_num_threads(1)
    return 0 if run(args.device, args.steps, args.n_envs, args.time_limit, args.tolerance) else 1


if __name__ == "__main__":
    sys.exit(main())
