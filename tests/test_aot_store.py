"""The store of compiled executables (`scaling_jax._aot`): a warm process neither traces nor
lowers the solver's programs, gets the plain-jit results bit for bit, and anything wrong with
the store costs a compilation and one warning line, never an error or a wrong program.

The end-to-end check runs fits in fresh Python processes (programs compiled in this process
would hide the store); the rest drives `stored_jit` on a tiny program in this process, with
the store pointed at a temporary directory.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import scaling_jax as sj
from scaling_jax import _aot, _cache

ROOT = Path(__file__).resolve().parents[1]

SCRIPT = """
import json, os, sys
import numpy as np
from jax import monitoring

events = []
monitoring.register_event_duration_secs_listener(lambda name, secs, **kw: events.append(name))
monitoring.register_event_listener(lambda name, **kw: events.append(name))
import scaling_jax as sj
from scaling_jax import _aot

# Runs built from plain arrays: the store's own compilations are the process's first.
runs = sj.Runs(**{k: np.asarray(v) for k, v in json.loads(os.environ["SJ_RUNS"]).items()})
kw = dict(starts=64, polish_starts=4, seed=1)
before = len(events)
res = sj.fit(runs, **kw)
fit_events = events[before:]
# The same fit through plain jit (the store switched off; JAX's own cache stays on).
os.environ["SCALING_JAX_CACHE"] = "off"
plain = sj.fit(runs, **kw)
os.environ["SCALING_JAX_CACHE"] = sys.argv[1]
# A program outside the store, compiled after the store's own compilations, still goes to
# JAX's cache (storing must not leave that cache off for the process).
import jax
from scaling_jax._cache import compile_scope
with compile_scope():
    jax.block_until_ready(jax.jit(lambda x: np.float64(3.0) * x + 1.0)(np.arange(3.0)))
xla_entries = len([f for f in os.listdir(sys.argv[1]) if f.endswith("-cache")])
def stored():
    folder = os.path.join(sys.argv[1], "aot")
    return sorted(os.listdir(folder)) if os.path.isdir(folder) else []
files = stored()
mine = None
if len(sys.argv) > 2:
    # A user's law (a new function computing Chinchilla's log-loss) is never stored.
    law = sj.laws.CHINCHILLA
    custom = law._replace(name="mine", log_loss=lambda t, f: law.log_loss(t, f))
    mine = sj.fit(runs, custom, **kw).theta.tolist()
