"""scaling_jax vs the PyPI package `simple-scaling-laws` (v0.2.0) on the Chinchilla law.

What it measures, in one run, on the same 240 points (the filtered Epoch AI points when
../shared/data/chinchilla_epoch_extracted.csv exists, else 240 synthetic runs from
`presets.EPOCH_2024`):
  1. a point fit of L = E + A/N^alpha + B/D^beta: the competitor's ``fit(frame, law=
     "separable-power", n_draws=1)`` (its default method) vs ``scaling_jax.fit(runs)`` (full
     mode, all 4500 grid starts to convergence) and ``scaling_jax.fit(runs, mode="fast")``;
  2. 1000 bootstrap resamples with 95% intervals on N*, D* and L* at a budget of 5.76e23 FLOPs
     (C = 6 N D on both sides): the competitor's ``fit(frame, n_draws=1000)`` followed by
     ``model.optimal_allocation([C], cost_model("power", k=6, a=1, b=1))`` vs
     ``scaling_jax.bootstrap(runs, n_resamples=1000)`` with ``interval(0.95)`` and
     ``derived_intervals(budgets=[C])``.
For each: wall time and ratio, the fitted constants, each fit's RMSE on the raw loss, and our
summed Huber(delta = 1e-3) objective on log loss evaluated at BOTH parameter sets.

The two packages do NOT solve the same problem, so the timings compare two tools, not two
solvers of one objective:
  * simple-scaling-laws minimises weighted least squares on the *raw* loss (here every point
    is its own configuration with one run, so its weights are uniform: plain least squares),
    by variable projection (E, A, B solved by bounded linear least squares; alpha, beta
    polished by scipy ``least_squares`` from the best few of a small exponent grid), with
    predictors normalised by their geometric mean and exponents boxed to [0, 3];
  * scaling_jax minimises the summed Huber(1e-3) loss of *log* residuals (Hoffmann et al.'s
    objective) by L-BFGS from all 4500 points of the Chinchilla grid (fast mode: successive
    halving over the same grid), then a Newton finish.
Their bootstraps differ too: the competitor's is a wild cluster bootstrap (Webb weights on
residuals, design fixed) and it reads N*, D*, L* off each draw by a grid search along the
iso-cost curve; ours resamples points with replacement (scheme="points"), refits each
resample warm-started from the full-data optimum and takes the closed-form optimum.
The competitor runs in a child Python >= 3.12 process (its requirement) with one BLAS thread;
its timings are taken inside that process with perf_counter (interpreter start-up and imports
excluded), each after an untimed warm-up fit. scaling_jax runs in this process (XLA may use
every core); its first calls compile and are reported separately, the second calls are timed
(the second bootstrap with another seed).

Run:  python benchmarks/vs_simple_scaling_laws.py [--competitor-python PATH]
          [--resamples 1000] [--budget 5.76e23]
The competitor interpreter is --competitor-python, else $SSL_PYTHON, else
/work/venv312/bin/python if it exists. To set one up:
    pyenv install 3.12 && ~/.pyenv/versions/3.12.*/bin/python -m venv /path/venv312
    /path/venv312/bin/pip install simple-scaling-laws
(any Python >= 3.12 venv will do).

Latest measured figures (2026-11-24, 2-core CPU VM, quiet: load average 0.3-0.9; jax 0.10.2 /
numpy 2.4.6 here, simple-scaling-laws 0.2.0 on Python 3.12.1 with scipy 1.18.1 / numpy 2.5.5;
Epoch AI 240 filtered points; one run):
  point fit  simple-scaling-laws 0.020 s (3 polished starts, 20 evaluations, least squares)
             scaling_jax full    2.93 s (4500 starts to convergence; compile 13.5 s once)
             scaling_jax fast    0.40 s (successive halving, same best objective as full)
  constants (A, B, E, alpha, beta)
             simple-scaling-laws 567.81, 7581.9, 1.8828, 0.35762, 0.42762
             scaling_jax         477.83, 2143.4, 1.8172, 0.34731, 0.36717
  RMSE on raw loss:              theirs 0.018619, ours 0.021815
  our summed Huber(1e-3) on log: at theirs 1.10855e-03, at ours 1.01827e-03
  bootstrap, 1000 resamples (including the point fit and the N*/D*/L* read-out)
             simple-scaling-laws 0.904 s (wild cluster draws 0.892 s + allocation 0.012 s)
             scaling_jax         0.691 s (full-data 4500-start fit 0.39 s + 1000 resample
                                 fits 0.30 s; compile 5.4 s once; 1000/1000 converged)
                                 -> 1.3x faster overall, 3x on the resampling itself
  N* at 5.76e23 FLOPs, median [95%]: theirs 9.63e10 [6.94e10, 1.32e11],
                                     ours 7.44e10 [5.30e10, 1.10e11]
  (Point-fit times above are from the previous run; this run: full 2.59 s, fast 0.38 s.)
  Earlier runs, before the Newton finish was compacted: 0.95 s vs 1.04 s (quiet machine) and
  0.886 s vs 1.675 s (loaded machine).
"""

