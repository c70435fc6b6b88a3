"""The action and observation layouts of a task: component names and sizes, in the documented order (docs/design.md).

Actions: input_move, memory_move, memory_write, output_write, output_symbol (each present only when the task has
that interface). Observations: input_symbol, memory_symbol, then the optional extras: prev_<action component>,
head positions, and the whole input tape.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from memtape_env.tasks import Task

MEMORY_MOVES = ("left", "stay", "right")


@dataclass(frozen=True)
class Layout:
    """Names and sizes of the action and observation components for one env configuration."""

    action_names: tuple[str, ...]
    action_nvec: np.ndarray
    observation_names: tuple[str, ...]
    observation_nvec: np.ndarray

    def action_index(self, name: str) -> int:
        """Column of action component `name`, or -1 when the layout has none."""
        return self.action_names.index(name) if name in self.action_names else -1

    def observation_index(self, name: str) -> int:
        """Column of observation component `name`, or -1 when the layout has none."""
        return self.observation_names.index(name) if name in self.observation_names else -1


def make_layout(
    task: Task,
    memory: bool,
    memory_size: int,
    head_bound: int,
    observe_prev_action: bool,
    observe_heads: bool,
    observe_tape: int | None,
) -> Layout:
    """Build the layout; `head_bound` is the largest input column a head observation can report."""
    actions: list[tuple[str, int]] = [("input_move", len(task.input_moves))]
    if memory:
        actions += [("memory_move", len(MEMORY_MOVES)), ("memory_write", task.memory_base + 1)]
    actions += [("output_write", 2), ("output_symbol", task.output_base)]

    obs: list[tuple[str, int]] = [("input_symbol", task.input_base + 1)]
    if memory:
        obs.append(("memory_symbol", task.memory_base + 1))
    if observe_prev_action:
        obs += [(f"prev_{name}", n + 1) for name, n in actions]  # the extra value: no action yet
    if observe_heads:
        obs.append(("input_head", head_bound + 2))  # columns -1 .. head_bound, shifted by one
        if task.rows > 1:
            obs.append(("input_row", task.rows + 2))
        if memory:
            obs.append(("memory_head", memory_size))
        obs.append(("output_head", head_bound + 2))
    if observe_tape is not None:
        obs += [(f"tape[{i}]", task.input_base + 1) for i in range(observe_tape * task.rows)]
    return Layout(
        tuple(n for n, _ in actions),
        np.array([k for _, k in actions], dtype=np.int64),
        tuple(n for n, _ in obs),
        np.array([k for _, k in obs], dtype=np.int64),
    )
