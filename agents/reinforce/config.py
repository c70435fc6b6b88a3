"""Hyperparameters of `Reinforce`, one dataclass, one line each (CleanRL style).

`Reinforce.__init__` names every field as a keyword argument with the same default and builds this dataclass
from them: the signature is what `help()`, IDEs and the config harness read, the dataclass is the one place of
defaults and validation.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Literal

from stable_baselines3.common.type_aliases import Schedule

from memtape_env.validation import check_int, check_non_negative, check_number, check_positive_int

BASELINES = ("none", "online", "offline")
AUTO_GROUPS_FROM = 256
"""`replay_groups="auto"` replays batches of at least this many episodes in groups (below, grouping costs more
calls than the padding it saves: docs/speed.md)."""
AUTO_GROUPS = 4
"""The number of groups `replay_groups="auto"` uses on such batches."""


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
    entropy_sum: bool = False
    """sum the entropy over each episode's steps (averaged over episodes), the score-function term's scale, so the
    bonus keeps its pull per step as episodes grow; False: the mean entropy per step."""
    supervised_output: bool = False
    """hybrid objective: train output_symbol by backprop on info["target_symbol"] at writes, not by RL."""
    supervised_coef: float = 1.0
    """weight of the supervised -log p(target symbol) loss."""
    greedy_output_symbol: bool = False
    """with supervised_output, write the argmax symbol during collection instead of a sampled one."""
    max_grad_norm: float = 1.0
    """global gradient-norm clip per update (<= 0 disables)."""
    replay_groups: int | Literal["auto"] = "auto"
    """replay the batch as this many groups of episodes of similar length, each padded to its own longest: less
    padding on large batches; 1 replays one padded batch (other values change the float rounding); "auto" is 1
    below `AUTO_GROUPS_FROM` episodes and `AUTO_GROUPS` from there (`replay_groups_for`)."""
    restart_steps: int = 0
    """restart from fresh parameters when the curriculum has not left its start level this many env steps after
    the last (re)start, as RL-NTM restarted runs that had not taken off (0: never); steps before count in the budget."""

    def __post_init__(self) -> None:
        owner = "Reinforce"
        if not callable(self.learning_rate):
            check_number("learning_rate", self.learning_rate, 0, low_open=True, owner=owner)
        check_positive_int("batch_episodes", self.batch_episodes, owner=owner)
        check_number("gamma", self.gamma, 0, 1, low_open=True, owner=owner)
        if self.baseline not in BASELINES:
            raise ValueError(f"baseline must be one of {BASELINES}, got {self.baseline!r}")
        check_number("online_baseline_decay", self.online_baseline_decay, 0, 1, high_open=True, owner=owner)
        if not isinstance(self.entropy_sum, bool):
            raise ValueError(f"{owner}: entropy_sum must be True or False, got {self.entropy_sum!r}")
        for name in ("baseline_coef", "ent_coef", "supervised_coef"):
            check_non_negative(name, getattr(self, name), owner=owner)
        if self.replay_groups != "auto":
            try:
                check_positive_int("replay_groups", self.replay_groups, owner=owner)
            except ValueError as err:
                raise type(err)(f'{err} (or "auto")') from None
        check_int("restart_steps", self.restart_steps, 0, owner=owner)
        if self.greedy_output_symbol and not self.supervised_output:
            raise ValueError("greedy_output_symbol needs supervised_output=True")

    def replay_groups_for(self, n_episodes: int) -> int:
        """The number of replay groups for a batch of `n_episodes` episodes."""
        if self.replay_groups != "auto":
            return self.replay_groups
        return AUTO_GROUPS if n_episodes >= AUTO_GROUPS_FROM else 1

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))
