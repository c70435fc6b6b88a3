"""Train one (algorithm, env id, seed) run: build the vector env and the model, learn, save everything atomically.

A run directory holds `run.json` (what was trained, enough to load it again), `model.zip` (checkpoints and the
final model), `episodes.csv` (every finished training episode) and `tb/` (TensorBoard). Torch uses one thread per
run so that runs in parallel processes neither fight for cores nor lose determinism.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import tempfile
import threading
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import gymnasium as gym
import torch
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.callbacks import BaseCallback, CallbackList
from stable_baselines3.common.utils import set_random_seed
from stable_baselines3.common.vec_env import VecEnv

from agents.harness.atomic import atomic_save_model, atomic_write_json, chmod_as_umask
from agents.harness.callbacks import AtomicCheckpoint, EpisodeLog, ProgressBar, StopOnSignal
from agents.harness.configs import ConfigError, Hyperparams, load_hyperparams, resolved_entry, split_entry
from agents.harness.imports import TRUSTED_PACKAGES, import_object, trusted_module
from agents.harness.registry import ALGORITHMS, canonical_algo
from agents.policies.discrete_actions import DiscreteActions
from memtape_env.validation import check_int, check_number, check_optional_int, check_positive_int


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
    trust_imports: bool = False  # allow import paths and "module:id" env ids outside TRUSTED_PACKAGES
    max_length: int | None = None  # longest input the model meets: sizes Reinforce controllers (None: curriculum's)


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
    top_length: float | None = None  # the curriculum's top level (None: not a memtape env)
    top_step: int | None = None  # first env step at the top level (None: never reached)
    top_time_s: float | None = None


def check_env_id(env_id: str, trusted: bool = False) -> str:
    """Refuse gymnasium's `module:id` form (it imports `module`) unless the module is allowed or `trusted`."""
    if not isinstance(env_id, str) or not env_id:
        raise ConfigError(f"env id must be a non-empty string, got {env_id!r}")
    module, sep, _ = env_id.partition(":")
    if sep and not trusted and not trusted_module(module):
        raise ConfigError(
            f"env id {env_id!r} would import module {module!r}, which is outside the allowed packages "
            f"{list(TRUSTED_PACKAGES)}; pass --trust-imports to allow it"
        )
    return env_id


def make_vec_env(
    algo: str,
    env_id: str,
    n_envs: int,
    seed: int,
    env_kwargs: dict[str, Any],
    env_wrapper: str | None = None,
    trusted: bool = False,
) -> VecEnv:
    """The training VecEnv: the batched MemTapeVecEnv, or SB3's DummyVecEnv when a per-env wrapper is needed."""
    import memtape_env  # noqa: F401 - registers the ids

    check_env_id(env_id, trusted)
    wrapper = import_object(env_wrapper, trusted) if env_wrapper else None
    if wrapper is gym.wrappers.FlattenObservation and env_id.startswith("memtape/"):
        wrapper = None  # SB3 one-hot encodes MultiDiscrete observations in the policy: the same features, batched
    if wrapper is None and ALGORITHMS[canonical_algo(algo)].discrete_actions:
        wrapper = DiscreteActions
    if wrapper is not None or not env_id.startswith("memtape/"):
        from stable_baselines3.common.env_util import make_vec_env as sb3_make_vec_env

        return sb3_make_vec_env(env_id, n_envs=n_envs, seed=seed, env_kwargs=env_kwargs, wrapper_class=wrapper)
    from memtape_env.sb3 import MemTapeVecEnv

    return MemTapeVecEnv(env_id, num_envs=n_envs, seed=seed, **env_kwargs)  # emits Monitor's info['episode']


def check_env_kwargs(env_id: str, env_kwargs: dict[str, Any], where: str = "env_kwargs") -> None:
    """Build one env with `env_kwargs` so that a bad kwarg fails here with its name, not deep inside training."""
    import memtape_env  # noqa: F401

    if not env_id.startswith("memtape/"):
        return
    try:
        env = gym.make(env_id, **env_kwargs)
    except (TypeError, ValueError, KeyError) as err:
        raise ConfigError(f"{where}: {err}") from err
    try:
        machine = env.unwrapped.machine
        if "memory_size" in env_kwargs and not machine.memory:
            raise ConfigError(f"{where}: memory_size needs a memory tape (add memory=True)")
    finally:
        env.close()


def check_spec(spec: TrainSpec) -> None:
    """Range-check the values of a spec (the CLI checks its flags the same way; this covers suites and callers)."""
    try:
        check_optional_int("timesteps", spec.timesteps, 1)
        check_int("seed", spec.seed, 0)
        check_positive_int("window", spec.window)
        check_positive_int("checkpoint_freq", spec.checkpoint_freq)
        if spec.wall_time_s is not None:
            check_number("wall_time_s", spec.wall_time_s, 0, low_open=True, finite=True)
        if spec.threshold is not None:
            check_number("threshold", spec.threshold, finite=True)
    except ValueError as err:
        raise ConfigError(str(err)) from None


