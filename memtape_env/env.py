"""`MemTapeEnv`: one environment, a view of the batched `TapeMachine` with a batch of one."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from memtape_env.machine import build_machine, machine_options
from memtape_env.render import render_ansi, render_rgb
from memtape_env.validation import check_actions
from memtape_env.view import MachineView, episode_success

RENDER_MODES = ("ansi", "rgb_array")


class MemTapeEnv(MachineView, gym.Env[np.ndarray, np.ndarray]):
    r"""
    ## Description
    An algorithmic memory task in the style of the RL-NTM paper ("Reinforcement Learning Neural Turing Machines",
    Zaremba & Sutskever 2015). The agent moves a head over an input tape (or grid), optionally reads and writes a
    memory tape, and writes symbols to an output tape; the target output is a fixed function of the input (copy,
    reverse, add, ...). The task is chosen by `task` (see `memtape_env.tasks.TASKS`); ids `memtape/<Task>-v0`.

    ## Action Space
    `MultiDiscrete`, components (each only when the task has that interface), named by `action_names`:
    `input_move` (1-D: left, stay, right; classic tasks: left, right; grids: left, right, up, down[, stay];
    ForwardReverse: stay, right), `memory_move` (left, stay, right), `memory_write` (0 keep, k + 1 write symbol k),
    `output_write` (0 nothing, 1 write and advance), `output_symbol`.

    ## Observation Space
    `MultiDiscrete`, named by `observation_names`: `input_symbol` (blank = last index, also read off the tape),
    `memory_symbol` with a memory tape; optional `prev_<action>` components (`observe_prev_action`; last index =
    no action yet), `input_head`/`input_row`/`memory_head`/`output_head` positions (`observe_heads`), and the whole
    input tape `tape[i]` padded with blank to `observe_tape` cells.

    ## Rewards
    +1 for a correct output symbol, -0.5 for a wrong one, -1 when the internal step limit runs out, 0 otherwise
    (the classic Gym scheme). After every output write `info["target_symbol"]` is the correct symbol for that
    position, so that an agent may train its output content by backprop. At every episode end
    `info["is_success"]` says whether the whole target was written without a wrong symbol (SB3's success rate).

    ## Episode End
    Terminates when the whole target is written or a wrong symbol is written; truncates when the internal step
    limit (classic tasks: input width + target length + 4; addition: 2 * input width + 4; others: 2 * (input width
    + target length) + 4) is exceeded, or at `max_episode_steps` of the registration.

    ## Arguments

    | argument | type | default | description |
    |---|---|---|---|
    | `task` | `str` | `"Copy"` | a task name from `memtape_env.tasks.TASKS` (the ids pass it) |
    | `render_mode` | `str \| None` | `None` | `"ansi"` (text) or `"rgb_array"` (an image, for `RecordVideo`) |
    | `curriculum` | `str \| None` | `None` | `"classic"`, `"rlntm"` or `"none"` (a fixed `length`); `None`: default |
    | `length` | `int \| (int, int) \| None` | `None` | with `curriculum="none"`: a length, or a uniform range |
    | `max_length` | `int \| None` | `None` | the curriculum's longest length; `None`: the task's |
    | `memory` | `bool \| None` | `None` | add a memory tape to a task that has none; `None`: the task's own |
    | `memory_size` | `int \| None` | `None` | cells of the memory tape; `None`: the widest input + 2 |
    | `observe_prev_action` | `bool` | `False` | add the previous action to the observation (`prev_*` components) |
    | `observe_heads` | `bool` | `False` | add the head positions to the observation |
    | `observe_tape` | `int \| None` | `None` | add the whole input tape, padded to this width (Neural GPU) |
    | `max_episode_steps` | `int \| None` | `None` | a step limit inside the machine (`gym.make` adds `TimeLimit`) |

    The vector views take the same machine arguments (`memtape_env.machine.MACHINE_OPTIONS`).
    """

    metadata = {"render_modes": list(RENDER_MODES), "render_fps": 4}

    def __init__(
        self,
        task: str = "Copy",
        render_mode: str | None = None,
        *,
        curriculum: str | None = None,
        length: int | tuple[int, int] | None = None,
        max_length: int | None = None,
        memory: bool | None = None,
        memory_size: int | None = None,
        observe_prev_action: bool = False,
        observe_heads: bool = False,
        observe_tape: int | None = None,
        max_episode_steps: int | None = None,
    ) -> None:
        if render_mode is not None and render_mode not in RENDER_MODES:
            raise ValueError(f"render_mode must be one of {RENDER_MODES} or None, got {render_mode!r}")
        self.render_mode = render_mode
        self._adopt(build_machine(task, 1, **machine_options(locals())))
        lay = self.machine.layout
        self.action_space = spaces.MultiDiscrete(lay.action_nvec)
        self.observation_space = spaces.MultiDiscrete(lay.observation_nvec)
        self._has_reset = False

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        if options:
            raise ValueError(f"MemTapeEnv.reset takes no options, got {sorted(options)}")
        super().reset(seed=seed)
        m = self.machine
        if seed is not None or not self._has_reset:
            m.streams.use(0, self.np_random)
        self._has_reset = True
        m.reset()
        return m.observe()[0], {}

    def step(self, action):
        m = self.machine
        if not self._has_reset:
            raise RuntimeError("call reset() before step()")
        if m.done[0]:
            raise RuntimeError("the episode has ended (terminated or truncated); call reset() before step()")
        a = check_actions(action, m.layout.action_nvec, m.layout.action_names, None)
        reward, terminated, truncated, target_symbol = m.step(a[None])
        info: dict[str, Any] = {"target_symbol": int(target_symbol[0])} if target_symbol[0] >= 0 else {}
        if terminated[0] or truncated[0]:
            info["is_success"] = bool(episode_success(reward, terminated)[0])
        return m.observe()[0], float(reward[0]), bool(terminated[0]), bool(truncated[0]), info

    def render(self):
        if self.render_mode is None:
            gym.logger.warn("render() called without a render_mode; pass render_mode='ansi' or 'rgb_array'")
            return None
        if not self._has_reset:
            raise RuntimeError("call reset() before render()")
        return render_ansi(self.machine, 0) if self.render_mode == "ansi" else render_rgb(self.machine, 0)
