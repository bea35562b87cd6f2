"""scaling_jax: neural scaling laws, fitted fast and faithfully in JAX.

Importing scaling_jax changes nothing global: JAX's ``jax_enable_x64`` and matplotlib's
backend stay as they were. Fits, bootstraps and the sizing optimizers run in float64 all the
same: each public call scopes JAX's x64 mode to itself (``jax.enable_x64``), and when x64 is
off in the caller their JAX results come back as float64 NumPy arrays (see
`scaling_jax._precision`). Pass ``dtype="float32"`` to `fit` to trade accuracy for speed
explicitly.

The names in ``__all__`` are the public API. Subpackages stay reachable as attributes for the
rest: `laws`, `fitting`, `sizing`, `presets`, `flops`, `data`, `synthetic`. Names that used to
live here keep working for one release with a ``DeprecationWarning`` naming their new home
(see CHANGELOG.md).
"""

from __future__ import annotations

import importlib
import warnings
from typing import TYPE_CHECKING, Any

# Public names resolve on first use (PEP 562): `import scaling_jax` costs little more than
# `import jax`, and a script or CLI command imports only the modules it uses.
_SUBMODULES = ("data", "fitting", "flops", "laws", "presets", "sizing", "synthetic")
_PUBLIC: dict[str, str] = {
    "bench": "scaling_jax.benchmark",
    "Runs": "scaling_jax.data",
    "load_runs": "scaling_jax.data",
    "BootstrapResult": "scaling_jax.fitting",
    "FitResult": "scaling_jax.fitting",
    "bootstrap": "scaling_jax.fitting",
    "compare": "scaling_jax.fitting",
    "compare_laws": "scaling_jax.fitting",
    "fit": "scaling_jax.fitting",
    "fit_links": "scaling_jax.fitting",
    "load_bootstrap": "scaling_jax.fitting",
    "predict": "scaling_jax.fitting",
    "Architecture": "scaling_jax.flops",
    "training_flops": "scaling_jax.flops",
    "ChinchillaParams": "scaling_jax.laws",
    "DataConstrainedParams": "scaling_jax.laws",
    "KaplanNDParams": "scaling_jax.laws",
    "Law": "scaling_jax.laws",
    "custom_law": "scaling_jax.laws",
    "validate_law": "scaling_jax.laws",
    "FRONTIERS": "scaling_jax.sizing",
    "Allocation": "scaling_jax.sizing",
    "CostModel": "scaling_jax.sizing",
    "Hardware": "scaling_jax.sizing",
    "LifetimeOptimum": "scaling_jax.sizing",
    "allocation": "scaling_jax.sizing",
    "compute_optimal": "scaling_jax.sizing",
    "constrained_optimal": "scaling_jax.sizing",
    "envelope_fit": "scaling_jax.sizing",
    "isoflop_fit": "scaling_jax.sizing",
    "lifetime_budget_optimal": "scaling_jax.sizing",
    "lifetime_cost": "scaling_jax.sizing",
    "lifetime_intervals": "scaling_jax.sizing",
    "lifetime_optimal": "scaling_jax.sizing",
    "design": "scaling_jax.sizing.design",
    "synthetic_runs": "scaling_jax.synthetic",
}

if TYPE_CHECKING:  # what type checkers and IDEs see
    from . import data, fitting, flops, laws, presets, sizing, synthetic  # noqa: F401
    from .benchmark import bench
    from .data import Runs, load_runs
    from .fitting import (
        BootstrapResult,
        FitResult,
        bootstrap,
        compare,
        compare_laws,
        fit,
        fit_links,
        load_bootstrap,
        predict,
    )
    from .flops import Architecture, training_flops
    from .laws import (
        ChinchillaParams,
        DataConstrainedParams,
        KaplanNDParams,
        Law,
        custom_law,
        validate_law,
    )
    from .sizing import (
        FRONTIERS,
        Allocation,
        CostModel,
        Hardware,
        LifetimeOptimum,
        allocation,
        compute_optimal,
        constrained_optimal,
        envelope_fit,
        isoflop_fit,
        lifetime_budget_optimal,
        lifetime_cost,
        lifetime_intervals,
        lifetime_optimal,
    )
    from .sizing.design import design
    from .synthetic import synthetic_runs

