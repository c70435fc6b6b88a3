"""Variance-reduced REINFORCE (RL-NTM) as an SB3 algorithm, its hyperparameters and its loss."""

from agents.reinforce.algorithm import Reinforce
from agents.reinforce.buffer import EpisodeArrays, EpisodeBuffer
from agents.reinforce.config import ReinforceConfig
from agents.reinforce.loss import EpisodeBatch, reinforce_loss, reward_to_go

__all__ = [
    "EpisodeArrays",
    "EpisodeBatch",
    "EpisodeBuffer",
    "Reinforce",
    "ReinforceConfig",
    "reinforce_loss",
    "reward_to_go",
]
