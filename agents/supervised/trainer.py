"""`Trainer`: one supervised run (model, optimizer, length curriculum, RNGs), with atomic checkpoints and resume.

The curriculum raises the training length by one when the sequence accuracy at the current length reaches
`promote_accuracy`; batches mix the current length, shorter ones and a few up to `max_length`. A checkpoint holds
the model, the optimizer, the curriculum and both RNG states, so a resumed run continues exactly as an
uninterrupted one would.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import time
from typing import Any, NamedTuple

import numpy as np
import torch
from torch import nn

from agents.harness.atomic import atomic_write
from agents.supervised.config import SupervisedConfig
from agents.supervised.models import SupervisedModel, supervised_model
from memtape_env.tasks import get_task
from memtape_env.tasks.base import Task


class ErrorRates(NamedTuple):
    """Sequence and symbol error rates of a model on `n` fresh examples of one length."""

    length: int
    n: int
    sequence_error: float
    symbol_error: float


def batch_loss(
    model: SupervisedModel, inputs: torch.Tensor, targets: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Cross-entropy over the answer and per-sequence correctness (bool, batch) of the greedy answer."""
    aligned = model.align(inputs, targets)
    return aligned.loss(), aligned.correct()


@torch.no_grad()
def error_rates(
    model: SupervisedModel, task: Task, length: int, n: int, rng: np.random.Generator, batch: int = 32
) -> ErrorRates:
    """Sequence and symbol error rates on `n` fresh examples of `length` (the model in eval mode)."""
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    wrong_seq = wrong_sym = total_sym = 0
    for start in range(0, n, batch):
        x, y = task.generate(rng, min(batch, n - start), length)
        aligned = model.align(torch.from_numpy(x).to(device), torch.from_numpy(y).to(device))
        pred = aligned.predictions()
        wrong_seq += int((~aligned.correct(pred)).sum())
        wrong_sym += int(((pred != aligned.reference) & aligned.symbols).sum())
        total_sym += int(aligned.symbols.sum())
    model.train(was_training)
    return ErrorRates(length, n, wrong_seq / n, wrong_sym / max(1, total_sym))


def sample_length(rng: np.random.Generator, current: int, low: int, high: int) -> int:
    """Half the batches at the current length, 40% uniform below it, 10% uniform up to the top length."""
    u = rng.random()
    if u < 0.5:
        return current
    if u < 0.9:
        return int(rng.integers(low, current + 1))
    return int(rng.integers(low, high + 1))


def save_checkpoint(path: str, payload: dict[str, Any]) -> None:
    """Write `payload` with torch.save atomically (temp file, fsync, rename over `path`)."""
    atomic_write(path, lambda f: torch.save(payload, f))


