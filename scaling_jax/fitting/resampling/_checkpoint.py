"""Checkpoint files of a resumable bootstrap: the manifest, atomic chunk files, hashes."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path
from typing import Any

import numpy as np

from scaling_jax._io import write_bytes_atomic, write_json_atomic
from scaling_jax.data import Runs

MANIFEST = "manifest.json"
FORMAT = 1


def save_npz_atomic(path: Path, **arrays: np.ndarray) -> None:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    write_bytes_atomic(path, buf.getvalue())


CHUNK_KEYS = ("indices", "theta", "objective", "grad_norm", "status", "n_basin", "n_eval")


def load_chunks(out_dir: Path) -> dict[str, np.ndarray]:
    parts: dict[str, list[np.ndarray]] = {k: [] for k in CHUNK_KEYS}
    for f in sorted(out_dir.glob("chunk_*.npz")):
        with np.load(f) as z:
            for k in CHUNK_KEYS:
                parts[k].append(z[k])
    if not parts["indices"]:
        return {}
    merged = {k: np.concatenate(v) for k, v in parts.items()}
    # Overlapping chunks (a resample done twice by racing processes) are identical; keep one.
    _, first = np.unique(merged["indices"], return_index=True)
    return {k: v[first] for k, v in merged.items()}


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


def check_manifest(out_dir: Path, config: dict[str, Any], size: int, explicit: Any) -> int:
    """Create or check ``manifest.json``; return the chunk size to use (the stored one)."""
    path = out_dir / MANIFEST
    if path.exists():
        old = json.loads(path.read_text())
        stored = int(old.pop("chunk_size", size))
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
        return stored
    if any(out_dir.glob("chunk_*.npz")):
        raise ValueError(
            f"out_dir {str(out_dir)!r} has chunk files but no {MANIFEST}; refusing to mix"
        )
    write_json_atomic(path, {**config, "chunk_size": size})
    return size
