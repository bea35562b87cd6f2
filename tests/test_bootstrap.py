"""Tests of scaling_jax.bootstrap: determinism, resume, intervals, derived quantities."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import shared_data_file

import scaling_jax as sj
from scaling_jax.fitting import resampling as bs
from scaling_jax.laws import ChinchillaParams, chinchilla_grid
from scaling_jax.presets import CHINCHILLA_2022
from scaling_jax.sizing import optimal_exponents
from scaling_jax.sizing.lifetime import chinchilla_optimal_loss as optimal_loss

ROOT = Path(__file__).resolve().parents[1]
GRID = chinchilla_grid()[::150]  # 30 starts: a 1/150 subsample keeps compiles and runs short
TRUTH = ChinchillaParams(406.4, 410.7, 1.69, 0.34, 0.28)
# Shared small setting: every test that uses it reuses the same compiled shapes.
SMALL = dict(grid=GRID, progress=False, chunk_size=4)


@pytest.fixture(scope="module")
def runs60() -> sj.Runs:
    return sj.synthetic_runs(CHINCHILLA_2022, n_runs=60, seed=1, noise=0.01)


@pytest.fixture(scope="module")
def reference(runs60):
    """16 resamples in chunks of 4, single device, in memory."""
    return bs.bootstrap(runs60, n_resamples=16, **SMALL)


def _subprocess_env(n_devices: int = 1) -> dict[str, str]:
    env = dict(os.environ)
    env["XLA_FLAGS"] = f"--xla_force_host_platform_device_count={n_devices}"
    env["PYTHONPATH"] = str(ROOT / "tests") + os.pathsep + env.get("PYTHONPATH", "")
    return env


_SCRIPT = """
import sys, numpy as np, jax
import scaling_jax as sj
from scaling_jax.fitting import resampling as bs
from scaling_jax.laws import chinchilla_grid
from scaling_jax.presets import CHINCHILLA_2022
runs = sj.synthetic_runs(CHINCHILLA_2022, n_runs=60, seed=1, noise=0.01)
assert len(jax.local_devices()) == {n_dev}, jax.local_devices()
res = bs.bootstrap(runs, n_resamples={n_res}, grid=chinchilla_grid()[::150], progress=False,
                   chunk_size={chunk}, out_dir={out_dir!r})
out = dict(theta=res.theta, objective=res.objective, indices=res.indices)
if {n_dev} > 1:
    lanes = bs.bootstrap(runs, n_resamples={n_res}, grid=chinchilla_grid()[::150],
                         progress=False, chunk_size={chunk}, shard="lanes")
    out.update(lanes_theta=lanes.theta, lanes_objective=lanes.objective)
