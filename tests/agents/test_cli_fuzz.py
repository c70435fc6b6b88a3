"""Fuzzing the command line and suite files: every input ends in success or in one `memtape <cmd>: error:` line
with exit code 2, never a traceback. Training itself is replaced by the checks `train` makes before it learns
(hyperparameters, env kwargs, env and model construction, output folder), so no example trains."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agents.harness.cli import main

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
COPY = "memtape/ClassicCopy-v0"

small_values = st.sampled_from(
    ["0", "-1", "1", "2", "8", "32", "0.5", "5", "nan", "inf", "-inf", "1e-3", "x", "", "big", "[64, 64]", "[]"]
    + ["{pi: [8], vf: [8]}", "[0]", "lin_0.1", "lin_x", "true", "null", "builtins.print", "{a: 1}", "'3'"]
)
param_keys = st.sampled_from(
    ["gamma", "n_steps", "batch_size", "n_envs", "learning_rate", "policy_kwargs.net_arch", "env_wrapper", "n_epochs"]
    + ["foo", "ent_coef", "clip_range", "gae_lambda", "max_grad_norm", "policy", "n_timesteps", "env_kwargs.length"]
)
env_keys = st.sampled_from(["length", "memory", "memory_size", "curriculum", "foo", "max_length", "observe_heads"])


def mostly(valid: list[str]) -> st.SearchStrategy[str]:
    """A valid value three times in four, else anything from `small_values`."""
    good = st.sampled_from(valid)
    return st.one_of(good, good, good, small_values)


PARAM_VALUES = {
    "gamma": ["0.9", "1"],
    "n_steps": ["8", "16"],
    "batch_size": ["8", "16"],
    "n_envs": ["1", "2"],
    "learning_rate": ["1e-3", "lin_1e-3"],
    "policy_kwargs.net_arch": ["[8]", "{pi: [8], vf: [8]}"],
    "n_epochs": ["1"],
    "ent_coef": ["0.01"],
    "gae_lambda": ["0.9"],
    "max_grad_norm": ["0.5"],
    "clip_range": ["0.2"],
}
ENV_VALUES = {"length": ["3"], "memory": ["true"], "memory_size": ["4"], "curriculum": ["none", "classic"]}


def pairs(table: dict[str, list[str]], extra: list[str]) -> st.SearchStrategy[list[str]]:
    keys = st.sampled_from(sorted(table) + extra)
    pair = keys.flatmap(lambda k: mostly(table.get(k, ["1"])).map(lambda v: f"{k}={v}"))
    return st.lists(pair, min_size=1, max_size=3)


def assignments(keys: st.SearchStrategy[str]) -> st.SearchStrategy[list[str]]:
    return st.lists(st.tuples(keys, small_values).map(lambda kv: f"{kv[0]}={kv[1]}"), min_size=1, max_size=3)


def fake_train(spec: Any, out: Any, extra_callbacks: Any = None, force: bool = False) -> Any:
    """What `train` checks before it learns, then an empty result."""
    from agents.harness.train import TrainResult, check_env_id, check_output_dir, check_run, check_spec

    check_spec(spec)
    check_env_id(spec.env_id, spec.trust_imports)
    check_output_dir(Path(out), force)
    check_run(spec)
    return TrainResult(0, 0.0, 0, None, None, None, None, None, "budget", 0.0)


@st.composite
def train_argv(draw: st.DrawFn, tmp: Path) -> list[str]:
    argv = ["train"]
    if draw(st.integers(0, 9)) > 0:
        argv += ["--algo", draw(st.sampled_from(["ppo", "ppo", "a2c", "reinforce", "ppo_lstm", "sac", "PPO", ""]))]
    if draw(st.integers(0, 9)) > 0:
        argv += ["--env", draw(st.sampled_from([COPY, COPY, "memtape/Copy-v0", "this:Copy-v0", "memtape/No-v0", ""]))]
    flags = {
        "--timesteps": mostly(["64", "1000"]),
        "--seed": mostly(["0", "3"]),
        "--n-envs": mostly(["1", "2"]),
        "--threshold": mostly(["1", "-2.5"]),
        "--wall-time": mostly(["1", "0.5"]),
        "--max-length": mostly(["5", "10"]),
        "--checkpoint-freq": mostly(["100"]),
        "--controller": st.sampled_from(["lstm", "mlp", "ntm", ""]),
    }
    for flag, values in flags.items():
        if draw(st.integers(0, 5)) == 0:
            argv += [flag, draw(values)]
    if draw(st.booleans()):
        argv += ["-params", *draw(pairs(PARAM_VALUES, ["foo", "env_wrapper", "policy", "n_timesteps"]))]
    if draw(st.booleans()):
        argv += ["--env-kwargs", *draw(pairs(ENV_VALUES, ["foo", "max_length", "observe_heads"]))]
    out = draw(st.sampled_from(["new", "new", "new", "file", "file/sub", "existing"]))
    argv += ["--out", str(tmp / out), "--no-progress"]
    if draw(st.booleans()):
        argv.append("--force")
    return argv


def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    try:
        code = main(argv)
    except SystemExit as exit_:  # argparse's own errors
        code = exit_.code
    return code, capsys.readouterr().err


def check_outcome(command: str, code: int, err: str) -> None:
    assert "Traceback" not in err, err
    assert code == 0 or (code == 2 and f"memtape {command}: error:" in err), (code, err)


@pytest.fixture
def tmp_dirs(tmp_path: Path) -> Path:
    (tmp_path / "file").write_text("")
    (tmp_path / "existing").mkdir()
    (tmp_path / "existing" / "run.json").write_text("{}")
    return tmp_path


@SETTINGS
@given(data=st.data())
def test_train_arguments(data: st.DataObject, tmp_dirs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = data.draw(train_argv(tmp_dirs))
    with (
        mock.patch("agents.harness.train.train", fake_train),
        mock.patch("agents.harness.cli._evaluate_and_print", return_value=0),
    ):
        code, err = run_cli(argv, capsys)
    check_outcome("train", code, err)


BASE_SUITE: dict[str, Any] = {
    "name": "fuzz",
    "tasks": [{"id": COPY, "eval_lengths": [2]}],
    "algorithms": [{"name": "ppo", "algo": "ppo", "hyperparams": {"n_envs": 2, "n_steps": 16, "batch_size": 16}}],
    "seeds": [0],
    "budget": {"timesteps": 64},
    "eval": {"episodes": 2, "window": 5},
}
SUITE_CHANGES: dict[str, list[Any]] = {
    "name": ["..", ".", "a/b", "", "ok", 5, None, ".hidden", "a\x00b"],
    "seeds": [[0, 0], [-1], [], "x", [0, 1], [1.5], None],
    "tasks": [
        [],
        [{"id": "this:Copy-v0"}],
        [{"id": COPY, "env_kwargs": {"foo": 1}}],
        [{"id": COPY, "env_kwargs": {"length": 0, "curriculum": "none"}}],
        [{"id": COPY, "env_kwargs": {"memory_size": 4}}],
        [{"id": COPY}, {"id": COPY, "env_kwargs": {"length": 3}}],
        [{"id": COPY, "threshold": math.nan}],
        [{"id": COPY, "eval_lengths": [0]}],
        [{"id": "memtape/Copy-v0", "eval_lengths": [3]}],
        "x",
    ],
    "algorithms": [
        [],
        [{"name": "..", "algo": "ppo"}],
        [{"name": "p", "algo": "sac"}],
        [{"name": "p", "algo": "ppo", "hyperparams": {"gamma": 5}}],
        [{"name": "p", "algo": "ppo", "hyperparams": {"n_steps": 0}}],
        [{"name": "p", "algo": "ppo", "hyperparams": {"policy_kwargs": {"net_arch": "big"}}}],
        [{"name": "p", "algo": "ppo", "hyperparams": {"env_wrapper": "builtins.print"}}],
        [{"name": "p", "algo": "ppo", "hyperparams": {"n_envs": 1, "n_steps": 1}}],
        [{"name": "p", "algo": "reinforce", "controller": "nope"}],
        [{"name": "p", "algo": "a2c", "hyperparams": {"n_envs": 2, "n_steps": 4}}],
        [{"name": "p", "algo": "ppo"}, {"name": "p", "algo": "a2c"}],
    ],
    "budget": [{"timesteps": 0}, {"timesteps": -5}, {"timesteps": 64, "wall_time_s": -1}, {"timesteps": 1e20}, "x"],
    "eval": [{"episodes": 0}, {"window": -1}, {"max_steps_factor": 0}, {"episodes": "x"}],
    "extra": [1],
}


@SETTINGS
@given(
    changes=st.dictionaries(st.sampled_from(sorted(SUITE_CHANGES)), st.integers(0, 20), max_size=3),
    text=st.one_of(st.none(), st.text(max_size=40)),
)
def test_suite_files(changes: dict[str, int], text: str | None, tmp_path: Path, capsys) -> None:
    suite = dict(BASE_SUITE)
    for key, index in changes.items():
        options = SUITE_CHANGES[key]
        suite[key] = options[index % len(options)]
    path = tmp_path / "suite.yml"
    path.write_text(text if text is not None else yaml.safe_dump(suite))
    code, err = run_cli(["bench", str(path), "--check"], capsys)
    check_outcome("bench", code, err)
