"""Neural GPU (Kaiser & Sutskever 2015): a convolutional GRU over a w x h x m "mental image".

`NeuralGPU` is the network of the paper: the input symbols are embedded in row 0 of an image of width w (the
input length), height h and m channels; each of w steps applies `layers` convolutional GRUs
    s' = u * s + (1 - u) * tanh(W * (r * s) + B),   u, r = clip(1.2 sigmoid(.) - 0.1, 0, 1)
and the output is read from row 0. Its training tricks are here too: parameter-sharing relaxation (r parameter
sets, step t uses set t mod r, a pull term draws them together and `merge_relaxation` makes them one), dropout
on the recurrent state, and (in `agents.supervised`) gradient noise.

`NeuralGPUController` puts it behind the shared `Controller` interface for the RL setting: it reads the
input tape (`context["tape"]`, the env's `observe_tape` mode), computes each episode's image once, as wide as
that episode's input (plus a margin) and for as many steps, keeps row 0 as its recurrent state, and at each
step outputs the row-0 column at the current position (the output or input head from `context` when the env
observes heads and the policy routes them, else the step count) next to a small GRU over the step features,
which tells the policy where in the episode it is.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from agents.controllers.base import Context, Controller, State
from memtape_env.validation import check_int


def hard_sigmoid_gate(x: torch.Tensor) -> torch.Tensor:
    """The paper's gate cutoff clip(1.2 sigmoid(x) - 0.1, 0, 1): saturates exactly, so gates can be 0 or 1."""
    return torch.clamp(1.2 * torch.sigmoid(x) - 0.1, 0.0, 1.0)


def conv2d_batch_invariant(
    s: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, padding: tuple[int, int]
) -> torch.Tensor:
    """`F.conv2d(s, weight, bias, padding=padding)` whose result for each image does not depend, bit for bit, on
    the other images of the batch.

    oneDNN's convolution, and a single matrix product over the whole batch, pick their blocking by batch size,
    so an image convolved alone and in a batch differ in the last bits. Here each image is its own product of
    the same shape (im2col, then `torch.baddbmm`); a single image of a single output position is computed twice
    in a batch of two, since a lone vector product takes another code path. Checked bit for bit on CPU (the
    tests); elsewhere it is at least equal to `F.conv2d` up to float rounding.

    :param s: images (batch, in_channels, height, width)
    :param weight: kernels (out_channels, in_channels, kernel height, kernel width)
    :param bias: (out_channels,)
    :param padding: zero padding (rows, columns) on each side
    :return: (batch, out_channels, out height, out width)
    """
    batch = s.shape[0]
    out_channels, _, kh, kw = weight.shape
    out_h = s.shape[2] + 2 * padding[0] - kh + 1
    out_w = s.shape[3] + 2 * padding[1] - kw + 1
    if batch == 1 and out_h * out_w == 1:
        return conv2d_batch_invariant(s.expand(2, -1, -1, -1), weight, bias, padding)[:1]
    cols = F.unfold(s, (kh, kw), padding=padding).transpose(1, 2)  # (batch, positions, in_channels * kh * kw)
    kernels = weight.reshape(out_channels, -1).t().expand(batch, -1, -1)
    out = torch.baddbmm(bias.expand(batch, cols.shape[1], out_channels), cols, kernels)
    return out.view(batch, out_h, out_w, out_channels).permute(0, 3, 1, 2)