np.savez(sys.argv[1], **out)
"""


def _script(n_dev: int, n_res: int, chunk: int, out_dir: str | None) -> str:
    return textwrap.dedent(_SCRIPT).format(n_dev=n_dev, n_res=n_res, chunk=chunk, out_dir=out_dir)


# --------------------------------------------------------------------------------------------
# Resampling and determinism


def test_resample_weights_depend_only_on_seed_and_index():
    w = bs.resample_weights(50, 7, seed=3)
    assert w.sum() == 50 and np.all(w == np.round(w))
    np.testing.assert_array_equal(w, bs.resample_weights(50, 7, seed=3))
    assert not np.array_equal(w, bs.resample_weights(50, 8, seed=3))
    labels = np.repeat(np.arange(5), 4)
    g = bs.resample_weights(20, 2, seed=0, scheme="groups", groups=labels)
    # Every run of a group gets the group's count; counts sum to the number of groups.
    assert np.all(g.reshape(5, 4) == g.reshape(5, 4)[:, :1]) and g[::4].sum() == 5


def test_chunk_size_does_not_change_results(runs60, reference):
    other = bs.bootstrap(runs60, n_resamples=16, grid=GRID, progress=False, chunk_size=16)
    np.testing.assert_array_equal(other.indices, reference.indices)
    # Different batch shapes may round differently in XLA's vectorized math (last bits of the
    # objective); along the flat valley that moves theta by ~1e-7.
    np.testing.assert_allclose(other.objective, reference.objective, rtol=1e-11)
    np.testing.assert_allclose(other.theta, reference.theta, rtol=1e-5, atol=1e-6)
    again = bs.bootstrap(runs60, n_resamples=16, **SMALL)
    np.testing.assert_array_equal(again.theta, reference.theta)


def test_forced_host_devices_give_identical_results(tmp_path, reference):
    out = tmp_path / "dev4.npz"
    subprocess.run(
        [sys.executable, "-c", _script(4, 16, 4, None), str(out)],
        env=_subprocess_env(4),
        check=True,
        timeout=600,  # a cap for a loaded machine, not a benchmark
    )
    with np.load(out) as z:
        np.testing.assert_array_equal(z["indices"], reference.indices)
        np.testing.assert_array_equal(z["theta"], reference.theta)
        np.testing.assert_array_equal(z["objective"], reference.objective)
        # NamedSharding of each chunk's lanes over the 4 devices: the same fits up to the
        # per-shard rounding of XLA's vectorized math (as for a different chunk size).
        np.testing.assert_allclose(z["lanes_objective"], reference.objective, rtol=1e-11)
        np.testing.assert_allclose(z["lanes_theta"], reference.theta, rtol=1e-5, atol=1e-6)


def test_kill_and_resume_is_bit_identical(tmp_path, runs60):
    out_dir = tmp_path / "boot"
    # 24 chunks of 1 resample: the kill lands while later chunks are still to come.
    proc = subprocess.Popen(
        [sys.executable, "-c", _script(1, 24, 1, str(out_dir)), str(tmp_path / "x.npz")],
        env=_subprocess_env(1),
    )
    try:
        deadline = time.time() + 150
        while not list(out_dir.glob("chunk_*.npz")):
            assert proc.poll() is None, "the bootstrap subprocess ended before writing a chunk"
            assert time.time() < deadline
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=60)
    n_done = len(list(out_dir.glob("chunk_*.npz")))
    assert 1 <= n_done < 24
    # Atomic writes: every chunk file that exists is complete (a killed write leaves at most
    # a hidden temporary file, which is never read).
    for path in out_dir.glob("chunk_*.npz"):
        with np.load(path) as z:
            assert len(z["indices"]) == 1 and np.all(np.isfinite(z["objective"]))
    resumed = bs.bootstrap(
        runs60, n_resamples=24, grid=GRID, progress=False, chunk_size=1, out_dir=out_dir
    )
    fresh = bs.bootstrap(runs60, n_resamples=24, grid=GRID, progress=False, chunk_size=1)
    np.testing.assert_array_equal(resumed.indices, np.arange(24))
    np.testing.assert_array_equal(resumed.theta, fresh.theta)
    np.testing.assert_array_equal(resumed.objective, fresh.objective)
    np.testing.assert_array_equal(resumed.n_basin, fresh.n_basin)


def test_config_mismatch_raises(tmp_path, runs60, reference):
    out_dir = tmp_path / "boot"
    first = bs.bootstrap(runs60, n_resamples=8, out_dir=out_dir, **SMALL)
    np.testing.assert_array_equal(first.theta, reference.theta[:8])
    manifest = json.loads((out_dir / "manifest.json").read_text())
    assert manifest["seed"] == 0 and manifest["scheme"] == "points"
    with pytest.raises(ValueError, match="seed"):
        bs.bootstrap(runs60, n_resamples=8, seed=1, out_dir=out_dir, **SMALL)
    with pytest.raises(ValueError, match="data_sha256"):
        bs.bootstrap(runs60.subset(slice(0, 50)), n_resamples=8, out_dir=out_dir, **SMALL)
    with pytest.raises(ValueError, match="chunk_size"):
        bs.bootstrap(
            runs60, n_resamples=8, out_dir=out_dir, grid=GRID, progress=False, chunk_size=2
        )
    # Extending the same configuration (explicitly) reuses the finished chunks.
    more = bs.bootstrap(runs60, n_resamples=16, out_dir=out_dir, extend=True, **SMALL)
    np.testing.assert_array_equal(more.theta, reference.theta)


def test_processes_split_chunks_and_merge(tmp_path, runs60, reference):
    out_dir = tmp_path / "hosts"
    for p in range(2):
        part = bs.bootstrap(runs60, n_resamples=16, out_dir=out_dir, process=(p, 2), **SMALL)
        assert len(part) < 16 or p == 1
    merged = bs.load_bootstrap(out_dir, runs60, n_resamples=16, **SMALL)
    np.testing.assert_array_equal(merged.theta, reference.theta)


# --------------------------------------------------------------------------------------------
# Strategies and schemes


def test_warm_strategy_matches_full_grid(runs60):
    """The cheap strategy reaches each resample's grid optimum (objective within 1e-8 rel.)."""
    warm = bs.bootstrap(runs60, n_resamples=8, **SMALL)
    full = bs.bootstrap(runs60, n_resamples=8, starts="grid", **{**SMALL, "chunk_size": 1})
    miss = warm.objective > full.objective * (1 + 1e-8)
    assert miss.sum() == 0, (warm.objective, full.objective)
    assert np.all(full.n_basin >= 2)
    np.testing.assert_allclose(warm.theta[:, 2:], full.theta[:, 2:], rtol=1e-3, atol=1e-3)


