"""Typed schemas for the YAML configs: hyperparameters per (algorithm, task) and benchmark suites.

Hyperparameter files follow rl_zoo3's `hyperparams/<algo>.yml` layout (one entry per env id, plus an optional
`default` entry that rl_zoo3 ignores), so `python -m rl_zoo3.train --conf-file configs/hyperparams/ppo.yml` reads
them too. Suites are pure data (tasks, algorithms, seeds, budgets). Every error names the offending key.
"""

from __future__ import annotations

import importlib.resources
import inspect
import math
import sys
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_validator,
)

from agents.harness.registry import ALGORITHMS, SUPERVISED, canonical_algo
from memtape_env.validation import check_number


def packaged_config_root() -> Path:
    """The configs shipped with the package: the `memtape_configs` data package of an installed wheel (the
    top-level `configs/` directory mapped into it), else the `configs/` directory of a source checkout."""
    try:
        root = importlib.resources.files("memtape_configs")
    except ModuleNotFoundError:
        root = None
    if root is not None and Path(str(root)).is_dir():
        return Path(str(root))
    return Path(__file__).resolve().parents[2] / "configs"  # agents/harness/configs.py -> the checkout


CONFIG_ROOT = packaged_config_root()


def config_dirs(kind: str) -> list[Path]:
    """Where configs of `kind` ("hyperparams" or "suites") are looked up, first match wins: the user's own
    `./configs/<kind>` in the working directory, then the packaged ones."""
    return [Path.cwd() / "configs" / kind, CONFIG_ROOT / kind]


# Keys of a hyperparameter entry that configure the run rather than the algorithm constructor (rl_zoo3 names).
META_KEYS = ("n_envs", "n_timesteps", "policy", "env_wrapper", "env_kwargs")


def _whole_float(value: Any) -> Any:
    """rl_zoo3 writes budgets as `!!float 1e5`: a whole float is taken as the int it equals."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


Steps = Annotated[int, BeforeValidator(_whole_float)]
"""A number of env steps; YAML's `2e6` accepted."""


class ConfigError(ValueError):
    """A config file or value is wrong; the message names the key and the file."""


class Strict(BaseModel):
    """Base for every schema: unknown keys are errors, values are not silently coerced across types."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class RunMeta(Strict):
    """The rl_zoo3 keys of a hyperparameter entry that are not constructor arguments."""

    n_envs: int = Field(8, gt=0, description="number of parallel environments")
    n_timesteps: Steps = Field(100_000, gt=0, description="default training budget in env steps")
    policy: str | None = Field(None, description="SB3 policy name; None takes the algorithm's default")
    env_wrapper: str | None = Field(None, description="dotted path of a gymnasium wrapper applied to each env")
    env_kwargs: dict[str, Any] = Field(default_factory=dict, description="env constructor kwargs this entry needs")


class Hyperparams(Strict):
    """One resolved (algorithm, env id) entry: run meta keys plus validated constructor kwargs."""

    algo: str
    env_id: str
    meta: RunMeta
    kwargs: dict[str, Any]


def constructor_hints(cls: type) -> dict[str, Any]:
    """Parameter annotations of `cls.__init__`, with forward references resolved where possible (else Any).

    Every algorithm names and types its hyperparameters in its signature, as SB3's do, so this is what a config
    entry is checked against.
    """
    hints: dict[str, Any] = {}
    sig = inspect.signature(cls.__init__)
    namespace = sys.modules[cls.__init__.__module__].__dict__
    for name, param in sig.parameters.items():
        if name in ("self", "policy", "env", "_init_setup_model"):
            continue
        if param.kind in (param.VAR_KEYWORD, param.VAR_POSITIONAL):
            continue
        annotation = param.annotation
        if isinstance(annotation, str):
            try:
                annotation = eval(annotation, namespace)  # noqa: S307 - annotations of installed SB3 classes
            except Exception:
                annotation = Any
        hints[name] = Any if annotation is inspect.Parameter.empty else annotation
    return hints


def linear_schedule(initial: float) -> typing.Callable[[float], float]:
    """rl_zoo3's `lin_<value>` learning-rate form: decays linearly from `initial` to 0 over training."""

    def schedule(progress_remaining: float) -> float:
        return progress_remaining * initial

    return schedule