from __future__ import annotations

import os

_THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
for _var in _THREAD_VARS:
    os.environ[_var] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

import scaling_jax as sj  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import reference_runs, timed  # noqa: E402

HERE = Path(__file__).resolve().parent
DEFAULT_SSL_PYTHON = Path("/work/venv312/bin/python")
DELTA = 1e-3
NAMES = ("A", "B", "E", "alpha", "beta")

SETUP_HELP = """\
simple-scaling-laws needs Python >= 3.12. Set up an interpreter for it, e.g.
    pyenv install 3.12 && ~/.pyenv/versions/3.12.*/bin/python -m venv ~/venv312
    ~/venv312/bin/pip install simple-scaling-laws
(any Python >= 3.12 virtual environment will do), then pass it with
    --competitor-python ~/venv312/bin/python   or   export SSL_PYTHON=~/venv312/bin/python"""

# Runs in the competitor's interpreter: argv = csv path, budget, n_draws. Prints one JSON object.
DRIVER = r"""
import json
import sys
import time
import warnings

import numpy as np
import polars as pl

import simple_scaling_laws as ssl
from simple_scaling_laws.cost import cost_model

path, budget, n_draws = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
TARGET = "test_loss__loss"
frame = pl.read_csv(path)


def reference(model):
    domain = model.observed_domain
    return np.array([domain[name]["reference"] for name in model.law.predictors])


def raw(model, params):
    return {k: float(v) for k, v in model.law.raw_scale_params(params, reference(model)).items()}


def timed(fn):
    t = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - t


out = {"version": ssl.__version__, "python": sys.version.split()[0]}
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    point = lambda: ssl.fit(frame, law="separable-power", n_draws=1, seed=0)
    _, first_s = timed(point)
    model, fit_s = timed(point)
    target_fit = model.fits[TARGET]
    out["fit"] = {
        "first_s": first_s,
        "time_s": fit_s,
        "params": raw(model, target_fit.params),
        "optimizer": target_fit.optimizer,
        "goodness_of_fit": target_fit.goodness_of_fit,
        "notes": sorted({note.code for note in model.warnings}),
    }
    boot, boot_s = timed(lambda: ssl.fit(frame, law="separable-power", n_draws=n_draws, seed=0))
    cost = cost_model("power", k=6.0, a=1.0, b=1.0)
    alloc, alloc_s = timed(lambda: boot.optimal_allocation([budget], cost))
    draws = boot.draws[TARGET]
    raw_draws = [raw(boot, row) for row in draws.params]
    params_ci = {
        name: [float(np.quantile([d[name] for d in raw_draws], q)) for q in (0.025, 0.975)]
        for name in raw_draws[0]
    }
    out["bootstrap"] = {
        "n_draws": int(draws.n_draws),
        "fit_with_draws_s": boot_s,
        "allocation_s": alloc_s,
        "method": draws.method,
        "n_failed": int(draws.n_failed),
        "params_ci": params_ci,
        "allocation": alloc.to_dicts()[0],
    }
out["warnings"] = sorted({str(w.message).split("]")[0].lstrip("[") for w in caught})
json.dump(out, sys.stdout)
"""


def competitor_python(arg: str | None) -> str:
    candidate = arg or os.environ.get("SSL_PYTHON")
    if not candidate and DEFAULT_SSL_PYTHON.exists():
        candidate = str(DEFAULT_SSL_PYTHON)
    if not candidate:
        sys.exit(f"No interpreter for simple-scaling-laws found.\n{SETUP_HELP}")
    check = "import sys, simple_scaling_laws; assert sys.version_info >= (3, 12), sys.version"
    try:
        probe = subprocess.run([candidate, "-c", check], capture_output=True, text=True)
        problem = probe.stderr.strip()[-800:] if probe.returncode else ""
    except OSError as error:
        problem = str(error)
    if problem:
        sys.exit(f"{candidate} cannot run simple-scaling-laws:\n{problem}\n{SETUP_HELP}")
    return candidate


