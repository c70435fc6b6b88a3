"""DNC: interface size, the fused link step against the plain formula, allocation, numerics, Reinforce."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from agents.controllers import CONTROLLERS, DNC, DNCState, SparseDNCState
from agents.controllers.base import reset_state
from agents.controllers.dnc import (
    _DenseLinkStep,
    allocation_weights,
    content_weights,
    dense_link_step,
    sparse_link_step,
)

pytestmark = pytest.mark.usefixtures("one_thread")


def plain_link_step(link, write, prec, reads):
    """The paper's formulas with plain ops (what the fused function must equal)."""
    n = link.shape[1]
    mask = 1 - torch.eye(n, dtype=link.dtype)
    new = ((1 - write[:, :, None] - write[:, None, :]) * link + write[:, :, None] * prec[:, None, :]) * mask
    return new, reads @ new.transpose(1, 2), reads @ new


def plain_allocation(usage):
    """Allocation by the paper's definition, one sequence and one slot at a time."""
    usage = 1e-6 + (1 - 1e-6) * usage
    out = torch.zeros_like(usage)
    for b in range(usage.shape[0]):
        order = sorted(range(usage.shape[1]), key=lambda i: (float(usage[b, i]), i))
        prod = 1.0
        for j in order:
            out[b, j] = (1 - usage[b, j]) * prod
            prod = prod * usage[b, j]
    return out


@pytest.mark.parametrize(("word", "heads"), [(16, 4), (4, 2), (32, 1)])
def test_interface_size(word, heads):
    dnc = DNC(3, word_size=word, read_heads=heads)
    assert dnc.interface_size == word * heads + 3 * word + 5 * heads + 3
    assert dnc.interface.out_features == dnc.interface_size
    assert dnc.output_dim == dnc.hidden_size + heads * word


@pytest.mark.parametrize("block_bytes", [0, 1, 7 * 8 * 3])
def test_fused_link_step_matches_plain_ops_and_gradcheck(block_bytes):
    g = torch.Generator().manual_seed(0)
    b, n, r = 3, 7, 2
    link = torch.rand(b, n, n, dtype=torch.double, generator=g, requires_grad=True)
    write = (torch.rand(b, n, dtype=torch.double, generator=g) / n).requires_grad_()
    prec = (torch.rand(b, n, dtype=torch.double, generator=g) / n).requires_grad_()
    reads = torch.softmax(torch.randn(b, r, n, dtype=torch.double, generator=g), -1).requires_grad_()
    fused = dense_link_step(link, write, prec, reads, block_bytes)
    plain = plain_link_step(link, write, prec, reads)
    for a, e in zip(fused, plain, strict=True):
        torch.testing.assert_close(a, e)
    weights = [torch.randn(t.shape, dtype=torch.double, generator=g) for t in plain]
    leaves = (link, write, prec, reads)
    grads = torch.autograd.grad(sum((w * t).sum() for w, t in zip(weights, fused, strict=True)), leaves)
    expect = torch.autograd.grad(sum((w * t).sum() for w, t in zip(weights, plain, strict=True)), leaves)
    for a, e in zip(grads, expect, strict=True):
        torch.testing.assert_close(a, e)
    assert torch.autograd.gradcheck(lambda *t: _DenseLinkStep.apply(*t, block_bytes), leaves)


def test_allocation_matches_definition_and_prefers_free_slots():
    g = torch.Generator().manual_seed(1)
    usage = torch.rand(4, 9, dtype=torch.double, generator=g)
    usage[0, 3] = usage[0, 5]  # a tie: broken by index, as the stable sort does
    torch.testing.assert_close(allocation_weights(usage), plain_allocation(usage))
    alloc = allocation_weights(torch.tensor([[1.0, 0.0, 1.0, 0.5]]))
    assert int(alloc.argmax()) == 1 and float(alloc[0, 1]) == pytest.approx(1.0, abs=1e-5)


def test_allocation_is_finite_for_large_memories():
    usage = torch.full((2, 16384), 0.999).requires_grad_()
    alloc = allocation_weights(usage)
    alloc.sum().backward()
    assert torch.isfinite(alloc).all() and torch.isfinite(usage.grad).all()


def test_content_weights_safe_on_zero_memory():
    memory = torch.zeros(2, 5, 4, requires_grad=True)
    keys = torch.zeros(2, 3, 4, requires_grad=True)
    w = content_weights(memory, keys, torch.full((2, 3), 1e4))
    w.sum().backward()
    torch.testing.assert_close(w.sum(-1), torch.ones(2, 3))
    assert torch.isfinite(memory.grad).all() and torch.isfinite(keys.grad).all()


