"""The task table: every task the suite registers, by name."""

from __future__ import annotations

from memtape_env.tasks import classic, grid, neural_gpu, ntm, rlntm
from memtape_env.tasks.base import CurriculumDefaults, Task

TASKS: dict[str, Task] = {t.name: t for m in (rlntm, classic, neural_gpu, ntm, grid) for t in m.TASKS}


def get_task(name: str) -> Task:
    """The task called `name` (e.g. "Copy", "ClassicReverse", "BinaryAddition")."""
    try:
        return TASKS[name]
    except KeyError:
        raise KeyError(f"unknown task {name!r}; known tasks: {', '.join(sorted(TASKS))}") from None


__all__ = ["TASKS", "CurriculumDefaults", "Task", "get_task"]
