"""Faults and hostile input: crafted model files, import paths, run directories, signals, bad values, umask."""

from __future__ import annotations

import base64
import json
import os
import pickle
import shutil
import stat
import sys
import zipfile
from pathlib import Path

import pytest
import yaml

from agents.harness.cli import main
from tests.conftest import ALL_IDS

COPY = "memtape/ClassicCopy-v0"
TINY_PPO = ["n_envs=2", "n_steps=32", "batch_size=32", "n_epochs=1"]


def train_argv(out: Path, *extra: str) -> list[str]:
    return [
        "train",
        "--algo",
        "ppo",
        "--env",
        "memtape/ClassicCopy-v0",
        "--timesteps",
        "64",
        "-params",
        *TINY_PPO,
        "--out",
        str(out),
        "--no-progress",
        *extra,
    ]


@pytest.fixture(scope="module")
def ppo_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("faults") / "ppo"
    assert main(train_argv(out)) == 0
    return out


def copy_run(run: Path, dest: Path) -> Path:
    shutil.copytree(run, dest)
    return dest


# ---------------------------------------------------------------- loading runs nothing


class WritesFile:
    """Unpickling this object creates `path` (what a hostile `:serialized:` field could do)."""

    def __init__(self, path: Path) -> None:
        self.path = str(path)

    def __reduce__(self):  # noqa: ANN204
        return (open, (self.path, "w"))


def craft_model(run: Path, marker: Path) -> None:
    """Put a file-creating pickle into every `:serialized:` field of the run's model.zip."""
    zpath = run / "model.zip"
    with zipfile.ZipFile(zpath) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    data = json.loads(members["data"])
    payload = base64.b64encode(pickle.dumps(WritesFile(marker))).decode()
    for value in data.values():
        if isinstance(value, dict) and ":serialized:" in value:
            value[":serialized:"] = payload
    members["data"] = json.dumps(data).encode()
    with zipfile.ZipFile(zpath, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)


