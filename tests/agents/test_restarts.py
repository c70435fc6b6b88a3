"""Restarts (`restart_steps`): a run whose curriculum has not left its start level is restarted from fresh
parameters, with every step before the restart still counted; a run that took off is never restarted."""

from __future__ import annotations

import pytest
import torch
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.envs import IdentityEnv

import memtape_env  # noqa: F401 - registers the ids
from agents.reinforce import Reinforce
from memtape_env.sb3 import MemTapeVecEnv

pytestmark = pytest.mark.usefixtures("one_thread")

LSTM = {"controller_class": "lstm", "controller_kwargs": {"hidden_size": 8}}


def vector(task: str = "Reverse", **kwargs) -> MemTapeVecEnv:
    """Short episodes (a 12-step limit) keep these runs fast; Reverse at length 2 is not solved by chance."""
    return MemTapeVecEnv(task, num_envs=4, seed=0, max_episode_steps=12, **kwargs)


def params(model: Reinforce) -> torch.Tensor:
    return torch.nn.utils.parameters_to_vector(model.policy.parameters()).detach().clone()


def test_stuck_run_restarts_and_counts_every_step() -> None:
    # Learning rate 0: the parameters move only by restarts, and the curriculum cannot take off.
    model = Reinforce("ControllerPolicy", vector(), learning_rate=1e-12, batch_episodes=4, restart_steps=100,
                      policy_kwargs=LSTM, seed=0)  # fmt: skip
    first = params(model)
    model.learn(1000)
    assert model.num_timesteps >= 1000  # the budget counts the steps of every restarted attempt
    assert 5 <= model.restarts <= 10
    assert not torch.equal(first, params(model))


def test_restarts_are_deterministic_per_seed() -> None:
    runs = []
    for _ in range(2):
        model = Reinforce("ControllerPolicy", vector(), batch_episodes=4, restart_steps=150, policy_kwargs=LSTM, seed=3)
        model.learn(900)
        runs.append((model.restarts, params(model)))
    assert runs[0][0] == runs[1][0] > 0
    torch.testing.assert_close(runs[0][1], runs[1][1], rtol=0, atol=0)


class TakeOff(BaseCallback):
    """Moves the classic curriculum one level up at the first step, as a run that learned the start length."""

    def _on_step(self) -> bool:
        curriculum = self.training_env.curriculum
        if self.n_calls == 1:
            curriculum.min_length += 1
        return True


def test_a_run_that_took_off_is_not_restarted() -> None:
    env = MemTapeVecEnv("ClassicCopy", num_envs=4, seed=0)
    model = Reinforce("ControllerPolicy", env, batch_episodes=4, restart_steps=50, policy_kwargs=LSTM, seed=0)
    model.learn(600, callback=TakeOff())
    assert model.restarts == 0


def test_restarts_need_a_curriculum() -> None:
    env = make_vec_env(lambda: IdentityEnv(4), n_envs=2)
    with pytest.raises(ValueError, match="restart_steps"):
        Reinforce("ControllerPolicy", env, restart_steps=10, policy_kwargs=LSTM).learn(10)


def test_restart_steps_is_checked() -> None:
    with pytest.raises(ValueError, match="restart_steps"):
        Reinforce("ControllerPolicy", vector(), restart_steps=-1, policy_kwargs=LSTM)
