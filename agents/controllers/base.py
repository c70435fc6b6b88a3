"""The recurrent interface every controller implements, so any policy or algorithm can take any controller.

A controller maps per-step input features to an output vector while carrying a state. The state is a tuple of
tensors, each with the batch on dim 0, so that policies can store, index and reset it without knowing its
structure. `context` carries integer side information from the observation that some controllers need (the
memory head index for the RL-NTM tape, the whole input tape for the Neural GPU); controllers that need none
ignore it.
"""

from __future__ import annotations

import abc

import torch
from torch import nn

State = tuple[torch.Tensor, ...]
"""A controller state: a tuple (or named tuple) of tensors, each with the batch on dim 0."""
Context = dict[str, torch.Tensor]


class Controller(nn.Module, abc.ABC):
    """Base class: `initial_state`, `step`, and `sequence` (a padded batch of sequences with episode starts)."""

    input_dim: int
    output_dim: int

    @abc.abstractmethod
    def initial_state(self, batch_size: int, device: torch.device | str = "cpu") -> State:
        """The state at the start of an episode for `batch_size` sequences."""

    @abc.abstractmethod
    def step(self, x: torch.Tensor, state: State, context: Context | None = None) -> tuple[torch.Tensor, State]:
        """One step.

        :param x: the inputs, (batch, input_dim)
        :param state: the state before the step
        :param context: the env's extra inputs by name (head positions, the input tape), when the controller uses them
        :return: the outputs (batch, output_dim) and the next state
        """

    def sequence(
        self,
        x: torch.Tensor,
        episode_starts: torch.Tensor,
        state: State,
        context: Context | None = None,
    ) -> tuple[torch.Tensor, State]:
        """Run over a whole padded sequence, resetting the state where an episode starts.

        Subclasses may override this with a fused implementation; it must stay equal to stepping one step at a time.

        :param x: the inputs, (time, batch, input_dim)
        :param episode_starts: (time, batch), set where the state is reset to the initial state before step t
        :param state: the state before the first step
        :param context: as in `step`, each entry with a leading time axis
        :return: the outputs (time, batch, output_dim) and the state after the last step
        """
        outputs = []
        init = None
        for t in range(x.shape[0]):
            starts = episode_starts[t]
            if bool(starts.any()):
                if init is None:
                    init = self.initial_state(x.shape[1], x.device)
                state = reset_state(state, init, starts)
            ctx = None if context is None else {k: v[t] for k, v in context.items()}
            out, state = self.step(x[t], state, ctx)
            outputs.append(out)
        return torch.stack(outputs), state


def reset_state(state: State, initial: State, starts: torch.Tensor) -> State:
    """Replace the rows of `state` where `starts` (batch,) is true by those of `initial`; a named tuple state
    keeps its type."""
    mask = starts.to(torch.bool)
    rows = tuple(
        torch.where(mask.view(-1, *([1] * (s.dim() - 1))), i.to(s.dtype), s)
        for s, i in zip(state, initial, strict=True)
    )
    make = getattr(state, "_make", None)
    return make(rows) if make is not None else rows
