"""`Reinforce`: an SB3 algorithm that trains recurrent controllers by backprop through whole episodes.

Each iteration runs the VecEnv until `batch_episodes` episodes have finished (acting step by step with the
recurrent state, without gradients; each step of all envs goes into an `EpisodeBuffer` at once), then replays
those episodes from their first step through the policy in one batched pass (backprop through time over each
whole episode) and takes one gradient step on `reinforce_loss`. Envs keep running across iterations: an
episode still going when a batch is full goes into the next batch (its early steps were sampled by the
previous parameters, one update old).
"""

from __future__ import annotations

import sys
import time
from collections import deque
from dataclasses import asdict
from typing import Any, ClassVar, Literal, TypeVar

import numpy as np
import torch
from gymnasium import spaces
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.policies import BasePolicy
from stable_baselines3.common.type_aliases import GymEnv, MaybeCallback, Schedule
from stable_baselines3.common.utils import safe_mean
from stable_baselines3.common.vec_env import VecEnv

from agents.policies import ControllerPolicy, space_dims
from agents.reinforce.buffer import EpisodeArrays, EpisodeBuffer
from agents.reinforce.config import ReinforceConfig
from agents.reinforce.loss import EpisodeBatch, reinforce_loss
from memtape_env.curriculum import find_curriculum

SelfReinforce = TypeVar("SelfReinforce", bound="Reinforce")


def _env_attr(env: VecEnv, name: str) -> tuple[str, ...] | None:
    """A tuple-of-names attribute of the (first) underlying env, or None when the env has none."""
    try:
        value = env.get_attr(name, indices=[0])[0]
    except (AttributeError, KeyError, TypeError):
        return None
    return tuple(value) if value is not None else None


def _targets(infos: list[dict[str, Any]]) -> np.ndarray:
    """`info["target_symbol"]` of every env, -1 where absent (or None)."""
    values = [info.get("target_symbol") for info in infos]
    return np.array([-1 if v is None else v for v in values], dtype=np.int64)


