"""Recurrent controllers behind one interface (see `base.Controller`).

`CONTROLLERS` maps the names accepted by the policies' `controller_class` to the classes; a new controller is
one import and one entry here. Every controller is built as `cls(input_dim=..., **controller_kwargs)`.
"""

from agents.controllers.base import Context, Controller, State, reset_state
from agents.controllers.dnc import DNC, DNCState, SparseDNCState
from agents.controllers.neural_gpu import NeuralGPUController
from agents.controllers.recurrent import GRUController, LSTMController, MLPController
from agents.controllers.tape import RLNTMDirectAccessController, RLNTMTapeController

CONTROLLERS: dict[str, type[Controller]] = {
    "lstm": LSTMController,
    "gru": GRUController,
    "mlp": MLPController,
    "rlntm": RLNTMTapeController,
    "rlntm_direct": RLNTMDirectAccessController,
    "dnc": DNC,
    "neural_gpu": NeuralGPUController,
}

__all__ = [
    "CONTROLLERS",
    "Context",
    "Controller",
    "DNC",
    "DNCState",
    "GRUController",
    "LSTMController",
    "MLPController",
    "NeuralGPUController",
    "RLNTMDirectAccessController",
    "RLNTMTapeController",
    "SparseDNCState",
    "State",
    "reset_state",
]