def validate_kwargs(algo: str, kwargs: Mapping[str, Any], where: str) -> dict[str, Any]:
    """Check algorithm constructor kwargs by name and annotated type; errors name the key and `where`."""
    info = ALGORITHMS[canonical_algo(algo)]
    hints = constructor_hints(info.load())
    out: dict[str, Any] = {}
    for key, value in kwargs.items():
        if key not in hints:
            known = ", ".join(sorted(list(hints) + list(META_KEYS)))
            raise ConfigError(f"{where}: unknown key {key!r} for algorithm {algo!r} (known keys: {known})")
        if isinstance(value, str) and value.startswith("lin_") and key in ("learning_rate", "clip_range"):
            try:
                out[key] = linear_schedule(float(value[4:]))
            except ValueError as err:
                raise ConfigError(f"{where}: key {key!r}: bad linear schedule {value!r}") from err
            continue
        adapter = TypeAdapter(hints[key], config=ConfigDict(arbitrary_types_allowed=True))
        try:
            out[key] = adapter.validate_python(value)
        except ValidationError as err:
            first = err.errors()[0]["msg"]
            raise ConfigError(f"{where}: key {key!r} has bad value {value!r}: {first}") from err
    if "policy_kwargs" in out and out["policy_kwargs"] is not None and not isinstance(out["policy_kwargs"], dict):
        raise ConfigError(f"{where}: key 'policy_kwargs' must be a mapping")
    check_value_ranges(out, where)
    return out


# Value ranges of hyperparameters, checked when a config is read (SB3 would fail, or silently misbehave, later).
UNIT_INTERVAL_KEYS = (
    "gamma",
    "gae_lambda",
    "tau",
    "exploration_fraction",
    "exploration_initial_eps",
    "exploration_final_eps",
    "online_baseline_decay",
)
POSITIVE_KEYS = (
    "learning_rate",
    "n_steps",
    "batch_size",
    "n_epochs",
    "buffer_size",
    "target_update_interval",
    "max_grad_norm",
    "clip_range",
    "clip_range_vf",
    "batch_episodes",
    "stats_window_size",
)
NON_NEGATIVE_KEYS = ("ent_coef", "vf_coef", "learning_starts", "baseline_coef", "supervised_coef", "target_kl")


def check_value_ranges(kwargs: Mapping[str, Any], where: str) -> None:
    """Range-check validated constructor kwargs; errors name the key. Callables (schedules) are not checked."""
    for key, value in kwargs.items():
        if isinstance(value, bool) or not isinstance(value, int | float):
            continue
        name = f"key {key!r}"
        try:
            check_number(name, value, finite=True)
            if key in UNIT_INTERVAL_KEYS:
                check_number(name, value, 0, 1)
            elif key in POSITIVE_KEYS:
                check_number(name, value, 0, low_open=True)
            elif key in NON_NEGATIVE_KEYS:
                check_number(name, value, 0)
        except ValueError as err:
            raise ConfigError(f"{where}: {err}") from None
    policy_kwargs = kwargs.get("policy_kwargs")
    if isinstance(policy_kwargs, Mapping) and "net_arch" in policy_kwargs:
        check_net_arch(policy_kwargs["net_arch"], f"{where}: key 'policy_kwargs.net_arch'")


def check_net_arch(net_arch: Any, where: str) -> None:
    """SB3's net_arch: a list of positive layer sizes, or a mapping of such lists (pi/vf or pi/qf)."""

    def sizes(value: Any) -> bool:
        return isinstance(value, list) and all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in value)

    if sizes(net_arch):
        return
    if isinstance(net_arch, Mapping) and net_arch and set(net_arch) <= {"pi", "vf", "qf"}:
        if all(sizes(v) for v in net_arch.values()):
            return
    raise ConfigError(
        f"{where} must be a list of positive layer sizes such as [64, 64], or a mapping like "
        f"{{pi: [64], vf: [64]}}; got {net_arch!r}"
    )