@pytest.mark.parametrize("scheme", ["groups", "residual"])
def test_other_schemes(runs60, scheme):
    res = bs.bootstrap(runs60, n_resamples=8, scheme=scheme, **SMALL)
    assert res.config["scheme"] == scheme
    assert np.all(np.isfinite(res.theta)) and np.all(res.grad_norm < 1e-4)
    se = res.stderr()
    assert all(v > 0 for v in se.values())


def test_intervals_cover_truth_and_shrink():
    widths = {}
    for n in (60, 480):
        runs = sj.synthetic_runs(TRUTH, n_runs=n, seed=4, noise=0.02)
        res = bs.bootstrap(runs, n_resamples=200, **SMALL)
        iv = res.interval(0.95)
        for k, v in TRUTH._asdict().items():
            assert iv[k][0] <= v <= iv[k][1], (n, k, iv[k], v)
        widths[n] = {k: hi - lo for k, (lo, hi) in iv.items()}
    assert all(widths[480][k] < widths[60][k] for k in widths[60])


def test_bca_and_jackknife(runs60):
    res = bs.bootstrap(runs60, n_resamples=64, jackknife=True, **SMALL)
    assert res.jackknife.shape == (60, 5)
    pct, bca = res.interval(0.9), res.interval(0.9, method="bca")
    hat = res.params_hat._asdict()
    for k in pct:
        assert bca[k][0] < bca[k][1]
        assert bca[k][0] <= hat[k] <= bca[k][1] or pct[k][0] <= hat[k] <= pct[k][1]
    d = res.derived_intervals(budgets=[1e21], method="bca")
    assert d["N_opt"]["low"][0] < d["N_opt"]["high"][0]
    no_jack = bs.bootstrap(runs60, n_resamples=16, **SMALL)
    with pytest.raises(ValueError, match="jackknife"):
        no_jack.interval(method="bca")
    with pytest.raises(ValueError, match="method"):
        no_jack.interval(method="normal")


def test_bca_interval_matches_percentile_without_bias_or_skew():
    rng = np.random.default_rng(0)
    s = rng.standard_normal(20001)
    jack = np.linspace(-1, 1, 101)  # symmetric: acceleration 0
    lo, hi = bs.bca_interval(s, np.median(s), jack, 0.9)
    plo, phi = bs.percentile_interval(s, 0.9)
    assert abs(lo - plo) < 1e-3 and abs(hi - phi) < 1e-3


