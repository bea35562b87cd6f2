"""The on-disk XLA compilation cache, for the Python API and the command line alike.

The first fit on a machine compiles the batched solver (a few programs, seconds each on a
CPU); JAX's persistent compilation cache stores them, so later processes load them instead.
`compile_scope` wraps every fitting entry point:

* the cache directory is ``$SCALING_JAX_CACHE``, else ``~/.cache/scaling_jax/xla``; the values
  ``off``, ``0``, ``none`` or an empty string switch it off. A directory the user already gave
  JAX (``jax_compilation_cache_dir``) is respected and left alone.
* it is set up lazily, at the first fit, and only the cache directory changes in JAX's global
  configuration; inside the scope every program is written to the cache (JAX's default
  writes only those that took >= 1 s to compile; ours are fewer and all worth keeping).
* a cache that cannot be used -- unwritable, corrupt entries, written by another JAX build --
  costs a compilation, never an error, and at most one warning line per process.
* the solver's programs for the built-in laws also keep their compiled *executables* in
  ``<cache directory>/aot/<sha256>.bin`` (`scaling_jax._aot`): a new process loads them
  without tracing or lowering. The opt-out is the same (``SCALING_JAX_CACHE=off``); delete
  the ``aot`` folder to clear the store alone. Each entry is keyed on the scaling_jax source,
  the jax/jaxlib versions, the backend, the CPU, ``XLA_FLAGS`` and the arguments' avals, so
  an upgrade or an edit only adds entries; the folder is not pruned.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import tempfile
import threading
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

__all__ = [
    "cache_dir",
    "active_cache_dir",
    "enable_compilation_cache",
    "compile_scope",
    "with_compile_cache",
]

F = TypeVar("F", bound=Callable[..., Any])

_OFF = {"", "0", "off", "none", "false", "no"}
_logger = logging.getLogger("scaling_jax")
_lock = threading.Lock()
_state = {"configured": False, "warned": False}


def cache_dir() -> Path | None:
    """The compilation cache directory scaling_jax uses, or None when switched off."""
    value = os.environ.get("SCALING_JAX_CACHE")
    if value is None:
        return Path.home() / ".cache" / "scaling_jax" / "xla"
    if value.strip().lower() in _OFF:
        return None
    return Path(value).expanduser()


def _warn_once(message: str) -> None:
    with _lock:
        if _state["warned"]:
            return
        _state["warned"] = True
    _logger.warning("scaling_jax: %s", message)


def _writable(path: Path) -> str | None:
    """None when `path` is a writable directory (created if needed), else the reason."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".probe-"):
            pass
    except OSError as err:
        return f"{type(err).__name__}: {err}"
    return None


def enable_compilation_cache() -> Path | None:
    """Point JAX's persistent compilation cache at `cache_dir` (once per process).

    Returns the directory in use (the user's own JAX setting when there is one), or None.
    """
    import jax

    with _lock:
        if _state["configured"]:
            current = jax.config.jax_compilation_cache_dir
            return Path(current) if current else None
        _state["configured"] = True
    current = jax.config.jax_compilation_cache_dir
    if current:
        return Path(current)
    path = cache_dir()
    if path is None:
        return None
    problem = _writable(path)
    if problem is not None:
        _warn_once(
            f"compilation cache {path} is not usable ({problem}); compiling without it "
            "(set SCALING_JAX_CACHE to another directory, or to 'off')"
        )
        return None
    jax.config.update("jax_compilation_cache_dir", str(path))
    return path


def active_cache_dir() -> Path | None:
    """The compilation cache directory in use once a fitting call set it up, else None
    (nothing is configured by asking)."""
    import jax

    with _lock:
        configured = _state["configured"]
    current = jax.config.jax_compilation_cache_dir if configured else None
    return Path(current) if current else None


def _min_compile_time_zero():
    """JAX's thread-local override of the cache-write threshold, if this JAX has one."""
    try:
        from jax._src import config as jax_config

        return jax_config.persistent_cache_min_compile_time_secs(0.0)
    except (ImportError, AttributeError, TypeError):
        return contextlib.nullcontext()


def _is_cache_warning(message: warnings.WarningMessage) -> bool:
    text = str(message.message)
    return "persistent compilation cache" in text


@contextlib.contextmanager
def compile_scope() -> Iterator[None]:
    """Run fitting code with the compilation cache on (see the module docstring).

    Warnings JAX raises about cache entries it could not read or write are folded into one
    line per process; every other warning passes through unchanged.
    """
    path = enable_compilation_cache()
    if path is None:
        yield
        return
    try:
        with warnings.catch_warnings(record=True) as caught, _min_compile_time_zero():
            warnings.simplefilter("always")
            yield
    finally:
        problems = [w for w in caught if _is_cache_warning(w)]
        for w in caught:
            if not _is_cache_warning(w):
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
        if problems:
            first = str(problems[0].message).splitlines()[0][:200]
            _warn_once(
                f"{len(problems)} compilation cache operation(s) in {path} failed (e.g. "
                f"{first}); the programs were compiled instead"
            )


def with_compile_cache(fn: F) -> F:
    """Decorator: run `fn` inside `compile_scope`."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with compile_scope():
            return fn(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
