"""Train one (algorithm, env id, seed) run: build the vector env and the model, learn, save everything atomically.

A run directory holds `run.json` (what was trained, enough to load it again), `model.zip` (checkpoints and the
final model), `episodes.csv` (every finished training episode) and `tb/` (TensorBoard). Torch uses one thread per
run so that runs in parallel processes neither fight for cores nor lose determinism.
"""

from __future__ import annotations

import importlib
import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import gymnasium as gym
import torch
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.callbacks import BaseCallback, CallbackList
from stable_baselines3.common.utils import set_random_seed
from stable_baselines3.common.vec_env import VecEnv, VecMonitor

from agents.algorithms import ALGORITHMS, canonical_algo
from agents.atomic import atomic_save_model, atomic_write_json
from agents.callbacks import AtomicCheckpoint, EpisodeLog, ProgressBar
from agents.configs import Hyperparams, load_hyperparams
from agents.discrete_actions import DiscreteActions


@dataclass
class TrainSpec:
    """Everything one training run needs; JSON-serialisable so runs can be shipped to worker processes."""

    algo: str
    env_id: str
    seed: int = 0
    timesteps: int | None = None  # None: the hyperparameter file's n_timesteps
    hyperparams: dict[str, Any] = field(default_factory=dict)  # overrides on configs/hyperparams/<algo>.yml
    hyperparams_file: str | None = None  # None: configs/hyperparams/<algo>.yml
    env_kwargs: dict[str, Any] = field(default_factory=dict)
    threshold: float | None = None  # None: the env spec's reward_threshold
    window: int = 100
    stop_at_threshold: bool = False
    wall_time_s: float | None = None
    checkpoint_freq: int = 50_000
    progress: bool = False
    tensorboard: bool = True
    verbose: int = 0


@dataclass
class TrainResult:
    """What a finished run measured during training."""

    timesteps: int
    wall_time_s: float
    episodes: int
    final_return: float | None
    threshold: float | None
    threshold_step: int | None
    threshold_time_s: float | None
    max_curriculum: float | None
    stopped_by: str
    us_per_step: float


def import_object(path: str) -> Any:
    """`package.module.Name` or `package.module:Name` -> the object."""
    module, sep, name = path.partition(":") if ":" in path else path.rpartition(".")
    if not module or not name:
        raise ValueError(f"expected a dotted path like package.module.Name, got {path!r}")
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as err:
        raise ValueError(f"cannot import {path!r}: {err}") from err


def make_vec_env(
    algo: str, env_id: str, n_envs: int, seed: int, env_kwargs: dict[str, Any], env_wrapper: str | None = None
) -> VecEnv:
    """The training VecEnv: the batched MemTapeVecEnv, or SB3's DummyVecEnv when a per-env wrapper is needed."""
    import memtape_env  # noqa: F401 - registers the ids

    wrapper = import_object(env_wrapper) if env_wrapper else None
    if wrapper is None and ALGORITHMS[canonical_algo(algo)].discrete_actions:
        wrapper = DiscreteActions
    if wrapper is not None or not env_id.startswith("memtape/"):
        from stable_baselines3.common.env_util import make_vec_env as sb3_make_vec_env

        return sb3_make_vec_env(env_id, n_envs=n_envs, seed=seed, env_kwargs=env_kwargs, wrapper_class=wrapper)
    from memtape_env.sb3 import MemTapeVecEnv

    return VecMonitor(MemTapeVecEnv(env_id, num_envs=n_envs, seed=seed, **env_kwargs))


def env_threshold(env_id: str) -> float | None:
    """The registered reward threshold of an env id."""
    import memtape_env  # noqa: F401

    return gym.spec(env_id).reward_threshold


