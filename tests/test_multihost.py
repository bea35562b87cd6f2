"""Starting several processes: JAX's runtime after importing us, the coordinator address, the
SCALING_JAX_* variables and the launcher's command line. The bootstrap itself across real
processes is tests/test_multiprocess_bootstrap.py."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

import scaling_jax as sj
from scaling_jax.cli._launch import free_port, strip_option
from scaling_jax.fitting import multihost

HERE = Path(__file__).resolve().parent


def _env(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCALING_JAX_")}
    env.update(PYTHONPATH=str(HERE.parent), SCALING_JAX_CACHE=str(tmp_path / "xla"))
    return env


def test_importing_scaling_jax_starts_no_backend():
    """jax.distributed.initialize must come before any JAX work, and users import us first."""
    code = (
        "import scaling_jax, scaling_jax.cli, scaling_jax.cli.bootstrap, scaling_jax.benchmark\n"
        "import jax._src.xla_bridge as xb\n"
        "print(xb.backends_are_initialized())\n"
    )
    env = {**os.environ, "PYTHONPATH": str(HERE.parent)}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


def test_unreachable_coordinator_is_an_error_naming_it(tmp_path):
    runs = sj.synthetic_runs(sj.presets.EPOCH_2024, n_runs=30, seed=0)
    data = tmp_path / "runs.csv"
    data.write_text(
        "N,D,loss\n"
        + "".join(
            f"{float(n)!r},{float(d)!r},{float(x)!r}\n"
            for n, d, x in zip(runs.N, runs.D, runs.loss, strict=True)
        )
    )
    port = free_port()  # nobody listens there
    env = _env(tmp_path)
    env.update(
        SCALING_JAX_COORDINATOR=f"127.0.0.1:{port}",
        SCALING_JAX_NUM_PROCESSES="2",
        SCALING_JAX_PROCESS_ID="1",
    )
    cmd = [sys.executable, "-m", "scaling_jax.cli", "bootstrap", str(data)]
    cmd += ["--out", str(tmp_path / "run"), "--connect-timeout", "2"]
    t0 = time.monotonic()
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env)
    assert out.returncode == 2, out.stderr
    assert f"could not reach the scaling_jax/JAX coordinator at 127.0.0.1:{port}" in out.stderr
    assert time.monotonic() - t0 < 60
    assert not (tmp_path / "run" / "bootstrap.json").exists()  # not a silent single-process run


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"SCALING_JAX_COORDINATOR": "127.0.0.1:1234"},
            "SCALING_JAX_NUM_PROCESSES, SCALING_JAX_PROCESS_ID not set",
        ),
        (
            {
                "SCALING_JAX_COORDINATOR": "h:1",
                "SCALING_JAX_NUM_PROCESSES": "two",
                "SCALING_JAX_PROCESS_ID": "0",
            },
            "SCALING_JAX_NUM_PROCESSES='two'",
        ),
        (
            {
                "SCALING_JAX_COORDINATOR": "nohostport",
                "SCALING_JAX_NUM_PROCESSES": "2",
                "SCALING_JAX_PROCESS_ID": "0",
            },
            "coordinator address 'nohostport'",
        ),
    ],
)
def test_bad_environment_names_the_variable(env, message):
    with pytest.raises(ValueError, match=message):
        multihost.from_env(env)


def test_environment_and_single_process():
    assert multihost.from_env({}) is None
    env = {
        "SCALING_JAX_COORDINATOR": "10.0.0.1:99",
        "SCALING_JAX_NUM_PROCESSES": "4",
        "SCALING_JAX_PROCESS_ID": "3",
    }
    assert multihost.from_env(env) == ("10.0.0.1:99", 4, 3)
    multihost.initialize("127.0.0.1:1", 1, 0)  # one process: nothing to start
    with pytest.raises(ValueError, match="process_id=2, num_processes=2"):
        multihost.initialize("127.0.0.1:1", 2, 2)
    # no runtime in this process: agreement and barrier are no-ops
    multihost.agree("x", {"seed": 0})
    multihost.barrier("x")


def test_launcher_strips_its_own_option():
    argv = ["bootstrap", "d.csv", "--processes", "2", "--out", "o", "--processes=3"]
    assert strip_option(argv, "--processes") == ["bootstrap", "d.csv", "--out", "o"]
