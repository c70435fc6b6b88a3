"""The in-place tape read/write of the RL-NTM controller: exact gradients, O(1) saved state, caller safety."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_leaves

from agents.controllers import RLNTMDirectAccessController, RLNTMTapeController
from agents.controllers.tape_ops import read_cell, write_cell

pytestmark = pytest.mark.usefixtures("one_thread")
B, N, D, T = 3, 5, 4, 12


def _unroll(in_place: bool, use_final: bool) -> tuple[torch.Tensor, ...]:
    """A read-compute-write loop over a tape; returns the loss's gradients for the weight and initial tape."""
    gen = torch.Generator().manual_seed(0)
    heads = torch.randint(0, N, (T, B), generator=gen)
    weight = torch.randn(D, D, dtype=torch.double, generator=gen).requires_grad_()
    start = torch.randn(B, N, D, dtype=torch.double, generator=gen).requires_grad_()
    x = torch.randn(T, B, D, dtype=torch.double, generator=gen)
    memory, loss = start * 1.0, torch.zeros((), dtype=torch.double)
    for t in range(T):
        h = heads[t]
        index = h.view(-1, 1, 1).expand(-1, 1, D)
        if in_place:
            memory, read = read_cell(memory, h)
        else:
            read = memory.gather(1, index).squeeze(1)
        new = torch.tanh(read @ weight + x[t])
        loss = loss + 0.1 * new.square().sum() + read.sum()
        memory = write_cell(memory, h, new) if in_place else memory.scatter(1, index, new.unsqueeze(1))
    if use_final:
        loss = loss + memory.pow(3).sum()
    return (loss.detach(), *torch.autograd.grad(loss, [weight, start]))


@pytest.mark.parametrize("use_final", [False, True])
def test_in_place_tape_matches_out_of_place_autograd(use_final: bool) -> None:
    """Forward value and every gradient equal those of a plain gather/scatter tape (float64)."""
    for mine, ref in zip(_unroll(True, use_final), _unroll(False, use_final), strict=True):
        torch.testing.assert_close(mine, ref, rtol=1e-12, atol=1e-12)
        assert ref.abs().sum() > 0


def test_caller_gradient_is_never_edited() -> None:
    """An incoming gradient these functions did not make (here a stride-0 expand and a user tensor) is copied."""
    new = torch.randn(2, 3, requires_grad=True)
    head = torch.tensor([0, 1])
    memory, _ = read_cell(torch.zeros(2, 4, 3), head)
    memory = write_cell(memory, head, new)
    memory.sum().backward(retain_graph=True)  # the gradient of sum() is an expanded scalar
    torch.testing.assert_close(new.grad, torch.ones(2, 3))
    user = torch.arange(24.0).view(2, 4, 3)
    kept = user.clone()
    new.grad = None
    memory.backward(user)
    torch.testing.assert_close(user, kept)
    torch.testing.assert_close(new.grad, user[[0, 1], [0, 1]])


def _new_elements(cls: type[RLNTMTapeController], memory_size: int, steps: int) -> int:
    """Elements of every fresh tensor (not a view or in-place result) made by `steps` steps forward + backward."""
    torch.manual_seed(0)
    ctrl = cls(input_dim=3, hidden_size=8, memory_dim=4, memory_size=memory_size)
    state = ctrl.initial_state(2)
    total = 0

    class Count(TorchDispatchMode):
        def __torch_dispatch__(self, func, types, args=(), kwargs=None):  # noqa: ANN001, ANN204
            nonlocal total
            out = func(*args, **(kwargs or {}))
            inputs = {
                a.untyped_storage().data_ptr() for a in tree_leaves((args, kwargs)) if isinstance(a, torch.Tensor)
            }
            total += sum(
                o.numel()
                for o in tree_leaves(out)
                if isinstance(o, torch.Tensor) and o.untyped_storage().data_ptr() not in inputs
            )
            return out

    with Count():
        for t in range(steps):
            out, state = ctrl.step(torch.randn(2, 3), state, {"memory_head": torch.tensor([t % 8, 7 - t % 8])})
        out.sum().backward()
    return total


@pytest.mark.parametrize("cls", [RLNTMTapeController, RLNTMDirectAccessController])
def test_step_cost_does_not_grow_with_memory_size(cls: type[RLNTMTapeController]) -> None:
    """The elements a step allocates, forward and backward, are the same at N=8 and N=4096: no op per step touches
    the whole tape (a gather/scatter tape allocates N cells a step). One tape gradient per backward is allowed."""
    per_step = {n: _new_elements(cls, n, 12) - _new_elements(cls, n, 6) for n in (8, 4096)}
    assert per_step[4096] == per_step[8]
    assert _new_elements(cls, 4096, 6) - _new_elements(cls, 8, 6) <= 2 * (4096 - 8) * 4  # the gradient, once


def test_predict_leaves_the_callers_state_arrays_unchanged() -> None:
    """The tape is updated in place inside the controller, so policy.predict copies the state it is given."""
    from agents.reinforce import Reinforce
    from memtape_env.sb3 import MemTapeVecEnv

    env = MemTapeVecEnv("memtape/ForwardReverse-v0", num_envs=2, seed=0, observe_heads=True)
    kwargs = dict(controller_class="rlntm", controller_kwargs=dict(hidden_size=8, memory_dim=4, memory_size=64))
    model = Reinforce("ControllerPolicy", env, policy_kwargs=kwargs, seed=0)
    obs = env.reset()
    _, state = model.predict(obs, state=None, episode_start=np.ones(2, dtype=bool))
    kept = [s.copy() for s in state]
    model.predict(obs, state=state, episode_start=np.zeros(2, dtype=bool))
    for a, b in zip(state, kept, strict=True):
        np.testing.assert_array_equal(a, b)
