"""Throughput on the current JAX backend: `bench` (``scaling-jax bench``) and its timing code.

`bench` measures, in one run, on built-in synthetic Chinchilla-like data (or the user's runs):

  * **fit**: the Chinchilla start grid (4500 starts) in full and fast mode: compile time (first
    call minus second call), solve time, fits/s, objective evaluations per start, best objective;
  * **bootstrap**: R resamples x S starts (1000 warm resamples on CPU, 4000 x the 4500-start
    grid on an accelerator): wall time, lane-fits/s and the memory plan;
  * **lifetime**: lifetime-optimal (N, D) scenarios/s;
  * **scipy**: scipy's L-BFGS-B loop (analytic gradient) on the same data and a subset of the
    same starts, and our speed-up over it; without scipy the record says so.

and returns a JSON-ready record (backend, device kind and count, versions, CPU count and every
figure) so runs on different machines can be compared. The helpers (`timed`, `time_fit`,
`time_bootstrap`, `time_lifetime`, `scipy_fit_starts`) are what the repository's
``benchmarks/`` scripts use too.
"""

from __future__ import annotations

import datetime
import json
import math
import os
import platform
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import jax
import numpy as np

from scaling_jax._io import json_float, write_json_atomic
from scaling_jax._precision import float64_call
from scaling_jax.data import Runs, as_runs
from scaling_jax.fitting import resampling
from scaling_jax.fitting.multistart import FitResult, fit
from scaling_jax.fitting.solver import SolverOptions
from scaling_jax.laws import chinchilla_grid

__all__ = [
    "bench",
    "format_report",
    "timed",
    "time_fit",
    "time_bootstrap",
    "time_lifetime",
    "time_call",
    "time_scipy",
    "objective_and_grad",
    "scipy_fit_starts",
    "environment",
    "FORMAT",
]

FORMAT = "scaling_jax.bench/1"

# Sizes of a run: (full, quick) per measurement; "accelerator" is any backend but CPU.
_FIT_STARTS = {"full": 4500, "quick": 1125}
_SCIPY_STARTS = {"full": 450, "quick": 100}
_SCENARIOS = {"full": 100_000, "quick": 10_000}
_BOOTSTRAP = {
    ("cpu", "full"): (1000, "warm"),
    ("cpu", "quick"): (100, "warm"),
    ("accelerator", "full"): (4000, "grid"),
    ("accelerator", "quick"): (100, "grid"),
}


# --------------------------------------------------------------------------------------------
# Timing helpers (shared with benchmarks/)


