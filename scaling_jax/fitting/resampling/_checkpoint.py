"""Checkpoint files of a resumable bootstrap: the manifest, atomic chunk files, hashes."""

from __future__ import annotations

import hashlib
import io
import json
import warnings
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from scaling_jax._io import write_bytes_atomic, write_json_atomic
from scaling_jax.data import Runs

MANIFEST = "manifest.json"
FORMAT = 2  # 2: chunks hold verified/escalation; the manifest holds n_resamples


def save_npz_atomic(path: Path, **arrays: np.ndarray) -> None:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    write_bytes_atomic(path, buf.getvalue())


CHUNK_KEYS = (
    "indices",
    "theta",
    "objective",
    "grad_norm",
    "status",
    "n_basin",
    "n_eval",
    "verified",
    "escalation",
)


def chunk_path(out_dir: Path, c: int, size: int) -> Path:
    """Where chunk c (resamples [c*size, (c+1)*size)) is checkpointed."""
    return out_dir / f"chunk_{c:08d}_{size}.npz"


def read_chunk(out_dir: Path, c: int, size: int) -> dict[str, np.ndarray] | None:
    """Chunk c's arrays, or None when its file is missing or not a complete chunk c.

    A truncated or unreadable file, missing arrays, or indices other than [c*size, (c+1)*size)
    (another chunk's file under this name) make the chunk count as not done: it is solved again
    and its file replaced, never merged. Such a file gets a RuntimeWarning.
    """
    path = chunk_path(out_dir, c, size)
    if not path.exists():
        return None
    try:
        with np.load(path) as z:
            arrays = {k: z[k] for k in CHUNK_KEYS}
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as err:
        reason = f"unreadable ({type(err).__name__}: {err})"
    else:
        expected = np.arange(c * size, (c + 1) * size, dtype=np.int64)
        if not np.array_equal(arrays["indices"], expected):
            reason = f"its indices are not resamples {c * size}..{(c + 1) * size - 1}"
        elif any(len(v) != size for v in arrays.values()):
            reason = "its arrays do not all have one row per resample"
        else:
            return arrays
    warnings.warn(
        f"ignoring chunk file {path}: {reason}; the chunk is solved again",
        RuntimeWarning,
        stacklevel=2,
    )
    return None


def done_chunks(out_dir: Path, size: int, n_chunks: int) -> set[int]:
    """Chunks in [0, n_chunks) with a complete, valid checkpoint file in `out_dir`."""
    return {c for c in range(n_chunks) if read_chunk(out_dir, c, size) is not None}


def load_chunks(out_dir: Path, size: int, n_chunks: int) -> dict[str, np.ndarray]:
    """Merge the valid chunk files of chunks [0, n_chunks), ordered by resample index."""
    parts: dict[str, list[np.ndarray]] = {k: [] for k in CHUNK_KEYS}
    for c in range(n_chunks):
        arrays = read_chunk(out_dir, c, size)
        if arrays is not None:
            for k in CHUNK_KEYS:
                parts[k].append(arrays[k])
    if not parts["indices"]:
        return {}
    return {k: np.concatenate(v) for k, v in parts.items()}


def data_hash(runs: Runs) -> str:
    h = hashlib.sha256()
    for arr in (runs.N, runs.D, runs.loss, runs.weights):
        if arr is not None:
            h.update(np.ascontiguousarray(arr, np.float64).tobytes())
        h.update(b"|")
    for name in sorted(runs.extra):
        h.update(name.encode() + np.ascontiguousarray(runs.extra[name]).tobytes())
    return h.hexdigest()


def array_hash(arr: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(arr, np.float64).tobytes()).hexdigest()


def stored_count(out_dir: Path | None) -> int | None:
    """The number of resamples the manifest in `out_dir` holds (None: no manifest yet)."""
    if out_dir is None or not (out_dir / MANIFEST).is_file():
        return None
    blob = json.loads((out_dir / MANIFEST).read_text())
    if "n_resamples" not in blob:
        raise ValueError(
            f"out_dir {str(out_dir)!r} holds a bootstrap written by an older version (format "
            f"{blob.get('format')!r}, no resample count); use a new out_dir"
        )
    return int(blob["n_resamples"])


def check_count(out_dir: Path | None, n_resamples: int, extend: bool) -> None:
    """Loading never changes a result: the request must match the stored resample count.

    Raises ValueError, before any work, when `out_dir` holds a run of a different size --
    unless ``extend=True`` asks to grow it (never to shrink it).
    """
    stored = stored_count(out_dir)
    if stored is None or stored == n_resamples:
        return
    if extend and n_resamples > stored:
        return
    if n_resamples > stored:
        raise ValueError(
            f"out_dir {str(out_dir)!r} holds a bootstrap of {stored} resamples, but "
            f"n_resamples={n_resamples} was requested; pass extend=True to compute "
            f"{n_resamples - stored} more (results change), or n_resamples={stored}"
        )
    raise ValueError(
        f"out_dir {str(out_dir)!r} holds a bootstrap of {stored} resamples, but "
        f"n_resamples={n_resamples} was requested; use n_resamples={stored} (a run is never "
        "shrunk)"
    )


def check_manifest(
    out_dir: Path, config: dict[str, Any], size: int, explicit: Any, n_resamples: int
) -> int:
    """Create or check ``manifest.json``; return the chunk size to use (the stored one).

    The manifest also records the run's resample count; `check_count` has vetted any change,
    so a larger `n_resamples` here is an explicit extension and is recorded.
    """
    path = out_dir / MANIFEST
    if path.exists():
        old = json.loads(path.read_text())
        stored = int(old.pop("chunk_size", size))
        stored_n = int(old.pop("n_resamples", n_resamples))
        diff = sorted(k for k in set(old) | set(config) if old.get(k) != config.get(k))
        if explicit and stored != size:
            diff.append("chunk_size")
            old["chunk_size"], config = stored, {**config, "chunk_size": size}
        if diff:
            detail = "; ".join(f"{k}: {old.get(k)!r} != {config.get(k)!r}" for k in diff[:6])
            raise ValueError(
                f"out_dir {str(out_dir)!r} holds a bootstrap with a different configuration "
                f"({detail}); use a new out_dir or the original settings"
            )
        if n_resamples > stored_n:
            write_json_atomic(path, {**old, "chunk_size": stored, "n_resamples": n_resamples})
        return stored
    if any(out_dir.glob("chunk_*.npz")):
        raise ValueError(
            f"out_dir {str(out_dir)!r} has chunk files but no {MANIFEST}; refusing to mix"
        )
    write_json_atomic(path, {**config, "chunk_size": size, "n_resamples": n_resamples})
    return size
