"""Signals and lost processes: Ctrl-C/SIGTERM during training saves the run; a bench stops on Ctrl-C with a report
of its finished runs; workers die with their parent; a killed worker fails its own run and the bench goes on."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import yaml

from agents.harness.bench.runs import RESULT_FILE
from agents.harness.bench.suite import run_suite
from agents.harness.configs import parse_suite

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
ENV = {**os.environ, "PYTHONUNBUFFERED": "1"}
TINY_PPO = {"n_envs": 2, "n_steps": 32, "batch_size": 32, "n_epochs": 1}


def proc_state(pid: int) -> tuple[int, str] | None:
    """(parent pid, state letter) of a live process, None if it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return int(fields[1]), fields[0]


def alive(pid: int) -> bool:
    state = proc_state(pid)
    return state is not None and state[1] not in ("Z", "X")


def spawned_children(parent: int) -> set[int]:
    """Worker processes (multiprocessing spawn) whose parent is `parent`."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        state = proc_state(int(entry.name))
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if state is not None and state[0] == parent and b"spawn_main" in cmdline:
            found.add(int(entry.name))
    return found


def wait_gone(pids: set[int], timeout: float = 15.0) -> set[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(alive(p) for p in pids):
        time.sleep(0.1)
    return {p for p in pids if alive(p)}


def wait_for(condition, proc: subprocess.Popen, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if proc.poll() is not None:
            raise AssertionError(proc.communicate()[0][-3000:])
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_ctrl_c_during_train_saves_the_run(tmp_path: Path) -> None:
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "agents.harness.cli", "train", "--algo", "ppo", "--env", "memtape/ClassicCopy-v0"]
    cmd += ["--timesteps", "100000000", "--checkpoint-freq", "100000000", "--out", str(out), "--no-progress"]
    cmd += ["-params", *(f"{k}={v}" for k, v in TINY_PPO.items())]
    proc = subprocess.Popen(cmd, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    wait_for(lambda: list(tmp_path.glob(".run.*.tmp/run.json")), proc)
    time.sleep(1.0)  # some episodes
    proc.send_signal(signal.SIGINT)
    output = proc.communicate(timeout=60)[0]
    assert proc.returncode == 130, output[-3000:]
    assert {"run.json", "model.zip", "episodes.csv"} <= {p.name for p in out.iterdir()}
    assert len((out / "episodes.csv").read_text().splitlines()) > 1
    assert [p.name for p in tmp_path.iterdir()] == ["run"]
    assert "stopped_by: interrupted" in output

    from agents.harness.train import load_run

    model, spec = load_run(out)
    assert spec.env_id == "memtape/ClassicCopy-v0" and model.num_timesteps > 0


def test_sigterm_during_train_saves_the_run(tmp_path: Path) -> None:
    from stable_baselines3.common.callbacks import BaseCallback

    from agents.harness.train import TrainSpec, load_run, train

    class SendSigterm(BaseCallback):
        def _on_step(self) -> bool:
            if self.num_timesteps == 256:
                os.kill(os.getpid(), signal.SIGTERM)
            return True

    spec = TrainSpec("ppo", "memtape/ClassicCopy-v0", timesteps=100_000, hyperparams=TINY_PPO, tensorboard=False)
    result = train(spec, tmp_path / "run", extra_callbacks=[SendSigterm()])
    assert result.stopped_by == "interrupted" and 256 <= result.timesteps < 100_000
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # the handler was removed again
    assert len((tmp_path / "run" / "episodes.csv").read_text().splitlines()) > 1
    assert load_run(tmp_path / "run")[0].num_timesteps == result.timesteps


def suite_data(seeds: list[int], wall_time_s: float) -> dict:
    return {
        "name": "tiny",
        "tasks": [{"id": "memtape/ClassicCopy-v0", "eval_lengths": [2]}],
        "algorithms": [{"name": "ppo", "algo": "ppo", "hyperparams": TINY_PPO}],
        "seeds": seeds,
        "budget": {"timesteps": 10_000_000, "wall_time_s": wall_time_s},
        "eval": {"episodes": 2, "window": 5},
    }


def start_bench(tmp_path: Path, data: dict) -> tuple[subprocess.Popen, Path]:
    suite_file = tmp_path / "tiny.yml"
    suite_file.write_text(yaml.safe_dump(data))
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "agents.harness.cli", "bench", str(suite_file), "--out", str(out), "--workers", "2"]
    proc = subprocess.Popen(
        [*cmd, "--no-progress"], env=ENV, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    return proc, out


def test_ctrl_c_stops_a_bench_with_a_report_and_no_orphans(tmp_path: Path) -> None:
    proc, out = start_bench(tmp_path, suite_data([0, 1, 2, 3], wall_time_s=1.0))
    workers: set[int] = set()

    def first_result() -> bool:
        workers.update(spawned_children(proc.pid))
        return bool(list(out.glob(f"*/{RESULT_FILE}")))

    wait_for(first_result, proc)
    workers.update(spawned_children(proc.pid))
    proc.send_signal(signal.SIGINT)
    output = proc.communicate(timeout=90)[0]
    assert proc.returncode == 130, output[-3000:]
    assert "interrupted" in output
    assert not wait_gone(workers), "workers outlived the bench"
    finished = [json.loads(p.read_text()) for p in out.glob(f"*/{RESULT_FILE}")]
    assert 1 <= len(finished) < 4 and all(r["status"] == "ok" for r in finished)
    runs_csv = (out / "runs.csv").read_text().splitlines()
    assert len(runs_csv) == 1 + len(finished), "the report must list exactly the finished runs"
    assert "| memtape/ClassicCopy-v0 | ppo |" in (out / "report.md").read_text()


def test_workers_die_with_a_killed_bench(tmp_path: Path) -> None:
    proc, out = start_bench(tmp_path, suite_data([0, 1], wall_time_s=60.0))
    workers: set[int] = set()

    def two_workers() -> bool:
        workers.update(spawned_children(proc.pid))
        return len(workers) >= 2

    wait_for(two_workers, proc)
    proc.kill()
    proc.wait()
    assert not wait_gone(workers), "workers kept running after their parent was killed"


def test_a_killed_worker_fails_its_run_and_the_bench_goes_on(tmp_path: Path) -> None:
    suite = parse_suite(suite_data([0, 1], wall_time_s=2.0), "tiny")
    killed: list[int] = []

    def killer() -> None:
        deadline = time.monotonic() + 120
        while not killed and time.monotonic() < deadline:
            children = spawned_children(os.getpid())
            if children:
                time.sleep(1.0)  # let it start its run
                pid = min(children)
                os.kill(pid, signal.SIGKILL)  # as the out-of-memory killer would
                killed.append(pid)
            time.sleep(0.05)

    thread = threading.Thread(target=killer, daemon=True)
    thread.start()
    outcome = run_suite(suite, tmp_path / "out", workers=2, progress=False)
    thread.join(timeout=5)
    assert killed
    statuses = sorted(r["status"] for r in outcome.results)
    assert statuses == ["error", "ok"], outcome.results
    (failed,) = [r for r in outcome.results if r["status"] == "error"]
    assert "killed by signal 9" in failed["error"]
    assert (tmp_path / "out" / "report.md").is_file()
    saved = json.loads((tmp_path / "out" / f"ppo__memtape_ClassicCopy-v0__s{failed['seed']}" / RESULT_FILE).read_text())
    assert saved["status"] == "error"
