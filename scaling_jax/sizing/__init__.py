"""Sizing: compute-optimal allocation, lifetime (train + inference) optimum, the data-capped
optimum and IsoFLOP analysis."""

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
