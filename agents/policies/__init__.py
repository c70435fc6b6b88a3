"""SB3 policies around any controller, the feature extractor RecurrentPPO needs, and the Discrete action view.

`controller_policy` holds `ControllerPolicy` (Reinforce) and `ControllerActorCriticPolicy` (PPO, A2C);
`extractors` the flattening extractor; `discrete_actions` the wrapper that flattens MultiDiscrete actions for DQN.
"""

from agents.policies.controller_policy import (
    ControllerActorCriticPolicy,
    ControllerPolicy,
    EpisodeReplay,
    ObservationLayout,
    space_dims,
)

__all__ = ["ControllerActorCriticPolicy", "ControllerPolicy", "EpisodeReplay", "ObservationLayout", "space_dims"]
