"""Differentiable Neural Computer (Graves et al. 2016) behind the shared `Controller` interface.

An LSTM reads the step input and the previous read vectors and emits an interface vector of size
W*R + 3W + 5R + 3 that drives one write head and R read heads over an N x W memory: content addressing,
usage-based (sort) allocation, and a temporal link matrix with forward and backward reads. It follows
deepmind/dnc (`access.py`, `addressing.py`), including the stop-gradient on write weights in the usage update.

Why it is written this way:
- Numerically safe: norms and logs carry epsilons inside (no infinite gradients at zero memory), the
  allocation's exclusive cumulative product is taken in log space (no underflow-to-NaN at large N), the
  interface is clipped like deepmind/dnc's controller output, and softmaxes use the stable torch kernels.
- Fast: the O(N^2) link update and the forward/backward reads are one autograd function that works on row
  blocks sized for the CPU cache (the whole matrix at once on GPU) and computes its gradient analytically,
  instead of materialising a dozen (B, N, N) temporaries as a plain autograd graph does. The allocation sorts
  once and scatters back (no second sort to invert the permutation).
- Few ops per step: at small sizes a step costs its op count (a few microseconds per op forward, about three
  times that per autograd node backward), so the LSTM cell is one matrix product, the interface is squashed by
  one op per group of parameters, gates are `lerp`/`addcmul`s, constants are tensors, and `sequence` reuses
  the memory norms of a step's reads for the next step's write. `compile=True` goes further with
  `torch.compile`.
- Optional sparse link (`link_k`, Rae et al. 2016): each row keeps only its K largest entries, and the
  write/precedence weights are cut to their top K, so the link costs O(N K) instead of O(N^2).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from agents.controllers.base import Context, Controller, State, reset_state
from memtape_env.validation import check_int, check_non_negative, check_positive_int

_EPS = 1e-6


def _oneplus(x: torch.Tensor) -> torch.Tensor:
    """1 + softplus: the key strengths are at least 1."""
    return 1.0 + F.softplus(x)


def content_weights(memory: torch.Tensor, keys: torch.Tensor, strengths: torch.Tensor) -> torch.Tensor:
    """Softmax over rows of strength * cosine(key, row): memory (B, N, W), keys (B, H, W) -> (B, H, N)."""
    return _content_weights(_inverse_norms(memory).unsqueeze(1), memory, keys, strengths, _EPS)


def _inverse_norms(rows: torch.Tensor, eps: torch.Tensor | float = _EPS) -> torch.Tensor:
    """1 / sqrt(|row|^2 + eps) of every row of (B, K, W): (B, K)."""
    return torch.rsqrt(rows.pow(2).sum(-1) + eps)


def _content_weights(
    memory_inv_norms: torch.Tensor,
    memory: torch.Tensor,
    keys: torch.Tensor,
    strengths: torch.Tensor,
    eps: torch.Tensor | float,
) -> torch.Tensor:
    """`content_weights` with the memory's inverse row norms (B, 1, N) given: the strength and the key's norm
    scale the key before the product, the rows' norms scale its result (two small products, not a (B, H, N)
    division)."""
    scale = strengths * _inverse_norms(keys, eps)
    scores = torch.bmm(keys * scale.unsqueeze(-1), memory.transpose(1, 2)) * memory_inv_norms
    return torch.softmax(scores, dim=-1)


def allocation_weights(usage: torch.Tensor) -> torch.Tensor:
    """Allocation a[phi_j] = (1 - u[phi_j]) prod_{i<j} u[phi_i] over the usage sort order phi; (B, N).

    One stable sort, the exclusive cumulative product in log space (usage is kept >= eps, so the log is finite
    and a product that underflows gives 0, never NaN), and a scatter back through the sort indices.
    """
    return _allocation_weights(usage, usage.new_tensor(_EPS), usage.new_tensor(1.0))


def _allocation_weights(usage: torch.Tensor, eps: torch.Tensor, one: torch.Tensor) -> torch.Tensor:
    """`allocation_weights` with the constants as 0-dim tensors of the usage's dtype (cheaper than Python
    scalars in a per-step op)."""
    usage = torch.add(eps, usage, alpha=1 - _EPS)
    sorted_usage, order = torch.sort(usage, dim=1, stable=True)
    exclusive = F.pad(torch.cumsum(torch.log(sorted_usage), dim=1)[:, :-1], (1, 0))
    sorted_alloc = (one - sorted_usage) * torch.exp(exclusive)
    return torch.zeros_like(usage).scatter(1, order, sorted_alloc)


def _tiles(link: torch.Tensor, block_bytes: int) -> list[tuple[slice, int, int]]:
    """(batch slice, first row, end row) tiles of the link matrix: the whole batch at once on GPU; on CPU tiles
    of about `block_bytes` (row blocks of one sequence, or whole matrices of a few sequences), so that every op
    of a tile works in cache on contiguous memory and the matrix products see plain BLAS matrices."""
    batch, n, _ = link.shape
    if link.device.type != "cpu" or block_bytes <= 0:
        return [(slice(0, batch), 0, n)]
    row_bytes = n * link.element_size()
    rows = max(1, min(n, block_bytes // row_bytes))
    if rows < n:
        return [(slice(b, b + 1), a, min(n, a + rows)) for b in range(batch) for a in range(0, n, rows)]
    per = max(1, block_bytes // (n * row_bytes))  # small matrices: several sequences per tile
    return [(slice(b, min(batch, b + per)), 0, n) for b in range(0, batch, per)]


def _whole(link: torch.Tensor, block_bytes: int) -> bool:
    """Whether `_tiles` gives one tile, the whole link matrix (small memories, GPU, no blocking)."""
    return link.device.type != "cpu" or block_bytes <= 0 or link.numel() * link.element_size() <= block_bytes


def _link_forward_whole(
    link: torch.Tensor, write: torch.Tensor, precedence: torch.Tensor, reads: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """`_DenseLinkStep.forward` on the whole matrix: the ops of one tile without its indexing (small memories
    spend more time indexing tiles than computing them)."""
    w_row = write.unsqueeze(2)
    new_link = torch.mul(link, 1 - w_row)
    new_link.addcmul_(link, write.unsqueeze(1), value=-1)
    new_link.addcmul_(w_row, precedence.unsqueeze(1))
    new_link.diagonal(dim1=1, dim2=2).zero_()
    return new_link, torch.bmm(reads, new_link.transpose(1, 2)), torch.bmm(reads, new_link)


def _link_backward_whole(
    g_link: torch.Tensor | None,
    g_fwd: torch.Tensor,
    g_bwd: torch.Tensor,
    link: torch.Tensor,
    new_link: torch.Tensor,
    write: torch.Tensor,
    precedence: torch.Tensor,
    reads: torch.Tensor,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """`_DenseLinkStep.backward` on the whole matrix: (d_link, d_write, d_precedence, d_reads)."""
    left = torch.cat([g_fwd, reads], dim=1).transpose(1, 2)
    right = torch.cat([reads, g_bwd], dim=1)
    grad = torch.bmm(left, right) if g_link is None else torch.baddbmm(g_link, left, right)
    grad.diagonal(dim1=1, dim2=2).zero_()
    d_reads = torch.bmm(g_fwd, new_link).baddbmm_(g_bwd, new_link.transpose(1, 2))
    w_row = write.unsqueeze(1)
    d_prec = torch.bmm(w_row, grad).squeeze(1)
    prod = grad * link
    d_write = torch.bmm(precedence.unsqueeze(1), grad.transpose(1, 2)).squeeze(1) - prod.sum(2) - prod.sum(1)
    return grad.mul_(1 - w_row.transpose(1, 2) - w_row), d_write, d_prec, d_reads


class _DenseLinkStep(torch.autograd.Function):
    """L = (1 - w_i - w_j) L_prev + w_i p_j (zero diagonal); f = L r, b = L^T r, with an analytic backward.

    Every matrix product has the read weights on the left ((R, N) x (N, n) forms), which BLAS runs at memory
    speed; (N, N) x (N, R) forms are several times slower on CPU. The arguments of `apply`:

    :param link: the link matrix L_prev (B, N, N)
    :param write: the write weights w (B, N)
    :param precedence: the precedence weights p (B, N)
    :param reads: the previous read weights r (B, R, N)
    :param block_bytes: CPU cache block of the link (bytes of a row block over the batch); 0: none
    :return: (link, forward, backward), the last two (B, R, N)
    """

    @staticmethod
    def forward(ctx, link, write, precedence, reads, block_bytes: int):  # type: ignore[override]
        link = link.contiguous()
        ctx.block_bytes = block_bytes
        if _whole(link, block_bytes):
            new_link, fwd, bwd = _link_forward_whole(link, write, precedence, reads)
            ctx.save_for_backward(link, new_link, write, precedence, reads)
            return new_link, fwd, bwd
        new_link = torch.empty_like(link)
        fwd = torch.empty_like(reads)
        bwd = torch.zeros_like(reads)
        for bs, a, c in _tiles(link, block_bytes):
            old = link[bs, a:c]
            out = new_link[bs, a:c]
            w_row = write[bs, a:c].unsqueeze(2)
            torch.mul(old, 1 - w_row, out=out)
            out.addcmul_(old, write[bs].unsqueeze(1), value=-1)
            out.addcmul_(w_row, precedence[bs].unsqueeze(1))
            out.diagonal(offset=a, dim1=1, dim2=2).zero_()
            fwd[bs, :, a:c] = torch.bmm(reads[bs], out.transpose(1, 2))
            bwd[bs].baddbmm_(reads[bs, :, a:c], out)
        ctx.block_bytes = block_bytes
        ctx.save_for_backward(link, new_link, write, precedence, reads)
        return new_link, fwd, bwd

    @staticmethod
    def backward(ctx, g_link, g_fwd, g_bwd):  # type: ignore[override]
        link, new_link, write, precedence, reads = ctx.saved_tensors
        g_fwd = torch.zeros_like(reads) if g_fwd is None else g_fwd.contiguous()
        g_bwd = torch.zeros_like(reads) if g_bwd is None else g_bwd.contiguous()
        if g_link is not None:
            g_link = g_link.contiguous()
        if _whole(link, ctx.block_bytes):
            return (*_link_backward_whole(g_link, g_fwd, g_bwd, link, new_link, write, precedence, reads), None)
        d_link = torch.empty_like(link)
        d_write = torch.zeros_like(write)
        d_prec = torch.zeros_like(precedence)
        d_reads = torch.zeros_like(reads)
        # [g_fwd; reads] and [reads; g_bwd] stacked: the two outer-product terms of the gradient in one product.
        left = torch.cat([g_fwd, reads], dim=1)
        right = torch.cat([reads, g_bwd], dim=1)
        tiles = _tiles(link, ctx.block_bytes)
        tile_rows = max(c - a for _, a, c in tiles)
        tile_batch = tiles[0][0].stop - tiles[0][0].start
        scale_buf = link.new_empty(tile_batch, tile_rows, link.shape[2])
        prod_buf = link.new_empty(tile_batch, tile_rows, link.shape[2])
        for bs, a, c in tiles:
            new = new_link[bs, a:c]
            # Gradient reaching the (pre-mask) new link tile, from the next step and from both reads, built
            # in place in the d_link tile and scaled by (1 - w_i - w_j) once the reductions have used it.
            grad = d_link[bs, a:c]
            if g_link is None:
                torch.bmm(left[bs, :, a:c].transpose(1, 2), right[bs], out=grad)
            else:
                torch.baddbmm(g_link[bs, a:c], left[bs, :, a:c].transpose(1, 2), right[bs], out=grad)
            grad.diagonal(offset=a, dim1=1, dim2=2).zero_()
            d_reads[bs].baddbmm_(g_fwd[bs, :, a:c], new)
            d_reads[bs, :, a:c] += torch.bmm(g_bwd[bs], new.transpose(1, 2))
            w_row = write[bs, a:c].unsqueeze(1)
            d_prec[bs].unsqueeze(1).baddbmm_(w_row, grad)
            prod = torch.mul(grad, link[bs, a:c], out=prod_buf[: grad.shape[0], : c - a])
            d_write[bs, a:c] += torch.bmm(precedence[bs].unsqueeze(1), grad.transpose(1, 2)).squeeze(1)
            d_write[bs, a:c] -= prod.sum(2)
            d_write[bs] -= prod.sum(1)
            scale = torch.sub(
                1 - w_row.transpose(1, 2), write[bs].unsqueeze(1), out=scale_buf[: grad.shape[0], : c - a]
            )
            grad.mul_(scale)
        return d_link, d_write, d_prec, d_reads, None


def dense_link_step(
    link: torch.Tensor, write: torch.Tensor, precedence: torch.Tensor, reads: torch.Tensor, block_bytes: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Link update and directional reads: reads (B, R, N) -> (link, forward (B, R, N), backward (B, R, N))."""
    return _DenseLinkStep.apply(link, write, precedence, reads.contiguous(), block_bytes)


