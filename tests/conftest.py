"""Shared fixtures: every registered id, and a helper that plays an oracle episode."""

from __future__ import annotations

import memtape_env

ALL_IDS = memtape_env.registered_ids()
