"""The `memtape` command line: train, eval, play, bench, list.

    memtape train --algo ppo --env memtape/Copy-v0
    memtape train --algo reinforce --controller rlntm_direct --env memtape/Reverse-v0 --timesteps 100000
    memtape eval runs/train/reinforce_Reverse-v0_s0 --lengths 30 60 300 3000
    memtape play runs/train/reinforce_Reverse-v0_s0        (ansi; --video DIR records mp4)
    memtape play --env memtape/Copy-v0 --agent copy --length 8
    memtape bench                 (the quick suite)
    memtape bench memory --workers 2 [--backend ray]
    memtape report memory --readme README.md    (tables and plots from finished runs; runs nothing)
    memtape supervised --task BinaryAddition --controller neural_gpu --steps 20000 --checkpoint runs/ngpu.pt
    memtape config-path ppo_lstm  (the hyperparameter file train reads; rl_zoo3 takes it as --conf-file)

Bad input (unknown key, algorithm, task, controller; wrong type) stops with a message naming it (exit code 2).
`--help`, `--version` and `list` import neither torch nor SB3; only the commands that train or load models do.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import yaml

from agents.harness.configs import ConfigError
from agents.harness.registry import ALGORITHMS, ALIASES, SUPERVISED, canonical_algo

USER_ERRORS = (ConfigError, ValueError, OSError, ImportError)
T = TypeVar("T")


# ---------------------------------------------------------------- value checks of flags (argparse `type=`)
# The checks of `memtape_env.validation` (imported when a flag is parsed, so that `--help` does not load gymnasium);
# argparse puts the flag's name in front of their message.


def positive_int(text: str) -> int:
    """An integer > 0 (argparse names the flag in its error)."""
    from memtape_env.validation import check_positive_int

    return _argparse_type(lambda: check_positive_int("", _parse(int, text)))


def non_negative_int(text: str) -> int:
    """An integer >= 0 (seeds)."""
    from memtape_env.validation import check_int

    return _argparse_type(lambda: check_int("", _parse(int, text), 0))


def finite_float(text: str) -> float:
    """A finite float (no nan, no inf)."""
    from memtape_env.validation import check_number

    return _argparse_type(lambda: check_number("", _parse(float, text), finite=True))


def positive_float(text: str) -> float:
    """A finite float > 0 (durations)."""
    from memtape_env.validation import check_number

    return _argparse_type(lambda: check_number("", finite_float(text), 0, low_open=True))


def non_negative_float(text: str) -> float:
    """A finite float >= 0 (delays)."""
    from memtape_env.validation import check_non_negative

    return _argparse_type(lambda: check_non_negative("", finite_float(text)))


def _parse(kind: Callable[[str], T], text: str) -> T | str:
    """`text` as an int or a float, or `text` itself when it is neither (the check then names the type it wants)."""
    try:
        return kind(text)
    except ValueError:
        return text


def _argparse_type(check: Callable[[], T]) -> T:
    """Run `check`, turning its ValueError into argparse's error (which names the flag)."""
    try:
        return check()
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def check_bench_out(path: Path) -> None:
    """A bench output folder must be a directory (or not exist yet) under a writable folder."""
    if path.exists() and not path.is_dir():
        raise ValueError(f"--out: {path} exists and is not a directory")
    parent = next((p for p in [path, *path.parents] if p.exists()), Path("."))
    if not parent.is_dir():
        raise ValueError(f"--out: {parent} is not a directory")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ValueError(f"--out: cannot write into {parent}")


# The names of agents.controllers.CONTROLLERS, spelled out so that `--help` and `list` need not import torch
# (tests/agents/test_packaging.py checks that the two agree).
CONTROLLER_NAMES = ("lstm", "gru", "mlp", "rlntm", "rlntm_direct", "dnc", "neural_gpu")