def test_crafted_model_zip_runs_nothing(ppo_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = copy_run(ppo_run, tmp_path / "run")
    marker = tmp_path / "pwned"
    craft_model(run, marker)
    assert main(["eval", str(run), "--lengths", "2", "--episodes", "2"]) == 0
    assert main(["play", str(run), "--length", "2"]) == 0
    assert not marker.exists(), "loading a run unpickled a field of model.zip"
    capsys.readouterr()

    # The opt-in pickle loader does run it: proof that the file is hostile and the flag means what it says.
    from agents.harness.train import load_run

    with pytest.raises(Exception):  # noqa: B017 - SB3 fails on the junk objects after unpickling them
        load_run(run, trust_pickle=True)
    assert marker.exists()


def test_model_from_another_env_is_detected(ppo_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = copy_run(ppo_run, tmp_path / "run")
    meta = json.loads((run / "run.json").read_text())
    meta["spec"]["env_id"] = "memtape/ClassicReverse-v0"  # 2 symbols, not ClassicCopy's 5
    (run / "run.json").write_text(json.dumps(meta))
    assert main(["eval", str(run), "--lengths", "2"]) == 2
    err = capsys.readouterr().err
    assert "memtape eval: error:" in err and "observation_space" in err and "memtape/ClassicReverse-v0" in err


def test_trusted_pickle_load_still_works(ppo_run: Path) -> None:
    from agents.harness.train import load_run

    model, spec = load_run(ppo_run, trust_pickle=True)
    safe, _ = load_run(ppo_run)
    assert spec.env_id == "memtape/ClassicCopy-v0"
    for key, value in model.policy.state_dict().items():
        assert (safe.policy.state_dict()[key] == value).all()


# ---------------------------------------------------------------- import paths


def test_config_import_paths_are_allow_listed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = train_argv(tmp_path / "run", "-params", "env_wrapper=builtins.print")
    assert main(argv) == 2
    assert "outside the allowed packages" in capsys.readouterr().err
    assert not (tmp_path / "run").exists() and not list(tmp_path.iterdir())


def test_module_env_ids_are_refused(ppo_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sys.modules.pop("this", None)
    run = copy_run(ppo_run, tmp_path / "run")
    meta = json.loads((run / "run.json").read_text())
    meta["spec"]["env_id"] = "this:Copy-v0"
    (run / "run.json").write_text(json.dumps(meta))
    assert main(["eval", str(run)]) == 2
    assert "would import module 'this'" in capsys.readouterr().err
    assert "this" not in sys.modules


# ---------------------------------------------------------------- run directories


def test_train_refuses_to_overwrite_a_finished_run(ppo_run: Path, tmp_path: Path, capsys) -> None:
    run = copy_run(ppo_run, tmp_path / "run")
    before = {p.name: p.read_bytes() for p in run.iterdir() if p.is_file()}
    assert main(train_argv(run)) == 2
    assert "--force" in capsys.readouterr().err
    assert {p.name: p.read_bytes() for p in run.iterdir() if p.is_file()} == before


def test_failed_forced_train_leaves_the_old_run(
    ppo_run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    import agents.harness.train

    run = copy_run(ppo_run, tmp_path / "run")
    before = {p.name: p.read_bytes() for p in run.iterdir() if p.is_file()}

    def broken(*args, **kwargs):
        raise ValueError("model construction failed")

    monkeypatch.setattr(agents.harness.train, "build_model", broken)
    assert main([*train_argv(run, "--force"), "--seed", "3"]) == 2
    assert "model construction failed" in capsys.readouterr().err
    assert {p.name: p.read_bytes() for p in run.iterdir() if p.is_file()} == before
    assert [p.name for p in tmp_path.iterdir()] == ["run"], "a temporary run directory was left behind"


def test_forced_train_replaces_the_run(ppo_run: Path, tmp_path: Path) -> None:
    run = copy_run(ppo_run, tmp_path / "run")
    assert main([*train_argv(run, "--force"), "--seed", "4"]) == 0
    assert json.loads((run / "run.json").read_text())["spec"]["seed"] == 4
    assert [p.name for p in tmp_path.iterdir()] == ["run"]


def test_output_files_follow_the_umask(tmp_path: Path) -> None:
    from agents.harness.atomic import atomic_write_json

    old = os.umask(0o022)
    try:
        path = atomic_write_json(tmp_path / "x.json", {"a": 1})
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


def test_run_directories_follow_the_umask(ppo_run: Path) -> None:
    assert stat.S_IMODE(ppo_run.stat().st_mode) & 0o055 == 0o055 & ~_umask()
    assert stat.S_IMODE((ppo_run / "model.zip").stat().st_mode) == 0o666 & ~_umask()


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


# ---------------------------------------------------------------- suites


def suite_file(tmp_path: Path, **changes) -> Path:
    data = {
        "name": "tiny",
        "tasks": [{"id": "memtape/ClassicCopy-v0", "eval_lengths": [2]}],
        "algorithms": [{"name": "ppo", "algo": "ppo", "hyperparams": {"n_envs": 2, "n_steps": 32, "batch_size": 32}}],
        "seeds": [0],
        "budget": {"timesteps": 64},
        "eval": {"episodes": 2, "window": 5},
    }
    data.update(changes)
    path = tmp_path / "suite.yml"
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"name": ".."}, "cannot name a directory"),
        ({"name": "a/b"}, "cannot name a directory"),
        ({"seeds": [0, 0]}, "repeated seeds [0]"),
        ({"seeds": [-1]}, "seeds must be >= 0"),
        (
            {"tasks": [{"id": COPY}, {"id": COPY, "env_kwargs": {"length": 3}}]},
            "task ids must be unique",
        ),
        ({"tasks": [{"id": "memtape/ClassicCopy-v0", "env_kwargs": {"foo": 1}}]}, "foo"),
        ({"tasks": [{"id": "memtape/ClassicCopy-v0", "threshold": float("nan")}]}, "finite"),
        (
            {"algorithms": [{"name": "p", "algo": "ppo", "hyperparams": {"env_wrapper": "builtins.print"}}]},
            "outside the allowed packages",
        ),
        ({"algorithms": [{"name": "p", "algo": "ppo", "hyperparams": {"gamma": 5}}]}, "key 'gamma' must be in [0, 1]"),
        (
            {"algorithms": [{"name": "p", "algo": "ppo", "hyperparams": {"n_envs": 1, "n_steps": 1}}]},
            "cannot build ppo",
        ),
    ],
)
def test_bench_check_rejects_what_would_fail(tmp_path: Path, changes: dict, message: str, capsys) -> None:
    assert main(["bench", str(suite_file(tmp_path, **changes)), "--check"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("memtape bench: error:") and message in err, err


def test_fresh_refuses_a_folder_a_bench_did_not_write(tmp_path: Path, capsys) -> None:
    (tmp_path / "precious.txt").write_text("keep me")
    assert main(["bench", str(suite_file(tmp_path)), "--out", str(tmp_path), "--fresh", "--no-progress"]) == 2
    assert "refusing to delete" in capsys.readouterr().err
    assert (tmp_path / "precious.txt").read_text() == "keep me"


# ---------------------------------------------------------------- values


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--timesteps", "0"], "argument --timesteps: must be a positive integer"),
        (["--timesteps", "-5"], "argument --timesteps: must be a positive integer"),
        (["--wall-time", "-1"], "argument --wall-time: must be a positive number"),
        (["--threshold", "nan"], "argument --threshold: must be a finite number"),
        (["--seed", "-1"], "argument --seed: must be an integer >= 0"),
        (["-params", "gamma=5"], "key 'gamma' must be in [0, 1]"),
        (["-params", "n_steps=0"], "key 'n_steps' must be a positive number"),
        (["-params", "policy_kwargs.net_arch=big"], "key 'policy_kwargs.net_arch'"),
        (["-params", "learning_rate=nan"], "key 'learning_rate' must be a finite number"),
        (["--env-kwargs", "foo=1"], "foo"),
        (["--env-kwargs", "memory_size=5"], "memory_size needs a memory tape"),
    ],
)
def test_bad_values_fail_with_the_key(tmp_path: Path, extra: list[str], message: str, capsys) -> None:
    try:
        code = main([*train_argv(tmp_path / "run"), *extra])
    except SystemExit as exit_:  # argparse's own errors
        code = exit_.code
    assert code == 2
    err = capsys.readouterr().err
    assert "memtape train: error:" in err and message in err, err
    assert not (tmp_path / "run").exists()


