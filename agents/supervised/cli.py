"""`memtape supervised` (also `python -m agents.supervised`): one flag per `SupervisedConfig` field.

    memtape supervised --task BinaryAddition --controller neural_gpu --steps 20000 \
        --checkpoint runs/ngpu_add.pt --test-lengths 200 2000
    memtape supervised --checkpoint runs/ngpu_add.pt --test-only --test-lengths 2000

Training prints one JSON line per curriculum evaluation and one per test length; the same command again resumes
from the checkpoint. Bad values stop with `memtape supervised: error: ...` (exit code 2).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os

import torch

from agents.supervised.config import SupervisedConfig
from agents.supervised.trainer import Trainer


def build_parser(prog: str = "memtape supervised") -> argparse.ArgumentParser:
    """Flags, one per `SupervisedConfig` field (`--controller-kwargs` takes JSON), and `--test-only`."""
    parser = argparse.ArgumentParser(
        prog=prog, description="Supervised (backprop-only) training of a controller on a task's (input, target) pairs."
    )
    defaults = SupervisedConfig()
    for f in dataclasses.fields(SupervisedConfig):
        flag = "--" + f.name.replace("_", "-")
        value = getattr(defaults, f.name)
        if f.name == "controller_kwargs":
            parser.add_argument(flag, type=_json_object, default={}, help="JSON object of controller kwargs")
        elif f.name == "test_lengths":
            parser.add_argument(flag, type=int, nargs="*", default=[], help="lengths to test after training")
        elif f.name in ("checkpoint", "start_length"):
            parser.add_argument(flag, type=str if f.name == "checkpoint" else int, default=None)
        else:
            parser.add_argument(flag, type=type(value), default=value)
    parser.add_argument("--test-only", action="store_true", help="load the checkpoint and only run the tests")
    return parser


def _json_object(text: str) -> dict:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as err:
        raise argparse.ArgumentTypeError(f"not JSON: {err}") from err
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError(f"expected a JSON object, got {text!r}")
    return value


def parse_args(argv: list[str] | None = None, prog: str = "memtape supervised") -> tuple[SupervisedConfig, bool]:
    """The config and the `--test-only` flag from the command line."""
    ns = vars(build_parser(prog).parse_args(argv))
    test_only = ns.pop("test_only")
    return SupervisedConfig(**ns), test_only


def main(argv: list[str] | None = None, prog: str = "memtape supervised") -> int:
    """Train (unless `--test-only`), then test; a bad value exits with code 2 and a message naming it."""
    parser = build_parser(prog)
    cfg, test_only = parse_args(argv, prog)
    if test_only and not (cfg.checkpoint and os.path.exists(cfg.checkpoint)):
        parser.error(f"--test-only needs an existing --checkpoint, got {cfg.checkpoint!r}")
    try:
        cfg.validate()
        if cfg.threads:
            torch.set_num_threads(cfg.threads)
        trainer = Trainer(cfg)
    except (ValueError, KeyError) as err:
        parser.error(str(err).strip("'\""))
    if not test_only:
        trainer.train()
    trainer.test()
    return 0
