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

__all__ = [
    "json_float",
    "read_json",
    "write_bytes_atomic",
    "write_json_atomic",
    "arrays_to_dict",
    "arrays_from_dict",
]


def json_float(value: Any) -> float | None:
    """A float for JSON; NaN and inf become None (JSON has no such numbers)."""
    value = float(value)
    return value if math.isfinite(value) else None


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_bytes_atomic(path: str | os.PathLike[str], payload: bytes) -> None:
    """Write `payload` to `path` via a temporary file in the same folder and an atomic rename.

    The file gets the permissions of a normally created file (0666 minus the umask), not the
    0600 of a temporary file.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o666 & ~_umask())
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


def arrays_to_dict(value: Any) -> dict[str, Any]:
    """A NamedTuple of arrays as a JSON-ready dict of (nested) lists; None stays None."""
    import numpy as np

    return {k: None if v is None else np.asarray(v).tolist() for k, v in value._asdict().items()}


def arrays_from_dict(cls: Any, blob: dict[str, Any]) -> Any:
    """Inverse of `arrays_to_dict` for the NamedTuple class `cls` (float64 NumPy arrays)."""
    import numpy as np

    missing = [k for k in cls._fields if k not in blob]
    if missing:
        raise ValueError(f"{cls.__name__}: JSON lacks the field(s) {missing}")
    return cls(*(None if blob[k] is None else np.asarray(blob[k], np.float64) for k in cls._fields))
