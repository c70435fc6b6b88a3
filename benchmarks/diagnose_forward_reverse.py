"""Where the RL-NTM agent gets stuck on ForwardReverse: two checks that take part of the problem away.

1. `scripted-memory`: the Reinforce direct-access agent of bench_learning, with its memory-head moves replaced
   by the scripted ones (right while the input head moves right, left from the first blank on). Everything else
   (input moves, when to write, the symbols) is learned. Prints the curriculum length as training goes, then one
   deterministic episode at `--length`.
2. `supervised`: the direct-access controller alone, trained by backprop to output the reversed input from the
   memory, with the same scripted head positions (lengths 1 to 10), then tested on length 20.

If (2) succeeds and (1) does not, the controller can represent the solution and the difficulty is in the
reinforcement-learning search (which step to start writing at), not in the memory.

    python benchmarks/diagnose_forward_reverse.py scripted-memory --seconds 300
    python benchmarks/diagnose_forward_reverse.py supervised --updates 500
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from bench_learning import AGENTS, Overrides
from stable_baselines3.common.vec_env import VecEnvWrapper, VecMonitor
from torch import nn

from agents.controllers import RLNTMDirectAccessController
from memtape_env.sb3 import MemTapeVecEnv

TASK = "memtape/ForwardReverse-v0"
BLANK, SYMBOLS = 30, 30
STAY, RIGHT = 0, 1  # ForwardReverse input moves
LEFT, HOLD, FORWARD = 0, 1, 2  # memory moves


class ScriptedMemoryMoves(VecEnvWrapper):
    """Replaces the `memory_move` action: right while the input head moves right, left from the first blank on."""

    def __init__(self, venv: MemTapeVecEnv) -> None:
        super().__init__(venv)
        names = venv.get_attr("action_names")[0]
        self.move, self.memory_move = names.index("input_move"), names.index("memory_move")
        self.past_input = np.zeros(venv.num_envs, dtype=bool)
        self.obs = np.zeros((venv.num_envs, 1), dtype=np.int64)

    def reset(self) -> np.ndarray:
        self.obs = self.venv.reset()
        self.past_input[:] = False
        return self.obs

    def scripted(self, actions: np.ndarray) -> np.ndarray:
        """The actions with the scripted memory move; updates the phase from the current observation."""
        actions = np.array(actions)
        self.past_input |= self.obs[:, 0] == BLANK
        forward = np.where(actions[:, self.move] == RIGHT, FORWARD, HOLD)
        actions[:, self.memory_move] = np.where(self.past_input, LEFT, forward)
        return actions

    def step_async(self, actions: np.ndarray) -> None:
        self.venv.step_async(self.scripted(actions))

    def step_wait(self):  # noqa: ANN201 (SB3's VecEnvStepReturn)
        obs, rewards, dones, infos = self.venv.step_wait()
        self.past_input[dones] = False
        self.obs = obs
        return obs, rewards, dones, infos


def scripted_memory(seconds: float, length: int, seed: int) -> None:
    agent = AGENTS["reinforce-rlntm"]
    raw = MemTapeVecEnv(TASK, 16, seed=seed, **agent.env_kwargs)
    torch.manual_seed(seed)
    model = agent.build(VecMonitor(ScriptedMemoryMoves(raw)), seed, Overrides())
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        model.learn(20_000, reset_num_timesteps=model.num_timesteps == 0, log_interval=10**9)
        returns = [ep["r"] for ep in model.ep_info_buffer]
        print(
            f"{model.num_timesteps} steps, {time.perf_counter() - start:.0f} s, "
            f"curriculum length {raw.curriculum.current}, mean return {np.mean(returns):.2f}",
            flush=True,
        )
    env = ScriptedMemoryMoves(
        MemTapeVecEnv(TASK, 1, seed=seed + 1, curriculum="none", length=length, **agent.env_kwargs)
    )
    obs, state, start_flags = env.reset(), None, np.ones(1, dtype=bool)
    print(f"one deterministic episode at length {length}: input symbol, actions sent, reward")
    for _ in range(4 * length + 4):
        actions, state = model.predict(obs, state=state, episode_start=start_flags, deterministic=True)
        symbol, sent = int(obs[0, 0]), env.scripted(actions)
        env.venv.step_async(sent)
        obs, rewards, start_flags, _ = env.step_wait()
        print(f"  {symbol:>2} {sent[0].tolist()} {rewards[0]:+.1f}")
        if start_flags[0]:
            break


def supervised(updates: int, seed: int) -> None:
    torch.manual_seed(seed)
    batch, test_length = 32, 20
    ctrl = RLNTMDirectAccessController(
        input_dim=SYMBOLS + 2, hidden_size=64, memory_dim=16, memory_size=2 * test_length
    )
    head = nn.Linear(ctrl.output_dim, SYMBOLS)
    opt = torch.optim.Adam([*ctrl.parameters(), *head.parameters()], lr=3e-3)

    def run(length: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Logits and targets (-100 where nothing is written) of one batch at `length`."""
        x = torch.randint(0, SYMBOLS, (batch, length))
        steps = 2 * length + 1
        features = torch.zeros(steps, batch, SYMBOLS + 2)
        heads = torch.zeros(steps, batch, dtype=torch.long)
        targets = torch.full((steps, batch), -100)
        for t in range(length):  # read phase: one-hot input symbol, memory head under the symbol's index
            features[t, torch.arange(batch), x[:, t]] = 1
            heads[t] = t
        for k in range(length + 1):  # past the input: a blank flag, memory head walking back
            features[length + k, :, SYMBOLS] = features[length + k, :, SYMBOLS + 1] = 1
            heads[length + k] = length - k
            if k:
                targets[length + k] = x[:, length - k]
        state, outs = ctrl.initial_state(batch), []
        for t in range(steps):
            out, state = ctrl.step(features[t], state, {"memory_head": heads[t]})
            outs.append(out)
        return head(torch.stack(outs)), targets

    for update in range(1, updates + 1):
        logits, targets = run(int(torch.randint(1, 11, ())))
        loss = nn.functional.cross_entropy(logits.reshape(-1, SYMBOLS), targets.reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
        if update % 100 == 0 or update == updates:
            with torch.no_grad():
                logits, targets = run(test_length)
            mask = targets >= 0
            accuracy = (logits.argmax(-1)[mask] == targets[mask]).float().mean().item()
            print(f"update {update}: loss {loss.item():.4f}, symbol accuracy at length {test_length}: {accuracy:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("check", choices=["scripted-memory", "supervised"])
    parser.add_argument("--seconds", type=float, default=300.0, help="scripted-memory: training wall time")
    parser.add_argument("--length", type=int, default=4, help="scripted-memory: length of the episode shown")
    parser.add_argument("--updates", type=int, default=500, help="supervised: Adam updates of 32 sequences")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(1)
    if args.check == "scripted-memory":
        scripted_memory(args.seconds, args.length, args.seed)
    else:
        supervised(args.updates, args.seed)


if __name__ == "__main__":
    main()
