"""Supervised (backprop-only) training of any controller on a task's (input, target) pairs, with a curriculum.

This is the native setting of the Neural GPU and DNC papers and the upper bound the RL results are read against.
Laid out like the RL side: `config` (the hyperparameters), `models` (each model aligns its logits with the
targets, so loss and scoring are written once), `trainer` (curriculum, checkpoints, resume), `cli`
(`memtape supervised`, also `python -m agents.supervised`).
"""

from agents.supervised.config import SupervisedConfig
from agents.supervised.models import Aligned, NeuralGPUModel, SequenceModel, SupervisedModel, supervised_model
from agents.supervised.trainer import ErrorRates, Trainer, batch_loss, error_rates, sample_length, save_checkpoint

__all__ = [
    "Aligned",
    "ErrorRates",
    "NeuralGPUModel",
    "SequenceModel",
    "SupervisedConfig",
    "SupervisedModel",
    "Trainer",
    "batch_loss",
    "error_rates",
    "sample_length",
    "save_checkpoint",
    "supervised_model",
]