def test_epoch_standard_errors_match_published():
    path = shared_data_file("chinchilla_epoch_extracted.csv")
    runs = sj.load_runs(path, n="Model Size", compute="Training FLOP", loss="loss")
    runs = runs.subset(np.sort(np.argsort(runs.loss)[:-5]))
    res = bs.bootstrap(runs, n_resamples=200, **SMALL)
    assert abs(res.objective_hat / 1.018274e-3 - 1) < 1e-6
    published = {"A": 124.5, "B": 1293.3, "E": 0.0257, "alpha": 0.0154, "beta": 0.0206}
    se = res.stderr()
    for k, v in published.items():
        assert 0.6 < se[k] / v < 1.6, (k, se[k], v)


# --------------------------------------------------------------------------------------------
# Results, derived quantities, IO


def test_derived_quantities_jit_and_vmap(reference):
    p = reference.params
    budgets = jnp.array([1e21, 5.76e23])
    eager = bs.derived_quantities(p, budgets, (jnp.array([1e9]), jnp.array([2e10])))
    jitted = jax.jit(bs.derived_quantities)(p, budgets, (jnp.array([1e9]), jnp.array([2e10])))
    for k in eager:
        np.testing.assert_allclose(jitted[k], eager[k], rtol=1e-12)
    assert eager["N_opt"].shape == (16, 2) and eager["loss"].shape == (16, 1)
    np.testing.assert_allclose(eager["a_N"] + eager["b_D"], 1.0)
    np.testing.assert_allclose(eager["tokens_per_param"], eager["D_opt"] / eager["N_opt"])
    np.testing.assert_allclose(6 * eager["N_opt"] * eager["D_opt"] / budgets, 1.0, rtol=1e-10)
    # vmap over an extra leading axis of params (e.g. several bootstraps at once).
    stacked = jax.tree.map(lambda v: jnp.stack([v, v]), p)
    v = jax.vmap(lambda q: bs.tokens_per_param(q, budgets))(stacked)
    np.testing.assert_allclose(v[1], eager["tokens_per_param"], rtol=1e-12)
    n_opt = sj.compute_optimal(reference.params_hat, 5.76e23).N
    d = reference.derived_intervals(budgets=[5.76e23])
    np.testing.assert_allclose(d["N_opt"]["estimate"][0], n_opt, rtol=1e-12)


def _numpy_closed_form(theta: np.ndarray, budgets: np.ndarray) -> dict[str, np.ndarray]:
    """Chinchilla compute-optimal N, D (REFERENCE.md) in plain numpy from fit coordinates."""
    A, B, E = np.exp(theta[:, 0]), np.exp(theta[:, 1]), np.exp(theta[:, 2])
    alpha, beta = theta[:, 3], theta[:, 4]
    s = (alpha + beta)[:, None]
    G = ((alpha * A) / (beta * B))[:, None] ** (1.0 / s)
    base = budgets[None, :] / 6.0
    n_opt, d_opt = G * base ** (beta[:, None] / s), base ** (alpha[:, None] / s) / G
    N, D = 1e9, 2e10
    return {
        "params": np.stack([A, B, E, alpha, beta], axis=-1),
        "a_N": beta / (alpha + beta),
        "b_D": alpha / (alpha + beta),
        "N_opt": n_opt,
        "D_opt": d_opt,
        "tokens_per_param": d_opt / n_opt,
        "loss": (E + A / N**alpha + B / D**beta)[:, None],
    }