def test_sparse_link_with_k_equal_n_is_the_dense_link():
    g = torch.Generator().manual_seed(2)
    b, n, r = 2, 6, 3
    link = torch.zeros(b, n, n)
    values = torch.zeros(b, n, n)
    index = torch.arange(n).expand(b, n, n).contiguous()
    prec = torch.zeros(b, n)
    for _ in range(5):
        write = torch.softmax(3 * torch.randn(b, n, generator=g), -1) * 0.9
        reads = torch.softmax(torch.randn(b, r, n, generator=g), -1)
        link, fwd, bwd = dense_link_step(link, write, prec, reads, 0)
        values, index, sfwd, sbwd = sparse_link_step(values, index, write, prec, reads, n)
        prec = (1 - write.sum(1, keepdim=True)) * prec + write
        rebuilt = torch.zeros(b, n, n).scatter_add(2, index, values)
        torch.testing.assert_close(rebuilt, link)
        torch.testing.assert_close(sfwd, fwd)
        torch.testing.assert_close(sbwd, bwd)


def run_steps(dnc: DNC, xs: torch.Tensor) -> tuple[torch.Tensor, tuple[torch.Tensor, ...]]:
    state = dnc.initial_state(xs.shape[1])
    outs = []
    for x in xs:
        out, state = dnc.step(x, state)
        outs.append(out)
    return torch.stack(outs), state


@pytest.mark.parametrize("link_k", [0, 4])
def test_step_shapes_and_sequence_equals_steps(link_k):
    torch.manual_seed(0)
    dnc = DNC(5, hidden_size=16, memory_size=8, word_size=4, read_heads=2, link_k=link_k)
    xs = torch.randn(6, 3, 5)
    outs, state = run_steps(dnc, xs)
    assert outs.shape == (6, 3, dnc.output_dim)
    assert all(s.shape[0] == 3 for s in state)
    starts = torch.zeros(6, 3, dtype=torch.bool)
    starts[0] = True
    seq, _ = dnc.sequence(xs, starts, dnc.initial_state(3))
    torch.testing.assert_close(seq, outs)
    # A restart mid-sequence gives the same outputs as a fresh run from there.
    starts[3, 1] = True
    seq, _ = dnc.sequence(xs, starts, dnc.initial_state(3))
    fresh, _ = run_steps(dnc, xs[3:, 1:2])
    torch.testing.assert_close(seq[3:, 1], fresh[:, 0])


@pytest.mark.parametrize("link_k", [0, 4])
def test_state_is_a_named_tuple_through_steps_and_resets(link_k):
    torch.manual_seed(0)
    dnc = DNC(5, hidden_size=16, memory_size=8, word_size=4, read_heads=2, link_k=link_k)
    kind = SparseDNCState if link_k else DNCState
    state = dnc.initial_state(3)
    assert type(state) is kind
    _, state = dnc.step(torch.randn(3, 5), state)
    assert type(state) is kind
    assert state.memory.shape == (3, 8, 4) and state.read_weights.shape == (3, 2, 8)
    assert state.read_vectors.shape == (3, 8) and state.write_weights.shape == (3, 8)
    assert (state.link.shape if not link_k else state.link_values.shape) == ((3, 8, 8) if not link_k else (3, 8, 4))
    reset = reset_state(state, dnc.initial_state(3), torch.tensor([True, False, False]))
    assert type(reset) is kind
    assert reset.memory[0].abs().sum() == 0 and torch.equal(reset.memory[1:], state.memory[1:])


def test_weights_stay_sub_distributions():
    torch.manual_seed(1)
    dnc = DNC(4, hidden_size=16, memory_size=10, word_size=4, read_heads=3)
    _, state = run_steps(dnc, torch.randn(20, 2, 4) * 3)
    read_w, write_w, usage = state[6], state[7], state[3]
    # Content weights sum to 1, link rows to at most 1: the mixed read weights sum to at most 1.
    assert (read_w >= 0).all() and (read_w.sum(-1) <= 1 + 1e-5).all()
    assert (write_w >= 0).all() and (write_w.sum(-1) <= 1 + 1e-5).all()
    assert ((usage >= 0) & (usage <= 1)).all()


def test_no_nans_over_thousands_of_steps_and_extreme_inputs():
    torch.manual_seed(2)
    dnc = DNC(6, hidden_size=8, memory_size=8, word_size=4, read_heads=2)
    # Input magnitudes from 0 to 1e6, changing every step.
    scales = torch.tensor([0.0, 1.0, 1e3, 1e6])[torch.randint(0, 4, (2000,))]
    xs = torch.randn(2000, 2, 6) * scales.view(-1, 1, 1)
    state = dnc.initial_state(2)
    with torch.no_grad():
        for x in xs:
            out, state = dnc.step(x, state)
    assert all(torch.isfinite(s.float()).all() for s in state) and torch.isfinite(out).all()
    # Gradients through a long episode stay finite too.
    state = dnc.initial_state(2)
    total = torch.zeros(())
    for x in xs[:100]:
        out, state = dnc.step(x, state)
        total = total + out.pow(2).mean()
    total.backward()
    assert all(torch.isfinite(p.grad).all() for p in dnc.parameters() if p.grad is not None)


