"""The RL-NTM tape-memory controllers (Zaremba & Sutskever 2015): plain and "direct access".

The environment owns the memory head: its moves are actions of the policy, trained by Reinforce, and the env
reports the head position in the `memory_head` observation component (env kwarg `observe_heads=True`), which
the policy passes here as `context["memory_head"]`. The real-valued vectors stored in the cells live in this
controller's state and are written by backprop: each step reads the cell under the head, runs an LSTM cell on
(input features, read vector), and writes a gated tanh vector back into the same cell (the head then moves by
the env action). Reads and writes are O(1) per step forward and backward, whatever the memory size
(`agents.controllers.tape_ops`), in contrast with the content addressing of the DNC. For that, `step` updates
the memory tensor of the state it is given in place: pass each step the state the previous one returned (as
every policy and `sequence` do), and clone the memory to keep an old state.

The core that reads (input features, read vector) is an LSTM by default. `core="feedforward"` makes it one tanh
layer with no state of its own, as the NTM paper's feed-forward controller: everything the controller carries
from step to step is then on the tape (and in the previous action, when the env reports it), so it cannot count
steps in a hidden state and must use the heads instead.

The direct-access variant adds the RL-NTM's gated shortcuts: input -> memory (the input embedding can be
written straight into the cell), input -> output and memory -> output.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from agents.controllers.base import Context, Controller, State
from agents.controllers.tape_ops import read_cell, write_cell
from memtape_env.validation import check_positive_int

CORES = ("lstm", "feedforward")


class RLNTMTapeController(Controller):
    """LSTM controller with an O(1)-access tape of `memory_size` real vectors of size `memory_dim`.

    State: (h, c, memory) with h, c of shape (batch, hidden_size) and memory (batch, memory_size, memory_dim);
    with `core="feedforward"`, h is the last output and c stays zero.
    """

    def __init__(
        self,
        input_dim: int,
        hidden_size: int = 128,
        memory_dim: int = 32,
        memory_size: int = 64,
        core: str = "lstm",
    ) -> None:
        super().__init__()
        if core not in CORES:
            raise ValueError(f"core must be one of {CORES}, got {core!r}")
        for name, value in (
            ("input_dim", input_dim),
            ("hidden_size", hidden_size),
            ("memory_dim", memory_dim),
            ("memory_size", memory_size),
        ):
            check_positive_int(name, value, owner=type(self).__name__)
        self.input_dim = input_dim
        self.output_dim = hidden_size
        self.hidden_size = hidden_size
        self.memory_dim = memory_dim
        self.memory_size = memory_size
        self.core = core
        cell = nn.LSTMCell if core == "lstm" else nn.Linear
        self.cell = cell(input_dim + memory_dim, hidden_size)
        self.write_vector = nn.Linear(hidden_size, memory_dim)
        self.write_gate = nn.Linear(hidden_size, memory_dim)

    def initial_state(self, batch_size: int, device: torch.device | str = "cpu") -> State:
        dtype = self.write_vector.weight.dtype
        h = torch.zeros(batch_size, self.hidden_size, device=device, dtype=dtype)
        memory = torch.zeros(batch_size, self.memory_size, self.memory_dim, device=device, dtype=dtype)
        return h, h.clone(), memory

    def _head(self, context: Context | None, batch_size: int) -> torch.Tensor:
        """The memory head position per batch row, validated against the memory size."""
        if context is None or "memory_head" not in context:
            raise ValueError(
                f"{type(self).__name__} reads the cell under the env's memory head and needs "
                "context['memory_head']: make the env with observe_heads=True on a task with a memory tape"
            )
        head = context["memory_head"].reshape(-1).long()
        if head.shape[0] != batch_size:
            raise ValueError(f"context['memory_head'] has {head.shape[0]} rows, expected batch size {batch_size}")
        if bool((head < 0).any()) or bool((head >= self.memory_size).any()):
            raise ValueError(
                f"memory head position {int(head.max())} outside the controller memory "
                f"[0, {self.memory_size}); raise memory_size in controller_kwargs"
            )
        return head

    def _candidate(self, x: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        """The vector proposed for the cell under the head."""
        return torch.tanh(self.write_vector(h))

    def _output(self, x: torch.Tensor, h: torch.Tensor, read: torch.Tensor) -> torch.Tensor:
        return h

    def step(self, x: torch.Tensor, state: State, context: Context | None = None) -> tuple[torch.Tensor, State]:
        h, c, memory = state
        head = self._head(context, x.shape[0])
        memory, read = read_cell(memory, head)
        if self.core == "lstm":
            h, c = self.cell(torch.cat([x, read], dim=-1), (h, c))
        else:
            h = torch.tanh(self.cell(torch.cat([x, read], dim=-1)))
        gate = torch.sigmoid(self.write_gate(h))
        written = gate * self._candidate(x, h) + (1.0 - gate) * read
        memory = write_cell(memory, head, written)
        return self._output(x, h, read), (h, c, memory)


class RLNTMDirectAccessController(RLNTMTapeController):
    """RL-NTM tape controller with gated input->memory, input->output and memory->output paths.

    Takes the arguments of `RLNTMTapeController`.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        input_dim, hidden_size, memory_dim = self.input_dim, self.hidden_size, self.memory_dim
        self.input_to_memory = nn.Linear(input_dim, memory_dim)
        self.input_to_output = nn.Linear(input_dim, hidden_size)
        self.memory_to_output = nn.Linear(memory_dim, hidden_size)
        # Three gates computed from the controller state: input->memory, input->output, memory->output.
        self.gates = nn.Linear(hidden_size, memory_dim + 2 * hidden_size)

    def _gates(self, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        g = torch.sigmoid(self.gates(h))
        return g[:, : self.memory_dim], g[:, self.memory_dim : -self.hidden_size], g[:, -self.hidden_size :]

    def _candidate(self, x: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        g_in, _, _ = self._gates(h)
        return g_in * torch.tanh(self.input_to_memory(x)) + (1.0 - g_in) * torch.tanh(self.write_vector(h))

    def _output(self, x: torch.Tensor, h: torch.Tensor, read: torch.Tensor) -> torch.Tensor:
        _, g_io, g_mo = self._gates(h)
        return h + g_io * torch.tanh(self.input_to_output(x)) + g_mo * torch.tanh(self.memory_to_output(read))