def test_derived_intervals_match_a_numpy_closed_form(reference):
    budgets = np.array([5.76e23, 1e25])
    boot = _numpy_closed_form(reference.theta, budgets)
    hat = _numpy_closed_form(reference.theta_hat[None], budgets)
    np.testing.assert_allclose(np.stack(reference.params, -1), boot["params"], rtol=1e-14)
    np.testing.assert_allclose(list(reference.params_hat), hat["params"][0], rtol=1e-14)
    d = reference.derived_intervals(budgets=budgets, points=([1e9], [2e10]), level=0.9)
    per = reference.derived(budgets=budgets, points=([1e9], [2e10]))
    assert set(d) == set(per) == set(boot) - {"params"}
    for k, v in d.items():
        np.testing.assert_allclose(per[k], boot[k], rtol=1e-13, err_msg=k)
        np.testing.assert_allclose(v["estimate"], hat[k][0], rtol=1e-13, err_msg=k)
        lo, hi = np.nanquantile(boot[k], [0.05, 0.95], axis=0)
        np.testing.assert_allclose(v["low"], lo, rtol=1e-13, err_msg=k)
        np.testing.assert_allclose(v["high"], hi, rtol=1e-13, err_msg=k)
        np.testing.assert_allclose(v["stderr"], np.std(boot[k], 0, ddof=1), rtol=1e-12)
    # A scalar budget and the one-budget shape agree with the two-budget program's column.
    one = reference.derived_intervals(budgets=1e25)["D_opt"]
    np.testing.assert_allclose(one["estimate"], d["D_opt"]["estimate"][1:], rtol=1e-14)


_SUMMARY_SCRIPT = """
import json, sys
import numpy as np
from jax import monitoring
events = []
monitoring.register_event_duration_secs_listener(lambda name, secs, **kw: events.append(name))
monitoring.register_event_listener(lambda name, **kw: events.append(name))
from scaling_jax import _aot
from scaling_jax._cache import compile_scope
from scaling_jax.fitting.resampling import BootstrapResult
res = BootstrapResult.from_json(sys.argv[1])
from scaling_jax.sizing.lifetime import chinchilla_optimal_loss
from scaling_jax.sizing.optimal import compute_optimal
with compile_scope():  # as the command line runs it
    res.summary(budgets=[5.76e23, 1e25])
    d = res.derived_intervals(budgets=[5.76e23, 1e25])
    sizing = [*compute_optimal(res.params_hat, [1e21, 1e23]).N.tolist(),
              float(chinchilla_optimal_loss(res.params_hat, 13e9))]
print(json.dumps({
    "sizing": sizing,
    "traces": events.count("/jax/core/compile/jaxpr_trace_duration"),
    "compiles": events.count("/jax/core/compile/backend_compile_duration"),
    "loads": events.count(_aot.LOAD_EVENT),
    "derived": {k: [*np.ravel(v["estimate"]), *np.ravel(v["low"])] for k, v in d.items()},
}))
"""


def test_summaries_of_a_registry_law_load_their_programs_from_the_store(tmp_path, reference):
    # The natural params and the derived quantities of a registry law, and the closed-form
    # sizing programs, are stored executables: a warm process (a `scaling-jax bootstrap` or
    # `optimal` run, say) neither traces nor compiles them.
    path = tmp_path / "boot.json"
    reference.to_json(path)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JAX_", "XLA_"))}
    env.update(PYTHONPATH=str(ROOT), SCALING_JAX_CACHE=str(tmp_path / "xla"))
    outs = []
    for _ in range(2):
        proc = subprocess.run(
            [sys.executable, "-c", _SUMMARY_SCRIPT, str(path)],
            capture_output=True,
            text=True,
            env=env,
            timeout=300,
        )
        assert proc.returncode == 0, proc.stderr[-3000:]
        outs.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    cold, warm = outs
    assert cold["compiles"] >= 4 and cold["loads"] == 0, cold
    assert warm["traces"] == 0 and warm["compiles"] == 0 and warm["loads"] == 4, warm
    # The stored executables, bit for bit.
    assert warm["derived"] == cold["derived"] and warm["sizing"] == cold["sizing"]
    p = reference.params_hat
    np.testing.assert_allclose(warm["sizing"][:2], sj.compute_optimal(p, [1e21, 1e23]).N)
    np.testing.assert_allclose(warm["sizing"][2], optimal_loss(p, 13e9))
    d = reference.derived_intervals(budgets=[5.76e23, 1e25])
    for k, v in d.items():
        here = np.concatenate([np.ravel(v["estimate"]), np.ravel(v["low"])])
        np.testing.assert_allclose(warm["derived"][k], here, rtol=1e-14, err_msg=k)