def read_yaml(path: Path) -> Any:
    """Load a YAML file, turning a missing file or a syntax error into a ConfigError naming the file."""
    if not path.is_file():
        raise ConfigError(f"config file not found: {path}")
    try:
        return yaml.safe_load(path.read_text())
    except yaml.YAMLError as err:
        raise ConfigError(f"{path}: invalid YAML: {err}") from err


def hyperparams_file(algo: str, root: Path | None = None) -> Path:
    """Where the hyperparameters of `algo` live: `<root>/<algo>.yml`; without `root`, ./configs/hyperparams if it
    has the file, else the packaged configs (a `--conf-file` bypasses this lookup)."""
    name = f"{canonical_algo(algo)}.yml"
    if root is not None:
        return root / name
    dirs = config_dirs("hyperparams")
    return next((d / name for d in dirs if (d / name).is_file()), dirs[-1] / name)


def split_entry(algo: str, env_id: str, entry: Mapping[str, Any], where: str) -> Hyperparams:
    """Split a raw entry into validated run meta keys and constructor kwargs."""
    if not isinstance(entry, Mapping):
        raise ConfigError(f"{where}: entry for {env_id!r} must be a mapping, got {type(entry).__name__}")
    meta_raw = {k: v for k, v in entry.items() if k in META_KEYS}
    try:
        meta = RunMeta(**meta_raw)
    except ValidationError as err:
        raise ConfigError(_pydantic_message(err, where)) from err
    kwargs = validate_kwargs(algo, {k: v for k, v in entry.items() if k not in META_KEYS}, where)
    return Hyperparams(algo=canonical_algo(algo), env_id=env_id, meta=meta, kwargs=kwargs)


def deep_merge(base: Mapping[str, Any], top: Mapping[str, Any]) -> dict[str, Any]:
    """`base` updated by `top`, nested mappings merged key by key (so `policy_kwargs.controller_kwargs.x=1` keeps
    the entry's other controller kwargs); any other value in `top` replaces the one in `base`."""
    out = dict(base)
    for key, value in top.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def with_controller(hyperparams: Mapping[str, Any], controller: str | None) -> dict[str, Any]:
    """Hyperparameter overrides that also ask for a Reinforce controller (`policy_kwargs.controller_class`)."""
    if controller is None:
        return dict(hyperparams)
    return deep_merge(hyperparams, {"policy_kwargs": {"controller_class": controller}})


def _controller_of(entry: Any) -> str | None:
    kwargs = entry.get("policy_kwargs") if isinstance(entry, Mapping) else None
    return kwargs.get("controller_class") if isinstance(kwargs, Mapping) else None


def resolved_entry(
    algo: str,
    env_id: str,
    overrides: Mapping[str, Any] | None = None,
    path: Path | None = None,
    max_length: int | None = None,
) -> dict[str, Any]:
    """The raw hyperparameter entry for (algo, env id): the env's entry or else `default`, updated by `overrides`.

    For Reinforce the entry is a whole agent preset: when `overrides` ask for another controller than the env's
    entry names, the `default` entry is used instead (the preset's controller kwargs belong to its controller),
    and the wiring the controller needs from the env and the policy (`agents.harness.controller_setup`, sized for inputs
    up to `max_length`) goes under the entry's own values.
    """
    algo = canonical_algo(algo)
    path = path or hyperparams_file(algo)
    data = read_yaml(path)
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: top level must be a mapping of env id -> hyperparameters")
    if env_id not in data and "default" not in data:
        raise ConfigError(f"{path}: no entry for {env_id!r} and no 'default' entry")
    entry = data.get(env_id)
    wanted = _controller_of(overrides or {})
    if entry is None or (wanted is not None and _controller_of(entry) not in (None, wanted)):
        entry = data.get("default", entry)
    if not isinstance(entry, dict):
        raise ConfigError(f"{path}: entry for {env_id!r} must be a mapping")
    for key in ("policy_kwargs", "env_kwargs"):
        value = (overrides or {}).get(key)
        if value is not None and not isinstance(value, Mapping):
            raise ConfigError(f"{path} [{env_id}]: key {key!r} must be a mapping, got {value!r}")
    merged = deep_merge(entry, dict(overrides or {}))
    if algo == "reinforce":
        from agents.harness.controller_setup import wire_entry

        try:
            merged = wire_entry(merged, env_id, max_length)
        except ValueError as err:
            raise ConfigError(f"{path} [{env_id}]: {err}") from err
    return merged


