"""ansi and rgb_array rendering, and recording an episode with RecordVideo."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.wrappers import RecordVideo

from tests.conftest import ALL_IDS


@pytest.mark.parametrize("env_id", ALL_IDS)
def test_ansi_and_rgb_frames(env_id):
    env = gym.make(env_id, render_mode="ansi")
    env.reset(seed=0)
    text = env.render()
    assert "input" in text or "row 0" in text
    assert "target" in text and "reward" in text
    rgb = gym.make(env_id, render_mode="rgb_array")
    rgb.reset(seed=0)
    frame = rgb.render()
    assert frame.dtype == np.uint8 and frame.ndim == 3 and frame.shape[2] == 3
    rgb.step(rgb.action_space.sample())
    assert rgb.render().shape == frame.shape  # fixed frame size within an env: videos need it


def test_ansi_marks_heads_and_output():
    env = gym.make("memtape/ForwardReverse-v0", render_mode="ansi", curriculum="none", length=3)
    env.reset(seed=0)
    text = env.render()
    lines = text.splitlines()
    assert lines[1].startswith("input") and "[" in lines[1]
    assert lines[2].startswith("memory") and "[ ]" in lines[2]
    assert "reward +0.0" in text


def test_fps_in_metadata():
    env = gym.make("memtape/Copy-v0")
    assert env.metadata["render_fps"] > 0
    assert set(env.metadata["render_modes"]) == {"ansi", "rgb_array"}


def test_record_video(tmp_path):
    pytest.importorskip("moviepy")
    env = RecordVideo(
        gym.make("memtape/ClassicCopy-v0", render_mode="rgb_array"),
        str(tmp_path),
        episode_trigger=lambda e: True,
        disable_logger=True,
    )
    env.reset(seed=0)
    done = False
    while not done:
        _, _, te, tr, _ = env.step(env.action_space.sample())
        done = te or tr
    env.close()
    videos = list(tmp_path.glob("*.mp4"))
    assert videos and videos[0].stat().st_size > 0


def test_vector_render_returns_one_frame_per_env():
    v = gym.make_vec("memtape/Copy-v0", 3, vectorization_mode="vector_entry_point", render_mode="ansi")
    v.reset(seed=0)
    frames = v.render()
    assert len(frames) == 3 and all(isinstance(f, str) for f in frames)