def test_result_io_and_summary(tmp_path, reference):
    path = tmp_path / "boot.json"
    reference.to_json(path)
    back = bs.BootstrapResult.from_json(path)
    np.testing.assert_array_equal(back.theta, reference.theta)
    assert back.stderr() == reference.stderr()
    assert back.interval(0.8) == reference.interval(0.8)
    csv = tmp_path / "summary.csv"
    reference.to_csv(csv, budgets=[1e21], points=([1e9], [2e10]))
    lines = csv.read_text().splitlines()
    assert lines[0].startswith("quantity,estimate,stderr")
    assert any(line.startswith("N_opt(C=1e+21)") for line in lines)
    assert any(line.startswith("loss(N=1e+09") for line in lines)
    text = reference.summary()
    assert "alpha" in text and "N_opt(C=5.76e+23 FLOPs) = " in text and " parameters " in text
    assert "a_N" in text and "b_D" in text
    cov, corr = reference.covariance(), reference.correlation()
    assert cov.shape == (5, 5) and np.allclose(np.diag(corr), 1.0)
    assert len(reference.params.A) == 16
    # The diagnostics (a density scan per parameter) are computed once per result, shared by
    # the summary and the JSON file.
    assert reference.diagnostics is reference.diagnostics
    assert back.to_dict()["diagnostics"] == [d.to_dict() for d in reference.diagnostics]


def test_memory_plan_for_the_full_epoch_bootstrap():
    plan = bs.plan_chunks(4000, 4500, 240, memory_budget=16 * 2**30)
    assert plan["peak_bytes"] <= 16 * 2**30 and plan["chunk_size"] >= 1
    assert plan["n_chunks"] * plan["chunk_size"] >= 4000
    gpu32 = bs.plan_chunks(4000, 4500, 240, memory_budget=60 * 2**30, dtype_bytes=4)
    assert gpu32["chunk_size"] >= plan["chunk_size"]
    tiny = bs.plan_chunks(10, 4500, 240, memory_budget=2**20)
    assert tiny["batch_size"] is not None and tiny["peak_bytes"] <= 2**20


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"n_resamples": 0}, "n_resamples"),
        ({"n_resamples": 2.5}, "n_resamples"),
        ({"scheme": "wild"}, "scheme"),
        ({"starts": "cold"}, "starts"),
        ({"chunk_size": 0}, "chunk_size"),
        ({"memory_budget": -1}, "memory_budget"),
        ({"delta": 0.0}, "delta"),
        ({"seed": -1}, "seed"),
        ({"dtype": "int32"}, "dtype"),
        ({"starts": np.zeros((3, 4))}, "starts"),
    ],
)
def test_bad_inputs_name_the_field(runs60, kwargs, field):
    args = {"n_resamples": 4, **SMALL, **kwargs}
    with pytest.raises(ValueError, match=field):
        bs.bootstrap(runs60, **args)


def test_bad_result_queries(reference):
    with pytest.raises(ValueError, match="level"):
        reference.interval(1.5)
    with pytest.raises(ValueError, match="budgets"):
        reference.derived_intervals(budgets=[-1.0])


# --------------------------------------------------------------------------------------------
# CLI, plots, notebook


