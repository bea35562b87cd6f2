"""Several processes on one bootstrap: start-up, agreement on the configuration, the barrier.

A multi-process (multi-host) bootstrap runs the same `bootstrap(..., out_dir=SHARED)` call in P
processes after ``jax.distributed.initialize``. Process p solves the chunks c with c mod P = p
and writes them to the shared folder; then every process waits at a barrier and merges all
chunk files. This module holds the pieces around that:

* `initialize`: ``jax.distributed.initialize`` with a reachability check first, so an address
  nobody listens on is an error naming it within `timeout_s` (JAX itself aborts the process
  without naming the address);
* `from_env`: the ``SCALING_JAX_COORDINATOR`` / ``SCALING_JAX_NUM_PROCESSES`` /
  ``SCALING_JAX_PROCESS_ID`` variables the command line reads (srun/torchrun style);
* `agree`: every process publishes its configuration in the coordination service's key-value
  store and reads everyone else's: a mismatch (different seed or data, say) is the same clear
  error on every process instead of a hang at the barrier;
* `barrier`: the coordination service's barrier with a timeout (no device collectives).

When a process dies, JAX's coordination service stops the others once the heartbeat timeout
(`initialize`'s ``heartbeat_s``) expires. Restart every process with the same command: chunks
already on disk are kept, the rest are solved again, and the merged result is the same.

JAX is imported inside the functions that use it: the command line reads the ``ENV_*`` names
to build its parser, and ``scaling-jax --help`` should not pay for importing JAX.
"""

from __future__ import annotations

import itertools
import json
import os
import socket
import time
from collections.abc import Mapping
from typing import Any

__all__ = [
    "ENV_COORDINATOR",
    "ENV_NUM_PROCESSES",
    "ENV_PROCESS_ID",
    "ENV_SYNC_TIMEOUT",
    "initialize",
    "from_env",
    "initialize_from_env",
    "is_distributed",
    "next_run_name",
    "agree",
    "barrier",
    "sync_timeout",
]

ENV_COORDINATOR = "SCALING_JAX_COORDINATOR"
ENV_NUM_PROCESSES = "SCALING_JAX_NUM_PROCESSES"
ENV_PROCESS_ID = "SCALING_JAX_PROCESS_ID"
ENV_SYNC_TIMEOUT = "SCALING_JAX_SYNC_TIMEOUT"

_DEFAULT_SYNC_TIMEOUT_S = 24 * 3600.0
_runs = itertools.count()


def _split_address(address: str) -> tuple[str, int]:
    host, sep, port = str(address).rpartition(":")
    try:
        port_num = int(port)
    except ValueError:
        port_num = -1
    if not sep or not host or not 0 < port_num < 65536:
        raise ValueError(f"coordinator address {address!r}: expected host:port, e.g. 10.0.0.1:1234")
    return host.strip("[]"), port_num


def _wait_reachable(host: str, port: int, address: str, timeout_s: float) -> None:
    """Poll a TCP connection to the coordinator until it accepts or `timeout_s` passes."""
    deadline = time.monotonic() + timeout_s
    last: OSError | None = None
    while True:
        try:
            with socket.create_connection((host, port), timeout=min(2.0, max(timeout_s, 0.1))):
                return
        except OSError as err:
            last = err
        if time.monotonic() >= deadline:
            raise RuntimeError(
                f"could not reach the scaling_jax/JAX coordinator at {address} within "
                f"{timeout_s:g} s ({last}); is process 0 running and listening there?"
            )
        time.sleep(0.2)


def _check_bindable(host: str, port: int, address: str) -> None:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as err:
            raise RuntimeError(
                f"process 0 cannot serve as the coordinator at {address}: {err} (the address "
                "must be this machine's, and the port free)"
            ) from None


