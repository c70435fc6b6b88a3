"""Atomic file writes (temp file in the same directory + fsync + os.replace).

A reader, or a run resumed after a kill, sees either the old file or the complete new one, never a torn write:
this is what lets an interrupted benchmark trust every result file it finds. Files get the mode the user's umask
gives (not mkstemp's 0600), so others sharing an output folder can read results.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any


def _umask() -> int:
    """The process umask (read by setting and restoring it: there is no getter)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def chmod_as_umask(path: str | Path, directory: bool = False) -> None:
    """Give `path` the mode a plain `open`/`mkdir` would (mkstemp and mkdtemp create 0600/0700)."""
    os.chmod(path, (0o777 if directory else 0o666) & ~_umask())


def atomic_write(path: str | Path, write: Callable[[IO[bytes]], None]) -> Path:
    """Call `write(file)` on a temp file next to `path`, then move it into place."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o666 & ~_umask())
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def atomic_write_text(path: str | Path, text: str) -> Path:
    """Write `text` (UTF-8) atomically."""
    return atomic_write(path, lambda f: f.write(text.encode()))


def atomic_write_json(path: str | Path, data: Any) -> Path:
    """Write `data` as indented JSON atomically."""
    return atomic_write_text(path, json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")


def atomic_save_model(model: Any, path: str | Path) -> Path:
    """Save an SB3 model (`model.save` accepts a file object) atomically."""
    return atomic_write(path, lambda f: model.save(f))