def test_cli_and_plots(tmp_path, runs60):
    import argparse

    from scaling_jax.cli import bootstrap as bootstrap_cli

    csv = tmp_path / "runs.csv"
    rows = ["N,D,loss"] + [
        f"{float(n)!r},{float(d)!r},{float(v)!r}"
        for n, d, v in zip(runs60.N, runs60.D, runs60.loss, strict=True)
    ]
    csv.write_text("\n".join(rows) + "\n")
    parser = argparse.ArgumentParser()
    bootstrap_cli.register_cli(parser.add_subparsers(dest="command"))
    out = tmp_path / "out"
    args = parser.parse_args(
        [
            "bootstrap",
            str(csv),
            "--resamples",
            "8",
            "--out",
            str(out),
            "--chunk-size",
            "4",
            "--budgets",
            "1e21,5.76e23",
            "--plots",
            "--no-progress",
        ]
    )
    assert args.func(args) == 0
    for name in ("bootstrap.json", "summary.csv", "corner.png", "frontier.png"):
        assert (out / name).stat().st_size > 0
    with pytest.raises(ValueError, match="--resume"):
        args.func(args)
    args.resume = True
    assert args.func(args) == 0
    # Resuming without --plots removes the earlier run's plots rather than leaving them stale.
    args.plots = False
    assert args.func(args) == 0
    assert not (out / "corner.png").exists() and not (out / "frontier.png").exists()
    with pytest.raises(SystemExit):
        parser.parse_args(["bootstrap", str(csv), "--out", "x", "--budgets", "-1"])


def test_plots_draw_the_bootstrap(tmp_path, reference):
    from matplotlib.figure import Figure

    from scaling_jax.plots import bootstrap as plots

    res = reference
    k = len(res.natural_names)
    axes = Figure().subplots(k, k)
    assert plots.plot_corner(res, ax=axes) is axes
    assert [a.get_xlabel().split(" (")[0] for a in axes[-1]] == list(res.natural_names)
    hist = axes[0, 0].patches  # histogram of the first parameter over the resamples
    assert sum(p.get_height() for p in hist) == np.isfinite(np.asarray(res.params[0])).sum()
    np.testing.assert_allclose(axes[0, 0].lines[0].get_xdata()[0], res.params_hat[0])

    pair = Figure().subplots(1, 2)
    c = np.geomspace(1e20, 1e24, 5)
    plots.plot_bootstrap_frontier(res, compute=c, ax=pair)
    assert pair[0].get_ylabel() == "N_opt (parameters)"
    estimate = res.derived_intervals(budgets=c)["N_opt"]["estimate"]
    np.testing.assert_allclose(pair[0].lines[0].get_ydata(), estimate)

    path = plots.plot_corner(res, tmp_path / "corner.png")
    assert path == tmp_path / "corner.png" and path.stat().st_size > 1000
    with pytest.raises(ValueError, match="exactly one"):
        plots.plot_corner(res)
    with pytest.raises(ValueError, match="2 panels"):
        plots.plot_bootstrap_frontier(res, ax=pair[0])
    with pytest.warns(DeprecationWarning, match="plot_corner"):
        assert plots.corner_plot(res, tmp_path / "old.png") == str(tmp_path / "old.png")
    with pytest.warns(DeprecationWarning, match="plot_bootstrap_frontier"):
        assert plots.frontier_plot(res, tmp_path / "f.png").endswith("f.png")


