"""What every view of the tape machine shares: the machine, its component names, its task and curriculum."""

from __future__ import annotations

import numpy as np

from memtape_env.curriculum import Curriculum
from memtape_env.machine import TapeMachine
from memtape_env.tasks import Task


class MachineView:
    """Mixin for `MemTapeEnv`, `MemTapeVectorEnv` and the SB3 `MemTapeVecEnv`: one batched machine underneath."""

    machine: TapeMachine
    action_names: tuple[str, ...]
    observation_names: tuple[str, ...]

    def _adopt(self, machine: TapeMachine) -> None:
        """Take `machine` as this view's state and expose its action and observation component names."""
        self.machine = machine
        self.action_names = machine.layout.action_names
        self.observation_names = machine.layout.observation_names

    @property
    def task(self) -> Task:
        """The task played (`memtape_env.tasks.Task`)."""
        return self.machine.task

    @property
    def curriculum(self) -> Curriculum:
        """The length curriculum (`memtape_env.curriculum.Curriculum`); `curriculum.state()` says where it is."""
        return self.machine.curriculum


def episode_success(reward: np.ndarray, terminated: np.ndarray) -> np.ndarray:
    """`info["is_success"]` of SB3 and rl_zoo3 for the episodes that just ended: terminated on a correct symbol,
    that is the whole target written without a wrong symbol (a wrong one terminates with -0.5, the step limit
    sets -1)."""
    return terminated & (reward > 0)
