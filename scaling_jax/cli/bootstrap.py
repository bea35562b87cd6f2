"""``scaling-jax bootstrap``: bootstrap intervals of a fit from a CSV, resumable.

``--out`` is a folder: checkpoints/, bootstrap.json, summary.csv and (``--plots``) corner.png
and frontier.png. `demo_lines` gives the bootstrap section of ``scaling-jax demo``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from scaling_jax.cli._common import (
    add_command,
    fraction,
    glossary,
    nonnegative_int,
    out_dir,
    positive_float,
    positive_floats,
    positive_int,
    resolve_law_form,
)
from scaling_jax.cli._fit_options import add_fit_option_args, fit_option_kwargs, load_fit_runs
from scaling_jax.cli.fit import (
    add_data_options,
    add_law_form_option,
    check_unique_col,
    echo_columns,
)
from scaling_jax.fitting import multihost

__all__ = ["register_cli", "run_bootstrap", "demo_lines", "PLOT_FILES"]

PLOT_FILES = ("corner.png", "frontier.png")


def _parse_starts(text: str) -> Any:
    if text in ("warm", "grid"):
        return text
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--starts {text!r}: use 'warm', 'grid' or a number of random starts"
        ) from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"--starts {value}: must be >= 1")
    return value


def register_cli(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``bootstrap`` sub-command (``func`` = `run_bootstrap`)."""
    p = add_command(
        subparsers,
        "bootstrap",
        "bootstrap confidence intervals of a fit (resumable)",
        "Resample the runs, refit each resample (all resamples x starts batched), and write "
        "standard errors and intervals of the constants and of N_opt/D_opt to the --out folder.",
    )
    add_data_options(p)
    add_law_form_option(p)
    p.add_argument(
        "--resamples", type=positive_int("--resamples"), default=1000, help="number of resamples"
    )
    p.add_argument(
        "--out",
        type=out_dir("--out"),
        required=True,
        help="output FOLDER (created; holds checkpoints/, bootstrap.json, summary.csv, plots)",
    )
    p.add_argument(
        "--resume", action="store_true", help="continue a run in --out (else --out must be new)"
    )
    p.add_argument(
        "--extend",
        action="store_true",
        help="with --resume: grow the run in --out to --resamples (else the counts must match)",
    )
    p.add_argument(
        "--budgets",
        type=positive_floats("--budgets"),
        default=[1e21, 5.76e23],
        help="training budgets (FLOPs, comma-separated) for N_opt/D_opt intervals",
    )
    p.add_argument("--delta", type=positive_float("--delta"), default=1e-3, help="Huber threshold")
    p.add_argument(
        "--starts",
        type=_parse_starts,
        default="warm",
        help="warm: start each resample at the full-data optimum (fast); grid: the law's whole "
        "start grid per resample; or a number of random starts",
    )
    p.add_argument(
        "--scheme",
        choices=("points", "groups", "residual"),
        default="points",
        help="points: resample runs; groups: resample model sizes N with all their runs; "
        "residual: resample residuals of the full-data fit",
    )
    p.add_argument(
        "--seed",
        type=nonnegative_int("--seed"),
        default=0,
        help="bootstrap seed (resample i = f(seed, i))",
    )
    p.add_argument(
        "--chunk-size",
        type=positive_int("--chunk-size"),
        default=None,
        help="resamples per checkpointed chunk (default: sized by --memory-gib)",
    )
    p.add_argument(
        "--memory-gib",
        type=positive_float("--memory-gib"),
        default=None,
        help="memory budget per chunk in GiB (default 2)",
    )
    p.add_argument(
        "--level",
        type=fraction("--level", closed=False),
        default=0.95,
        help="confidence level of the intervals",
    )
    p.add_argument(
        "--plots",
        action="store_true",
        help="write corner.png and frontier.png (without it, stale ones in --out are removed)",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_fit_option_args(p)
    p.add_argument(
        "--processes",
        type=positive_int("--processes"),
        default=1,
        help="run as N cooperating processes on this machine (JAX distributed on 127.0.0.1); "
        f"on several hosts set {multihost.ENV_COORDINATOR}, {multihost.ENV_NUM_PROCESSES} and "
        f"{multihost.ENV_PROCESS_ID} in each process instead",
    )
    p.add_argument(
        "--connect-timeout",
        type=positive_float("--connect-timeout"),
        default=300.0,
        help="seconds to wait for the coordinator and the other processes (multi-process runs)",
    )
    p.set_defaults(func=run_bootstrap)
    return p


def run_bootstrap(args: argparse.Namespace) -> int:
    """Execute ``scaling-jax bootstrap``."""
    from scaling_jax.cli.fit import fit_glossary
    from scaling_jax.fitting.resampling import bootstrap

    out = Path(args.out)
    spec = multihost.from_env()
    if args.processes > 1 and spec is not None:
        raise ValueError(f"--processes with {multihost.ENV_COORDINATOR} set: use one or the other")
    # Every process checks before any of them can start (they wait for each other in
    # initialize), so a non-empty --out is the same error everywhere.
    if out.exists() and any(out.iterdir()) and not args.resume:
        raise ValueError(f"--out {str(out)!r} is not empty; pass --resume to continue it")
    law = resolve_law_form(args.law)
    check_unique_col(law, args.unique_col)
    runs = load_fit_runs(args)
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
    print(echo_columns(runs))
    print(f"bootstrapping the {law.name} law on {len(runs)} runs from {args.data}")
    res = bootstrap(
        runs,
        law=law,
        n_resamples=args.resamples,
        seed=args.seed,
        starts=args.starts,
        scheme=args.scheme,
        delta=args.delta,
        out_dir=out / "checkpoints",
        chunk_size=args.chunk_size,
        memory_budget=None if args.memory_gib is None else args.memory_gib * 2**30,
        progress=not args.no_progress,
        **fit_option_kwargs(args, runs),
        extend=args.extend,
    )
    if process_id != 0:  # process 0 reports and writes the files
        print(f"process {process_id} of {spec[1]}: done; process 0 writes the results")
        return 0
    chinchilla_like = law.name == "chinchilla"
    budgets = args.budgets if chinchilla_like else ()
    print(res.summary(level=args.level, budgets=budgets))
    terms = ["a_N", "b_D", "N_opt", "D_opt", "C"] if chinchilla_like else []
    print(fit_glossary(law.name) + "\n" + "\n".join(glossary(*terms).splitlines()[1:]))
    res.to_json(out / "bootstrap.json")
    res.to_csv(out / "summary.csv", budgets=budgets or None, level=args.level)
    written = ["bootstrap.json", "summary.csv"]
    if args.plots:
        from scaling_jax.plots.bootstrap import (  # noqa: PLC0415
            plot_bootstrap_frontier,
            plot_corner,
        )

        plot_corner(res, out / "corner.png")
        written.append("corner.png")
        if chinchilla_like:
            plot_bootstrap_frontier(res, out / "frontier.png", level=args.level, runs=runs)
            written.append("frontier.png")
    else:
        stale = [name for name in PLOT_FILES if (out / name).exists()]
        for name in stale:
            (out / name).unlink()
        if stale:
            print(f"removed plots of an earlier run ({', '.join(stale)}); pass --plots to redraw")
    print(f"wrote {', '.join(str(out / w) for w in written)}")
    return 0


def demo_lines(runs: Any, n_resamples: int = 100, truth: Any = None) -> tuple[list[str], Any]:
    """Bootstrap section of ``scaling-jax demo``: a small warm-start bootstrap; with `truth`,
    says whether each true constant lies inside its 95% interval. Returns (lines, result)."""
    from scaling_jax.fitting.resampling import bootstrap

    res = bootstrap(runs, n_resamples=n_resamples, progress=False)
    se = res.stderr()
    iv = res.interval(0.95)
    d = res.derived_intervals(budgets=[5.76e23])
    lines = [
        f"  {n_resamples} resamples, warm starts + Newton finish, "
        f"{res.timings['total_s']:.1f}s: standard errors and 95% intervals",
        f"  {'':>6}   {'estimate':>10} {'stderr':>10}   {'95% interval':<26}"
        + ("  truth     inside?" if truth is not None else ""),
    ]
    inside = []
    for k, v in res.params_hat._asdict().items():
        line = f"  {k:>6} = {v:10.5g} {se[k]:10.3g}   [{iv[k][0]:.5g}, {iv[k][1]:.5g}]"
        if truth is not None:
            t = float(getattr(truth, k))
            ok = iv[k][0] <= t <= iv[k][1]
            inside.append(ok)
            line = f"{line:<64}  {t:<9.5g} {'yes' if ok else 'NO'}"
        lines.append(line)
    a = d["a_N"]
    lines.append(
        f"  N_opt ∝ C^a_N: a_N = {float(a['estimate']):.4f} [{float(a['low']):.4f}, "
        f"{float(a['high']):.4f}]"
    )
    n = d["N_opt"]
    lines.append(
        f"  N_opt(5.76e23 FLOPs) = {float(n['estimate'][0]):.3g} "
        f"[{float(n['low'][0]):.3g}, {float(n['high'][0]):.3g}] parameters"
    )
    if truth is not None:
        lines.append(
            f"  {sum(inside)} of {len(inside)} true constants lie inside their 95% intervals"
            + (
                "."
                if all(inside)
                else " (with 95% intervals, one miss in five is not unusual; the constants "
                "are strongly correlated, so misses come together)."
            )
        )
    return lines, res