class NeuralGPU(nn.Module):
    """The Neural GPU network: tape (batch, width) of symbols -> row-0 features (batch, width, channels).

    :param vocab: number of input symbols (including the blank)
    :param channels: m, channels of the mental image
    :param height: h, rows of the mental image
    :param layers: convolutional GRUs applied per step
    :param kernel: (kernel height, kernel width), odd sizes
    :param relax: parameter-sharing relaxation sets (1 = plain weight sharing across steps)
    :param dropout: dropout rate on the state after each step (training mode only)
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
        check_int("vocab", vocab, 1, owner="NeuralGPU")
        check_int("channels", channels, 1, owner="NeuralGPU")
        check_int("height", height, 1, owner="NeuralGPU")
        check_int("layers", layers, 1, owner="NeuralGPU")
        check_int("relax", relax, 1, owner="NeuralGPU")
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

    def cgru(self, s: torch.Tensor, layer: int, which: int, batch_invariant: bool = False) -> torch.Tensor:
        """One convolutional GRU with parameter set `which` of `layer`; s is (batch, m, h, w).

        `batch_invariant` computes the convolutions with `conv2d_batch_invariant` (see there).
        """
        return self._cgru(s, self._parameter_set(layer, which), batch_invariant)

    def _parameter_set(self, layer: int, which: int) -> tuple[torch.Tensor, ...]:
        return (
            self.gate_weight[layer, which],
            self.gate_bias[layer, which],
            self.cand_weight[layer, which],
            self.cand_bias[layer, which],
        )

    def _cgru(self, s: torch.Tensor, params: tuple[torch.Tensor, ...], batch_invariant: bool) -> torch.Tensor:
        gate_weight, gate_bias, cand_weight, cand_bias = params
        pad = (self.kernel[0] // 2, self.kernel[1] // 2)
        conv = conv2d_batch_invariant if batch_invariant else F.conv2d
        gates = conv(s, gate_weight, gate_bias, padding=pad)
        u, r = hard_sigmoid_gate(gates).chunk(2, dim=1)
        cand = torch.tanh(conv(r * s, cand_weight, cand_bias, padding=pad))
        return u * s + (1 - u) * cand

    def forward(self, tape: torch.Tensor, steps: int | None = None, batch_invariant: bool = False) -> torch.Tensor:
        """Run `steps` (default: the width) steps over the image of `tape` (batch, width); returns row 0.

        :param tape: input symbols (batch, width)
        :param steps: CGRU steps (each applies every layer once); None: as many as the tape is wide
        :param batch_invariant: make each row's result independent of the rest of the batch, bit for bit
            (`conv2d_batch_invariant`); the default uses the faster `F.conv2d`, equal up to float rounding
        :return: row 0 of the final image, (batch, width, channels)
        """
        if tape.dim() != 2:
            raise ValueError(f"NeuralGPU: tape must be (batch, width), got {tuple(tape.shape)}")
        if tape.numel() and (int(tape.min()) < 0 or int(tape.max()) >= self.vocab):
            raise ValueError(f"NeuralGPU: tape symbols must be in [0, {self.vocab}), got {tape.min()}..{tape.max()}")
        batch, width = tape.shape
        row0 = self.embed(tape).transpose(1, 2).unsqueeze(2)  # (B, m, 1, w)
        rest = row0.new_zeros(batch, self.channels, self.height - 1, width)
        s = torch.cat([row0, rest], dim=2)
        steps = width if steps is None else steps
        # Each parameter set is sliced out once per call, not once per step: one slice (and one backward of it)
        # per set instead of one per step and layer.
        sets = [
            [self._parameter_set(layer, which) for layer in range(self.layers)]
            for which in range(min(self.relax, steps))
        ]
        for t in range(steps):
            for layer in range(self.layers):
                s = self._cgru(s, sets[t % self.relax][layer], batch_invariant)
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


SHIFTED_HEADS = ("input_head", "output_head")
"""Head observations the env reports shifted by one (column -1, off the tape on the left, is 0): the controller
subtracts one to read the head's own column."""


