"""Supervised (backprop-only) training of any controller on a task's (input, target) pairs, with a curriculum.

This is the native setting of the Neural GPU and DNC papers and the upper bound the RL results are read
against. Two model shapes:
- `neural_gpu`: the Neural GPU network reads the whole tape and predicts the target symbol at every column of
  row 0 (columns past the target predict a padding class), as in Kaiser & Sutskever 2015.
- any other controller name (`lstm`, `gru`, `dnc`, `rlntm`, ...): a sequence model that reads the input one
  column per step, then gets `target_len` "answer" steps and predicts one target symbol per answer step.

The curriculum raises the training length by one when the sequence accuracy at the current length reaches
`promote_accuracy`; batches mix the current length, shorter ones and a few up to `max_length`. Checkpoints
(model, optimizer, curriculum, RNG states) are written atomically and a run resumes from its checkpoint.

    python -m agents.supervised --task BinaryAddition --controller neural_gpu --steps 20000 \
        --checkpoint runs/ngpu_add.pt --test-lengths 200 2000
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from agents.controllers import CONTROLLERS
from agents.controllers.neural_gpu import NeuralGPU
from memtape_env.tasks import get_task
from memtape_env.tasks.base import Task


@dataclass
class SupervisedConfig:
    """Hyperparameters of one supervised run (defaults: the Neural GPU on binary addition)."""

    task: str = "BinaryAddition"  # a name from memtape_env.tasks.TASKS
    controller: str = "neural_gpu"  # "neural_gpu" or a name in agents.controllers.CONTROLLERS
    controller_kwargs: dict[str, Any] = field(default_factory=dict)  # passed to the controller constructor
    steps: int = 20_000  # optimizer steps in total (a resumed run continues up to this)
    batch_size: int = 32  # sequences per step
    lr: float = 1e-3  # learning rate
    optimizer: str = "adam"  # "adam" or "rmsprop"
    optimizer_eps: float = 1e-8  # epsilon of the optimizer
    max_grad_norm: float = 1.0  # gradient clipping by global norm (0: off)
    grad_noise: float = 0.0  # Gaussian gradient noise std at step 0, decaying as (1 + step)^-0.55
    relax_pull: float = 0.0  # weight of the Neural GPU relaxation pull term at the start
    relax_pull_growth: float = 1.2  # the pull is multiplied by this at every curriculum promotion
    start_length: int | None = None  # first curriculum length (None: the task's default)
    max_length: int = 20  # longest training length
    promote_accuracy: float = 0.9  # sequence accuracy at the current length that promotes the curriculum
    eval_every: int = 50  # steps between curriculum evaluations
    eval_samples: int = 64  # sequences per curriculum evaluation
    seed: int = 0  # seeds numpy and torch
    checkpoint: str | None = None  # checkpoint path (atomic, resumed from); PATH.best: best model at max_length
    checkpoint_every: int = 200  # steps between checkpoints
    time_budget: float = 0.0  # seconds of training before stopping with a checkpoint (0: no limit)
    test_lengths: list[int] = field(default_factory=list)  # lengths to test after training
    test_samples: int = 32  # sequences per test length
    test_batch: int = 8  # sequences per test forward pass
    threads: int = 0  # torch threads (0: torch default)
    device: str = "auto"  # "auto" (CUDA when available), "cpu", "cuda", "cuda:1", ...

    def validate(self) -> None:
        """Raise ValueError naming the first bad field."""
        get_task(self.task)
        if self.controller != "neural_gpu" and self.controller not in CONTROLLERS:
            raise ValueError(
                f"controller must be 'neural_gpu' or one of {sorted(CONTROLLERS)}, got {self.controller!r}"
            )
        if self.optimizer not in ("adam", "rmsprop"):
            raise ValueError(f"optimizer must be 'adam' or 'rmsprop', got {self.optimizer!r}")
        for name in (
            "steps",
            "batch_size",
            "max_length",
            "eval_every",
            "eval_samples",
            "checkpoint_every",
            "test_samples",
            "test_batch",
        ):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)!r}")
        for name in ("lr", "optimizer_eps"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)!r}")
        for name in ("max_grad_norm", "grad_noise", "relax_pull", "time_budget", "threads"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)!r}")
        if not 0 < self.promote_accuracy <= 1:
            raise ValueError(f"promote_accuracy must be in (0, 1], got {self.promote_accuracy!r}")
        try:
            torch.device("cpu" if self.device == "auto" else self.device)
        except RuntimeError as err:
            raise ValueError(f"device must be 'auto' or a torch device, got {self.device!r}") from err
        if any(n < 1 for n in self.test_lengths):
            raise ValueError(f"test_lengths must be positive, got {self.test_lengths!r}")


class NeuralGPUModel(nn.Module):
    """Neural GPU plus a linear read-out of row 0: logits (batch, width, output_base + 1); last class: pad."""

    def __init__(self, task: Task, **gpu_kwargs: Any) -> None:
        super().__init__()
        if task.rows != 1:
            raise ValueError(f"the Neural GPU model takes 1-row tapes; task {task.name} has {task.rows} rows")
        self.gpu = NeuralGPU(task.input_base + 1, **gpu_kwargs)
        self.readout = nn.Linear(self.gpu.channels, task.output_base + 1)
        self.pad_class = task.output_base

    def forward(self, inputs: torch.Tensor, target_len: int) -> torch.Tensor:
        """Logits for every column of the input (batch, width); `target_len` > width is an error."""
        if target_len > inputs.shape[1]:
            raise ValueError(f"target length {target_len} exceeds the tape width {inputs.shape[1]}")
        return self.readout(self.gpu(inputs))

    def full_targets(self, targets: torch.Tensor, width: int) -> torch.Tensor:
        """Targets padded to the width with the padding class (which -1 entries become too)."""
        out = torch.full((targets.shape[0], width), self.pad_class, dtype=torch.long, device=targets.device)
        out[:, : targets.shape[1]] = torch.where(targets < 0, self.pad_class, targets)
        return out


class SequenceModel(nn.Module):
    """A recurrent controller reading one input column per step, then answering one symbol per step.

    Step features: one-hot symbols of the column's rows (blank during the answer phase) and two flags
    (reading, answering). Logits come from a linear layer on the controller output at answer steps.
    """

    def __init__(self, task: Task, controller: str, **controller_kwargs: Any) -> None:
        super().__init__()
        self.vocab = task.input_base + 1
        self.rows = task.rows
        self.blank = task.blank
        input_dim = self.rows * self.vocab + 2
        self.controller = CONTROLLERS[controller](input_dim=input_dim, **controller_kwargs)
        self.readout = nn.Linear(self.controller.output_dim, task.output_base)

    def forward(self, inputs: torch.Tensor, target_len: int) -> torch.Tensor:
        """inputs (batch, rows, width) -> logits (batch, target_len, output_base)."""
        batch, rows, width = inputs.shape
        answer = torch.full((batch, rows, target_len), self.blank, dtype=torch.long, device=inputs.device)
        symbols = torch.cat([inputs, answer], dim=2)  # (B, rows, T)
        onehot = F.one_hot(symbols, self.vocab).permute(2, 0, 1, 3).reshape(width + target_len, batch, -1)
        flags = torch.zeros(width + target_len, batch, 2, device=inputs.device)
        flags[:width, :, 0] = 1
        flags[width:, :, 1] = 1
        x = torch.cat([onehot.to(flags.dtype), flags], dim=2)
        starts = torch.zeros(x.shape[0], batch, dtype=torch.bool, device=inputs.device)
        starts[0] = True
        state = self.controller.initial_state(batch, inputs.device)
        out, _ = self.controller.sequence(x, starts, state)
        return self.readout(out[width:]).transpose(0, 1)


def build_model(task: Task, cfg: SupervisedConfig) -> nn.Module:
    if cfg.controller == "neural_gpu":
        return NeuralGPUModel(task, **cfg.controller_kwargs)
    return SequenceModel(task, cfg.controller, **cfg.controller_kwargs)


def batch_loss(model: nn.Module, inputs: torch.Tensor, targets: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Cross-entropy over the answer and per-sequence correctness (bool, batch) of the greedy answer."""
    if isinstance(model, NeuralGPUModel):
        tape = inputs[:, 0]
        logits = model(tape, targets.shape[1])
        full = model.full_targets(targets, tape.shape[1])
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), full.reshape(-1))
        correct = (logits.argmax(-1) == full).all(dim=1)
        return loss, correct
    logits = model(inputs, targets.shape[1])
    loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), ignore_index=-1)
    pred = logits.argmax(-1)
    correct = ((pred == targets) | (targets < 0)).all(dim=1)
    return loss, correct


