"""`scaling-jax optimal` and `scaling-jax isoflop` subcommands.

Wire into the main parser with ``register_cli(subparsers)``; each subcommand stores its handler
as ``args.func`` (``args.func(args) -> exit code``).
"""

from __future__ import annotations

import argparse

import numpy as np

from scaling_jax._io import write_json_atomic
from scaling_jax.cli._common import describe_law_source, positive_floats

__all__ = ["register_cli", "run_optimal", "run_isoflop"]


def run_optimal(args: argparse.Namespace) -> int:
    """Print (and optionally save) compute-optimal N, D and loss for each budget."""
    from scaling_jax.presets import resolve_params
    from scaling_jax.sizing.optimal import compute_optimal

    params = resolve_params(args.law)
    print(f"law: {describe_law_source(args.law)}")
    C = np.asarray(args.compute, dtype=float)
    opt = compute_optimal(params, C)
    N, D, loss = np.asarray(opt.N), np.asarray(opt.D), np.asarray(opt.loss)
    rows = [
        {
            "compute": float(c),
            "N": float(n),
            "D": float(d),
            "tokens_per_param": float(d / n),
            "loss": float(ell),
        }
        for c, n, d, ell in zip(C, N, D, loss, strict=True)
    ]
    blob = {
        "law": str(args.law),
        "params": dict(zip(params._fields, map(float, params), strict=True)),
        "optima": rows,
    }
    for r in rows:
        print(
            f"C = {r['compute']:.3e} FLOPs: N = {r['N']:.3e} parameters, D = {r['D']:.3e} tokens "
            f"({r['tokens_per_param']:.1f} tokens/param), loss = {r['loss']:.4f}"
        )
    if args.out:
        write_json_atomic(args.out, blob)
    return 0


def run_isoflop(args: argparse.Namespace) -> int:
    """Approach 2 on a CSV of final runs, or approach 1 (``--curves``) on logged training
    curves; print the summary, optionally save JSON and a plot."""
    from scaling_jax.sizing.isoflop import envelope_fit, isoflop_fit

    if args.curves:
        res = envelope_fit(
            args.runs,
            n_col=args.n_col,
            flops_col=args.compute_col,
            loss_col=args.loss_col,
            run_col=args.run_col,
        )
    else:
        res = isoflop_fit(
            args.runs,
            n_col=args.n_col,
            loss_col=args.loss_col,
            compute_col=args.compute_col,
            d_col=args.d_col,
            rtol=args.rtol,
        )
    print(res.summary())
    if args.out:
        res.to_json(args.out)
    if args.plot and not args.curves:
        from scaling_jax.plots.optimal import plot_isoflop

        plot_isoflop(res, args.plot)
    return 0


def register_cli(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``optimal`` and ``isoflop`` subcommands to an argparse subparsers object."""
    p = subparsers.add_parser("optimal", help="compute-optimal N and D for training budgets")
    p.add_argument(
        "--compute",
        type=positive_floats("--compute"),
        required=True,
        help="training FLOPs, comma-separated (e.g. 5.76e23,1e21)",
    )
    p.add_argument("--law", default="chinchilla_2022", help="preset name or fit JSON file")
    p.add_argument("--out", help="write the optima as JSON here")
    p.set_defaults(func=run_optimal)

    q = subparsers.add_parser(
        "isoflop", help="Chinchilla approach 2 (IsoFLOP parabolas), or 1 with --curves"
    )
    q.add_argument("runs", help="CSV with one row per run (or per logged point with --curves)")
    q.add_argument(
        "--curves",
        action="store_true",
        help="approach 1: the CSV holds training curves (N, FLOPs so far, loss[, run id])",
    )
    q.add_argument("--run-col", default=None, help="run id column for --curves (default: N)")
    q.add_argument("--n-col", default="N", help="parameters column (default N)")
    q.add_argument("--loss-col", default="loss", help="loss column (default loss)")
    q.add_argument(
        "--compute-col",
        default="compute",
        help="FLOPs column (default compute; if absent, C = 6·N·D from --d-col)",
    )
    q.add_argument("--d-col", default=None, help="tokens column (default: D when needed)")
    q.add_argument("--rtol", type=float, default=0.01, help="relative width of a budget group")
    q.add_argument("--out", help="write the result as JSON here")
    q.add_argument("--plot", help="save the IsoFLOP plot (PNG) here (approach 2)")
    q.set_defaults(func=run_isoflop)