class NeuralGPUController(Controller):
    """The Neural GPU as a recurrent controller over an episode whose whole input tape is observed.

    At an episode's first step the controller computes the image of that episode's input alone: its extent `e`
    is one past the last non-blank cell of `context["tape"]` (the blank is the last symbol, `tape_vocab - 1`;
    no task has blanks inside its input), the image is `w = min(tape_width, e + margin)` columns wide and runs
    `max(e, 1)` steps, as in the paper, where the image is as wide as the input and the network runs as many
    steps as the input is long (two layers of 3-wide kernels carry each column across the whole image in that
    many steps). The default margin of one blank column covers the column after the input, which the output of
    increment (L + 1 digits) reaches; tasks whose output outruns its input by more (duplicate, repeat copy) read
    zeros past the image and rely on the step GRU there. Columns from `w` on are zeros in the state. Rows are
    grouped by extent and every group is computed with `NeuralGPU(..., batch_invariant=True)`, so an episode's image is
    the same bit for bit whichever episodes share its batch: the policy's collection and Reinforce's replay,
    which batch episodes differently, agree exactly.

    Inputs of `alone_from` symbols or more are computed one at a time with `F.conv2d` instead (its convolution
    is deterministic for one image of a given size, and at these sizes 1.5-2.5x faster on one CPU thread than the
    batch-invariant products), shorter ones in their groups, where sharing the calls saves more.

    State: (row-0 image (B, tape_width, m), computed flag (B,), step count (B,), GRU hidden (B, hidden_size)).
    Output: [row-0 column at the position (m), GRU hidden (hidden_size)].

    :param input_dim: per-step feature size (fed to the GRU)
    :param tape_width: width of `context["tape"]` (the env's `observe_tape`)
    :param tape_vocab: symbols on the tape including the blank (the task's input_base + 1)
    :param hidden_size: GRU units over the step features (0: none; then the output is the column only)
    :param position: context keys tried in order for the read position; when none is there, the step count.
        The heads in `SHIFTED_HEADS` are read at their own column (the observation minus one)
    :param margin: columns of the image past the input's extent (see above)
    :param gpu_kwargs: `NeuralGPU` arguments (channels, height, layers, kernel, relax, dropout)
    """

    alone_from = 8
    """Inputs at least this long get their image computed alone, with `F.conv2d` (see the class docstring)."""

    def __init__(
        self,
        input_dim: int,
        tape_width: int,
        tape_vocab: int,
        hidden_size: int = 32,
        position: tuple[str, ...] = ("output_head", "input_head"),
        margin: int = 1,
        **gpu_kwargs: object,
    ) -> None:
        super().__init__()
        check_int("input_dim", input_dim, 1, owner="NeuralGPUController")
        check_int("tape_width", tape_width, 1, owner="NeuralGPUController")
        check_int("tape_vocab", tape_vocab, 1, owner="NeuralGPUController")
        check_int("hidden_size", hidden_size, 0, owner="NeuralGPUController")
        check_int("margin", margin, 0, owner="NeuralGPUController")
        self.gpu = NeuralGPU(tape_vocab, **gpu_kwargs)  # type: ignore[arg-type]
        self.input_dim = input_dim
        self.tape_width = tape_width
        self.hidden_size = hidden_size
        self.margin = margin
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

    def input_extents(self, tape: torch.Tensor) -> torch.Tensor:
        """One past the last non-blank cell of each row of `tape` (batch, tape_width); 0 for an empty tape."""
        blank = self.gpu.vocab - 1
        columns = torch.arange(1, tape.shape[1] + 1, device=tape.device)
        return torch.where(tape != blank, columns, 0).amax(dim=1)

    def image_size(self, extent: int) -> tuple[int, int]:
        """(width, steps) of the image of an input of `extent` cells: the extent plus the margin, at least one
        column and at most `tape_width`; as many steps as the input is long, at least one."""
        return min(max(extent + self.margin, 1), self.tape_width), max(extent, 1)

    def images(self, tape: torch.Tensor) -> torch.Tensor:
        """Row-0 images (batch, tape_width, m) of the rows of `tape`, each at its own width, zeros past it."""
        extents = self.input_extents(tape)
        out = tape.new_zeros(tape.shape[0], self.tape_width, self.gpu.channels, dtype=self.gpu.embed.weight.dtype)
        for extent in torch.unique(extents).tolist():
            rows = torch.nonzero(extents == extent).flatten()
            width, steps = self.image_size(extent)
            if extent >= self.alone_from:  # one image at a time with F.conv2d (PyTorch's im2col path)
                group = torch.cat([self.gpu(tape[row : row + 1, :width], steps=steps) for row in rows.tolist()])
            else:
                group = self.gpu(tape[rows, :width], steps=steps, batch_invariant=True)  # (rows, width, m)
            out = out.index_put((rows,), F.pad(group, (0, 0, 0, self.tape_width - width)))
        return out

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
            fresh = self.images(tape[rows].long()).to(image.dtype)
            image = image.index_copy(0, rows, fresh)
            computed = computed.index_fill(0, rows, 1.0)
        key = next((k for k in self.position if k in context), None)
        pos = count if key is None else context[key].long() - (1 if key in SHIFTED_HEADS else 0)
        pos = pos.clamp(0, self.tape_width - 1)
        column = image.gather(1, pos.view(-1, 1, 1).expand(-1, 1, image.shape[2])).squeeze(1)
        if self.gru is not None:
            hidden = self.gru(x, hidden)
        out = torch.cat([column, hidden], dim=1)
        return out, (image, computed, count + 1, hidden)
