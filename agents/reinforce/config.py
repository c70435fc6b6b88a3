"""Hyperparameters of `Reinforce`, one dataclass, one line each (CleanRL style).

`Reinforce.__init__` names every field as a keyword argument with the same default and builds this dataclass
from them: the signature is what `help()`, IDEs and the config harness read, the dataclass is the one place of
defaults and validation.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from stable_baselines3.common.type_aliases import Schedule

BASELINES = ("none", "online", "offline")


@dataclass
class ReinforceConfig:
    """Variance-reduced REINFORCE with backprop through whole episodes (RL-NTM, Section 4)."""

    learning_rate: float | Schedule = 1e-3
    """Adam step size (SB3 schedules accepted: a callable of the progress remaining)."""
    batch_episodes: int = 16
    """complete episodes per gradient update."""
    gamma: float = 1.0
    """discount of the return-to-go R_t:T (1.0: plain sums, as in RL-NTM)."""
    baseline: str = "online"
    """"none", "online" (per-time-step running mean of R_t:T) or "offline" (tape-reading baseline network)."""
    online_baseline_decay: float = 0.9
    """decay of the online baseline's exponential moving average per time step."""
    baseline_coef: float = 1.0
    """weight of the offline baseline's (R_t:T - b_t)^2 regression loss."""
    normalize_advantage: bool = True
    """standardise the advantages over the batch's valid steps."""
    ent_coef: float = 0.01
    """entropy bonus weight (mean entropy per step, summed over the action components trained by RL)."""
    supervised_output: bool = False
    """hybrid objective: train output_symbol by backprop on info["target_symbol"] at writes, not by RL."""
    supervised_coef: float = 1.0
    """weight of the supervised -log p(target symbol) loss."""
    greedy_output_symbol: bool = False
    """with supervised_output, write the argmax symbol during collection instead of a sampled one."""
    max_grad_norm: float = 1.0
    """global gradient-norm clip per update (<= 0 disables)."""
    replay_groups: int = 1
    """replay the batch as this many groups of episodes of similar length, each padded to its own longest:
    less padding on large batches; 1 replays one padded batch (other values change the float rounding)."""
    restart_steps: int = 0
    """restart from fresh parameters when the curriculum has not left its start level this many env steps after
    the last (re)start, as RL-NTM restarted runs that had not taken off (0: never); steps before count in the budget."""

    def __post_init__(self) -> None:
        if not callable(self.learning_rate) and not self.learning_rate > 0:
            raise ValueError(f"learning_rate must be positive, got {self.learning_rate!r}")
        if not isinstance(self.batch_episodes, int) or self.batch_episodes < 1:
            raise ValueError(f"batch_episodes must be an int >= 1, got {self.batch_episodes!r}")
        if not 0.0 < self.gamma <= 1.0:
            raise ValueError(f"gamma must be in (0, 1], got {self.gamma!r}")
        if self.baseline not in BASELINES:
            raise ValueError(f"baseline must be one of {BASELINES}, got {self.baseline!r}")
        if not 0.0 <= self.online_baseline_decay < 1.0:
            raise ValueError(f"online_baseline_decay must be in [0, 1), got {self.online_baseline_decay!r}")
        for name in ("baseline_coef", "ent_coef", "supervised_coef"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)!r}")
        if not isinstance(self.replay_groups, int) or isinstance(self.replay_groups, bool) or self.replay_groups < 1:
            raise ValueError(f"replay_groups must be an int >= 1, got {self.replay_groups!r}")
        if not isinstance(self.restart_steps, int) or isinstance(self.restart_steps, bool) or self.restart_steps < 0:
            raise ValueError(f"restart_steps must be an int >= 0, got {self.restart_steps!r}")
        if self.greedy_output_symbol and not self.supervised_output:
            raise ValueError("greedy_output_symbol needs supervised_output=True")

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))