class Reinforce(BaseAlgorithm):
    """Variance-reduced REINFORCE (RL-NTM, Section 4) for `ControllerPolicy`, as an SB3 algorithm.

    Collects whole episodes, replays each from its first step (backprop through time) and takes one gradient step
    per batch of `batch_episodes` finished episodes. The hyperparameters are kept together in `self.config`, a
    `ReinforceConfig`, which checks them and documents each in one line.

    :param policy: the policy, "ControllerPolicy" or a `ControllerPolicy` subclass
    :param env: the environment (a VecEnv, a Gymnasium env or a registered id)
    :param learning_rate: Adam step size, or an SB3 schedule (a callable of the progress remaining)
    :param batch_episodes: complete episodes per gradient update
    :param gamma: discount of the return-to-go R_t:T (1.0: plain sums, as in RL-NTM)
    :param baseline: "none", "online" (per-time-step running mean of R_t:T) or "offline" (the tape-reading
        baseline network)
    :param online_baseline_decay: decay of the online baseline's moving average per time step
    :param baseline_coef: weight of the offline baseline's (R_t:T - b_t)^2 regression loss
    :param normalize_advantage: standardise the advantages over the batch's valid steps
    :param ent_coef: entropy bonus weight (mean entropy per step over the action components trained by RL)
    :param entropy_sum: sum the entropy over each episode's steps (averaged over episodes), the scale of the
        score-function term, instead of the mean per step: the bonus keeps its pull per step as episodes grow
    :param supervised_output: the hybrid objective: train output_symbol by backprop on `info["target_symbol"]`
    :param supervised_coef: weight of the supervised -log p(target symbol) loss
    :param greedy_output_symbol: with supervised_output, write the argmax symbol during collection
    :param max_grad_norm: global gradient-norm clip per update (<= 0 disables)
    :param replay_groups: replay the batch as this many groups of episodes of similar length (1: one padded
        batch, bit for bit; more: less padding on large batches, equal up to float rounding; "auto": 1 below 256
        episodes, 4 from there)
    :param restart_steps: restart from fresh parameters when the env's curriculum has not left its start level
        this many env steps after the last (re)start (0: never); the steps spent before a restart stay counted
    :param policy_kwargs: keyword arguments of the policy (the controller and its kwargs, fixed actions, ...)
    :param stats_window_size: episodes in the rolling statistics that are logged
    :param tensorboard_log: TensorBoard log directory (None: no logging)
    :param verbose: 0 silent, 1 info
    :param seed: seed of the pseudo-random generators
    :param device: "auto" (CUDA when available), "cpu", "cuda", ...
    :param _init_setup_model: build the network at construction (SB3's `load` builds it later)
    """

    policy_aliases: ClassVar[dict[str, type[BasePolicy]]] = {"ControllerPolicy": ControllerPolicy}
    policy: ControllerPolicy

    def __init__(
        self,
        policy: str | type[ControllerPolicy],
        env: GymEnv | str | None,
        learning_rate: float | Schedule = 1e-3,
        batch_episodes: int = 16,
        gamma: float = 1.0,
        baseline: str = "online",
        online_baseline_decay: float = 0.9,
        baseline_coef: float = 1.0,
        normalize_advantage: bool = True,
        ent_coef: float = 0.01,
        entropy_sum: bool = False,
        supervised_output: bool = False,
        supervised_coef: float = 1.0,
        greedy_output_symbol: bool = False,
        max_grad_norm: float = 1.0,
        replay_groups: int | Literal["auto"] = "auto",
        restart_steps: int = 0,
        policy_kwargs: dict[str, Any] | None = None,
        stats_window_size: int = 100,
        tensorboard_log: str | None = None,
        verbose: int = 0,
        seed: int | None = None,
        device: torch.device | str = "auto",
        _init_setup_model: bool = True,
    ) -> None:
        self.config = ReinforceConfig(
            learning_rate=learning_rate,
            batch_episodes=batch_episodes,
            gamma=gamma,
            baseline=baseline,
            online_baseline_decay=online_baseline_decay,
            baseline_coef=baseline_coef,
            normalize_advantage=normalize_advantage,
            ent_coef=ent_coef,
            entropy_sum=entropy_sum,
            supervised_output=supervised_output,
            supervised_coef=supervised_coef,
            greedy_output_symbol=greedy_output_symbol,
            max_grad_norm=max_grad_norm,
            replay_groups=replay_groups,
            restart_steps=restart_steps,
        )
        super().__init__(
            policy,
            env,
            learning_rate=learning_rate,
            policy_kwargs=policy_kwargs,
            stats_window_size=stats_window_size,
            tensorboard_log=tensorboard_log,
            verbose=verbose,
            device=device,
            seed=seed,
            support_multi_env=True,
            supported_action_spaces=(spaces.MultiDiscrete, spaces.Discrete),
        )
        self._online_baseline = np.zeros(0, dtype=np.float64)
        # Returns and lengths of the episodes Reinforce finished (the env need not be Monitor-wrapped).
        self.episode_returns: deque[float] = deque(maxlen=self._stats_window_size)
        self.episode_lengths: deque[int] = deque(maxlen=self._stats_window_size)
        self.restarts = 0  # times the parameters were drawn afresh (restart_steps)
        if self.env is not None:
            self._fill_policy_kwargs(self.env)
        if _init_setup_model:
            self._setup_model()

    def _fill_policy_kwargs(self, env: VecEnv) -> None:
        """Name the observation/action components from the env and ask for the baseline network if needed."""
        self.policy_kwargs = dict(self.policy_kwargs)  # never mutate the caller's dict
        for key, attr in (("observation_names", "observation_names"), ("action_names", "action_names")):
            if key not in self.policy_kwargs:
                names = _env_attr(env, attr)
                if names is not None:
                    self.policy_kwargs[key] = names
        if self.config.baseline == "offline":
            self.policy_kwargs.setdefault("offline_baseline", True)
        if self.config.supervised_output and "output_symbol" not in self.policy_kwargs.get("action_names", ()):
            raise ValueError(
                "supervised_output needs the env's action_names with an output_symbol component "
                "(or policy_kwargs['action_names'])"
            )

    def _setup_model(self) -> None:
        self._setup_lr_schedule()
        self.set_random_seed(self.seed)
        self.policy = self.policy_class(  # type: ignore[assignment]
            self.observation_space, self.action_space, self.lr_schedule, **self.policy_kwargs
        )
        if not isinstance(self.policy, ControllerPolicy):
            raise TypeError(f"Reinforce needs a ControllerPolicy, got {type(self.policy).__name__}")
        if self.config.baseline == "offline" and self.policy.baseline is None:
            raise ValueError('baseline="offline" needs policy_kwargs offline_baseline=True')
        self.policy = self.policy.to(self.device)
        self._n_obs = len(space_dims(self.observation_space, "observation"))
        self._n_actions = len(space_dims(self.action_space, "action"))
        self._greedy: list[bool] | None = None
        symbol = self.policy.action_index("output_symbol")
        if self.config.greedy_output_symbol and symbol is not None:
            self._greedy = [k == symbol for k in range(self._n_actions)]
        self._state: tuple[torch.Tensor, ...] | None = None
        self._buffer: EpisodeBuffer | None = None

    def _excluded_save_params(self) -> list[str]:
        return [*super()._excluded_save_params(), "_state", "_buffer"]

    # ------------------------------------------------------------------ collection
    def collect_episodes(self, env: VecEnv, callback: BaseCallback) -> EpisodeArrays | None:
        """Step `env` until `batch_episodes` episodes have finished; None when a callback stops training.

        Every step appends the whole batch to the `EpisodeBuffer` at once; the finished episodes come back
        padded, in the order they ended (step by step, env index within a step).
        """
        assert self._last_obs is not None and self._last_episode_starts is not None
        n_envs = env.num_envs
        if self._state is None or self._buffer is None or self._buffer.n_envs != n_envs:
            self._state = self.policy.initial_state(n_envs)
            self._buffer = EpisodeBuffer(n_envs, self._n_obs, self._n_actions)
            self._last_episode_starts = np.ones(n_envs, dtype=bool)
        buffer = self._buffer
        self.policy.set_training_mode(False)
        callback.on_rollout_start()
        while buffer.n_finished < self.config.batch_episodes:
            obs = np.asarray(self._last_obs).reshape(n_envs, self._n_obs)
            with torch.no_grad():
                obs_t = torch.as_tensor(obs, device=self.device)
                starts = torch.as_tensor(self._last_episode_starts, device=self.device)
                actions_t, self._state = self.policy.step(obs_t, self._state, starts, greedy_components=self._greedy)
            actions = actions_t.cpu().numpy()
            env_actions = actions[:, 0] if isinstance(self.action_space, spaces.Discrete) else actions
            new_obs, rewards, dones, infos = env.step(env_actions)
            self.num_timesteps += n_envs
            self._update_info_buffer(infos, dones)
            callback.update_locals(locals())
            if not callback.on_step():
                buffer.discard_finished()  # a stopped collection gives no batch; this step is not recorded
                return None
            ended = buffer.append(obs, actions, rewards, _targets(infos), np.asarray(dones, dtype=bool))
            self.episode_returns.extend(ended.returns.tolist())
            self.episode_lengths.extend(ended.lengths.tolist())
            self._last_obs = new_obs  # type: ignore[assignment]
            self._last_episode_starts = dones
        callback.update_locals(locals())
        callback.on_rollout_end()
        return buffer.pop_finished()

    def _to_batch(self, episodes: EpisodeArrays) -> EpisodeBatch:
        """The padded episodes as a device `EpisodeBatch`."""
        arrays = (episodes.obs, episodes.actions, episodes.rewards, episodes.mask, episodes.targets)
        return EpisodeBatch(*(torch.as_tensor(a) for a in arrays)).to(self.device)

    # ------------------------------------------------------------------ training
    def _online_baseline_tensor(self, horizon: int) -> torch.Tensor:
        if self._online_baseline.shape[0] < horizon:
            grown = np.zeros(horizon, dtype=np.float64)
            grown[: self._online_baseline.shape[0]] = self._online_baseline
            self._online_baseline = grown
        return torch.as_tensor(self._online_baseline[:horizon], dtype=torch.float32, device=self.device)

    def _update_online_baseline(self, returns: torch.Tensor, mask: torch.Tensor) -> None:
        """Move b_t towards the batch mean of R_t:T at every time step t that some episode reached."""
        counts = mask.sum(1).cpu().numpy()
        means = (returns * mask).sum(1).cpu().numpy() / np.maximum(counts, 1)
        decay = self.config.online_baseline_decay
        seen = counts > 0
        horizon = len(counts)
        b = self._online_baseline[:horizon]
        b[seen] = decay * b[seen] + (1.0 - decay) * means[seen]

    def train(self, episodes: EpisodeArrays) -> None:
        """One gradient step on a batch of whole episodes."""
        self.policy.set_training_mode(True)
        self._update_learning_rate(self.policy.optimizer)
        batch = self._to_batch(episodes)
        online = self._online_baseline_tensor(batch.mask.shape[0]) if self.config.baseline == "online" else None
        loss, stats = reinforce_loss(self.policy, batch, self.config, online_baseline=online)
        self.policy.optimizer.zero_grad()
        loss.backward()
        if self.config.max_grad_norm > 0:
            grad_norm = torch.nn.utils.clip_grad_norm_(self.policy.parameters(), self.config.max_grad_norm)
            self.logger.record("train/grad_norm", float(grad_norm))
        self.policy.optimizer.step()
        if self.config.baseline == "online":
            self._update_online_baseline(stats["returns"], batch.mask.to(stats["returns"].dtype))
        self._n_updates += 1
        self.logger.record("train/n_updates", self._n_updates, exclude="tensorboard")
        for key, value in stats.items():
            if key != "returns":
                self.logger.record(f"train/{key}", float(value))
        self.logger.record("train/episode_length", float(batch.mask.sum(0).float().mean()))

    def learn(
        self: SelfReinforce,
        total_timesteps: int,
        callback: MaybeCallback = None,
        log_interval: int = 1,
        tb_log_name: str = "Reinforce",
        reset_num_timesteps: bool = True,
        progress_bar: bool = False,
    ) -> SelfReinforce:
        total_timesteps, callback = self._setup_learn(
            total_timesteps, callback, reset_num_timesteps, tb_log_name, progress_bar
        )
        if reset_num_timesteps:
            self._state = None
        callback.on_training_start(locals(), globals())
        assert self.env is not None
        curriculum = find_curriculum(self.env)
        if self.config.restart_steps and curriculum is None:
            raise ValueError("restart_steps needs an env with a curriculum (a memtape env), got one without")
        start_level = None if curriculum is None else curriculum.level
        restarted_at, took_off = self.num_timesteps, False
        iteration = 0
        while self.num_timesteps < total_timesteps:
            episodes = self.collect_episodes(self.env, callback)
            if episodes is None:
                break
            iteration += 1
            self._update_current_progress_remaining(self.num_timesteps, total_timesteps)
            self.train(episodes)
            if self.config.restart_steps and not took_off:
                curriculum = find_curriculum(self.env)  # asked afresh: a subprocess VecEnv returns copies
                took_off = curriculum is not None and curriculum.level > start_level  # then never restarted again
                if not took_off and self.num_timesteps - restarted_at >= self.config.restart_steps:
                    self._restart()
                    restarted_at = self.num_timesteps
            if log_interval is not None and iteration % log_interval == 0:
                self._dump_logs(iteration)
        callback.on_training_end()
        return self

    def _restart(self) -> None:
        """Fresh parameters, optimizer and online baseline (drawn from the running RNG: deterministic per seed).

        Episodes in flight go on with the new parameters; the env's curriculum is untouched (it never left its
        start level, which is what triggers a restart).
        """
        self.policy = self.policy_class(  # type: ignore[assignment]
            self.observation_space, self.action_space, self.lr_schedule, **self.policy_kwargs
        ).to(self.device)
        self._online_baseline = np.zeros(0, dtype=np.float64)
        self.restarts += 1
        self.logger.record("train/restarts", self.restarts)

    def _dump_logs(self, iteration: int) -> None:
        assert self.ep_info_buffer is not None
        elapsed = max((time.time_ns() - self.start_time) / 1e9, sys.float_info.epsilon)
        fps = int((self.num_timesteps - self._num_timesteps_at_start) / elapsed)
        self.logger.record("time/iterations", iteration, exclude="tensorboard")
        if len(self.ep_info_buffer) > 0:
            self.logger.record("rollout/ep_rew_mean", safe_mean([ep["r"] for ep in self.ep_info_buffer]))
            self.logger.record("rollout/ep_len_mean", safe_mean([ep["l"] for ep in self.ep_info_buffer]))
        elif len(self.episode_returns) > 0:
            self.logger.record("rollout/ep_rew_mean", safe_mean(list(self.episode_returns)))
            self.logger.record("rollout/ep_len_mean", safe_mean(list(self.episode_lengths)))
        self.logger.record("time/fps", fps)
        self.logger.record("time/time_elapsed", int(elapsed), exclude="tensorboard")
        self.logger.record("time/total_timesteps", self.num_timesteps, exclude="tensorboard")
        self.logger.dump(step=self.num_timesteps)

    def hyperparameters(self) -> dict[str, Any]:
        """The `ReinforceConfig` fields as a plain dict (for logs and result tables)."""
        return asdict(self.config)

    def predict(  # type: ignore[override]
        self,
        observation: np.ndarray,
        state: tuple[np.ndarray, ...] | None = None,
        episode_start: np.ndarray | None = None,
        deterministic: bool = False,
    ) -> tuple[np.ndarray, tuple[np.ndarray, ...]]:
        """Actions and next recurrent state; pass the state back in, as with sb3-contrib's RecurrentPPO.

        Sampled actions (`deterministic=False`) are drawn as during training: with `greedy_output_symbol`, the
        output symbol is the argmax.
        """
        return self.policy.predict(observation, state, episode_start, deterministic, self._greedy)
