"""Run a whole suite: expand the grid, skip finished runs, execute the rest, then write reports and plots.

Results live in `out/<run>/result.json`; reports and plots go to `report_dir` (default: `out`). Rerunning the same
command after an interruption picks up where it stopped: finished runs are read back, not repeated.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agents.harness.bench.local import run_local
from agents.harness.bench.plots import write_plots
from agents.harness.bench.report import markdown, write_reports
from agents.harness.bench.runs import RESULT_FILE, Run, expand, read_result
from agents.harness.configs import Suite

BENCH_MARKER = ".memtape-bench"  # marks a folder as a bench's output, which --fresh may delete


@dataclass
class SuiteOutcome:
    """What a bench produced: every run's result (suite order), how many were resumed, and the files written."""

    results: list[dict[str, Any]]
    resumed: int
    files: dict[str, Path]
    report: str


def run_suite(
    suite: Suite,
    out: str | Path,
    backend: str = "local",
    workers: int = 1,
    fresh: bool = False,
    report_dir: str | Path | None = None,
    progress: bool = True,
    ray_address: str | None = None,
    ray_num_cpus: int | None = None,
    trust_imports: bool = False,
    tasks: list[str] | None = None,
    algorithms: list[str] | None = None,
) -> SuiteOutcome:
    """Execute the suite's missing runs with `backend` ("local" or "ray") and report on every finished one.

    `tasks` and `algorithms` (task ids, algorithm names) run only that part of the grid; the report still covers
    every finished run, so a suite too long for one sitting is run part by part into the same `out`.
    """
    if backend not in ("local", "ray"):
        raise ValueError(f"backend must be 'local' or 'ray', got {backend!r}")
    check_selection(suite, tasks, algorithms)
    root = Path(out)
    if fresh and root.exists():
        remove_bench_dir(root)
    root.mkdir(parents=True, exist_ok=True)
    (root / BENCH_MARKER).touch()
    runs = expand(suite, trust_imports)
    done = {run.dirname: r for run in runs if (r := read_result(root, run)) is not None}
    resumed = len(done)  # finished runs read back, not run again
    todo = [
        run
        for run in runs
        if run.dirname not in done
        and (tasks is None or run.task_id in tasks)
        and (algorithms is None or run.algo_name in algorithms)
    ]

    bar = None
    if progress and todo:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(todo), desc=f"bench {suite.name}", unit="run", dynamic_ncols=True)

    def on_done(run: Run, result: dict[str, Any]) -> None:
        done[run.dirname] = result
        if bar is not None:
            bar.set_postfix_str(f"{run.label}: {result.get('status')}", refresh=False)
            bar.update(1)

    interrupted = False
    try:
        if backend == "local":
            run_local(todo, root, workers, on_done)
        else:
            from agents.harness.bench.ray_runner import run_ray

            run_ray(todo, root, address=ray_address, num_cpus=ray_num_cpus, on_done=on_done)
    except KeyboardInterrupt:
        interrupted = True  # report what finished, then stop
    finally:
        if bar is not None:
            bar.close()
    results = [done[run.dirname] for run in runs if run.dirname in done]
    report_to = Path(report_dir) if report_dir is not None else root
    files = _write_reports(suite, results, runs, root, report_to)
    if interrupted:
        raise BenchInterrupted(f"interrupted: {len(results)} of {len(runs)} runs finished; report in {report_to}")
    return SuiteOutcome(results=results, resumed=resumed, files=files, report=markdown(suite, results))


def check_selection(suite: Suite, tasks: list[str] | None, algorithms: list[str] | None) -> None:
    """Raise ValueError naming a selected task id or algorithm name that the suite does not have."""
    for what, chosen, known in (
        ("task", tasks, [t.id for t in suite.tasks]),
        ("algorithm", algorithms, [a.name for a in suite.algorithms]),
    ):
        unknown = [x for x in chosen or [] if x not in known]
        if unknown:
            raise ValueError(f"suite {suite.name!r} has no {what} {unknown[0]!r} (it has: {', '.join(known)})")


def report_suite(suite: Suite, out: str | Path, report_dir: str | Path | None = None) -> SuiteOutcome:
    """Reports and plots from the finished runs found under `out`, running nothing (`memtape report`)."""
    root = Path(out)
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: no results of suite {suite.name!r} (run `memtape bench {suite.name}` first)")
    runs = expand(suite)
    results = [r for run in runs if (r := read_result(root, run)) is not None]
    files = _write_reports(suite, results, runs, root, Path(report_dir) if report_dir is not None else root)
    return SuiteOutcome(results=results, resumed=len(results), files=files, report=markdown(suite, results))


def _write_reports(
    suite: Suite, results: list[dict[str, Any]], runs: list[Run], root: Path, report_to: Path
) -> dict[str, Path]:
    files = write_reports(suite, results, report_to)
    files.update(write_plots(suite, results, runs, root, report_to))
    return files


class BenchInterrupted(KeyboardInterrupt):
    """Ctrl-C or SIGTERM stopped a bench; the report of its finished runs was written."""


def remove_bench_dir(root: Path) -> None:
    """Delete an earlier bench's results (`--fresh`), but only a folder a bench wrote (it holds BENCH_MARKER)."""
    if not root.is_dir():
        raise ValueError(f"--fresh: {root} is not a directory")
    ours = (root / BENCH_MARKER).is_file() or any(root.glob(f"*/{RESULT_FILE}"))
    if any(root.iterdir()) and not ours:
        raise ValueError(f"--fresh: {root} was not written by memtape bench; refusing to delete it")
    shutil.rmtree(root)
