"""The registry of named laws and `validate_law`, which checks a law against runs before a fit.
"""

from __future__ import annotations

import functools
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from scaling_jax._aot import recipe_for, recipe_of, set_recipe, stored_jit
from scaling_jax._precision import float64_call

from .._padding import pad_points, padded_length
from ._law import Law
from .chinchilla import CHINCHILLA
from .data_constrained import (
    DATA_CONSTRAINED,
    DATA_CONSTRAINED_FROZEN,
    check_data_constrained_inputs,
    data_constrained_law,
)
from .kaplan_nd import KAPLAN

Array = Any

LAWS: dict[str, Law] = {"chinchilla": CHINCHILLA}


def get_law(law: str | Law) -> Law:
    """Resolve a law given by name (see `LAWS`) or pass a `Law` through."""
    if isinstance(law, Law):
        return law
    try:
        return LAWS[law]
    except KeyError:
        raise ValueError(f"unknown law {law!r}; known: {sorted(LAWS)}") from None


def saved_law(name: str, param_names: Any, law: Law | None = None) -> Law:
    """The `Law` a saved result (JSON) was fitted with.

    A registry law is looked up by its stored `name`; a user law is not in the registry and
    must be passed as `law` (the same `custom_law(...)` object that was fitted). Either way
    the law's fit coordinates must match the stored `param_names`.
    """
    if law is None:
        if name not in LAWS:
            raise ValueError(
                f"the result was fitted with law {name!r}, which is not in the registry "
                f"(known: {sorted(LAWS)}); pass the law itself: from_json(path, law=...)"
            )
        law = LAWS[name]
    elif not isinstance(law, Law):
        law = get_law(law)
    if tuple(law.param_names) != tuple(param_names):
        raise ValueError(
            f"law {law.name!r} has fit coordinates {tuple(law.param_names)}, but the saved "
            f"result (law {name!r}) has {tuple(param_names)}"
        )
    return law



@functools.lru_cache(maxsize=32)
def _starts_evaluator(log_loss: Any) -> Any:
    """``(thetas, feats) ->`` (predictions at the first start, finite predictions per start,
    finite gradient of the summed log-loss per start), one compiled program per law and
    shape (stored across processes for a registry law, see `scaling_jax._aot`)."""

    def evaluate(thetas: Array, feats: Any) -> tuple[Array, Array, Array]:
        preds = jax.vmap(lambda t: log_loss(t, feats))(thetas)
        grads = jax.vmap(jax.grad(lambda t: jnp.sum(log_loss(t, feats))))(thetas)
        return (
            preds[0],
            jnp.all(jnp.isfinite(preds), axis=1),
            jnp.all(jnp.isfinite(grads), axis=1),
        )

    return stored_jit(evaluate, recipe_for("evaluate_starts", log_loss))


def _raised(law: Law, err: Exception) -> ValueError:
    return ValueError(
        f"law {law.name!r} raised {type(err).__name__} when evaluated on the runs: {err}"
    )


@float64_call
def validate_law(law: str | Law, runs: Any, theta: Any = None) -> int:
    """Check that `law` can be fitted to `runs`; raise a clear ValueError if not.

    Checks: the runs provide the law's features; there are more runs than parameters; for the
    data-constrained laws, 0 < U <= D; the law's log-loss evaluated at the starts (`theta`,
    shape (k,) or (S, k) in fit coordinates; default the law's init grid) has shape (n,), is
    finite for at least one start, and has a finite gradient there. Returns the number of
    starts with finite predictions. Call it before `scaling_jax.fit` on a new or user law.
    """
    from ..data import Runs, check_enough_points  # data does not import laws; kept lazy anyway

    law = get_law(law)
    if not isinstance(runs, Runs):
        raise ValueError(f"validate_law: expected a Runs, got {type(runs).__name__}")
    feats = {k: np.asarray(v) for k, v in runs.features(law.feature_names).items()}
    check_enough_points(runs, law.n_params, law.name)
    if law.name.startswith("data_constrained"):
        check_data_constrained_inputs(feats["N"], feats["D"], feats["U"])
    thetas = np.asarray(law.init_grid() if theta is None else theta, np.float64)
    if thetas.ndim == 1:
        thetas = thetas[None]
    if thetas.ndim != 2 or thetas.shape[1] != law.n_params:
        raise ValueError(
            f"law {law.name!r}: starts have shape {thetas.shape}, expected (S, {law.n_params})"
        )
    n = len(runs)
    # Evaluated on the points padded to their bucketed length (copies of the first point), in
    # one compiled program per law and bucket: fits of many dataset sizes share it.
    n_pad = padded_length(n)
    padded = {k: pad_points(np.asarray(v), n_pad) for k, v in feats.items()}
    # A registry law returns one float per run by construction; the shape check (a trace)
    # is for user laws, and is skipped so that a warm process traces nothing.
    if recipe_of(law.log_loss) is None:
        specs = {k: jax.ShapeDtypeStruct(v.shape, v.dtype) for k, v in feats.items()}
        theta_spec = jax.ShapeDtypeStruct(thetas.shape[1:], thetas.dtype)
        try:
            first = jax.eval_shape(law.log_loss, theta_spec, specs)
        except Exception as err:  # a user's function can raise anything; report it as bad input
            raise _raised(law, err) from err
        shape = getattr(first, "shape", None)
        if shape != (n,):
            raise ValueError(
                f"law {law.name!r} returned shape {shape} for {n} runs; it must return one "
                f"(log-)loss per run, shape ({n},)"
            )
        if not jnp.issubdtype(first.dtype, jnp.floating):
            raise ValueError(f"law {law.name!r} returned dtype {first.dtype}")
    try:
        first_row, finite, grad_finite = _starts_evaluator(law.log_loss)(thetas, padded)
    except Exception as err:
        raise _raised(law, err) from err
    finite, grad_finite = np.asarray(finite), np.asarray(grad_finite)
    if not finite.any():
        row = np.asarray(first_row)[:n]
        i = int(np.flatnonzero(~np.isfinite(row))[0])
        raise ValueError(
            f"law {law.name!r} predicts a non-finite log-loss at every one of {len(thetas)} "
            f"starts (e.g. start 0, run {i}: {row[i]!r}; {int((~np.isfinite(row)).sum())} of "
            f"{n} runs non-finite). A loss <= 0 or NaN has no log; check the function, its "
            "constraints (positive=, bounds=) and the starts"
        )
    candidates = np.flatnonzero(finite)[:8]
    if not grad_finite[candidates].any():
        raise ValueError(
            f"law {law.name!r} has a non-finite gradient at every checked start with finite "
            "predictions; the fitter needs finite gradients"
        )
    return int(finite.sum())


LAWS.update(
    {
        "data_constrained": DATA_CONSTRAINED,
        "data_constrained_frozen": DATA_CONSTRAINED_FROZEN,
        "data_constrained_tied": data_constrained_law(tie_exponents=True),
        "kaplan": KAPLAN,
    }
)

# The registry's own laws are the same functions in every process: programs built from them
# can be stored on disk (`scaling_jax._aot`). Laws added to `LAWS` later are not marked.
for _name, _law in LAWS.items():
    set_recipe(_law.log_loss, ("law", _name, "log_loss"))
    set_recipe(_law.to_params, ("law", _name, "to_params"))