def load_hyperparams(
    algo: str,
    env_id: str,
    overrides: Mapping[str, Any] | None = None,
    path: Path | None = None,
    max_length: int | None = None,
) -> Hyperparams:
    """Hyperparameters for (algo, env id): the env's entry or else `default`, updated by `overrides`."""
    path = path or hyperparams_file(algo)
    merged = resolved_entry(algo, env_id, overrides, path, max_length)
    return split_entry(algo, env_id, merged, f"{path} [{env_id}]")


def _pydantic_message(err: ValidationError, where: str) -> str:
    """One line per pydantic error, each naming the dotted key path."""
    lines = []
    for e in err.errors():
        key = ".".join(str(p) for p in e["loc"]) or "<root>"
        got = "" if e["type"] == "missing" else f" (got {e.get('input')!r})"
        lines.append(f"{where}: key {key!r}: {e['msg']}{got}")
    return "\n".join(lines)


# ---------------------------------------------------------------- suites


class TaskEntry(Strict):
    """One task of a suite: an env id, its constructor kwargs and how its result is judged."""

    id: str = Field(description="registered env id, e.g. memtape/Copy-v0")

    @field_validator("threshold")
    @classmethod
    def _finite_threshold(cls, value: float | None) -> float | None:
        if value is not None and not math.isfinite(value):
            raise ValueError("must be a finite number")
        return value

    env_kwargs: dict[str, Any] = Field(default_factory=dict, description="kwargs for the training env")
    threshold: float | None = Field(None, description="mean episode return counted as solved; None: spec's")
    eval_lengths: list[int] = Field(default_factory=list, description="fixed lengths for generalisation eval")
    timesteps: Steps | None = Field(None, gt=0, description="this task's env-step budget; None: the suite's")

    @field_validator("eval_lengths")
    @classmethod
    def _positive(cls, value: list[int]) -> list[int]:
        if any(v <= 0 for v in value):
            raise ValueError("lengths must be positive")
        return sorted(set(value))


class AlgoEntry(Strict):
    """One algorithm of a suite: an SB3 algorithm, overrides on its hyperparameter file, and env kwargs."""

    name: str = Field(description="label in tables and run directories")
    algo: str = Field(description="ppo, a2c, dqn, ppo_lstm (RecurrentPPO), reinforce, or supervised (backprop)")
    hyperparams: dict[str, Any] = Field(default_factory=dict, description="overrides on configs/hyperparams")
    env_kwargs: dict[str, Any] = Field(default_factory=dict, description="extra env kwargs this algorithm needs")
    tasks: list[str] | None = Field(None, description="restrict to these task ids; None runs every task")
    seeds: list[int] | None = Field(None, min_length=1, description="this algorithm's seeds; None: the suite's")
    timesteps: Steps | None = Field(
        None, gt=0, description="cap on this row's env steps per run (an expensive row); None: the task's budget"
    )
    controller: str | None = Field(
        None, description="reinforce and supervised: controller name (reinforce: env wiring added for it)"
    )
    max_length: int | None = Field(
        None, gt=0, description="longest input this algorithm meets: caps eval lengths and sizes the controller"
    )

    def runs_on(self, task_id: str) -> bool:
        """Whether this row has cells on the task (`tasks` restricts it; None runs every task)."""
        return self.tasks is None or task_id in self.tasks

    @field_validator("algo")
    @classmethod
    def _known(cls, value: str) -> str:
        if str(value).lower() == SUPERVISED:
            return SUPERVISED
        return canonical_algo(value)

    @field_validator("name")
    @classmethod
    def _filename_safe(cls, value: str) -> str:
        if not value or any(c in value for c in "/\\ :"):
            raise ValueError("must be non-empty without '/', '\\', ':' or spaces (it names directories)")
        return value


