"""The RL-NTM gradient check (Section 5): the Reinforce loss against the exact gradient, by enumeration.

On a problem small enough to enumerate every action sequence (3 steps, 18 joint actions a step: 5,832
sequences), sampling is replaced by enumeration. The exact objective is J(theta) = sum_b P_b(theta) L_b,
with P_b the probability of sequence b under the policy and L_b its return. Its gradient is estimated by the
very loss code Reinforce uses (`reinforce_loss`) with episode weights P_b instead of 1/B, and compared, for
every parameter, against central differences of J (eps 1e-3, float64). The identity is exact only without
entropy bonus and advantage standardisation; a constant per-step (online) baseline keeps it exact.

The problem is a tiny deterministic tape machine: input tape [1, 2] (base 3; blank 3 off the tape), actions
input_move {left, stay, right} x output_write {no, yes} x output_symbol {0, 1, 2}; a write of the next input
symbol earns +1, a wrong one -0.5 (no termination). The head position is reported both as `input_head` and as
`memory_head`, so the RL-NTM tape controllers can be checked on it too.

    python -m agents.reinforce.gradcheck                       # every controller; exit status 1 on failure
    python -m agents.reinforce.gradcheck --bug past-returns    # a deliberate bug in the loss: the check must fail
"""

from __future__ import annotations

import argparse
import itertools
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import torch
from gymnasium import spaces

import agents.reinforce.loss as loss_module
from agents.controllers import CONTROLLERS
from agents.policies import ControllerPolicy
from agents.reinforce.config import ReinforceConfig
from agents.reinforce.loss import EpisodeBatch, reinforce_loss

INPUT = (1, 2)
BASE = 3
STEPS = 3
ACTION_DIMS = (3, 2, BASE)
ACTION_NAMES = ("input_move", "output_write", "output_symbol")
OBSERVATION_NAMES = ("input_symbol", "input_head", "memory_head")
HEAD_OFFSET = STEPS  # positions -3..3 are observed as 0..6
OBSERVATION_DIMS = (BASE + 1, 2 * STEPS + 1, 2 * STEPS + 1)
EXACT_CONFIG = ReinforceConfig(baseline="none", normalize_advantage=False, ent_coef=0.0)
CONTROLLER_KWARGS: dict[str, dict] = {
    "lstm": {"hidden_size": 6},
    "gru": {"hidden_size": 6},
    "mlp": {"hidden_sizes": (6,)},
    "rlntm": {"hidden_size": 5, "memory_dim": 3, "memory_size": 2 * STEPS + 1},
    "rlntm_direct": {"hidden_size": 5, "memory_dim": 3, "memory_size": 2 * STEPS + 1},
}


def enumerate_episodes() -> EpisodeBatch:
    """Every action sequence of the tiny machine, rolled out: (STEPS, 5832, ...) tensors."""
    joint = list(itertools.product(*(range(n) for n in ACTION_DIMS)))
    seqs = np.array(list(itertools.product(joint, repeat=STEPS)), dtype=np.int64)  # (S, STEPS, 3)
    n = seqs.shape[0]
    obs = np.zeros((STEPS, n, len(OBSERVATION_DIMS)), dtype=np.int64)
    rewards = np.zeros((STEPS, n), dtype=np.float64)
    head = np.zeros(n, dtype=np.int64)
    written = np.zeros(n, dtype=np.int64)
    tape = np.array(INPUT)
    for t in range(STEPS):
        inside = (head >= 0) & (head < len(INPUT))
        symbol = np.where(inside, tape[np.clip(head, 0, len(INPUT) - 1)], BASE)
        obs[t] = np.stack([symbol, head + HEAD_OFFSET, head + HEAD_OFFSET], axis=1)
        move, write, out = seqs[:, t, 0], seqs[:, t, 1], seqs[:, t, 2]
        target = np.where(written < len(INPUT), tape[np.clip(written, 0, len(INPUT) - 1)], -1)
        rewards[t] = np.where(write == 1, np.where(out == target, 1.0, -0.5), 0.0)
        written += write
        head += move - 1
    return EpisodeBatch(
        obs=torch.as_tensor(obs),
        actions=torch.as_tensor(seqs.transpose(1, 0, 2).copy()),
        rewards=torch.as_tensor(rewards),
        mask=torch.ones(STEPS, n, dtype=torch.bool),
        targets=torch.full((STEPS, n), -1, dtype=torch.long),
    )


def make_policy(controller: str, seed: int = 0) -> ControllerPolicy:
    """A float64 ControllerPolicy for the tiny machine."""
    torch.manual_seed(seed)
    policy = ControllerPolicy(
        spaces.MultiDiscrete(OBSERVATION_DIMS),
        spaces.MultiDiscrete(ACTION_DIMS),
        lambda _: 1e-3,
        controller_class=controller,
        controller_kwargs=CONTROLLER_KWARGS.get(controller, {}),
        observation_names=OBSERVATION_NAMES,
        action_names=ACTION_NAMES,
    )
    return policy.double()


def sequence_log_prob(policy: ControllerPolicy, batch: EpisodeBatch) -> torch.Tensor:
    """log P_b for every enumerated sequence b."""
    return policy.evaluate_episodes(batch.obs, batch.actions).log_prob.sum(dim=(0, 2))


def exact_objective(policy: ControllerPolicy, batch: EpisodeBatch) -> float:
    """J = sum_b P_b L_b."""
    with torch.no_grad():
        return float((sequence_log_prob(policy, batch).exp() * batch.rewards.sum(0)).sum())


