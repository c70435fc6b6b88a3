"""Registration of every task as `memtape/<Task>-v0`, with its native vector env as `vector_entry_point`."""

from __future__ import annotations

import gymnasium as gym

from memtape_env.tasks import TASKS

NAMESPACE = "memtape"


def env_id(task: str) -> str:
    """The Gymnasium id of a task: memtape/<Task>-v0."""
    return f"{NAMESPACE}/{task}-v0"


def register_all() -> None:
    """Register each task once (importing twice is harmless)."""
    for name, task in TASKS.items():
        if env_id(name) in gym.registry:
            continue
        gym.register(
            id=env_id(name),
            entry_point="memtape_env.env:MemTapeEnv",
            vector_entry_point="memtape_env.vector_env:MemTapeVectorEnv",
            kwargs={"task": name},
            max_episode_steps=task.max_episode_steps,
            reward_threshold=task.reward_threshold,
        )


def registered_ids() -> list[str]:
    """Every memtape id, in task-table order."""
    return [env_id(name) for name in TASKS]
