"""`memtape train` writes its episodes in SB3's Monitor format, which SB3's and rl_zoo3's plotting tools read."""

from __future__ import annotations

import csv
from pathlib import Path

from stable_baselines3.common.results_plotter import load_results, ts2xy

from agents.harness.train import TrainSpec, train


def test_monitor_csv_matches_episodes_csv(tmp_path: Path, one_thread) -> None:
    spec = TrainSpec(
        algo="ppo",
        env_id="memtape/ClassicCopy-v0",
        timesteps=128,
        hyperparams={"n_envs": 2, "n_steps": 64, "batch_size": 64, "n_epochs": 1},
        tensorboard=False,
    )
    result = train(spec, tmp_path)
    frame = load_results(str(tmp_path))
    with open(tmp_path / "episodes.csv") as f:
        episodes = list(csv.DictReader(f))
    assert len(frame) == len(episodes) == result.episodes > 0
    assert [float(e["return"]) for e in episodes] == list(frame["r"])
    assert [int(e["length"]) for e in episodes] == list(frame["l"])
    x, y = ts2xy(frame, "timesteps")
    assert x[-1] == sum(int(e["length"]) for e in episodes) and len(y) == len(episodes)