def implementation_gradient(
    policy: ControllerPolicy, batch: EpisodeBatch, config: ReinforceConfig
) -> dict[str, torch.Tensor]:
    """dJ/dtheta as Reinforce computes it: minus the gradient of `reinforce_loss` with weights P_b."""
    with torch.no_grad():
        weights = sequence_log_prob(policy, batch).exp()
    online = None
    if config.baseline == "online":
        # A constant per time step: any value keeps the estimate exact; use the exact mean return-to-go.
        returns = loss_module.reward_to_go(batch.rewards, batch.mask.double(), config.gamma)
        online = (weights[None, :] * returns).sum(1)
    policy.zero_grad()
    loss, _ = reinforce_loss(policy, batch, config, online_baseline=online, episode_weights=weights)
    loss.backward()
    return {name: -p.grad.detach().clone() for name, p in policy.named_parameters()}


def finite_difference_gradient(
    policy: ControllerPolicy, batch: EpisodeBatch, eps: float = 1e-3
) -> dict[str, torch.Tensor]:
    """Central differences (J(theta + eps) - J(theta - eps)) / 2 eps for every scalar parameter."""
    grads = {}
    with torch.no_grad():
        for name, p in policy.named_parameters():
            g = torch.zeros_like(p)
            flat, gflat = p.view(-1), g.view(-1)
            for i in range(flat.numel()):
                orig = float(flat[i])
                flat[i] = orig + eps
                plus = exact_objective(policy, batch)
                flat[i] = orig - eps
                minus = exact_objective(policy, batch)
                flat[i] = orig
                gflat[i] = (plus - minus) / (2 * eps)
            grads[name] = g
    return grads


@dataclass
class ParameterCheck:
    """One parameter tensor: its relative error ||g_impl - g_fd|| / max(||g_impl||, ||g_fd||)."""

    name: str
    numel: int
    grad_norm: float
    rel_error: float
    max_abs_error: float


def check(
    controller: str, config: ReinforceConfig = EXACT_CONFIG, eps: float = 1e-3, seed: int = 0
) -> list[ParameterCheck]:
    """Compare the implementation's gradient with central differences for every parameter."""
    policy = make_policy(controller, seed)
    batch = enumerate_episodes()
    batch = EpisodeBatch(batch.obs, batch.actions, batch.rewards.double(), batch.mask, batch.targets)
    impl = implementation_gradient(policy, batch, config)
    fd = finite_difference_gradient(policy, batch, eps)
    rows = []
    for name, g in impl.items():
        diff = float((g - fd[name]).norm())
        scale = max(float(g.norm()), float(fd[name].norm()), 1e-12)
        max_abs = float((g - fd[name]).abs().max())
        rows.append(ParameterCheck(name, g.numel(), float(g.norm()), diff / scale, max_abs))
    return rows


def _past_returns(rewards: torch.Tensor, mask: torch.Tensor, gamma: float) -> torch.Tensor:
    """Bug: credit each action with the rewards up to and including its own step (R_0:t, not R_t:T)."""
    return torch.cumsum(rewards * mask, dim=0) * mask


def _shifted_returns(rewards: torch.Tensor, mask: torch.Tensor, gamma: float) -> torch.Tensor:
    """Bug: an off-by-one return-to-go that leaves out the action's own reward (R_t+1:T)."""
    full = torch.flip(torch.cumsum(torch.flip(rewards * mask, [0]), 0), [0])
    return (full - rewards * mask) * mask


BUGS: dict[str, Callable[[torch.Tensor, torch.Tensor, float], torch.Tensor]] = {
    "past-returns": _past_returns,
    "shifted-returns": _shifted_returns,
}


@contextmanager
def injected_bug(name: str | None) -> Iterator[None]:
    """Temporarily replace the loss's return computation by a deliberately wrong one."""
    if name is None:
        yield
        return
    if name not in BUGS:
        raise ValueError(f"unknown bug {name!r}; choose one of {sorted(BUGS)}")
    original = loss_module.reward_to_go
    loss_module.reward_to_go = BUGS[name]
    try:
        yield
    finally:
        loss_module.reward_to_go = original


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--controller", choices=[*CONTROLLERS, "all"], default="all")
    parser.add_argument("--bug", choices=sorted(BUGS), default=None, help="inject a deliberate bug in the loss")
    parser.add_argument("--baseline", choices=["none", "online"], default="none")
    parser.add_argument("--eps", type=float, default=1e-3)
    parser.add_argument("--tol", type=float, default=1e-4)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    names = [c for c in CONTROLLER_KWARGS if c in CONTROLLERS] if args.controller == "all" else [args.controller]
    config = ReinforceConfig(baseline=args.baseline, normalize_advantage=False, ent_coef=0.0)
    print(f"{len(enumerate_episodes().obs[0])} enumerated sequences, eps={args.eps}, float64, bug={args.bug}")
    worst_all = 0.0
    with injected_bug(args.bug):
        for controller in names:
            rows = check(controller, config, args.eps, args.seed)
            worst = max(r.rel_error for r in rows)
            worst_all = max(worst_all, worst)
            print(f"\n{controller}: {len(rows)} parameter tensors, {sum(r.numel for r in rows)} scalars")
            for r in rows:
                flag = "ok" if r.rel_error < args.tol else "FAIL"
                print(
                    f"  {r.name:<42} n={r.numel:<4} |g|={r.grad_norm:.2e}  rel.err={r.rel_error:.2e}  "
                    f"max|diff|={r.max_abs_error:.1e}  {flag}"
                )
    passed = worst_all < args.tol
    print(f"\nworst relative error {worst_all:.2e} (tolerance {args.tol:g}): {'PASS' if passed else 'FAIL'}")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
