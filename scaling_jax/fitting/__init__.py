"""Fitting: the Huber objective, the lock-step batched solver, the multi-start fit, the
bootstrap, out-of-sample extrapolation checks and loss -> metric link fits."""

from typing import TYPE_CHECKING

from .._lazy import lazy_exports

# Names resolve on first use (PEP 562), so importing one module of this package does not
# import all the others.
_EXPORTS: dict[str, str] = {
    "Comparison": ".comparison",
    "compare": ".comparison",
    "ExtrapolationTable": ".extrapolation",
    "compare_laws": ".extrapolation",
    "LinkFit": ".link_fit",
    "fit_links": ".link_fit",
    "FitResult": ".multistart",
    "StartsTable": ".multistart",
    "fit": ".multistart",
    "make_starts": ".multistart",
    "Prediction": ".prediction",
    "predict": ".prediction",
    "BootstrapResult": ".resampling",
    "bootstrap": ".resampling",
    "load_bootstrap": ".resampling",
    "FitStatus": ".solver",
}

if TYPE_CHECKING:
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


__getattr__, __dir__ = lazy_exports(__name__, globals(), _EXPORTS, __all__)
