"""The `memtape` command line: train, eval, play (ansi and video), bench --check, list, and clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agents.harness.cli import main, parse_assignments


@pytest.fixture(scope="module")
def ppo_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("cli") / "ppo"
    code = main(
        [
            "train",
            "--algo",
            "ppo",
            "--env",
            "memtape/ClassicCopy-v0",
            "--timesteps",
            "64",
            "-params",
            "n_envs=2",
            "n_steps=32",
            "batch_size=32",
            "--out",
            str(out),
            "--no-progress",
        ]
    )
    assert code == 0
    return out


def test_parse_assignments() -> None:
    parsed = parse_assignments(["a=1", "b=3e-4", "c.d=[1, 2]", "e=true", "f=lstm"], "x")
    assert parsed == {"a": 1, "b": 3e-4, "c": {"d": [1, 2]}, "e": True, "f": "lstm"}
    with pytest.raises(ValueError, match="expected key=value, got 'nokey'"):
        parse_assignments(["nokey"], "x")


def test_train_writes_a_loadable_run(ppo_run: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert {"model.zip", "run.json", "episodes.csv", "tb"} <= {p.name for p in ppo_run.iterdir()}
    meta = json.loads((ppo_run / "run.json").read_text())
    assert meta["algo"] == "ppo" and meta["spec"]["env_id"] == "memtape/ClassicCopy-v0"


def test_eval_prints_lengths(ppo_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(["eval", str(ppo_run), "--lengths", "3", "30", "--episodes", "2", "--json", str(tmp_path / "e.json")]) == 0
    )
    out = capsys.readouterr().out
    assert "| 3 |" in out and "| 30 |" in out and "longest length solved with zero errors" in out
    rows = json.loads((tmp_path / "e.json").read_text())
    assert [r["length"] for r in rows] == [3, 30]


def test_play_trained_and_scripted(ppo_run: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["play", str(ppo_run), "--length", "3"]) == 0
    assert "episode 0: return" in capsys.readouterr().out
    assert main(["play", "--env", "memtape/Copy-v0", "--agent", "copy", "--length", "4", "--episodes", "2"]) == 0
    out = capsys.readouterr().out
    assert out.count("(solved)") == 2 and "target" in out


def test_play_records_video(tmp_path: Path) -> None:
    pytest.importorskip("moviepy")
    videos = tmp_path / "videos"
    assert main(["play", "--env", "memtape/ClassicCopy-v0", "--length", "3", "--video", str(videos)]) == 0
    assert list(videos.glob("*.mp4"))


def test_train_reinforce_with_a_controller(tmp_path: Path) -> None:
    out = tmp_path / "tape"
    args = ["train", "--algo", "reinforce", "--controller", "rlntm", "--env", "memtape/Copy-v0"]
    args += ["--timesteps", "32", "-params", "n_envs=2", "batch_episodes=2", "--out", str(out), "--no-progress"]
    assert main(args) == 0
    meta = json.loads((out / "run.json").read_text())
    assert meta["env_kwargs"]["observe_heads"] is True and meta["env_kwargs"]["memory"] is True
    assert meta["spec"]["hyperparams"]["policy_kwargs"]["controller_class"] == "rlntm"


def test_bench_check_and_list(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "quick", "--check"]) == 0
    assert "config OK" in capsys.readouterr().out
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "memtape/Copy-v0" in out and "reinforce" in out and "quick" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["train", "--algo", "ppo", "--env", "memtape/Nope-v0"], "unknown env id 'memtape/Nope-v0'"),
        (["train", "--algo", "sac", "--env", "memtape/Copy-v0"], "unknown algorithm 'sac'"),
        (["train", "--algo", "ppo", "--env", "memtape/Copy-v0", "-params", "n_stepz=3"], "unknown key 'n_stepz'"),
        (["train", "--algo", "ppo", "--env", "memtape/Copy-v0", "-params", "gamma=high"], "key 'gamma'"),
        (["train", "--algo", "ppo", "--controller", "lstm", "--env", "memtape/Copy-v0"], "reinforce only"),
        (["train", "--algo", "reinforce", "--controller", "ntm", "--env", "memtape/Copy-v0"], "unknown controller"),
        (["bench", "nope"], "unknown suite 'nope'"),
        (["eval", "/nonexistent/run"], "not a run directory"),
        (["play"], "give a run directory"),
    ],
)
def test_bad_input_names_the_problem(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(
    ("algo", "params"),
    [
        ("a2c", ["n_envs=2", "n_steps=8"]),
        ("dqn", ["learning_starts=16", "buffer_size=64", "batch_size=8"]),
        ("ppo_lstm", ["n_envs=2", "n_steps=16", "batch_size=16", "n_epochs=1"]),
    ],
)
def test_train_and_eval_other_sb3_algorithms(algo: str, params: list[str], tmp_path: Path) -> None:
    """A2C, DQN (flattened actions) and RecurrentPPO (int-sized LSTM input) train, save, load and evaluate."""
    out = tmp_path / algo
    argv = ["train", "--algo", algo, "--env", "memtape/Copy-v0", "--timesteps", "32", "-params", *params]
    assert main([*argv, "--out", str(out), "--no-progress", "--eval-lengths", "3", "--eval-episodes", "2"]) == 0
    assert json.loads((out / "run.json").read_text())["algo"] == algo