def run_competitor(python: str, runs: sj.Runs, budget: float, n_draws: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="vs_ssl_") as tmp:
        csv, driver = Path(tmp) / "runs.csv", Path(tmp) / "driver.py"
        table = np.column_stack([np.arange(len(runs)), runs.N, runs.D, runs.loss])
        header = "training_run_id,model_size__n_params,dataset_size__n_tokens,test_loss__loss"
        np.savetxt(csv, table, delimiter=",", header=header, comments="", fmt="%.17g")
        driver.write_text(DRIVER)
        env = {**os.environ, **dict.fromkeys(_THREAD_VARS, "1")}
        env.pop("PYTHONPATH", None)
        proc = subprocess.run(
            [python, str(driver), str(csv), repr(budget), str(n_draws)],
            capture_output=True,
            text=True,
            env=env,
        )
    if proc.returncode != 0:
        sys.exit(f"competitor driver failed (rc {proc.returncode}):\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout)


def predict(p: dict, runs: sj.Runs) -> np.ndarray:
    return p["E"] + p["A"] * runs.N ** -p["alpha"] + p["B"] * runs.D ** -p["beta"]


def huber_log_objective(p: dict, runs: sj.Runs) -> float:
    r = np.log(predict(p, runs)) - np.log(runs.loss)
    a = np.abs(r)
    return float(np.sum(np.where(a <= DELTA, 0.5 * r * r, DELTA * (a - 0.5 * DELTA))))


def rmse(p: dict, runs: sj.Runs) -> float:
    return float(np.sqrt(np.mean((predict(p, runs) - runs.loss) ** 2)))


def optimum(p: dict, budget: float) -> tuple[float, float, float]:
    """Closed-form compute-optimal (N*, D*, L*) under C = 6 N D."""
    opt = sj.compute_optimal(sj.ChinchillaParams(*(p[k] for k in NAMES)), budget)
    return float(opt.N), float(opt.D), float(opt.loss)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--competitor-python", default=None)
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument("--budget", type=float, default=5.76e23)
    args = parser.parse_args()
    python = competitor_python(args.competitor_python)
    runs, source = reference_runs()
    budget, R = args.budget, args.resamples
    print(f"data: {source}; budget C = {budget:.3g} FLOPs; {R} resamples")

    # The competitor first, so that it does not share the cores with XLA compilation.
    ssl_out, ssl_wall = timed(lambda: run_competitor(python, runs, budget, R))
    print(
        f"simple-scaling-laws {ssl_out['version']} (Python {ssl_out['python']}); "
        f"subprocess wall incl. start-up {ssl_wall:.1f} s"
    )

    _, full_first = timed(lambda: sj.fit(runs))
    full, full_s = timed(lambda: sj.fit(runs))
    _, fast_first = timed(lambda: sj.fit(runs, mode="fast"))
    fast, fast_s = timed(lambda: sj.fit(runs, mode="fast"))
    _, boot_first = timed(lambda: sj.bootstrap(runs, n_resamples=R, seed=0, progress=False))
    boot, boot_s = timed(lambda: sj.bootstrap(runs, n_resamples=R, seed=1, progress=False))
    params_ci = boot.interval(0.95)
    derived = boot.derived_intervals(budgets=[budget])
    per = boot.derived(budgets=[budget])
    bp = boot.params
    n_opt, d_opt = per["N_opt"][:, 0], per["D_opt"][:, 0]
    l_opt = bp.E + bp.A * n_opt**-bp.alpha + bp.B * d_opt**-bp.beta
    l_ci = np.percentile(l_opt, [2.5, 97.5])

    ours = full.params_dict
    fit_ssl = ssl_out["fit"]
    theirs = fit_ssl["params"]
    ssl_boot = ssl_out["bootstrap"]
    ssl_boot_s = ssl_boot["fit_with_draws_s"] + ssl_boot["allocation_s"]

    print("\n== Point fit (wall seconds; compiled / warmed-up second call) ==")
    print(
        f"  simple-scaling-laws fit:   {fit_ssl['time_s']:8.3f} s  (first call "
        f"{fit_ssl['first_s']:.3f} s; {fit_ssl['optimizer']['n_starts']} polished starts, "
        f"{fit_ssl['optimizer']['n_function_evaluations']} evaluations)"
    )
    print(
        f"  scaling_jax full (4500):   {full_s:8.3f} s  (first call incl. compile "
        f"{full_first:.1f} s); ours/theirs = {full_s / fit_ssl['time_s']:.0f}"
    )
    print(
        f"  scaling_jax fast:          {fast_s:8.3f} s  (first call incl. compile "
        f"{fast_first:.1f} s); ours/theirs = {fast_s / fit_ssl['time_s']:.0f}"
    )
    print(
        f"  fast best == full best: {abs(fast.objective - full.objective) <= 1e-9 * full.objective}"
    )

    print("\n== Fitted constants (raw units: N parameters, D tokens, loss nats/token) ==")
    print(f"  {'':22s}" + "".join(f"{k:>12s}" for k in NAMES))
    for label, p in (("simple-scaling-laws", theirs), ("scaling_jax full", ours)):
        print(f"  {label:22s}" + "".join(f"{p[k]:12.5g}" for k in NAMES))
    print(f"\n  {'':22s}{'RMSE(loss)':>14s}{'sum Huber(1e-3) of log residuals':>36s}")
    for label, p in (("simple-scaling-laws", theirs), ("scaling_jax full", ours)):
        print(f"  {label:22s}{rmse(p, runs):14.6f}{huber_log_objective(p, runs):36.10e}")
    print(
        "  (each package wins on its own objective: least squares on raw loss vs Huber on log "
        f"loss; scaling_jax reports objective {full.objective:.10e})"
    )
    n_t, d_t, l_t = optimum(theirs, budget)
    n_o, d_o, l_o = optimum(ours, budget)
    print(f"  point optimum at C: competitor fit N*={n_t:.3g} D*={d_t:.3g} L*={l_t:.4f}")
    print(f"                      our fit        N*={n_o:.3g} D*={d_o:.3g} L*={l_o:.4f}")

    print(f"\n== Bootstrap, {R} resamples, 95% intervals ==")
    print(
        f"  simple-scaling-laws:  {ssl_boot_s:8.3f} s  (fit with {ssl_boot['n_draws']} "
        f"{ssl_boot['method']} draws {ssl_boot['fit_with_draws_s']:.3f} s + allocation "
        f"{ssl_boot['allocation_s']:.3f} s; {ssl_boot['n_failed']} failed draws)"
    )
    print(
        f"  scaling_jax:          {boot_s:8.3f} s  (first call incl. compile {boot_first:.1f} "
        f"s; full-data fit {boot.timings['full_fit_s']:.2f} s + resamples "
        f"{boot.timings['solve_s']:.2f} s); ours/theirs = {boot_s / ssl_boot_s:.2f}"
    )
    print(f"  status: {boot.status_counts()}")
    alloc = ssl_boot["allocation"]
    rows = [
        ("N*", "model_size__n_params", "N_opt"),
        ("D*", "dataset_size__n_tokens", "D_opt"),
        ("L*", "test_loss__loss", None),
    ]
    print(
        f"  {'at C=' + format(budget, '.3g'):12s}{'simple-scaling-laws':>38s}{'scaling_jax':>38s}"
    )
    for label, col, key in rows:
        lo_t, mid_t, hi_t = (alloc[f"{col}__{s}"] for s in ("q025", "median", "q975"))
        if key is None:
            lo_o, hi_o, mid_o = l_ci[0], l_ci[1], float(np.median(l_opt))
        else:
            d = derived[key]
            lo_o, hi_o = float(np.ravel(d["low"])[0]), float(np.ravel(d["high"])[0])
            mid_o = float(np.median(per[key][:, 0]))
        fmt = ".4f" if key is None else ".3g"
        print(
            f"  {label:12s}{format(mid_t, fmt):>14s} [{format(lo_t, fmt)}, {format(hi_t, fmt)}]"
            f"{format(mid_o, fmt):>14s} [{format(lo_o, fmt)}, {format(hi_o, fmt)}]"
            "   (median [2.5%, 97.5%])"
        )
    print(
        f"  competitor's share of draws without interior optimum: {alloc['p_no_interior_optimum']}"
    )
    print("  constants:")
    for k in NAMES:
        lo_t, hi_t = ssl_boot["params_ci"][k]
        lo_o, hi_o = params_ci[k]
        print(f"    {k:8s}[{lo_t:.5g}, {hi_t:.5g}]".ljust(42) + f"[{lo_o:.5g}, {hi_o:.5g}]")
    a_ci = derived["a_N"]
    print(
        f"  our N* exponent a = {float(np.ravel(a_ci['estimate'])[0]):.4f} "
        f"[{float(np.ravel(a_ci['low'])[0]):.4f}, {float(np.ravel(a_ci['high'])[0]):.4f}]"
    )
    if ssl_out["warnings"] or fit_ssl["notes"]:
        print(f"\ncompetitor notes/warnings: {fit_ssl['notes'] + ssl_out['warnings']}")


if __name__ == "__main__":
    main()
