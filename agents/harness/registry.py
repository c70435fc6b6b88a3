"""The algorithms the CLI and the benchmark harness know, by rl_zoo3 name, loaded lazily.

Names follow rl_zoo3 (`ppo`, `a2c`, `dqn`, `ppo_lstm` for sb3-contrib's RecurrentPPO) plus this project's
`reinforce`. Classes are imported on first use so that reading configs does not import every algorithm.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # SB3 imports torch: `memtape --help` and `memtape list` must not pay for it
    from stable_baselines3.common.base_class import BaseAlgorithm


@dataclass(frozen=True)
class AlgoInfo:
    """Where an algorithm class lives and how the harness must drive it."""

    target: str  # "module:Class"
    default_policy: str  # policy name used when the hyperparameters give none
    recurrent: bool  # predict() carries a recurrent state
    discrete_actions: bool  # needs a single Discrete action space (MultiDiscrete is flattened for it)

    def load(self) -> type[BaseAlgorithm]:
        """Import and return the class."""
        from agents.harness.imports import import_object  # here: configs imports this module

        return import_object(self.target, trusted=True)


ALGORITHMS: dict[str, AlgoInfo] = {
    "ppo": AlgoInfo("stable_baselines3:PPO", "MlpPolicy", recurrent=False, discrete_actions=False),
    "a2c": AlgoInfo("stable_baselines3:A2C", "MlpPolicy", recurrent=False, discrete_actions=False),
    "dqn": AlgoInfo("stable_baselines3:DQN", "MlpPolicy", recurrent=False, discrete_actions=True),
    "ppo_lstm": AlgoInfo("sb3_contrib:RecurrentPPO", "MlpLstmPolicy", recurrent=True, discrete_actions=False),
    "reinforce": AlgoInfo("agents.reinforce:Reinforce", "ControllerPolicy", recurrent=True, discrete_actions=False),
}
SUPERVISED = "supervised"
"""Suites only: the supervised trainer as a bench row (`agents.harness.bench.supervised`), not an SB3 algorithm."""
ALIASES = {"recurrentppo": "ppo_lstm", "recurrent_ppo": "ppo_lstm", "rppo": "ppo_lstm"}


def canonical_algo(name: str) -> str:
    """The registry name for `name` (case-insensitive, aliases allowed); unknown names raise ValueError."""
    key = str(name).lower()
    key = ALIASES.get(key, key)
    if key not in ALGORITHMS:
        raise ValueError(f"unknown algorithm {name!r} (known: {sorted(ALGORITHMS)}; aliases: {sorted(ALIASES)})")
    return key