class Budget(Strict):
    """How long each run trains: env steps, with an optional wall-clock cap and early stop at the threshold."""

    timesteps: Steps = Field(gt=0, description="env steps per run")
    wall_time_s: float | None = Field(None, gt=0, description="stop a run after this many seconds")
    stop_at_threshold: bool = Field(
        False,
        description="stop a run once its rolling return reaches the threshold and its curriculum reached its top "
        "(supervised rows: once solved at the top length)",
    )


class EvalSpec(Strict):
    """How runs are scored after training."""

    episodes: int = Field(20, gt=0, description="episodes per evaluated length")
    window: int = Field(100, gt=0, description="episodes in the rolling mean compared with the threshold")
    max_steps_factor: int = Field(20, gt=0, description="guard on eval steps per episode: factor * length + 100")


class Suite(Strict):
    """A benchmark suite: the (algorithm x task x seed) grid, budgets and evaluation."""

    name: str
    description: str = ""
    tasks: list[TaskEntry] = Field(min_length=1)
    algorithms: list[AlgoEntry] = Field(min_length=1)
    seeds: list[int] = Field(min_length=1)
    budget: Budget
    eval: EvalSpec = EvalSpec()

    @field_validator("name")
    @classmethod
    def _safe_name(cls, value: str) -> str:
        return check_path_name(value)

    @model_validator(mode="after")
    def _no_duplicate_cells(self) -> Suite:
        return check_unique_cells(self)

    @model_validator(mode="after")
    def _consistent(self) -> Suite:
        names = [a.name for a in self.algorithms]
        dup = {n for n in names if names.count(n) > 1}
        if dup:
            raise ValueError(f"algorithm names must be unique, repeated: {sorted(dup)}")
        ids = {t.id for t in self.tasks}
        for a in self.algorithms:
            if a.controller is not None and a.algo not in ("reinforce", SUPERVISED):
                raise ValueError(f"algorithm {a.name!r}: 'controller' applies to algo reinforce and supervised only")
            if a.algo == SUPERVISED and a.controller is None:
                raise ValueError(f"algorithm {a.name!r}: algo supervised needs a 'controller'")
            if a.algo == SUPERVISED and a.timesteps is not None:
                raise ValueError(f"algorithm {a.name!r}: a supervised row's budget is hyperparams.steps (updates)")
            for t in a.tasks or []:
                if t not in ids:
                    raise ValueError(f"algorithm {a.name!r} restricts to task {t!r}, which the suite lacks")
        return self


def check_path_name(value: str) -> str:
    """A name that becomes a directory: non-empty, no path separators, no `.`/`..`, no control characters."""
    if not value or value in (".", "..") or any(c in value for c in "/\\\0") or not value.isprintable():
        raise ValueError(f"{value!r} cannot name a directory: use letters, digits, '-', '_' or '.' (not '.' or '..')")
    if value.startswith("."):
        raise ValueError(f"{value!r} cannot name a directory: it must not start with '.'")
    return value


