"""The batched tape machine: the one implementation of the environments' dynamics.

`TapeMachine` holds n environments as numpy arrays over a leading batch axis: input tape or grid, memory tape,
output position, step counters, rewards. `MemTapeEnv` (n = 1), `MemTapeVectorEnv` and the SB3 `MemTapeVecEnv` are
views of it. Rewards follow the classic Gym scheme: +1 per correct symbol, -0.5 for a wrong one (terminates), -1
when the internal step limit runs out (truncates), 0 otherwise.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from memtape_env.curriculum import N_UNIFORM, Curriculum
from memtape_env.layout import Layout, make_layout
from memtape_env.streams import UniformStreams
from memtape_env.tasks import Task
from memtape_env.tasks.base import MOVE_DELTAS

SYMBOL = np.int16


class TapeMachine:
    """n environments of one task, stepped together (built by `build_machine`, which checks the arguments)."""

    def __init__(
        self,
        task: Task,
        num_envs: int,
        curriculum: Curriculum,
        *,
        memory: bool,
        memory_size: int | None,
        observe_prev_action: bool,
        observe_heads: bool,
        observe_tape: int | None,
        max_episode_steps: int | None,
    ) -> None:
        self.task = task
        self.n = num_envs
        self.curriculum = curriculum
        self.memory = memory
        self.max_episode_steps = max_episode_steps
        max_len = curriculum.max_length
        # Uniforms an input of each length draws: a stream's use depends on its own lengths only.
        self.n_uniform = _per_length(task.n_uniform, np.maximum(np.arange(max_len + 1), task.curriculum.min_length))
        self._n_uniform_max = int(self.n_uniform.max())
        self.max_width = _width_bound(task, max_len)
        if memory_size is None:
            memory_size = self.max_width + 2
        self.memory_size = memory_size
        self.observe_tape = observe_tape
        self.layout: Layout = make_layout(
            task, memory, memory_size, self.max_width, observe_prev_action, observe_heads, observe_tape
        )
        lay = self.layout
        self._a_move = lay.action_index("input_move")
        self._a_mmove = lay.action_index("memory_move")
        self._a_mwrite = lay.action_index("memory_write")
        self._a_write = lay.action_index("output_write")
        self._a_symbol = lay.action_index("output_symbol")
        self._dx = np.array([MOVE_DELTAS[m][0] for m in task.input_moves], dtype=np.int64)
        self._dy = np.array([MOVE_DELTAS[m][1] for m in task.input_moves], dtype=np.int64)
        self._observe_prev = observe_prev_action
        self._observe_heads = observe_heads
        self._none_action = lay.action_nvec  # "no action yet" in the prev_* observation

        block = 1 << max(12 if num_envs <= 4096 else 10, int(2 * (N_UNIFORM + self.n_uniform[-1]) - 1).bit_length())
        self.streams = UniformStreams(num_envs, block)
        n = num_envs
        self._rows = np.arange(n)
        self.width = 0
        self._grow_input(1)
        self.input_len = np.zeros(n, dtype=np.int64)
        self._grow_target(1)
        self._input_used = self._target_used = 0  # see reset()
        self.target_len = np.zeros(n, dtype=np.int64)
        self.length = np.zeros(n, dtype=np.int64)
        self.mem = np.full((n, memory_size if memory else 0), task.memory_base, dtype=SYMBOL)
        # Per-episode counters. A step replaces them (`x = x + dx` costs numpy about a third of `x += dx`), so
        # nothing may keep a reference to one across a step.
        self.in_x = np.zeros(n, dtype=np.int64)
        self.in_y = np.zeros(n, dtype=np.int64)
        self.mem_x = np.zeros(n, dtype=np.int64)
        self.out_pos = np.zeros(n, dtype=np.int64)  # symbols written, the last one possibly wrong
        self.t = np.zeros(n, dtype=np.int64)
        self._wrong = np.zeros(n, dtype=bool)  # the last step wrote a wrong symbol (which ends the episode)
        self.limit = np.zeros(n, dtype=np.int64)
        self.ep_return = np.zeros(n, dtype=np.float64)
        self.prev_action = np.tile(self._none_action, (n, 1))
        self.last_reward = np.zeros(n, dtype=np.float64)
        self.done = np.ones(n, dtype=bool)  # also true before the first reset: nothing to record then
        self.episodes = 0  # episodes the curriculum has seen
        # Constants as 0-d arrays: numpy combines them with arrays faster than Python numbers.
        self._zero = np.array(0, dtype=np.int64)
        self._one = np.array(1, dtype=np.int64)
        self._minus_one = np.array(-1, dtype=np.int64)
        self._row_top = np.array(task.rows, dtype=np.int64)
        self._mem_top = np.array(memory_size - 1, dtype=np.int64)
        self._blank = np.array(task.blank, dtype=np.int64)

    # ---- episodes -------------------------------------------------------------------------------------------

    def reset(self, idx: np.ndarray | None = None) -> None:
        """Start new episodes in environments `idx` (distinct, in increasing order; None = all of them); an
        episode still running there is recorded first.

        Resetting every environment (the single env's case, and a vector env's reset) writes through slices
        rather than index arrays: the same code, without numpy's fancy-indexing cost on small batches.
        """
        if idx is not None and len(idx) == self.n:
            idx = None
        elif idx is not None and not len(idx):
            return
        sel = _ALL if idx is None else idx
        running = (~self.done[sel]).nonzero()[0]
        if len(running):
            self._record(running if idx is None else idx[running])
        lengths, u = self.streams.take_episode(idx, self.curriculum.lengths, self.n_uniform, self._n_uniform_max)
        inputs, targets = self.task.build(u, lengths)
        del u  # large batches of long inputs: free the uniforms before the tapes grow
        width, twidth = inputs.shape[2], targets.shape[1]
        self._ensure_width(width, twidth)
        # Columns from _input_used (_target_used) on are blank (-1) in every environment: only the part of an
        # older, wider input (target) that the new one leaves needs clearing.
        self.input[sel, :, :width] = inputs
        if width < self._input_used:
            self.input[sel, :, width : self._input_used] = self.task.blank
        self.target[sel, :twidth] = targets
        if twidth < self._target_used:
            self.target[sel, twidth : self._target_used] = -1
        if idx is None:
            self._input_used, self._target_used = width, twidth
        else:
            self._input_used, self._target_used = max(self._input_used, width), max(self._target_used, twidth)
        input_len = np.add.reduce(inputs[:, 0, :] != self._blank, 1)  # .sum(axis=1) minus a Python layer
        target_len = np.add.reduce(targets >= 0, 1)
        self.input_len[sel] = input_len
        self.target_len[sel] = target_len
        self.length[sel] = lengths
        self.limit[sel] = self.task.limit(input_len, target_len)
        if self.memory:
            self.mem[sel] = self.task.memory_base
        self.in_x[sel] = 0
        self.out_pos[sel] = 0
        self.t[sel] = 0
        self._wrong[sel] = False
        if self.task.rows > 1:  # in_y and mem_x only move on grids and with a memory tape
            self.in_y[sel] = 0
        if self.memory:
            self.mem_x[sel] = 0
        self.ep_return[sel] = 0.0
        if idx is None:
            self.last_reward = np.zeros(self.n)
        else:  # a copy: the last step returned this array to its caller
            self.last_reward = self.last_reward.copy()
            self.last_reward[sel] = 0.0
        if self._observe_prev:
            self.prev_action[sel] = self._none_action
        self.done[sel] = False

    def _grow_input(self, width: int) -> None:
        """(Re)allocate the input with a blank border one cell wide, so that a head off the tape reads blank
        through a clipped index instead of a mask."""
        rows = self.task.rows
        grid = np.full((self.n, rows + 2, width + 2), self.task.blank, dtype=SYMBOL)
        if self.width:
            grid[:, 1:-1, 1 : self.width + 1] = self.input
        self._grid, self.width = grid, width
        self._grid_ravel = grid.ravel()
        self._grid_rows = self._rows * grid[0].size + (width + 3)  # flat index of each env's cell (0, 0)
        self._grid_row_stride = np.array(width + 2, dtype=np.int64)
        self._width_top = np.array(width, dtype=np.int64)
        self.input = grid[:, 1:-1, 1:-1]  # the logical (n, rows, width) view

    def _grow_target(self, twidth: int) -> None:
        """(Re)allocate the target, padded with -1, behind one -1 cell and with two spare columns: a step reads
        the expected symbol at flat index 0 (that -1) when it writes nothing, and the output position of a live
        or just-finished episode never passes target_len + 1, so reading needs no mask and no clipping."""
        flat = np.full(1 + self.n * (twidth + 2), -1, dtype=SYMBOL)
        buf = flat[1:].reshape(self.n, twidth + 2)
        if hasattr(self, "target"):
            buf[:, : self.target.shape[1]] = self.target
        self._target_ravel = flat
        self._target_rows = self._rows * (twidth + 2) + 1  # flat index of each env's target[0]
        self.target = buf[:, :twidth]  # the logical (n, target width) view

    def _ensure_width(self, width: int, twidth: int) -> None:
        if self.observe_tape is not None and width > self.observe_tape:
            raise ValueError(
                f"an input of width {width} does not fit observe_tape={self.observe_tape}; raise observe_tape"
            )
        if width > self.width:
            self._grow_input(width)
        if twidth > self.target.shape[1]:
            self._grow_target(twidth)

    @property
    def correct(self) -> np.ndarray:
        """Correct symbols written so far: every write but a wrong last one (a wrong symbol ends the episode)."""
        return self.out_pos - self._wrong

    def _record(self, idx: np.ndarray) -> None:
        self.episodes += len(idx)
        self.curriculum.record(self.ep_return[idx], self.out_pos[idx] - self._wrong[idx], self.target_len[idx])

    # ---- dynamics -------------------------------------------------------------------------------------------

    def step(self, actions: np.ndarray, active: np.ndarray | None = None):
        """Apply one batch of valid actions to every environment.

        :param actions: the checked actions (n, n_actions)
        :param active: (n,) the environments whose episode ends reach the curriculum; the others (autoresetting
            ones) are stepped too but never reach it (None: all)
        :return: (reward, terminated, truncated, target_symbol); target_symbol is -1 where nothing was written
        """
        self.t = t = self.t + self._one
        write = actions[:, self._a_write]  # 0 or 1
        # The expected symbol where an env writes, -1 (flat index 0) where it does not (see _grow_target);
        # mode="clip" only guards the last row: positions stay inside the spare columns.
        target_symbol = self._target_ravel.take((self.out_pos + self._target_rows) * write, mode="clip")
        # 0 = no write, 1 = wrong symbol, 2 = correct symbol: one code gives the reward and the ending.
        code = write << (actions[:, self._a_symbol] == target_symbol)
        reward = _REWARDS.take(code)
        self._wrong = wrong = code == self._one
        self.out_pos = out_pos = self.out_pos + write
        terminated = wrong | (out_pos >= self.target_len)
        if self.memory:
            w = actions[:, self._a_mwrite]
            m = w > 0
            if m.any():
                self.mem[self._rows[m], self.mem_x[m]] = w[m] - 1
            mem_x = self.mem_x + actions[:, self._a_mmove] - self._one
            self.mem_x = np.minimum(np.maximum(mem_x, self._zero), self._mem_top)
        move = actions[:, self._a_move]
        self.in_x = self.in_x + self._dx.take(move)
        if self.task.rows > 1:
            self.in_y = self.in_y + self._dy.take(move)
        over = t > self.limit
        reward[over] = -1.0
        truncated = over > terminated  # over and not terminated
        if self.max_episode_steps is not None:
            truncated |= t >= self.max_episode_steps  # as gymnasium's TimeLimit does
        self.ep_return = self.ep_return + reward
        self.last_reward = reward  # shared with the caller: reset() replaces it rather than editing it
        if self._observe_prev:
            self.prev_action = actions.copy()
        done = terminated | truncated
        if active is None:
            self.done, finished = done, done
        else:  # envs waiting for their autoreset stay done: their extra step is never an episode
            self.done, finished = done | ~active, done & active
        ended = finished.nonzero()[0]
        if len(ended):
            self._record(ended)
        return reward, terminated, truncated, target_symbol

    # ---- observations ---------------------------------------------------------------------------------------

    def observe(self) -> np.ndarray:
        """The (n, n_observations) int64 observation of every environment."""
        n, rows = self.n, self.task.rows
        obs = np.empty((n, len(self.layout.observation_names)), dtype=np.int64)
        x, y = self.in_x, self.in_y
        # Index into the bordered grid: clipping to the border reads blank anywhere off the tape.
        # (np.minimum/np.maximum: np.clip costs several times more per call on small arrays)
        flat = np.minimum(np.maximum(x, self._minus_one), self._width_top) + self._grid_rows
        if rows > 1:
            flat += np.minimum(np.maximum(y, self._minus_one), self._row_top) * self._grid_row_stride
        obs[:, 0] = self._grid_ravel.take(flat)
        if len(self.layout.observation_names) == 1:
            return obs
        col = 1
        if self.memory:
            obs[:, col] = self.mem[self._rows, self.mem_x]
            col += 1
        if self._observe_prev:
            k = self.prev_action.shape[1]
            obs[:, col : col + k] = self.prev_action
            col += k
        if self._observe_heads:
            obs[:, col] = np.minimum(np.maximum(x, -1), self.max_width) + 1
            col += 1
            if rows > 1:
                obs[:, col] = np.minimum(np.maximum(y, -1), rows) + 1
                col += 1
            if self.memory:
                obs[:, col] = self.mem_x
                col += 1
            obs[:, col] = np.minimum(self.out_pos, self.max_width) + 1
            col += 1
        if self.observe_tape is not None:
            w, width = self.observe_tape, self.width
            full = np.full((n, rows, w), self.task.blank, dtype=np.int64)
            full[:, :, : min(w, width)] = self.input[:, :, :w]
            obs[:, col:] = full.reshape(n, rows * w)
        return obs


_ALL = slice(None)
_REWARDS = np.array([0.0, -0.5, 1.0])  # by step code: no write, wrong symbol, correct symbol


def _per_length(fn: Callable[[int], int], lengths: np.ndarray) -> np.ndarray:
    """`fn` at each length as an int64 array: one call on the whole array when `fn` is plain arithmetic (checked
    against scalar calls at both ends), else a Python loop. A length of 10**7 then costs milliseconds, not seconds."""
    try:
        out = np.asarray(fn(lengths), dtype=np.int64)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        out = None
    ends = np.r_[0 : min(len(lengths), 64), max(len(lengths) - 64, 0) : len(lengths)]
    if out is None or out.shape != lengths.shape or any(int(out[i]) != fn(int(lengths[i])) for i in ends):
        return np.array([fn(int(k)) for k in lengths], dtype=np.int64)
    return out


def _width_bound(task: Task, length: int) -> int:
    """An upper bound on input widths up to `length` (for head observations and the default memory size).

    From the task's definition (`Task.input_width`), so that huge lengths cost nothing; a task without one is
    measured on a few sampled and extreme inputs.
    """
    length = max(int(length), task.curriculum.min_length)
    if task.input_width is not None:
        return int(task.input_width(length))
    rng = np.random.default_rng(0)
    inputs, _ = task.generate(rng, 16, length)
    extremes = [task.build(np.full((1, task.n_uniform(length)), v), np.array([length]))[0] for v in (0.0, 0.999)]
    return max(inputs.shape[2], *(e.shape[2] for e in extremes))


MACHINE_OPTIONS = (
    "curriculum",
    "length",
    "max_length",
    "memory",
    "memory_size",
    "observe_prev_action",
    "observe_heads",
    "observe_tape",
    "max_episode_steps",
)
"""The keyword-only arguments of `build_machine`, which every view takes by the same names, types and defaults."""


def machine_options(arguments: Mapping[str, Any]) -> dict[str, Any]:
    """The machine options among a view's constructor arguments (its `locals()`), to forward to `build_machine`."""
    return {name: arguments[name] for name in MACHINE_OPTIONS}


