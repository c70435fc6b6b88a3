"""Neural GPU (Kaiser & Sutskever 2015): a convolutional GRU over a w x h x m "mental image".

`NeuralGPU` is the network of the paper: the input symbols are embedded in row 0 of an image of width w (the
input length), height h and m channels; each of w steps applies `layers` convolutional GRUs
    s' = u * s + (1 - u) * tanh(W * (r * s) + B),   u, r = clip(1.2 sigmoid(.) - 0.1, 0, 1)
and the output is read from row 0. Its training tricks are here too: parameter-sharing relaxation (r parameter
sets, step t uses set t mod r, a pull term draws them together and `merge_relaxation` makes them one), dropout
on the recurrent state, and (in `agents.supervised`) gradient noise.

`NeuralGPUController` puts it behind the shared `Controller` interface for the RL setting: it reads the
whole input tape (`context["tape"]`, the env's `observe_tape` mode), computes the image once per episode,
keeps row 0 as its recurrent state, and at each step outputs the row-0 column at the current position (the
output or input head from `context` when the env observes heads and the policy routes them, else the step
count) next to a small GRU over the step features, which tells the policy where in the episode it is.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from agents.controllers.base import Context, Controller, State


def _check_int(name: str, value: int, low: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < low:
        raise ValueError(f"NeuralGPU: {name} must be an int >= {low}, got {value!r}")


def hard_sigmoid_gate(x: torch.Tensor) -> torch.Tensor:
    """The paper's gate cutoff clip(1.2 sigmoid(x) - 0.1, 0, 1): saturates exactly, so gates can be 0 or 1."""
    return torch.clamp(1.2 * torch.sigmoid(x) - 0.1, 0.0, 1.0)