def test_plots_label_axes_units_and_markers(reference, runs60):
    from matplotlib.figure import Figure
    from plot_checks import assert_readable

    from scaling_jax.plots.bootstrap import plot_bootstrap_frontier, plot_corner

    k = len(reference.natural_names)
    grid = Figure().subplots(k, k)
    plot_corner(reference, truth=CHINCHILLA_2022, ax=grid)
    assert_readable(grid)
    assert "16 resamples" in grid[0, 0].get_title(loc="left")
    for i in range(k):
        assert grid[i, i].get_ylabel() == "count (resamples)"  # histogram y-axes are labelled
    units = {"A": "nats/token·N^α", "B": "nats/token·D^β"}
    units.update(E="nats/token", alpha="dimensionless", beta="dimensionless")
    assert reference.natural_names == ("A", "B", "E", "alpha", "beta")
    for i, name in enumerate(reference.natural_names):  # each parameter with its units
        assert grid[k - 1, i].get_xlabel() == f"{name} ({units[name]})"
        if i > 0:
            assert grid[i, 0].get_ylabel() == f"{name} ({units[name]})"
    labels = [t.get_text() for t in grid[0, 0].get_legend().get_texts()]
    assert labels == ["full-data fit", "true value"]  # the full-data marker has a legend entry
    # Amplitudes spanning orders of magnitude get log axes; exponents stay linear.
    spans = {n: float(np.ptp(np.log(np.asarray(v)))) for n, v in reference.params._asdict().items()}
    for i, name in enumerate(reference.natural_names):
        wide = spans[name] > np.log(20)
        assert (grid[k - 1, i].get_xscale() == "log") == wide, name

    pair = Figure().subplots(1, 2)
    plot_bootstrap_frontier(reference, runs=runs60, truth=CHINCHILLA_2022, ax=pair)
    assert_readable(pair)
    left, right = pair
    assert left.get_xlabel() == "training compute C (FLOPs)"
    assert left.get_ylabel() == "N_opt (parameters)" and right.get_ylabel() == "D_opt (tokens)"
    assert "model size" in left.get_title() and "training tokens" in right.get_title()
    legend = left.get_legend_handles_labels()[1]
    assert "compute range of the data" in legend and "true law" in legend
    span = [p for p in left.patches if p.get_label() == "compute range of the data"][0]
    lo, hi = span.get_x(), span.get_x() + span.get_width()
    assert lo == pytest.approx(runs60.compute.min()) and hi == pytest.approx(runs60.compute.max())


def test_notebook_runs_with_small_settings(tmp_path):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    nb = nbformat.read(ROOT / "notebooks" / "epoch_replication.ipynb", as_version=4)
    param = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    param.source = 'N_RESAMPLES = 32\nGRID_STRIDE = 150\nSCHEME = "points"\nOUT_DIR = None'
    client = nbclient.NotebookClient(
        nb,
        timeout=600,  # 4 forced devices compile 4 copies: slow on a busy 2-core machine
        kernel_name="python3",
        resources={"metadata": {"path": str(ROOT / "notebooks")}},
    )
    client.execute()
    text = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert "bootstrap SE" in text and "tokens per parameter" in text
    # The allocation exponent the notebook prints: Epoch AI's refit on their data (alpha =
    # 0.3478, beta = 0.3658 give a = 0.5126), or the generating law of the synthetic runs.
    line = next(s for s in text.splitlines() if s.startswith("N_opt ~ C^a_N: a_N = "))
    a_est, a_low, a_high = (float(v) for v in re.findall(r"[-+]?\d*\.\d+", line)[-3:])
    has_data = "Epoch AI extraction" in text
    a_ref = 0.3658 / (0.3478 + 0.3658) if has_data else float(optimal_exponents(CHINCHILLA_2022)[0])
    assert a_est == pytest.approx(a_ref, abs=2e-3 if has_data else 0.02)
    assert a_low <= a_est <= a_high


def test_float32_bootstrap_runs_in_float32():
    """float64 resample weights must not promote a float32 solve (regression: cond dtypes)."""
    runs = sj.synthetic_runs(CHINCHILLA_2022, n_runs=60, seed=0, noise=0.01)
    boot = sj.bootstrap(runs, n_resamples=4, dtype="float32", progress=False)
    assert np.isfinite(boot.objective).all()
    assert boot.theta.shape == (4, 5)
    # float32 cannot verify a minimum to float64 precision: the result says so on use.
    with pytest.warns(UserWarning, match="not at a verified minimum"):
        se = boot.stderr()
    assert all(np.isfinite(v) for v in se.values())