def timed(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[Any, float]:
    """``(fn(*args, **kwargs), wall seconds)``; JAX arrays in the output are waited for."""
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    out = jax.block_until_ready(out) if isinstance(out, jax.Array) else out
    return out, time.perf_counter() - t0


def time_fit(runs: Runs, mode: str = "full", **fit_kwargs: Any) -> tuple[FitResult, dict]:
    """Time `fit` twice on the same shapes: the first call compiles, the second is measured.

    Returns the second call's `FitResult` and ``{"n_starts", "compile_s", "solve_s",
    "fits_per_s", "evals_per_start", "best_objective", "n_best_basin", "status"}``; compile_s is
    the first call's wall time minus the second's (zero when the jit cache is already warm).
    """
    _, first = timed(fit, runs, mode=mode, **fit_kwargs)
    res, second = timed(fit, runs, mode=mode, **fit_kwargs)
    n = len(res.starts)
    return res, {
        "mode": mode,
        "n_starts": n,
        "compile_s": max(first - second, 0.0),
        "first_call_s": first,
        "solve_s": second,
        "fits_per_s": n / second,
        "evals_per_start": float(np.mean(res.starts.n_eval)),
        "best_objective": float(res.objective),
        "n_best_basin": int(res.n_best_basin),
        "status": res.starts.status_counts(),
    }


def time_bootstrap(
    runs: Runs,
    n_resamples: int,
    starts: Any = "warm",
    *,
    memory_budget: float | None = None,
    dtype: str = "float64",
    devices: Sequence[Any] | None = None,
    grid: np.ndarray | None = None,
    progress: bool = False,
    seed: int = 0,
) -> tuple[resampling.BootstrapResult, dict]:
    """Time a Chinchilla bootstrap: a one-chunk warm-up call (compiles), then the whole run.

    Returns the result and ``{"n_resamples", "starts", "n_starts", "lane_fits", "wall_s",
    "solve_s", "full_fit_s", "compile_s", "lane_fits_per_s", "solve_lane_fits_per_s",
    "resamples_per_s", "memory_plan"}``. compile_s is estimated as the warm-up's wall time minus
    one chunk's and the full-data fit's steady-state time. `grid` is the start grid of the
    full-data fit and of ``starts="grid"`` (default: the 4500-point Chinchilla grid).
    """
    grid = chinchilla_grid() if grid is None else np.asarray(grid, np.float64)
    kw = dict(
        starts=starts,
        dtype=dtype,
        devices=devices,
        seed=seed,
        memory_budget=memory_budget,
        grid=grid,
    )
    if isinstance(starts, str):
        n_starts = 1 if starts == "warm" else len(grid)
    else:
        n_starts = int(starts) if np.ndim(starts) == 0 else len(starts)
    # The memory plan the run will use; the warm-up solves one chunk at exactly that shape.
    plan = resampling.plan_chunks(
        n_resamples,
        n_starts,
        len(runs),
        memory_budget=memory_budget,
        history=SolverOptions().history,
        dtype_bytes=np.dtype(dtype).itemsize,
    )
    size = plan["chunk_size"]
    _, warm_s = timed(
        resampling.bootstrap, runs, n_resamples=size, chunk_size=size, progress=False, **kw
    )
    res, wall = timed(
        resampling.bootstrap,
        runs,
        n_resamples=n_resamples,
        chunk_size=size,
        progress=progress,
        **kw,
    )
    n_starts = int(res.config["n_starts"])
    lanes = n_resamples * n_starts
    solve = res.timings["solve_s"]
    per_chunk = solve / max(plan["n_chunks"], 1)
    return res, {
        "n_resamples": n_resamples,
        "starts": str(res.config["starts"]),
        "n_starts": n_starts,
        "lane_fits": lanes,
        "wall_s": wall,
        "solve_s": solve,
        "full_fit_s": res.timings["full_fit_s"],
        "compile_s": max(warm_s - per_chunk - res.timings["full_fit_s"], 0.0),
        "lane_fits_per_s": lanes / wall,
        "solve_lane_fits_per_s": lanes / solve if solve > 0 else math.inf,
        "resamples_per_s": n_resamples / wall,
        "memory_plan": {**plan, "memory_budget": memory_budget},
        "status": res.status_counts(),
    }


def time_call(fn: Callable[[], Any], repeats: int = 3) -> tuple[Any, float, float]:
    """``(output, first call s, best of `repeats` later calls s)`` of a jitted ``fn()``."""
    out, first = timed(lambda: jax.block_until_ready(fn()))
    best = math.inf
    for _ in range(max(repeats, 1)):
        out, t = timed(lambda: jax.block_until_ready(fn()))
        best = min(best, t)
    return out, first, best


def time_lifetime(n_scenarios: int = 100_000, repeats: int = 3, seed: int = 0) -> dict:
    """Lifetime-optimal sizing of `n_scenarios` random (loss, inference tokens) pairs.

    Sardana et al. 2024 constants; losses E + 10**U(-2, 0.5) nats/token, inference demand
    10**U(6, 16) tokens; one jitted call. Returns ``{"n_scenarios", "compile_s", "run_s" (best
    of `repeats`), "scenarios_per_s"}``.
    """
    from scaling_jax.presets import SARDANA_2024  # noqa: PLC0415
    from scaling_jax.sizing.lifetime import lifetime_optimal  # noqa: PLC0415

    rng = np.random.default_rng(seed)
    loss = float(SARDANA_2024.E) + 10 ** rng.uniform(-2.0, 0.5, n_scenarios)
    tokens = 10 ** rng.uniform(6.0, 16.0, n_scenarios)
    _, first, run = time_call(lambda: lifetime_optimal(SARDANA_2024, loss, tokens).N, repeats)
    return {
        "n_scenarios": n_scenarios,
        "compile_s": max(first - run, 0.0),
        "run_s": run,
        "scenarios_per_s": n_scenarios / run,
    }


# --------------------------------------------------------------------------------------------
# The scipy reference: numpy objective with an analytic gradient, L-BFGS-B one start at a time


def objective_and_grad(
    theta: np.ndarray,
    log_n: np.ndarray,
    log_d: np.ndarray,
    log_loss: np.ndarray,
    delta: float = 1e-3,
    weights: np.ndarray | None = None,
) -> tuple[float, np.ndarray]:
    """Summed Huber loss of Chinchilla log residuals and its gradient, in numpy.

    theta = (a, b, e, alpha, beta) with A = exp(a), B = exp(b), E = exp(e); the prediction is
    log(exp(a - alpha log N) + exp(b - beta log D) + exp(e)).
    """
    a, b, e, alpha, beta = theta
    terms = np.stack([a - alpha * log_n, b - beta * log_d, np.full_like(log_n, e)])
    top = terms.max(axis=0)
    expo = np.exp(terms - top)
    total = expo.sum(axis=0)
    soft = expo / total
    r = top + np.log(total) - log_loss
    w = np.ones_like(r) if weights is None else weights
    value = np.sum(w * np.where(np.abs(r) <= delta, 0.5 * r * r, delta * (np.abs(r) - 0.5 * delta)))
    dr = w * np.clip(r, -delta, delta)
    grad = np.array(
        [
            np.sum(dr * soft[0]),
            np.sum(dr * soft[1]),
            np.sum(dr * soft[2]),
            -np.sum(dr * soft[0] * log_n),
            -np.sum(dr * soft[1] * log_d),
        ]
    )
    return float(value), grad


def scipy_fit_starts(
    starts: Any, N: Any, D: Any, loss: Any, delta: float = 1e-3, weights: Any = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """scipy L-BFGS-B (analytic gradient, default options) from every start, one at a time.

    Returns (final thetas (S, 5), objectives (S,), success flags (S,), evaluations (S,)).
    Raises ImportError when scipy is not installed.
    """
    from scipy.optimize import minimize  # noqa: PLC0415

    log_n, log_d, log_loss = np.log(N), np.log(D), np.log(loss)
    thetas, values, ok, nfev = [], [], [], []
    for x0 in np.asarray(starts, np.float64):
        res = minimize(
            objective_and_grad,
            x0,
            args=(log_n, log_d, log_loss, delta, weights),
            jac=True,
            method="L-BFGS-B",
        )
        thetas.append(res.x)
        values.append(res.fun)
        ok.append(bool(res.success))
        nfev.append(res.nfev)
    return np.array(thetas), np.array(values), np.array(ok), np.array(nfev)


def time_scipy(runs: Runs, starts: np.ndarray, delta: float = 1e-3) -> dict:
    """Time `scipy_fit_starts` on `starts`; ``{"available": False, "reason"}`` without scipy."""
    try:
        import scipy  # noqa: PLC0415
        import scipy.optimize  # noqa: F401, PLC0415
    except ImportError as err:
        return {"available": False, "reason": f"scipy is not installed ({err})"}
    (_, fs, ok, nfev), wall = timed(scipy_fit_starts, starts, runs.N, runs.D, runs.loss, delta)
    return {
        "available": True,
        "version": scipy.__version__,
        "n_starts": len(starts),
        "wall_s": wall,
        "fits_per_s": len(starts) / wall,
        "best_objective": float(np.min(fs)),
        "mean_nfev": float(np.mean(nfev)),
        "success_rate": float(np.mean(ok)),
        "blas_threads": os.environ.get("OPENBLAS_NUM_THREADS"),
    }


# --------------------------------------------------------------------------------------------
# The whole run


def _resolve_devices(devices: Any) -> list[Any]:
    local = jax.local_devices()
    if devices in (None, "all"):
        return list(local)
    if isinstance(devices, str):
        try:
            devices = int(devices)
        except ValueError:
            raise ValueError(f"devices={devices!r}: use 'all' or a number of devices") from None
    if isinstance(devices, bool) or not isinstance(devices, int):
        return list(devices)
    if not 1 <= devices <= len(local):
        raise ValueError(
            f"devices={devices}: this process has {len(local)} local "
            f"{jax.default_backend()} device(s)"
        )
    return list(local[:devices])


def environment(devices: Sequence[Any] | None = None) -> dict:
    """Backend, devices, versions and CPU count of this process (for the bench record)."""
    import jaxlib  # noqa: PLC0415

    from scaling_jax import __version__  # noqa: PLC0415

    devs = list(jax.local_devices() if devices is None else devices)
    try:
        import scipy  # noqa: PLC0415

        scipy_version = scipy.__version__
    except ImportError:
        scipy_version = None
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    return {
        "backend": jax.default_backend(),
        "device_kind": devs[0].device_kind if devs else None,
        "device_count": len(devs),
        "local_device_count": jax.local_device_count(),
        "process_count": jax.process_count(),
        "platform_version": getattr(devs[0].client, "platform_version", None) if devs else None,
        "cpu_count": os.cpu_count(),
        "usable_cpus": usable,
        "scaling_jax": __version__,
        "jax": jax.__version__,
        "jaxlib": getattr(jaxlib, "__version__", None),
        "numpy": np.__version__,
        "scipy": scipy_version,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "system": platform.platform(),
        "x64": bool(jax.config.jax_enable_x64),
        "xla_flags": os.environ.get("XLA_FLAGS"),
        "compilation_cache": jax.config.jax_compilation_cache_dir or None,
    }


def _spread(grid: np.ndarray, n: int) -> np.ndarray:
    """`n` starts spread evenly over `grid` (all of it when n >= len(grid))."""
    if n >= len(grid):
        return grid
    return grid[np.linspace(0, len(grid) - 1, n).round().astype(int)]


def _default_memory_budget(devs: Sequence[Any]) -> float | None:
    """Half the accelerator's memory limit, when the device reports one (else 2 GiB default)."""
    if not devs or devs[0].platform == "cpu":
        return None
    try:
        limit = (devs[0].memory_stats() or {}).get("bytes_limit")
    except Exception:  # noqa: BLE001 - not every backend implements memory_stats
        limit = None
    return None if not limit else 0.5 * float(limit)


def _check_count(name: str, value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name}={value!r}: expected a positive integer")
    return int(value)


@float64_call
def bench(
    data: Any = None,
    *,
    quick: bool = False,
    dtype: str = "float64",
    devices: Any = "all",
    resamples: int | None = None,
    bootstrap_starts: Any = None,
    fit_starts: int | None = None,
    scipy_starts: int | None = None,
    scenarios: int | None = None,
    memory_budget: float | None = None,
    progress: bool = False,
    out: str | os.PathLike[str] | None = None,
    **load_kwargs: Any,
) -> dict:
    """Measure fit, bootstrap and lifetime throughput here, and scipy's, in one run.

    Args:
      data: runs to fit (a `Runs`, CSV path, DataFrame or column mapping; column names as in
        `load_runs` via `load_kwargs`); default: 240 synthetic Chinchilla-like runs drawn from
        Epoch AI's refit (`synthetic_runs`, seed 0).
      quick: smaller sizes (1125 grid starts, 100 resamples, 100 scipy starts, 1e4 scenarios).
      dtype: ``"float64"`` or ``"float32"``; float32 also fits in float64 on the same starts and
        reports the gap of the float32 optimum's objective (evaluated in float64).
      devices: ``"all"`` local devices or a number N of them: the fit's starts are sharded over
        them (a 1-D mesh) and the bootstrap's chunks spread over them.
      resamples, bootstrap_starts: bootstrap size (default 1000 ``"warm"`` on CPU, 4000
        ``"grid"`` on an accelerator; 100 with `quick`); the bootstrap's full-data fit and its
        ``"grid"`` starts use the fit's starts.
      fit_starts: starts of the fit, spread evenly over the 4500-point Chinchilla grid.
      scipy_starts: starts (a subset of the fit's) for the scipy L-BFGS-B reference.
      scenarios: lifetime-optimal scenarios.
      memory_budget: bytes per bootstrap chunk (default: half an accelerator's memory; 2 GiB
        on CPU).
      progress: tqdm progress bars on stderr.
      out: also write the record as JSON here.

    Returns:
      The record: ``{"format", "environment", "config", "data", "fit", "bootstrap", "lifetime",
      "scipy", "float32_gap" (float32 only), "interrupted", "total_s"}``; figures in seconds,
      fits/s, lane-fits/s and scenarios/s. On Ctrl-C the record so far is returned (and
      written) with ``"interrupted"`` naming the stage that was running.
    """
    t_start = time.perf_counter()
    if dtype not in ("float64", "float32"):
        raise ValueError(f"dtype={dtype!r}: use 'float64' or 'float32'")
    size = "quick" if quick else "full"
    devs = _resolve_devices(devices)
    kind = "cpu" if devs[0].platform == "cpu" else "accelerator"
    default_r, default_s = _BOOTSTRAP[(kind, size)]
    n_res = _check_count("resamples", resamples) or default_r
    b_starts = default_s if bootstrap_starts is None else bootstrap_starts
    n_fit = _check_count("fit_starts", fit_starts) or _FIT_STARTS[size]
    n_scipy = _check_count("scipy_starts", scipy_starts) or _SCIPY_STARTS[size]
    n_scen = _check_count("scenarios", scenarios) or _SCENARIOS[size]
    budget = memory_budget if memory_budget is not None else _default_memory_budget(devs)

    if data is None:
        from scaling_jax.presets import EPOCH_2024  # noqa: PLC0415
        from scaling_jax.synthetic import synthetic_runs  # noqa: PLC0415

        runs = synthetic_runs(EPOCH_2024, n_runs=240, seed=0)
        label = "synthetic Chinchilla-like runs (Epoch AI 2024 law, 1% noise, seed 0)"
    else:
        runs = as_runs(data, **load_kwargs)
        label = str(data) if isinstance(data, (str, os.PathLike)) else type(data).__name__
    starts = _spread(chinchilla_grid(), n_fit)
    scipy_idx = np.unique(np.linspace(0, len(starts) - 1, min(n_scipy, len(starts))).astype(int))
    mesh = jax.sharding.Mesh(np.asarray(devs), ("starts",)) if len(devs) > 1 else None

    record: dict[str, Any] = {
        "format": FORMAT,
        "started": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "environment": environment(devs),
        "config": {
            "quick": quick,
            "dtype": dtype,
            "devices": len(devs),
            "fit_starts": len(starts),
            "resamples": n_res,
            "bootstrap_starts": b_starts if isinstance(b_starts, (str, int)) else "array",
            "scipy_starts": len(scipy_idx),
            "scenarios": n_scen,
            "memory_budget": budget,
        },
        "data": {"source": label, "n_points": len(runs)},
        "interrupted": None,
    }

    def fit_stage(mode: str) -> Callable[[], None]:
        def stage() -> None:
            res, fig = time_fit(runs, mode, starts=starts, dtype=dtype, mesh=mesh)
            record.setdefault("fit", {})[mode] = fig
            if mode == "full":
                record["_theta_full"] = res.theta

        return stage

    def float32_gap() -> None:
        ref = fit(runs, mode="full", starts=starts, dtype="float64", mesh=mesh)
        log_n, log_d, log_l = np.log(runs.N), np.log(runs.D), np.log(runs.loss)
        f32_at_64, _ = objective_and_grad(record["_theta_full"], log_n, log_d, log_l)
        record["float32_gap"] = {
            "float64_best_objective": float(ref.objective),
            "float32_best_objective": record["fit"]["full"]["best_objective"],
            "float32_optimum_in_float64": f32_at_64,
            "relative_gap": f32_at_64 / float(ref.objective) - 1.0,
            "max_abs_theta_diff": float(np.max(np.abs(record["_theta_full"] - ref.theta))),
        }

    def scipy_stage() -> None:
        record["scipy"] = time_scipy(runs, starts[scipy_idx])

    def bootstrap_stage() -> None:
        _, fig = time_bootstrap(
            runs,
            n_res,
            b_starts,
            memory_budget=budget,
            dtype=dtype,
            devices=devs,
            grid=starts,
            progress=progress,
        )
        record["bootstrap"] = fig

    def lifetime_stage() -> None:
        record["lifetime"] = time_lifetime(n_scen)

    stages: list[tuple[str, Callable[[], None]]] = [
        ("fit full", fit_stage("full")),
        ("fit fast", fit_stage("fast")),
    ]
    if dtype == "float32":
        stages.append(("float32 gap", float32_gap))
    stages += [("scipy", scipy_stage), ("bootstrap", bootstrap_stage), ("lifetime", lifetime_stage)]

    bar = None
    if progress:
        from tqdm.auto import tqdm  # noqa: PLC0415

        bar = tqdm(total=len(stages), desc="bench", unit="stage", file=sys.stderr, leave=False)
    try:
        for name, stage in stages:
            if bar is not None:
                bar.set_postfix_str(name)
            try:
                stage()
            except KeyboardInterrupt:
                record["interrupted"] = name
                break
            if bar is not None:
                bar.update()
    finally:
        if bar is not None:
            bar.close()
    record.pop("_theta_full", None)
    _add_ratios(record)
    record["total_s"] = time.perf_counter() - t_start
    if out is not None:
        write_json_atomic(out, _jsonable(record))
    return record


def _add_ratios(record: dict) -> None:
    sp = record.get("scipy")
    if not sp or not sp.get("available"):
        return
    rate = sp["fits_per_s"]
    ratios = {}
    for mode in ("full", "fast"):
        fig = record.get("fit", {}).get(mode)
        if fig:
            ratios[f"fit_{mode}"] = fig["fits_per_s"] / rate
    if "bootstrap" in record:
        ratios["bootstrap_lane_fits"] = record["bootstrap"]["lane_fits_per_s"] / rate
    sp["speedup"] = ratios
    # Our best over all the fit's starts (a superset of scipy's), in float64.
    ours = record.get("float32_gap", {}).get("float32_optimum_in_float64")
    if ours is None and "full" in record.get("fit", {}):
        ours = record["fit"]["full"]["best_objective"]
    if ours is not None:
        sp["our_objective_vs_scipy"] = ours / sp["best_objective"] - 1.0


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (bool, str)) or value is None:
        return value
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return json_float(value)
    if isinstance(value, Path):
        return str(value)
    return json.loads(json.dumps(value, default=str))


# --------------------------------------------------------------------------------------------
# The report


def _fmt_rate(x: float) -> str:
    return f"{x:,.0f}" if x >= 100 else f"{x:.3g}"


def format_report(record: dict) -> str:
    """The human-readable report of a `bench` record (whatever part of it was measured)."""
    env = record["environment"]
    cfg = record["config"]
    lines = [
        f"scaling_jax {env['scaling_jax']} bench on {env['backend']} "
        f"({env['device_count']} x {env['device_kind']}; {env['usable_cpus']} usable CPUs; "
        f"jax {env['jax']}, jaxlib {env['jaxlib']}), {cfg['dtype']}"
        + (", quick" if cfg["quick"] else ""),
        f"data: {record['data']['source']}, {record['data']['n_points']} points",
    ]
    fit_rec = record.get("fit", {})
    for mode in ("full", "fast"):
        f = fit_rec.get(mode)
        if f:
            lines.append(
                f"fit {mode:4}: {f['n_starts']} grid starts in {f['solve_s']:.3f} s "
                f"({_fmt_rate(f['fits_per_s'])} fits/s), compile {f['compile_s']:.1f} s, "
                f"{f['evals_per_start']:.0f} evaluations/start, best {f['best_objective']:.12e}"
            )
    gap = record.get("float32_gap")
    if gap:
        lines.append(
            f"float32 vs float64 on the same starts: float32 optimum's objective (in float64) "
            f"{gap['float32_optimum_in_float64']:.12e} vs {gap['float64_best_objective']:.12e} "
            f"(relative gap {gap['relative_gap']:+.2e})"
        )
    b = record.get("bootstrap")
    if b:
        plan = b["memory_plan"]
        lines.append(
            f"bootstrap: {b['n_resamples']} resamples x {b['n_starts']} starts ({b['starts']}) "
            f"in {b['wall_s']:.2f} s wall ({_fmt_rate(b['lane_fits_per_s'])} lane-fits/s, "
            f"{_fmt_rate(b['resamples_per_s'])} resamples/s; solve {b['solve_s']:.2f} s, "
            f"full-data fit {b['full_fit_s']:.2f} s, compile ~{b['compile_s']:.1f} s)"
        )
        lines.append(
            f"  memory plan: {plan['n_chunks']} chunk(s) of {plan['chunk_size']} resamples, "
            f"{plan['batch_size'] or 'whole-chunk'} lanes per batch, "
            f"~{plan['peak_bytes'] / 2**20:.0f} MiB peak (estimate)"
        )
    lt = record.get("lifetime")
    if lt:
        lines.append(
            f"lifetime: {lt['n_scenarios']} scenarios in {lt['run_s'] * 1e3:.1f} ms "
            f"({lt['scenarios_per_s']:.3g} scenarios/s), compile {lt['compile_s']:.2f} s"
        )
    sp = record.get("scipy")
    if sp and sp.get("available"):
        lines.append(
            f"scipy {sp['version']} L-BFGS-B (analytic gradient), {sp['n_starts']} of the same "
            f"starts: {sp['wall_s']:.2f} s ({_fmt_rate(sp['fits_per_s'])} fits/s, "
            f"{sp['mean_nfev']:.0f} evaluations/start), best {sp['best_objective']:.12e}"
        )
        ratios = sp.get("speedup", {})
        if ratios:
            lines.append(
                "  speed-up over scipy: "
                + ", ".join(f"{k.replace('_', ' ')} {v:.1f}x" for k, v in ratios.items())
            )
        if "our_objective_vs_scipy" in sp:
            lines.append(
                f"  our best objective (all {cfg['fit_starts']} starts) vs scipy's: "
                f"{sp['our_objective_vs_scipy']:+.2e} relative"
            )
    elif sp:
        lines.append(f"scipy reference: not measured, {sp['reason']}")
    if record.get("interrupted"):
        lines.append(f"interrupted during {record['interrupted']!r}: the figures above are partial")
    if "total_s" in record:
        lines.append(f"total {record['total_s']:.1f} s")
    return "\n".join(lines)
