"""scaling_jax vs the PyPI package `chinchilla` (kyo-takano, v0.2.0) on the same fitting problem.

What it measures: wall-clock time and best objective of a 4500-start fit of the Chinchilla law
L = E + A/N^alpha + B/D^beta, by
  * the competitor `chinchilla.Chinchilla.fit(parallel=True)`: scipy BFGS per start with
    finite-difference gradients, a multiprocessing pool over all cores, 128-bit long double
    (its default DTYPE);
  * `scaling_jax.fit(runs)` (full mode, all 4500 starts to convergence; compiled by a first
    call, the second call is timed) and `scaling_jax.fit(runs, mode="fast")`.

Same problem, as closely as the competitor's API allows: the 240 filtered Epoch AI points when
../shared/data/chinchilla_epoch_extracted.csv exists (else 240 synthetic runs from
`presets.EPOCH_2024`), written to the competitor's project-dir database (df.csv, columns C, N,
D, loss); the Chinchilla paper's grid (alpha, beta in {0, .5, 1, 1.5, 2}, e in {-1, ..., 1},
a, b in {0, 5, ..., 25}) passed as its `param_grid` with the log-scale keys e/a/b (so its
parameterisation is ours: E = exp(e), A = exp(a), B = exp(b)); and a Huber(delta = 1e-3) loss
on log residuals passed as its `loss_fn`. It *averages* the loss over points where we *sum*
(same minimiser); both sides are compared on our summed scale, the competitor's by evaluating
our summed Huber objective (numpy, float64) at its returned parameters.

Differences we cannot remove through its API: it runs BFGS with scipy's defaults (gtol = 1e-5
on the gradient of its *mean* objective in its range-scaled coordinates, 2-point finite
differences), so starts may stop well before our convergence tolerance; it also clips the
log-terms (at log of float32 max), which never binds near the optimum. Its rich progress bar
and end-of-fit matplotlib plot (`visualizer.optim`) are switched off so that only the fit is
timed. The competitor runs in a child process that never imports JAX (its pool forks).

Run:  python benchmarks/vs_chinchilla_package.py [--quick]
  --quick  the competitor fits every 10th start of the grid (450, the same starts as
           fit_throughput.py's --quick); its full-grid time is extrapolated linearly.
Needs `pip install chinchilla`.

Latest measured figures (2026-11-24, 2-core AMD EPYC CPU VM, no other job running; jax
0.10.2 CPU, scipy 1.17.1, numpy 2.4.6, chinchilla 0.2.0; Epoch AI 240 filtered points):
    chinchilla       4500 starts 38.61 s (117 fits/s, Pool of 2, float128); our summed
                     objective at its params 1.018274533769e-03 (+5.1e-07 relative to ours)
    scaling_jax full 2.60 s (1731 fits/s), best 1.018274017801e-03 -> 15x faster
                     (first call incl. compile 13.9 s)
    scaling_jax fast 0.40 s (11390 fits/s), same best -> 98x faster
  An earlier run on a loaded machine (load 2-6) measured 68.67 s / 4.35 s / 0.53 s (16x, 131x).
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import contextlib  # noqa: E402
import itertools  # noqa: E402
import json  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import types  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import reference_runs, timed  # noqa: E402

HERE = Path(__file__).resolve().parent
DELTA = 1e-3
N_GRID = 4500

# The Chinchilla paper's grid, in the competitor's param_grid naming. Its code unpacks the
# values in dict order as (E, a, b, alpha, beta), so this order matters; lowercase e/a/b mean
# "log scale" to it.
PARAM_GRID = {
    "e": [-1.0, -0.5, 0.0, 0.5, 1.0],
    "a": [0.0, 5.0, 10.0, 15.0, 20.0, 25.0],
    "b": [0.0, 5.0, 10.0, 15.0, 20.0, 25.0],
    "alpha": [0.0, 0.5, 1.0, 1.5, 2.0],
    "beta": [0.0, 0.5, 1.0, 1.5, 2.0],
}


def log_huber_loss(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """Per-point Huber(delta=1e-3) of log y_pred - log y_true (the competitor averages it)."""
    r = np.log(y_pred) - np.log(y_true)
    abs_r = np.abs(r)
    return np.where(abs_r <= DELTA, 0.5 * r * r, DELTA * (abs_r - 0.5 * DELTA))


def summed_objective(params: dict[str, float], N, D, loss) -> float:
    """Our objective: summed Huber(1e-3) of log residuals, float64, stable log-sum-exp."""
    terms = np.stack(
        [
            np.full(len(N), np.log(params["E"])),
            np.log(params["A"]) - params["alpha"] * np.log(N),
            np.log(params["B"]) - params["beta"] * np.log(D),
        ]
    )
    m = terms.max(axis=0)
    log_pred = m + np.log(np.exp(terms - m).sum(axis=0))
    r = log_pred - np.log(loss)
    abs_r = np.abs(r)
    return float(np.sum(np.where(abs_r <= DELTA, 0.5 * r * r, DELTA * (abs_r - 0.5 * DELTA))))


def quick_starts() -> list[tuple[float, ...]]:
    """Every 10th start of scaling_jax's grid order (alpha, beta, e, a, b), as (e, a, b, al, be)."""
    full = [
        (e, a, b, al, be)
        for al, be, e, a, b in itertools.product(
            *(PARAM_GRID[k] for k in ("alpha", "beta", "e", "a", "b"))
        )
    ]
    return full[::10]


