"""Bootstrap uncertainty for scaling-law fits, at scale: resamples x starts in lock step.

Every resample is a vector of integer **count weights** on the *same* data points, so a batch of
(resample, start) lanes shares one copy of the data and only the per-lane weight vector differs
(`solver.solve_starts(..., lane_data=weights)`). This is how Epoch AI's 4000-resample bootstrap
of the 240 Chinchilla points (Besiroglu et al. 2024) runs as one batched solve per chunk.

Resampling schemes (``scheme=``):
  * ``"points"``: n points drawn with replacement (Epoch's bootstrap). Weight = draw count.
  * ``"groups"``: the runs are grouped by model size N; G groups are drawn with replacement and
    every run of a drawn group gets that group's draw count (a cluster bootstrap: runs of one
    model size share errors, e.g. one tokenizer/architecture setting).
  * ``"residual"``: fixed design, model-based: the log-loss residuals of the full-data fit are
    resampled with replacement and added to its fitted log-loss (y* = fit + r[idx]); each lane
    carries its log-loss offset instead of weights.

Start strategies (``starts=``):
  * ``"grid"``: every resample is fitted from the law's full grid (Chinchilla: 4500 starts)
    with L-BFGS to convergence, then the best ``polish_starts`` lanes get a damped-Newton finish
    -- the faithful, expensive reference (chunked; 4000 x 4500 = 18M L-BFGS runs).
  * ``"warm"`` (default): the full-data optimum plus ``n_extra_starts`` grid points whose
    full-data fits reached the best basin (default 0: the warm start alone), a *loose* L-BFGS
    (ftol 1e-6), then exact-Hessian Levenberg-Marquardt steps on every lane until each converges
    (at most ``polish_steps``).
    Warm starts alone with scipy-style stopping collapse the intervals ~1000x (each resample
    "converges" where it starts); the Newton finish is what makes the cheap strategy correct.
    `benchmarks/bootstrap_throughput.py` measures how often it misses the grid's best basin.
  * an int or an (S, k) array: those starts (seeded random ones for an int) for every
    resample, treated like ``"grid"``.

Determinism: resample i's weights come from ``numpy.random.default_rng([seed, i])`` and lanes
never interact, so the results do not depend on chunk size, device count, process count or
resumption (tests check bit-identity).

Memory: `estimate_memory` gives a conservative bytes-per-lane figure; ``memory_budget`` (bytes)
or ``chunk_size`` (resamples per chunk) bound how many lanes are alive at once. With the default
2 GiB budget, 4000 x 4500 on 240 points runs in chunks of ~9 resamples (40k lanes); a 24 GiB
CPU machine or one GPU can use ``memory_budget=16 * 2**30``.

Scale-out:
  * Local devices (GPUs, or CPU devices with ``XLA_FLAGS=--xla_force_host_platform_device_count
    =4``): the resample axis is split over a 1-D `jax.sharding.Mesh` named ``"resample"``; chunk
    c goes to device c mod n_devices, which runs its own lock-step solve on a copy of the data
    committed to it, one host thread per device: every number is bit-identical whatever the
    device count. With ``shard="lanes"`` each chunk's (resample x start) lanes are instead
    sharded over all devices with `NamedSharding` (a 1-D `Mesh`, data replicated), so one big
    chunk fills several GPUs. Pass ``devices=`` to choose them.
  * Several processes or hosts: start every process with ``jax.distributed.initialize(...)``
    (before any JAX work; importing scaling_jax is fine) and call `bootstrap` with the same
    arguments and a shared ``out_dir`` (e.g. NFS). The processes first check, through JAX's
    coordination service, that they all run the same configuration (else the same ValueError
    everywhere). Process p of P takes chunks c with c mod P = p, writes them to ``out_dir``,
    waits at the coordination service's barrier (``SCALING_JAX_SYNC_TIMEOUT`` seconds, default
    24 h) and then every process merges all chunk files. Without a shared filesystem the merge
    finds resamples missing and says so: copy the chunk files together and call
    `load_bootstrap`. If a process dies, JAX stops the others after its heartbeat timeout;
    restart them all with the same command: the finished chunks are kept (a truncated or
    foreign chunk file is solved again, never merged). See `scaling_jax.fitting.multihost`
    and ``scaling-jax bootstrap --processes N``.
    Example (2 hosts x 8 GPUs)::

        jax.distributed.initialize(coordinator_address="host0:1234", num_processes=2,
                                   process_id=int(os.environ["RANK"]))
        res = sj.bootstrap("runs.csv", n_resamples=4000, starts="grid", out_dir="/nfs/boot",
                           memory_budget=60 * 2**30, dtype="float32")

Resume: with ``out_dir``, a ``manifest.json`` records the configuration (data hash, law, seed,
scheme, starts, solver options, dtype) and each finished chunk is written atomically (temporary
file + `os.replace`). Re-running the same call skips the finished resamples; a different
configuration on the same directory raises ValueError. The manifest also holds the resample
count: a call asking for a different count is an error, unless ``extend=True`` grows the run
(resample i does not depend on the total). `load_bootstrap` reads what is there and computes
nothing.

Convergence: every resample's best point is verified (small Newton step, positive-definite
Hessian in fit coordinates); those that fail escalate to more trust-region Newton steps, then
to multi-start from the grid (`_escalate`). `BootstrapResult` counts escalated and unconverged
resamples, and its `diagnostics` say what else may be wrong.
"""

from __future__ import annotations

from ._bootstrap import bootstrap, load_bootstrap
from ._derived import derived_quantities, exponents, predicted_loss, tokens_per_param
from ._escalate import EscalationOptions
from ._intervals import bca_interval, percentile_interval
from ._memory import estimate_memory, plan_chunks
from ._result import BootstrapResult, UnconvergedResamplesWarning
from ._schemes import SCHEMES, resample_weights, residual_offsets

__all__ = [
    "bootstrap",
    "BootstrapResult",
    "load_bootstrap",
    "resample_weights",
    "residual_offsets",
    "estimate_memory",
    "plan_chunks",
    "derived_quantities",
    "exponents",
    "tokens_per_param",
    "predicted_loss",
    "percentile_interval",
    "bca_interval",
    "SCHEMES",
    "EscalationOptions",
    "UnconvergedResamplesWarning",
]
