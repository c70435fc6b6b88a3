"""Memoryless and recurrent baseline controllers: LSTM, GRU and MLP.

These are the controllers the memory architectures are read against. The LSTM and GRU keep their state as
batch-first tensors (see `base.State`) and run a whole sequence in one fused cuDNN/ATen call when no episode
restarts inside it (the case for Reinforce, which replays whole episodes from their start); otherwise they
fall back to the step loop of `Controller.sequence`. The MLP has an empty state, so SB3's PPO/A2C can use it
too.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from agents.controllers.base import Context, Controller, State, reset_state
from memtape_env.validation import check_positive_int

_ACTIVATIONS: dict[str, type[nn.Module]] = {"tanh": nn.Tanh, "relu": nn.ReLU, "gelu": nn.GELU}


class _TorchRNNController(Controller):
    """Shared code of the LSTM and GRU controllers: an `nn.LSTM`/`nn.GRU` with batch-first state tensors."""

    rnn: nn.LSTM | nn.GRU
    n_state: int

    def __init__(self, input_dim: int, hidden_size: int = 128, num_layers: int = 1) -> None:
        super().__init__()
        owner = type(self).__name__
        input_dim = check_positive_int("input_dim", input_dim, owner=owner)
        hidden_size = check_positive_int("hidden_size", hidden_size, owner=owner)
        num_layers = check_positive_int("num_layers", num_layers, owner=owner)
        self.input_dim = input_dim
        self.output_dim = hidden_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers

    def initial_state(self, batch_size: int, device: torch.device | str = "cpu") -> State:
        dtype = next(self.parameters()).dtype
        zeros = torch.zeros(batch_size, self.num_layers, self.hidden_size, device=device, dtype=dtype)
        return tuple(zeros.clone() for _ in range(self.n_state))

    def _run(self, x: torch.Tensor, state: State) -> tuple[torch.Tensor, State]:
        """Run the torch RNN over `x` (time, batch, input_dim) from `state` (no resets inside)."""
        hidden = tuple(s.transpose(0, 1).contiguous() for s in state)
        out, new = self.rnn(x, hidden if self.n_state == 2 else hidden[0])
        new_hidden = new if isinstance(new, tuple) else (new,)
        return out, tuple(h.transpose(0, 1) for h in new_hidden)

    def step(self, x: torch.Tensor, state: State, context: Context | None = None) -> tuple[torch.Tensor, State]:
        out, new_state = self._run(x.unsqueeze(0), state)
        return out[0], new_state

    def sequence(
        self,
        x: torch.Tensor,
        episode_starts: torch.Tensor,
        state: State,
        context: Context | None = None,
    ) -> tuple[torch.Tensor, State]:
        if x.shape[0] > 1 and bool(episode_starts[1:].any()):
            return super().sequence(x, episode_starts, state, context)
        if bool(episode_starts[0].any()):
            state = reset_state(state, self.initial_state(x.shape[1], x.device), episode_starts[0])
        return self._run(x, state)


class LSTMController(_TorchRNNController):
    """LSTM controller; state (h, c), each (batch, num_layers, hidden_size)."""

    n_state = 2

    def __init__(self, input_dim: int, hidden_size: int = 128, num_layers: int = 1) -> None:
        super().__init__(input_dim, hidden_size, num_layers)
        self.rnn = nn.LSTM(input_dim, hidden_size, num_layers)


class GRUController(_TorchRNNController):
    """GRU controller; state (h,), of shape (batch, num_layers, hidden_size)."""

    n_state = 1

    def __init__(self, input_dim: int, hidden_size: int = 128, num_layers: int = 1) -> None:
        super().__init__(input_dim, hidden_size, num_layers)
        self.rnn = nn.GRU(input_dim, hidden_size, num_layers)


class MLPController(Controller):
    """Feed-forward controller with an empty state: the memoryless baseline (also usable by PPO/A2C)."""

    def __init__(self, input_dim: int, hidden_sizes: Sequence[int] = (64, 64), activation: str = "tanh") -> None:
        super().__init__()
        input_dim = check_positive_int("input_dim", input_dim, owner="MLPController")
        if activation not in _ACTIVATIONS:
            raise ValueError(f"unknown activation {activation!r}; choose one of {sorted(_ACTIVATIONS)}")
        layers: list[nn.Module] = []
        last = input_dim
        for i, size in enumerate(hidden_sizes):
            size = check_positive_int(f"hidden_sizes[{i}]", size, owner="MLPController")
            layers += [nn.Linear(last, size), _ACTIVATIONS[activation]()]
            last = size
        self.net = nn.Sequential(*layers)
        self.input_dim = input_dim
        self.output_dim = last

    def initial_state(self, batch_size: int, device: torch.device | str = "cpu") -> State:
        return ()

    def step(self, x: torch.Tensor, state: State, context: Context | None = None) -> tuple[torch.Tensor, State]:
        return self.net(x), state

    def sequence(
        self,
        x: torch.Tensor,
        episode_starts: torch.Tensor,
        state: State,
        context: Context | None = None,
    ) -> tuple[torch.Tensor, State]:
        return self.net(x), state
