"""The two model shapes of supervised training, each with its own alignment of logits to targets.

- `NeuralGPUModel`: the Neural GPU reads the whole tape and predicts the target symbol at every column of row 0;
  columns past the target predict a padding class (Kaiser & Sutskever 2015).
- `SequenceModel`: any recurrent controller (`lstm`, `gru`, `dnc`, `rlntm`, ...) reads the input one column per
  step, then gets `target_len` answer steps and predicts one target symbol per answer step.

Both return an `Aligned` record (logits, the reference they are scored against, the positions that count as
target symbols), so the loss, the success test and the error rates are written once, for every model.
"""

from __future__ import annotations

import abc
from typing import Any, NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from agents.controllers import CONTROLLERS
from agents.controllers.neural_gpu import NeuralGPU
from memtape_env.tasks.base import Task


class Aligned(NamedTuple):
    """A model's logits (batch, T, classes) with the reference (batch, T; -1 = not scored) and the symbol mask."""

    logits: torch.Tensor
    reference: torch.Tensor
    symbols: torch.Tensor  # bool (batch, T): positions holding a target symbol (the symbol error counts these)

    def loss(self) -> torch.Tensor:
        """Mean cross-entropy over the scored positions."""
        return F.cross_entropy(
            self.logits.reshape(-1, self.logits.shape[-1]), self.reference.reshape(-1), ignore_index=-1
        )

    def predictions(self) -> torch.Tensor:
        """Greedy symbols (batch, T)."""
        return self.logits.argmax(-1)

    def correct(self, predictions: torch.Tensor | None = None) -> torch.Tensor:
        """Per-sequence success (bool, batch): every scored position right."""
        pred = self.predictions() if predictions is None else predictions
        return ((pred == self.reference) | (self.reference < 0)).all(dim=1)


class SupervisedModel(nn.Module, abc.ABC):
    """A model trained on (input, target) pairs: `align` scores a batch, `penalty` is an optional regulariser."""

    @abc.abstractmethod
    def align(self, inputs: torch.Tensor, targets: torch.Tensor) -> Aligned:
        """Logits for `inputs` (batch, rows, width) aligned with `targets` (batch, target_len; -1 = none)."""

    def penalty(self) -> torch.Tensor | None:
        """A regularisation term the trainer may add (weighted by its pull), or None."""
        return None


class NeuralGPUModel(SupervisedModel):
    """Neural GPU plus a linear read-out of row 0: logits (batch, width, output_base + 1); last class: pad."""

    def __init__(self, task: Task, **gpu_kwargs: Any) -> None:
        super().__init__()
        if task.rows != 1:
            raise ValueError(f"the Neural GPU model takes 1-row tapes; task {task.name} has {task.rows} rows")
        self.gpu = NeuralGPU(task.input_base + 1, **gpu_kwargs)
        self.readout = nn.Linear(self.gpu.channels, task.output_base + 1)
        self.pad_class = task.output_base
        self.blank = task.blank

    def forward(self, tape: torch.Tensor, target_len: int) -> torch.Tensor:
        """Logits for every column of the tape (batch, width); `target_len` > width is an error."""
        if target_len > tape.shape[1]:
            raise ValueError(f"target length {target_len} exceeds the tape width {tape.shape[1]}")
        return self.readout(self.gpu(tape))

    def full_targets(self, targets: torch.Tensor, width: int) -> torch.Tensor:
        """Targets padded to the width with the padding class (which -1 entries become too)."""
        out = torch.full((targets.shape[0], width), self.pad_class, dtype=torch.long, device=targets.device)
        out[:, : targets.shape[1]] = torch.where(targets < 0, self.pad_class, targets)
        return out

    def align(self, inputs: torch.Tensor, targets: torch.Tensor) -> Aligned:
        tape = inputs[:, 0]
        if targets.shape[1] > tape.shape[1]:  # an answer longer than the input: pad the tape with blanks, as the paper
            tape = F.pad(tape, (0, targets.shape[1] - tape.shape[1]), value=self.blank)
        width = tape.shape[1]
        symbols = torch.zeros(targets.shape[0], width, dtype=torch.bool, device=targets.device)
        symbols[:, : targets.shape[1]] = targets >= 0
        return Aligned(self(tape, targets.shape[1]), self.full_targets(targets, width), symbols)

    def penalty(self) -> torch.Tensor:
        """The relaxation pull of the Neural GPU's gates towards hard values."""
        return self.gpu.relaxation_penalty()


class SequenceModel(SupervisedModel):
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

    def align(self, inputs: torch.Tensor, targets: torch.Tensor) -> Aligned:
        return Aligned(self(inputs, targets.shape[1]), targets, targets >= 0)


def supervised_model(task: Task, controller: str, controller_kwargs: dict[str, Any]) -> SupervisedModel:
    """The Neural GPU model for `neural_gpu`, else a sequence model around the named controller."""
    if controller == "neural_gpu":
        return NeuralGPUModel(task, **controller_kwargs)
    return SequenceModel(task, controller, **controller_kwargs)
