"""``scaling-jax bench`` / `sj.bench`: the JSON record, the scipy reference, interrupts."""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

import scaling_jax as sj
from scaling_jax import benchmark
from scaling_jax.cli import main
from scaling_jax.laws import chinchilla_grid


def test_bench_quick_command_writes_the_record(tmp_path):
    """The installed command, from an empty folder with a cold compilation cache; tiny sizes."""
    exe = shutil.which("scaling-jax") or pytest.fail("the scaling-jax console script is missing")
    env = {**os.environ, "SCALING_JAX_CACHE": str(tmp_path / "xla"), "OPENBLAS_NUM_THREADS": "1"}
    out_json = tmp_path / "bench.json"
    cmd = [exe, "bench", "--quick", "--out", str(out_json), "--no-progress"]
    cmd += ["--fit-starts", "40", "--resamples", "6", "--scipy-starts", "8", "--scenarios", "300"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=env, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "fit full: 40 grid starts" in proc.stdout and "speed-up over scipy" in proc.stdout
    rec = json.loads(out_json.read_text())

    assert rec["format"] == benchmark.FORMAT and rec["interrupted"] is None
    env_rec = rec["environment"]
    assert env_rec["backend"] == "cpu" and env_rec["device_count"] == 1
    assert env_rec["jax"] and env_rec["jaxlib"] and env_rec["cpu_count"] >= 1
    assert env_rec["compilation_cache"] == str(tmp_path / "xla")
    assert rec["config"] == {
        "quick": True,
        "dtype": "float64",
        "devices": 1,
        "fit_starts": 40,
        "resamples": 6,
        "bootstrap_starts": "warm",
        "scipy_starts": 8,
        "scenarios": 300,
        "memory_budget": None,
    }
    assert rec["data"]["n_points"] == 240
    for mode in ("full", "fast"):
        f = rec["fit"][mode]
        assert f["n_starts"] == 40 and f["solve_s"] > 0 and f["compile_s"] >= 0
        assert f["fits_per_s"] == pytest.approx(40 / f["solve_s"])
        assert f["evals_per_start"] >= 1 and math.isfinite(f["best_objective"])
    assert "float32_gap" not in rec
    b = rec["bootstrap"]
    assert (b["n_resamples"], b["n_starts"], b["lane_fits"]) == (6, 1, 6)
    assert b["wall_s"] >= b["solve_s"] > 0 and b["memory_plan"]["chunk_size"] == 6
    assert b["status"] and sum(b["status"].values()) == 6
    lt = rec["lifetime"]
    assert lt["n_scenarios"] == 300 and lt["scenarios_per_s"] == pytest.approx(300 / lt["run_s"])
    sp = rec["scipy"]
    assert sp["available"] and sp["n_starts"] == 8 and sp["fits_per_s"] > 0
    assert set(sp["speedup"]) == {"fit_full", "fit_fast", "bootstrap_lane_fits"}
    # our best over all 40 starts (scipy's 8 among them) is no worse than scipy's
    assert sp["our_objective_vs_scipy"] < 1e-9


def test_reference_objective_matches_the_law_and_finite_differences():
    runs = sj.synthetic_runs(sj.presets.EPOCH_2024, n_runs=60, seed=3)
    logs = np.log(runs.N), np.log(runs.D), np.log(runs.loss)
    theta = chinchilla_grid()[1234] + 0.01
    value, grad = benchmark.objective_and_grad(theta, *logs)
    a, b, e, alpha, beta = theta
    r = np.log(np.exp(e) + np.exp(a) * runs.N**-alpha + np.exp(b) * runs.D**-beta) - logs[2]
    want = np.sum(np.where(np.abs(r) <= 1e-3, 0.5 * r**2, 1e-3 * (np.abs(r) - 0.5e-3)))
    assert value == pytest.approx(want, rel=1e-12)
    eps = 1e-6
    for i in range(5):
        step = np.eye(5)[i] * eps
        fd = (
            benchmark.objective_and_grad(theta + step, *logs)[0]
            - benchmark.objective_and_grad(theta - step, *logs)[0]
        ) / (2 * eps)
        assert grad[i] == pytest.approx(fd, rel=1e-5, abs=1e-9)


def test_missing_scipy_is_reported_not_raised(monkeypatch):
    runs = sj.synthetic_runs(sj.presets.EPOCH_2024, n_runs=30, seed=0)
    monkeypatch.setitem(sys.modules, "scipy", None)
    got = benchmark.time_scipy(runs, chinchilla_grid()[:2])
    assert got["available"] is False and "scipy is not installed" in got["reason"]
    rec = {
        "environment": benchmark.environment(),
        "config": {"dtype": "float64", "quick": True},
        "data": {"source": "x", "n_points": 30},
        "scipy": got,
    }
    assert "scipy reference: not measured, scipy is not installed" in benchmark.format_report(rec)


def test_interrupt_keeps_what_was_measured(monkeypatch, tmp_path, capsys):
    def measured_then_interrupted(runs, mode, **kwargs):
        if mode == "fast":
            raise KeyboardInterrupt
        return None, {
            "mode": mode,
            "n_starts": 3,
            "compile_s": 1.0,
            "first_call_s": 1.5,
            "solve_s": 0.5,
            "fits_per_s": 6.0,
            "evals_per_start": 9.0,
            "best_objective": 1e-3,
            "n_best_basin": 1,
            "status": {"converged": 3},
        }

    class _Starts:
        objective = np.array([1e-3, 2e-3, 3e-3])

    def fake_time_fit(runs, mode, **kwargs):
        res, fig = measured_then_interrupted(runs, mode, **kwargs)
        return type("R", (), {"starts": _Starts, "theta": np.zeros(5)})(), fig

    monkeypatch.setattr(benchmark, "time_fit", fake_time_fit)
    out = tmp_path / "partial.json"
    code = main(["bench", "--quick", "--no-progress", "--fit-starts", "3", "--out", str(out)])
    assert code == 130
    text = capsys.readouterr().out
    assert "fit full: 3 grid starts" in text and "interrupted during 'fit fast'" in text
    rec = json.loads(out.read_text())
    assert rec["interrupted"] == "fit fast" and "full" in rec["fit"] and "fast" not in rec["fit"]
    assert "bootstrap" not in rec and "lifetime" not in rec


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"devices": 99}, "devices=99: this process has 1 local"),
        ({"devices": "some"}, "devices='some'"),
        ({"dtype": "float16"}, "dtype='float16'"),
        ({"resamples": 0}, "resamples=0"),
        ({"fit_starts": 2.5}, "fit_starts=2.5"),
    ],
)
def test_bad_options_name_the_option(kwargs, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        sj.bench(**kwargs)
