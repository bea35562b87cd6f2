"""The on-disk compilation cache of the Python API (`scaling_jax._cache`).

Each case runs a small fit in a fresh Python process (programs compiled in this process would
hide the cache), with ``$SCALING_JAX_CACHE`` pointing into a temporary directory, and counts
the programs XLA compiled (backend compiles that were not persistent-cache hits).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

SCRIPT = """
import json, sys
import jax
from jax import monitoring

# A cache hit is reported as a backend compile too (the event times the lookup), and as a hit.
compiles, hits = [], []
monitoring.register_event_duration_secs_listener(
    lambda name, secs, **kw: compiles.append(secs)
    if name == "/jax/core/compile/backend_compile_duration" else None
)
monitoring.register_event_listener(
    lambda name, **kw: hits.append(1) if name == "/jax/compilation_cache/cache_hits" else None
)
if len(sys.argv) > 1:
    jax.config.update("jax_compilation_cache_dir", sys.argv[1])
import scaling_jax as sj

runs = sj.synthetic_runs(sj.presets.EPOCH_2024, n_runs=30, seed=0)
before = len(compiles) - len(hits)
res = sj.fit(runs, starts=8, polish_starts=0)
print(json.dumps({
    "objective": res.objective,
    "compiles": len(compiles) - len(hits) - before,
    "cache_dir": jax.config.jax_compilation_cache_dir,
    "min_compile_time": jax.config.jax_persistent_cache_min_compile_time_secs,
}))
"""


def _fit(cache: str | os.PathLike, *args: str) -> tuple[dict, list[str]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JAX_", "XLA_"))}
    env.update(PYTHONPATH=str(ROOT), SCALING_JAX_CACHE=str(cache), JAX_PLATFORMS="cpu")
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT, *args], capture_output=True, text=True, env=env, timeout=600
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1]), proc.stderr.strip().splitlines()


def _entries(path: Path) -> list[Path]:
    return [p for p in path.rglob("*") if p.is_file()]


def test_cache_is_written_then_read_and_corrupt_entries_are_recompiled(tmp_path):
    cache = tmp_path / "xla"
    cold, cold_err = _fit(cache)
    assert cold["cache_dir"] == str(cache) and cold["compiles"] >= 2
    assert cold["min_compile_time"] == 1.0  # the global setting is left as it was
    assert not cold_err, cold_err
    entries = _entries(cache)
    assert len(entries) >= cold["compiles"]  # every program was written
    warm, warm_err = _fit(cache)
    assert warm["compiles"] == 0 and warm["objective"] == cold["objective"]
    assert not warm_err, warm_err
    for entry in entries:  # corrupt every entry, and add a stray file
        entry.write_bytes(b"not an executable")
    (cache / "garbage").write_bytes(os.urandom(64))
    again, again_err = _fit(cache)
    assert again["compiles"] == cold["compiles"] and again["objective"] == cold["objective"]
    assert len(again_err) <= 1, again_err


def test_unusable_cache_directory_falls_back_with_one_warning_line(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a directory")
    res, err = _fit(blocker / "xla")
    assert res["cache_dir"] is None and res["compiles"] >= 2
    assert len(err) == 1 and "not usable" in err[0], err
    if os.geteuid() != 0:  # root writes into read-only directories anyway
        readonly = tmp_path / "readonly"
        readonly.mkdir()
        readonly.chmod(0o555)
        res, err = _fit(readonly)
        assert res["cache_dir"] is None and len(err) == 1, err


def test_users_own_cache_directory_and_opt_out_are_respected(tmp_path):
    ours, theirs = tmp_path / "ours", tmp_path / "theirs"
    res, err = _fit(ours, str(theirs))
    assert res["cache_dir"] == str(theirs) and not err
    assert _entries(theirs) and not ours.exists()
    res, err = _fit("off")
    assert res["cache_dir"] is None and not err
