"""Fit options: the objective's loss kind, asymmetry and weights; fixed and tied parameters.

These are arguments of the one fitter (`scaling_jax.fit`) and travel with its result, so
`bootstrap`, `predict`, the CLI and the JSON files all see the same choices.

Objective, with r_i = log L_pred(theta; x_i) - log L_i (r > 0: the law over-predicts)::

    loss="huber_log" (default):  rho(r) = Huber_delta(r)                 (Hoffmann et al. 2022)
    loss="ls_log":               rho(r) = r**2 / 2
    loss="ls_raw":               rho(r) = (L_pred - L)**2 / 2            (raw loss, nats**2)
    objective(theta) = sum_i w_i * k_i * rho(r_i),  k_i = asymmetric if r_i > 0 else 1

``asymmetric=k`` weights over-predictions k times under-predictions (k = 1: symmetric).

``fixed={"E": 1.69}`` holds natural parameters (or fit coordinates, e.g. ``"log_E"``) at given
values and ``tied=[("alpha", "beta")]`` makes fit coordinates share one value. Both are a
reparameterization: `constrained_law` wraps a `Law` so that the solver sees only the free
coordinates and is itself untouched.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

import jax.numpy as jnp
import numpy as np

from scaling_jax.fitting.objective import LOSSES, make_objective, point_losses
from scaling_jax.laws import Law

Array = Any

__all__ = [
    "LOSSES",
    "FitOptions",
    "fit_options",
    "make_loss_objective",
    "point_losses",
    "constrained_law",
    "ConstrainedLaw",
    "inverse_variance_weights",
    "non_embedding_params",
]



class FitOptions(NamedTuple):
    """Objective and parameterization choices (see the module docstring)."""

    loss: str = "huber_log"
    asymmetric: float = 1.0
    fixed: tuple[tuple[str, float], ...] = ()
    tied: tuple[tuple[str, ...], ...] = ()

    @property
    def default_objective(self) -> bool:
        return self.loss == "huber_log" and self.asymmetric == 1.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "loss": self.loss,
            "asymmetric": self.asymmetric,
            "fixed": dict(self.fixed),
            "tied": [list(t) for t in self.tied],
        }


def fit_options(
    loss: str = "huber_log",
    asymmetric: float = 1.0,
    fixed: Mapping[str, float] | None = None,
    tied: Sequence[Sequence[str]] | None = None,
) -> FitOptions:
    """Validated `FitOptions` (ValueError naming the option and value)."""
    if loss not in LOSSES:
        raise ValueError(f"loss={loss!r}: use one of {LOSSES}")
    if isinstance(asymmetric, bool) or not isinstance(asymmetric, (int, float)):
        raise ValueError(f"asymmetric={asymmetric!r}: expected a number > 0")
    if not (math.isfinite(asymmetric) and asymmetric > 0):
        raise ValueError(f"asymmetric={asymmetric!r}: expected a finite number > 0")
    fixed_items: list[tuple[str, float]] = []
    for name, value in dict(fixed or {}).items():
        try:
            v = float(value)
        except (TypeError, ValueError):
            raise ValueError(f"fixed[{name!r}]={value!r}: expected a number") from None
        if not math.isfinite(v):
            raise ValueError(f"fixed[{name!r}]={value!r}: expected a finite number")
        fixed_items.append((str(name), v))
    groups: list[tuple[str, ...]] = []
    for group in tied or ():
        if isinstance(group, str) or len(group) < 2:
            raise ValueError(
                f"tied: each entry must name at least two parameters, got {group!r} "
                "(e.g. tied=[('alpha', 'beta')])"
            )
        groups.append(tuple(str(g) for g in group))
    return FitOptions(loss, float(asymmetric), tuple(fixed_items), tuple(groups))


def options_from_dict(blob: Mapping[str, Any] | None) -> FitOptions:
    """`FitOptions` from a result's ``options`` dict (missing keys: defaults)."""
    blob = dict(blob or {})
    return fit_options(
        loss=blob.get("loss", "huber_log"),
        asymmetric=blob.get("asymmetric", 1.0),
        fixed=blob.get("fixed") or None,
        tied=blob.get("tied") or None,
    )


