"""Suite reports: per-run rows, per-(task, algorithm) aggregates over seeds, as Markdown and CSV.

Columns: seeds that reached the reward threshold (rolling mean return over the eval window), median steps and
wall time to it among those seeds, final rolling return (mean and std over seeds), highest curriculum length,
longest fixed evaluation length solved with zero errors in every episode (best seed), and wall time per env step
during training. A second table gives the success rate at each evaluation length, averaged over seeds.
"""

from __future__ import annotations

import csv
import io
import statistics
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from agents.atomic import atomic_write_text
from agents.configs import Suite

SUMMARY_FIELDS = (
    "task",
    "algorithm",
    "runs",
    "errors",
    "solved",
    "steps_to_threshold",
    "seconds_to_threshold",
    "final_return_mean",
    "final_return_std",
    "max_curriculum",
    "longest_solved",
    "us_per_step",
    "timesteps",
)


def _median(values: Sequence[float]) -> float | None:
    return statistics.median(values) if values else None


def summarise(suite: Suite, results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One aggregate row per (task, algorithm) in suite order, over the results found for it."""
    rows = []
    for task in suite.tasks:
        for algo in suite.algorithms:
            cell = [r for r in results if r.get("task_id") == task.id and r.get("algo_name") == algo.name]
            if not cell:
                continue
            ok = [r for r in cell if r.get("status") == "ok"]
            solved = [r for r in ok if r.get("solved")]
            finals = [r["train"]["final_return"] for r in ok if r["train"].get("final_return") is not None]
            levels = [r["train"]["max_curriculum"] for r in ok if r["train"].get("max_curriculum") is not None]
            longest = [r["longest_solved"] for r in ok if r.get("longest_solved") is not None]
            rows.append(
                {
                    "task": task.id,
                    "algorithm": algo.name,
                    "runs": len(cell),
                    "errors": len(cell) - len(ok),
                    "solved": len(solved),
                    "steps_to_threshold": _median([r["train"]["threshold_step"] for r in solved]),
                    "seconds_to_threshold": _median([r["train"]["threshold_time_s"] for r in solved]),
                    "final_return_mean": statistics.fmean(finals) if finals else None,
                    "final_return_std": statistics.pstdev(finals) if len(finals) > 1 else (0.0 if finals else None),
                    "max_curriculum": max(levels) if levels else None,
                    "longest_solved": max(longest) if longest else None,
                    "us_per_step": statistics.fmean([r["train"]["us_per_step"] for r in ok]) if ok else None,
                    "timesteps": _median([r["train"]["timesteps"] for r in ok]),
                }
            )
    return rows


def generalisation(suite: Suite, results: list[dict[str, Any]]) -> dict[tuple[str, str], dict[int, float]]:
    """(task, algorithm) -> {length: success rate averaged over seeds} from the fixed-length evaluations."""
    table: dict[tuple[str, str], dict[int, list[float]]] = {}
    for r in results:
        if r.get("status") != "ok":
            continue
        cell = table.setdefault((r["task_id"], r["algo_name"]), {})
        for e in r.get("eval", []):
            cell.setdefault(int(e["length"]), []).append(float(e["success_rate"]))
    return {key: {n: statistics.fmean(v) for n, v in sorted(c.items())} for key, c in table.items()}


def _fmt(value: Any, kind: str = "") -> str:
    if value is None:
        return "—"
    if kind == "steps":
        return f"{value / 1000:.1f}k" if value >= 1000 else f"{value:.0f}"
    if kind == "int":
        return f"{value:,.0f}"
    if kind == "seconds":
        return f"{value:.0f} s" if value >= 10 else f"{value:.1f} s"
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)


def markdown(suite: Suite, results: list[dict[str, Any]]) -> str:
    """The suite's report as Markdown: summary table, then the generalisation table."""
    rows = summarise(suite, results)
    lines = [
        f"### Suite `{suite.name}`",
        "",
        f"{len(suite.seeds)} seed{'s' if len(suite.seeds) != 1 else ''}, {suite.budget.timesteps:,} env steps per run"
        + (f" (capped at {suite.budget.wall_time_s:g} s)" if suite.budget.wall_time_s else "")
        + (", stopped at threshold" if suite.budget.stop_at_threshold else "")
        + f"; threshold = rolling mean return over {suite.eval.window} episodes.",
        "",
        "| task | algorithm | solved | steps to thr. | time to thr. | final return | max curriculum "
        "| longest solved (best seed) | µs/step |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        solved = f"{r['solved']}/{r['runs']}" + (f" ({r['errors']} failed)" if r["errors"] else "")
        final = "—" if r["final_return_mean"] is None else f"{r['final_return_mean']:.2f} ± {r['final_return_std']:.2f}"
        lines.append(
            f"| {r['task']} | {r['algorithm']} | {solved} | {_fmt(r['steps_to_threshold'], 'steps')} "
            f"| {_fmt(r['seconds_to_threshold'], 'seconds')} | {final} | {_fmt(r['max_curriculum'])} "
            f"| {_fmt(r['longest_solved'])} | {_fmt(r['us_per_step'], 'int')} |"
        )
    gen = generalisation(suite, results)
    lengths = sorted({n for cell in gen.values() for n in cell})
    if lengths:
        lines += [
            "",
            "Success rate (whole output correct) at fixed evaluation lengths, mean over seeds:",
            "",
            "| task | algorithm | " + " | ".join(f"L={n}" for n in lengths) + " |",
            "|---|---|" + "---|" * len(lengths),
        ]
        for (task, algo), cell in gen.items():
            values = " | ".join(_fmt(cell.get(n)) for n in lengths)
            lines.append(f"| {task} | {algo} | {values} |")
    failed = [r for r in results if r.get("status") == "error"]
    if failed:
        lines += ["", "Failed runs (see their result.json for the traceback):", ""]
        lines += [
            f"- {r['algo_name']} {r['task_id']} seed {r['seed']}: {r['error'].strip().splitlines()[-1]}" for r in failed
        ]
    return "\n".join(lines) + "\n"


def to_csv(rows: list[dict[str, Any]], fields: Sequence[str]) -> str:
    """Rows as CSV text with a header."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(fields), extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if row.get(k) is None else row[k] for k in fields})
    return buf.getvalue()


def run_rows(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One flat row per run (for runs.csv)."""
    rows = []
    for r in results:
        train = r.get("train", {})
        rows.append(
            {
                "task": r.get("task_id"),
                "algorithm": r.get("algo_name"),
                "seed": r.get("seed"),
                "status": r.get("status"),
                "solved": r.get("solved"),
                "longest_solved": r.get("longest_solved"),
                **{k: train.get(k) for k in RUN_TRAIN_FIELDS},
            }
        )
    return rows


RUN_TRAIN_FIELDS = (
    "timesteps",
    "wall_time_s",
    "episodes",
    "final_return",
    "threshold",
    "threshold_step",
    "threshold_time_s",
    "max_curriculum",
    "stopped_by",
    "us_per_step",
)
RUN_FIELDS = ("task", "algorithm", "seed", "status", "solved", "longest_solved", *RUN_TRAIN_FIELDS)


def write_reports(suite: Suite, results: list[dict[str, Any]], out_dir: str | Path) -> dict[str, Path]:
    """Write report.md, summary.csv and runs.csv into `out_dir` (atomically); return their paths."""
    out = Path(out_dir)
    paths = {
        "markdown": atomic_write_text(out / "report.md", markdown(suite, results)),
        "summary": atomic_write_text(out / "summary.csv", to_csv(summarise(suite, results), SUMMARY_FIELDS)),
        "runs": atomic_write_text(out / "runs.csv", to_csv(run_rows(results), RUN_FIELDS)),
    }
    return paths
