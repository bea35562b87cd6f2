"""`custom_law`: turn a user's JAX function into a `Law` the fitter, bootstrap and optimizers
accept unchanged.
"""

from __future__ import annotations

import itertools
import keyword
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from scaling_jax._precision import float64_call

from ._law import Law

Array = Any

# User-defined laws


def _identifier(name: str) -> str:
    cleaned = "".join(c if c.isalnum() else "_" for c in name).strip("_") or "Custom"
    return cleaned if cleaned[0].isalpha() else f"L{cleaned}"


@float64_call
def custom_law(
    name: str,
    fn: Callable[[Any, Mapping[str, Array]], Array],
    param_names: Sequence[str],
    *,
    init_grid: Mapping[str, Sequence[float]] | Any = None,
    bounds: Mapping[str, tuple[float, float]] | None = None,
    positive: Sequence[str] = (),
    log_space: bool = False,
    features: Sequence[str] = ("N", "D"),
    params_as: str = "dict",
) -> Law:
    """Build a `Law` from a user's JAX function, for `scaling_jax.fit` and friends.

    Args:
      name: the law's name (reported in `FitResult.law`).
      fn: ``fn(params, features) -> loss`` (nats/token, shape (n,)), or log-loss when
        ``log_space=True``. ``params`` is a dict name -> scalar (``params_as="dict"``) or
        the natural-parameter vector in `param_names` order (``params_as="array"``);
        ``features`` maps each name in `features` to an (n,) array. Must be traceable by JAX.
      param_names: the natural parameters, valid Python identifiers.
      init_grid: starts in natural units: a mapping name -> values (their product is used)
        or an array (starts, k). Default: 3 values per parameter -- interior points of its
        bounds, {0.1, 1, 10} when positive, {-1, 0, 1} otherwise (crude; better give one).
      bounds: name -> (low, high): the parameter is kept strictly inside by the scaled
        logistic p = low + (high - low) * sigmoid(t); the fit coordinate is t (``logit_p``).
      positive: names kept > 0 by p = exp(t); the fit coordinate is t (``log_p``).
      log_space: `fn` returns log-loss (use this when you can write a stable logsumexp).
      features: run features the law reads (``"N"``, ``"D"``, ``"C"``, extra ones like
        ``"U"``).

    The fitter works on the transformed coordinates t; `to_params` returns a NamedTuple of
    natural values. Check a new law against its data with `validate_law` before fitting.
    """
    names = tuple(str(p) for p in param_names)
    if not names:
        raise ValueError("custom_law: param_names is empty")
    for p in names:
        if not p.isidentifier() or keyword.iskeyword(p) or p.startswith("_"):
            raise ValueError(f"custom_law: parameter name {p!r} is not a valid identifier")
    if len(set(names)) != len(names):
        raise ValueError(f"custom_law: duplicate parameter names in {names}")
    if params_as not in ("dict", "array"):
        raise ValueError(f"custom_law: params_as={params_as!r}; use 'dict' or 'array'")
    if not callable(fn):
        raise ValueError(f"custom_law: fn must be callable, got {type(fn).__name__}")
    bounds = dict(bounds or {})
    positive = tuple(positive)
    for p in (*bounds, *positive):
        if p not in names:
            raise ValueError(f"custom_law: constrained parameter {p!r} is not in {names}")
    for p, (lo, hi) in bounds.items():
        if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
            raise ValueError(f"custom_law: bounds for {p!r} must be finite with low < high")
        if p in positive:
            raise ValueError(f"custom_law: {p!r} is both bounded and positive; give one")
    kinds = tuple(
        "bounded" if p in bounds else "positive" if p in positive else "free" for p in names
    )
    lows = tuple(float(bounds[p][0]) if p in bounds else 0.0 for p in names)
    spans = tuple(float(bounds[p][1] - bounds[p][0]) if p in bounds else 1.0 for p in names)
    coord_names = tuple(
        {"bounded": f"logit_{p}", "positive": f"log_{p}", "free": p}[k]
        for p, k in zip(names, kinds, strict=True)
    )
    params_type = NamedTuple(f"{_identifier(name)}Params", [(p, Any) for p in names])
    feature_names = tuple(features)

    def to_params(theta: Array) -> Any:
        vals = []
        for i, kind in enumerate(kinds):
            t = theta[..., i]
            if kind == "positive":
                t = jnp.exp(t)
            elif kind == "bounded":
                t = lows[i] + spans[i] * jax.nn.sigmoid(t)
            vals.append(t)
        return params_type(*vals)

    def from_params(params: Any) -> Array:
        if isinstance(params, Mapping):
            params = params_type(**{p: params[p] for p in names})
        vals = []
        for i, kind in enumerate(kinds):
            v = jnp.asarray(params[i], dtype=float)
            if kind == "positive":
                v = jnp.log(v)
            elif kind == "bounded":
                u = (v - lows[i]) / spans[i]
                v = jnp.log(u) - jnp.log1p(-u)
            vals.append(v)
        return jnp.stack(jnp.broadcast_arrays(*vals), axis=-1)

    def log_loss(theta: Array, feats: Mapping[str, Array]) -> Array:
        natural = to_params(theta)
        arg = natural._asdict() if params_as == "dict" else jnp.stack(natural, axis=-1)
        out = fn(arg, {k: feats[k] for k in feature_names})
        return out if log_space else jnp.log(out)

    grid_natural = _custom_grid(init_grid, names, kinds, bounds)
    theta_grid = np.asarray(from_params(params_type(*grid_natural.T)), np.float64)
    bad = ~np.isfinite(theta_grid).all(axis=1)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"custom_law: init_grid row {i} {dict(zip(names, grid_natural[i], strict=True))} "
            "violates a constraint (positive values must be > 0, bounded ones strictly inside "
            "their bounds)"
        )
    low, high = theta_grid.min(axis=0), theta_grid.max(axis=0)
    same = high - low < 1e-12
    low, high = np.where(same, low - 1.0, low), np.where(same, high + 1.0, high)
    return Law(
        name=str(name),
        param_names=coord_names,
        feature_names=feature_names,
        log_loss=log_loss,
        to_params=to_params,
        from_params=from_params,
        init_grid=lambda: theta_grid.copy(),
        random_low=tuple(float(v) for v in low),
        random_high=tuple(float(v) for v in high),
    )