# --------------------------------------------------------------------------------------------
# Objective


def make_loss_objective(
    log_loss_fn: Callable[[Array, Mapping[str, Array]], Array],
    loss: str = "huber_log",
    asymmetric: float = 1.0,
) -> Callable[..., Array]:
    """`objective.make_objective` for a loss kind (kept as the options-module spelling)."""
    return make_objective(log_loss_fn, loss, asymmetric)


# --------------------------------------------------------------------------------------------
# Fixed and tied parameters: a reparameterized Law


class ConstrainedLaw(NamedTuple):
    """A base law, the `Law` over its free coordinates, and the maps between them."""

    base: Law
    law: Law
    expand: Callable[[Array], Array]  # free theta (..., k_free) -> full theta (..., k)
    reduce: Callable[[Array], Array]  # full theta (..., k) -> free theta (..., k_free)
    free_index: tuple[int, ...]  # full coordinate of each free coordinate


def _natural_names(law: Law) -> tuple[str, ...]:
    probe = np.asarray(law.init_grid(), np.float64)[0]
    p = law.to_params(jnp.asarray(probe))
    return tuple(p._fields) if hasattr(p, "_fields") else tuple(dict(p))


def _coordinate(law: Law, naturals: tuple[str, ...], name: str, what: str) -> int:
    if name in law.param_names:
        return law.param_names.index(name)
    if name in naturals and len(naturals) == law.n_params:
        return naturals.index(name)
    raise ValueError(
        f"{what}: unknown parameter {name!r} for law {law.name!r}; natural parameters "
        f"{list(naturals)}, fit coordinates {list(law.param_names)}"
    )


def _fixed_theta_value(law: Law, naturals: tuple[str, ...], name: str, value: float) -> float:
    """The fit coordinate of a fixed parameter (natural value converted, e.g. e = log E)."""
    if name in law.param_names:
        return float(value)
    i = naturals.index(name)
    probe = np.asarray(law.init_grid(), np.float64)[0]
    p = law.to_params(jnp.asarray(probe))
    values = [float(v) for v in p]
    values[i] = float(value)
    theta = np.asarray(law.from_params(type(p)(*(jnp.asarray(v) for v in values))), np.float64)
    out = float(theta[i])
    if not math.isfinite(out):
        raise ValueError(f"fixed[{name!r}]={value!r} is outside the law's allowed range")
    return out


