"""scaling_jax: neural scaling laws, fitted fast and faithfully in JAX.

Importing scaling_jax enables JAX's float64 mode (``jax.config.update("jax_enable_x64",
True)``): fits run in float64 by default. Pass ``dtype="float32"`` to `fit` to trade accuracy
for speed explicitly; a float64 fit with x64 switched off raises instead of silently running in
float32.
"""

from __future__ import annotations

import jax

jax.config.update("jax_enable_x64", True)

from . import data, fitting, flops, laws, presets, sizing, synthetic  # noqa: E402, F401
from .data import Runs, as_runs, check_enough_points, load_runs  # noqa: E402
from .fitting import extrapolation as extrapolate  # noqa: E402
from .fitting import objective, solver  # noqa: E402
from .fitting import resampling as bootstrapping  # noqa: E402
from .fitting.extrapolation import ExtrapolationTable, compare_laws  # noqa: E402
from .fitting.multistart import FitResult, StartsTable, fit, make_starts  # noqa: E402
from .fitting.objective import huber  # noqa: E402
from .fitting.resampling import BootstrapResult, bootstrap, load_bootstrap  # noqa: E402
from .fitting.solver import SolverOptions, Status  # noqa: E402
from .flops import Architecture, training_flops  # noqa: E402
from .laws import (  # noqa: E402
    ChinchillaLogParams,
    ChinchillaParams,
    DataConstrainedParams,
    KaplanNDParams,
    Law,
    custom_law,
    kaplan,
    validate_law,
)
from .laws.kaplan import KaplanParams, gradient_noise_scale  # noqa: E402
from .sizing import constrained as data_constrained  # noqa: E402
from .sizing import isoflop, lifetime, optimal  # noqa: E402
from .sizing.constrained import constrained_optimal  # noqa: E402
from .sizing.isoflop import EnvelopeResult, IsoFlopResult, envelope_fit, isoflop_fit  # noqa: E402
from .sizing.lifetime import (  # noqa: E402
    CostModel,
    Hardware,
    LifetimeOptimum,
    lifetime_budget_optimal,
    lifetime_cost,
    lifetime_flops,
    lifetime_intervals,
    lifetime_optimal,
    lifetime_optimal_general,
)
from .sizing.optimal import (  # noqa: E402
    FRONTIERS,
    Allocation,
    allocation,
    compute_optimal,
    loss_optimal,
    optimal_exponents,
    solve_compute_optimal,
)
from .synthetic import chinchilla_design, synthetic_runs  # noqa: E402

__all__ = [
    "data",
    "flops",
    "isoflop",
    "kaplan",
    "lifetime",
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
    "bootstrap",
    "BootstrapResult",
    "load_bootstrap",
    "bootstrapping",
    "FitResult",
    "StartsTable",
    "make_starts",
    "ChinchillaParams",
    "ChinchillaLogParams",
    "Law",
    "DataConstrainedParams",
    "KaplanNDParams",
    "custom_law",
    "validate_law",
    "constrained_optimal",
    "compare_laws",
    "ExtrapolationTable",
    "data_constrained",
    "extrapolate",
    "huber",
    "compute_optimal",
    "optimal_exponents",
    "solve_compute_optimal",
    "loss_optimal",
    "allocation",
    "Allocation",
    "FRONTIERS",
    "Architecture",
    "training_flops",
    "isoflop_fit",
    "envelope_fit",
    "IsoFlopResult",
    "EnvelopeResult",
    "KaplanParams",
    "gradient_noise_scale",
    "lifetime_optimal",
    "lifetime_budget_optimal",
    "lifetime_optimal_general",
    "lifetime_intervals",
    "lifetime_flops",
    "lifetime_cost",
    "LifetimeOptimum",
    "CostModel",
    "Hardware",
    "SolverOptions",
    "Status",
    "chinchilla_design",
    "synthetic_runs",
]
__version__ = "0.1.0"