def _custom_grid(
    init_grid: Any,
    names: tuple[str, ...],
    kinds: tuple[str, ...],
    bounds: Mapping[str, tuple[float, float]],
) -> np.ndarray:
    """Starts in natural units, shape (S, k)."""
    if init_grid is None:
        axes = []
        for p, kind in zip(names, kinds, strict=True):
            if kind == "bounded":
                lo, hi = bounds[p]
                axes.append([lo + (hi - lo) * q for q in (0.2, 0.5, 0.8)])
            else:
                axes.append([0.1, 1.0, 10.0] if kind == "positive" else [-1.0, 0.0, 1.0])
        if 3 ** len(names) > 20000:
            raise ValueError(
                f"custom_law: {len(names)} parameters make the default 3**k grid too large; "
                "pass init_grid"
            )
        return np.asarray(list(itertools.product(*axes)), np.float64)
    if isinstance(init_grid, Mapping):
        missing = [p for p in names if p not in init_grid]
        extra = [p for p in init_grid if p not in names]
        if missing or extra:
            raise ValueError(
                f"custom_law: init_grid keys must be the parameters {names}; "
                f"missing {missing}, unknown {extra}"
            )
        axes = [np.atleast_1d(np.asarray(init_grid[p], np.float64)) for p in names]
        return np.asarray(list(itertools.product(*axes)), np.float64)
    arr = np.asarray(init_grid, np.float64)
    if arr.ndim == 1:
        arr = arr[None]
    if arr.ndim != 2 or arr.shape[1] != len(names) or arr.shape[0] == 0:
        raise ValueError(
            f"custom_law: init_grid has shape {np.shape(init_grid)}; expected "
            f"(starts, {len(names)}) in the order {names}"
        )
    return arr
