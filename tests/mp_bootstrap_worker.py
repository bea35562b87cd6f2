"""One process of a multi-process bootstrap, as a user would write it (run by
tests/test_multiprocess.py, never collected by pytest).

    python mp_bootstrap_worker.py DATA.csv OUT_DIR RESULT.npz [--seed S] [--resamples R]
        [--chunk-size C] [--heartbeat S] [--pause-after-chunk S]

With SCALING_JAX_COORDINATOR / _NUM_PROCESSES / _PROCESS_ID set, the process first calls
``jax.distributed.initialize(coordinator_address=..., num_processes=..., process_id=...)``;
without them it is a plain single-process run. ``--pause-after-chunk`` sleeps after each chunk
file this process writes (so a test can kill it mid-run). The merged result's arrays go to
RESULT.npz.
"""

from __future__ import annotations

import argparse
import os
import time

import jax
import numpy as np

import scaling_jax as sj


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("data")
    ap.add_argument("out_dir")
    ap.add_argument("result")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--resamples", type=int, default=8)
    ap.add_argument("--chunk-size", type=int, default=2)
    ap.add_argument("--heartbeat", type=int, default=100)
    ap.add_argument("--pause-after-chunk", type=float, default=0.0)
    args = ap.parse_args()

    jax.config.update("jax_compilation_cache_dir", os.environ["SCALING_JAX_CACHE"])
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    if "SCALING_JAX_COORDINATOR" in os.environ:
        jax.distributed.initialize(
            coordinator_address=os.environ["SCALING_JAX_COORDINATOR"],
            num_processes=int(os.environ["SCALING_JAX_NUM_PROCESSES"]),
            process_id=int(os.environ["SCALING_JAX_PROCESS_ID"]),
            initialization_timeout=60,
            heartbeat_timeout_seconds=args.heartbeat,
        )
    if args.pause_after_chunk > 0:
        # Atomic writes end with os.replace(tmp, final): pause once a chunk file is in place.
        real_replace = os.replace

        def replace_then_pause(src, dst, *a, **k):
            real_replace(src, dst, *a, **k)
            if os.path.basename(str(dst)).startswith("chunk_"):
                print(f"wrote {dst}", flush=True)
                time.sleep(args.pause_after_chunk)

        os.replace = replace_then_pause

    runs = sj.load_runs(args.data)
    res = sj.bootstrap(
        runs,
        n_resamples=args.resamples,
        seed=args.seed,
        out_dir=args.out_dir,
        chunk_size=args.chunk_size,
        progress=False,
    )
    np.savez(
        args.result,
        indices=res.indices,
        theta=res.theta,
        objective=res.objective,
        grad_norm=res.grad_norm,
        status=res.status,
        n_basin=res.n_basin,
        n_eval=res.n_eval,
        theta_hat=res.theta_hat,
        process=np.array([jax.process_index(), jax.process_count()]),
    )
    print(f"process {jax.process_index()} of {jax.process_count()}: done", flush=True)


if __name__ == "__main__":
    main()