def _top_k_sparse(weights: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The k largest entries of (B, N) weights as (values, indices), each (B, k)."""
    return torch.topk(weights, k, dim=1, sorted=False)


def sparse_link_step(
    values: torch.Tensor,
    index: torch.Tensor,
    write: torch.Tensor,
    precedence: torch.Tensor,
    reads: torch.Tensor,
    k: int,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Sparse link (Rae et al. 2016): rows keep K (value, column) entries; write and precedence cut to top K.

    Cost O(N K (K + R)) per step.

    :param values: the link's kept values (B, N, K)
    :param index: their columns (B, N, K)
    :param write: the write weights (B, N)
    :param precedence: the precedence weights (B, N)
    :param reads: the previous read weights (B, R, N)
    :param k: K, the entries kept per row
    :return: the new (values, index) and the forward and backward read weights (B, R, N)
    """
    batch, n, _ = values.shape
    w_val, w_idx = _top_k_sparse(write, k)
    p_val, p_idx = _top_k_sparse(precedence, k)
    w_sparse = torch.zeros_like(write).scatter(1, w_idx, w_val)
    w_row = w_sparse.unsqueeze(2)  # (B, N, 1)
    w_at_cols = torch.gather(w_sparse, 1, index.reshape(batch, -1)).view_as(values)
    kept = values * (1 - w_row - w_at_cols)
    # New entries w_i p_j for the top-k precedence columns; merge with existing entries of the same column.
    new_vals = w_row * p_val.unsqueeze(1)  # (B, N, K)
    new_idx = p_idx.unsqueeze(1).expand(batch, n, k)
    same = index.unsqueeze(3) == new_idx.unsqueeze(2)  # (B, N, K_old, K_new)
    same = same & (same.cumsum(2) == 1)  # merge into the first matching old entry only
    kept = kept + (same.to(values.dtype) * new_vals.unsqueeze(2)).sum(3)
    new_vals = new_vals * (~same.any(2)).to(values.dtype)
    cand_vals = torch.cat([kept, new_vals], dim=2)
    cand_idx = torch.cat([index, new_idx], dim=2)
    rows = torch.arange(n, device=values.device).view(1, n, 1)
    cand_vals = cand_vals * (cand_idx != rows).to(values.dtype)
    _, pos = torch.topk(cand_vals.abs(), k, dim=2)
    new_values = torch.gather(cand_vals, 2, pos)
    new_index = torch.gather(cand_idx, 2, pos)
    # f_i = sum_k L[i, idx_ik] r[idx_ik]; b_j = sum_i L_ij r_i (scatter-add into the columns).
    heads = reads.shape[1]
    flat_idx = new_index.reshape(batch, 1, n * k).expand(batch, heads, n * k)
    gathered = torch.gather(reads, 2, flat_idx).view(batch, heads, n, k)
    fwd = (gathered * new_values.unsqueeze(1)).sum(3)
    contrib = (new_values.unsqueeze(1) * reads.unsqueeze(3)).reshape(batch, heads, n * k)
    bwd = torch.zeros_like(reads).scatter_add(2, flat_idx, contrib)
    return new_values, new_index, fwd, bwd


class DNCState(NamedTuple):
    """State of the DNC with the exact dense link (each field has the batch on dim 0)."""

    h: torch.Tensor
    """(B, hidden) LSTM output."""
    c: torch.Tensor
    """(B, hidden) LSTM cell."""
    memory: torch.Tensor
    """(B, N, W) memory rows."""
    usage: torch.Tensor
    """(B, N) usage of each row."""
    link: torch.Tensor
    """(B, N, N) temporal link matrix (zero diagonal)."""
    precedence: torch.Tensor
    """(B, N) precedence weights."""
    read_weights: torch.Tensor
    """(B, R, N) read weights of the last step."""
    write_weights: torch.Tensor
    """(B, N) write weights of the last step."""
    read_vectors: torch.Tensor
    """(B, R * W) read vectors of the last step, flattened."""


class SparseDNCState(NamedTuple):
    """State of the DNC with the sparse link (`link_k` = K > 0): the link as K (value, column) pairs per row."""

    h: torch.Tensor
    c: torch.Tensor
    memory: torch.Tensor
    usage: torch.Tensor
    link_values: torch.Tensor
    """(B, N, K) the kept link entries of each row."""
    link_index: torch.Tensor
    """(B, N, K) their columns."""
    precedence: torch.Tensor
    read_weights: torch.Tensor
    write_weights: torch.Tensor
    read_vectors: torch.Tensor


class DNC(Controller):
    """DNC with an LSTM controller; output features are [controller hidden, read vectors] (hidden + R*W).

    :param input_dim: size of the per-step input features
    :param hidden_size: LSTM units
    :param memory_size: memory rows N
    :param word_size: memory word size W
    :param read_heads: read heads R (one write head, as in the paper's experiments)
    :param clip_value: clip the interface vector to [-clip_value, clip_value] (deepmind/dnc: 20); 0: off
    :param link_k: 0 for the exact dense link matrix; K > 0 for the sparse link keeping K entries per row
    :param block_bytes: CPU cache block of the dense link (bytes of a row block over the batch); 0: none
    :param compile: run each step through `torch.compile` (Inductor): a few fused kernels and one autograd node
        per step instead of about a hundred small ops and nodes (its replay steps ran about 2x faster on CPU),
        after a compile of a minute or more on the first steps of a process; off by default, as short runs and
        tests would spend more time compiling than stepping
    """

    def __init__(
        self,
        input_dim: int,
        hidden_size: int = 64,
        memory_size: int = 16,
        word_size: int = 16,
        read_heads: int = 4,
        clip_value: float = 20.0,
        link_k: int = 0,
        block_bytes: int = 1 << 20,
        compile: bool = False,
    ) -> None:
        super().__init__()
        for name, value in (
            ("input_dim", input_dim),
            ("hidden_size", hidden_size),
            ("memory_size", memory_size),
            ("word_size", word_size),
            ("read_heads", read_heads),
        ):
            check_positive_int(name, value, owner="DNC")
        check_int("link_k", link_k, 0, memory_size, owner=f"DNC with memory_size={memory_size}")
        check_non_negative("clip_value", clip_value, finite=True, owner="DNC")
        check_int("block_bytes", block_bytes, 0, owner="DNC")
        if not isinstance(compile, bool):
            raise ValueError(f"DNC: compile must be a bool, got {compile!r}")
        self.compile = compile
        self._compiled_step: Callable[..., tuple[torch.Tensor, State, torch.Tensor]] | None = None
        self.input_dim = input_dim
        self.hidden_size = hidden_size
        self.memory_size = memory_size
        self.word_size = word_size
        self.read_heads = read_heads
        self.clip_value = clip_value
        self.link_k = link_k
        self.block_bytes = block_bytes
        self.interface_size = word_size * read_heads + 3 * word_size + 5 * read_heads + 3
        self.output_dim = hidden_size + read_heads * word_size
        self.lstm = nn.LSTMCell(input_dim + read_heads * word_size, hidden_size)
        self._constant_cache: dict[tuple[torch.dtype, torch.device], tuple[torch.Tensor, torch.Tensor]] = {}
        self.interface = nn.Linear(hidden_size, self.interface_size)

    def initial_state(self, batch_size: int, device: torch.device | str = "cpu") -> State:
        """Zero LSTM state, memory, usage, link, precedence, read/write weights and read vectors: a `DNCState`
        (a `SparseDNCState` with `link_k`)."""
        n, w, r = self.memory_size, self.word_size, self.read_heads
        dtype = self.interface.weight.dtype

        def z(*shape: int, dt: torch.dtype = dtype) -> torch.Tensor:
            return torch.zeros(batch_size, *shape, device=device, dtype=dt)

        h, c, memory, usage = z(self.hidden_size), z(self.hidden_size), z(n, w), z(n)
        if self.link_k:
            cols = torch.arange(self.link_k, device=device).expand(batch_size, n, self.link_k).contiguous()
            return SparseDNCState(h, c, memory, usage, z(n, self.link_k), cols, z(n), z(r, n), z(n), z(r * w))
        return DNCState(h, c, memory, usage, z(n, n), z(n), z(r, n), z(n), z(r * w))

    def _constants(self) -> tuple[torch.Tensor, torch.Tensor]:
        """1 and eps as 0-dim tensors of the module's dtype and device: a tensor operand costs a small op less
        than a Python scalar, which torch wraps into a tensor on every call."""
        weight = self.interface.weight
        key = (weight.dtype, weight.device)
        if key not in self._constant_cache:
            self._constant_cache[key] = (weight.new_tensor(1.0), weight.new_tensor(_EPS))
        return self._constant_cache[key]

    def _lstm_weights(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The LSTM's input and recurrent weights as one (input + reads + hidden, 4 hidden) matrix, and the sum
        of its two biases: one matrix product per step instead of two and an add."""
        lstm = self.lstm
        return torch.cat([lstm.weight_ih, lstm.weight_hh], dim=1).t(), lstm.bias_ih + lstm.bias_hh

    def step(self, x: torch.Tensor, state: State, context: Context | None = None) -> tuple[torch.Tensor, State]:
        """One DNC step: controller, write (usage, allocation, content), link update, reads."""
        if x.dim() != 2 or x.shape[1] != self.input_dim:
            raise ValueError(f"DNC.step: x must be (batch, {self.input_dim}), got {tuple(x.shape)}")
        out, state, _ = self._step_function()(x, state, self._lstm_weights(), self._constants())
        return out, state

    def sequence(
        self,
        x: torch.Tensor,
        episode_starts: torch.Tensor,
        state: State,
        context: Context | None = None,
    ) -> tuple[torch.Tensor, State]:
        """`Controller.sequence` with the fused LSTM weights built once for the whole sequence, and the memory's
        row norms of each step's reads reused by the next step's write addressing (the same memory)."""
        if x.dim() != 3 or x.shape[2] != self.input_dim:
            raise ValueError(f"DNC.sequence: x must be (time, batch, {self.input_dim}), got {tuple(x.shape)}")
        weights, constants, step = self._lstm_weights(), self._constants(), self._step_function()
        outputs = []
        init = None
        norms: torch.Tensor | None = None
        for t in range(x.shape[0]):
            starts = episode_starts[t]
            if bool(starts.any()):
                init = self.initial_state(x.shape[1], x.device) if init is None else init
                state, norms = reset_state(state, init, starts), None
            out, state, norms = step(x[t], state, weights, constants, norms)
            outputs.append(out)
        return torch.stack(outputs), state

    def _step_function(self) -> Callable[..., tuple[torch.Tensor, State, torch.Tensor]]:
        """`_step`, compiled on first use with `compile=True`."""
        if not self.compile:
            return self._step
        if self._compiled_step is None:
            self._compiled_step = torch.compile(self._step)
        return self._compiled_step

    def __getstate__(self) -> dict[str, Any]:
        """Pickles and deep copies leave the compiled step out (it is compiled again on first use)."""
        return {**super().__getstate__(), "_compiled_step": None}

    def _step(
        self,
        x: torch.Tensor,
        state: State,
        lstm_weights: tuple[torch.Tensor, torch.Tensor],
        constants: tuple[torch.Tensor, torch.Tensor],
        memory_norms: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, State, torch.Tensor]:
        """`step` with the fused LSTM weights and the constants given (built once per sequence), and the inverse
        row norms (B, 1, N) of the state's memory when known: (output, state, the new memory's inverse norms)."""
        one, eps = constants
        w, r, hidden = self.word_size, self.read_heads, self.hidden_size
        if self.link_k:
            h, c, memory, usage, link_v, link_i, precedence, read_w, write_w, reads = state
        else:
            h, c, memory, usage, link, precedence, read_w, write_w, reads = state
        # LSTM cell, torch's gate order (input, forget, cell, output), on [x, previous read vectors].
        weight, bias = lstm_weights
        gates = torch.addmm(bias, torch.cat([x, reads, h], dim=1), weight)
        in_gate, forget, _, out_gate = torch.sigmoid(gates).chunk(4, dim=1)
        c = torch.addcmul(forget * c, in_gate, torch.tanh(gates[:, 2 * hidden : 3 * hidden]))
        h = out_gate * torch.tanh(c)
        xi = self.interface(h)
        if self.clip_value:
            xi = xi.clamp(-self.clip_value, self.clip_value)
        # The interface in four parts, each squashed by one op: [read keys | read strengths, write key, write
        # strength | erase, write vector, free gates, allocation gate, write gate | read modes].
        b = x.shape[0]
        read_keys, keyed, gated, modes = torch.split(xi, [r * w, r + w + 1, 2 * w + r + 2, 3 * r], dim=1)
        strengths = one + F.softplus(keyed)  # oneplus; the write key's columns are not used
        erase, _, free_gates, alloc_gate, write_gate = torch.sigmoid(gated).split([w, w, r, 1, 1], dim=1)
        modes = torch.softmax(modes.view(b, r, 3), dim=-1)
        # Usage: previous write raises it (no gradient through the write weights), free gates lower it.
        usage = torch.addcmul(usage, one - usage, write_w.detach())
        usage = usage * torch.prod(torch.addcmul(one, free_gates.unsqueeze(2), read_w, value=-1), dim=1)
        # Write weights: allocation vs content (a lerp by the allocation gate), gated.
        alloc = _allocation_weights(usage, eps, one)
        write_key = keyed[:, r : r + w].unsqueeze(1)
        if memory_norms is None:
            memory_norms = _inverse_norms(memory, eps).unsqueeze(1)
        content_w = _content_weights(memory_norms, memory, write_key, strengths[:, -1:], eps)
        write_w = write_gate * torch.lerp(content_w.squeeze(1), alloc, alloc_gate)
        # Erase and write: M (1 - w e^T) + w v^T = M + w (v^T - e^T * M).
        write_vector = gated[:, w : 2 * w].unsqueeze(1)
        memory = torch.addcmul(
            memory, write_w.unsqueeze(2), torch.addcmul(write_vector, erase.unsqueeze(1), memory, value=-1)
        )
        # Temporal links from the previous precedence, then the new precedence.
        if self.link_k:
            link_v, link_i, fwd, bwd = sparse_link_step(link_v, link_i, write_w, precedence, read_w, self.link_k)
        else:
            link, fwd, bwd = dense_link_step(link, write_w, precedence, read_w, self.block_bytes)
        precedence = torch.addcmul(write_w, one - write_w.sum(1, keepdim=True), precedence)
        # Reads: backward, forward and content modes mixed per head.
        memory_norms = _inverse_norms(memory, eps).unsqueeze(1)
        content_r = _content_weights(memory_norms, memory, read_keys.view(b, r, w), strengths[:, :r], eps)
        read_w = (modes.unsqueeze(-1) * torch.stack([bwd, fwd, content_r], dim=2)).sum(2)
        read_vectors = torch.bmm(read_w, memory).view(b, r * w)
        out = torch.cat([h, read_vectors], dim=1)
        if self.link_k:
            new: State = SparseDNCState(h, c, memory, usage, link_v, link_i, precedence, read_w, write_w, read_vectors)
        else:
            new = DNCState(h, c, memory, usage, link, precedence, read_w, write_w, read_vectors)
        return out, new, memory_norms
