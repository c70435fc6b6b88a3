"""Controllers: shapes, sequence == step loop, state resets, the RL-NTM tape memory, bad arguments."""

from __future__ import annotations

import pytest
import torch

from agents.controllers import (
    CONTROLLERS,
    Controller,
    LSTMController,
    MLPController,
    RLNTMDirectAccessController,
    RLNTMTapeController,
    reset_state,
)

KWARGS = {
    "lstm": {"hidden_size": 8},
    "gru": {"hidden_size": 8},
    "mlp": {"hidden_sizes": (8, 6)},
    "rlntm": {"hidden_size": 8, "memory_dim": 4, "memory_size": 6},
    "rlntm_direct": {"hidden_size": 8, "memory_dim": 4, "memory_size": 6},
    "rlntm_direct_ff": {"hidden_size": 8, "memory_dim": 4, "memory_size": 6, "core": "feedforward"},
}
MINE = sorted(KWARGS)
INPUT_DIM, T, B = 5, 7, 3


def make(name: str, seed: int = 0) -> Controller:
    torch.manual_seed(seed)
    return CONTROLLERS[name.removesuffix("_ff")](input_dim=INPUT_DIM, **KWARGS[name])


def context(t: int | None = None) -> dict[str, torch.Tensor]:
    gen = torch.Generator().manual_seed(1)
    heads = torch.randint(0, 6, (T, B), generator=gen)
    return {"memory_head": heads if t is None else heads[t]}


def inputs() -> torch.Tensor:
    return torch.randn(T, B, INPUT_DIM, generator=torch.Generator().manual_seed(2))


def test_registry_names() -> None:
    for name in MINE:
        assert issubclass(CONTROLLERS[name.removesuffix("_ff")], Controller)


@pytest.mark.parametrize("name", MINE)
def test_step_shapes_and_batch_first_state(name: str) -> None:
    ctrl = make(name)
    state = ctrl.initial_state(B)
    assert all(s.shape[0] == B for s in state)
    out, new = ctrl.step(inputs()[0], state, context(0))
    assert out.shape == (B, ctrl.output_dim)
    assert [s.shape for s in new] == [s.shape for s in state]


@pytest.mark.parametrize("name", MINE)
@pytest.mark.parametrize("restarts", [False, True])
def test_sequence_equals_step_loop(name: str, restarts: bool) -> None:
    """The fused sequence path must equal stepping, with resets wherever episode_starts is set."""
    ctrl = make(name)
    x = inputs()
    starts = torch.zeros(T, B, dtype=torch.bool)
    starts[0] = True
    if restarts:
        starts[3, 1] = True
        starts[5, 0] = True
    state = tuple(torch.randn_like(s) for s in ctrl.initial_state(B))
    seq_out, seq_state = ctrl.sequence(x, starts, state, context())
    outs = []
    init = ctrl.initial_state(B)
    for t in range(T):
        state = reset_state(state, init, starts[t])
        out, state = ctrl.step(x[t], state, context(t))
        outs.append(out)
    torch.testing.assert_close(seq_out, torch.stack(outs), rtol=1e-5, atol=1e-6)
    for a, b in zip(seq_state, state, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", ["lstm", "gru", "rlntm"])
def test_reset_forgets_history(name: str) -> None:
    """An episode start makes the output independent of what came before it."""
    ctrl = make(name)
    x = inputs()
    starts = torch.zeros(T, B, dtype=torch.bool)
    starts[0] = True
    starts[4] = True
    out1, _ = ctrl.sequence(x, starts, ctrl.initial_state(B), context())
    x2 = x.clone()
    x2[:4] = torch.randn(4, B, INPUT_DIM)
    out2, _ = ctrl.sequence(x2, starts, ctrl.initial_state(B), context())
    torch.testing.assert_close(out1[4:], out2[4:])
    assert not torch.allclose(out1[:4], out2[:4])


@pytest.mark.parametrize("cls", [RLNTMTapeController, RLNTMDirectAccessController])
def test_tape_memory_carries_information_through_the_cell(cls: type[RLNTMTapeController]) -> None:
    """What is written at a cell reaches a later read of that cell (and only through that cell)."""
    torch.manual_seed(0)
    ctrl = cls(input_dim=INPUT_DIM, hidden_size=8, memory_dim=4, memory_size=5)
    x = torch.randn(1, INPUT_DIM, requires_grad=True)
    state = ctrl.initial_state(1)
    _, state = ctrl.step(x, state, {"memory_head": torch.tensor([2])})
    memory = state[2]
    assert memory[0, 2].abs().sum() > 0 and memory[0, [0, 1, 3, 4]].abs().sum() == 0
    (grad,) = torch.autograd.grad(memory[0, 2].sum(), x)
    assert grad.abs().sum() > 0


@pytest.mark.parametrize("cls", [RLNTMTapeController, RLNTMDirectAccessController])
def test_feedforward_core_carries_nothing_but_the_tape(cls: type[RLNTMTapeController]) -> None:
    """With core="feedforward" a step's output depends on its input and the cell it reads, not on h or c."""
    torch.manual_seed(0)
    ctrl = cls(input_dim=INPUT_DIM, hidden_size=8, memory_dim=4, memory_size=5, core="feedforward")
    x, head = inputs()[0], {"memory_head": torch.tensor([1, 2, 3])}
    fresh = ctrl.initial_state(B)
    noisy = (torch.randn(B, 8), torch.randn(B, 8), fresh[2].clone())
    out_fresh, _ = ctrl.step(x, fresh, head)
    out_noisy, _ = ctrl.step(x, noisy, head)
    torch.testing.assert_close(out_fresh, out_noisy)
    written = (fresh[0], fresh[1], fresh[2] + 1.0)  # a different cell content changes the output
    assert not torch.allclose(ctrl.step(x, written, head)[0], out_fresh)


def test_tape_controller_needs_memory_head_in_range() -> None:
    ctrl = make("rlntm")
    state = ctrl.initial_state(B)
    with pytest.raises(ValueError, match="observe_heads=True"):
        ctrl.step(inputs()[0], state, None)
    with pytest.raises(ValueError, match="memory_size"):
        ctrl.step(inputs()[0], state, {"memory_head": torch.tensor([0, 1, 6])})
    with pytest.raises(ValueError, match="batch size"):
        ctrl.step(inputs()[0], state, {"memory_head": torch.tensor([0, 1])})


def test_mlp_is_stateless() -> None:
    ctrl = MLPController(INPUT_DIM, hidden_sizes=())
    assert ctrl.initial_state(4) == ()
    assert ctrl.output_dim == INPUT_DIM


@pytest.mark.parametrize(
    ("factory", "match"),
    [
        (lambda: LSTMController(0), "input_dim"),
        (lambda: LSTMController(3, hidden_size=-1), "hidden_size"),
        (lambda: LSTMController(3, num_layers=True), "num_layers"),
        (lambda: MLPController(3, hidden_sizes=(4, 0)), r"hidden_sizes\[1\]"),
        (lambda: MLPController(3, activation="sin"), "activation"),
        (lambda: RLNTMTapeController(3, memory_size=0), "memory_size"),
        (lambda: RLNTMDirectAccessController(3, core="gru"), r"core must be one of \('lstm', 'feedforward'\)"),
    ],
)
def test_bad_arguments_are_named(factory, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        factory()


def test_double_precision_state() -> None:
    ctrl = make("rlntm").double()
    assert all(s.dtype == torch.float64 for s in ctrl.initial_state(2))
