"""Supervised trainer: config errors, model shapes, the curriculum, atomic checkpoints and exact resume."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
import torch

from agents.supervised import (
    ErrorRates,
    NeuralGPUModel,
    SequenceModel,
    SupervisedConfig,
    Trainer,
    batch_loss,
    error_rates,
    sample_length,
    save_checkpoint,
)
from agents.supervised.cli import main
from memtape_env.tasks import get_task

pytestmark = pytest.mark.usefixtures("one_thread")


def small(**kw) -> SupervisedConfig:
    base = dict(
        task="BinaryAddition",
        controller="neural_gpu",
        controller_kwargs={"channels": 6, "height": 2, "layers": 1},
        steps=6,
        batch_size=4,
        eval_every=3,
        eval_samples=4,
        max_length=4,
    )
    base.update(kw)
    return SupervisedConfig(**base)


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"task": "NoSuchTask"}, "NoSuchTask"),
        ({"controller": "transformer"}, "controller"),
        ({"optimizer": "sgd"}, "optimizer"),
        ({"steps": 0}, "steps"),
        ({"lr": 0.0}, "lr"),
        ({"grad_noise": -1.0}, "grad_noise"),
        ({"promote_accuracy": 1.5}, "promote_accuracy"),
        ({"test_lengths": [0]}, "test_lengths"),
        ({"device": "gpu0"}, "device"),
    ],
)
def test_bad_config_raises(kw, match):
    with pytest.raises((ValueError, KeyError), match=match):
        small(**kw).validate()


def test_start_length_above_max_raises():
    with pytest.raises(ValueError, match="max_length"):
        Trainer(small(start_length=9, max_length=4))


def test_neural_gpu_model_predicts_every_column_with_padding():
    task = get_task("BinaryAddition")
    model = NeuralGPUModel(task, channels=4, height=2, layers=1)
    x, y = task.generate(np.random.default_rng(0), 3, 4)
    logits = model(torch.from_numpy(x[:, 0]), y.shape[1])
    assert logits.shape == (3, x.shape[2], task.output_base + 1)
    full = model.full_targets(torch.from_numpy(y), x.shape[2])
    assert (full[:, y.shape[1] :] == task.output_base).all()
    assert torch.equal(full[:, : y.shape[1]], torch.from_numpy(y))


@pytest.mark.parametrize("controller", ["lstm", "dnc"])
def test_sequence_model_answers_one_symbol_per_target_position(controller):
    task = get_task("RepeatCopyCount")
    kwargs = {"hidden_size": 8} if controller == "lstm" else {"hidden_size": 8, "memory_size": 6, "word_size": 4}
    model = SequenceModel(task, controller, **kwargs)
    x, y = task.generate(np.random.default_rng(0), 5, 3)
    logits = model(torch.from_numpy(x), y.shape[1])
    assert logits.shape == (5, y.shape[1], task.output_base)
    loss, correct = batch_loss(model, torch.from_numpy(x), torch.from_numpy(y))
    loss.backward()
    assert torch.isfinite(loss) and correct.shape == (5,)


def test_sample_length_stays_in_range_and_favours_the_current_length():
    rng = np.random.default_rng(0)
    lengths = [sample_length(rng, 5, 1, 20) for _ in range(2000)]
    assert min(lengths) >= 1 and max(lengths) <= 20
    assert 0.45 < np.mean(np.array(lengths) == 5) < 0.65
    assert np.mean(np.array(lengths) > 5) > 0.03


def test_a_perfect_model_has_zero_errors():
    task = get_task("BinaryAddition")

    class Oracle(NeuralGPUModel):
        def forward(self, inputs, target_len):
            tape = inputs.numpy()
            width = tape.shape[1]
            length = (width - 1) // 2
            a = tape[:, :length]
            b = tape[:, length + 1 :]
            out = np.full((tape.shape[0], width), self.pad_class)
            carry = np.zeros(tape.shape[0], dtype=np.int64)
            for j in range(length):
                s = a[:, j] + b[:, j] + carry
                out[:, j], carry = s % 2, s // 2
            out[:, length] = carry
            return torch.nn.functional.one_hot(torch.from_numpy(out), self.pad_class + 1).float()

    oracle = Oracle(task, channels=2, height=1, layers=1)
    res = error_rates(oracle, task, 7, 10, np.random.default_rng(0), batch=4)
    assert res.sequence_error == 0.0 and res.symbol_error == 0.0
    res = error_rates(NeuralGPUModel(task, channels=2, height=1, layers=1), task, 7, 10, np.random.default_rng(0))
    assert res.sequence_error > 0


def test_checkpoint_is_atomic_and_resume_equals_an_uninterrupted_run(tmp_path):
    path = str(tmp_path / "run.pt")
    straight = Trainer(small(steps=8, seed=3))
    straight.train(log=False)
    first = Trainer(small(steps=4, seed=3, checkpoint=path, checkpoint_every=2))
    first.train(log=False)
    assert os.path.exists(path) and not [f for f in os.listdir(tmp_path) if ".tmp." in f]
    resumed = Trainer(small(steps=8, seed=3, checkpoint=path))
    assert resumed.step == 4
    resumed.train(log=False)
    for a, b in zip(straight.model.state_dict().values(), resumed.model.state_dict().values(), strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    drop = lambda h: {k: v for k, v in h.items() if k != "seconds"}  # noqa: E731
    assert [drop(h) for h in straight.history] == [drop(h) for h in resumed.history]


def test_resume_refuses_a_checkpoint_of_another_model(tmp_path):
    path = str(tmp_path / "run.pt")
    Trainer(small(steps=2, checkpoint=path)).train(log=False)
    with pytest.raises(ValueError, match="was made for"):
        Trainer(small(steps=2, checkpoint=path, controller_kwargs={"channels": 8, "height": 2, "layers": 1}))


def test_save_checkpoint_leaves_the_old_file_on_failure(tmp_path):
    path = str(tmp_path / "ck.pt")
    save_checkpoint(path, {"a": 1})

    class Unpicklable:
        def __reduce__(self):
            raise RuntimeError("cannot pickle")

    with pytest.raises(RuntimeError):
        save_checkpoint(path, {"a": Unpicklable()})
    assert torch.load(path, weights_only=False) == {"a": 1}


def test_best_checkpoint_at_the_top_length(tmp_path, monkeypatch):
    errors = iter([0.5, 0.2, 0.9])
    monkeypatch.setattr("agents.supervised.trainer.error_rates", lambda *a, **k: ErrorRates(0, 1, next(errors), 0.0))
    path = str(tmp_path / "run.pt")
    trainer = Trainer(small(steps=6, eval_every=2, start_length=4, max_length=4, checkpoint=path))
    trainer.train(log=False)
    best = torch.load(path + ".best", weights_only=False)
    assert best["step"] == 4 and best["best_error"] == 0.2 and trainer.step == 6


def test_curriculum_promotes_when_the_current_length_is_solved(monkeypatch):
    trainer = Trainer(small(steps=6, eval_every=2, max_length=5))
    monkeypatch.setattr("agents.supervised.trainer.error_rates", lambda *a, **k: ErrorRates(0, 1, 0.0, 0.0))
    start = trainer.length
    trainer.train(log=False)
    assert trainer.length == min(5, start + 3)


def test_cli_trains_and_tests(tmp_path, capsys):
    path = str(tmp_path / "cli.pt")
    args = ["--task", "BinaryAddition", "--steps", "4", "--batch-size", "4", "--eval-every", "2",
            "--eval-samples", "4", "--controller-kwargs", '{"channels": 4, "height": 2, "layers": 1}',
            "--checkpoint", path, "--test-lengths", "3", "--test-samples", "4"]  # fmt: skip
    main(args)
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert lines[-1]["test"]["length"] == 3 and os.path.exists(path)
    main([*args, "--test-only"])
    again = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert again == [lines[-1]]
    with pytest.raises(SystemExit) as exc:
        main(["--test-only", "--checkpoint", str(tmp_path / "missing.pt")])
    assert exc.value.code == 2 and "--test-only needs an existing --checkpoint" in capsys.readouterr().err


@pytest.mark.parametrize(
    "args, named",
    [
        (["--steps", "0"], "steps must be a positive integer"),
        (["--controller", "nope"], "controller must be"),
        (["--task", "Nope"], "Nope"),
        (["--controller-kwargs", "[1]"], "expected a JSON object"),
        (["--lr", "-1"], "lr must be a positive number"),
    ],
)
def test_cli_bad_values_exit_2_naming_them(args, named, capsys):
    with pytest.raises(SystemExit) as exc:
        main(args)
    err = capsys.readouterr().err
    assert exc.value.code == 2 and "memtape supervised: error:" in err and named in err


def test_memtape_supervised_subcommand_runs_the_trainer(tmp_path, capsys):
    from agents.harness.cli import main as memtape

    args = ["supervised", "--task", "BinaryAddition", "--steps", "2", "--batch-size", "2", "--eval-every", "1",
            "--eval-samples", "2", "--controller-kwargs", '{"channels": 4, "height": 2, "layers": 1}',
            "--test-lengths", "3", "--test-samples", "2"]  # fmt: skip
    assert memtape(args) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["step"] for line in lines[:-1]] == [1, 2] and lines[-1]["test"]["length"] == 3


@pytest.mark.slow
def test_lstm_learns_a_short_copy():
    """A learning check: the sequence model with an LSTM solves RepeatCopyCount at length 2."""
    cfg = SupervisedConfig(
        task="RepeatCopyCount",
        controller="lstm",
        controller_kwargs={"hidden_size": 64},
        steps=1500,
        batch_size=32,
        lr=3e-3,
        max_length=2,
        start_length=2,
        eval_every=100,
    )
    trainer = Trainer(cfg)
    trainer.train(log=False)
    res = error_rates(trainer.model, trainer.task, 2, 200, np.random.default_rng(9))
    assert res.sequence_error < 0.1
