"""Run a list of benchmark runs on this machine: inline for one worker, else a spawn-context process pool.

Spawn (not fork) so that every worker starts with a fresh interpreter: no torch thread pools or RNG state are
inherited, and the same code path works on macOS and Linux.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any

from agents.bench.runs import Run, execute_in_worker

OnDone = Callable[[Run, dict[str, Any]], None]


def run_local(runs: list[Run], root: str | Path, workers: int = 1, on_done: OnDone | None = None) -> list[dict]:
    """Execute `runs` (results land in `root/<run>/result.json`); `on_done` is called as each one finishes."""
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    results: list[dict] = []
    if workers == 1 or len(runs) <= 1:
        for run in runs:
            result = execute_in_worker(run, str(root))
            results.append(result)
            if on_done:
                on_done(run, result)
        return results
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=min(workers, len(runs)), mp_context=context) as pool:
        futures = {pool.submit(execute_in_worker, run, str(root)): run for run in runs}
        for future in as_completed(futures):
            result = future.result()
            results.append(result)
            if on_done:
                on_done(futures[future], result)
    return results
