"""`MemTapeVectorEnv`: a native Gymnasium `VectorEnv`, the batched `TapeMachine` seen as n environments.

Step for step equal to a `SyncVectorEnv` of `MemTapeEnv`s seeded the same way (env i gets seed + i), in both
autoreset modes, infos and `final_obs` included (same keys, types and values), as long as the curriculum does
not promote (the vector env's curriculum is shared by its batch, the sync envs each keep their own).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces
from gymnasium.utils import seeding
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from memtape_env.env import RENDER_MODES
from memtape_env.machine import build_machine, machine_options
from memtape_env.render import render_ansi, render_rgb
from memtape_env.validation import check_actions
from memtape_env.view import MachineView, episode_success


class MemTapeVectorEnv(MachineView, VectorEnv):
    r"""n environments of one task in one set of numpy arrays.

    ## Arguments

    Those of `MemTapeEnv` (see its table), plus:

    | argument | type | default | description |
    |---|---|---|---|
    | `num_envs` | `int` | `1` | the number of environments |
    | `autoreset_mode` | `AutoresetMode \| str` | `NEXT_STEP` | `NEXT_STEP`, as Gymnasium's default, or `SAME_STEP` |
    | `max_episode_steps` | `int \| None` | `None` | the registration's `TimeLimit`, applied inside |
    """

    metadata = {"render_modes": list(RENDER_MODES), "render_fps": 4, "autoreset_mode": AutoresetMode.NEXT_STEP}

    def __init__(
        self,
        task: str = "Copy",
        num_envs: int = 1,
        render_mode: str | None = None,
        autoreset_mode: AutoresetMode | str = AutoresetMode.NEXT_STEP,
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
        mode = AutoresetMode(autoreset_mode)
        if mode not in (AutoresetMode.NEXT_STEP, AutoresetMode.SAME_STEP):
            raise ValueError(f"autoreset_mode must be NEXT_STEP or SAME_STEP, got {mode}")
        self.autoreset_mode = mode
        self.metadata = {**self.metadata, "autoreset_mode": mode}
        self.render_mode = render_mode
        self._adopt(build_machine(task, num_envs, **machine_options(locals())))
        self.num_envs = self.machine.n
        lay = self.machine.layout
        self.single_action_space = spaces.MultiDiscrete(lay.action_nvec)
        self.single_observation_space = spaces.MultiDiscrete(lay.observation_nvec)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self._all = np.arange(self.num_envs)
        self._needs_reset = np.zeros(self.num_envs, dtype=bool)
        self._has_reset = False

    def reset(self, *, seed: int | list[int | None] | None = None, options: dict[str, Any] | None = None):
        if options:
            raise ValueError(f"MemTapeVectorEnv.reset takes no options, got {sorted(options)}")
        m = self.machine
        if seed is None:
            seeds: list[int | None] = [None] * self.num_envs
        elif isinstance(seed, int | np.integer):
            seeds = [int(seed) + i for i in range(self.num_envs)]
        else:
            seeds = list(seed)
            if len(seeds) != self.num_envs:
                raise ValueError(f"reset(seed=...) got {len(seeds)} seeds for {self.num_envs} envs")
        for i, s in enumerate(seeds):
            if s is not None or not self._has_reset:
                m.streams.use(i, seeding.np_random(s)[0])
        if seed is not None:
            self._np_random, self._np_random_seed = seeding.np_random(seeds[0])
        self._has_reset = True
        m.reset(self._all)
        self._needs_reset[:] = False
        return m.observe(), {}

    def step(self, actions):
        m = self.machine
        if not self._has_reset:
            raise RuntimeError("call reset() before step()")
        a = check_actions(actions, m.layout.action_nvec, m.layout.action_names, self.num_envs)
        infos: dict[str, Any] = {}
        if self.autoreset_mode == AutoresetMode.NEXT_STEP:
            resetting = self._needs_reset
            if resetting.any():
                active = ~resetting
                reward, terminated, truncated, target = m.step(a, active)
                m.reset(np.flatnonzero(resetting))
                reward = np.where(resetting, 0.0, reward)
                terminated &= active
                truncated &= active
                target = np.where(resetting, -1, target)
            else:
                reward, terminated, truncated, target = m.step(a)
            self._needs_reset = terminated | truncated
            obs = m.observe()
            infos.update(_step_info(target, reward, terminated, self._needs_reset))
        else:
            reward, terminated, truncated, target = m.step(a)
            done = terminated | truncated
            if done.any():
                # As SyncVectorEnv: a finished env's step info goes to final_info, its reset info to the top level.
                last = m.observe()
                idx = np.flatnonzero(done)
                m.reset(idx)
                final_obs = np.full(self.num_envs, None, dtype=object)  # 1-D even when every env is done
                for i in idx.tolist():
                    final_obs[i] = last[i]
                infos["final_obs"], infos["_final_obs"] = final_obs, done
                infos["final_info"] = _step_info(np.where(done, target, -1), reward, terminated, done)
                infos["_final_info"] = done
                target = np.where(done, -1, target)
            obs = m.observe()
            infos.update(_step_info(target, reward, terminated, np.zeros_like(done)))
        return obs, reward, terminated, truncated, infos

    def render(self):
        if self.render_mode is None:
            return None
        fn = render_ansi if self.render_mode == "ansi" else render_rgb
        return tuple(fn(self.machine, i) for i in range(self.num_envs))


def _step_info(
    target: np.ndarray, reward: np.ndarray, terminated: np.ndarray, ended: np.ndarray
) -> dict[str, np.ndarray]:
    """The vector-info form of the single env's step infos, as `VectorEnv._add_info` batches them: each key with
    a `_key` mask, int64 / bool values and zeros where the mask is off. `target_symbol` where a symbol was written
    (target >= 0), `is_success` where an episode `ended`."""
    infos: dict[str, np.ndarray] = {}
    written = target >= 0
    if written.any():
        infos["target_symbol"] = np.where(written, target, 0).astype(np.int64)
        infos["_target_symbol"] = written
    if ended.any():
        infos["is_success"] = episode_success(reward, terminated) & ended
        infos["_is_success"] = ended.copy()
    return infos
