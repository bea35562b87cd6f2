"""Several real processes on one bootstrap: JAX's distributed runtime on 127.0.0.1.

Each test starts its processes with bounded timeouts and kills whatever is left at the end.
Sizes are tiny (12 resamples in chunks of 2, warm starts, 60 runs); one persistent compilation
cache is shared by every process of the module, so only the first process compiles.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import scaling_jax as sj
from scaling_jax.cli._launch import free_port

HERE = Path(__file__).resolve().parent
WORKER = HERE / "mp_bootstrap_worker.py"
RESAMPLES, CHUNK = 12, 2  # 6 chunks: process 0 takes 0, 2, 4; process 1 takes 1, 3, 5
SIZE = ("--resamples", str(RESAMPLES), "--chunk-size", str(CHUNK))
KEYS = ("indices", "theta", "objective", "grad_norm", "status", "n_basin", "n_eval", "theta_hat")
_started: list[subprocess.Popen] = []


@pytest.fixture(autouse=True)
def _kill_leftovers():
    yield
    while _started:
        p = _started.pop()
        if p.poll() is None:
            p.kill()
            p.wait(30)


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp("multiprocess")
    runs = sj.synthetic_runs(sj.presets.EPOCH_2024, n_runs=60, seed=1)
    data = root / "runs.csv"
    rows = zip(runs.N, runs.D, runs.loss, strict=True)
    lines = ["N,D,loss"] + [f"{float(n)!r},{float(d)!r},{float(x)!r}" for n, d, x in rows]
    data.write_text("\n".join(lines) + "\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SCALING_JAX_", "XLA_FLAGS"))}
    repo = str(HERE.parent)
    env.update(
        SCALING_JAX_CACHE=str(root / "xla"),
        PYTHONPATH=os.pathsep.join([repo, env.get("PYTHONPATH", "")]).rstrip(os.pathsep),
        OPENBLAS_NUM_THREADS="1",
        PYTHONUNBUFFERED="1",
    )
    return root, data, env


@pytest.fixture(scope="module")
def reference(setup):
    """The same bootstrap in one plain process (no distributed runtime)."""
    root, data, env = setup
    out = root / "single"
    proc = _spawn(setup, [str(data), str(out / "chunks"), str(out / "result.npz")], out)
    assert _wait([proc], 600) == [0], _logs(out)
    return _load(out / "result.npz")


def _spawn(setup, args, log_dir, *, process=None, extra=()):
    """Start the worker (or ``python -m scaling_jax.cli`` when args[0] == 'cli')."""
    _, _, env = setup
    env = dict(env)
    tag = "single"
    if process is not None:
        port, pid, count = process
        env.update(
            SCALING_JAX_COORDINATOR=f"127.0.0.1:{port}",
            SCALING_JAX_NUM_PROCESSES=str(count),
            SCALING_JAX_PROCESS_ID=str(pid),
        )
        tag = f"p{pid}"
    log_dir.mkdir(parents=True, exist_ok=True)
    cmd = (
        [sys.executable, "-m", "scaling_jax.cli", *args[1:]]
        if args[0] == "cli"
        else [sys.executable, str(WORKER), *args, *SIZE, *extra]
    )
    with open(log_dir / f"{tag}.out", "ab") as out, open(log_dir / f"{tag}.err", "ab") as err:
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, env=env, cwd=log_dir)
    _started.append(proc)
    return proc


def _wait(procs, timeout_s):
    """Exit codes of `procs`; fails (after killing them) when they run past `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    for p in procs:
        try:
            p.wait(max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            for q in procs:
                q.kill()
            pytest.fail(f"processes still running after {timeout_s} s")
    return [p.returncode for p in procs]


def _logs(log_dir):
    return "\n".join(f"--- {f.name}\n{f.read_text()[-3000:]}" for f in sorted(log_dir.glob("*.*")))


def _load(path):
    with np.load(path) as z:
        return {k: z[k] for k in z.files}


def _two_processes(setup, out, extra=(None, None), seeds=(0, 0)):
    _, data, _ = setup
    port = free_port()
    return [
        _spawn(
            setup,
            [str(data), str(out / "chunks"), str(out / f"result{p}.npz"), "--seed", str(seeds[p])],
            out,
            process=(port, p, 2),
            extra=extra[p] or (),
        )
        for p in range(2)
    ]


def _assert_same(got, want):
    for k in KEYS:
        np.testing.assert_array_equal(got[k], want[k], err_msg=k)  # bit-identical


def test_two_processes_merge_to_the_single_process_result(setup, reference):
    root, _, _ = setup
    out = root / "two"
    procs = _two_processes(setup, out)
    assert _wait(procs, 600) == [0, 0], _logs(out)
    results = [_load(out / f"result{p}.npz") for p in range(2)]
    for p, res in enumerate(results):
        assert list(res["process"]) == [p, 2]
        _assert_same(res, reference)
    assert len(reference["indices"]) == RESAMPLES
    chunks = sorted(f.name for f in (out / "chunks").glob("chunk_*.npz"))
    assert chunks == [f"chunk_{c:08d}_{CHUNK}.npz" for c in range(RESAMPLES // CHUNK)]


def test_killed_worker_then_restart_gives_the_same_result(setup, reference):
    root, _, _ = setup
    out = root / "killed"
    chunks = out / "chunks"
    # Process 1 pauses after each chunk it writes: kill it after its first one.
    slow = ("--heartbeat", "10", "--pause-after-chunk", "120")
    procs = _two_processes(setup, out, extra=(("--heartbeat", "10"), slow))
    deadline = time.monotonic() + 600
    while not (chunks / f"chunk_{1:08d}_{CHUNK}.npz").exists():
        assert time.monotonic() < deadline, _logs(out)
        assert procs[1].poll() is None, _logs(out)
        time.sleep(0.2)
    procs[1].send_signal(signal.SIGKILL)
    # Process 0 finishes its chunks, then JAX's heartbeat check stops it: no hang.
    codes = _wait(procs, 240)
    assert codes[1] == -signal.SIGKILL and codes[0] != 0, _logs(out)
    assert not (out / "result0.npz").exists()
    missing = [c for c in (3, 5) if not (chunks / f"chunk_{c:08d}_{CHUNK}.npz").exists()]
    assert missing == [3, 5]
    # What a dying writer or a careless copy leaves behind: a truncated chunk, another chunk's
    # file under the wrong name, and an atomic write's temporary file.
    good = (chunks / f"chunk_{0:08d}_{CHUNK}.npz").read_bytes()
    (chunks / f"chunk_{3:08d}_{CHUNK}.npz").write_bytes(good[: len(good) // 2])
    (chunks / f"chunk_{5:08d}_{CHUNK}.npz").write_bytes(good)
    (chunks / f".chunk_{5:08d}_{CHUNK}.npz.x1y2.tmp").write_bytes(good[:100])

    procs = _two_processes(setup, out)  # the same command again
    assert _wait(procs, 600) == [0, 0], _logs(out)
    for p in range(2):
        _assert_same(_load(out / f"result{p}.npz"), reference)
    for c in (3, 5):  # recomputed and replaced, never merged as they were
        with np.load(chunks / f"chunk_{c:08d}_{CHUNK}.npz") as z:
            assert list(z["indices"]) == [c * CHUNK, c * CHUNK + 1]


def test_mismatched_configuration_is_an_error_on_every_process(setup):
    root, _, _ = setup
    out = root / "mismatch"
    procs = _two_processes(setup, out, seeds=(0, 1))
    codes = _wait(procs, 600)
    assert codes[0] != 0 and codes[1] != 0, _logs(out)
    for p in range(2):
        err = (out / f"p{p}.err").read_text()
        assert "different configurations" in err and "seed: process 0 has 0, process 1 has 1" in (
            err
        ), _logs(out)
    assert not list((out / "chunks").glob("chunk_*.npz"))


def test_processes_option_launches_a_multi_process_run(setup, reference):
    root, data, _ = setup
    out = root / "launcher"
    args = ["cli", "bootstrap", str(data), "--out", str(out / "run"), "--no-progress"]
    args += ["--resamples", str(RESAMPLES), "--chunk-size", str(CHUNK), "--processes", "2"]
    proc = _spawn(setup, args, out)
    assert _wait([proc], 600) == [0], _logs(out)
    text = (out / "single.out").read_text()
    assert "process 1 of 2: done" in text and "wrote" in text
    res = sj.BootstrapResult.from_json(out / "run" / "bootstrap.json")
    np.testing.assert_array_equal(res.theta, reference["theta"])
    np.testing.assert_array_equal(res.indices, reference["indices"])