__all__ = [
    # data
    "Runs",
    "load_runs",
    "synthetic_runs",
    # laws
    "Law",
    "ChinchillaParams",
    "DataConstrainedParams",
    "KaplanNDParams",
    "custom_law",
    "validate_law",
    # fitting
    "fit",
    "FitResult",
    "bootstrap",
    "BootstrapResult",
    "load_bootstrap",
    "compare_laws",
    "fit_links",
    "predict",
    "compare",
    # sizing
    "compute_optimal",
    "Allocation",
    "allocation",
    "constrained_optimal",
    "FRONTIERS",
    "isoflop_fit",
    "envelope_fit",
    "lifetime_optimal",
    "lifetime_budget_optimal",
    "LifetimeOptimum",
    "lifetime_intervals",
    "lifetime_cost",
    "CostModel",
    "Hardware",
    "design",
    # FLOPs
    "Architecture",
    "training_flops",
    # throughput on this machine
    "bench",
]
__version__ = "0.1.0"

# Old top-level name -> (module holding it, attribute there or None for the module itself).
# Each access warns once per call site and names the replacement; removed in the next release.
_DEPRECATED: dict[str, tuple[str, str | None]] = {
    # module aliases
    "bootstrapping": ("scaling_jax.fitting.resampling", None),
    "data_constrained": ("scaling_jax.sizing.constrained", None),
    "extrapolate": ("scaling_jax.fitting.extrapolation", None),
    "isoflop": ("scaling_jax.sizing.isoflop", None),
    "kaplan": ("scaling_jax.laws.kaplan", None),
    "lifetime": ("scaling_jax.sizing.lifetime", None),
    "objective": ("scaling_jax.fitting.objective", None),
    "optimal": ("scaling_jax.sizing.optimal", None),
    "solver": ("scaling_jax.fitting.solver", None),
    # internals and specialised names
    "as_runs": ("scaling_jax.data", "as_runs"),
    "check_enough_points": ("scaling_jax.data", "check_enough_points"),
    "StartsTable": ("scaling_jax.fitting", "StartsTable"),
    "make_starts": ("scaling_jax.fitting", "make_starts"),
    "ExtrapolationTable": ("scaling_jax.fitting", "ExtrapolationTable"),
    "huber": ("scaling_jax.fitting.objective", "huber"),
    "SolverOptions": ("scaling_jax.fitting.solver", "SolverOptions"),
    "Status": ("scaling_jax.fitting.solver", "Status"),
    "ChinchillaLogParams": ("scaling_jax.laws", "ChinchillaLogParams"),
    "KaplanParams": ("scaling_jax.laws.kaplan", "KaplanParams"),
    "gradient_noise_scale": ("scaling_jax.laws.kaplan", "gradient_noise_scale"),
    "optimal_exponents": ("scaling_jax.sizing", "optimal_exponents"),
    "solve_compute_optimal": ("scaling_jax.sizing", "solve_compute_optimal"),
    "loss_optimal": ("scaling_jax.sizing", "loss_optimal"),
    "IsoFlopResult": ("scaling_jax.sizing", "IsoFlopResult"),
    "EnvelopeResult": ("scaling_jax.sizing", "EnvelopeResult"),
    "lifetime_flops": ("scaling_jax.sizing", "lifetime_flops"),
    "lifetime_optimal_general": ("scaling_jax.sizing", "lifetime_optimal_general"),
    "chinchilla_design": ("scaling_jax.synthetic", "chinchilla_design"),
}

# A better replacement than "the same object at its new path", where there is one.
_INSTEAD = {
    "loss_optimal": "scaling_jax.allocation(params, loss=...)",
}


def __getattr__(name: str) -> Any:
    """Public names and subpackages on first use; old top-level names still work for one
    release, with a DeprecationWarning."""
    if name in _SUBMODULES:
        return importlib.import_module(f"scaling_jax.{name}")
    if name in _PUBLIC:
        value = getattr(importlib.import_module(_PUBLIC[name]), name)
        globals()[name] = value
        return value
    if name not in _DEPRECATED:
        raise AttributeError(f"module 'scaling_jax' has no attribute {name!r}")
    module, attr = _DEPRECATED[name]
    new = module if attr is None else f"{module}.{attr}"
    warnings.warn(
        f"scaling_jax.{name} is deprecated and will be removed in the next release; "
        f"use {_INSTEAD.get(name, new)} instead",
        DeprecationWarning,
        stacklevel=2,
    )
    target = importlib.import_module(module)
    return target if attr is None else getattr(target, attr)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__) | set(_SUBMODULES))
