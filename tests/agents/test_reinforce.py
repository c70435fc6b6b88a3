"""Reinforce: the SB3 contract (learn, predict with state, save/load, callbacks, logging, devices), the loss
parts, and learning tests against a reward threshold (SB3 identity-test style)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.env_util import make_vec_env

from agents.reinforce import EpisodeBatch, Reinforce, ReinforceConfig, reinforce_loss, reward_to_go
from memtape_env.sb3 import MemTapeVecEnv

pytestmark = pytest.mark.filterwarnings("ignore:The `render_mode` attribute")


pytestmark = pytest.mark.usefixtures("one_thread")


LSTM = dict(controller_class="lstm", controller_kwargs={"hidden_size": 32})


def copy_env(n: int = 8, length: int = 2, seed: int = 0, **kwargs) -> MemTapeVecEnv:
    return MemTapeVecEnv("memtape/ClassicCopy-v0", n, seed=seed, curriculum="none", length=length, **kwargs)


def make_model(env=None, **kwargs) -> Reinforce:
    kwargs.setdefault("policy_kwargs", LSTM)
    kwargs.setdefault("seed", 0)
    return Reinforce("ControllerPolicy", env if env is not None else copy_env(), **kwargs)


def evaluate(model: Reinforce, env: MemTapeVecEnv, n_episodes: int) -> float:
    """Mean return of deterministic episodes, carrying the recurrent state as RecurrentPPO users do."""
    obs, state, starts = env.reset(), None, np.ones(env.num_envs, dtype=bool)
    returns, running = [], np.zeros(env.num_envs)
    while len(returns) < n_episodes:
        actions, state = model.predict(obs, state, starts, deterministic=True)
        obs, rewards, dones, _ = env.step(actions)
        running += rewards
        for i in np.flatnonzero(dones):
            returns.append(running[i])
            running[i] = 0.0
        starts = dones
    return float(np.mean(returns[:n_episodes]))


# ----------------------------------------------------------------------------- hyperparameters and loss
def test_hyperparameter_errors_name_the_problem() -> None:
    with pytest.raises(TypeError, match="bogus"):
        make_model(bogus=1)
    with pytest.raises(ValueError, match="baseline must be one of"):
        ReinforceConfig(baseline="median")
    with pytest.raises(ValueError, match="batch_episodes"):
        ReinforceConfig(batch_episodes=0)
    with pytest.raises(ValueError, match="gamma"):
        ReinforceConfig(gamma=0.0)
    with pytest.raises(ValueError, match="greedy_output_symbol"):
        ReinforceConfig(greedy_output_symbol=True)
    with pytest.raises(TypeError, match="config"):  # hyperparameters are keywords of their own, as in SB3
        make_model(config=ReinforceConfig())
    with pytest.raises(ValueError, match="output_symbol"):
        make_model(supervised_output=True, policy_kwargs={**LSTM, "action_names": ("a", "b", "c")})
    with pytest.raises(ValueError, match="observe_tape"):
        make_model(baseline="offline")


def test_reward_to_go_is_future_only_and_masked() -> None:
    rewards = torch.tensor([[1.0, 2.0], [0.0, 3.0], [4.0, 9.0]])
    mask = torch.tensor([[1.0, 1.0], [1.0, 1.0], [1.0, 0.0]])
    expected = torch.tensor([[1.0 + 0.5 * 0.0 + 0.25 * 4.0, 2.0 + 0.5 * 3.0], [0.0 + 0.5 * 4.0, 3.0], [4.0, 0.0]])
    torch.testing.assert_close(reward_to_go(rewards, mask, 0.5), expected)


def _batch(model: Reinforce, targets: int) -> EpisodeBatch:
    model._setup_learn(1)
    episodes = model.collect_episodes(model.env, model._init_callback(None))
    batch = model._to_batch(episodes)
    batch.targets.fill_(-1) if targets < 0 else batch.targets.clamp_(min=0, max=targets)
    return batch


def test_supervised_output_trains_the_symbol_by_backprop_only() -> None:
    """With the hybrid objective, output_symbol gets gradient from the targets, not from the rewards."""
    model = make_model(
        copy_env(4), supervised_output=True, ent_coef=0.0, batch_episodes=4, baseline="none", normalize_advantage=False
    )
    head = model.policy.action_head.linear
    symbol_rows = slice(2 + 2, 2 + 2 + 5)  # after input_move (2) and output_write (2)
    batch = _batch(model, targets=-1)
    loss, stats = reinforce_loss(model.policy, batch, model.config)
    model.policy.zero_grad()
    loss.backward()
    assert head.bias.grad[symbol_rows].abs().sum() == 0
    assert head.bias.grad[:4].abs().sum() > 0
    batch = _batch(model, targets=3)
    loss, stats = reinforce_loss(model.policy, batch, model.config)
    model.policy.zero_grad()
    loss.backward()
    assert head.bias.grad[symbol_rows].abs().sum() > 0
    assert stats["supervised_loss"] > 0


def test_supervised_symbol_is_left_out_of_the_entropy_bonus() -> None:
    model = make_model(copy_env(4), supervised_output=True, batch_episodes=4, baseline="none")
    batch = _batch(model, targets=3)
    _, stats = reinforce_loss(model.policy, batch, model.config)
    with torch.no_grad():
        entropy = model.policy.evaluate_episodes(batch.obs, batch.actions).entropy
    mask = batch.mask.float()
    rl_only = (entropy[..., :2].sum(-1) * mask).sum() / mask.sum()  # input_move, output_write
    torch.testing.assert_close(stats["entropy"], rl_only)
    assert stats["entropy"] < (entropy.sum(-1) * mask).sum() / mask.sum()


def test_sampled_predict_writes_the_argmax_symbol_as_in_training() -> None:
    model = make_model(copy_env(64), supervised_output=True, greedy_output_symbol=True)
    obs = model.env.reset()
    sampled, _ = model.predict(obs, deterministic=False)
    greedy, _ = model.predict(obs, deterministic=True)
    np.testing.assert_array_equal(sampled[:, 2], greedy[:, 2])
    assert (sampled[:, :2] != greedy[:, :2]).any()  # moves and write decisions are still sampled


# ----------------------------------------------------------------------------- the SB3 contract
@pytest.mark.parametrize("device", ["cpu", "auto"])
def test_device_placement(device: str) -> None:
    model = make_model(device=device, batch_episodes=4)
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert model.device.type == expected
    assert all(p.device.type == expected for p in model.policy.parameters())
    model.learn(200)
    assert model._state is not None and all(s.device.type == expected for s in model._state)


def test_learn_is_deterministic_for_a_seed() -> None:
    params = []
    for _ in range(2):
        model = make_model(batch_episodes=4)
        model.learn(600)
        params.append(torch.nn.utils.parameters_to_vector(model.policy.parameters()).detach())
    torch.testing.assert_close(params[0], params[1], rtol=0, atol=0)


def test_save_load_roundtrip(tmp_path) -> None:
    model = make_model(batch_episodes=4, ent_coef=0.02)
    model.learn(800)
    model.save(tmp_path / "model.zip")
    loaded = Reinforce.load(tmp_path / "model.zip", env=copy_env())
    assert loaded.config == model.config
    np.testing.assert_array_equal(loaded._online_baseline, model._online_baseline)
    env = copy_env(4, seed=3)
    obs = env.reset()
    a1, s1 = model.predict(obs, deterministic=True)
    a2, s2 = loaded.predict(obs, deterministic=True)
    np.testing.assert_array_equal(a1, a2)
    loaded.learn(200, reset_num_timesteps=False)
    assert loaded.num_timesteps > model.num_timesteps


@pytest.mark.filterwarnings("ignore:rich is experimental")
def test_callbacks_logger_tensorboard_and_progress_bar(tmp_path) -> None:
    class Count(BaseCallback):
        def __init__(self) -> None:
            super().__init__()
            self.steps = self.rollouts = 0

        def _on_step(self) -> bool:
            self.steps += 1
            return self.num_timesteps < 400

        def _on_rollout_end(self) -> None:
            self.rollouts += 1

    callback = Count()
    model = make_model(batch_episodes=4, tensorboard_log=str(tmp_path))
    model.learn(10_000, callback=callback, progress_bar=True)
    assert 400 <= model.num_timesteps < 10_000  # stopped by the callback
    assert callback.steps == model.num_timesteps // 8
    assert callback.rollouts >= 1
    assert list(tmp_path.rglob("events.out.tfevents*"))


def test_string_env_and_env_names_from_a_gym_env() -> None:
    env = make_vec_env("memtape/ClassicCopy-v0", n_envs=2, seed=0, env_kwargs=dict(curriculum="none", length=2))
    model = Reinforce("ControllerPolicy", env, policy_kwargs=LSTM, batch_episodes=2, supervised_output=True, seed=0)
    assert model.policy.action_names == ("input_move", "output_write", "output_symbol")
    model.learn(100)
    assert len(model.ep_info_buffer) > 0  # make_vec_env adds a Monitor: SB3's episode stats work too


def test_offline_baseline_and_tape_controller_on_forward_reverse() -> None:
    env = MemTapeVecEnv(
        "memtape/ForwardReverse-v0", 4, seed=0, curriculum="none", length=3, observe_heads=True, observe_tape=12
    )
    model = Reinforce(
        "ControllerPolicy",
        env,
        policy_kwargs=dict(
            controller_class="rlntm_direct",
            controller_kwargs={"hidden_size": 16, "memory_size": 40},
            fixed_actions={"memory_write": 0},
        ),
        baseline="offline",
        supervised_output=True,
        batch_episodes=4,
        seed=0,
    )
    assert model.policy.baseline is not None
    model.learn(300, log_interval=10**9)  # no dump: the last update's values stay readable
    values = model.logger.name_to_value
    assert "train/baseline_loss" in values and np.isfinite(values["train/baseline_loss"])
    assert values["train/supervised_loss"] >= 0  # zero when no episode reached a write
    memory_write = model.policy.action_index("memory_write")
    assert (_batch(model, targets=-1).actions[..., memory_write] == 0).all()  # fixed: never sampled


# ----------------------------------------------------------------------------- learning (SB3 identity style)
def test_lstm_solves_classic_copy_hybrid_objective() -> None:
    """RL-NTM hybrid agent (moves by REINFORCE, symbols by backprop): classic Copy at length 3, max return 3."""
    model = make_model(copy_env(16, length=3), batch_episodes=16, learning_rate=3e-3, supervised_output=True)
    model.learn(40_000)
    assert evaluate(model, copy_env(16, length=3, seed=123), 64) >= 2.9


def test_lstm_solves_classic_copy_pure_reinforce() -> None:
    """Pure REINFORCE (every action component by the score function): classic Copy at length 2, max return 2."""
    model = make_model(copy_env(16, length=2), batch_episodes=16, learning_rate=3e-3)
    model.learn(100_000)
    assert evaluate(model, copy_env(16, length=2, seed=123), 64) >= 1.9


@pytest.mark.parametrize("controller", ["lstm", "dnc"])
def test_replay_in_groups_matches_one_padded_replay(controller: str) -> None:
    """replay_groups > 1 replays groups of similar length, each cut to its longest: the same loss and gradients
    up to float rounding, outputs 0 past the longest episode of each group."""
    kwargs = {"controller_class": controller}
    if controller == "dnc":
        kwargs["controller_kwargs"] = {"memory_size": 8, "word_size": 8}
    env = MemTapeVecEnv("memtape/ClassicReverse-v0", 16, seed=0)
    model = make_model(env, supervised_output=True, batch_episodes=16, policy_kwargs=kwargs)
    batch = _batch(model, targets=3)
    lengths = batch.mask.sum(0)
    assert len(set(lengths.tolist())) > 1  # episodes of several lengths
    grads = []
    for groups in (1, 3):
        config = ReinforceConfig(supervised_output=True, replay_groups=groups)
        online = torch.zeros(batch.mask.shape[0])
        loss, stats = reinforce_loss(model.policy, batch, config, online_baseline=online)
        model.policy.zero_grad()
        loss.backward()
        grads.append([p.grad.clone() for p in model.policy.parameters() if p.grad is not None])
        if groups == 1:
            reference = loss.detach()
        else:
            torch.testing.assert_close(loss.detach(), reference, rtol=1e-5, atol=1e-6)
    for g1, g3 in zip(*grads, strict=True):
        torch.testing.assert_close(g3, g1, rtol=1e-4, atol=1e-6)
    with torch.no_grad():
        grouped = model.policy.evaluate_episodes(batch.obs, batch.actions, lengths, 3)
        whole = model.policy.evaluate_episodes(batch.obs, batch.actions)
    mask = batch.mask.unsqueeze(-1)
    torch.testing.assert_close(grouped.log_prob * mask, whole.log_prob * mask, rtol=1e-5, atol=1e-6)
    shortest = lengths.argmin()
    assert (grouped.log_prob[lengths.max() - 1, shortest] == 0).all()  # past its group's longest episode
    for bad in (0, "4", 2.5):
        with pytest.raises(ValueError, match='replay_groups must be a positive integer.*or "auto"'):
            ReinforceConfig(replay_groups=bad)


def test_auto_replay_groups_keep_small_batches_in_one_padded_replay(monkeypatch: pytest.MonkeyPatch) -> None:
    """The default "auto" replays the presets' batches (tens of episodes) as one padded batch, bit for bit the
    replay_groups=1 update, and groups batches of hundreds of episodes."""
    from agents.reinforce.config import AUTO_GROUPS, AUTO_GROUPS_FROM

    auto = ReinforceConfig()
    assert auto.replay_groups == "auto" and ReinforceConfig(replay_groups=3).replay_groups_for(10_000) == 3
    assert [auto.replay_groups_for(n) for n in (1, 16, AUTO_GROUPS_FROM - 1)] == [1, 1, 1]
    assert [auto.replay_groups_for(n) for n in (AUTO_GROUPS_FROM, 4096)] == [AUTO_GROUPS, AUTO_GROUPS]
    env = MemTapeVecEnv("memtape/ClassicReverse-v0", 16, seed=0)
    model = make_model(env, supervised_output=True, batch_episodes=16)
    batch = _batch(model, targets=3)
    calls = []
    real = model.policy.evaluate_episodes
    monkeypatch.setattr(model.policy, "evaluate_episodes", lambda *a: calls.append(len(a)) or real(*a))
    online = torch.zeros(batch.mask.shape[0])
    losses = [reinforce_loss(model.policy, batch, ReinforceConfig(supervised_output=True, replay_groups=g),
                             online_baseline=online)[0] for g in ("auto", 1)]  # fmt: skip
    assert calls == [2, 2] and torch.equal(losses[0], losses[1])


def test_signature_names_every_hyperparameter_with_the_config_default() -> None:
    """SB3 style: every ReinforceConfig field is an explicit keyword of Reinforce with the same default and
    annotation, and every other keyword is one of SB3's common ones: the two cannot drift apart."""
    import dataclasses
    import inspect
    import typing

    from agents.reinforce import Reinforce, ReinforceConfig

    params = inspect.signature(Reinforce.__init__).parameters
    hints, config_hints = typing.get_type_hints(Reinforce.__init__), typing.get_type_hints(ReinforceConfig)
    fields = {f.name: f.default for f in dataclasses.fields(ReinforceConfig)}
    sb3 = {"self", "policy", "env", "policy_kwargs", "stats_window_size", "tensorboard_log", "verbose", "seed"}
    sb3 |= {"device", "_init_setup_model"}
    assert set(params) - sb3 == set(fields)
    for name, default in fields.items():
        assert params[name].default == default, name
        assert params[name].kind is inspect.Parameter.POSITIONAL_OR_KEYWORD, name
        assert hints[name] == config_hints[name], name
    assert all(p.kind is not inspect.Parameter.VAR_KEYWORD for p in params.values())
    model = make_model(gamma=0.5, replay_groups=2)  # the constructor builds (and validates) its config
    assert model.config == ReinforceConfig(gamma=0.5, replay_groups=2)
    with pytest.raises(ValueError, match="replay_groups"):
        make_model(replay_groups=0)


