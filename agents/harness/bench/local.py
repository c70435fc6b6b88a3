"""Run a list of benchmark runs on this machine: inline for one worker, else one spawned process per run.

Spawn (not fork) so that every worker starts with a fresh interpreter: no torch thread pools or RNG state are
inherited, and the same code path works on macOS and Linux. One process per run (at most `workers` at a time)
rather than a process pool, so that each run's fate is known: a worker that dies (the out-of-memory killer, say)
fails its own run, which is recorded, and the bench goes on. Workers end when their parent dies (a watchdog
thread, and PR_SET_PDEATHSIG on Linux). Ctrl-C (SIGINT) or SIGTERM starts no new run, asks the running ones to
stop (their partial runs are not recorded, so a resumed bench repeats them), and re-raises KeyboardInterrupt once
they have ended, after `on_done` has seen every finished run.
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from multiprocessing.connection import wait
from pathlib import Path
from typing import Any

from agents.harness.bench.runs import RESULT_FILE, Run, execute_in_worker, failed_result, write_result

OnDone = Callable[[Run, dict[str, Any]], None]
INTERRUPTED_EXIT = 130  # a worker stopped by SIGINT/SIGTERM before its run finished
STOP_GRACE_S = 60.0  # how long stopped workers get to save before they are killed


def run_local(runs: list[Run], root: str | Path, workers: int = 1, on_done: OnDone | None = None) -> list[dict]:
    """Execute `runs` (results land in `root/<run>/result.json`); `on_done` is called as each one finishes."""
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    results: list[dict] = []

    def finished(run: Run, result: dict[str, Any]) -> None:
        results.append(result)
        if on_done:
            on_done(run, result)

    if workers == 1 or len(runs) <= 1:
        with _sigterm_as_interrupt():
            for run in runs:
                result = execute_in_worker(run, str(root))
                if result.get("status") == "interrupted":
                    raise KeyboardInterrupt
                finished(run, result)
        return results
    _run_processes(runs, Path(root), workers, finished)
    return results


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Any:
    """SIGTERM ends the bench like Ctrl-C does (main thread only; training installs its own handler meanwhile)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _run_processes(runs: list[Run], root: Path, workers: int, finished: OnDone) -> None:
    context = multiprocessing.get_context("spawn")
    pending = list(runs)
    running: dict[Any, tuple[Any, Run]] = {}
    try:
        with _sigterm_as_interrupt():
            while pending or running:
                while pending and len(running) < workers:
                    run = pending.pop(0)
                    process = context.Process(
                        target=_worker_main, args=(run, str(root), os.getpid()), name=f"memtape {run.label}"
                    )
                    process.daemon = True
                    process.start()
                    running[process.sentinel] = (process, run)
                for sentinel in wait(list(running), timeout=1.0):
                    process, run = running.pop(sentinel)
                    process.join()
                    result = _collect(root, run, process.exitcode)
                    if result is None:
                        raise KeyboardInterrupt
                    finished(run, result)
    except BaseException:
        _stop(running, root, finished)
        raise


def _collect(root: Path, run: Run, exitcode: int | None) -> dict[str, Any] | None:
    """The result a worker left, or a recorded failure when it died; None when it was interrupted."""
    result = _own_result(root, run)
    if result is not None:
        return result
    if exitcode == INTERRUPTED_EXIT:
        return None
    how = f"killed by signal {-exitcode}" if exitcode is not None and exitcode < 0 else f"exit code {exitcode}"
    result = failed_result(run, f"the worker process running this run died ({how}) before writing a result")
    write_result(root, run, result)
    return result


def _own_result(root: Path, run: Run) -> dict[str, Any] | None:
    """The result.json this run wrote (ok or error), or None if there is none for this spec."""
    path = root / run.dirname / RESULT_FILE
    try:
        result = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return result if isinstance(result, dict) and result.get("spec_hash") == run.spec_hash() else None


def _stop(running: dict[Any, tuple[Any, Run]], root: Path, finished: OnDone) -> None:
    """Ask running workers to stop (SIGINT), wait for them to save, kill stragglers, and record finished runs."""
    for process, _ in running.values():
        if process.is_alive():
            with contextlib.suppress(ProcessLookupError):
                os.kill(process.pid, signal.SIGINT)
    deadline = time.monotonic() + STOP_GRACE_S
    for process, run in running.values():
        process.join(max(deadline - time.monotonic(), 0.1))
        if process.is_alive():
            process.kill()
            process.join()
        result = _own_result(root, run)
        if result is not None:  # it finished before it saw the signal
            finished(run, result)
    running.clear()


def _watch_parent(parent_pid: int) -> None:
    """End this worker when the process that started it is gone (its parent pid changes)."""
    while True:
        if os.getppid() != parent_pid:
            os._exit(1)
        time.sleep(0.5)


def _die_with_parent(parent_pid: int) -> None:
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass
    threading.Thread(target=_watch_parent, args=(parent_pid,), daemon=True, name="parent-watchdog").start()
    if os.getppid() != parent_pid:  # the parent died before the signal was armed
        os._exit(1)


def _worker_main(run: Run, root: str, parent_pid: int) -> None:
    """A worker process: die with the parent, run one run, exit 130 if it was interrupted."""
    _die_with_parent(parent_pid)
    try:
        result = execute_in_worker(run, root)
    except KeyboardInterrupt:
        sys.exit(INTERRUPTED_EXIT)
    if result.get("status") == "interrupted":
        sys.exit(INTERRUPTED_EXIT)
