"""``scaling-jax bootstrap``: bootstrap intervals of a fit from a CSV, resumable.

Wire into the main parser with ``register_cli(subparsers)`` (sets ``func``); `demo_lines`
gives the bootstrap section of ``scaling-jax demo``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from scaling_jax.cli._common import positive_floats
from scaling_jax.cli._fit_options import add_fit_option_args, fit_option_kwargs, load_kwargs
from scaling_jax.data import Runs, load_runs
from scaling_jax.fitting import multihost
from scaling_jax.fitting.resampling import bootstrap

__all__ = [
    "register_cli",
    "run_bootstrap",
    "demo_lines",
]


def _parse_starts(text: str) -> Any:
    if text in ("warm", "grid"):
        return text
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--starts {text!r}: use 'warm', 'grid' or a number of random starts"
        ) from None


def register_cli(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``bootstrap`` sub-command (``func`` = `run_bootstrap`)."""
    p = subparsers.add_parser(
        "bootstrap",
        help="bootstrap confidence intervals of a fit (resumable)",
        description="Resample the runs, refit each resample (all resamples x starts batched), "
        "and write standard errors and intervals of the parameters and of N_opt/D_opt.",
    )
    p.add_argument("data", help="CSV file with one row per training run")
    p.add_argument("--resamples", type=int, default=1000, help="number of resamples")
    p.add_argument("--out", required=True, help="output folder (checkpoints + summaries)")
    p.add_argument(
        "--resume", action="store_true", help="continue a run in --out (else --out must be new)"
    )
    p.add_argument(
        "--budgets", type=positive_floats("--budgets"), default=[1e21, 5.76e23], help="FLOPs list"
    )
    p.add_argument("--n-col", default=None, help="default: params/N/model_size/n_params")
    p.add_argument("--d-col", default=None, help="default: tokens/D/n_tokens")
    p.add_argument("--loss-col", default=None, help="default: loss/test_loss/eval_loss")
    p.add_argument("--compute-col", default=None, help="derive D = C/(6N) from this column")
    p.add_argument("--starts", type=_parse_starts, default="warm", help="warm | grid | N")
    p.add_argument("--scheme", choices=("points", "groups", "residual"), default="points")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--chunk-size", type=int, default=None, help="resamples per chunk")
    p.add_argument("--memory-gib", type=float, default=None, help="memory budget per chunk")
    p.add_argument("--level", type=float, default=0.95)
    p.add_argument("--plots", action="store_true", help="write corner and frontier PNGs")
    p.add_argument("--no-progress", action="store_true")
    add_fit_option_args(p)
    p.add_argument(
        "--processes",
        type=int,
        default=1,
        help="run as N cooperating processes on this machine (JAX distributed on 127.0.0.1); "
        f"on several hosts set {multihost.ENV_COORDINATOR}, {multihost.ENV_NUM_PROCESSES} and "
        f"{multihost.ENV_PROCESS_ID} in each process instead",
    )
    p.add_argument(
        "--connect-timeout",
        type=float,
        default=300.0,
        help="seconds to wait for the coordinator and the other processes (multi-process runs)",
    )
    p.set_defaults(func=run_bootstrap)
    return p


def run_bootstrap(args: argparse.Namespace) -> int:
    out = Path(args.out)
    spec = multihost.from_env()
    if args.processes < 1:
        raise ValueError(f"--processes {args.processes}: must be >= 1")
    if args.processes > 1 and spec is not None:
        raise ValueError(
            f"--processes with {multihost.ENV_COORDINATOR} set: use one or the other"
        )
    # Every process checks before any of them can start (they wait for each other in
    # initialize), so a non-empty --out is the same error everywhere.
    if out.exists() and any(out.iterdir()) and not args.resume:
        raise ValueError(f"--out {str(out)!r} is not empty; pass --resume to continue it")
    runs = load_runs(
        args.data,
        n=args.n_col,
        d=args.d_col,
        loss=args.loss_col,
        compute=args.compute_col,
        **load_kwargs(args),
    )
    if args.processes > 1:
        from scaling_jax.cli._launch import launch, strip_option  # noqa: PLC0415

        argv = getattr(args, "argv", None) or sys.argv[1:]
        return launch(strip_option(argv, "--processes"), args.processes)
    process_id = 0
    if spec is not None:
        try:
            multihost.initialize(*spec, timeout_s=args.connect_timeout)
        except RuntimeError as err:
            print(f"scaling-jax bootstrap: error: {err}", file=sys.stderr)
            return 2
        process_id = spec[2]
    res = bootstrap(
        runs,
        n_resamples=args.resamples,
        seed=args.seed,
        starts=args.starts,
        scheme=args.scheme,
        out_dir=out / "checkpoints",
        chunk_size=args.chunk_size,
        memory_budget=None if args.memory_gib is None else args.memory_gib * 2**30,
        progress=not args.no_progress,
        **fit_option_kwargs(args, runs),
    )
    if process_id != 0:  # process 0 reports and writes the files
        print(f"process {process_id} of {spec[1]}: done; process 0 writes the results")
        return 0
    print(res.summary(level=args.level, budgets=args.budgets))
    res.to_json(out / "bootstrap.json")
    res.to_csv(out / "summary.csv", budgets=args.budgets, level=args.level)
    written = ["bootstrap.json", "summary.csv"]
    if args.plots:
        from scaling_jax.plots.bootstrap import (  # noqa: PLC0415
            plot_bootstrap_frontier,
            plot_corner,
        )

        plot_corner(res, out / "corner.png")
        plot_bootstrap_frontier(res, out / "frontier.png", level=args.level)
        written += ["corner.png", "frontier.png"]
    print(f"wrote {', '.join(str(out / w) for w in written)}")
    return 0


def demo_lines(runs: Runs, n_resamples: int = 100) -> list[str]:
    """Bootstrap section of ``scaling-jax demo``: a small cheap-strategy bootstrap."""
    res = bootstrap(runs, n_resamples=n_resamples, progress=False)
    se = res.stderr()
    iv = res.interval(0.95)
    d = res.derived_intervals(budgets=[5.76e23])
    lines = [
        f"Bootstrap ({n_resamples} resamples, warm starts + Newton finish, "
        f"{res.timings['total_s']:.1f}s): standard errors and 95% intervals"
    ]
    for k, v in res.params_hat._asdict().items():
        lines.append(f"  {k:>6} = {v:.5g} +- {se[k]:.3g}  [{iv[k][0]:.5g}, {iv[k][1]:.5g}]")
    a = d["a"]
    lines.append(
        f"  N_opt ~ C^a, a = {float(a['estimate']):.4f} [{float(a['low']):.4f}, "
        f"{float(a['high']):.4f}]"
    )
    n = d["N_opt"]
    lines.append(
        f"  N_opt(5.76e23 FLOPs) = {float(n['estimate'][0]):.3g} "
        f"[{float(n['low'][0]):.3g}, {float(n['high'][0]):.3g}] parameters"
    )
    return lines