def constrained_law(
    law: Law, fixed: Mapping[str, float] | Sequence = (), tied: Sequence[Sequence[str]] = ()
) -> ConstrainedLaw:
    """Wrap `law` so that `fixed` coordinates are constants and `tied` ones share a value.

    Natural names (``"E"``) and fit-coordinate names (``"log_E"``) are both accepted; the law's
    fit coordinates must map one to one onto its natural parameters (true of every built-in
    law and of `custom_law`). The wrapped law keeps the base law's name and its ``to_params``
    returns the full natural parameters.
    """
    fixed = dict(fixed)
    tied = [tuple(g) for g in tied]
    k = law.n_params
    if not fixed and not tied:
        ident = lambda t: t  # noqa: E731
        return ConstrainedLaw(law, law, ident, ident, tuple(range(k)))
    naturals = _natural_names(law)
    fixed_idx: dict[int, float] = {}
    for name, value in fixed.items():
        i = _coordinate(law, naturals, name, "fixed")
        fixed_idx[i] = _fixed_theta_value(law, naturals, name, value)
    owner = list(range(k))  # coordinate -> the coordinate whose value it takes
    for group in tied:
        idx = [_coordinate(law, naturals, n, "tied") for n in group]
        if len(set(idx)) < len(idx):
            raise ValueError(f"tied: {group!r} names one parameter twice")
        for i in idx:
            if i in fixed_idx:
                raise ValueError(f"tied: {law.param_names[i]!r} is also fixed")
            if owner[i] != i:
                raise ValueError(f"tied: {law.param_names[i]!r} appears in two groups")
        for i in idx[1:]:
            owner[i] = idx[0]
    free = tuple(i for i in range(k) if i not in fixed_idx and owner[i] == i)
    if not free:
        raise ValueError("fixed/tied leave no free parameter to fit")
    pos = {i: j for j, i in enumerate(free)}
    fixed_vals = np.array([fixed_idx[i] for i in sorted(fixed_idx)], np.float64)
    fixed_pos = {i: len(free) + j for j, i in enumerate(sorted(fixed_idx))}
    gather = np.array(
        [fixed_pos[i] if i in fixed_idx else pos[owner[i]] for i in range(k)], np.int64
    )
    free_arr = np.asarray(free, np.int64)

    def expand(theta_free: Array) -> Array:
        theta_free = jnp.asarray(theta_free)
        consts = jnp.broadcast_to(
            jnp.asarray(fixed_vals, theta_free.dtype), (*theta_free.shape[:-1], len(fixed_vals))
        )
        return jnp.take(jnp.concatenate([theta_free, consts], axis=-1), gather, axis=-1)

    def reduce(theta_full: Array) -> Array:
        return jnp.take(jnp.asarray(theta_full), free_arr, axis=-1)

    def init_grid() -> np.ndarray:
        grid = np.asarray(law.init_grid(), np.float64)[:, free_arr]
        return np.unique(grid, axis=0)

    names = []
    for i in free:
        group = [law.param_names[j] for j in range(k) if owner[j] == i and j not in fixed_idx]
        names.append("=".join(group))
    wrapped = Law(
        name=law.name,
        param_names=tuple(names),
        feature_names=law.feature_names,
        log_loss=_cached_log_loss(law, tuple(gather.tolist()), tuple(fixed_vals.tolist()), expand),
        to_params=lambda t: law.to_params(expand(t)),
        from_params=lambda p: reduce(law.from_params(p)),
        init_grid=init_grid,
        random_low=tuple(law.random_low[i] for i in free),
        random_high=tuple(law.random_high[i] for i in free),
    )
    return ConstrainedLaw(law, wrapped, expand, reduce, free)


_LOG_LOSS: dict[Any, Callable[..., Array]] = {}


def _cached_log_loss(law: Law, gather: tuple, consts: tuple, expand: Callable) -> Callable:
    """One log-loss function per (law, constraint), so compiled solvers are reused."""
    key = (law.log_loss, gather, consts)
    if key not in _LOG_LOSS:
        _LOG_LOSS[key] = lambda theta, feats: law.log_loss(expand(theta), feats)
    return _LOG_LOSS[key]


# --------------------------------------------------------------------------------------------
# Weights and parameter counts


def inverse_variance_weights(log_loss: Any, groups: Any) -> np.ndarray:
    """Per-run weights 1 / s_g**2 from replicate runs (runs sharing a group label).

    s_g**2 is the sample variance (ddof=1) of log-loss within group g; groups with a single
    run (or zero spread) get the pooled variance of the replicated groups. Weights are scaled
    to mean 1. Raises ValueError when no group has two or more runs.
    """
    y = np.asarray(log_loss, np.float64)
    _, labels = np.unique(np.asarray(groups), return_inverse=True)
    counts = np.bincount(labels)
    sums = np.bincount(labels, y)
    means = sums / counts
    ss = np.bincount(labels, (y - means[labels]) ** 2)
    rep = (counts >= 2) & (ss > 0)
    if not rep.any():
        raise ValueError(
            "weights='inverse_variance' needs replicate runs (two or more runs with the same "
            "N and D, or the same group label) with differing losses; none were found"
        )
    pooled = ss[rep].sum() / (counts[rep] - 1).sum()
    var = np.where(rep, ss / np.maximum(counts - 1, 1), pooled)
    w = 1.0 / var[labels]
    return w / w.mean()