def package_version() -> str:
    """The installed distribution's version ("unknown" when run from a checkout that was never installed)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("memtape")
    except PackageNotFoundError:
        return "unknown (not installed)"


def parse_assignments(items: list[str] | None, what: str) -> dict[str, Any]:
    """`key=value` items into a dict; values are YAML (numbers, lists, mappings); `a.b=1` nests."""
    out: dict[str, Any] = {}
    for item in items or []:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise ValueError(f"{what}: expected key=value, got {item!r}")
        try:
            value = yaml.safe_load(raw) if raw else ""
        except yaml.YAMLError as err:
            raise ValueError(f"{what}: cannot parse the value of {key!r}: {err}") from err
        if isinstance(value, str):  # YAML reads 3e-4 as a string; numbers win where they parse
            try:
                value = float(value) if any(c in value for c in ".eE") else int(value)
            except ValueError:
                pass
        node = out
        *parents, leaf = key.split(".")
        for p in parents:
            node = node.setdefault(p, {})
            if not isinstance(node, dict):
                raise ValueError(f"{what}: {key!r} nests under a non-mapping value")
        node[leaf] = value
    return out


def _default_run_dir(algo: str, env_id: str, seed: int, controller: str | None) -> Path:
    name = f"{algo}{'_' + controller if controller else ''}_{env_id.split('/')[-1]}_s{seed}"
    return Path("runs") / "train" / name


def cmd_train(args: argparse.Namespace) -> int:
    """Train one model, save it with its TensorBoard log, then optionally evaluate lengths."""
    from agents.harness.configs import with_controller
    from agents.harness.controller_setup import longest_input
    from agents.harness.train import TrainSpec, train

    algo = canonical_algo(args.algo)
    hyperparams = parse_assignments(args.hyperparams, "--hyperparams")
    env_kwargs = parse_assignments(args.env_kwargs, "--env-kwargs")
    if args.n_envs is not None:
        hyperparams["n_envs"] = args.n_envs
    if args.controller is not None and algo != "reinforce":
        raise ValueError("--controller applies to --algo reinforce only")
    if args.max_length is not None and algo != "reinforce":
        raise ValueError("--max-length applies to --algo reinforce only (it sizes the controller)")
    _check_env_id(args.env)
    hyperparams = with_controller(hyperparams, args.controller)
    max_length = args.max_length
    if algo == "reinforce" and max_length is None and args.eval_lengths:
        max_length = longest_input(args.env, args.eval_lengths)
    spec = TrainSpec(
        algo=algo,
        env_id=args.env,
        seed=args.seed,
        timesteps=args.timesteps,
        hyperparams=hyperparams,
        hyperparams_file=args.conf_file,
        env_kwargs=env_kwargs,
        threshold=args.threshold,
        stop_at_threshold=args.stop_at_threshold,
        wall_time_s=args.wall_time,
        progress=not args.no_progress,
        verbose=args.verbose,
        checkpoint_freq=args.checkpoint_freq,
        trust_imports=args.trust_imports,
        max_length=max_length,
    )
    out = Path(args.out) if args.out else _default_run_dir(algo, args.env, args.seed, args.controller)
    result = train(spec, out, force=args.force)
    print(f"saved {out / 'model.zip'} (TensorBoard: tensorboard --logdir {out / 'tb'})")
    for key, value in vars(result).items():
        print(f"  {key}: {value}")
    if result.stopped_by == "interrupted":
        print("memtape train: interrupted; the model and episodes.csv were saved", file=sys.stderr)
        return 130
    if args.eval_lengths:
        return _evaluate_and_print(out, args.eval_lengths, args.eval_episodes, args.seed, None)
    return 0


def _check_env_id(env_id: str) -> None:
    from agents.harness.configs import known_env_ids

    ids = known_env_ids()
    if env_id not in ids:
        close = sorted(i for i in ids if i.startswith("memtape/"))
        raise ValueError(f"unknown env id {env_id!r}; memtape ids: {close}")


def _default_lengths(env_id: str, env_kwargs: dict[str, Any]) -> list[int]:
    """1x, 2x, 10x and 100x the longest training length."""
    from agents.harness.controller_setup import task_name
    from memtape_env.tasks import get_task

    base = env_kwargs.get("max_length") or get_task(task_name(env_id)).curriculum.max_length
    return [base, 2 * base, 10 * base, 100 * base]


def _evaluate_and_print(
    run_dir: Path,
    lengths: list[int] | None,
    episodes: int,
    seed: int,
    json_path: str | None,
    trust_pickle: bool = False,
    trust_imports: bool = False,
) -> int:
    from agents.harness.evaluate import evaluate_length
    from agents.harness.train import load_run

    model, spec = load_run(run_dir, device="cpu", trust_pickle=trust_pickle, trust_imports=trust_imports)
    lengths = sorted(lengths or _default_lengths(spec.env_id, spec.env_kwargs))
    rows: list[dict[str, Any]] = []
    print(f"{spec.algo} on {spec.env_id}, {episodes} episodes per length (deterministic policy)")
    print("| length | success rate | mean return | correct symbols | truncated | µs/step |")
    print("|---|---|---|---|---|---|")
    from tqdm.auto import tqdm

    # Table rows go through tqdm.write, which lifts the bar (on stderr) off the line first, so the two never mix.
    for i, n in enumerate(tqdm(lengths, desc="eval", unit="length", leave=False)):
        try:
            r = evaluate_length(model, spec.algo, spec.env_id, spec.env_kwargs, n, episodes, seed + i)
        except USER_ERRORS as err:  # e.g. an input wider than the model's fixed tape view
            tqdm.write(f"| {n} | error: {err} | | | | |", file=sys.stdout)
            rows.append({"length": n, "error": str(err)})
            continue
        rows.append(vars(r))
        tqdm.write(
            f"| {n} | {r.success_rate:.2f} | {r.mean_return:.2f} | {r.mean_correct:.1f} | {r.truncated:.2f} "
            f"| {r.us_per_step:.0f} |",
            file=sys.stdout,
        )
    solved = [r["length"] for r in rows if r.get("success_rate") == 1.0]
    print(f"longest length solved with zero errors: {max(solved) if solved else 'none'}")
    if json_path:
        from agents.harness.atomic import atomic_write_json

        atomic_write_json(json_path, rows)
    if rows and all("error" in r for r in rows):
        print("memtape eval: error: every length failed (see the table)", file=sys.stderr)
        return 1
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    """Evaluate a trained run on fixed lengths."""
    return _evaluate_and_print(
        Path(args.run), args.lengths, args.episodes, args.seed, args.json, args.trust_pickle, args.trust_imports
    )


def cmd_play(args: argparse.Namespace) -> int:
    """Render episodes of a trained or scripted agent as ansi, or record them as video."""
    import gymnasium as gym
    import numpy as np

    import memtape_env  # noqa: F401
    from agents.harness.scripted import SCRIPTED

    model, algo, env_kwargs = None, None, parse_assignments(args.env_kwargs, "--env-kwargs")
    if args.run:
        from agents.harness.train import load_run

        model, spec = load_run(args.run, device="cpu", trust_pickle=args.trust_pickle, trust_imports=args.trust_imports)
        env_id, algo, env_kwargs = spec.env_id, spec.algo, {**spec.env_kwargs, **env_kwargs}
        if args.env and args.env != env_id:
            raise ValueError(f"{args.run} was trained on {env_id}, not {args.env}")
    elif args.env:
        env_id = args.env
        _check_env_id(env_id)
    else:
        raise ValueError("give a run directory, or --env ID with --agent random|copy")
    if args.length is not None:
        env_kwargs = {k: v for k, v in env_kwargs.items() if k not in ("curriculum", "length", "max_length")}
        env_kwargs.update(curriculum="none", length=args.length)
    from agents.harness.train import check_env_kwargs

    check_env_kwargs(env_id, env_kwargs, "--env-kwargs")
    render_mode = "rgb_array" if args.video else "ansi"
    env = gym.make(env_id, render_mode=render_mode, **env_kwargs)
    if algo is not None and ALGORITHMS[algo].discrete_actions:
        from agents.policies.discrete_actions import DiscreteActions

        env = DiscreteActions(env)
    if args.video:
        from gymnasium.wrappers import RecordVideo

        env = RecordVideo(env, args.video, episode_trigger=lambda _: True, name_prefix=env_id.replace("/", "_"))
    agent = None if model is not None else SCRIPTED[args.agent](env)
    for episode in range(args.episodes):
        obs, _ = env.reset(seed=args.seed + episode)
        state, start, total, done = None, np.ones(1, dtype=bool), 0.0, False
        _show(env, args)
        while not done:
            if model is not None:
                action, state = model.predict(obs[None], state=state, episode_start=start, deterministic=True)
                action, start = action[0], np.zeros(1, dtype=bool)
            else:
                action = agent(obs)
            obs, reward, terminated, truncated, _ = env.step(action)
            total += float(reward)
            done = terminated or truncated
            _show(env, args)
        outcome = "truncated" if truncated else ("solved" if reward > 0 else "wrong symbol")
        print(f"episode {episode}: return {total:+.1f} ({outcome})")
    env.close()
    if args.video:
        print(f"videos in {args.video}")
    return 0


def _show(env: Any, args: argparse.Namespace) -> None:
    if args.video:
        env.render()  # RecordVideo captures the frame
        return
    print(env.render())
    if args.delay > 0:
        time.sleep(args.delay)


def cmd_bench(args: argparse.Namespace) -> int:
    """Run (or resume) a suite and print its report."""
    from agents.harness.bench.suite import run_suite
    from agents.harness.configs import load_suite

    suite, path = load_suite(args.suite)
    print(f"suite {suite.name} ({path}): {suite.description.strip()}")
    if args.check:
        from agents.harness.bench.runs import expand

        runs = expand(suite, trust_imports=args.trust_imports)
        check_suite_runs(runs)
        print(f"config OK: {len(runs)} runs")
        return 0
    out = Path(args.out) if args.out else Path("runs") / "bench" / suite.name
    check_bench_out(out)
    start = time.perf_counter()
    outcome = run_suite(
        suite,
        out,
        backend=args.backend,
        workers=args.workers,
        fresh=args.fresh,
        report_dir=args.report_dir,
        progress=not args.no_progress,
        ray_address=args.ray_address,
        ray_num_cpus=args.ray_cpus,
        trust_imports=args.trust_imports,
        tasks=args.tasks,
        algorithms=args.algorithms,
    )
    print()
    print(outcome.report)
    print(f"{len(outcome.results)} runs ({outcome.resumed} resumed) in {time.perf_counter() - start:.0f} s")
    for name, file in outcome.files.items():
        print(f"  {name}: {file}")
    return 0 if all(r.get("status") == "ok" for r in outcome.results) else 1


def cmd_report(args: argparse.Namespace) -> int:
    """Reports and plots of a suite's finished runs, without running anything; optionally the README's table."""
    from agents.harness.bench.report import readme_block, update_readme
    from agents.harness.bench.suite import report_suite
    from agents.harness.configs import load_suite

    suite, path = load_suite(args.suite, check=False)
    out = Path(args.out) if args.out else Path("runs") / "bench" / suite.name
    outcome = report_suite(suite, out, args.report_dir)
    print(outcome.report)
    print(f"{len(outcome.results)} finished runs of suite {suite.name} under {out}")
    for name, file in outcome.files.items():
        print(f"  {name}: {file}")
    if args.readme:
        update_readme(
            args.readme,
            suite.name,
            readme_block(suite, outcome.results, _shown_path(path), _shown_out(out, suite.name)),
        )
        print(f"  readme table: {args.readme}")
    return 0


def _shown_out(out: Path, suite_name: str) -> str | None:
    """A results folder as the README names it: relative to here when it is inside, None when it is the default."""
    if out == Path("runs") / "bench" / suite_name:
        return None
    try:
        return out.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return out.as_posix()


def _shown_path(path: Path) -> str:
    """A suite file as a reader of the README finds it: relative to here, or inside the package's configs/."""
    from agents.harness.configs import CONFIG_ROOT

    path = path.resolve()
    for base, prefix in ((Path.cwd().resolve(), ""), (CONFIG_ROOT.resolve(), "configs/")):
        if path.is_relative_to(base):
            return prefix + path.relative_to(base).as_posix()
    return path.name


