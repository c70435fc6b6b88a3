"""sb3-contrib's RecurrentPPO on memtape: the one-hot observation path, plain and through rl_zoo3.

SB3 sizes RecurrentPPO's LSTM from a MultiDiscrete space with a numpy integer, which torch rejects (see
docs/benchmarks.md); `gymnasium.wrappers.FlattenObservation` (the rl_zoo3 config's `env_wrapper`) turns the
observation into a one-hot Box of the same features, and `agents.policies.extractors.FlattenExtractor` does it
inside the policy on the batched `MemTapeVecEnv`.
"""

from __future__ import annotations

import subprocess
import sys

import gymnasium as gym
import numpy as np
import pytest
import torch
from gymnasium.wrappers import FlattenObservation
from sb3_contrib import RecurrentPPO
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.preprocessing import preprocess_obs

from agents.harness.configs import hyperparams_file
from agents.policies.extractors import FlattenExtractor
from memtape_env.sb3 import MemTapeVecEnv
from tests.conftest import ALL_IDS

SMALL = dict(n_steps=4, batch_size=8, n_epochs=1, policy_kwargs=dict(lstm_hidden_size=8, net_arch=[]))


@pytest.mark.parametrize("env_id", ALL_IDS)
def test_recurrent_ppo_with_flatten_observation(env_id, one_thread):
    env = make_vec_env(env_id, n_envs=2, seed=0, wrapper_class=FlattenObservation)
    model = RecurrentPPO("MlpLstmPolicy", env, seed=0, **SMALL).learn(8)
    obs = env.reset()
    action, state = model.predict(obs, episode_start=np.ones(2, dtype=bool))
    assert env.action_space.contains(action[0]) and state is not None


def test_flatten_observation_gives_the_features_sb3_builds_from_multidiscrete():
    for env_id in ("memtape/ForwardReverse-v0", "memtape/ClassicReversedAddition-v0"):
        env = gym.make(env_id, observe_prev_action=True, observe_heads=True)
        space = env.observation_space
        obs = np.stack([space.sample() for _ in range(16)])
        ours = np.stack([FlattenObservation(env).observation(o) for o in obs])
        theirs = preprocess_obs(torch.as_tensor(obs), space).numpy()
        np.testing.assert_array_equal(ours, theirs)


def test_recurrent_ppo_on_the_batched_env_with_flatten_extractor(one_thread):
    env = MemTapeVecEnv("memtape/ClassicCopy-v0", num_envs=2, seed=0)
    kwargs = {**SMALL, "policy_kwargs": {**SMALL["policy_kwargs"], "features_extractor_class": FlattenExtractor}}
    model = RecurrentPPO("MlpLstmPolicy", env, seed=0, **kwargs).learn(8)
    assert model.num_timesteps >= 8


def test_rl_zoo3_trains_and_enjoys_ppo_lstm(tmp_path):
    """`python -m rl_zoo3.train --algo ppo_lstm --gym-packages memtape_env` then `rl_zoo3.enjoy`, as users call
    them (run in one child process, which pays rl_zoo3's imports once)."""
    pytest.importorskip("rl_zoo3")
    common = "--algo ppo_lstm --env memtape/ClassicCopy-v0 --gym-packages memtape_env -f logs".split()
    train = [*common, "--conf-file", str(hyperparams_file("ppo_lstm")), "-n", "64", "--seed", "0", "--eval-freq", "-1"]
    train += "--hyperparams n_envs:2 n_steps:16 batch_size:32 n_epochs:1".split()
    enjoy = [*common, *"--exp-id 1 -n 30 --no-render".split()]
    script = (
        "import runpy, sys\n"
        f"sys.argv = ['train', *{train!r}]\nrunpy.run_module('rl_zoo3.train', run_name='__main__')\n"
        f"sys.argv = ['enjoy', *{enjoy!r}]\nrunpy.run_module('rl_zoo3.enjoy', run_name='__main__')\n"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert (tmp_path / "logs" / "ppo_lstm" / "memtape-ClassicCopy-v0_1" / "memtape-ClassicCopy-v0.zip").is_file()
    assert "Success rate" in done.stdout  # enjoy reads info["is_success"]