def non_embedding_params(
    n_total: Any, vocab: Any, d_model: Any, untied_embeddings: bool = False
) -> np.ndarray:
    """Non-embedding parameters N - V * d_model (twice that with an untied output layer).

    Kaplan et al. (2020) count N without the embedding matrices; Chinchilla counts all.
    Raises ValueError when the result is not positive.
    """
    n = np.asarray(n_total, np.float64)
    emb = np.asarray(vocab, np.float64) * np.asarray(d_model, np.float64)
    out = n - (2.0 if untied_embeddings else 1.0) * emb
    bad = np.flatnonzero(np.broadcast_to(out, np.broadcast_shapes(out.shape, n.shape)) <= 0)
    if bad.size:
        i = int(bad[0])
        raise ValueError(
            f"n_kind='non_embedding': N={float(np.ravel(n)[i] if n.ndim else n)!r} at row {i} "
            f"is not larger than its embedding parameters (vocab x d_model); check vocab and "
            "d_model"
        )
    return out


def prepare_runs(
    runs: Any,
    weights: Any = None,
    n_kind: str = "total",
    vocab: Any = None,
    d_model: Any = None,
    untied_embeddings: bool = False,
) -> tuple[Any, dict[str, Any]]:
    """Apply the ``weights`` and ``n_kind`` fit options to `runs`.

    Returns the runs the law is fitted to and a JSON-able record of what was done (stored in
    the result's options so that `predict` converts new points the same way).

    Args:
      weights: None (keep the runs' own weights), an array (n,) of per-run weights, or
        ``"inverse_variance"`` (`inverse_variance_weights` over replicates: runs with the same
        N and D, or the same ``group`` label when the runs carry one).
      n_kind: ``"total"`` (N as given) or ``"non_embedding"`` (N - V * d_model, see
        `non_embedding_params`; needs `vocab` and `d_model`, scalars or per-run arrays, or an
        `Architecture` as `vocab`).
    """
    from scaling_jax.data import Runs

    record: dict[str, Any] = {}
    N, W = runs.N, runs.weights
    if n_kind not in ("total", "non_embedding"):
        raise ValueError(f"n_kind={n_kind!r}: use 'total' or 'non_embedding'")
    if n_kind == "non_embedding":
        if hasattr(vocab, "vocab") and hasattr(vocab, "d_model"):  # an Architecture
            vocab, d_model = vocab.vocab, vocab.d_model if d_model is None else d_model
        if vocab is None or d_model is None:
            raise ValueError(
                "n_kind='non_embedding' needs vocab= (vocabulary size) and d_model= (width, "
                "one value or one per run), or an Architecture as vocab="
            )
        d_arr = np.asarray(d_model, np.float64)
        if d_arr.ndim == 1 and len(d_arr) != len(runs):
            raise ValueError(f"d_model has {len(d_arr)} values for {len(runs)} runs")
        N = non_embedding_params(runs.N, vocab, d_arr, untied_embeddings)
        record.update(
            n_kind="non_embedding",
            vocab=float(np.asarray(vocab)),
            untied_embeddings=bool(untied_embeddings),
        )
    if weights is not None:
        if isinstance(weights, str):
            if weights != "inverse_variance":
                raise ValueError(
                    f"weights={weights!r}: use an array of per-run weights or 'inverse_variance'"
                )
            groups = getattr(runs, "group", None)
            if groups is None:
                groups = [f"{n!r}/{d!r}" for n, d in zip(runs.N, runs.D, strict=True)]
            W = inverse_variance_weights(np.log(runs.loss), groups)
            record["weights"] = "inverse_variance"
        else:
            W = np.asarray(weights, np.float64)
            if W.shape != (len(runs),):
                raise ValueError(f"weights has shape {W.shape}; expected ({len(runs)},)")
            record["weights"] = "array"
    if not record:
        return runs, record
    kwargs: dict[str, Any] = {}
    if getattr(runs, "group", None) is not None:
        kwargs["group"] = runs.group
    return Runs(N=N, D=runs.D, loss=runs.loss, weights=W, extra=dict(runs.extra), **kwargs), record