def check_run(spec: TrainSpec) -> None:
    """Everything `train` would build, built once and thrown away: hyperparameters, env kwargs, env, model.

    What would fail at run time fails here, so `memtape bench --check` catches it before hours of other runs.
    """
    check_spec(spec)
    check_env_id(spec.env_id, spec.trust_imports)
    path = Path(spec.hyperparams_file) if spec.hyperparams_file else None
    hp = load_hyperparams(spec.algo, spec.env_id, spec.hyperparams, path, spec.max_length)
    env_kwargs = {**hp.meta.env_kwargs, **spec.env_kwargs}
    check_env_kwargs(spec.env_id, env_kwargs)
    try:
        env = make_vec_env(
            hp.algo, spec.env_id, hp.meta.n_envs, spec.seed, env_kwargs, hp.meta.env_wrapper, spec.trust_imports
        )
    except (TypeError, KeyError) as err:
        raise ConfigError(f"cannot build {spec.env_id} with env_kwargs {env_kwargs}: {err}") from err
    try:
        build_model(hp, env, spec.seed, None, 0, device="cpu")
    finally:
        env.close()


def env_threshold(env_id: str) -> float | None:
    """The registered reward threshold of an env id."""
    import memtape_env  # noqa: F401

    return gym.spec(env_id).reward_threshold


def build_model(
    hp: Hyperparams,
    env: VecEnv,
    seed: int,
    tensorboard_log: str | None,
    verbose: int,
    device: str = "auto",
    for_loading: bool = False,
) -> BaseAlgorithm:
    """Instantiate the algorithm with validated hyperparameters (`for_loading`: no replay buffer worth a name)."""
    from agents.harness.configs import constructor_hints

    info = ALGORITHMS[hp.algo]
    cls = info.load()
    params = constructor_hints(cls)
    kwargs = dict(hp.kwargs)
    if "tensorboard_log" in params and tensorboard_log is not None:
        kwargs.setdefault("tensorboard_log", tensorboard_log)
    if "seed" in params:
        kwargs["seed"] = seed
    if "verbose" in params:
        kwargs.setdefault("verbose", verbose)
    if "device" in params:
        kwargs.setdefault("device", device)
    if for_loading and "buffer_size" in params:
        kwargs["buffer_size"] = 1
    if hp.algo == "ppo_lstm":  # see agents.policies.extractors: RecurrentPPO cannot size its LSTM otherwise
        from agents.policies.extractors import FlattenExtractor

        kwargs["policy_kwargs"] = {"features_extractor_class": FlattenExtractor, **(kwargs.get("policy_kwargs") or {})}
    try:
        return cls(hp.meta.policy or info.default_policy, env, **kwargs)
    except (AssertionError, TypeError, ValueError, KeyError, RuntimeError) as err:
        raise ConfigError(f"cannot build {hp.algo} for {hp.env_id} with these hyperparameters: {err}") from err


def check_output_dir(out: Path, force: bool, what: str = "--out") -> None:
    """Refuse a run directory that is a file, sits under a file or an unwritable folder, or holds a finished run
    (unless `force`)."""
    if out.exists() and not out.is_dir():
        raise ConfigError(f"{what}: {out} exists and is not a directory")
    parent = next((p for p in [out, *out.parents] if p.exists()), Path("."))
    if not parent.is_dir():
        raise ConfigError(f"{what}: {parent} is not a directory")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ConfigError(f"{what}: cannot write into {parent}")
    if out.is_dir() and any(out.iterdir()) and not force:
        kind = "a finished run" if (out / "run.json").is_file() else "files"
        raise ConfigError(f"{what}: {out} already holds {kind}; pass --force to replace it, or choose another --out")


@contextmanager
def fresh_run_dir(out: Path, force: bool) -> Iterator[Path]:
    """A temporary sibling directory to write a run into, moved to `out` when the block ends without an error.

    A crash leaves `out` untouched (a finished run stays as it was); with `force` an existing `out` is replaced.
    """
    check_output_dir(out, force)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp"))
    chmod_as_umask(tmp, directory=True)
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = None
    if out.exists():
        old = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.", suffix=".old"))
        os.replace(out, old / "run")
    os.replace(tmp, out)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