# --------------------------------------------------------------------------------------------
# Competitor side: runs in a child process that imports numpy/scipy/chinchilla only (no JAX).


def competitor_child(project_dir: str, quick: bool) -> None:
    import logging

    import chinchilla
    import chinchilla.core as cc_core

    cc = chinchilla.Chinchilla(
        project_dir=project_dir,
        param_grid=PARAM_GRID,
        model_search_config=None,
        loss_fn=log_huber_loss,
        log_level=40,  # > 30 hides its progress bar and messages
    )
    logging.getLogger("chinchilla").setLevel(logging.ERROR)
    cc.visualizer.optim = lambda *a, **k: None  # no end-of-fit plot in the timing
    n_points = len(cc.database.df)

    # --quick: hand its fit loop only our 450 starts (it builds its starts as
    # itertools.product over the param_grid values; the autoscale ranges are unchanged).
    patch = contextlib.nullcontext()
    if quick:
        starts = quick_starts()

        @contextlib.contextmanager
        def only_quick_starts():
            saved = cc_core.itertools
            cc_core.itertools = types.SimpleNamespace(product=lambda *v: list(starts))
            try:
                yield
            finally:
                cc_core.itertools = saved

        patch = only_quick_starts()
    n_starts = len(quick_starts()) if quick else N_GRID

    with patch:
        t0 = time.perf_counter()
        cc.fit(parallel=True)
        wall = time.perf_counter() - t0
    print(
        json.dumps(
            {
                "wall_s": wall,
                "n_starts": n_starts,
                "n_points": n_points,
                "cpu_count": os.cpu_count(),
                "dtype": np.dtype(cc_core.DTYPE).name,
                "params": cc.get_params(),
            }
        )
    )


# --------------------------------------------------------------------------------------------
# Parent: data, competitor timing via the child, scaling_jax timing.


def write_competitor_db(project_dir: Path, runs) -> None:
    """The competitor's database: project_dir/df.csv with columns C, N, D, loss."""
    import pandas as pd

    N, D = np.asarray(runs.N, float), np.asarray(runs.D, float)
    C = runs.compute if runs.compute is not None else 6.0 * N * D
    df = pd.DataFrame({"C": np.asarray(C, float), "N": N, "D": D, "loss": runs.loss})
    df.to_csv(project_dir / "df.csv", index=False, float_format="%.17g")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="competitor on 1/10 of the grid")
    parser.add_argument("--_competitor", metavar="DIR", help=argparse.SUPPRESS)
    args = parser.parse_args()

    try:
        import chinchilla  # noqa: F401
    except ImportError:
        sys.exit("the competitor package is not installed: pip install chinchilla")

    if args._competitor:
        competitor_child(args._competitor, args.quick)
        return

    import scaling_jax as sj

    runs, label = reference_runs()
    N, D, loss = np.asarray(runs.N), np.asarray(runs.D), np.asarray(runs.loss)
    n = len(loss)
    print(f"data: {label}; Chinchilla grid, {N_GRID} starts; Huber delta {DELTA:g} on log loss")

    with tempfile.TemporaryDirectory(prefix="vs_chinchilla_") as tmp:
        write_competitor_db(Path(tmp), runs)
        cmd = [sys.executable, str(Path(__file__).resolve()), "--_competitor", tmp]
        cmd += ["--quick"] if args.quick else []
        proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"competitor run failed:\n{proc.stdout}\n{proc.stderr}")
    comp = json.loads(proc.stdout.strip().splitlines()[-1])
    assert comp["n_points"] == n, (comp["n_points"], n)
    c_params = comp["params"]
    c_obj = summed_objective(c_params, N, D, loss)
    c_rate = comp["n_starts"] / comp["wall_s"]
    c_full = N_GRID / c_rate
    print(
        f"chinchilla {comp['n_starts']} starts: {comp['wall_s']:.2f} s, {c_rate:.2f} fits/s "
        f"(Pool of {comp['cpu_count']} processes, {comp['dtype']})"
    )
    if args.quick:
        print(f"    full {N_GRID}-start time extrapolated linearly: ~{c_full:.0f} s")
    print(f"    best params: {', '.join(f'{k}={v:.6g}' for k, v in c_params.items())}")
    print(f"    our summed objective at its params: {c_obj:.12e} (its mean objective x {n} points)")

    for mode in ("full", "fast"):
        first, t_first = timed(sj.fit, runs, mode=mode)
        res, t = timed(sj.fit, runs, mode=mode)
        print(
            f"scaling_jax {mode}: {t:.2f} s for {N_GRID} starts, {N_GRID / t:.0f} fits/s, "
            f"best {res.objective:.12e}  -> {c_full / t:.0f}x the competitor"
            f"{' (extrapolated)' if args.quick else ''} (first call incl. compile {t_first:.1f} s)"
        )
        print(f"    best params: {', '.join(f'{k}={v:.6g}' for k, v in res.params_dict.items())}")
        print(
            f"    competitor's objective / ours - 1: {c_obj / res.objective - 1:+.2e} "
            f"(our objective at our params, numpy check: "
            f"{summed_objective(res.params_dict, N, D, loss):.12e})"
        )


if __name__ == "__main__":
    main()
