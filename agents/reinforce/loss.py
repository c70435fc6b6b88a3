"""The Reinforce loss on a padded batch of whole episodes; Reinforce and the gradient check share this code.

For episode b with steps t < T_b, actions a_t and rewards r_t, the policy-gradient part is

    L = -sum_b w_b sum_t [sum_k log pi(a_t^k | h_t)] * A_t,    A_t = R_t:T - b_t  (optionally standardised),

with R_t:T the discounted return-to-go (causality: an action is credited with future rewards only), b_t the
online or offline baseline, and w_b the episode weights (1/B for sampled episodes; the exact probabilities P_b
when the gradient check enumerates every action sequence). The offline baseline adds (R_t:T - b_t)^2, the
entropy bonus subtracts ent_coef * mean entropy, and the hybrid objective adds -log p(target symbol) at write
steps (then output_symbol, trained by backprop, is left out of the score-function term and the entropy bonus).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from agents.policies import ControllerPolicy
from agents.reinforce.config import ReinforceConfig


@dataclass
class EpisodeBatch:
    """Whole episodes padded to the longest: every tensor is (T, B, ...) with `mask` marking real steps."""

    obs: torch.Tensor
    """(T, B, n_obs) integer observations seen before each action."""
    actions: torch.Tensor
    """(T, B, n_actions) integer actions taken."""
    rewards: torch.Tensor
    """(T, B) rewards received after each action."""
    mask: torch.Tensor
    """(T, B) bool, true on real steps."""
    targets: torch.Tensor
    """(T, B) long, info["target_symbol"] after output writes, -1 elsewhere."""

    def to(self, device: torch.device | str) -> EpisodeBatch:
        return EpisodeBatch(*(getattr(self, f).to(device) for f in ("obs", "actions", "rewards", "mask", "targets")))


def reward_to_go(rewards: torch.Tensor, mask: torch.Tensor, gamma: float) -> torch.Tensor:
    """R_t:T = sum_{s >= t} gamma^(s-t) r_s within each episode (T, B); zero on padding."""
    rewards = rewards * mask
    out = torch.zeros_like(rewards)
    running = torch.zeros_like(rewards[0])
    for t in range(rewards.shape[0] - 1, -1, -1):
        running = rewards[t] + gamma * running
        out[t] = running
    return out * mask


def masked_mean(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    return (x * mask).sum() / mask.sum().clamp_min(1)


def reinforce_loss(
    policy: ControllerPolicy,
    batch: EpisodeBatch,
    config: ReinforceConfig,
    online_baseline: torch.Tensor | None = None,
    episode_weights: torch.Tensor | None = None,
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """The total loss to minimise and its parts (detached) for logging.

    :param policy: the policy that replays the episodes
    :param batch: the collected episodes
    :param config: the hyperparameters (baseline kind, coefficients)
    :param online_baseline: b_t (T,) when `config.baseline == "online"`
    :param episode_weights: the weight of each episode (B,); default 1/B
    :return: the total loss and its parts by name
    """
    mask = batch.mask.to(batch.rewards.dtype)
    n_episodes = batch.mask.shape[1]
    weights = episode_weights if episode_weights is not None else mask.new_full((n_episodes,), 1.0 / n_episodes)
    groups = config.replay_groups_for(n_episodes)
    if groups > 1:
        out = policy.evaluate_episodes(batch.obs, batch.actions, batch.mask.sum(0), groups)
    else:
        out = policy.evaluate_episodes(batch.obs, batch.actions)
    returns = reward_to_go(batch.rewards, mask, config.gamma)

    stats: dict[str, torch.Tensor] = {}
    advantages = returns
    baseline_loss = returns.new_zeros(())
    if config.baseline == "online":
        if online_baseline is None:
            raise ValueError('config.baseline == "online" needs the online_baseline tensor')
        advantages = returns - online_baseline[: returns.shape[0], None].to(returns.dtype)
    elif config.baseline == "offline":
        if out.baseline is None:
            raise ValueError('config.baseline == "offline" needs a policy built with offline_baseline=True')
        values = out.baseline
        baseline_loss = masked_mean((returns - values) ** 2, mask)
        advantages = returns - values.detach()
        stats["baseline_loss"] = baseline_loss.detach()
    if config.normalize_advantage:
        mean = masked_mean(advantages, mask)
        std = masked_mean((advantages - mean) ** 2, mask).sqrt()
        advantages = (advantages - mean) / (std + 1e-8)
    advantages = advantages.detach()

    log_prob = out.log_prob
    symbol = policy.action_index("output_symbol")
    supervised_loss = returns.new_zeros(())
    if config.supervised_output:
        if symbol is None:
            raise ValueError("supervised_output needs an output_symbol action component (pass action_names)")
        rl_components = [k for k in range(log_prob.shape[-1]) if k != symbol]
        writes = (batch.targets >= 0) & batch.mask
        target_logp = out.log_softmax[symbol].gather(-1, batch.targets.clamp_min(0).unsqueeze(-1)).squeeze(-1)
        supervised_loss = -(weights * (target_logp * writes).sum(0)).sum()
        stats["supervised_loss"] = supervised_loss.detach()
    else:
        rl_components = list(range(log_prob.shape[-1]))
    score = log_prob[..., rl_components].sum(-1)

    policy_loss = -(weights * (score * advantages * mask).sum(0)).sum()
    step_entropy = out.entropy[..., rl_components].sum(-1)
    if config.entropy_sum:  # per episode, as the score-function term: w_b sum_t H_t
        entropy = (weights * (step_entropy * mask).sum(0)).sum()
    else:
        entropy = masked_mean(step_entropy, mask)
    loss = (
        policy_loss
        - config.ent_coef * entropy
        + config.baseline_coef * baseline_loss
        + config.supervised_coef * supervised_loss
    )
    stats.update(
        loss=loss.detach(),
        policy_loss=policy_loss.detach(),
        entropy=entropy.detach(),
        returns=returns.detach(),
    )
    return loss, stats
