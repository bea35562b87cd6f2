"""Throughput of the vectorized lifetime-optimal solver vs a scipy brentq loop.

Solves 1e5 random (loss, inference-token) scenarios for the Sardana et al. 2024 constants in
one jitted call (compile time reported separately), and a scipy ``brentq`` per scenario on a
subset, in the same run; prints scenarios/s, the ratio and the maximal relative disagreement
of the optimal N and D_tr.

Latest results (2 shared CPU cores, float64, JAX 0.10.2):
  scaling_jax: 1e5 scenarios, first call 0.86 s (incl. compile), then 19.5 ms
               -> 5.1e6 scenarios/s (validation of the inputs included)
  scipy brentq loop: 2000 scenarios in 0.094 s -> 2.1e4 scenarios/s
  speed-up ~240x; max relative disagreement of N, D_tr 3.8e-14

Run: ``python benchmarks/lifetime_throughput.py [n_scenarios] [n_scipy]``
"""

from __future__ import annotations

import os

# Single-threaded BLAS/XLA pools: the figures should not depend on oversubscription.
for _var in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
from scipy.optimize import brentq  # noqa: E402

import scaling_jax  # noqa: E402, F401  (enables float64)
from scaling_jax.benchmark import time_call  # noqa: E402
from scaling_jax.presets import SARDANA_2024  # noqa: E402
from scaling_jax.sizing.lifetime import lifetime_optimal  # noqa: E402


def scipy_optimum(params, loss: float, T: float) -> tuple[float, float]:
    """(N, D_tr) from brentq on Sardana et al.'s root equation in log D."""
    A, B, E, a, b = (float(v) for v in params)

    def g(x):
        D = np.exp(x)
        return B * (1 + b / a) * D**-b + b * B * T / (3 * a) * D ** -(b + 1) + E - loss

    x = brentq(g, 0.0, 80.0, xtol=1e-14, rtol=4 * np.finfo(float).eps)
    D = np.exp(x)
    return (A / (loss - E - B * D**-b)) ** (1 / a), D


def main(n: int = 100_000, n_scipy: int = 2000, repeats: int = 5) -> None:
    rng = np.random.default_rng(0)
    P = SARDANA_2024
    loss = float(P.E) + 10 ** rng.uniform(-2.0, 0.5, n)
    T = 10 ** rng.uniform(6.0, 16.0, n)

    opt, first, run = time_call(lambda: lifetime_optimal(P, loss, T), repeats)
    jax_rate = n / run

    idx = rng.choice(n, n_scipy, replace=False)
    t0 = time.perf_counter()
    ref = np.array([scipy_optimum(P, loss[i], T[i]) for i in idx])
    scipy_time = time.perf_counter() - t0
    scipy_rate = n_scipy / scipy_time
    N, D = np.asarray(opt.N)[idx], np.asarray(opt.D_train)[idx]
    err = max(np.max(np.abs(N / ref[:, 0] - 1)), np.max(np.abs(D / ref[:, 1] - 1)))

    print(
        f"scaling_jax: {n} scenarios, first call {first:.3f} s (incl. compile), "
        f"best of {repeats} {run * 1e3:.2f} ms -> {jax_rate:.3g} scenarios/s"
    )
    print(
        f"scipy brentq loop: {n_scipy} scenarios in {scipy_time:.3f} s "
        f"-> {scipy_rate:.3g} scenarios/s"
    )
    print(f"speed-up {jax_rate / scipy_rate:.0f}x; max relative disagreement (N, D_tr) {err:.2e}")


if __name__ == "__main__":
    args = [int(float(a)) for a in sys.argv[1:3]]
    main(*args)
