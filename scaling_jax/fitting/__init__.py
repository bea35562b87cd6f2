"""Fitting: the Huber objective, the lock-step batched solver, the multi-start fit, the
bootstrap and out-of-sample extrapolation checks."""

from .extrapolation import ExtrapolationTable, compare_laws
from .multistart import FitResult, StartsTable, fit, make_starts
from .resampling import BootstrapResult, bootstrap, load_bootstrap

__all__ = [
    "fit",
    "FitResult",
    "StartsTable",
    "make_starts",
    "bootstrap",
    "BootstrapResult",
    "load_bootstrap",
    "compare_laws",
    "ExtrapolationTable",
]