@torch.no_grad()
def evaluate(
    model: nn.Module, task: Task, length: int, n: int, rng: np.random.Generator, batch: int = 32
) -> dict[str, float]:
    """Sequence and symbol error rates on `n` fresh examples of `length` (the model in eval mode)."""
    was_training = model.training
    model.eval()
    wrong_seq = wrong_sym = total_sym = 0
    for start in range(0, n, batch):
        k = min(batch, n - start)
        x, y = task.generate(rng, k, length)
        device = next(model.parameters()).device
        inputs, targets = torch.from_numpy(x).to(device), torch.from_numpy(y).to(device)
        if isinstance(model, NeuralGPUModel):
            logits = model(inputs[:, 0], targets.shape[1])
            full = model.full_targets(targets, inputs.shape[2])
            pred, ref = logits.argmax(-1), full
            mask = torch.zeros_like(ref, dtype=torch.bool)
            mask[:, : targets.shape[1]] = targets >= 0
            seq_ok = (pred == ref).all(dim=1)
        else:
            pred, ref = model(inputs, targets.shape[1]).argmax(-1), targets
            mask = targets >= 0
            seq_ok = ((pred == ref) | ~mask).all(dim=1)
        wrong_seq += int((~seq_ok).sum())
        wrong_sym += int(((pred != ref) & mask).sum())
        total_sym += int(mask.sum())
    model.train(was_training)
    return {
        "length": length,
        "n": n,
        "sequence_error": wrong_seq / n,
        "symbol_error": wrong_sym / max(1, total_sym),
    }


