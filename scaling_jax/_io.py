"""Atomic file writes and JSON helpers shared by the result types.

Results are written to a temporary file in the target folder and renamed into place, so a
killed run never leaves a half-written file behind (long runs resume from what is there).
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any

__all__ = ["json_float", "read_json", "write_bytes_atomic", "write_json_atomic"]


def json_float(value: Any) -> float | None:
    """A float for JSON; NaN and inf become None (JSON has no such numbers)."""
    value = float(value)
    return value if math.isfinite(value) else None


def write_bytes_atomic(path: str | os.PathLike[str], payload: bytes) -> None:
    """Write `payload` to `path` via a temporary file in the same folder and an atomic rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json_atomic(path: str | os.PathLike[str], blob: Any) -> None:
    """Write `blob` as indented JSON to `path`, atomically."""
    write_bytes_atomic(path, json.dumps(blob, indent=1).encode())


def read_json(path: str | os.PathLike[str]) -> Any:
    """The JSON document at `path` (the inverse of `write_json_atomic`)."""
    return json.loads(Path(path).read_text())
