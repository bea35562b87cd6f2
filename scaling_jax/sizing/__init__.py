"""Sizing: compute-optimal allocation, lifetime (train + inference) optimum, the data-capped
optimum and IsoFLOP analysis."""

from typing import TYPE_CHECKING

from .._lazy import lazy_exports

# Names resolve on first use (PEP 562), so importing one module of this package does not
# import all the others.
_EXPORTS: dict[str, str] = {
    "constrained_optimal": ".constrained",
    "EnvelopeResult": ".isoflop",
    "IsoFlopResult": ".isoflop",
    "envelope_fit": ".isoflop",
    "isoflop_fit": ".isoflop",
    "CostModel": ".lifetime",
    "Hardware": ".lifetime",
    "LifetimeOptimum": ".lifetime",
    "LifetimeStatus": ".lifetime",
    "lifetime_budget_optimal": ".lifetime",
    "lifetime_cost": ".lifetime",
    "lifetime_flops": ".lifetime",
    "lifetime_intervals": ".lifetime",
    "lifetime_optimal": ".lifetime",
    "lifetime_optimal_general": ".lifetime",
    "FRONTIERS": ".optimal",
    "Allocation": ".optimal",
    "allocation": ".optimal",
    "compute_optimal": ".optimal",
    "loss_optimal": ".optimal",
    "optimal_exponents": ".optimal",
    "solve_compute_optimal": ".optimal",
}

if TYPE_CHECKING:
    from .constrained import constrained_optimal
    from .isoflop import EnvelopeResult, IsoFlopResult, envelope_fit, isoflop_fit
    from .lifetime import (
        CostModel,
        Hardware,
        LifetimeOptimum,
        LifetimeStatus,
        lifetime_budget_optimal,
        lifetime_cost,
        lifetime_flops,
        lifetime_intervals,
        lifetime_optimal,
        lifetime_optimal_general,
    )
    from .optimal import (
        FRONTIERS,
        Allocation,
        allocation,
        compute_optimal,
        loss_optimal,
        optimal_exponents,
        solve_compute_optimal,
    )

__all__ = [
    "constrained_optimal",
    "EnvelopeResult",
    "IsoFlopResult",
    "envelope_fit",
    "isoflop_fit",
    "CostModel",
    "Hardware",
    "LifetimeOptimum",
    "LifetimeStatus",
    "lifetime_budget_optimal",
    "lifetime_cost",
    "lifetime_flops",
    "lifetime_intervals",
    "lifetime_optimal",
    "lifetime_optimal_general",
    "FRONTIERS",
    "Allocation",
    "allocation",
    "compute_optimal",
    "loss_optimal",
    "optimal_exponents",
    "solve_compute_optimal",
]


__getattr__, __dir__ = lazy_exports(__name__, globals(), _EXPORTS, __all__)