def sample_length(rng: np.random.Generator, current: int, low: int, high: int) -> int:
    """Half the batches at the current length, 40% uniform below it, 10% uniform up to the top length."""
    u = rng.random()
    if u < 0.5:
        return current
    if u < 0.9:
        return int(rng.integers(low, current + 1))
    return int(rng.integers(low, high + 1))


def save_checkpoint(path: str, payload: dict[str, Any]) -> None:
    """Write `payload` with torch.save to a temporary file next to `path`, then rename it over `path`."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = f"{path}.tmp.{os.getpid()}"
    torch.save(payload, tmp)
    os.replace(tmp, path)


class Trainer:
    """Owns the model, optimizer, curriculum and RNGs of one run; `train` resumes from the checkpoint."""

    def __init__(self, cfg: SupervisedConfig) -> None:
        cfg.validate()
        self.cfg = cfg
        self.task = get_task(cfg.task)
        torch.manual_seed(cfg.seed)
        auto = "cuda" if torch.cuda.is_available() else "cpu"
        self.device = torch.device(auto if cfg.device == "auto" else cfg.device)
        self.model = build_model(self.task, cfg).to(self.device)
        if cfg.optimizer == "adam":
            self.opt: torch.optim.Optimizer = torch.optim.Adam(
                self.model.parameters(), lr=cfg.lr, eps=cfg.optimizer_eps
            )
        else:
            self.opt = torch.optim.RMSprop(self.model.parameters(), lr=cfg.lr, eps=cfg.optimizer_eps)
        self.rng = np.random.default_rng(cfg.seed)
        self.step = 0
        self.low = self.task.curriculum.min_length
        self.length = max(self.low, cfg.start_length or self.task.curriculum.start_length)
        if self.length > cfg.max_length:
            raise ValueError(f"start length {self.length} exceeds max_length {cfg.max_length}")
        self.pull = cfg.relax_pull
        self.history: list[dict[str, float]] = []
        self.losses: list[float] = []  # training losses since the last evaluation
        self.best_error = math.inf  # lowest sequence error of an evaluation at max_length so far
        if cfg.checkpoint and os.path.exists(cfg.checkpoint):
            self.load(cfg.checkpoint)

    def state_dict(self) -> dict[str, Any]:
        return {
            "config": dataclasses.asdict(self.cfg),
            "model": self.model.state_dict(),
            "optimizer": self.opt.state_dict(),
            "step": self.step,
            "length": self.length,
            "pull": self.pull,
            "history": self.history,
            "losses": self.losses,
            "best_error": self.best_error,
            "numpy_rng": self.rng.bit_generator.state,
            "torch_rng": torch.get_rng_state(),
        }

    def load(self, path: str) -> None:
        ckpt = torch.load(path, map_location="cpu", weights_only=False)
        saved = {k: ckpt["config"][k] for k in ("task", "controller", "controller_kwargs")}
        mine = {k: getattr(self.cfg, k) for k in saved}
        if saved != mine:
            raise ValueError(f"checkpoint {path} was made for {saved}, not {mine}")
        self.model.load_state_dict(ckpt["model"])
        self.opt.load_state_dict(ckpt["optimizer"])
        self.step, self.length, self.pull = ckpt["step"], ckpt["length"], ckpt["pull"]
        self.history, self.losses = ckpt["history"], ckpt.get("losses", [])
        self.best_error = ckpt.get("best_error", math.inf)
        self.rng.bit_generator.state = ckpt["numpy_rng"]
        torch.set_rng_state(ckpt["torch_rng"])

    def save(self) -> None:
        if self.cfg.checkpoint:
            save_checkpoint(self.cfg.checkpoint, self.state_dict())

    def train_step(self) -> tuple[float, float]:
        """One optimizer step on a batch at a sampled length; returns (loss, sequence accuracy)."""
        cfg = self.cfg
        length = sample_length(self.rng, self.length, self.low, cfg.max_length)
        x, y = self.task.generate(self.rng, cfg.batch_size, length)
        loss, correct = batch_loss(self.model, torch.from_numpy(x).to(self.device), torch.from_numpy(y).to(self.device))
        total = loss
        if self.pull and isinstance(self.model, NeuralGPUModel):
            total = loss + self.pull * self.model.gpu.relaxation_penalty()
        self.opt.zero_grad(set_to_none=True)
        total.backward()
        if cfg.grad_noise:
            std = cfg.grad_noise / (1 + self.step) ** 0.55
            for p in self.model.parameters():
                if p.grad is not None:
                    p.grad.add_(torch.randn_like(p.grad) * std)
        if cfg.max_grad_norm:
            nn.utils.clip_grad_norm_(self.model.parameters(), cfg.max_grad_norm)
        self.opt.step()
        self.step += 1
        value = loss.item()
        if not math.isfinite(value):
            raise FloatingPointError(f"non-finite loss {value} at step {self.step}")
        return value, float(correct.float().mean())

    def train(self, log: bool = True) -> list[dict[str, float]]:
        """Train up to `cfg.steps` (or the time budget), promoting the curriculum; returns the evaluations."""
        cfg = self.cfg
        start = time.monotonic()
        while self.step < cfg.steps:
            loss, _ = self.train_step()
            self.losses.append(loss)
            if self.step % cfg.eval_every == 0:
                res = evaluate(self.model, self.task, self.length, cfg.eval_samples, self.rng, cfg.batch_size)
                entry = {
                    "step": self.step,
                    "loss": float(np.mean(self.losses)),
                    "seconds": time.monotonic() - start,
                    **res,
                }
                self.history.append(entry)
                self.losses = []
                if log:
                    print(json.dumps(entry), flush=True)
                at_top = self.length == cfg.max_length
                if at_top and cfg.checkpoint and res["sequence_error"] <= self.best_error:
                    # Long runs can collapse (the Neural GPU does): keep the best model at the top length too.
                    self.best_error = res["sequence_error"]
                    save_checkpoint(cfg.checkpoint + ".best", self.state_dict())
                if 1 - res["sequence_error"] >= cfg.promote_accuracy and self.length < cfg.max_length:
                    self.length += 1
                    self.pull *= cfg.relax_pull_growth
            if self.step % cfg.checkpoint_every == 0:
                self.save()
            if cfg.time_budget and time.monotonic() - start > cfg.time_budget:
                if log:
                    print(
                        json.dumps({"stopped": "time_budget", "step": self.step, "length": self.length}),
                        flush=True,
                    )
                break
        self.save()
        return self.history

    def test(self, lengths: list[int] | None = None, log: bool = True) -> list[dict[str, float]]:
        """Error rates at each test length on fresh examples (a separate RNG stream: seed + 1)."""
        rng = np.random.default_rng(self.cfg.seed + 1)
        results = []
        for length in lengths if lengths is not None else self.cfg.test_lengths:
            res = evaluate(self.model, self.task, length, self.cfg.test_samples, rng, self.cfg.test_batch)
            results.append(res)
            if log:
                print(json.dumps({"test": res}), flush=True)
        return results


def parse_args(argv: list[str] | None = None) -> tuple[SupervisedConfig, bool]:
    """Flags, one per `SupervisedConfig` field (`--controller-kwargs` takes JSON), and `--test-only`."""
    parser = argparse.ArgumentParser(prog="python -m agents.supervised", description=__doc__.split("\n\n")[0])
    defaults = SupervisedConfig()
    for f in dataclasses.fields(SupervisedConfig):
        flag = "--" + f.name.replace("_", "-")
        value = getattr(defaults, f.name)
        if f.name == "controller_kwargs":
            parser.add_argument(flag, type=json.loads, default={}, help="JSON object of controller kwargs")
        elif f.name == "test_lengths":
            parser.add_argument(flag, type=int, nargs="*", default=[], help="lengths to test after training")
        elif f.name in ("checkpoint", "start_length"):
            parser.add_argument(flag, type=str if f.name == "checkpoint" else int, default=None)
        else:
            parser.add_argument(flag, type=type(value), default=value)
    parser.add_argument("--test-only", action="store_true", help="load the checkpoint and only run the tests")
    ns = vars(parser.parse_args(argv))
    test_only = ns.pop("test_only")
    return SupervisedConfig(**ns), test_only


def main(argv: list[str] | None = None) -> None:
    cfg, test_only = parse_args(argv)
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    trainer = Trainer(cfg)
    if test_only:
        if not (cfg.checkpoint and os.path.exists(cfg.checkpoint)):
            raise SystemExit(f"--test-only needs an existing --checkpoint, got {cfg.checkpoint!r}")
    else:
        trainer.train()
    trainer.test()


if __name__ == "__main__":
    main()