class Trainer:
    """Owns the model, optimizer, curriculum and RNGs of one run; `train` resumes from the checkpoint."""

    def __init__(self, cfg: SupervisedConfig) -> None:
        cfg.validate()
        self.cfg = cfg
        self.task = get_task(cfg.task)
        torch.manual_seed(cfg.seed)
        auto = "cuda" if torch.cuda.is_available() else "cpu"
        self.device = torch.device(auto if cfg.device == "auto" else cfg.device)
        self.model = supervised_model(self.task, cfg.controller, cfg.controller_kwargs).to(self.device)
        params = self.model.parameters()
        if cfg.optimizer == "adam":
            self.opt: torch.optim.Optimizer = torch.optim.Adam(params, lr=cfg.lr, eps=cfg.optimizer_eps)
        else:
            self.opt = torch.optim.RMSprop(params, lr=cfg.lr, eps=cfg.optimizer_eps)
        self.rng = np.random.default_rng(cfg.seed)
        self.step = 0
        self.low = self.task.curriculum.min_length
        self.length = max(self.low, cfg.start_length or self.task.curriculum.start_length)
        if self.length > cfg.max_length:
            raise ValueError(f"start length {self.length} exceeds max_length {cfg.max_length}")
        self.pull = cfg.relax_pull
        self.history: list[dict[str, float]] = []
        self.stopped_by = ""  # why the last `train` ended: "steps", "stop_accuracy" or "time_budget"
        self.losses: list[float] = []  # training losses since the last evaluation
        self.best_error = math.inf  # lowest sequence error of an evaluation at max_length so far
        self.top_step: int | None = 0 if self.length == cfg.max_length else None  # first step at max_length
        if cfg.checkpoint and os.path.exists(cfg.checkpoint):
            self.load(cfg.checkpoint)

    def state_dict(self) -> dict[str, Any]:
        """Everything a resumed run needs."""
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
            "top_step": self.top_step,
            "numpy_rng": self.rng.bit_generator.state,
            "torch_rng": torch.get_rng_state(),
        }

    def load(self, path: str) -> None:
        """Resume from a checkpoint made for the same task, controller and controller kwargs."""
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
        self.top_step = ckpt.get("top_step")
        self.rng.bit_generator.state = ckpt["numpy_rng"]
        torch.set_rng_state(ckpt["torch_rng"])

    def save(self) -> None:
        """Checkpoint to `cfg.checkpoint`, when one is set."""
        if self.cfg.checkpoint:
            save_checkpoint(self.cfg.checkpoint, self.state_dict())

    def train_step(self) -> tuple[float, float]:
        """One optimizer step on a batch at a sampled length; returns (loss, sequence accuracy)."""
        cfg = self.cfg
        length = sample_length(self.rng, self.length, self.low, cfg.max_length)
        x, y = self.task.generate(self.rng, cfg.batch_size, length)
        loss, correct = batch_loss(self.model, torch.from_numpy(x).to(self.device), torch.from_numpy(y).to(self.device))
        total = loss
        penalty = self.model.penalty() if self.pull else None
        if penalty is not None:
            total = loss + self.pull * penalty
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
        self.stopped_by = "steps"
        while self.step < cfg.steps:
            loss, _ = self.train_step()
            self.losses.append(loss)
            if self.step % cfg.eval_every == 0:
                res = error_rates(self.model, self.task, self.length, cfg.eval_samples, self.rng, cfg.batch_size)
                entry = {
                    "step": self.step,
                    "loss": float(np.mean(self.losses)),
                    "seconds": time.monotonic() - start,
                    **res._asdict(),
                }
                self.history.append(entry)
                self.losses = []
                if log:
                    print(json.dumps(entry), flush=True)
                at_top = self.length == cfg.max_length
                if at_top and cfg.checkpoint and res.sequence_error <= self.best_error:
                    # Long runs can collapse (the Neural GPU does): keep the best model at the top length too.
                    self.best_error = res.sequence_error
                    save_checkpoint(cfg.checkpoint + ".best", self.state_dict())
                if at_top and cfg.stop_accuracy and 1 - res.sequence_error >= cfg.stop_accuracy:
                    if log:
                        print(json.dumps({"stopped": "stop_accuracy", "step": self.step}), flush=True)
                    self.stopped_by = "stop_accuracy"
                    break
                if 1 - res.sequence_error >= cfg.promote_accuracy and self.length < cfg.max_length:
                    self.length += 1
                    self.pull *= cfg.relax_pull_growth
                    if self.length == cfg.max_length:
                        self.top_step = self.step
            if self.step % cfg.checkpoint_every == 0:
                self.save()
            if cfg.time_budget and time.monotonic() - start > cfg.time_budget:
                if log:
                    print(json.dumps({"stopped": "time_budget", "step": self.step, "length": self.length}), flush=True)
                self.stopped_by = "time_budget"
                break
        self.save()
        return self.history

    def test(self, lengths: list[int] | None = None, log: bool = True) -> list[ErrorRates]:
        """Error rates at each test length on fresh examples (a separate RNG stream: seed + 1)."""
        rng = np.random.default_rng(self.cfg.seed + 1)
        results = []
        for length in lengths if lengths is not None else self.cfg.test_lengths:
            res = error_rates(self.model, self.task, length, self.cfg.test_samples, rng, self.cfg.test_batch)
            results.append(res)
            if log:
                print(json.dumps({"test": res._asdict()}), flush=True)
        return results