def test_dtype_and_device_follow_the_module():
    dnc = DNC(3, hidden_size=8, memory_size=4, word_size=2, read_heads=1).double()
    out, state = dnc.step(torch.randn(2, 3, dtype=torch.double), dnc.initial_state(2))
    assert out.dtype == torch.double and all(s.dtype == torch.double for s in state)
    starts = torch.tensor([True, False])
    reset = reset_state(state, dnc.initial_state(2), starts)
    assert float(reset[2][0].abs().sum()) == 0.0


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"memory_size": 0}, "memory_size"),
        ({"word_size": 2.5}, "word_size"),
        ({"read_heads": -1}, "read_heads"),
        ({"link_k": 99}, "link_k"),
        ({"clip_value": float("nan")}, "clip_value"),
        ({"block_bytes": -1}, "block_bytes"),
        ({"compile": 1}, "compile"),
    ],
)
def test_bad_kwargs_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        DNC(3, **kwargs)


@pytest.mark.slow
def test_compiled_step_equals_eager_step_and_copies():
    """`compile=True` runs the same maths through torch.compile: outputs and gradients equal the eager ones up to
    float rounding, with and without grad; a deep copy drops the compiled step and compiles again."""
    import copy

    torch.manual_seed(0)
    eager = DNC(5, hidden_size=16, memory_size=8, word_size=4, read_heads=2)
    compiled = DNC(5, hidden_size=16, memory_size=8, word_size=4, read_heads=2, compile=True)
    compiled.load_state_dict(eager.state_dict())
    xs = torch.randn(6, 3, 5)
    starts = torch.zeros(6, 3, dtype=torch.bool)
    starts[0] = True
    outs = [dnc.sequence(xs, starts, dnc.initial_state(3))[0] for dnc in (eager, compiled)]
    torch.testing.assert_close(outs[1], outs[0], rtol=1e-4, atol=1e-5)
    models = (eager, compiled)
    grads = [torch.autograd.grad(out.pow(2).sum(), list(m.parameters())) for out, m in zip(outs, models, strict=True)]
    for g_compiled, g_eager in zip(grads[1], grads[0], strict=True):
        torch.testing.assert_close(g_compiled, g_eager, rtol=1e-4, atol=1e-5)
    with torch.no_grad():
        stepped = [run_steps(dnc, xs)[0] for dnc in (eager, copy.deepcopy(compiled))]
    torch.testing.assert_close(stepped[1], stepped[0], rtol=1e-4, atol=1e-5)


def test_bad_input_shape_raises():
    dnc = DNC(3, hidden_size=8, memory_size=4, word_size=2, read_heads=1)
    with pytest.raises(ValueError, match="x must be"):
        dnc.step(torch.randn(2, 4), dnc.initial_state(2))


def test_registered_and_trains_with_reinforce(tmp_path):
    from agents.reinforce import Reinforce
    from memtape_env.sb3 import MemTapeVecEnv

    assert CONTROLLERS["dnc"] is DNC
    env = MemTapeVecEnv("memtape/Copy-v0", num_envs=4, seed=0)
    kwargs = dict(hidden_size=8, memory_size=6, word_size=4, read_heads=1)
    model = Reinforce(
        "ControllerPolicy",
        env,
        batch_episodes=4,
        seed=0,
        policy_kwargs=dict(controller_class="dnc", controller_kwargs=kwargs),
    )
    before = [p.detach().clone() for p in model.policy.controller.parameters()]
    model.learn(64)
    after = list(model.policy.controller.parameters())
    assert model.num_timesteps >= 64
    assert any(not torch.equal(a, b) for a, b in zip(before, after, strict=True))
    assert all(torch.isfinite(p).all() for p in after)
    # predict carries the recurrent state like RecurrentPPO; save/load round-trips the controller.
    obs = env.reset()
    actions, state = model.predict(obs)
    again, _ = model.predict(obs, state, episode_start=np.zeros(4, dtype=bool))
    assert actions.shape == again.shape == (4, len(env.action_space.nvec))
    model.save(tmp_path / "dnc.zip")
    loaded = Reinforce.load(tmp_path / "dnc.zip")
    for a, b in zip(model.policy.state_dict().values(), loaded.policy.state_dict().values(), strict=True):
        assert torch.equal(a, b)