def check_suite_runs(runs: list[Any]) -> None:
    """Build each (algorithm, task) cell's env and model once, so what would fail at run time fails now."""
    from agents.harness.bench.supervised import check_supervised_run
    from agents.harness.train import TrainSpec, check_run

    seen: set[tuple[str, str]] = set()
    for run in runs:
        if (run.algo_name, run.task_id) in seen:
            continue
        seen.add((run.algo_name, run.task_id))
        try:
            if run.train["algo"] == SUPERVISED:
                check_supervised_run(run.train)
            else:
                check_run(TrainSpec(**run.train))
        except USER_ERRORS as err:
            raise ValueError(f"{run.algo_name} on {run.task_id}: {err}") from err


def cmd_list(args: argparse.Namespace) -> int:
    """Print env ids, algorithms, controllers and suites."""
    import memtape_env
    from agents.harness.configs import config_dirs

    print("envs:", " ".join(memtape_env.registered_ids()))
    print("algorithms:", " ".join(ALGORITHMS), f"(aliases: {', '.join(f'{k}={v}' for k, v in ALIASES.items())})")
    print("controllers (reinforce):", " ".join(CONTROLLER_NAMES))
    dirs = config_dirs("suites")
    suites = sorted({p.stem for d in dirs if d.is_dir() for p in d.glob("*.yml")})
    print("suites:", " ".join(suites))
    return 0


