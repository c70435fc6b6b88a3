"""SB3 callbacks the harness trains with: episode log and stop rules, atomic checkpoints, a progress bar.

`EpisodeLog` records every finished episode (step, wall time, return, length, curriculum state), notes when the
rolling mean return first reaches the task's threshold, and stops training at a wall-clock budget or, if asked,
at the threshold; it writes the episodes as `episodes.csv` and in SB3's Monitor format (`monitor.csv`, read by
`stable_baselines3.common.results_plotter` and `rl_zoo3.plots`). `AtomicCheckpoint` saves the model every
`save_freq` steps with a temp file + os.replace.
"""

from __future__ import annotations

import csv
import io
import json
import time
from collections import deque
from pathlib import Path
from typing import Any

import numpy as np
from stable_baselines3.common.callbacks import BaseCallback

from agents.harness.atomic import atomic_save_model, atomic_write_text
from memtape_env.curriculum import find_curriculum
from memtape_env.validation import check_positive_int

EPISODE_FIELDS = ("step", "time_s", "return", "length", "curriculum")


def curriculum_level(env: Any) -> float | None:
    """The current curriculum length of a memtape VecEnv (its first env), or None for other envs."""
    curriculum = find_curriculum(env)
    return None if curriculum is None else float(curriculum.level)


def curriculum_top(env: Any) -> float | None:
    """The highest curriculum level of a memtape VecEnv (its first env), or None for other envs."""
    curriculum = find_curriculum(env)
    return None if curriculum is None else float(curriculum.top_level)


class EpisodeLog(BaseCallback):
    """Log finished episodes and apply the threshold and wall-clock stop rules.

    With `stop_at_threshold`, a run stops once its rolling return reached the threshold and, on a memtape env,
    its curriculum has reached its top level: the return alone can pass the threshold a few levels short of the
    top, where stopping would leave the run unsolved by the bench's success test.
    """

    def __init__(
        self,
        threshold: float | None,
        window: int = 100,
        stop_at_threshold: bool = False,
        wall_time_s: float | None = None,
    ) -> None:
        super().__init__()
        self.threshold = threshold
        self.window = window
        self.stop_at_threshold = stop_at_threshold
        self.wall_time_s = wall_time_s
        self.rows: list[tuple[int, float, float, int, float | None]] = []
        self.recent: deque[float] = deque(maxlen=window)
        self.threshold_step: int | None = None
        self.threshold_time_s: float | None = None
        self.top: float | None = None  # the curriculum's top level (None: not a memtape env)
        self.top_step: int | None = None  # first env step at which the curriculum stood at its top
        self.top_time_s: float | None = None
        self.start = time.perf_counter()
        self.t_start = time.time()  # wall clock at the start, Monitor's header
        self.stopped_by: str = "budget"

    def _on_training_start(self) -> None:
        self.start = time.perf_counter()
        self.top = curriculum_top(self.training_env)
        self.t_start = time.time()

    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def _on_step(self) -> bool:
        now = self.elapsed()
        level: float | None = None
        queried = False
        for info in self.locals.get("infos", []):
            episode = info.get("episode")
            if episode is None:
                continue
            if not queried:
                level, queried = curriculum_level(self.training_env), True
                if level is not None and self.top is not None and level >= self.top and self.top_step is None:
                    self.top_step, self.top_time_s = self.num_timesteps, now
            ret = float(episode["r"])
            self.rows.append((self.num_timesteps, now, ret, int(episode["l"]), level))
            self.recent.append(ret)
            reached = (
                self.threshold is not None
                and len(self.recent) == self.window
                and float(np.mean(self.recent)) >= self.threshold
            )
            if reached and self.threshold_step is None:
                self.threshold_step, self.threshold_time_s = self.num_timesteps, now
        if (
            self.stop_at_threshold
            and self.threshold_step is not None
            and (self.top is None or self.top_step is not None)
        ):
            self.stopped_by = "threshold"
            return False
        if self.wall_time_s is not None and now >= self.wall_time_s:
            self.stopped_by = "wall_time"
            return False
        return True

    def final_return(self) -> float | None:
        """Mean return over the last `window` episodes (None before any episode finished)."""
        return float(np.mean(self.recent)) if self.recent else None

    def max_curriculum(self) -> float | None:
        levels = [r[4] for r in self.rows if r[4] is not None]
        return max(levels) if levels else None

    def write_csv(self, path: str | Path) -> None:
        """All episodes as CSV, written atomically."""
        buf = io.StringIO()
        writer = csv.writer(buf)
        writer.writerow(EPISODE_FIELDS)
        for step, t, ret, length, level in self.rows:
            writer.writerow((step, f"{t:.3f}", f"{ret:.6g}", length, "" if level is None else f"{level:g}"))
        atomic_write_text(path, buf.getvalue())

    def write_monitor_csv(self, path: str | Path, env_id: str) -> None:
        """All episodes in SB3's Monitor format (a JSON header line, then `r,l,t`: return, length, seconds since
        the start), written atomically; name it `*monitor.csv` for `load_results` to find it."""
        buf = io.StringIO()
        buf.write("#" + json.dumps({"t_start": self.t_start, "env_id": env_id}) + "\n")
        writer = csv.writer(buf)
        writer.writerow(("r", "l", "t"))
        for _, t, ret, length, _ in self.rows:
            writer.writerow((round(ret, 6), length, round(t, 6)))
        atomic_write_text(path, buf.getvalue())


class AtomicCheckpoint(BaseCallback):
    """Save the model to `path` every `save_freq` env steps (atomically, overwriting the last checkpoint)."""

    def __init__(self, path: str | Path, save_freq: int) -> None:
        super().__init__()
        self.path = Path(path)
        self.save_freq = check_positive_int("save_freq", save_freq, owner="AtomicCheckpoint")
        self.last = 0

    def _on_step(self) -> bool:
        if self.num_timesteps - self.last >= self.save_freq:
            self.last = self.num_timesteps
            atomic_save_model(self.model, self.path)
        return True


class StopOnSignal(BaseCallback):
    """Ends `learn` at the next step once `request` was called (by a SIGINT/SIGTERM handler); a second request
    raises KeyboardInterrupt at once. The episode log then says `stopped_by="interrupted"`."""

    def __init__(self, log: EpisodeLog) -> None:
        super().__init__()
        self.log = log
        self.requested: int | None = None

    def request(self, signum: int) -> None:
        if self.requested is not None:
            raise KeyboardInterrupt
        self.requested = signum

    def _on_step(self) -> bool:
        if self.requested is not None:
            self.log.stopped_by = "interrupted"
            return False
        return True


class ProgressBar(BaseCallback):
    """A tqdm bar over env steps (SB3's own bar needs the optional `rich` extras and cannot be disabled per run)."""

    def __init__(self, total: int, desc: str = "train") -> None:
        super().__init__()
        self.total, self.desc = total, desc
        self.bar: Any = None

    def _on_training_start(self) -> None:
        from tqdm.auto import tqdm

        self.bar = tqdm(total=self.total, desc=self.desc, unit="step", dynamic_ncols=True)

    def _on_step(self) -> bool:
        self.bar.update(self.num_timesteps - self.bar.n)
        return True

    def _on_training_end(self) -> None:
        self.bar.close()
