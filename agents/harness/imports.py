"""Importing what configs name: one function, with the allow-list that keeps a config from running anyone's code.

A config may name classes only from the packages the harness itself uses (`TRUSTED_PACKAGES`): importing a module
runs its code, so anything else needs the user's explicit trust (`--trust-imports`). The harness's own registry
imports through the same function, trusted.
"""

from __future__ import annotations

import importlib
from typing import Any

from agents.harness.configs import ConfigError

TRUSTED_PACKAGES = ("gymnasium", "stable_baselines3", "sb3_contrib", "memtape_env", "agents")


def trusted_module(module: str) -> bool:
    """Whether `module` lies in one of the packages configs may name without `--trust-imports`."""
    return any(module == p or module.startswith(p + ".") for p in TRUSTED_PACKAGES)


def import_object(path: str, trusted: bool = False) -> Any:
    """`package.module.Name` or `package.module:Name` -> the object; modules outside TRUSTED_PACKAGES need `trusted`."""
    module, sep, name = path.partition(":") if ":" in path else path.rpartition(".")
    if not module or not name:
        raise ValueError(f"expected a dotted path like package.module.Name, got {path!r}")
    if not trusted and not trusted_module(module):
        raise ConfigError(
            f"import path {path!r} is outside the allowed packages {list(TRUSTED_PACKAGES)}; "
            "pass --trust-imports to import it anyway"
        )
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as err:
        raise ValueError(f"cannot import {path!r}: {err}") from err
