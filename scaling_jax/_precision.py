"""Float64 inside the library's calls, without changing the process-wide JAX setting.

Importing scaling_jax leaves ``jax_enable_x64`` as it was: a user's own model code in the same
process keeps its dtypes. Fits, bootstraps and the sizing optimizers need float64 (Huber
objectives ~1e-3 whose minima differ in the 9th digit; bisections that resolve 1e-15), so
each public entry point runs inside JAX's scoped ``jax.enable_x64(True)`` (`float64_call`).

When x64 is off in the caller, JAX arrays the call returns would be truncated to float32 by the
caller's next operation, so they come back as float64 NumPy arrays instead; when x64 is on
(or the inputs are tracers of the caller's own ``jit``/``grad``, whose precision is the
caller's choice) results are returned untouched.

The scope is thread-local: work handed to other threads re-enters it (`in_this_scope`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import jax
import numpy as np

__all__ = ["float64_call", "x64_enabled", "in_this_scope"]

F = TypeVar("F", bound=Callable[..., Any])


def x64_enabled() -> bool:
    """Whether JAX's x64 mode is on in this thread (globally or by an enclosing scope)."""
    return bool(jax.config.jax_enable_x64)


def _has_tracer(tree: Any) -> bool:
    return any(isinstance(x, jax.core.Tracer) for x in jax.tree_util.tree_leaves(tree))


def _to_numpy(tree: Any) -> Any:
    return jax.tree_util.tree_map(
        lambda x: np.asarray(x) if isinstance(x, jax.Array) else x, tree
    )


def float64_call(fn: F) -> F:
    """Decorator: run `fn` with JAX's x64 mode on, scoped to the call (see the module doc)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if x64_enabled() or _has_tracer((args, kwargs)):
            return fn(*args, **kwargs)
        with jax.enable_x64(True):
            return _to_numpy(fn(*args, **kwargs))

    return wrapper  # type: ignore[return-value]


def in_this_scope(fn: Callable[..., Any]) -> Callable[..., Any]:
    """`fn` wrapped to run with this thread's x64 setting, for use on another thread."""
    enabled = x64_enabled()

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with jax.enable_x64(enabled):
            return fn(*args, **kwargs)

    return wrapper
