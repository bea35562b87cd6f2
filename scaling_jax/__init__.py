"""scaling_jax: neural scaling laws, fitted fast and faithfully in JAX.

Importing scaling_jax enables JAX's float64 mode (``jax.config.update("jax_enable_x64",
True)``): fits run in float64 by default. Pass ``dtype="float32"`` to `fit` to trade accuracy
for speed explicitly; a float64 fit with x64 switched off raises instead of silently running in
float32.
"""

from __future__ import annotations

import jax

jax.config.update("jax_enable_x64", True)

from . import data, laws, objective, optimal, presets, solver, synthetic  # noqa: E402
from .data import Runs, as_runs, check_enough_points, load_runs  # noqa: E402
from .fitting import FitResult, StartsTable, fit, make_starts  # noqa: E402
from .laws import ChinchillaLogParams, ChinchillaParams, Law  # noqa: E402
from .objective import huber  # noqa: E402
from .optimal import compute_optimal, optimal_exponents  # noqa: E402
from .solver import SolverOptions, Status  # noqa: E402
from .synthetic import chinchilla_design, synthetic_runs  # noqa: E402

__all__ = [
    "data",
    "laws",
    "objective",
    "optimal",
    "presets",
    "solver",
    "synthetic",
    "Runs",
    "load_runs",
    "as_runs",
    "check_enough_points",
    "fit",
    "FitResult",
    "StartsTable",
    "make_starts",
    "ChinchillaParams",
    "ChinchillaLogParams",
    "Law",
    "huber",
    "compute_optimal",
    "optimal_exponents",
    "SolverOptions",
    "Status",
    "chinchilla_design",
    "synthetic_runs",
]
__version__ = "0.1.0"