def build_machine(
    task: str,
    num_envs: int,
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
) -> TapeMachine:
    """Check the constructor arguments shared by every view and build the machine."""
    from memtape_env.curriculum import make_curriculum
    from memtape_env.tasks import get_task
    from memtape_env.validation import check_flag, check_optional_int, check_positive_int

    if not isinstance(task, str):
        raise TypeError(f"task must be a task name such as 'Copy', got {task!r}")
    spec = get_task(task)
    num_envs = check_positive_int("num_envs", num_envs)
    has_memory = spec.has_memory if memory is None else check_flag("memory", memory)
    if spec.has_memory and not has_memory:
        raise ValueError(f"{task} needs its memory tape; memory=False is not allowed")
    for name, value in (("observe_prev_action", observe_prev_action), ("observe_heads", observe_heads)):
        check_flag(name, value)
    max_length = check_optional_int("max_length", max_length)  # its range depends on the task: make_curriculum
    for name, value in (
        ("memory_size", memory_size),
        ("observe_tape", observe_tape),
        ("max_episode_steps", max_episode_steps),
    ):
        check_optional_int(name, value, 1)
    return TapeMachine(
        spec,
        num_envs,
        make_curriculum(spec, curriculum, length, max_length),
        memory=has_memory,
        memory_size=memory_size,
        observe_prev_action=observe_prev_action,
        observe_heads=observe_heads,
        observe_tape=observe_tape,
        max_episode_steps=max_episode_steps,
    )
