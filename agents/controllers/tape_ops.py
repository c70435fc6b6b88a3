"""O(1) reads and writes of one cell per row of a (batch, N, dim) tape, with an O(1) backward.

Plain autograd cannot do this: an out-of-place write copies the whole tape every step, and an in-place write
fails autograd's version check on the next read, whose backward also builds a dense (batch, N, dim) gradient.
These two functions keep one tape tensor that is updated in place and thread it through the graph:

- `read_cell(memory, head) -> (memory, read)` passes the tape through (marked dirty, so autograd orders it) and
  returns a copy of the cell under each head. Backward adds the read's gradient into that cell of the tape's
  gradient, in place.
- `write_cell(memory, head, new) -> memory` overwrites the cell. Backward takes the cell's gradient as the
  gradient of `new` and zeroes it in place (the old value never reached anything after the write).

The tape's gradient is one dense tensor that travels backward through the chain and is edited in place, so a
step costs O(batch * dim) forward and backward whatever N is; only the first backward of a chain allocates
(or copies) it. Gradients these functions produce are tagged so later ones may edit them; any other incoming
gradient (the caller's, or a sum autograd formed) is copied first and never changed.

Consequence for callers: the tape in a state tuple is updated in place by the next step (the RL-NTM controller
documents this), and double backward is not supported.
"""

from __future__ import annotations

import torch
from torch.autograd.function import FunctionCtx, once_differentiable

_OWNED = "_memtape_owned_grad"


def _owned(grad: torch.Tensor | None, like: tuple[torch.Size, torch.dtype, torch.device]) -> torch.Tensor:
    """A gradient of the tape that these functions may edit in place: the incoming one if they made it."""
    shape, dtype, device = like
    if grad is None:
        grad = torch.zeros(shape, dtype=dtype, device=device)
    elif not getattr(grad, _OWNED, False):
        grad = grad.clone(memory_format=torch.contiguous_format)
    setattr(grad, _OWNED, True)
    return grad


def _rows(head: torch.Tensor) -> torch.Tensor:
    return torch.arange(head.shape[0], device=head.device)


def _keep(ctx: FunctionCtx, memory: torch.Tensor, head: torch.Tensor) -> None:
    """What both functions need: the tape marked as changed in place, the heads, the tape's shape for its
    gradient, and unused gradients left as None (not materialised as dense zeros)."""
    ctx.mark_dirty(memory)
    ctx.save_for_backward(head)
    ctx.like = (memory.shape, memory.dtype, memory.device)
    ctx.set_materialize_grads(False)


class _ReadCell(torch.autograd.Function):
    @staticmethod
    def forward(ctx: FunctionCtx, memory: torch.Tensor, head: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        read = memory[_rows(head), head]  # advanced indexing copies
        _keep(ctx, memory, head)
        return memory, read

    @staticmethod
    @once_differentiable
    def backward(
        ctx: FunctionCtx, grad_memory: torch.Tensor | None, grad_read: torch.Tensor | None
    ) -> tuple[torch.Tensor | None, None]:
        if grad_read is None and grad_memory is None:
            return None, None
        (head,) = ctx.saved_tensors
        grad = _owned(grad_memory, ctx.like)
        if grad_read is not None:
            grad[_rows(head), head] += grad_read
        return grad, None


class _WriteCell(torch.autograd.Function):
    @staticmethod
    def forward(ctx: FunctionCtx, memory: torch.Tensor, head: torch.Tensor, new: torch.Tensor) -> torch.Tensor:
        memory[_rows(head), head] = new
        _keep(ctx, memory, head)
        return memory

    @staticmethod
    @once_differentiable
    def backward(
        ctx: FunctionCtx, grad_memory: torch.Tensor | None
    ) -> tuple[torch.Tensor | None, None, torch.Tensor | None]:
        if grad_memory is None:
            return None, None, None
        (head,) = ctx.saved_tensors
        grad = _owned(grad_memory, ctx.like)
        rows = _rows(head)
        grad_new = grad[rows, head]
        grad[rows, head] = 0
        return grad, None, grad_new


def read_cell(memory: torch.Tensor, head: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The tape (the same tensor, threaded through the graph) and the (batch, dim) cells under `head`."""
    return _ReadCell.apply(memory, head)


def write_cell(memory: torch.Tensor, head: torch.Tensor, new: torch.Tensor) -> torch.Tensor:
    """Write `new` (batch, dim) into the cells under `head`, in place; returns the tape."""
    return _WriteCell.apply(memory, head, new)
