"""memtape_env: Gymnasium algorithmic memory tasks (RL-NTM, classic Gym, Neural GPU, NTM/DNC, grid).

`import memtape_env` registers every task as `memtape/<Task>-v0`, each with a native vector env. The SB3 `VecEnv`
lives in `memtape_env.sb3`, imported only on demand.
"""

from __future__ import annotations

from memtape_env.env import MemTapeEnv
from memtape_env.registration import register_all, registered_ids
from memtape_env.tasks import TASKS, Task, get_task
from memtape_env.vector_env import MemTapeVectorEnv

register_all()

__all__ = ["TASKS", "MemTapeEnv", "MemTapeVectorEnv", "Task", "get_task", "registered_ids"]
