"""SB3 policies that embed any `Controller` and produce the MultiDiscrete action distribution.

Extending: pick a controller with `policy_kwargs=dict(controller_class=..., controller_kwargs={...})`, where
`controller_class` is a `Controller` subclass or a name in `agents.controllers.CONTROLLERS` (every registered
controller: `memtape list` prints them). The policy builds `controller_class(input_dim=..., **controller_kwargs)`,
so a new controller needs only that constructor and an entry in `CONTROLLERS` to work here and in Reinforce.

Observations are MultiDiscrete; each component is routed by its name (`observation_names`, which Reinforce
fills in from the env's `observation_names`):
- head positions (`input_head`, `input_row`, `memory_head`, `output_head`) go to the controller as `context[name]`,
  long tensors of shape (batch,), and, with `ControllerPolicy(head_features=True)`, also into the features;
- the whole input tape `tape[0..W-1]` (env kwarg `observe_tape=W`) goes as `context["tape"]`, (batch, W);
- every other component (`input_symbol`, `memory_symbol`, `prev_*`) is one-hot encoded into the features.
In `sequence` form the context tensors carry a leading time axis, as `Controller.sequence` expects.

- `ControllerPolicy`: the recurrent policy of `agents.reinforce.Reinforce` (optionally with the RL-NTM
  offline baseline network); `predict` takes and returns the recurrent state like RecurrentPPO's.
- `ControllerActorCriticPolicy`: an `ActorCriticPolicy` whose latent network is a stateless controller
  (the MLP), for SB3's PPO and A2C:
  `PPO(ControllerActorCriticPolicy, env, policy_kwargs=dict(controller_class="mlp"))`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import torch
from gymnasium import spaces
from stable_baselines3.common.policies import ActorCriticPolicy, BasePolicy
from stable_baselines3.common.type_aliases import Schedule
from torch import nn
from torch.nn import functional as F

from agents.controllers import CONTROLLERS, Context, Controller, State, reset_state
from memtape_env.validation import check_int

HEAD_COMPONENTS = ("input_head", "input_row", "memory_head", "output_head")


def resolve_controller(controller_class: str | type[Controller]) -> type[Controller]:
    """The controller class for a registered name or a `Controller` subclass."""
    if isinstance(controller_class, str):
        if controller_class not in CONTROLLERS:
            raise ValueError(f"unknown controller {controller_class!r}; registered: {sorted(CONTROLLERS)}")
        return CONTROLLERS[controller_class]
    if isinstance(controller_class, type) and issubclass(controller_class, Controller):
        return controller_class
    raise TypeError(f"controller_class must be a registered name or a Controller subclass, got {controller_class!r}")


def space_dims(space: spaces.Space, what: str) -> list[int]:
    """The category counts of a Discrete or MultiDiscrete space (the only kinds these policies take)."""
    if isinstance(space, spaces.MultiDiscrete):
        if space.nvec.ndim != 1:
            raise ValueError(f"{what} space must be a 1-D MultiDiscrete, got nvec of shape {space.nvec.shape}")
        return [int(n) for n in space.nvec]
    if isinstance(space, spaces.Discrete):
        return [int(space.n)]
    raise TypeError(f"{what} space must be Discrete or MultiDiscrete, got {space}")


def head_feature_names(head_features: bool | Sequence[str], observation_names: Sequence[str] | None) -> tuple[str, ...]:
    """The observed heads that `ControllerPolicy(head_features=...)` also encodes as features, validated."""
    valid = isinstance(head_features, bool) or (
        isinstance(head_features, Sequence)
        and not isinstance(head_features, str)
        and set(head_features) <= set(HEAD_COMPONENTS)
    )
    if not valid:
        raise ValueError(f"head_features must be a bool or names among {HEAD_COMPONENTS}, got {head_features!r}")
    observed = tuple(name for name in observation_names or () if name in HEAD_COMPONENTS)
    if head_features is False:
        return ()
    wanted = observed if head_features is True else tuple(head_features)
    missing = [name for name in wanted if name not in observed]
    if missing or not wanted:
        raise ValueError(
            f"head_features={head_features!r} needs {missing or 'head positions'} in the observation: make the "
            f"env with observe_heads=True (observed heads: {list(observed)})"
        )
    return wanted


@dataclass(frozen=True)
class ObservationLayout:
    """How the observation components split into one-hot features and controller context."""

    feature_index: tuple[int, ...]
    feature_sizes: tuple[int, ...]
    head_index: dict[str, int]
    tape_index: tuple[int, ...]
    tape_vocab: int

    @classmethod
    def build(
        cls, dims: Sequence[int], names: Sequence[str] | None, head_features: Sequence[str] = ()
    ) -> ObservationLayout:
        """Route the components by name; the heads named in `head_features` are also one-hot features."""
        if names is None:
            names = [f"obs[{i}]" for i in range(len(dims))]
        names = list(names)
        if len(names) != len(dims):
            raise ValueError(f"observation_names has {len(names)} entries but the observation space has {len(dims)}")
        feature_index, head_index, tape_index = [], {}, []
        for i, name in enumerate(names):
            if name in HEAD_COMPONENTS:
                head_index[name] = i
                if name in head_features:
                    feature_index.append(i)
            elif name.startswith("tape["):
                tape_index.append(i)
            else:
                feature_index.append(i)
        if not feature_index:
            raise ValueError(f"the observation has no feature component (names {names})")
        return cls(
            feature_index=tuple(feature_index),
            feature_sizes=tuple(dims[i] for i in feature_index),
            head_index=head_index,
            tape_index=tuple(tape_index),
            tape_vocab=max((dims[i] for i in tape_index), default=0),
        )

    @property
    def feature_dim(self) -> int:
        return sum(self.feature_sizes)

    def split(self, obs: torch.Tensor, dtype: torch.dtype = torch.float32) -> tuple[torch.Tensor, Context]:
        """Map integer observations (..., n_components) to one-hot features (..., feature_dim) and context.

        A head position past the feature's size (a policy trained on short tapes, evaluated on longer ones) reads
        as the last position it was trained with: training never sees one, so this changes no trained result."""
        obs = obs.long()
        heads = self.head_index.values()
        parts = [
            F.one_hot(obs[..., i].clamp(max=n - 1) if i in heads else obs[..., i], n)
            for i, n in zip(self.feature_index, self.feature_sizes, strict=True)
        ]
        features = torch.cat(parts, dim=-1).to(dtype)
        context: Context = {name: obs[..., i] for name, i in self.head_index.items()}
        if self.tape_index:
            context["tape"] = obs[..., list(self.tape_index)]
        return features, context


class MultiCategoricalHead(nn.Module):
    """Logits for every action component; log-probabilities, entropies and samples per component."""

    def __init__(self, latent_dim: int, action_dims: Sequence[int]) -> None:
        super().__init__()
        self.action_dims = list(action_dims)
        self.linear = nn.Linear(latent_dim, sum(self.action_dims))

    def log_softmax(self, latent: torch.Tensor) -> list[torch.Tensor]:
        return [F.log_softmax(z, dim=-1) for z in torch.split(self.linear(latent), self.action_dims, dim=-1)]

    @staticmethod
    def log_prob(log_probs: list[torch.Tensor], actions: torch.Tensor) -> torch.Tensor:
        """Per-component log-probabilities (..., n_components) of integer `actions` (..., n_components)."""
        return torch.stack(
            [lp.gather(-1, actions[..., k : k + 1].long()).squeeze(-1) for k, lp in enumerate(log_probs)],
            dim=-1,
        )

    @staticmethod
    def entropy(log_probs: list[torch.Tensor]) -> torch.Tensor:
        return torch.stack([-(lp.exp() * lp).sum(-1) for lp in log_probs], dim=-1)

    @staticmethod
    def sample(log_probs: list[torch.Tensor], greedy: Sequence[bool]) -> torch.Tensor:
        """One action per component: argmax where `greedy[k]`, else a sample."""
        chosen = []
        for lp, argmax in zip(log_probs, greedy, strict=True):
            if argmax:
                chosen.append(lp.argmax(-1))
            else:
                chosen.append(torch.multinomial(lp.exp().reshape(-1, lp.shape[-1]), 1).view(lp.shape[:-1]))
        return torch.stack(chosen, dim=-1)


class OfflineBaseline(nn.Module):
    """The RL-NTM offline baseline: an LSTM that first reads the whole input tape, then runs beside the
    controller.

    It predicts the return-to-go b_t at every step from the tape and the observations so far; Reinforce trains
    it on (R_t:T - b_t)^2 and subtracts the (detached) prediction from the returns.
    """

    def __init__(self, feature_dim: int, tape_vocab: int, hidden_size: int = 64) -> None:
        super().__init__()
        self.embed = nn.Embedding(tape_vocab, hidden_size)
        self.tape_reader = nn.LSTM(hidden_size, hidden_size)
        self.runner = nn.LSTM(feature_dim, hidden_size)
        self.value = nn.Linear(hidden_size, 1)

    def forward(self, features: torch.Tensor, tape: torch.Tensor) -> torch.Tensor:
        """`features` (T, B, F) and the tape at the episode start (B, W) -> baseline (T, B)."""
        _, state = self.tape_reader(self.embed(tape.long()).transpose(0, 1))
        out, _ = self.runner(features, state)
        return self.value(out).squeeze(-1)


class EpisodeReplay(NamedTuple):
    """What replaying whole episodes through the policy gives (`ControllerPolicy.evaluate_episodes`)."""

    log_prob: torch.Tensor  # (T, B, n_actions): log-probability of each action component taken
    entropy: torch.Tensor  # (T, B, n_actions): entropy of each component's distribution
    log_softmax: list[torch.Tensor]  # per component, (T, B, n_choices): its log-probabilities
    baseline: torch.Tensor | None  # (T, B): the offline baseline's values, None without one


class ControllerPolicy(BasePolicy):
    """Recurrent MultiDiscrete policy around a `Controller`, trained by `agents.reinforce.Reinforce`.

    :param controller_class: a `Controller` subclass or a name in `agents.controllers.CONTROLLERS`.
    :param controller_kwargs: keyword arguments of the controller (besides `input_dim`).
    :param observation_names: names of the observation components (routing, see the module docstring).
    :param action_names: names of the action components (Reinforce needs `output_write`/`output_symbol` for
        the hybrid objective).
    :param offline_baseline: build the RL-NTM offline baseline network (needs the `tape[i]` components).
    :param baseline_hidden_size: width of the offline baseline LSTM.
    :param head_features: also feed observed head positions (env `observe_heads=True`) to the controller as
        one-hot features, not only as context: True for every observed head, or the names of some (e.g.
        `("input_head",)`). A controller without state then knows where its heads are: on RepeatCopy that tells
        the first input cell, where the repeat count sits, from a data symbol equal to it.
    :param fixed_actions: action components that always take one value, by name (needs `action_names`), e.g.
        `{"memory_write": 0}`: the RL-NTM tape controller keeps its cell vectors itself, so the env's discrete
        memory write stays "keep". A fixed component is never sampled and adds nothing to the score-function
        term or the entropy.
    """

    def __init__(
        self,
        observation_space: spaces.Space,
        action_space: spaces.Space,
        lr_schedule: Schedule,
        controller_class: str | type[Controller] = "lstm",
        controller_kwargs: dict[str, Any] | None = None,
        observation_names: Sequence[str] | None = None,
        action_names: Sequence[str] | None = None,
        offline_baseline: bool = False,
        baseline_hidden_size: int = 64,
        fixed_actions: dict[str, int] | None = None,
        head_features: bool | Sequence[str] = False,
        optimizer_class: type[torch.optim.Optimizer] = torch.optim.Adam,
        optimizer_kwargs: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(
            observation_space,
            action_space,
            optimizer_class=optimizer_class,
            optimizer_kwargs=optimizer_kwargs,
            normalize_images=False,
        )
        self.controller_class = controller_class
        self.controller_kwargs = dict(controller_kwargs or {})
        self.observation_names = None if observation_names is None else tuple(observation_names)
        self.action_dims = space_dims(action_space, "action")
        if action_names is not None and len(action_names) != len(self.action_dims):
            raise ValueError(f"action_names has {len(action_names)} entries, the action space {len(self.action_dims)}")
        self.action_names = None if action_names is None else tuple(action_names)
        self.offline_baseline = offline_baseline
        self.baseline_hidden_size = baseline_hidden_size
        self.fixed_actions = dict(fixed_actions or {})
        self._fixed = self._fixed_components(self.fixed_actions)

        as_features = head_feature_names(head_features, self.observation_names)
        self.head_features = head_features if isinstance(head_features, bool) else as_features
        self.layout = ObservationLayout.build(
            space_dims(observation_space, "observation"), self.observation_names, as_features
        )
        self.controller = resolve_controller(controller_class)(
            input_dim=self.layout.feature_dim, **self.controller_kwargs
        )
        self.action_head = MultiCategoricalHead(self.controller.output_dim, self.action_dims)
        self.baseline: OfflineBaseline | None = None
        if offline_baseline:
            if not self.layout.tape_index:
                raise ValueError(
                    "the offline baseline reads the whole input tape first: make the env with "
                    "observe_tape=<width> (components tape[0..width-1]) and pass observation_names"
                )
            self.baseline = OfflineBaseline(self.layout.feature_dim, self.layout.tape_vocab, baseline_hidden_size)
        self.optimizer = self.optimizer_class(self.parameters(), lr=lr_schedule(1), **self.optimizer_kwargs)

    def _get_constructor_parameters(self) -> dict[str, Any]:
        data = super()._get_constructor_parameters()
        data.pop("normalize_images")  # observations are symbols, never images
        data.update(
            dict(
                lr_schedule=self._dummy_schedule,
                controller_class=self.controller_class,
                controller_kwargs=self.controller_kwargs,
                observation_names=self.observation_names,
                action_names=self.action_names,
                offline_baseline=self.offline_baseline,
                baseline_hidden_size=self.baseline_hidden_size,
                fixed_actions=self.fixed_actions,
                head_features=self.head_features,
                optimizer_class=self.optimizer_class,
                optimizer_kwargs=self.optimizer_kwargs,
            )
        )
        return data

    def _fixed_components(self, fixed_actions: dict[str, int]) -> dict[int, int]:
        """Validate `fixed_actions` against the action names and sizes: {component index: value}."""
        if fixed_actions and self.action_names is None:
            raise ValueError("fixed_actions needs action_names (the env's action_names) to find its components")
        fixed: dict[int, int] = {}
        for name, value in fixed_actions.items():
            if name not in self.action_names:  # type: ignore[operator]
                raise ValueError(
                    f"fixed_actions names {name!r}, not an action component; components: {self.action_names}"
                )
            k = self.action_names.index(name)  # type: ignore[union-attr]
            fixed[k] = check_int(f"fixed_actions[{name!r}]", value, 0, self.action_dims[k] - 1)
        return fixed

    def action_index(self, name: str) -> int | None:
        """Position of the action component `name`, or None when absent or names are unknown."""
        if self.action_names is None or name not in self.action_names:
            return None
        return self.action_names.index(name)

    def initial_state(self, batch_size: int) -> State:
        return self.controller.initial_state(batch_size, self.device)

    def step(
        self,
        obs: torch.Tensor,
        state: State,
        episode_starts: torch.Tensor,
        deterministic: bool = False,
        greedy_components: Sequence[bool] | None = None,
    ) -> tuple[torch.Tensor, State]:
        """Act on one batch of observations.

        :param obs: the observations (batch, n_components)
        :param state: the recurrent state
        :param episode_starts: (batch,); rows where it is set start from the initial state
        :param deterministic: take the argmax of every component instead of sampling
        :param greedy_components: take the argmax of the chosen components even when sampling (Reinforce's option
            for the supervised output symbol)
        :return: the actions (batch, n_actions) and the new state
        """
        if bool(episode_starts.any()):
            state = reset_state(state, self.initial_state(obs.shape[0]), episode_starts)
        features, context = self.layout.split(obs, self.action_head.linear.weight.dtype)
        latent, state = self.controller.step(features, state, context)
        greedy = [deterministic] * len(self.action_dims)
        if greedy_components is not None and not deterministic:
            greedy = list(greedy_components)
        actions = self.action_head.sample(self.action_head.log_softmax(latent), greedy)
        for k, value in self._fixed.items():
            actions[:, k] = value
        return actions, state

    def evaluate_episodes(
        self, obs: torch.Tensor, actions: torch.Tensor, lengths: torch.Tensor | None = None, groups: int = 1
    ) -> EpisodeReplay:
        """Replay whole episodes from their start; gradients flow through the whole sequence (BPTT).

        :param obs: the observations (T, B, n_obs)
        :param actions: the actions taken (T, B, n_actions)
        :param lengths: the episodes' lengths (B,), used with `groups`
        :param groups: with `lengths` and `groups` > 1, the episodes are replayed in that many groups of similar
            length, each cut to its own longest episode (less padding); outputs past the longest episode of a
            group are then 0
        :return: an `EpisodeReplay`: per-component `log_prob` and `entropy` (T, B, n_actions), the per-component
            `log_softmax` list, and `baseline` (T, B) when the offline baseline exists
        """
        if groups > 1 and lengths is not None:
            return self._evaluate_in_groups(obs, actions, lengths, groups)
        features, context = self.layout.split(obs, self.action_head.linear.weight.dtype)
        starts = torch.zeros(obs.shape[:2], dtype=torch.bool, device=obs.device)
        starts[0] = True
        latent, _ = self.controller.sequence(features, starts, self.initial_state(obs.shape[1]), context)
        log_probs = self.action_head.log_softmax(latent)
        log_prob = self.action_head.log_prob(log_probs, actions)
        entropy = self.action_head.entropy(log_probs)
        if self._fixed:  # fixed components are certain: log-probability and entropy 0
            free = torch.ones(len(self.action_dims), dtype=log_prob.dtype, device=obs.device)
            free[list(self._fixed)] = 0.0
            log_prob, entropy = log_prob * free, entropy * free
        baseline = None if self.baseline is None else self.baseline(features, context["tape"][0])
        return EpisodeReplay(log_prob, entropy, log_probs, baseline)

    def _evaluate_in_groups(
        self, obs: torch.Tensor, actions: torch.Tensor, lengths: torch.Tensor, groups: int
    ) -> EpisodeReplay:
        """`evaluate_episodes` over groups of episodes sorted by length, put back into the (T, B) layout."""
        horizon = obs.shape[0]
        order = torch.argsort(lengths, stable=True)
        parts: list[EpisodeReplay] = []
        for index in torch.tensor_split(order, min(groups, len(order))):
            steps = max(1, int(lengths[index].max()))
            parts.append(self.evaluate_episodes(obs[:steps, index], actions[:steps, index]))
        inverse = torch.empty_like(order)
        inverse[order] = torch.arange(len(order), device=order.device)

        def join(tensors: list[torch.Tensor]) -> torch.Tensor:
            padded = [F.pad(t, [0, 0] * (t.dim() - 1) + [0, horizon - t.shape[0]]) for t in tensors]
            return torch.cat(padded, dim=1).index_select(1, inverse)

        n_components = len(parts[0].log_softmax)
        return EpisodeReplay(
            log_prob=join([p.log_prob for p in parts]),
            entropy=join([p.entropy for p in parts]),
            log_softmax=[join([p.log_softmax[k] for p in parts]) for k in range(n_components)],
            baseline=None if parts[0].baseline is None else join([p.baseline for p in parts]),  # type: ignore[misc]
        )

    def forward(self, obs: torch.Tensor, deterministic: bool = False) -> torch.Tensor:
        """Actions for observations taken each at an episode start (stateless use); see `predict` for
        state."""
        return self._predict(obs, deterministic)

    def _predict(self, observation: torch.Tensor, deterministic: bool = False) -> torch.Tensor:  # type: ignore[override]
        n = observation.shape[0]
        starts = torch.ones(n, dtype=torch.bool, device=observation.device)
        actions, _ = self.step(observation, self.initial_state(n), starts, deterministic)
        return actions

    def predict(  # type: ignore[override]
        self,
        observation: np.ndarray,
        state: tuple[np.ndarray, ...] | None = None,
        episode_start: np.ndarray | None = None,
        deterministic: bool = False,
        greedy_components: Sequence[bool] | None = None,
    ) -> tuple[np.ndarray, tuple[np.ndarray, ...]]:
        """Actions and the next recurrent state, as sb3-contrib's RecurrentPPO.

        :param observation: the observations (batch, n_components)
        :param state: the state this method returned last (None: all episodes begin)
        :param episode_start: set for the envs whose episode just began (all of them when `state` is None)
        :param deterministic: take the argmax of every component instead of sampling
        :param greedy_components: as in `step`
        :return: the actions and the next state, to pass back in
        """
        self.set_training_mode(False)
        if isinstance(observation, dict):
            raise TypeError("ControllerPolicy takes MultiDiscrete observations, not a dict")
        obs_tensor, vectorized = self.obs_to_tensor(observation)
        obs_tensor = obs_tensor.reshape(-1, len(space_dims(self.observation_space, "observation")))
        n = obs_tensor.shape[0]
        if state is None:
            torch_state = self.initial_state(n)
            starts = torch.ones(n, dtype=torch.bool, device=self.device)
        else:
            # Copies: a controller may update its state in place (the RL-NTM tape), the caller's arrays stay.
            torch_state = tuple(torch.tensor(s, device=self.device) for s in state)
            if any(s.shape[0] != n for s in torch_state):
                raise ValueError(f"state batch size does not match the {n} observations")
            if episode_start is None:
                starts = torch.zeros(n, dtype=torch.bool, device=self.device)
            else:
                starts = torch.as_tensor(np.asarray(episode_start, dtype=bool).reshape(n), device=self.device)
        with torch.no_grad():
            actions, torch_state = self.step(obs_tensor, torch_state, starts, deterministic, greedy_components)
        np_actions = actions.cpu().numpy()
        if isinstance(self.action_space, spaces.Discrete):
            np_actions = np_actions[:, 0]
        if not vectorized:
            np_actions = np_actions[0]
        return np_actions, tuple(s.cpu().numpy() for s in torch_state)


class StatelessControllerExtractor(nn.Module):
    """Adapts a stateless controller to SB3's `mlp_extractor` interface (shared actor and critic latent)."""

    def __init__(self, controller: Controller) -> None:
        super().__init__()
        self.controller = controller
        self.latent_dim_pi = controller.output_dim
        self.latent_dim_vf = controller.output_dim

    def forward_actor(self, features: torch.Tensor) -> torch.Tensor:
        return self.controller.step(features, ())[0]

    def forward_critic(self, features: torch.Tensor) -> torch.Tensor:
        return self.controller.step(features, ())[0]

    def forward(self, features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        latent = self.forward_actor(features)
        return latent, latent


class ControllerActorCriticPolicy(ActorCriticPolicy):
    """`ActorCriticPolicy` for SB3's PPO/A2C whose latent network is a stateless `Controller` (e.g. "mlp").

    Recurrent controllers need the episode replay of Reinforce (or sb3-contrib's RecurrentPPO) and are
    refused.
    """

    def __init__(
        self,
        observation_space: spaces.Space,
        action_space: spaces.Space,
        lr_schedule: Schedule,
        controller_class: str | type[Controller] = "mlp",
        controller_kwargs: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        self.controller_class = controller_class
        self.controller_kwargs = dict(controller_kwargs or {})
        super().__init__(observation_space, action_space, lr_schedule, **kwargs)

    def _build_mlp_extractor(self) -> None:
        controller = resolve_controller(self.controller_class)(
            input_dim=int(self.features_dim), **self.controller_kwargs
        )
        if len(controller.initial_state(1)) != 0:
            raise ValueError(
                f"{type(controller).__name__} is recurrent; PPO/A2C policies take only stateless controllers "
                "(use Reinforce with ControllerPolicy for recurrent ones)"
            )
        self.mlp_extractor = StatelessControllerExtractor(controller)  # type: ignore[assignment]

    def _get_constructor_parameters(self) -> dict[str, Any]:
        data = super()._get_constructor_parameters()
        data.update(controller_class=self.controller_class, controller_kwargs=self.controller_kwargs)
        return data
