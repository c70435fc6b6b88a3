"""Feature extractors for SB3 policies on memtape's MultiDiscrete observations.

SB3 sizes its flatten extractor with `sum(nvec)` of a MultiDiscrete space, a numpy integer; `torch.nn.LSTM`
rejects that (`input_size should be of type int`), so sb3-contrib's RecurrentPPO cannot be built on these envs
as is. `FlattenExtractor` here is SB3's, with the size cast to a Python int.
"""

from __future__ import annotations

import gymnasium as gym
from stable_baselines3.common.preprocessing import get_flattened_obs_dim
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor
from stable_baselines3.common.torch_layers import FlattenExtractor as SB3FlattenExtractor
from torch import nn


class FlattenExtractor(SB3FlattenExtractor):
    """SB3's FlattenExtractor whose `features_dim` is a Python int."""

    def __init__(self, observation_space: gym.Space) -> None:
        BaseFeaturesExtractor.__init__(self, observation_space, int(get_flattened_obs_dim(observation_space)))
        self.flatten = nn.Flatten()
