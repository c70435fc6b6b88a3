"""Suite reports: per-run rows, per-(task, algorithm) aggregates over seeds with intervals, as Markdown and CSV.

A cell is a distribution over seeds, so every aggregate carries a 95% bootstrap interval
(`agents.harness.bench.stats`): the fraction of seeds solved (the curriculum reached its top and the policy then
succeeds there, see `agents.harness.evaluate.is_solved`), env steps to reach the top (interquartile mean over the
seeds that reached it), the success rate at the top length, the highest curriculum level, wall time per env step,
and how many runs hit the wall-time cap. A second table gives the success rate at each evaluation length, averaged
over seeds, and a third aggregates each algorithm across tasks (fraction solved and IQM of the success at the top,
stratified bootstrap).
"""

from __future__ import annotations

import csv
import io
import statistics
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from agents.harness.atomic import atomic_write_text
from agents.harness.bench.stats import Interval, aggregate_iqm, fraction_interval, iqm_interval, stratified_bootstrap
from agents.harness.configs import Suite

SUMMARY_FIELDS = (
    "task",
    "algorithm",
    "runs",
    "errors",
    "solved",
    "solved_fraction",
    "solved_low",
    "solved_high",
    "steps_to_top_iqm",
    "steps_to_top_low",
    "steps_to_top_high",
    "success_at_top",
    "threshold_reached",
    "final_return_mean",
    "max_curriculum",
    "longest_solved",
    "us_per_step",
    "timesteps",
    "wall_time_capped",
)


def _median(values: Sequence[float]) -> float | None:
    return statistics.median(values) if values else None


def _success_at_top(result: dict[str, Any]) -> float:
    """Success rate at the top curriculum length; 0 for a run whose curriculum never got there."""
    top = result.get("top_eval")
    return float(top["success_rate"]) if top else 0.0


def _interval_fields(prefix: str, ci: Interval | None) -> dict[str, float | None]:
    if ci is None:
        return {f"{prefix}_iqm": None, f"{prefix}_low": None, f"{prefix}_high": None}
    return {f"{prefix}_iqm": ci.point, f"{prefix}_low": ci.low, f"{prefix}_high": ci.high}


