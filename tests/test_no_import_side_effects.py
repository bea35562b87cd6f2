"""Importing scaling_jax changes nothing global, and the library still computes in float64
when JAX's x64 mode is off in the caller (checked in fresh subprocesses, since this test
session itself runs with x64 on, see conftest.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import scaling_jax as sj
from scaling_jax.laws import chinchilla_grid
from scaling_jax.presets import CHINCHILLA_2022

ROOT = Path(__file__).resolve().parents[1]


def _run(script: str, *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("JAX_ENABLE_X64", "MPLBACKEND")}
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    out = subprocess.run(
        [sys.executable, "-W", "error", "-c", textwrap.dedent(script), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return out.stdout


def test_import_leaves_jax_and_matplotlib_settings_alone():
    out = _run(
        """
        import sys
        import jax, matplotlib
        x64 = jax.config.jax_enable_x64
        backend = dict.__getitem__(matplotlib.rcParams, "backend")
        import scaling_jax
        import scaling_jax.cli, scaling_jax.plots.bootstrap, scaling_jax.plots.laws
        import scaling_jax.plots.lifetime, scaling_jax.plots.optimal
        print(x64, jax.config.jax_enable_x64)
        print(dict.__getitem__(matplotlib.rcParams, "backend") is backend)
        print("matplotlib.pyplot" in sys.modules)
        """
    )
    assert out.split() == ["False", "False", "True", "False"]


_WORKFLOW = """
import json, sys
import jax, numpy as np
import scaling_jax as sj
from scaling_jax.laws import chinchilla_grid
from scaling_jax.presets import CHINCHILLA_2022

runs = sj.synthetic_runs(CHINCHILLA_2022, n_runs=40, seed=1, noise=0.01)
grid = chinchilla_grid()[::150]
res = sj.fit(runs, starts=grid, polish_starts=4)
boot = sj.bootstrap(runs, n_resamples=4, grid=grid, chunk_size=4, progress=False)
n_opt = sj.compute_optimal(res.params, np.array([1e21, 1e24])).N
life = sj.lifetime_optimal(res.params, 2.3, 1e13)
out = dict(
    x64_after=bool(jax.config.jax_enable_x64),
    theta_dtype=str(res.theta.dtype),
    theta=res.theta.tolist(),
    objective=res.objective,
    params=list(res.params),
    stderr=boot.stderr(),
    n_opt_boot=boot.derived_intervals(budgets=[1e21])["N_opt"]["estimate"].tolist(),
    n_opt_type=type(n_opt).__name__,
    n_opt_dtype=str(n_opt.dtype),
    n_opt=n_opt.tolist(),
    life_dtype=str(np.asarray(life.N).dtype),
    life_N=float(life.N),
    epoch_frontier=sj.FRONTIERS["epoch"].n_coef,
)
print(json.dumps(out))
"""


def test_library_computes_in_float64_with_x64_off_globally():
    got = json.loads(_run(_WORKFLOW).strip().splitlines()[-1])
    assert got["x64_after"] is False  # the scope did not leak
    assert got["theta_dtype"] == "float64" and got["n_opt_dtype"] == "float64"
    assert got["n_opt_type"] == "ndarray" and got["life_dtype"] == "float64"
    # The same numbers as this (x64-on) process computes: float64 throughout.
    runs = sj.synthetic_runs(CHINCHILLA_2022, n_runs=40, seed=1, noise=0.01)
    grid = chinchilla_grid()[::150]
    res = sj.fit(runs, starts=grid, polish_starts=4)
    np.testing.assert_allclose(got["theta"], res.theta, rtol=1e-12)
    assert got["objective"] == pytest.approx(res.objective, rel=1e-12)
    np.testing.assert_allclose(got["params"], list(res.params), rtol=1e-12)
    boot = sj.bootstrap(runs, n_resamples=4, grid=grid, chunk_size=4, progress=False)
    for k, v in boot.stderr().items():
        assert got["stderr"][k] == pytest.approx(v, rel=1e-9)
    est = boot.derived_intervals(budgets=[1e21])["N_opt"]["estimate"]
    np.testing.assert_allclose(got["n_opt_boot"], est, rtol=1e-12)
    n_opt = sj.compute_optimal(res.params, np.array([1e21, 1e24])).N
    np.testing.assert_allclose(got["n_opt"], n_opt, rtol=1e-12)
    life = sj.lifetime_optimal(res.params, 2.3, 1e13)
    assert got["life_N"] == pytest.approx(float(life.N), rel=1e-12)
    assert got["epoch_frontier"] == sj.FRONTIERS["epoch"].n_coef