class NeuralGPU(nn.Module):
    """The Neural GPU network: tape (batch, width) of symbols -> row-0 features (batch, width, channels).

    Args:
        vocab: number of input symbols (including the blank).
        channels: m, channels of the mental image.
        height: h, rows of the mental image.
        layers: convolutional GRUs applied per step.
        kernel: (kernel height, kernel width), odd sizes.
        relax: parameter-sharing relaxation sets (1 = plain weight sharing across steps).
        dropout: dropout rate on the state after each step (training mode only).
    """

    def __init__(
        self,
        vocab: int,
        channels: int = 24,
        height: int = 4,
        layers: int = 2,
        kernel: tuple[int, int] = (3, 3),
        relax: int = 1,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        _check_int("vocab", vocab, 1)
        _check_int("channels", channels, 1)
        _check_int("height", height, 1)
        _check_int("layers", layers, 1)
        _check_int("relax", relax, 1)
        if len(kernel) != 2 or any((not isinstance(k, int)) or k < 1 or k % 2 == 0 for k in kernel):
            raise ValueError(f"NeuralGPU: kernel must be two odd positive ints, got {kernel!r}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"NeuralGPU: dropout must be in [0, 1), got {dropout!r}")
        self.vocab, self.channels, self.height, self.layers = vocab, channels, height, layers
        self.kernel, self.relax, self.dropout = tuple(kernel), relax, dropout
        self.embed = nn.Embedding(vocab, channels)
        kh, kw = kernel
        fan_in = channels * kh * kw
        bound = fan_in**-0.5

        def param(*shape: int) -> nn.Parameter:
            w = torch.empty(layers, 1, *shape).uniform_(-bound, bound)
            return nn.Parameter(w.expand(layers, relax, *shape).clone())

        # Gates and candidate weights per layer, one copy per relaxation set (identical at the start).
        self.gate_weight = param(2 * channels, channels, kh, kw)
        self.gate_bias = nn.Parameter(torch.zeros(layers, relax, 2 * channels))
        self.cand_weight = param(channels, channels, kh, kw)
        self.cand_bias = nn.Parameter(torch.zeros(layers, relax, channels))

    def cgru(self, s: torch.Tensor, layer: int, which: int) -> torch.Tensor:
        """One convolutional GRU with parameter set `which` of `layer`; s is (batch, m, h, w)."""
        pad = (self.kernel[0] // 2, self.kernel[1] // 2)
        gates = F.conv2d(s, self.gate_weight[layer, which], self.gate_bias[layer, which], padding=pad)
        u, r = hard_sigmoid_gate(gates).chunk(2, dim=1)
        cand = torch.tanh(F.conv2d(r * s, self.cand_weight[layer, which], self.cand_bias[layer, which], padding=pad))
        return u * s + (1 - u) * cand

    def forward(self, tape: torch.Tensor, steps: int | None = None) -> torch.Tensor:
        """Run `steps` (default: the width) steps over the image of `tape` (batch, width); returns row 0."""
        if tape.dim() != 2:
            raise ValueError(f"NeuralGPU: tape must be (batch, width), got {tuple(tape.shape)}")
        if tape.numel() and (int(tape.min()) < 0 or int(tape.max()) >= self.vocab):
            raise ValueError(f"NeuralGPU: tape symbols must be in [0, {self.vocab}), got {tape.min()}..{tape.max()}")
        batch, width = tape.shape
        row0 = self.embed(tape).transpose(1, 2).unsqueeze(2)  # (B, m, 1, w)
        rest = row0.new_zeros(batch, self.channels, self.height - 1, width)
        s = torch.cat([row0, rest], dim=2)
        for t in range(width if steps is None else steps):
            for layer in range(self.layers):
                s = self.cgru(s, layer, t % self.relax)
            if self.dropout and self.training:
                s = F.dropout(s, self.dropout)
        return s[:, :, 0, :].transpose(1, 2)

    def relaxation_penalty(self) -> torch.Tensor:
        """Sum of squared distances of each relaxation set from the mean set (0 when relax = 1)."""
        total = self.gate_weight.new_zeros(())
        for p in (self.gate_weight, self.gate_bias, self.cand_weight, self.cand_bias):
            total = total + (p - p.mean(dim=1, keepdim=True)).pow(2).sum()
        return total

    @torch.no_grad()
    def merge_relaxation(self) -> None:
        """Replace every relaxation set by their mean, giving one shared set (the paper's final network)."""
        for p in (self.gate_weight, self.gate_bias, self.cand_weight, self.cand_bias):
            p.copy_(p.mean(dim=1, keepdim=True).expand_as(p))


class NeuralGPUController(Controller):
    """The Neural GPU as a recurrent controller over an episode whose whole input tape is observed.

    State: (row-0 image (B, width, m), computed flag (B,), step count (B,), GRU hidden (B, hidden_size)).
    Output: [row-0 column at the position (m), GRU hidden (hidden_size)].

    Args:
        input_dim: per-step feature size (fed to the GRU).
        tape_width: width of `context["tape"]` (the env's `observe_tape`).
        tape_vocab: symbols on the tape including the blank (the task's input_base + 1).
        hidden_size: GRU units over the step features (0: none; then the output is the column only).
        position: context keys tried in order for the read position; when none is there, the step count.
        **gpu_kwargs: `NeuralGPU` arguments (channels, height, layers, kernel, relax, dropout).
    """

    def __init__(
        self,
        input_dim: int,
        tape_width: int,
        tape_vocab: int,
        hidden_size: int = 32,
        position: tuple[str, ...] = ("output_head", "input_head"),
        **gpu_kwargs: object,
    ) -> None:
        super().__init__()
        _check_int("input_dim", input_dim, 1)
        _check_int("tape_width", tape_width, 1)
        _check_int("tape_vocab", tape_vocab, 1)
        _check_int("hidden_size", hidden_size, 0)
        self.gpu = NeuralGPU(tape_vocab, **gpu_kwargs)  # type: ignore[arg-type]
        self.input_dim = input_dim
        self.tape_width = tape_width
        self.hidden_size = hidden_size
        if isinstance(position, str) or not all(isinstance(k, str) for k in position):
            raise ValueError(f"NeuralGPUController: position must be a sequence of context keys, got {position!r}")
        self.position = tuple(position)
        self.output_dim = self.gpu.channels + hidden_size
        self.gru = nn.GRUCell(input_dim, hidden_size) if hidden_size else None

    def initial_state(self, batch_size: int, device: torch.device | str = "cpu") -> State:
        dtype = self.gpu.embed.weight.dtype
        return (
            torch.zeros(batch_size, self.tape_width, self.gpu.channels, device=device, dtype=dtype),
            torch.zeros(batch_size, device=device, dtype=dtype),
            torch.zeros(batch_size, device=device, dtype=torch.long),
            torch.zeros(batch_size, self.hidden_size, device=device, dtype=dtype),
        )

    def step(self, x: torch.Tensor, state: State, context: Context | None = None) -> tuple[torch.Tensor, State]:
        if context is None or "tape" not in context:
            raise ValueError(
                "NeuralGPUController needs context['tape']: make the env with observe_tape=<width> "
                "(the policies route the tape[i] components there)"
            )
        tape = context["tape"]
        if tape.dim() != 2 or tape.shape[1] != self.tape_width:
            raise ValueError(
                f"NeuralGPUController: context['tape'] must be (batch, tape_width={self.tape_width}), "
                f"got {tuple(tape.shape)}"
            )
        image, computed, count, hidden = state
        rows = torch.nonzero(computed == 0).flatten()
        if rows.numel():
            fresh = self.gpu(tape[rows].long()).to(image.dtype)
            image = image.index_copy(0, rows, fresh)
            computed = computed.index_fill(0, rows, 1.0)
        key = next((k for k in self.position if k in context), None)
        pos = count if key is None else context[key].long()
        pos = pos.clamp(0, self.tape_width - 1)
        column = image.gather(1, pos.view(-1, 1, 1).expand(-1, 1, image.shape[2])).squeeze(1)
        if self.gru is not None:
            hidden = self.gru(x, hidden)
        out = torch.cat([column, hidden], dim=1)
        return out, (image, computed, count + 1, hidden)
