"""Policies: observation routing, recurrent predict vs episode replay, PPO/A2C with the MLP controller."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from gymnasium import spaces
from stable_baselines3 import A2C, PPO

from agents.controllers import LSTMController
from agents.policies import ControllerActorCriticPolicy, ControllerPolicy, ObservationLayout

NAMES = ("input_symbol", "memory_symbol", "input_head", "memory_head", "tape[0]", "tape[1]", "tape[2]")
DIMS = (4, 4, 9, 9, 4, 4, 4)


def make_policy(controller="lstm", **kwargs) -> ControllerPolicy:
    torch.manual_seed(0)
    kwargs.setdefault("controller_kwargs", {"hidden_size": 8} if controller != "mlp" else {})
    return ControllerPolicy(
        spaces.MultiDiscrete(DIMS),
        spaces.MultiDiscrete([3, 3, 2, 3]),
        lambda _: 1e-3,
        controller_class=controller,
        observation_names=NAMES,
        action_names=("input_move", "memory_move", "output_write", "output_symbol"),
        **kwargs,
    )


def random_obs(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.stack([rng.integers(0, d, size=n) for d in DIMS], axis=-1)


def test_layout_routes_components() -> None:
    layout = ObservationLayout.build(DIMS, NAMES)
    obs = torch.as_tensor(random_obs(5))
    features, context = layout.split(obs)
    assert features.shape == (5, 8)  # one-hot input_symbol (4) + memory_symbol (4)
    assert torch.equal(features[:, :4].argmax(-1), obs[:, 0])
    assert torch.equal(context["memory_head"], obs[:, 3])
    assert torch.equal(context["input_head"], obs[:, 2])
    assert torch.equal(context["tape"], obs[:, 4:])


def test_head_features_put_the_head_positions_into_the_features_too(tmp_path) -> None:
    layout = ObservationLayout.build(DIMS, NAMES, head_features=("input_head", "memory_head"))
    obs = torch.as_tensor(random_obs(5))
    features, context = layout.split(obs)
    assert features.shape == (5, 4 + 4 + 9 + 9)  # input_symbol, memory_symbol, input_head, memory_head
    assert torch.equal(features[:, 8:17].argmax(-1), obs[:, 2])
    assert torch.equal(context["input_head"], obs[:, 2])  # still context, for the tape controllers
    policy = make_policy("mlp", head_features=True)
    moved = obs.clone()
    moved[:, 2] = (moved[:, 2] + 1) % 9  # only the input head differs: the controller sees the change
    latents = [policy.controller.step(policy.layout.split(o)[0], ())[0] for o in (obs, moved)]
    assert not torch.allclose(latents[0], latents[1])
    plain = make_policy("mlp")
    latents = [plain.controller.step(plain.layout.split(o)[0], ())[0] for o in (obs, moved)]
    torch.testing.assert_close(latents[0], latents[1])  # without head_features it does not
    policy.save(str(tmp_path / "p.pt"))
    assert ControllerPolicy.load(str(tmp_path / "p.pt")).head_features
    only_input = make_policy("mlp", head_features=["input_head"])
    assert only_input.layout.feature_sizes == (4, 4, 9) and only_input.head_features == ("input_head",)
    for bad in ("input_head", ["input_symbol"], 3):
        with pytest.raises(ValueError, match="head_features must be a bool or names among"):
            make_policy("mlp", head_features=bad)
    with pytest.raises(ValueError, match=r"needs \['output_head'\] in the observation"):
        make_policy("mlp", head_features=["output_head"])
    with pytest.raises(ValueError, match="head_features=True needs head positions"):
        ControllerPolicy(
            spaces.MultiDiscrete([3]),
            spaces.MultiDiscrete([2]),
            lambda _: 1e-3,
            controller_class="mlp",
            observation_names=("input_symbol",),
            head_features=True,
        )


def test_layout_errors() -> None:
    with pytest.raises(ValueError, match="observation_names has 2 entries"):
        ObservationLayout.build((3, 3, 3), ("a", "b"))
    with pytest.raises(ValueError, match="no feature component"):
        ObservationLayout.build((3,), ("memory_head",))


def test_controller_by_class_and_errors() -> None:
    policy = make_policy(LSTMController)
    assert isinstance(policy.controller, LSTMController)
    with pytest.raises(ValueError, match="unknown controller 'nope'"):
        make_policy("nope")
    with pytest.raises(TypeError, match="controller_class"):
        make_policy(3)
    with pytest.raises(TypeError, match="action space must be Discrete or MultiDiscrete"):
        ControllerPolicy(spaces.MultiDiscrete(DIMS), spaces.Box(0, 1, (2,)), lambda _: 1e-3)
    with pytest.raises(ValueError, match="observe_tape"):
        ControllerPolicy(spaces.MultiDiscrete([3]), spaces.MultiDiscrete([2]), lambda _: 1e-3, offline_baseline=True)


@pytest.mark.parametrize("controller", ["lstm", "gru", "mlp", "rlntm", "rlntm_direct"])
def test_predict_with_state_matches_episode_replay(controller: str) -> None:
    """Stepping with predict (state passed back, as RecurrentPPO) gives the argmax of the replayed episode."""
    policy = make_policy(controller)
    steps = [random_obs(4, seed=t) for t in range(6)]
    state, starts, actions = None, np.ones(4, dtype=bool), []
    for obs in steps:
        act, state = policy.predict(obs, state, starts, deterministic=True)
        actions.append(act)
        starts = np.zeros(4, dtype=bool)
    obs_seq = torch.as_tensor(np.stack(steps))
    with torch.no_grad():
        out = policy.evaluate_episodes(obs_seq, torch.as_tensor(np.stack(actions)))
        greedy = torch.stack([lp.argmax(-1) for lp in out.log_softmax], dim=-1)
    np.testing.assert_array_equal(greedy.numpy(), np.stack(actions))
    assert out.log_prob.shape == (6, 4, 4) and out.entropy.shape == (6, 4, 4)


def test_predict_single_observation_and_episode_start_resets() -> None:
    policy = make_policy()
    obs = random_obs(1)[0]
    act, state = policy.predict(obs, deterministic=True)
    assert act.shape == (4,)
    assert len(state) == 2 and state[0].shape == (1, 1, 8)
    fresh, _ = policy.predict(obs, state, np.array([True]), deterministic=True)
    np.testing.assert_array_equal(fresh, act)
    with pytest.raises(ValueError, match="state batch size"):
        policy.predict(random_obs(3), state)


def test_offline_baseline_reads_tape() -> None:
    policy = make_policy(offline_baseline=True)
    obs = torch.as_tensor(np.stack([random_obs(2, seed=t) for t in range(3)]))
    out = policy.evaluate_episodes(obs, torch.zeros(3, 2, 4, dtype=torch.long))
    assert out.baseline.shape == (3, 2)


def test_fixed_actions_are_never_sampled_and_carry_no_score_or_entropy(tmp_path) -> None:
    policy = make_policy(fixed_actions={"memory_move": 1})
    obs = random_obs(64)
    actions, _ = policy.predict(obs)  # sampled
    assert (actions[:, 1] == 1).all() and len(np.unique(actions[:, 0])) > 1
    seq = torch.as_tensor(np.stack([random_obs(5, seed=t) for t in range(3)]))
    taken = torch.as_tensor(np.tile([2, 1, 1, 0], (3, 5, 1)))
    out = policy.evaluate_episodes(seq, taken)
    assert (out.log_prob[..., 1] == 0).all() and (out.entropy[..., 1] == 0).all()
    assert (out.log_prob[..., 0] < 0).all() and (out.entropy[..., 0] > 0).all()
    policy.save(str(tmp_path / "p.pt"))
    assert ControllerPolicy.load(str(tmp_path / "p.pt")).fixed_actions == {"memory_move": 1}


def test_fixed_actions_errors() -> None:
    with pytest.raises(ValueError, match="fixed_actions names 'memory_write', not an action component"):
        make_policy(fixed_actions={"memory_write": 0})
    with pytest.raises(ValueError, match=r"fixed_actions\['output_write'\] must be an integer in \[0, 1\], got 2"):
        make_policy(fixed_actions={"output_write": 2})
    with pytest.raises(ValueError, match="fixed_actions needs action_names"):
        ControllerPolicy(spaces.MultiDiscrete([3]), spaces.MultiDiscrete([2]), lambda _: 1e-3, fixed_actions={"a": 0})


def test_policy_save_load_roundtrip(tmp_path) -> None:
    policy = make_policy("rlntm", controller_kwargs={"hidden_size": 8, "memory_size": 9})
    policy.save(str(tmp_path / "p.pt"))
    loaded = ControllerPolicy.load(str(tmp_path / "p.pt"))
    obs = random_obs(3)
    np.testing.assert_array_equal(
        policy.predict(obs, deterministic=True)[0], loaded.predict(obs, deterministic=True)[0]
    )


@pytest.mark.parametrize(("algo", "extra"), [(PPO, {"batch_size": 32}), (A2C, {})])
def test_mlp_controller_in_ppo_and_a2c(algo, extra) -> None:
    from stable_baselines3.common.envs import IdentityEnvMultiDiscrete

    env = IdentityEnvMultiDiscrete(dim=2, ep_length=8)
    model = algo(
        ControllerActorCriticPolicy,
        env,
        n_steps=32,
        seed=0,
        **extra,
        policy_kwargs=dict(controller_class="mlp", controller_kwargs={"hidden_sizes": (16,)}),
    )
    model.learn(64)
    action, _ = model.predict(env.reset()[0], deterministic=True)
    assert env.action_space.contains(action)


def test_recurrent_controller_refused_by_ppo() -> None:
    from stable_baselines3.common.envs import IdentityEnvMultiDiscrete

    with pytest.raises(ValueError, match="stateless"):
        PPO(ControllerActorCriticPolicy, IdentityEnvMultiDiscrete(dim=2), policy_kwargs=dict(controller_class="lstm"))


def test_head_position_features_saturate_past_the_trained_tape() -> None:
    """A policy that sees its head position as a one-hot feature, evaluated on a longer tape than it was built
    for (the suites evaluate at 10x and 100x the training length), reads a far position as its last class."""
    layout = ObservationLayout.build([5, 4], ["input", "input_head"], head_features=["input_head"])
    features, context = layout.split(torch.tensor([[1, 2], [1, 3], [1, 9]]))
    assert features[:, 5:].argmax(-1).tolist() == [2, 3, 3]
    assert context["input_head"].tolist() == [2, 3, 9]  # the context keeps the true position
    with pytest.raises(RuntimeError):  # other features still refuse values outside their space
        layout.split(torch.tensor([[7, 0]]))