def build_model(hp: Hyperparams, env: VecEnv, seed: int, tensorboard_log: str | None, verbose: int) -> BaseAlgorithm:
    """Instantiate the algorithm with validated hyperparameters."""
    from agents.configs import constructor_hints

    info = ALGORITHMS[hp.algo]
    cls = info.load()
    params = constructor_hints(cls, info.load_config())
    kwargs = dict(hp.kwargs)
    if "tensorboard_log" in params and tensorboard_log is not None:
        kwargs.setdefault("tensorboard_log", tensorboard_log)
    if "seed" in params:
        kwargs["seed"] = seed
    if "verbose" in params:
        kwargs.setdefault("verbose", verbose)
    if "device" in params:
        kwargs.setdefault("device", "auto")
    if hp.algo == "ppo_lstm":  # see agents.extractors: RecurrentPPO cannot size its LSTM otherwise
        from agents.extractors import FlattenExtractor

        kwargs["policy_kwargs"] = {"features_extractor_class": FlattenExtractor, **(kwargs.get("policy_kwargs") or {})}
    return cls(hp.meta.policy or info.default_policy, env, **kwargs)


def train(spec: TrainSpec, out_dir: str | Path, extra_callbacks: list[BaseCallback] | None = None) -> TrainResult:
    """Run one training run into `out_dir` and return what it measured."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(1)
    set_random_seed(spec.seed)
    hp = load_hyperparams(
        spec.algo, spec.env_id, spec.hyperparams, Path(spec.hyperparams_file) if spec.hyperparams_file else None
    )
    timesteps = spec.timesteps or hp.meta.n_timesteps
    threshold = spec.threshold if spec.threshold is not None else env_threshold(spec.env_id)
    env_kwargs = {**hp.meta.env_kwargs, **spec.env_kwargs}
    meta = {"spec": asdict(spec), "algo": hp.algo, "n_envs": hp.meta.n_envs, "env_kwargs": env_kwargs}
    atomic_write_json(out / "run.json", meta)

    env = make_vec_env(hp.algo, spec.env_id, hp.meta.n_envs, spec.seed, env_kwargs, hp.meta.env_wrapper)
    model = build_model(hp, env, spec.seed, str(out / "tb") if spec.tensorboard else None, spec.verbose)
    log = EpisodeLog(threshold, spec.window, spec.stop_at_threshold, spec.wall_time_s)
    callbacks: list[BaseCallback] = [log, AtomicCheckpoint(out / "model.zip", spec.checkpoint_freq)]
    if spec.progress:
        callbacks.append(ProgressBar(timesteps, desc=f"{hp.algo} {spec.env_id} seed {spec.seed}"))
    callbacks.extend(extra_callbacks or [])
    start = time.perf_counter()
    model.learn(total_timesteps=timesteps, callback=CallbackList(callbacks), tb_log_name="run")
    wall = time.perf_counter() - start
    atomic_save_model(model, out / "model.zip")
    log.write_csv(out / "episodes.csv")
    env.close()
    done = int(model.num_timesteps)
    return TrainResult(
        timesteps=done,
        wall_time_s=wall,
        episodes=len(log.rows),
        final_return=log.final_return(),
        threshold=threshold,
        threshold_step=log.threshold_step,
        threshold_time_s=log.threshold_time_s,
        max_curriculum=log.max_curriculum(),
        stopped_by=log.stopped_by,
        us_per_step=1e6 * wall / max(done, 1),
    )


def load_run(run_dir: str | Path, device: str = "auto") -> tuple[BaseAlgorithm, TrainSpec]:
    """Load the model and spec of a run directory written by `train` (or a model.zip inside one).

    The returned spec's `env_kwargs` are the effective ones (hyperparameter file's, then the run's).
    """
    path = Path(run_dir)
    if path.suffix == ".zip":
        path = path.parent
    meta_file = path / "run.json"
    if not meta_file.is_file():
        raise FileNotFoundError(f"{path} is not a run directory (no run.json); train one with `memtape train`")
    meta = json.loads(meta_file.read_text())
    spec = TrainSpec(**{**meta["spec"], "env_kwargs": meta.get("env_kwargs", meta["spec"]["env_kwargs"])})
    cls = ALGORITHMS[canonical_algo(spec.algo)].load()
    model_file = path / "model.zip"
    if not model_file.is_file():
        raise FileNotFoundError(f"{path} has no model.zip (the run did not save a checkpoint yet)")
    return cls.load(model_file, device=device), spec
