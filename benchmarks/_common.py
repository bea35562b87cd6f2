"""Shared pieces of the benchmark scripts: the reference data and a timer.

The timing code itself lives in `scaling_jax.benchmark` (what ``scaling-jax bench`` runs);
scaling_jax is imported inside the functions, so a competitor's child process that imports
this module never starts JAX.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

# ../shared/data beside the checkout; SCALING_JAX_SHARED_DATA overrides it (a git worktree).
SHARED_DATA = Path(
    os.environ.get("SCALING_JAX_SHARED_DATA")
    or Path(__file__).resolve().parents[2] / "shared" / "data"
)


def timed(fn: Any, *args: Any, **kwargs: Any) -> tuple[Any, float]:
    """(fn(*args, **kwargs), wall seconds): `scaling_jax.benchmark.timed`."""
    from scaling_jax.benchmark import timed as _timed

    return _timed(fn, *args, **kwargs)


def epoch_runs() -> Any:
    """Epoch AI's 240 filtered Chinchilla points (the 5 highest losses dropped), or None."""
    import numpy as np

    import scaling_jax as sj

    path = SHARED_DATA / "chinchilla_epoch_extracted.csv"
    if not path.is_file():
        return None
    runs = sj.load_runs(path, n="Model Size", compute="Training FLOP", loss="loss")
    return runs.subset(runs.loss < np.sort(runs.loss)[-5])


def reference_runs() -> tuple[Any, str]:
    """The Epoch points when ../shared/data is present, else 240 synthetic runs; and a label."""
    import scaling_jax as sj

    runs = epoch_runs()
    if runs is not None:
        return runs, f"Epoch AI, {len(runs)} filtered points"
    runs = sj.synthetic_runs(sj.presets.EPOCH_2024, n_runs=240, seed=0)
    return runs, "synthetic, 240 runs (../shared/data absent)"


def sardana_runs() -> Any:
    """Sardana et al.'s 47 training runs, or None when ../shared/data is absent."""
    import scaling_jax as sj

    path = SHARED_DATA / "sardana_trainingresults_47.csv"
    if not path.is_file():
        return None
    return sj.load_runs(path, n="Parameters", d="Tokens", loss="Smoothed Loss")
