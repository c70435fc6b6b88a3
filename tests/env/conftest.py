"""The environment tests need numpy and gymnasium only (`pip install memtape` without extras).

With `MEMTAPE_ENV_ONLY=1` (scripts/test.sh runs them so first) importing torch, SB3 or sb3-contrib fails here, so a
test that needs the agents' dependencies cannot hide among them; the few that look at the SB3 view skip.
"""

from __future__ import annotations

import os
import sys
from importlib.machinery import ModuleSpec

BLOCKED = ("torch", "stable_baselines3", "sb3_contrib")


class _BlockAgentDependencies:
    """A meta path finder that refuses the agents' dependencies."""

    def find_spec(self, name: str, path: object = None, target: object = None) -> ModuleSpec | None:
        if name.split(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {name!r} (the environment tests run without it)", name=name)
        return None


if os.environ.get("MEMTAPE_ENV_ONLY") == "1":
    sys.meta_path.insert(0, _BlockAgentDependencies())