def check_unique_cells(suite: Suite) -> Suite:
    """Two cells of the grid must never share a run directory: seeds and task ids are unique."""
    lists = [("seeds", list(suite.seeds))]
    lists += [(f"algorithms.{i}.seeds", list(a.seeds)) for i, a in enumerate(suite.algorithms) if a.seeds is not None]
    for key, seeds in lists:
        dup_seeds = sorted({s for s in seeds if seeds.count(s) > 1})
        if dup_seeds:
            raise ValueError(f"key {key!r}: repeated seeds {dup_seeds} would run into one directory")
        if any(s < 0 for s in seeds):
            raise ValueError(f"key {key!r}: seeds must be >= 0, got {seeds}")
    ids = [t.id for t in suite.tasks]
    dup_ids = sorted({i for i in ids if ids.count(i) > 1})
    if dup_ids:
        raise ValueError(f"key 'tasks': task ids must be unique (they name run directories), repeated: {dup_ids}")
    return suite


def known_env_ids() -> set[str]:
    """Registered gymnasium ids after importing memtape_env."""
    import gymnasium as gym

    import memtape_env  # noqa: F401 - registers the ids

    return set(gym.registry)


def parse_suite(data: Any, where: str, check: bool = True) -> Suite:
    """Validate raw suite data; with `check`, also env ids and each algorithm's hyperparameters."""
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: a suite must be a mapping, got {type(data).__name__}")
    try:
        suite = Suite(**data)
    except ValidationError as err:
        raise ConfigError(_pydantic_message(err, where)) from err
    if check:
        ids = known_env_ids()
        for i, task in enumerate(suite.tasks):
            if task.id not in ids:
                close = sorted(x for x in ids if x.startswith("memtape/"))
                raise ConfigError(f"{where}: key 'tasks.{i}.id': unknown task {task.id!r} (known: {close})")
        for i, algo in enumerate(suite.algorithms):
            if algo.controller is not None:
                from agents.controllers import CONTROLLERS

                if algo.controller not in CONTROLLERS:
                    raise ConfigError(
                        f"{where}: key 'algorithms.{i}.controller': unknown controller {algo.controller!r} "
                        f"(known: {sorted(CONTROLLERS)})"
                    )
            for task in suite.tasks:
                if not algo.runs_on(task.id):
                    continue
                try:
                    if algo.algo == SUPERVISED:
                        check_supervised(algo.controller or "", algo.hyperparams, task.id)
                    else:
                        load_hyperparams(algo.algo, task.id, with_controller(algo.hyperparams, algo.controller))
                except ConfigError as err:
                    raise ConfigError(f"{where}: key 'algorithms.{i}.hyperparams' ({algo.name}): {err}") from err
    return suite


def check_supervised(controller: str, hyperparams: dict[str, Any], env_id: str) -> None:
    """Raise ConfigError when a supervised row's controller or hyperparameters do not make a valid config."""
    from agents.harness.bench.supervised import supervised_config

    try:
        supervised_config(env_id, controller, hyperparams, seed=0)
    except (ValueError, TypeError, KeyError) as err:
        raise ConfigError(str(err).strip("'\"")) from err


def suite_path(name_or_path: str, search: list[Path] | None = None) -> Path:
    """Resolve a suite argument: an existing file, or a name looked up in ./configs/suites, then the packaged
    suites."""
    given = Path(name_or_path)
    if given.suffix in (".yml", ".yaml") or given.is_file():
        if not given.is_file():
            raise ConfigError(f"suite file not found: {given}")
        return given
    dirs = search or config_dirs("suites")
    for d in dirs:
        for ext in (".yml", ".yaml"):
            if (d / f"{name_or_path}{ext}").is_file():
                return d / f"{name_or_path}{ext}"
    available = sorted({p.stem for d in dirs if d.is_dir() for p in d.glob("*.y*ml")})
    raise ConfigError(f"unknown suite {name_or_path!r} (available: {available})")


def load_suite(name_or_path: str, check: bool = True) -> tuple[Suite, Path]:
    """Read and validate a suite by name or path; returns the suite and the file it came from."""
    path = suite_path(name_or_path)
    return parse_suite(read_yaml(path), str(path), check=check), path