def initialize(
    coordinator: str,
    num_processes: int,
    process_id: int,
    *,
    timeout_s: float = 300.0,
    heartbeat_s: int = 100,
) -> None:
    """Start JAX's distributed runtime in this process (one call per process, before any JAX work).

    Args:
      coordinator: ``host:port`` of process 0 (which serves the coordination service there).
      num_processes, process_id: P and this process's index p in [0, P).
      timeout_s: how long to wait for the coordinator (workers) and for every process to
        connect; a worker that cannot reach the coordinator raises ``RuntimeError`` naming it.
      heartbeat_s: a process silent for this long counts as dead: the others stop.

    With one process this does nothing: a single-process run needs no runtime.
    """
    import jax  # noqa: PLC0415 -- see the module docstring

    host, port = _split_address(coordinator)
    for name, value in (("num_processes", num_processes), ("process_id", process_id)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{name} must be an integer, got {value!r}")
    if num_processes < 1 or not 0 <= process_id < num_processes:
        raise ValueError(
            f"process_id={process_id}, num_processes={num_processes}: need 0 <= id < processes"
        )
    if num_processes == 1:
        return
    if process_id == 0:
        _check_bindable(host, port, coordinator)
    else:
        _wait_reachable(host, port, coordinator, timeout_s)
    jax.distributed.initialize(
        coordinator_address=coordinator,
        num_processes=num_processes,
        process_id=process_id,
        initialization_timeout=max(int(timeout_s), 1),
        heartbeat_timeout_seconds=max(int(heartbeat_s), 1),
    )


def from_env(environ: Mapping[str, str] | None = None) -> tuple[str, int, int] | None:
    """``(coordinator, num_processes, process_id)`` from the ``SCALING_JAX_*`` variables.

    None when none of them is set; a partial or malformed set raises ``ValueError`` naming the
    variable.
    """
    env = os.environ if environ is None else environ
    names = (ENV_COORDINATOR, ENV_NUM_PROCESSES, ENV_PROCESS_ID)
    values = [env.get(n) for n in names]
    if all(v is None for v in values):
        return None
    missing = [n for n, v in zip(names, values, strict=True) if v in (None, "")]
    if missing:
        raise ValueError(f"{', '.join(missing)} not set (set all of {', '.join(names)})")
    coordinator, n_text, id_text = values
    parsed = []
    for name, text in ((ENV_NUM_PROCESSES, n_text), (ENV_PROCESS_ID, id_text)):
        try:
            parsed.append(int(str(text)))
        except ValueError:
            raise ValueError(f"{name}={text!r}: expected an integer") from None
    _split_address(str(coordinator))
    return str(coordinator), parsed[0], parsed[1]


def initialize_from_env(timeout_s: float = 300.0, heartbeat_s: int = 100) -> tuple[int, int]:
    """`initialize` from the ``SCALING_JAX_*`` variables when set; returns (process_id, count)."""
    spec = from_env()
    if spec is None:
        return 0, 1
    initialize(*spec, timeout_s=timeout_s, heartbeat_s=heartbeat_s)
    return spec[2], spec[1]


def _client() -> Any:
    from jax._src import distributed  # noqa: PLC0415 - JAX's coordination client lives here

    return distributed.global_state.client


def is_distributed() -> bool:
    """True when JAX's distributed runtime runs with more than one process."""
    import jax  # noqa: PLC0415 -- see the module docstring

    return jax.process_count() > 1 and _client() is not None


def sync_timeout() -> float:
    """Seconds `agree` and `barrier` wait for the other processes (``SCALING_JAX_SYNC_TIMEOUT``,
    default 24 h: the barrier waits for the slowest process to solve its chunks)."""
    text = os.environ.get(ENV_SYNC_TIMEOUT)
    if text is None:
        return _DEFAULT_SYNC_TIMEOUT_S
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value > 0:
        raise ValueError(f"{ENV_SYNC_TIMEOUT}={text!r}: expected a positive number of seconds")
    return value


def next_run_name(kind: str) -> str:
    """A name shared by the processes for this process's next `kind` call (every process makes
    the same calls in the same order, so the k-th call has the same name everywhere)."""
    return f"scaling_jax/{kind}/{next(_runs)}"


def agree(name: str, payload: Mapping[str, Any], timeout_s: float | None = None) -> None:
    """Check that every process holds the same `payload` (a JSON-able configuration).

    Each process publishes its payload under `name` and reads every other's; differences raise
    the same ``ValueError`` on every process, naming the fields and the processes. A process
    that does not publish within `timeout_s` raises ``RuntimeError``.
    """
    import jax  # noqa: PLC0415 -- see the module docstring

    client = _client()
    if client is None or jax.process_count() == 1:
        return
    timeout_s = sync_timeout() if timeout_s is None else timeout_s
    me, count = jax.process_index(), jax.process_count()
    text = json.dumps(payload, sort_keys=True, default=str)
    client.key_value_set(f"{name}/config/{me}", text, allow_overwrite=True)
    blobs = []
    for p in range(count):
        try:
            got = text if p == me else client.blocking_key_value_get(
                f"{name}/config/{p}", int(timeout_s * 1000)
            )
        except Exception as err:  # noqa: BLE001 - the runtime raises its own error types
            raise RuntimeError(
                f"process {p} did not publish its configuration for {name} within "
                f"{timeout_s:g} s: {err}"
            ) from None
        blobs.append(json.loads(got))
    ref = blobs[0]
    lines = []
    for p, blob in enumerate(blobs[1:], start=1):
        keys = sorted(k for k in set(ref) | set(blob) if ref.get(k) != blob.get(k))
        for k in keys[:6]:
            lines.append(f"{k}: process 0 has {ref.get(k)!r}, process {p} has {blob.get(k)!r}")
    if lines:
        raise ValueError(
            f"the {count} processes run different configurations ({'; '.join(lines)}); every "
            "process must run the same call on the same data"
        )


def barrier(name: str, timeout_s: float | None = None) -> None:
    """Wait until every process reaches `name` (the coordination service's barrier; no device
    collectives). ``RuntimeError`` after `timeout_s`."""
    import jax  # noqa: PLC0415 -- see the module docstring

    client = _client()
    if client is None or jax.process_count() == 1:
        return
    timeout_s = sync_timeout() if timeout_s is None else timeout_s
    try:
        client.wait_at_barrier(f"{name}/barrier", int(timeout_s * 1000))
    except Exception as err:  # noqa: BLE001 - the runtime raises its own error types
        raise RuntimeError(
            f"not every process reached the end of {name} within {timeout_s:g} s: {err}"
        ) from None