def _add_trust_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--trust-pickle",
        action="store_true",
        help="load model.zip with SB3's pickle-based loader (runs code stored in the file: trusted files only)",
    )
    p.add_argument("--trust-imports", action="store_true", help="allow import paths outside the known packages")


def cmd_config_path(args: argparse.Namespace) -> int:
    """Print the hyperparameter file `memtape train --algo ALGO` reads (./configs first, else the packaged one),
    e.g. for `python -m rl_zoo3.train --conf-file "$(memtape config-path ppo_lstm)"`."""
    from agents.harness.configs import hyperparams_file

    path = hyperparams_file(args.algo)
    if not path.is_file():
        raise FileNotFoundError(f"no hyperparameter file for {args.algo!r}: {path}")
    print(path)
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    parser = argparse.ArgumentParser(prog="memtape", description=__doc__.split("\n")[0])
    parser.add_argument("--version", action="version", version=f"memtape {package_version()}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("train", help="train one algorithm on one env id")
    p.add_argument("--algo", required=True, help=f"one of {', '.join(ALGORITHMS)}")
    p.add_argument("--env", required=True, help="env id, e.g. memtape/Copy-v0")
    p.add_argument("--controller", help=f"reinforce's controller: {', '.join(CONTROLLER_NAMES)}")
    p.add_argument("--seed", type=non_negative_int, default=0)
    p.add_argument("--timesteps", type=positive_int, help="env steps (default: n_timesteps of the hyperparameter file)")
    p.add_argument("--n-envs", type=positive_int, help="parallel envs (default: the hyperparameter file's n_envs)")
    p.add_argument("--hyperparams", "-params", nargs="+", metavar="KEY=VALUE", help="override hyperparameters")
    p.add_argument("--env-kwargs", nargs="+", metavar="KEY=VALUE", help="env constructor kwargs")
    p.add_argument("--conf-file", help="hyperparameter YAML (default configs/hyperparams/<algo>.yml)")
    p.add_argument("--out", help="run directory (default runs/train/<algo>_<env>_s<seed>)")
    p.add_argument("--force", action="store_true", help="replace the run already in --out")
    p.add_argument("--trust-imports", action="store_true", help="allow import paths outside the known packages")
    p.add_argument("--threshold", type=finite_float, help="solved threshold (default: the env's reward_threshold)")
    p.add_argument(
        "--stop-at-threshold",
        action="store_true",
        help="stop once the threshold is reached (and the curriculum is at its top)",
    )
    p.add_argument("--wall-time", type=positive_float, help="stop after this many seconds")
    p.add_argument("--max-length", type=positive_int, help="longest input the controller must handle (sizes tape/NGPU)")
    p.add_argument("--checkpoint-freq", type=positive_int, default=50_000, help="env steps between checkpoints")
    p.add_argument("--eval-lengths", type=positive_int, nargs="+", help="evaluate these fixed lengths after training")
    p.add_argument("--eval-episodes", type=positive_int, default=20)
    p.add_argument("--no-progress", action="store_true")
    p.add_argument("--verbose", type=non_negative_int, default=0)
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("eval", help="success rate and length generalisation of a trained run")
    p.add_argument("run", help="run directory written by memtape train (or its model.zip)")
    p.add_argument("--lengths", type=positive_int, nargs="+", help="fixed lengths (default 1x, 2x, 10x, 100x training)")
    p.add_argument("--episodes", type=positive_int, default=20)
    p.add_argument("--seed", type=non_negative_int, default=1000)
    p.add_argument("--json", help="also write the results to this JSON file")
    _add_trust_flags(p)
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("play", help="render a trained or scripted agent (ansi) or record a video")
    p.add_argument("run", nargs="?", help="run directory; omit to play a scripted agent on --env")
    p.add_argument("--env", help="env id (scripted agents)")
    p.add_argument("--agent", default="random", choices=["random", "copy"], help="scripted agent")
    p.add_argument("--length", type=positive_int, help="fixed input length (curriculum none)")
    p.add_argument("--env-kwargs", nargs="+", metavar="KEY=VALUE")
    p.add_argument("--episodes", type=positive_int, default=1)
    p.add_argument("--seed", type=non_negative_int, default=0)
    p.add_argument("--video", metavar="DIR", help="record mp4 videos into DIR (rgb_array rendering)")
    p.add_argument("--delay", type=non_negative_float, default=0.0, help="seconds between ansi frames")
    _add_trust_flags(p)
    p.set_defaults(func=cmd_play)

    p = sub.add_parser("bench", help="run a benchmark suite (resumes an interrupted one)")
    p.add_argument("suite", nargs="?", default="quick", help="suite name in configs/suites or a YAML path")
    p.add_argument("--out", help="run directory (default runs/bench/<suite>)")
    p.add_argument("--workers", type=positive_int, default=2, help="parallel worker processes (local backend)")
    p.add_argument("--backend", choices=["local", "ray"], default="local")
    p.add_argument("--ray-address", help="existing Ray cluster (default: start a local instance)")
    p.add_argument("--ray-cpus", type=positive_int, help="CPUs of the local Ray instance")
    p.add_argument("--fresh", action="store_true", help="delete earlier results instead of resuming")
    p.add_argument("--report-dir", help="where report.md, CSVs and plots go (default: --out)")
    p.add_argument("--check", action="store_true", help="validate the suite and exit")
    p.add_argument("--tasks", nargs="+", metavar="ID", help="run only these task ids of the suite")
    p.add_argument("--algorithms", nargs="+", metavar="NAME", help="run only these algorithm rows of the suite")
    p.add_argument("--no-progress", action="store_true")
    p.add_argument("--trust-imports", action="store_true", help="allow import paths outside the known packages")
    p.set_defaults(func=cmd_bench)

    p = sub.add_parser("report", help="reports and plots of a suite's finished runs (runs nothing)")
    p.add_argument("suite", help="suite name in configs/suites or a YAML path")
    p.add_argument("--out", help="where the suite's runs are (default runs/bench/<suite>)")
    p.add_argument("--report-dir", help="where report.md, CSVs and plots go (default: --out)")
    p.add_argument("--readme", metavar="FILE", help="also replace the suite's results table in FILE (README.md)")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("list", help="env ids, algorithms, controllers, suites")
    p.set_defaults(func=cmd_list)

    # Parsed by agents.supervised.cli (main hands it the rest of the line); listed here for `memtape --help`.
    sub.add_parser("supervised", help="train a controller by backprop on (input, target) pairs", add_help=False)

    p = sub.add_parser("config-path", help="path of an algorithm's hyperparameter file (e.g. for rl_zoo3)")
    p.add_argument("algo", help=f"one of {', '.join(ALGORITHMS)}")
    p.set_defaults(func=cmd_config_path)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `memtape` console script."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["supervised"]:
        from agents.supervised.cli import main as supervised_main

        return supervised_main(argv[1:])
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except USER_ERRORS as err:
        print(f"memtape {args.command}: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as err:
        print(f"memtape {args.command}: {err or 'interrupted'}", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