def test_out_on_a_file_fails_cleanly(tmp_path: Path, capsys) -> None:
    (tmp_path / "file").write_text("")
    for out in (tmp_path / "file", tmp_path / "file" / "run"):
        assert main(train_argv(out)) == 2
        assert "is not a directory" in capsys.readouterr().err


def test_eval_fails_when_every_length_fails(ppo_run: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    import agents.harness.evaluate

    def failing(*args, **kwargs):
        raise ValueError("too wide")

    monkeypatch.setattr(agents.harness.evaluate, "evaluate_length", failing)
    assert main(["eval", str(ppo_run), "--lengths", "2", "3"]) == 1
    assert "every length failed" in capsys.readouterr().err


@pytest.mark.parametrize("fails_in", ["wrapper", "policy"])
def test_evaluation_closes_its_env_whatever_raises(ppo_run: Path, monkeypatch: pytest.MonkeyPatch, fails_in) -> None:
    import agents.harness.train
    from agents.harness.evaluate import evaluate_episodes
    from agents.harness.train import load_run

    model, spec = load_run(ppo_run)
    made = []
    real = agents.harness.train.make_vec_env

    closed = []

    def recording(*args, **kwargs):
        env = real(*args, **kwargs)
        close = env.close
        env.close = lambda: (closed.append(env), close())
        made.append(env)
        return env

    def broken(*args, **kwargs):
        raise RuntimeError("broken")

    monkeypatch.setattr(agents.harness.train, "make_vec_env", recording)
    if fails_in == "policy":
        monkeypatch.setattr(model, "predict", broken)
    wrapper = broken if fails_in == "wrapper" else None
    with pytest.raises(RuntimeError, match="broken"):
        evaluate_episodes(model, spec.algo, spec.env_id, spec.env_kwargs, 3, 2, vec_wrapper=wrapper)
    assert len(made) == 1 and closed == made


# ---------------------------------------------------------------- env cost


@pytest.mark.parametrize("task_id", ALL_IDS)
def test_width_bound_comes_from_the_task_definition(task_id: str) -> None:
    """The bound is exact where sampled inputs reach it, and costs nothing at a billion symbols."""
    import numpy as np

    from agents.harness.controller_setup import task_name
    from memtape_env.machine import _width_bound
    from memtape_env.tasks import get_task

    task = get_task(task_name(task_id))
    assert task.input_width is not None
    assert _width_bound(task, 10**9) >= 10**9
    rng = np.random.default_rng(0)
    lo = task.curriculum.min_length
    for length in range(lo, lo + 12):
        widest = max(task.generate(rng, 64, k)[0].shape[2] for k in range(lo, length + 1))
        extreme = task.build(np.full((1, task.n_uniform(length)), 0.999), np.array([length]))[0].shape[2]
        assert _width_bound(task, length) == max(widest, extreme)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda m: m.update(env_kwargs="x"), "env_kwargs must be a dict"),
        (lambda m: m.update(env_kwargs={"foo": 1}), "foo"),
        (lambda m: m["spec"].update(seed="a"), "seed must be a int"),
        (lambda m: m.pop("spec"), "not a run.json written by memtape train"),
        (lambda m: m["entry"].update(env_wrapper="builtins.print"), "outside the allowed packages"),
        (lambda m: m["entry"].update(gamma=7), "key 'gamma' must be in [0, 1]"),
    ],
)
def test_hostile_run_json_fails_cleanly(ppo_run: Path, tmp_path: Path, edit, message: str, capsys) -> None:
    run = copy_run(ppo_run, tmp_path / "run")
    meta = json.loads((run / "run.json").read_text())
    edit(meta)
    (run / "run.json").write_text(json.dumps(meta))
    assert main(["eval", str(run), "--lengths", "2"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("memtape eval: error:") and message in err, err
