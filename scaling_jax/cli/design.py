"""``scaling-jax design``: which runs to train next to pin down N_opt at a target budget.

Wiring (in cli/__init__.py)::

    from scaling_jax.cli import design as design_cli
    design_cli.register_cli(subparsers)
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

__all__ = ["register_cli", "run_design"]

EXAMPLE = """example:
  scaling-jax design pilot_runs.csv --target-budget 1e24 --new-compute 1e21 --k 8 > next.csv
"""


def register_cli(subparsers: Any) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "design",
        help="the next k runs that best pin down N_opt at a target budget (CSV)",
        description=(
            "Fit the Chinchilla law to the pilot runs and choose k new (N, D) runs, costing at "
            "most --new-compute FLOPs together, that minimize the predicted width of the "
            "N_opt(--target-budget) interval (linearized covariance from the Hessian of the "
            "Huber objective; greedy + exchange over a candidate grid). Prints the runs as CSV; "
            "the summary goes to stderr."
        ),
        epilog=EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("data", help="CSV of the pilot runs")
    p.add_argument("--target-budget", type=float, required=True, help="FLOPs of the big run")
    p.add_argument(
        "--new-compute", type=float, required=True, help="FLOPs for all new runs together"
    )
    p.add_argument("--k", type=int, default=8, help="number of runs to choose (default 8)")
    p.add_argument("--candidates", help="CSV of allowed (N, D) (default: a log-spaced grid)")
    p.add_argument("--n-col", default=None, help="column of parameters (default: detected)")
    p.add_argument("--d-col", default=None, help="column of training tokens (default: detected)")
    p.add_argument("--loss-col", default=None, help="column of final losses (default: detected)")
    p.add_argument("--out", help="also write the design as JSON to this file")
    p.add_argument("--plot", help="write a plot of pilot and chosen runs (PNG)")
    p.set_defaults(func=run_design)
    return p


def run_design(args: argparse.Namespace) -> int:
    from scaling_jax.data import load_runs
    from scaling_jax.sizing.design import design

    runs = load_runs(args.data, n=args.n_col, d=args.d_col, loss=args.loss_col)
    candidates = None
    if args.candidates:
        from scaling_jax.data import read_points

        pts = read_points(args.candidates)
        candidates = (pts["N"], pts["D"])
    result = design(
        runs,
        "chinchilla",
        args.target_budget,
        candidates=candidates,
        budget_for_new_runs=args.new_compute,
        k=args.k,
    )
    sys.stdout.write(result.to_csv())
    print(result.summary(), file=sys.stderr)
    if args.out:
        result.to_json(args.out)
        print(f"wrote {args.out}", file=sys.stderr)
    if args.plot:
        from scaling_jax.plots.accuracy import plot_design

        print(f"wrote {plot_design(result, runs, args.plot)}", file=sys.stderr)
    return 0
