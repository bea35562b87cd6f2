"""Bucketed point counts: datasets of any size share the compiled fitting programs.

Every compiled program is specialised to its array shapes, so a fit on 200 points and one on
240 points would each compile the solver again. The points are instead padded to a bucketed
length with zero weights: padded points repeat the first point's features and log-loss (so
every law evaluates them finitely) and contribute exactly zero to the objective and its
gradient.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["POINT_BUCKET_FLOOR", "padded_length", "pad_points"]

#: Smallest padded length. Most scaling-law datasets have fewer than 256 runs, so one compiled
#: program serves them all; beyond, lengths double.
POINT_BUCKET_FLOOR = 256


def padded_length(n: int, floor: int = POINT_BUCKET_FLOOR) -> int:
    """The bucketed length for `n` points: the next power of two, at least `floor`."""
    if n < 1:
        raise ValueError(f"cannot pad {n} points: need at least one")
    return max(int(floor), 1 << (int(n) - 1).bit_length())


def pad_points(column: Any, length: int) -> np.ndarray:
    """`column` (n, ...) extended to `length` rows by repeating its first row."""
    arr = np.asarray(column)
    extra = length - arr.shape[0]
    if extra < 0:
        raise ValueError(f"cannot pad {arr.shape[0]} points to {length}")
    if extra == 0:
        return arr
    return np.concatenate([arr, np.repeat(arr[:1], extra, axis=0)], axis=0)