print(json.dumps({
    "theta": res.theta.tolist(),
    "plain": plain.theta.tolist(),
    "mine": mine,
    "traces": fit_events.count("/jax/core/compile/jaxpr_trace_duration"),
    "lowerings": fit_events.count("/jax/core/compile/jaxpr_to_mlir_module_duration"),
    "compiles": fit_events.count("/jax/core/compile/backend_compile_duration"),
    "loads": fit_events.count(_aot.LOAD_EVENT),
    "files_before_custom": files,
    "files_after_custom": stored(),
    "xla_entries": xla_entries,
}))
"""


def _process(cache: Path, *args: str) -> tuple[dict, list[str]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JAX_", "XLA_"))}
    runs = sj.synthetic_runs(sj.presets.EPOCH_2024, n_runs=30, seed=0)
    columns = {"N": runs.N.tolist(), "D": runs.D.tolist(), "loss": runs.loss.tolist()}
    env.update(
        PYTHONPATH=str(ROOT),
        SCALING_JAX_CACHE=str(cache),
        JAX_PLATFORMS="cpu",
        SJ_RUNS=json.dumps(columns),
    )
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(cache), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1]), proc.stderr.strip().splitlines()


def test_warm_process_neither_traces_nor_lowers_and_matches_plain_jit(tmp_path):
    cache = tmp_path / "xla"
    cold, cold_err = _process(cache)
    assert not cold_err, cold_err
    assert cold["traces"] >= 4 and cold["compiles"] >= 4  # the store was empty
    assert cold["files_before_custom"], "nothing was stored"
    assert cold["xla_entries"] == 1  # the stored programs bypass it; the one after does not
    warm, warm_err = _process(cache, "custom")
    assert not warm_err, warm_err
    assert warm["traces"] == 0 and warm["lowerings"] == 0 and warm["compiles"] == 0, warm
    assert warm["loads"] == len(cold["files_before_custom"]) and cold["loads"] == 0
    # Loaded executables, freshly compiled ones and plain jit agree bit for bit.
    assert warm["theta"] == warm["plain"] == cold["theta"] == cold["plain"]
    # The user's law compiled with plain jit, stored nothing, and fits the same optimum.
    assert warm["files_after_custom"] == warm["files_before_custom"]
    np.testing.assert_allclose(warm["mine"], warm["theta"], rtol=1e-9, atol=1e-12)


def test_programs_stored_from_jaxs_compilation_cache_still_run(tmp_path):
    """Regression: a store entry written when JAX's persistent cache supplied the compilation
    (here: the store deleted, the XLA cache kept) must run in the next process; serialising
    a cache-supplied executable dropped its functions ("Function ... not found")."""
    import shutil

    cache = tmp_path / "xla"
    cold, _ = _process(cache)
    shutil.rmtree(cache / "aot")
    refilled, _ = _process(cache)  # the store misses, JAX's cache hits: the store is rewritten
    assert refilled["files_before_custom"] == cold["files_before_custom"]
    warm, warm_err = _process(cache)  # loads what the previous process stored, and runs it
    assert not warm_err, warm_err
    assert warm["loads"] == len(cold["files_before_custom"]) and warm["compiles"] == 0
    assert warm["theta"] == warm["plain"] == cold["theta"]


# ------------------------------------------------------------------------------------------
# In this process, on a tiny program


@pytest.fixture
def store(tmp_path, monkeypatch):
    """The store in `tmp_path/aot`, with a fresh warn-once flag; yields the directory."""
    monkeypatch.setenv("SCALING_JAX_CACHE", str(tmp_path))
    monkeypatch.setattr(_cache, "active_cache_dir", lambda: tmp_path)
    monkeypatch.setitem(_cache._state, "warned", False)
    return tmp_path / "aot"


def _program(traces: list) -> _aot.StoredProgram:
    def affine(x, pair):
        traces.append(1)  # runs only while JAX traces
        return {"y": 2.0 * x + pair[0], "s": jnp.sum(x) * pair[1]}

    return _aot.stored_jit(affine, ("test", "affine"))


ARGS = (np.arange(6.0), (np.float64(1.5), np.ones(())))


def _expected():
    return {"y": 2.0 * ARGS[0] + 1.5, "s": np.float64(15.0)}


def _check(out) -> None:
    np.testing.assert_array_equal(np.asarray(out["y"]), _expected()["y"])
    assert float(out["s"]) == 15.0


def _warnings(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "scaling_jax"]


def test_a_new_program_object_loads_from_disk_without_tracing(store):
    traces = []
    _check(_program(traces)(*ARGS))
    assert len(traces) == 1 and len(list(store.glob("*.bin"))) == 1
    again = _program(traces)  # as a new process would see it: empty memory
    _check(again(*ARGS))
    _check(again(*ARGS))
    assert len(traces) == 1
    # Another shape, dtype or pytree structure is another program.
    again(np.arange(7.0), ARGS[1])
    again(np.arange(6, dtype=np.float32), ARGS[1])
    again(ARGS[0], (1.5, np.ones(())))  # a Python float is weakly typed
    assert len(traces) == 4 and len(list(store.glob("*.bin"))) == 4


def test_is_stored_says_whether_a_call_would_load_without_loading(store, monkeypatch):
    traces = []
    program = _program(traces)
    assert not program.is_stored(*ARGS) and traces == []
    program(*ARGS)
    assert program.is_stored(*ARGS)  # held in memory
    again = _program(traces)
    loads = []
    monkeypatch.setattr(_aot, "_load", lambda *a: loads.append(a))
    assert again.is_stored(*ARGS) and loads == []  # on disk, and nothing loaded to say so
    assert not again.is_stored(np.arange(7.0), ARGS[1])
    monkeypatch.setenv("SCALING_JAX_CACHE", "off")
    assert not again.is_stored(*ARGS)  # the store is off: a call would go to plain jit


def test_solver_warm_up_leaves_stored_sizes_to_load_on_use(store, monkeypatch):
    """The warm-up compiles every lane-batch size a solve may reach; sizes already stored are
    not loaded up front (a solve that never reaches them never pays for them)."""
    from scaling_jax.fitting import solver

    segment_calls = []

    class Segment:
        def __init__(self, stored):
            self.stored = stored

        def is_stored(self, lanes, data, n_steps):
            return len(lanes.x) in self.stored

        def __call__(self, lanes, data, n_steps):
            segment_calls.append(len(lanes.x))

    lanes = solver._fresh_lanes(np.ones((4, 5)), np.arange(4), (), history=3)
    solver._warm(Segment(stored={256}), lanes, None, (256, 64), place=lambda t: t)
    assert segment_calls == [64]
    solver._warm(Segment(stored=set()), lanes, None, (256, 64), place=lambda t: t)
    assert segment_calls == [64, 256, 64]


@pytest.mark.parametrize("position", [1, 2, 3])  # source fingerprint, jax, jaxlib versions
def test_another_jax_version_or_source_misses(store, monkeypatch, position):
    traces = []
    _program(traces)(*ARGS)
    env = _aot._environment()
    assert env[1] == _aot._source_fingerprint() and env[2] == jax.__version__
    changed = (*env[:position], "something else", *env[position + 1 :])
    monkeypatch.setitem(_aot._process, "env", changed)
    _check(_program(traces)(*ARGS))
    assert len(traces) == 2 and len(list(store.glob("*.bin"))) == 2


def test_source_fingerprint_follows_every_file(tmp_path, monkeypatch):
    (tmp_path / "sub").mkdir()
    (tmp_path / "a.py").write_text("x = 1\n")
    (tmp_path / "sub" / "b.py").write_text("y = 2\n")
    monkeypatch.setattr(_aot, "_PACKAGE", tmp_path)
    first = _aot._source_fingerprint()
    (tmp_path / "sub" / "b.py").write_text("y = 3\n")
    assert _aot._source_fingerprint() != first


@pytest.mark.parametrize("damage", ["garbage", "truncated", "empty", "foreign"])
def test_damaged_entries_are_recompiled_with_one_warning(store, caplog, damage):
    traces = []
    _program(traces)(*ARGS)
    (entry,) = store.glob("*.bin")
    other = _aot.stored_jit(lambda x, pair: {"y": x, "s": pair[1]}, ("test", "other"))
    other(*ARGS)
    foreign = next(p for p in store.glob("*.bin") if p != entry).read_bytes()
    blob = entry.read_bytes()
    entry.write_bytes(
        {
            "garbage": os.urandom(len(blob)),
            "truncated": blob[: len(blob) // 2],
            "empty": b"",
            "foreign": foreign,
        }[damage]
    )
    with caplog.at_level(logging.WARNING, logger="scaling_jax"):
        for _ in range(2):
            _check(_program(traces)(*ARGS))
    assert len(traces) == 2  # compiled again, and rewrote the entry the first time
    assert len(_warnings(caplog)) == 1 and "could not be loaded" in _warnings(caplog)[0]


def test_an_entry_that_fails_to_run_is_deleted_and_recompiled(store, caplog, monkeypatch):
    traces = []
    _program(traces)(*ARGS)
    (entry,) = store.glob("*.bin")

    def broken(*args):
        raise jax.errors.JaxRuntimeError("NOT_FOUND: Function wrapped_log not found")

    monkeypatch.setattr(_aot, "_load", lambda path, text: broken)
    with caplog.at_level(logging.WARNING, logger="scaling_jax"):
        _check(_program(traces)(*ARGS))
    assert len(traces) == 2 and entry.exists()  # deleted, then written again
    assert len(_warnings(caplog)) == 1 and "failed to run" in _warnings(caplog)[0]


def test_unwritable_store_compiles_with_one_warning(store, caplog):
    store.parent.mkdir(parents=True, exist_ok=True)
    store.write_text("a file where the store's directory should be")
    traces = []
    with caplog.at_level(logging.WARNING, logger="scaling_jax"):
        _check(_program(traces)(*ARGS))
        _check(_program(traces)(*ARGS))
        _aot.stored_jit(lambda x, pair: x, ("test", "third"))(*ARGS)
    assert len(traces) == 2
    assert len(_warnings(caplog)) == 1 and "could not store" in _warnings(caplog)[0]
    if os.geteuid() != 0:  # root writes into read-only directories anyway
        store.unlink()
        store.mkdir(mode=0o555)
        _check(_program(traces)(*ARGS))
        assert not list(store.iterdir())


def test_switched_off_store_user_functions_and_sharded_arguments_use_plain_jit(
    store, monkeypatch
):
    traces = []
    monkeypatch.setenv("SCALING_JAX_CACHE", "off")
    assert _aot.store_dir() is None
    _check(_program(traces)(*ARGS))
    assert not store.exists()
    monkeypatch.setenv("SCALING_JAX_CACHE", str(store.parent))
    assert not isinstance(_aot.stored_jit(lambda x: x, None), _aot.StoredProgram)
    mesh = jax.sharding.Mesh(np.array(jax.devices()[:1]), ("lanes",))
    spec = jax.sharding.PartitionSpec("lanes")
    sharded = jax.device_put(ARGS[0], jax.sharding.NamedSharding(mesh, spec))
    _check(_program(traces)(sharded, ARGS[1]))
    assert not store.exists()
    with pytest.raises(TypeError, match="plain values"):
        _aot.stored_jit(lambda x: x, ("test", object()))


def test_registry_laws_and_their_objectives_carry_recipes():
    from scaling_jax.fitting.objective import make_objective
    from scaling_jax.fitting.options import constrained_law

    for law in sj.laws.LAWS.values():
        assert _aot.recipe_of(law.log_loss)[0] == "law"
    chin = sj.laws.CHINCHILLA
    recipe = _aot.recipe_of(make_objective(chin.log_loss, "ls_log", 2.0))
    assert recipe == ("objective", ("law", "chinchilla", "log_loss"), "ls_log", 2.0, "weights")
    constrained = constrained_law(chin, {"E": 1.7}, ()).law
    assert _aot.recipe_of(constrained.log_loss) is None
    assert _aot.recipe_of(make_objective(constrained.log_loss)) is None