def test_entropy_sum_weighs_the_bonus_per_episode_like_the_score_function() -> None:
    """entropy_sum: the bonus is w_b sum_t H_t, the scale of the score-function term, so it is the per-step mean
    times the mean episode length; the rest of the loss is unchanged."""
    env = MemTapeVecEnv("memtape/ClassicReverse-v0", 8, seed=0)
    model = make_model(env, supervised_output=True, batch_episodes=8)
    batch = _batch(model, targets=3)
    online = torch.zeros(batch.mask.shape[0])
    mean_len = batch.mask.sum() / batch.mask.shape[1]
    assert mean_len > 1
    parts = {}
    for summed in (False, True):
        config = ReinforceConfig(supervised_output=True, ent_coef=0.5, entropy_sum=summed)
        loss, stats = reinforce_loss(model.policy, batch, config, online_baseline=online)
        parts[summed] = (loss.detach(), stats)
    torch.testing.assert_close(parts[True][1]["entropy"], parts[False][1]["entropy"] * mean_len)
    torch.testing.assert_close(parts[True][1]["policy_loss"], parts[False][1]["policy_loss"])
    torch.testing.assert_close(
        parts[True][0] + 0.5 * parts[True][1]["entropy"], parts[False][0] + 0.5 * parts[False][1]["entropy"]
    )
    with pytest.raises(ValueError, match="entropy_sum must be True or False"):
        ReinforceConfig(entropy_sum="yes")
