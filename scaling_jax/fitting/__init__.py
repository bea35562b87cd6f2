"""Fitting: the Huber objective, the lock-step batched solver, the multi-start fit, the
bootstrap, out-of-sample extrapolation checks and loss -> metric link fits."""

from .comparison import Comparison, compare
from .extrapolation import ExtrapolationTable, compare_laws
from .link_fit import LinkFit, fit_links
from .multistart import FitResult, StartsTable, fit, make_starts
from .prediction import Prediction, predict
from .resampling import BootstrapResult, bootstrap, load_bootstrap
from .solver import FitStatus

__all__ = [
    "fit",
    "FitResult",
    "StartsTable",
    "FitStatus",
    "make_starts",
    "bootstrap",
    "BootstrapResult",
    "load_bootstrap",
    "compare_laws",
    "ExtrapolationTable",
    "fit_links",
    "LinkFit",
    "predict",
    "Prediction",
    "compare",
    "Comparison",
]
