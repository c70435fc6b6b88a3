"""Shared test settings: every registered id, and the one-thread fixture of the torch tests."""

from __future__ import annotations

import pytest

import memtape_env

ALL_IDS = memtape_env.registered_ids()


@pytest.fixture
def one_thread():
    """Small step-by-step graphs: one intra-op torch thread avoids thread hand-off costs on a busy machine."""
    import torch  # here, so that the environment tests never import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
