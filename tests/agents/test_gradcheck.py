"""The RL-NTM gradient check: the Reinforce loss gives the exact gradient of J = sum_b P_b L_b (5,832 sequences),
and a deliberate bug in the loss is caught."""

from __future__ import annotations

import pytest
import torch

from agents.reinforce import ReinforceConfig, gradcheck

pytestmark = pytest.mark.usefixtures("one_thread")


def test_enumeration_covers_every_action_sequence() -> None:
    batch = gradcheck.enumerate_episodes()
    assert batch.actions.shape == (3, 18**3, 3)
    assert len({tuple(a.flatten().tolist()) for a in batch.actions.transpose(0, 1)}) == 5832
    policy = gradcheck.make_policy("lstm")
    total = gradcheck.sequence_log_prob(policy, batch).exp().sum()
    torch.testing.assert_close(total, torch.tensor(1.0, dtype=torch.float64))


@pytest.mark.parametrize(
    "controller",
    [
        "lstm",
        "rlntm",
        pytest.param("gru", marks=pytest.mark.slow),
        pytest.param("rlntm_direct", marks=pytest.mark.slow),
    ],
)
def test_gradient_matches_central_differences(controller: str) -> None:
    rows = gradcheck.check(controller)
    assert rows and all(r.grad_norm > 0 for r in rows)
    worst = max(rows, key=lambda r: r.rel_error)
    assert worst.rel_error < 1e-4, worst


def test_gradient_of_the_feedforward_tape_core(monkeypatch: pytest.MonkeyPatch) -> None:
    kwargs = {**gradcheck.CONTROLLER_KWARGS["rlntm"], "core": "feedforward"}
    monkeypatch.setitem(gradcheck.CONTROLLER_KWARGS, "rlntm", kwargs)
    rows = gradcheck.check("rlntm")
    assert gradcheck.make_policy("rlntm").controller.core == "feedforward"
    assert rows and max(r.rel_error for r in rows) < 1e-4


def test_constant_online_baseline_keeps_the_gradient_exact() -> None:
    config = ReinforceConfig(baseline="online", normalize_advantage=False, ent_coef=0.0)
    assert max(r.rel_error for r in gradcheck.check("mlp", config)) < 1e-4


@pytest.mark.parametrize("bug", sorted(gradcheck.BUGS))
def test_deliberate_bug_in_the_loss_is_caught(bug: str) -> None:
    with gradcheck.injected_bug(bug):
        rows = gradcheck.check("mlp")
    assert max(r.rel_error for r in rows) > 1e-2


def test_entropy_bonus_breaks_exactness_as_expected() -> None:
    config = ReinforceConfig(baseline="none", normalize_advantage=False, ent_coef=0.1)
    assert max(r.rel_error for r in gradcheck.check("mlp", config)) > 1e-3


def test_command_exit_status() -> None:
    assert gradcheck.main(["--controller", "mlp"]) == 0
    assert gradcheck.main(["--controller", "mlp", "--bug", "past-returns"]) == 1
