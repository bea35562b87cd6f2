"""scaling_jax: neural scaling laws, fitted fast and faithfully in JAX.

Importing scaling_jax enables JAX's float64 mode (``jax_enable_x64``): fits run in float64
by default. Pass ``dtype="float32"`` to `fit` to trade accuracy for speed explicitly.
"""

from __future__ import annotations

import jax

jax.config.update("jax_enable_x64", True)

from . import laws, presets  # noqa: E402
from .laws import ChinchillaLogParams, ChinchillaParams, Law  # noqa: E402

__all__ = [
    "laws",
    "presets",
    "ChinchillaParams",
    "ChinchillaLogParams",
    "Law",
]
__version__ = "0.1.0"
