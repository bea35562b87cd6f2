"""Scaling laws as pure JAX functions, and the `Law` description the fitter consumes.

* `chinchilla`: L(N, D) = E + A/N**alpha + B/D**beta (Hoffmann et al. 2022, eq. 2);
* `data_constrained`: repeated data (Muennighoff et al. 2023, eq. 5);
* `kaplan_nd` and `kaplan`: Kaplan et al. 2020's laws;
* `custom_law`: a user's JAX function as a `Law`; `validate_law` checks one against runs;
* `links`: loss -> downstream-metric links (sigmoid, Gadre et al. 2024's exponential, logit).
"""

from . import kaplan, links
from ._law import Law, law_loss_fn
from .chinchilla import (
    CHINCHILLA,
    ChinchillaLogParams,
    ChinchillaParams,
    chinchilla,
    chinchilla_grid,
    chinchilla_log_loss,
    from_log_params,
    to_log_params,
)
from .custom import custom_law
from .data_constrained import (
    _MUENNIGHOFF_2023,
    DATA_CONSTRAINED,
    DATA_CONSTRAINED_FROZEN,
    DataConstrainedParams,
    check_data_constrained_inputs,
    data_constrained,
    data_constrained_grid,
    data_constrained_law,
    data_constrained_log_loss,
    n_opt_single_epoch,
)
from .kaplan_nd import KAPLAN, KaplanNDParams, kaplan_grid, kaplan_nd, kaplan_nd_log_loss
from .registry import LAWS, get_law, saved_law, validate_law

__all__ = [
    "Law",
    "law_loss_fn",
    "ChinchillaParams",
    "ChinchillaLogParams",
    "CHINCHILLA",
    "chinchilla",
    "chinchilla_log_loss",
    "to_log_params",
    "from_log_params",
    "chinchilla_grid",
    "get_law",
    "saved_law",
    "LAWS",
    "DataConstrainedParams",
    "data_constrained",
    "data_constrained_log_loss",
    "n_opt_single_epoch",
    "data_constrained_law",
    "data_constrained_grid",
    "DATA_CONSTRAINED",
    "DATA_CONSTRAINED_FROZEN",
    "KaplanNDParams",
    "kaplan_nd",
    "kaplan_nd_log_loss",
    "kaplan_grid",
    "KAPLAN",
    "custom_law",
    "validate_law",
    "check_data_constrained_inputs",
    "kaplan",
    "links",
]
_ = _MUENNIGHOFF_2023  # re-exported for presets
