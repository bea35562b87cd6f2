"""Run one ``scaling-jax`` command as N cooperating processes on this machine.

``scaling-jax bootstrap ... --processes N`` starts N copies of the same command (without
``--processes``) with ``SCALING_JAX_COORDINATOR=127.0.0.1:<free port>``,
``SCALING_JAX_NUM_PROCESSES=N`` and ``SCALING_JAX_PROCESS_ID=i``: the variables a cluster
launcher (srun, torchrun, ...) would set on several hosts. If one process fails, the others
are stopped and its exit code is returned.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence

from scaling_jax.fitting.multihost import ENV_COORDINATOR, ENV_NUM_PROCESSES, ENV_PROCESS_ID

__all__ = ["free_port", "strip_option", "launch"]


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on at `host` now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def strip_option(argv: Sequence[str], option: str) -> list[str]:
    """`argv` without ``option VALUE`` / ``option=VALUE``."""
    out: list[str] = []
    skip = False
    for arg in argv:
        if skip:
            skip = False
        elif arg == option:
            skip = True
        elif not arg.startswith(option + "="):
            out.append(arg)
    return out


def _stop(procs: list[subprocess.Popen], grace_s: float = 10.0) -> None:
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    for p in procs:
        try:
            p.wait(max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def launch(argv: Sequence[str], n_processes: int, host: str = "127.0.0.1") -> int:
    """Run ``python -m scaling_jax.cli *argv`` as `n_processes` processes; 0 when all succeed.

    Process 0 serves JAX's coordinator on ``host:<free port>``. The first process to fail stops
    the others (SIGTERM, then SIGKILL after 10 s) and its exit code is returned.
    """
    port = free_port(host)
    procs: list[subprocess.Popen] = []
    try:
        for i in range(n_processes):
            env = {
                **os.environ,
                ENV_COORDINATOR: f"{host}:{port}",
                ENV_NUM_PROCESSES: str(n_processes),
                ENV_PROCESS_ID: str(i),
            }
            cmd = [sys.executable, "-m", "scaling_jax.cli", *argv]
            procs.append(subprocess.Popen(cmd, env=env))
        while True:
            codes = [p.poll() for p in procs]
            failed = [(i, c) for i, c in enumerate(codes) if c not in (None, 0)]
            if failed:
                i, code = failed[0]
                print(
                    f"scaling-jax: process {i} of {n_processes} exited with code {code}; "
                    "stopping the others",
                    file=sys.stderr,
                )
                _stop(procs)
                return int(code) if code > 0 else 1
            if all(c == 0 for c in codes):
                return 0
            time.sleep(0.1)
    finally:
        _stop(procs)