@contextmanager
def stop_on_signals(callback: StopOnSignal) -> Iterator[None]:
    """While training, SIGINT and SIGTERM ask `callback` to stop learning so that the run still saves everything.

    Handlers can only be installed from the main thread; elsewhere signals keep their default behaviour.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    for sig in previous:
        signal.signal(sig, lambda signum, _frame: callback.request(signum))
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def train(
    spec: TrainSpec,
    out_dir: str | Path,
    extra_callbacks: list[BaseCallback] | None = None,
    force: bool = False,
) -> TrainResult:
    """Run one training run into `out_dir` and return what it measured.

    Everything is written into a temporary directory that replaces `out_dir` once the model and logs are saved; an
    existing non-empty `out_dir` is refused unless `force`. SIGINT or SIGTERM ends training early with a final save
    (the result's `stopped_by` is then "interrupted").
    """
    out = Path(out_dir)
    check_spec(spec)
    check_env_id(spec.env_id, spec.trust_imports)
    check_output_dir(out, force)
    torch.set_num_threads(1)
    set_random_seed(spec.seed)
    path = Path(spec.hyperparams_file) if spec.hyperparams_file else None
    entry = resolved_entry(spec.algo, spec.env_id, spec.hyperparams, path, spec.max_length)
    hp = split_entry(spec.algo, spec.env_id, entry, f"{path or 'configs/hyperparams'} [{spec.env_id}]")
    timesteps = spec.timesteps or hp.meta.n_timesteps
    threshold = spec.threshold if spec.threshold is not None else env_threshold(spec.env_id)
    env_kwargs = {**hp.meta.env_kwargs, **spec.env_kwargs}
    check_env_kwargs(spec.env_id, env_kwargs)
    meta = {"spec": asdict(spec), "algo": hp.algo, "n_envs": hp.meta.n_envs, "env_kwargs": env_kwargs, "entry": entry}
    with fresh_run_dir(out, force) as tmp:
        env = make_vec_env(
            hp.algo, spec.env_id, hp.meta.n_envs, spec.seed, env_kwargs, hp.meta.env_wrapper, spec.trust_imports
        )
        model = build_model(hp, env, spec.seed, str(tmp / "tb") if spec.tensorboard else None, spec.verbose)
        atomic_write_json(tmp / "run.json", meta)
        log = EpisodeLog(threshold, spec.window, spec.stop_at_threshold, spec.wall_time_s)
        stop = StopOnSignal(log)
        callbacks: list[BaseCallback] = [log, stop, AtomicCheckpoint(tmp / "model.zip", spec.checkpoint_freq)]
        if spec.progress:
            callbacks.append(ProgressBar(timesteps, desc=f"{hp.algo} {spec.env_id} seed {spec.seed}"))
        callbacks.extend(extra_callbacks or [])
        start = time.perf_counter()
        with stop_on_signals(stop):
            model.learn(total_timesteps=timesteps, callback=CallbackList(callbacks), tb_log_name="run")
            wall = time.perf_counter() - start
            atomic_save_model(model, tmp / "model.zip")
            log.write_csv(tmp / "episodes.csv")
            log.write_monitor_csv(tmp / "monitor.csv", spec.env_id)
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
        top_length=log.top,
        top_step=log.top_step,
        top_time_s=log.top_time_s,
    )


def load_run(
    run_dir: str | Path, device: str = "auto", trust_pickle: bool = False, trust_imports: bool = False
) -> tuple[BaseAlgorithm, TrainSpec]:
    """Load the model and spec of a run directory written by `train` (or a model.zip inside one).

    By default nothing is unpickled: the model is rebuilt from run.json (its validated hyperparameters) and only
    the weights are read from model.zip (`torch.load(weights_only=True)`), after the spaces saved in the zip are
    checked against the rebuilt env's. `trust_pickle` loads the zip with SB3's `load` instead, which unpickles
    its `:serialized:` fields and so runs whatever code they name: only for files you trust. The returned spec's
    `env_kwargs` are the effective ones (hyperparameter file's, then the run's).
    """
    path = Path(run_dir)
    if path.suffix == ".zip":
        path = path.parent
    meta_file = path / "run.json"
    if not meta_file.is_file():
        raise FileNotFoundError(f"{path} is not a run directory (no run.json); train one with `memtape train`")
    try:
        meta = json.loads(meta_file.read_text())
        fields = {k: v for k, v in meta["spec"].items() if k in TrainSpec.__dataclass_fields__}
        spec = TrainSpec(**{**fields, "env_kwargs": meta.get("env_kwargs", meta["spec"]["env_kwargs"])})
    except (json.JSONDecodeError, KeyError, TypeError, AttributeError) as err:
        raise ConfigError(f"{meta_file}: not a run.json written by memtape train ({err})") from err
    spec.trust_imports = trust_imports  # never taken from the file
    for name, kind in (("algo", str), ("env_id", str), ("seed", int), ("env_kwargs", dict), ("hyperparams", dict)):
        if not isinstance(getattr(spec, name), kind):
            raise ConfigError(f"{meta_file}: {name} must be a {kind.__name__}, got {getattr(spec, name)!r}")
    algo = canonical_algo(spec.algo)
    check_env_id(spec.env_id, trust_imports)
    import memtape_env  # noqa: F401 - registers the ids

    if spec.env_id not in gym.registry and ":" not in spec.env_id:
        raise ConfigError(f"{meta_file}: unknown env id {spec.env_id!r}")
    check_env_kwargs(spec.env_id, spec.env_kwargs, f"{meta_file}: env_kwargs")
    model_file = path / "model.zip"
    if not model_file.is_file():
        raise FileNotFoundError(f"{path} has no model.zip (the run did not save a checkpoint yet)")
    if trust_pickle:
        model = ALGORITHMS[algo].load().load(model_file, device=device)
        env = _saved_spaces_env(spec, meta, trust_imports)
        try:
            check_spaces(model, env, f"{model_file}")
        finally:
            env.close()
        return model, spec
    entry = meta.get("entry")
    if isinstance(entry, dict):
        hp = split_entry(algo, spec.env_id, entry, f"{meta_file} [entry]")
    else:  # runs written before run.json held the resolved entry
        hp = load_hyperparams(algo, spec.env_id, spec.hyperparams)
    env = make_vec_env(algo, spec.env_id, 1, spec.seed, spec.env_kwargs, hp.meta.env_wrapper, trust_imports)
    try:
        saved = _saved_space_fields(model_file)
        for name in ("observation_space", "action_space"):
            _compare_space(saved.get(name), getattr(env, name), f"{model_file}: {name}", spec.env_id)
        model = build_model(hp, env, spec.seed, None, 0, device=device, for_loading=True)
        for name in COUNTERS:
            if isinstance(saved.get(name), int) and hasattr(model, name):
                setattr(model, name, saved[name])
        try:
            model.set_parameters(str(model_file), exact_match=True, device=device)
        except (RuntimeError, ValueError, KeyError) as err:
            raise ConfigError(f"{model_file}: weights do not fit the model run.json describes: {err}") from err
    finally:
        env.close()
    return model, spec


def _saved_space_fields(model_file: Path) -> dict[str, Any]:
    """The readable fields SB3 writes next to each pickled space in the zip's `data` (nothing is unpickled)."""
    try:
        with zipfile.ZipFile(model_file) as archive:
            data = json.loads(archive.read("data").decode())
    except (zipfile.BadZipFile, KeyError, OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ConfigError(f"{model_file}: not an SB3 model file ({err})") from err
    if not isinstance(data, dict):
        raise ConfigError(f"{model_file}: not an SB3 model file (data is not a mapping)")
    return {k: data.get(k) for k in ("observation_space", "action_space", *COUNTERS)}


COUNTERS = ("num_timesteps", "_total_timesteps", "_n_updates", "_episode_num")  # plain JSON numbers in the zip


def _compare_space(saved: Any, space: gym.Space, where: str, env_id: str) -> None:
    """Raise when the saved space's type, nvec or n differs from `space` (the env the model is used on)."""
    if not isinstance(saved, dict):
        raise ConfigError(f"{where} missing from the model file")
    expected_type = str(type(space))
    if saved.get(":type:") != expected_type:
        raise ConfigError(f"{where}: the model was trained on {saved.get(':type:')}, {env_id} has {expected_type}")
    for attr in ("nvec", "n"):
        if attr in saved and hasattr(space, attr) and str(saved[attr]) != str(getattr(space, attr)):
            raise ConfigError(
                f"{where}: the model was trained on {attr}={saved[attr]}, {env_id} has {getattr(space, attr)} "
                "(was it trained on another env?)"
            )


def check_spaces(model: BaseAlgorithm, env: Any, where: str) -> None:
    """A model's action space must equal the env's, and its observation shape must match."""
    if model.action_space != env.action_space:
        raise ConfigError(f"{where}: model action space {model.action_space} != env action space {env.action_space}")
    if model.observation_space.shape != env.observation_space.shape:
        raise ConfigError(
            f"{where}: model observations {model.observation_space} do not fit the env's {env.observation_space}"
        )


def _saved_spaces_env(spec: TrainSpec, meta: dict[str, Any], trusted: bool) -> VecEnv:
    """A one-env VecEnv of the run's env id and kwargs, to check a (trusted) loaded model against."""
    algo = canonical_algo(spec.algo)
    entry = meta.get("entry")
    hp = split_entry(algo, spec.env_id, entry, "run.json [entry]") if isinstance(entry, dict) else None
    wrapper = hp.meta.env_wrapper if hp else None
    return make_vec_env(algo, spec.env_id, 1, spec.seed, spec.env_kwargs, wrapper, trusted)
