"""SB3 trains on the batched SB3 VecEnv."""

from __future__ import annotations

import numpy as np
from stable_baselines3 import PPO

from memtape_env.sb3 import MemTapeVecEnv


def test_short_ppo_run_on_sb3_vec_env():
    env = MemTapeVecEnv("memtape/ClassicCopy-v0", num_envs=8, seed=0)
    model = PPO("MlpPolicy", env, n_steps=32, batch_size=64, n_epochs=1, seed=0, device="cpu")
    model.learn(total_timesteps=512)
    obs = env.reset()
    action, _ = model.predict(obs, deterministic=True)
    assert action.shape == (8, 3)
    assert np.all(action < env.action_space.nvec)