def summarise(suite: Suite, results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One aggregate row per (task, algorithm) in suite order, over the results found for it."""
    rows = []
    for task in suite.tasks:
        for algo in suite.algorithms:
            cell = [r for r in results if r.get("task_id") == task.id and r.get("algo_name") == algo.name]
            if not cell:
                continue
            ok = [r for r in cell if r.get("status") == "ok"]
            solved = [bool(r.get("solved")) for r in ok]
            frac = fraction_interval(solved) if ok else None
            to_top = [r["train"]["top_step"] for r in ok if r["train"].get("top_step") is not None]
            finals = [r["train"]["final_return"] for r in ok if r["train"].get("final_return") is not None]
            levels = [r["train"]["max_curriculum"] for r in ok if r["train"].get("max_curriculum") is not None]
            longest = [r["longest_solved"] for r in ok if r.get("longest_solved") is not None]
            rows.append(
                {
                    "task": task.id,
                    "algorithm": algo.name,
                    "runs": len(cell),
                    "errors": len(cell) - len(ok),
                    "solved": sum(solved),
                    "solved_fraction": None if frac is None else frac.point,
                    "solved_low": None if frac is None else frac.low,
                    "solved_high": None if frac is None else frac.high,
                    **_interval_fields("steps_to_top", iqm_interval(to_top) if to_top else None),
                    "success_at_top": statistics.fmean(_success_at_top(r) for r in ok) if ok else None,
                    "threshold_reached": sum(r["train"].get("threshold_step") is not None for r in ok),
                    "final_return_mean": statistics.fmean(finals) if finals else None,
                    "max_curriculum": _median(levels),
                    "longest_solved": max(longest) if longest else None,
                    "us_per_step": statistics.fmean([r["train"]["us_per_step"] for r in ok]) if ok else None,
                    "timesteps": _median([r["train"]["timesteps"] for r in ok]),
                    "wall_time_capped": sum(r["train"].get("stopped_by") == "wall_time" for r in ok),
                }
            )
    return rows


def aggregate(suite: Suite, results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per algorithm, across the tasks it ran: fraction solved and IQM of the success at the top length.

    Both with rliable's stratified bootstrap (runs resampled within each task), so a task with more seeds does not
    weigh more in the interval than in the point estimate's definition.
    """
    rows = []
    for algo in suite.algorithms:
        solved: list[list[float]] = []
        success: list[list[float]] = []
        for task in suite.tasks:
            ok = [
                r
                for r in results
                if r.get("task_id") == task.id and r.get("algo_name") == algo.name and r.get("status") == "ok"
            ]
            if ok:
                solved.append([float(bool(r.get("solved"))) for r in ok])
                success.append([_success_at_top(r) for r in ok])
        if not solved:
            continue
        mean_solved = stratified_bootstrap(solved, lambda x: x.mean(axis=1))
        rows.append(
            {"algorithm": algo.name, "tasks": len(solved), "solved": mean_solved, "iqm": aggregate_iqm(success)}
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


def _ci(ci_point: float | None, low: float | None, high: float | None, kind: str = "") -> str:
    if ci_point is None:
        return "—"
    if kind == "steps":
        return f"{_fmt(ci_point, 'steps')} [{_fmt(low, 'steps')}, {_fmt(high, 'steps')}]"
    return f"{ci_point:.2f} [{low:.2f}, {high:.2f}]"


def _budget_line(suite: Suite) -> str:
    """Seeds and step budgets, saying where tasks or algorithms differ from the suite's."""
    seeds = sorted({len(a.seeds or suite.seeds) for a in suite.algorithms})
    steps = sorted({t.timesteps or suite.budget.timesteps for t in suite.tasks})
    seed_text = str(seeds[0]) if len(seeds) == 1 else f"{seeds[0]} to {seeds[-1]}"
    step_text = f"{steps[0]:,}" if len(steps) == 1 else f"{steps[0]:,} to {steps[-1]:,} (per task)"
    capped = [f"{a.name} at most {a.timesteps:,}" for a in suite.algorithms if a.timesteps is not None]
    cap_text = f" ({'; '.join(capped)})" if capped else ""
    return f"{seed_text} seed{'s' if seeds[-1] != 1 else ''} per cell, {step_text} env steps per run{cap_text}"


def summary_table(rows: list[dict[str, Any]]) -> list[str]:
    """The per-(task, algorithm) table of `summarise` rows, as Markdown lines."""
    lines = [
        "| task | algorithm | solved | fraction solved | steps to top (IQM) | success at top | median max curriculum "
        "| return ≥ thr. | longest solved | µs/step | wall-time cap hit |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        solved = f"{r['solved']}/{r['runs'] - r['errors']}" + (f" ({r['errors']} failed)" if r["errors"] else "")
        lines.append(
            f"| {r['task']} | {r['algorithm']} | {solved} "
            f"| {_ci(r['solved_fraction'], r['solved_low'], r['solved_high'])} "
            f"| {_ci(r['steps_to_top_iqm'], r['steps_to_top_low'], r['steps_to_top_high'], 'steps')} "
            f"| {_fmt(r['success_at_top'])} | {_fmt(r['max_curriculum'])} | {r['threshold_reached']} "
            f"| {_fmt(r['longest_solved'])} | {_fmt(r['us_per_step'], 'int')} | {r['wall_time_capped'] or ''} |"
        )
    return lines


def solved_grid(suite: Suite, rows: list[dict[str, Any]]) -> list[str]:
    """Seeds solved per task (rows) and algorithm (columns) with the fraction's interval, as Markdown lines.

    Only algorithms with at least one finished run get a column; a cell without runs shows "—".
    """
    algos = [a.name for a in suite.algorithms if any(r["algorithm"] == a.name for r in rows)]
    cells = {(r["task"], r["algorithm"]): r for r in rows}
    lines = ["| task | " + " | ".join(algos) + " |", "|---|" + "---|" * len(algos)]
    for task in suite.tasks:
        if not any((task.id, a) in cells for a in algos):
            continue
        out = []
        for a in algos:
            r = cells.get((task.id, a))
            if r is None or r["solved_fraction"] is None:
                out.append("—")
                continue
            n = r["runs"] - r["errors"]
            out.append(f"{r['solved']}/{n} [{r['solved_low']:.2f}, {r['solved_high']:.2f}]")
        lines.append(f"| {task.id.removeprefix('memtape/')} | " + " | ".join(out) + " |")
    return lines


def readme_block(suite: Suite, results: list[dict[str, Any]], suite_file: str, out: str | None = None) -> str:
    """The README's results table of one suite: who made it (suite file, command) and the seeds solved per cell.

    `out` is the results folder as the reader should type it (None: the default `runs/bench/<suite>`).
    """
    where = f" --out {out}" if out else ""
    n = sum(r.get("status") == "ok" for r in results)
    total = sum(len(a.seeds or suite.seeds) for a in suite.algorithms for t in suite.tasks if a.runs_on(t.id))
    return "\n".join(
        [
            f"Generated by `memtape report {suite.name}{where} --readme README.md` from the {n} finished runs (of "
            f"{total}) of `memtape bench {suite.name}{where}` (`{suite_file}`); {_budget_line(suite)}. A cell gives "
            "the seeds solved, k/n, and a 95% bootstrap interval of the fraction. Solved: the curriculum reached its "
            "top length and the greedy policy then succeeds there on at least 90% of fresh inputs. Supervised rows "
            "count optimizer steps, not env steps.",
            "",
            *solved_grid(suite, summarise(suite, results)),
        ]
    )


def update_readme(path: str | Path, suite_name: str, block: str) -> Path:
    """Replace the text between `<!-- memtape report: NAME -->` and `<!-- end memtape report: NAME -->`."""
    path = Path(path)
    text = path.read_text()
    start, end = f"<!-- memtape report: {suite_name} -->", f"<!-- end memtape report: {suite_name} -->"
    if text.count(start) != 1 or text.count(end) != 1 or text.index(start) > text.index(end):
        raise ValueError(f"{path} needs one '{start}' line followed by one '{end}' line to hold the table")
    head, rest = text.split(start)
    _, tail = rest.split(end)
    return atomic_write_text(path, f"{head}{start}\n{block}\n{end}{tail}")


def markdown(suite: Suite, results: list[dict[str, Any]]) -> str:
    """The suite's report as Markdown: summary table, generalisation table, aggregate across tasks."""
    lines = [
        f"### Suite `{suite.name}`",
        "",
        _budget_line(suite)
        + (f" (wall-time cap {suite.budget.wall_time_s:g} s)" if suite.budget.wall_time_s else "")
        + (", stopped at the reward threshold" if suite.budget.stop_at_threshold else "")
        + ". Solved: the curriculum reached its top length and the greedy policy then succeeds on at least 90% of"
        " the episodes there. Intervals: 95% bootstrap over seeds; steps to the top: interquartile mean over the"
        " seeds that reached it.",
        "",
        *summary_table(summarise(suite, results)),
    ]
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
    agg = aggregate(suite, results)
    if len(suite.tasks) > 1 and agg:
        lines += [
            "",
            "Across tasks (stratified bootstrap, 95%):",
            "",
            "| algorithm | tasks | fraction solved | IQM of success at top |",
            "|---|---|---|---|",
        ]
        lines += [f"| {a['algorithm']} | {a['tasks']} | {a['solved'].format()} | {a['iqm'].format()} |" for a in agg]
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
                "success_at_top": (r.get("top_eval") or {}).get("success_rate"),
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
    "top_length",
    "top_step",
    "top_time_s",
    "stopped_by",
    "us_per_step",
)
RUN_FIELDS = ("task", "algorithm", "seed", "status", "solved", "success_at_top", "longest_solved", *RUN_TRAIN_FIELDS)


def write_reports(suite: Suite, results: list[dict[str, Any]], out_dir: str | Path) -> dict[str, Path]:
    """Write report.md, summary.csv and runs.csv into `out_dir` (atomically); return their paths."""
    out = Path(out_dir)
    paths = {
        "markdown": atomic_write_text(out / "report.md", markdown(suite, results)),
        "summary": atomic_write_text(out / "summary.csv", to_csv(summarise(suite, results), SUMMARY_FIELDS)),
        "runs": atomic_write_text(out / "runs.csv", to_csv(run_rows(results), RUN_FIELDS)),
    }
    return paths
