"""A store of compiled XLA executables, so that a new process skips tracing and lowering.

JAX's persistent compilation cache (`scaling_jax._cache`) saves the XLA *compilation*, but a
new process still traces every jitted function to a jaxpr, lowers it to StableHLO and hashes
the module to find its cache entry: about 1 s per fit on a CPU, more than the solve itself.
`stored_jit` wraps the solver's programs so that a call looks its executable up by a key
computed from the arguments alone, first in memory, then on disk
(``<compilation cache directory>/aot/<sha256>.bin``, see `_cache.cache_dir`); on a miss it
compiles (``jit(f).lower(*args).compile()``, bypassing JAX's cache: an executable that cache
hands back does not survive a second serialisation), serialises the executable
(`jax.experimental.serialize_executable`) and writes it atomically. Loading an entry costs
milliseconds and runs the very same executable, so results are bit-identical; its first run
is waited for, and an entry that fails to run is deleted and compiled again.

Why executables and not `jax.export`: an exported StableHLO module still has to be wrapped
in a jit, lowered and compiled on every first call (a JAX cache hit, yet measured ~0.15 s
more than loading the executable, for the 1024-lane solver segment on a 2-core CPU; the
tracing of the function itself is saved either way), and serialising it needs the
``flatbuffers`` package, which scaling_jax does not otherwise depend on. A stored
executable is deserialised in milliseconds and runs as it is.

The key holds everything the executable depends on: a recipe the caller vouches for (which
function: e.g. ``("segment", "chinchilla", "huber_log", 1.0, "weights", SolverOptions(...))``),
the pytree structure and avals (shape, dtype, weak type) of the arguments, a fingerprint of
the scaling_jax source (every ``.py`` file of the package), the jax and jaxlib versions, the
backend (platform, its version, device kind and count), the CPU, ``XLA_FLAGS`` and the JAX
settings that change a program (x64, default matmul precision, ...). A caller passes a recipe
only when it names a program that is the same in every process (a registry law, a built-in
loss); a user's law gets None and plain `jax.jit`, as do sharded or traced arguments, JAX's
debug modes, backends other than the CPU (whose reloaded executables are the ones checked
here) and a switched-off cache (``SCALING_JAX_CACHE=off``).

Each executable loaded from disk is reported as the `jax.monitoring` event `LOAD_EVENT`.
An entry that cannot be read (truncated, corrupt, foreign) or written (read-only directory)
costs a compilation and at most one warning line per process, never an error. Entries are
pickles, loaded only from the user's own cache directory (the trust JAX's cache asks too).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
import platform
import re
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jax
import numpy as np

from scaling_jax import _cache
from scaling_jax._io import write_bytes_atomic

__all__ = [
    "stored_jit",
    "StoredProgram",
    "store_dir",
    "recipe_of",
    "recipe_for",
    "set_recipe",
    "LOAD_EVENT",
]

_FORMAT = "scaling_jax-aot-2"
LOAD_EVENT = "/scaling_jax/aot_store/loads"  # a `jax.monitoring` event per executable loaded
_PACKAGE = Path(__file__).resolve().parent
_lock = threading.Lock()
_process: dict[str, Any] = {}  # facts fixed for the process, computed once
_RECIPES: dict[Any, tuple] = {}
# JAX settings under which a program (or how it runs) differs; read at every call.
_CONFIG = (
    "jax_enable_x64",
    "jax_default_matmul_precision",
    "jax_numpy_dtype_promotion",
    "jax_default_prng_impl",
    "jax_threefry_partitionable",
)
# Settings under which jit does more than run the executable (re-runs, checks): no store.
_BYPASS = ("jax_disable_jit", "jax_debug_nans", "jax_debug_infs", "jax_enable_checks")


def set_recipe(fn: Callable[..., Any], recipe: tuple) -> None:
    """Record that `fn` is the same function in every process, named by `recipe` (see
    `recipe_of`); a program built from it can then be stored."""
    _canonical(recipe)
    _RECIPES[fn] = recipe


def recipe_of(fn: Callable[..., Any]) -> tuple | None:
    """The recipe `set_recipe` recorded for `fn`, or None (a user's function)."""
    try:
        return _RECIPES.get(fn)
    except TypeError:  # unhashable
        return None


def recipe_for(kind: str, fn: Callable[..., Any], *extra: Any) -> tuple | None:
    """``(kind, recipe_of(fn), *extra)``: the recipe of a program built from `fn` (and the
    plain values `extra` it closes over), or None when `fn` has no recipe."""
    base = recipe_of(fn)
    return None if base is None else (kind, base, *extra)


def _canonical(recipe: Any) -> str:
    """The recipe's repr, after checking it holds only values with a stable repr."""

    def check(value: Any) -> None:
        if isinstance(value, tuple):
            for v in value:
                check(v)
        elif value is not None and not isinstance(value, (str, int, float, bool)):
            raise TypeError(f"recipe holds {type(value).__name__} {value!r}; use plain values")

    check(recipe)
    return repr(recipe)


def store_dir() -> Path | None:
    """The directory of stored executables, or None when the store is off.

    It is ``aot`` in the compilation cache directory in use, once a fitting call has set the
    cache up (`_cache.compile_scope`); off with the cache (``SCALING_JAX_CACHE=off``, an
    unusable directory) or with JAX's ``jax_enable_compilation_cache`` off.
    """
    if _cache.cache_dir() is None or not jax.config.jax_enable_compilation_cache:
        return None
    path = _cache.active_cache_dir()
    return None if path is None else path / "aot"


def _source_fingerprint() -> str:
    digest = hashlib.sha256()
    for path in sorted(_PACKAGE.rglob("*.py")):
        digest.update(str(path.relative_to(_PACKAGE)).encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def _cpu() -> str:
    """The CPU model and instruction-set flags (an executable is compiled for them)."""
    text = ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as fh:
            lines = fh.read().splitlines()
        wanted = ("model name", "flags", "features", "cpu part", "cpu implementer")
        text = "\n".join(sorted({ln for ln in lines if ln.lower().startswith(wanted)}))
    except OSError:
        pass
    machine = f"{platform.machine()}|{platform.processor()}|{text}"
    return hashlib.sha256(machine.encode()).hexdigest()


def _environment() -> tuple:
    """What the process's executables depend on besides the arguments (computed once)."""
    with _lock:
        if "env" not in _process:
            import jaxlib

            devices = jax.devices()
            _process["env"] = (
                _FORMAT,
                _source_fingerprint(),
                jax.__version__,
                jaxlib.__version__,
                jax.default_backend(),
                devices[0].client.platform_version,
                devices[0].device_kind,
                len(devices),
                _cpu(),
                os.environ.get("XLA_FLAGS", ""),
                os.environ.get("LIBTPU_INIT_ARGS", ""),
            )
            _process["device"] = devices[0]
            jax.monitoring.register_event_listener(_count_cache_hit)
            # Only CPU executables are stored: those are the ones checked to reload and run
            # correctly (an accelerator's kernels may need loading of their own).
            _process["on"] = jax.default_backend() == "cpu"
        return _process["env"]


def _lapack_initializer() -> Callable[[], None] | None:
    """JAX's hook that loads the LAPACK kernels (done by lowering a linalg operation, so a
    loaded executable calling them would crash without it), or None if this JAX has none."""
    try:
        from jax._src.lib import lapack

        return lapack._lapack.initialize
    except (ImportError, AttributeError):
        return None


_CUSTOM_CALL = re.compile(r'custom_call_target="([^"]+)"')


def _kernels(compiled: Any) -> tuple[str, ...] | None:
    """The external kernel libraries `compiled` calls, ``("lapack",)`` or ``()``, or None
    when a stored copy could not run in a new process (an unknown custom call, or no way to
    load LAPACK's kernels: lowering a linalg operation loads them, loading an executable does
    not, and calling an unloaded kernel crashes)."""
    targets = set(_CUSTOM_CALL.findall(compiled.as_text()))
    lapack = {t for t in targets if t.startswith("lapack_")}
    if targets != lapack or (lapack and _lapack_initializer() is None):
        return None
    return ("lapack",) if lapack else ()


def _prepare(kernels: tuple[str, ...]) -> None:
    """Load the kernel libraries an executable calls, before it is deserialised."""
    if "lapack" in kernels:
        initialize = _lapack_initializer()
        if initialize is None:
            raise RuntimeError("this JAX cannot load LAPACK kernels for a stored program")
        initialize()


def _config() -> tuple | None:
    """The JAX settings a program depends on, or None when the store must be bypassed."""
    config = jax.config
    if any(getattr(config, name, False) for name in _BYPASS):
        return None
    return tuple(str(getattr(config, name, None)) for name in _CONFIG)


def _leaf_signature(x: Any) -> tuple | None:
    """(shape, dtype, weak type) of one argument, or None for one the store cannot key on."""
    if isinstance(x, np.ndarray):
        return (x.shape, x.dtype.str, False)
    if isinstance(x, np.generic):
        return ((), x.dtype.str, False)
    if isinstance(x, (bool, int, float, complex)):
        return ((), type(x).__name__, True)
    if isinstance(x, jax.Array) and not isinstance(x, jax.core.Tracer):
        sharding = getattr(x, "sharding", None)
        if not isinstance(sharding, jax.sharding.SingleDeviceSharding) or sharding.device_set != {
            _process.get("device")
        }:
            return None  # sharded or placed elsewhere: jit handles placement
        return (x.shape, x.dtype.str, bool(x.weak_type))
    return None


class StoredProgram:
    """A jitted function whose executables come from the store (see the module docstring).

    Call it as the jitted function itself (positional arguments only).
    """

    def __init__(self, jitted: Any, recipe: tuple) -> None:
        self.jitted = jitted
        self.recipe = recipe
        self._recipe_text = _canonical(recipe)
        self._memo: dict[Any, Any] = {}

    def _key(self, args: tuple) -> tuple[Any, str, Path] | None:
        """(in-process key, store key, entry path) of a call, or None when it bypasses the
        store (plain jit)."""
        directory = store_dir()
        config = None if directory is None else _config()
        if config is None:
            return None
        env = _environment()
        if not _process["on"]:
            return None
        leaves, treedef = jax.tree_util.tree_flatten(args)
        signature = tuple(_leaf_signature(x) for x in leaves)
        if None in signature:
            return None
        text = repr((env, self._recipe_text, str(treedef), signature, config))
        path = directory / f"{hashlib.sha256(text.encode()).hexdigest()}.bin"
        return (treedef, signature, config), text, path

    def is_stored(self, *args: Any) -> bool:
        """Whether a call with these arguments would run a stored executable (held in this
        process or on disk) rather than compile. Nothing is loaded: a caller that compiles
        programs up front (the solver's warm-up) can leave stored ones to load on first use."""
        key = self._key(args)
        return key is not None and (key[0] in self._memo or key[2].is_file())

    def __call__(self, *args: Any) -> Any:
        key = self._key(args)
        if key is None:
            return self.jitted(*args)
        memo_key, text, path = key
        executable = self._memo.get(memo_key)
        if executable is not None:
            return executable(*args)
        loaded = _load(path, text)
        if loaded is not None:
            try:
                out = loaded(*args)
                jax.block_until_ready(out)  # a damaged executable fails here, not later
            except jax.errors.JaxRuntimeError as err:
                _cache._warn_once(
                    f"stored program {path} failed to run ({str(err)[:120]}); compiled it again"
                )
                with contextlib.suppress(OSError):  # a read-only store keeps it
                    path.unlink(missing_ok=True)
            else:
                self._memo[memo_key] = loaded
                return out
        executable = self._compile_and_store(path, text, args)
        self._memo[memo_key] = executable
        return executable(*args)

    def _compile_and_store(self, path: Path, text: str, args: tuple) -> Any:
        from jax.experimental import serialize_executable

        lowered = self.jitted.lower(*args)
        # Compiled afresh, not taken from JAX's persistent compilation cache: an executable
        # that cache hands back serialises without its functions, and a later process that
        # loads it fails on the first call ("Function wrapped_log not found"; jax 0.10.2, CPU).
        hits = _hits()
        compiled = _fresh_compile(lowered)
        kernels = _kernels(compiled)
        if kernels is None or _hits() != hits:  # the cache served it after all: not stored
            return compiled
        try:
            payload, in_tree, out_tree = serialize_executable.serialize(compiled)
            blob = pickle.dumps((_FORMAT, text, kernels, payload, in_tree, out_tree), protocol=5)
            write_bytes_atomic(path, blob)
        except Exception as err:  # unwritable directory, full disk, unserialisable program
            _cache._warn_once(
                f"could not store the compiled program in {path.parent} ({type(err).__name__}: "
                f"{str(err)[:120]}); later processes will compile it again"
            )
        return compiled


def _load(path: Path, text: str) -> Any:
    """The executable stored at `path` for the key `text`, or None (missing or damaged)."""
    from jax.experimental import serialize_executable

    try:
        blob = path.read_bytes()
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as err:
        _cache._warn_once(f"stored program {path} is unreadable ({err}); compiling instead")
        return None
    try:
        tag, stored_text, kernels, payload, in_tree, out_tree = pickle.loads(blob)
        if tag != _FORMAT or stored_text != text:
            raise ValueError("written for another program")
        _prepare(kernels)
        loaded = serialize_executable.deserialize_and_load(payload, in_tree, out_tree)
    except Exception as err:  # any damage to the file means: compile again
        _cache._warn_once(
            f"stored program {path} could not be loaded ({type(err).__name__}: "
            f"{str(err)[:120]}); compiled it again"
        )
        return None
    jax.monitoring.record_event(LOAD_EVENT)
    return loaded


_fresh_lock = threading.Lock()
_thread = threading.local()


def _count_cache_hit(name: str, **kwargs: Any) -> None:
    if name == "/jax/compilation_cache/cache_hits":
        _thread.hits = getattr(_thread, "hits", 0) + 1


def _hits() -> int:
    """JAX persistent-cache hits so far in this thread (a `jax.monitoring` listener)."""
    return getattr(_thread, "hits", 0)


def _fresh_compile(lowered: Any) -> Any:
    """``lowered.compile()`` with JAX's persistent compilation cache switched off.

    JAX decides once per process whether it uses its cache, at the first compilation, and
    keeps that decision: switching the cache off later changes nothing, and switching it off
    for the first compilation would leave it off for the whole process. So the decision is
    reset before (the cache off: a real compilation) and after (the next compilation finds
    the cache on again). Without these switches this JAX compiles as jit does (and a cache
    hit is then not stored, see `_hits`).
    """
    try:
        from jax._src import config as jax_config
        from jax.experimental.compilation_cache import compilation_cache

        switch_off = jax_config.enable_compilation_cache(False)
        reset = compilation_cache.reset_cache
    except (ImportError, AttributeError, TypeError):
        return lowered.compile()
    with _fresh_lock:
        reset()
        try:
            with switch_off:
                return lowered.compile()
        finally:
            reset()


def stored_jit(fun: Callable[..., Any], recipe: tuple | None, **jit_kwargs: Any) -> Any:
    """``jax.jit(fun, **jit_kwargs)``, its executables kept in the store when `recipe` (a
    tuple of plain values naming `fun` the same way in every process) is given; plain jit
    when it is None."""
    jitted = jax.jit(fun, **jit_kwargs)
    return jitted if recipe is None else StoredProgram(jitted, recipe)
