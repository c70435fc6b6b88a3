"""Neural GPU: the CGRU formula, gates, relaxation, the per-episode image of the controller, Reinforce."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from agents.controllers import CONTROLLERS, NeuralGPUController, reset_state
from agents.controllers.neural_gpu import NeuralGPU, hard_sigmoid_gate

pytestmark = pytest.mark.usefixtures("one_thread")


def test_gate_cutoff_saturates():
    x = torch.tensor([-100.0, 0.0, 100.0, torch.logit(torch.tensor(0.5 / 1.2)).item()])
    torch.testing.assert_close(hard_sigmoid_gate(x), torch.tensor([0.0, 0.5, 1.0, 0.4]))


def test_cgru_is_the_paper_formula():
    torch.manual_seed(0)
    gpu = NeuralGPU(4, channels=3, height=2, layers=1)
    s = torch.randn(2, 3, 2, 5)
    w, b = gpu.gate_weight[0, 0], gpu.gate_bias[0, 0]
    u = torch.clamp(1.2 * torch.sigmoid(F.conv2d(s, w[:3], b[:3], padding=1)) - 0.1, 0, 1)
    r = torch.clamp(1.2 * torch.sigmoid(F.conv2d(s, w[3:], b[3:], padding=1)) - 0.1, 0, 1)
    cand = torch.tanh(F.conv2d(r * s, gpu.cand_weight[0, 0], gpu.cand_bias[0, 0], padding=1))
    torch.testing.assert_close(gpu.cgru(s, 0, 0), u * s + (1 - u) * cand)


def test_input_in_row_zero_steps_equal_width_and_output_row_zero():
    torch.manual_seed(1)
    gpu = NeuralGPU(3, channels=4, height=3, layers=2)
    tape = torch.randint(0, 3, (2, 6))
    out = gpu(tape)
    assert out.shape == (2, 6, 4)
    s = torch.zeros(2, 4, 3, 6)
    s[:, :, 0, :] = gpu.embed(tape).transpose(1, 2)
    for _ in range(6):
        s = gpu.cgru(gpu.cgru(s, 0, 0), 1, 0)
    torch.testing.assert_close(out, s[:, :, 0, :].transpose(1, 2))
    # Zero steps return the embedding itself: the input sits in row 0.
    torch.testing.assert_close(gpu(tape, steps=0), gpu.embed(tape))


def test_relaxation_sets_cycle_pull_and_merge():
    torch.manual_seed(2)
    gpu = NeuralGPU(3, channels=4, relax=3)
    tape = torch.randint(0, 3, (2, 5))
    assert float(gpu.relaxation_penalty()) == pytest.approx(0.0, abs=1e-9)
    shared = gpu(tape)
    with torch.no_grad():
        gpu.cand_weight[:, 1].add_(0.5)
    assert float(gpu.relaxation_penalty()) > 0
    assert not torch.allclose(gpu(tape), shared)
    gpu.merge_relaxation()
    assert float(gpu.relaxation_penalty()) == pytest.approx(0.0, abs=1e-9)
    torch.testing.assert_close(gpu.cand_weight[:, 0], gpu.cand_weight[:, 2])


def test_dropout_only_in_training():
    torch.manual_seed(3)
    gpu = NeuralGPU(3, channels=4, dropout=0.5)
    tape = torch.randint(0, 3, (2, 5))
    gpu.eval()
    torch.testing.assert_close(gpu(tape), gpu(tape))
    gpu.train()
    assert not torch.allclose(gpu(tape), gpu(tape))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"channels": 0}, "channels"),
        ({"kernel": (2, 3)}, "kernel"),
        ({"dropout": 1.0}, "dropout"),
        ({"relax": 0}, "relax"),
    ],
)
def test_bad_kwargs_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        NeuralGPU(3, **kwargs)


def test_bad_tape_raises():
    gpu = NeuralGPU(3, channels=4)
    with pytest.raises(ValueError, match="tape symbols"):
        gpu(torch.tensor([[0, 3]]))
    ctrl = NeuralGPUController(2, tape_width=4, tape_vocab=3, channels=4)
    with pytest.raises(ValueError, match="observe_tape"):
        ctrl.step(torch.zeros(1, 2), ctrl.initial_state(1))
    with pytest.raises(ValueError, match="tape_width=4"):
        ctrl.step(torch.zeros(1, 2), ctrl.initial_state(1), {"tape": torch.zeros(1, 5, dtype=torch.long)})


def make_tapes(extents: list[int], width: int, vocab: int, seed: int = 0) -> torch.Tensor:
    """Tapes (len(extents), width) with random symbols in their first `extent` cells, blank (vocab - 1) after."""
    gen = torch.Generator().manual_seed(seed)
    tapes = torch.full((len(extents), width), vocab - 1, dtype=torch.long)
    for i, extent in enumerate(extents):
        tapes[i, :extent] = torch.randint(0, vocab - 1, (extent,), generator=gen)
    return tapes


@pytest.mark.parametrize("shape", [(24, 4), (8, 1), (4, 2)])
def test_batch_invariant_conv_is_conv2d_and_independent_of_the_batch(shape):
    from agents.controllers.neural_gpu import conv2d_batch_invariant

    channels, height = shape
    torch.manual_seed(5)
    weight, bias = torch.randn(2 * channels, channels, 3, 3), torch.randn(2 * channels)
    for width in (1, 2, 5, 13):
        s = torch.randn(7, channels, height, width)
        full = conv2d_batch_invariant(s, weight, bias, (1, 1))
        torch.testing.assert_close(full, F.conv2d(s, weight, bias, padding=1), rtol=1e-5, atol=1e-5)
        for i in range(7):
            assert torch.equal(conv2d_batch_invariant(s[i : i + 1], weight, bias, (1, 1))[0], full[i])
            assert torch.equal(conv2d_batch_invariant(s[[(i + 3) % 7, i]], weight, bias, (1, 1))[1], full[i])


def test_image_is_as_wide_as_the_input_plus_the_margin_with_zeros_past_it():
    torch.manual_seed(4)
    ctrl = NeuralGPUController(2, tape_width=8, tape_vocab=3, hidden_size=4, channels=4, margin=1)
    tapes = make_tapes([0, 1, 3, 7, 8], 8, 3)
    assert ctrl.input_extents(tapes).tolist() == [0, 1, 3, 7, 8]
    sizes = [ctrl.image_size(e) for e in [0, 1, 3, 7, 8]]
    assert sizes == [(1, 1), (2, 1), (4, 3), (8, 7), (8, 8)]
    images = ctrl.images(tapes)
    for row, (width, steps) in enumerate(sizes):
        # the paper's network on the input cut to its width, as many steps as symbols; zeros past the image
        torch.testing.assert_close(images[row, :width], ctrl.gpu(tapes[row : row + 1, :width], steps=steps)[0])
        assert not images[row, width:].any()
    wide = NeuralGPUController(2, tape_width=8, tape_vocab=3, channels=4, margin=3)
    assert [wide.image_size(e) for e in [0, 3, 6]] == [(3, 1), (6, 3), (8, 6)]
    with pytest.raises(ValueError, match="margin"):
        NeuralGPUController(2, tape_width=8, tape_vocab=3, margin=-1)


@pytest.mark.parametrize("shape", [(6, 3), (24, 4)])  # a small image, and the default
def test_an_episode_gives_the_same_outputs_alone_and_in_any_batch(shape):
    """Collection (one step at a time, episodes starting at different steps) and replay (all episodes from t = 0)
    batch an episode with different others; its image, hence the column it outputs, must be identical."""
    torch.manual_seed(6)
    channels, height = shape
    ctrl = NeuralGPUController(3, tape_width=9, tape_vocab=4, hidden_size=5, channels=channels, height=height)
    steps, extents = 5, [2, 9, 2, 5, 0, 7, 9]
    tapes = make_tapes(extents, 9, 4, seed=1).expand(steps, -1, -1)
    heads = torch.randint(0, 11, (steps, len(extents)))
    x = torch.randn(steps, len(extents), 3)
    starts = torch.zeros(steps, len(extents), dtype=torch.bool)
    starts[0] = True
    context = {"tape": tapes, "output_head": heads}
    out, _ = ctrl.sequence(x, starts, ctrl.initial_state(len(extents)), context)
    state, stepped = ctrl.initial_state(len(extents)), []
    for t in range(steps):
        col, state = ctrl.step(x[t], state, {k: v[t] for k, v in context.items()})
        stepped.append(col)
    assert torch.equal(torch.stack(stepped), out)  # `sequence` equals stepping
    m = ctrl.gpu.channels
    for row in range(len(extents)):
        alone, _ = ctrl.sequence(
            x[:, row : row + 1],
            starts[:, :1],
            ctrl.initial_state(1),
            {k: v[:, row : row + 1] for k, v in context.items()},
        )
        assert torch.equal(alone[..., :m], out[:, row : row + 1, :m])
        torch.testing.assert_close(alone, out[:, row : row + 1])  # the step GRU: equal up to float rounding
    # The same episodes entering a batch one by one at different steps (as in collection) give the same images.
    init = ctrl.initial_state(len(extents))
    late = (torch.randn_like(init[0]), torch.ones_like(init[1]), *init[2:])  # older episodes running everywhere
    for t, rows in enumerate([[0, 3], [1], [2, 4, 5, 6]]):
        starting = torch.zeros(len(extents), dtype=torch.bool)
        starting[rows] = True
        _, late = ctrl.step(x[t], reset_state(late, init, starting), {"tape": tapes[0], "output_head": heads[t]})
    assert torch.equal(late[0], state[0])


def test_controller_computes_the_image_once_per_episode_and_reads_the_position():
    torch.manual_seed(4)
    ctrl = NeuralGPUController(2, tape_width=5, tape_vocab=3, hidden_size=4, channels=4)
    calls = []
    ctrl.gpu.register_forward_hook(lambda mod, args, out: calls.append(tuple(args[0].shape)))
    tapes = make_tapes([4, 2], 5, 3).expand(4, -1, -1).clone()
    tapes[2, 1] = make_tapes([2], 5, 3, seed=7)[0]
    x = torch.randn(4, 2, 2)
    starts = torch.zeros(4, 2, dtype=torch.bool)
    starts[0] = True
    starts[2, 1] = True  # sequence 1 starts a new episode at t = 2
    out, state = ctrl.sequence(x, starts, ctrl.initial_state(2), {"tape": tapes})
    assert calls == [(1, 3), (1, 5), (1, 3)]  # one call per extent (2 and 4, widths 3 and 5), then the new episode
    images = ctrl.images(tapes[0])
    for t in range(2):  # no head in the context: the column is the step count
        assert torch.equal(out[t, :, :4], images[:, t])
    assert torch.equal(out[2, 1, :4], ctrl.images(tapes[2, 1:2])[0, 0])
    head = torch.tensor([5, 1])  # observed heads are shifted by one: columns 4 and 0
    col, _ = ctrl.step(x[0], state, {"tape": tapes[3], "input_head": head})
    assert torch.equal(col[:, :4], state[0][torch.arange(2), head - 1])
    col, _ = ctrl.step(x[0], state, {"tape": tapes[3], "input_head": torch.tensor([0, 6])})  # off the tape: clamped
    assert torch.equal(col[:, :4], state[0][torch.arange(2), torch.tensor([0, 4])])
    assert CONTROLLERS["neural_gpu"] is NeuralGPUController


def test_trains_with_reinforce_on_the_observed_tape():
    from agents.reinforce import Reinforce
    from memtape_env.sb3 import MemTapeVecEnv

    env = MemTapeVecEnv("memtape/BinaryAddition-v0", num_envs=4, seed=0, observe_tape=7, curriculum="none", length=3)
    kwargs = dict(tape_width=7, tape_vocab=4, channels=6, hidden_size=8)
    model = Reinforce(
        "ControllerPolicy",
        env,
        batch_episodes=4,
        seed=0,
        policy_kwargs=dict(controller_class="neural_gpu", controller_kwargs=kwargs),
    )
    before = [p.detach().clone() for p in model.policy.controller.gpu.parameters()]
    model.learn(64)
    assert model.num_timesteps >= 64
    after = list(model.policy.controller.gpu.parameters())
    assert any(not torch.equal(a, b) for a, b in zip(before, after, strict=True))
    obs = env.reset()
    actions, state = model.predict(obs)
    assert state[1].tolist() == [1.0] * 4  # the image was computed for every env
    again, state = model.predict(obs, state, episode_start=np.zeros(4, dtype=bool))
    assert actions.shape == again.shape and state[2].tolist() == [2] * 4


@pytest.mark.slow
def test_learns_short_binary_addition():
    """A learning check: the supervised Neural GPU solves binary addition up to 4 bits (about 700 steps)."""
    from agents.supervised import SupervisedConfig, Trainer, error_rates

    cfg = SupervisedConfig(
        task="BinaryAddition",
        controller_kwargs={"channels": 24, "height": 4, "layers": 2},
        steps=2000,
        max_length=4,
        eval_every=50,
    )
    trainer = Trainer(cfg)
    trainer.train(log=False)
    res = error_rates(trainer.model, trainer.task, 4, 128, np.random.default_rng(9))
    assert res.sequence_error < 0.1
