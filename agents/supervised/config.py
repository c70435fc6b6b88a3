"""`SupervisedConfig`: the hyperparameters of one supervised run, one documented field each, and their checks."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch

from agents.controllers import CONTROLLERS
from memtape_env.tasks import get_task
from memtape_env.validation import check_int, check_number, check_optional_int, check_positive_int

POSITIVE_INTS = ("steps", "batch_size", "max_length", "eval_every", "eval_samples", "checkpoint_every")
POSITIVE_INTS += ("test_samples", "test_batch")
NON_NEGATIVE = ("max_grad_norm", "grad_noise", "relax_pull", "time_budget")


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
    stop_accuracy: float = 0.0  # stop once the sequence accuracy of an evaluation at max_length reaches this (0: never)
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
        for name in POSITIVE_INTS:
            check_positive_int(name, getattr(self, name), owner="SupervisedConfig")
        for name in ("lr", "optimizer_eps"):
            check_number(name, getattr(self, name), 0, low_open=True, owner="SupervisedConfig")
        for name in NON_NEGATIVE:
            check_number(name, getattr(self, name), 0, owner="SupervisedConfig")
        check_int("threads", self.threads, 0, owner="SupervisedConfig")
        check_number("stop_accuracy", self.stop_accuracy, 0, 1, owner="SupervisedConfig")
        check_number("promote_accuracy", self.promote_accuracy, 0, 1, low_open=True, owner="SupervisedConfig")
        check_optional_int("start_length", self.start_length, 1, owner="SupervisedConfig")
        try:
            torch.device("cpu" if self.device == "auto" else self.device)
        except RuntimeError as err:
            raise ValueError(f"device must be 'auto' or a torch device, got {self.device!r}") from err
        for i, n in enumerate(self.test_lengths):
            check_positive_int(f"test_lengths[{i}]", n, owner="SupervisedConfig")
