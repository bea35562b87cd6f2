"""The ``scaling-jax`` command line: the README's demo, ``fit``, and clean errors."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import scaling_jax as sj
from scaling_jax.cli import main


def test_demo_is_the_readme_command(tmp_path):
    exe = shutil.which("scaling-jax") or pytest.fail("the scaling-jax console script is missing")
    env = {**os.environ, "SCALING_JAX_CACHE": str(tmp_path / "xla")}
    out = subprocess.run(
        [exe, "demo", "--out", str(tmp_path / "demo.json")],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
        cwd=tmp_path,
    )
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert "4500 starts (full mode)" in text and "converged 4500" in text
    for step in ("Data", "Fit", "Uncertainty", "Compute-optimal allocation", "Lifetime", "Plots"):
        assert f". {step}" in text, step
    assert "true law: preset epoch_2024" in text
    assert "true constants lie inside their 95% intervals" in text
    assert "computed for the law fitted in step 2" in text and "5.760e+23" in text
    assert "WARNING:" not in text  # no fit warning; diagnostics notes (WARNING [code]) may show
    for name in ("fit.png", "corner.png", "frontier.png"):
        path = tmp_path / "scaling_jax_demo" / name
        assert f"wrote {Path('scaling_jax_demo') / name}" in text and path.stat().st_size > 10_000
    fit = sj.FitResult.from_json(tmp_path / "demo.json")
    # 245 noisy runs from EPOCH_2024: the fit lands near the truth it was drawn from
    for got, want in zip(fit.params, sj.presets.EPOCH_2024, strict=True):
        assert abs(np.log(got / want)) < 1.5
    assert abs(fit.params.E / sj.presets.EPOCH_2024.E - 1) < 0.05


def test_fit_command_writes_json_and_prints_summary(tmp_path, capsys):
    runs = sj.synthetic_runs(sj.presets.EPOCH_2024, n_runs=240, seed=3, noise=0.01)
    path = tmp_path / "runs.csv"
    lines = ["params,tokens,loss"] + [
        f"{float(n)!r},{float(d)!r},{float(v)!r}"
        for n, d, v in zip(runs.N, runs.D, runs.loss, strict=True)
    ]
    path.write_text("\n".join(lines))
    out = tmp_path / "fit.json"
    code = main(
        [
            "fit",
            str(path),
            "--n-col",
            "params",
            "--d-col",
            "tokens",
            "--starts",
            "64",
            "--out",
            str(out),
            "--starts-table",
        ]
    )
    assert code == 0
    printed = capsys.readouterr().out
    assert "best objective" in printed and "N_opt (params)" in printed
    blob = json.loads(out.read_text())
    assert blob["law"] == "chinchilla" and len(blob["starts"]["status"]) == 64
    assert blob["param_names"] == ["log_A", "log_B", "log_E", "alpha", "beta"]
    direct = sj.fit(runs, starts=64)
    assert blob["objective"] == pytest.approx(direct.objective, rel=1e-12)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "not found"),
        ("N,D,loss\n", "no data rows"),
        ("N,D,loss\n1e8,1e9,3.0\n1e9,abc,2.5\n", "non-numeric value 'abc'"),
        ("N,D,loss\n1e8,1e9,3.0\n1e9,-1e10,2.5\n", "D"),
        ("N,toks,loss\n1e8,1e9,3.0\n", "no training-tokens column"),
    ],
)
def test_bad_input_gives_a_clear_error(tmp_path, capsys, content, message):
    path = tmp_path / "runs.csv"
    if content is not None:
        path.write_text(content)
    assert main(["fit", str(path)]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_module_entry_point():
    out = subprocess.run(
        [sys.executable, "-m", "scaling_jax.cli", "--help"], capture_output=True, text=True
    )
    assert out.returncode == 0
    for command in (
        "demo",
        "fit",
        "bootstrap",
        "optimal",
        "isoflop",
        "lifetime",
        "extrapolate",
        "presets",
    ):
        assert command in out.stdout
