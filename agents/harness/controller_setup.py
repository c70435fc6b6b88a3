"""What a Reinforce controller needs from the env and the policy, per task: one place for the wiring.

Every Reinforce run gets it, whichever way it is configured (a preset in configs/hyperparams/reinforce.yml,
`memtape train --controller`, a suite's algorithm): `wire_entry` puts it under the entry's own values.

- `rlntm`, `rlntm_direct` read the memory head position: `observe_heads=True`, and a memory tape (`memory=True`)
  on tasks that have none. They keep real vectors in their own cells, so the env's discrete memory write is
  fixed to "keep" (`TAPE_FIXED_ACTIONS`): it would only add a 31-way action that changes nothing they read.
- `neural_gpu` reads the whole input tape: `observe_tape=W` (W covers the longest input it will see) and
  `observe_heads=True`; its controller is told the tape's width and alphabet.
- `lstm`, `gru`, `mlp`, `dnc` need nothing beyond the default observation.
"""

from __future__ import annotations

from typing import Any

import numpy as np

TAPE_CONTROLLERS = ("rlntm", "rlntm_direct")
"""The RL-NTM tape controllers: they read the env's memory head and keep their own cell vectors."""
TAPE_FIXED_ACTIONS = {"memory_write": 0}
"""`ControllerPolicy(fixed_actions=...)` for the RL-NTM tape controllers: the env's symbol write stays "keep"."""


def task_name(env_id: str) -> str:
    """`memtape/Copy-v0` -> `Copy`."""
    name = env_id.split("/", 1)[-1]
    return name.rsplit("-v", 1)[0]


def input_width(env_id: str, length: int) -> int:
    """Width of the input tape of `env_id` at a given length."""
    from memtape_env.tasks import get_task

    task = get_task(task_name(env_id))
    inputs, _ = task.generate(np.random.default_rng(0), 1, length)
    return int(inputs.shape[-1])


def controller_setup(
    controller: str, env_id: str, max_length: int | None = None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The wiring that lets Reinforce run `controller` on `env_id`.

    :param controller: a name in `agents.controllers.CONTROLLERS`
    :param env_id: the registered env id
    :param max_length: the longest length the model will meet (training or evaluation); it sizes the Neural
        GPU's tape view. None takes the task's curriculum maximum
    :return: (policy_kwargs, env_kwargs)
    """
    from agents.controllers import CONTROLLERS
    from memtape_env.tasks import get_task

    if controller not in CONTROLLERS:
        raise ValueError(f"unknown controller {controller!r} (known: {sorted(CONTROLLERS)})")
    task = get_task(task_name(env_id))
    policy_kwargs: dict[str, Any] = {"controller_class": controller}
    env_kwargs: dict[str, Any] = {}
    longest = max_length or task.curriculum.max_length
    if controller in TAPE_CONTROLLERS:
        env_kwargs["observe_heads"] = True
        if not task.has_memory:
            env_kwargs["memory"] = True
        # the controller keeps one vector per memory cell: enough cells for the env's memory tape at `longest`
        policy_kwargs["controller_kwargs"] = {"memory_size": max(64, input_width(env_id, longest) + 2)}
        policy_kwargs["fixed_actions"] = dict(TAPE_FIXED_ACTIONS)
    if controller == "neural_gpu":
        if task.rows != 1:
            raise ValueError(f"the Neural GPU controller reads one-row tapes; task {task.name} has {task.rows} rows")
        width = input_width(env_id, longest)
        env_kwargs.update(observe_tape=width, observe_heads=True)
        policy_kwargs["controller_kwargs"] = {"tape_width": width, "tape_vocab": task.input_base + 1}
    return policy_kwargs, env_kwargs


def longest_input(env_id: str, eval_lengths: list[int] | tuple[int, ...] = (), max_length: int | None = None) -> int:
    """The longest length a model meets: `max_length` if given, else the curriculum maximum or the longest eval."""
    from memtape_env.tasks import get_task

    return max_length or max([get_task(task_name(env_id)).curriculum.max_length, *eval_lengths])


def wire_entry(entry: dict[str, Any], env_id: str, max_length: int | None = None) -> dict[str, Any]:
    """A Reinforce hyperparameter entry with its controller's wiring underneath (the entry's values win).

    The controller is `policy_kwargs.controller_class` (default "lstm"); `max_length` sizes it (see
    `controller_setup`).
    """
    from agents.harness.configs import deep_merge

    policy_kwargs = entry.get("policy_kwargs") or {}
    controller = policy_kwargs.get("controller_class", "lstm")
    if not isinstance(controller, str):
        raise ValueError(f"policy_kwargs.controller_class must be a controller name, got {controller!r}")
    wired_policy, wired_env = controller_setup(controller, env_id, max_length)
    out = dict(entry)
    out["policy_kwargs"] = deep_merge(wired_policy, policy_kwargs)
    out["env_kwargs"] = {**wired_env, **(entry.get("env_kwargs") or {})}
    return out
