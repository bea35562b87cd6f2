"""``scaling-jax compare``: recipe A against recipe B at compute budgets (paired bootstrap).

Wiring (in cli/__init__.py)::

    from scaling_jax.cli import compare as compare_cli
    compare_cli.register_cli(subparsers)
"""

from __future__ import annotations

import argparse
from typing import Any

from ._common import positive_floats
from ._fit_options import add_fit_option_args, fit_option_kwargs, load_kwargs

__all__ = ["register_cli", "run_compare"]

EXAMPLE = """example:
  scaling-jax compare a.csv b.csv --budgets 1e21,1e23,1e24
  scaling-jax compare mix_a.csv mix_b.csv --budgets 1e22 --resamples 1000 --out cmp.json

Each CSV has one row per training run (columns params/N, tokens/D or flops/C, loss); both arms
are bootstrapped with the same seed (paired draws) and compared on compute-optimal loss.
"""


def _grid(text: str) -> str | int:
    if text == "grid":
        return text
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--grid {text!r}: use 'grid' or a number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"--grid {value}: must be >= 1")
    return value


def register_cli(subparsers: Any) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "compare",
        help="compare two recipes' laws at compute budgets (paired bootstrap)",
        description=(
            "Fit the Chinchilla law to two arms (e.g. two data mixes) and compare their "
            "compute-optimal losses at each budget: difference A - B with an interval, "
            "P(A better), and the break-even budget where the laws cross (with an interval)."
        ),
        epilog=EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("runs_a", help="CSV of arm A's runs")
    p.add_argument("runs_b", help="CSV of arm B's runs")
    p.add_argument(
        "--budgets", type=positive_floats("--budgets"), required=True, help="FLOPs, comma-sep."
    )
    p.add_argument("--resamples", type=int, default=400, help="bootstrap draws per arm")
    p.add_argument("--seed", type=int, default=0, help="bootstrap seed (shared: paired draws)")
    p.add_argument("--level", type=float, default=0.9, help="interval coverage (default 0.9)")
    p.add_argument(
        "--grid",
        type=_grid,
        default="grid",
        help="starts of each arm's full-data fit: 'grid' (4500) or a number of random starts",
    )
    p.add_argument("--scheme", choices=("points", "groups", "residual"), default="points")
    p.add_argument("--out", help="write the comparison as JSON")
    add_fit_option_args(p)
    p.set_defaults(func=run_compare)
    return p


def run_compare(args: argparse.Namespace) -> int:
    from scaling_jax.data import load_runs
    from scaling_jax.fitting.comparison import compare

    arms = []
    for name, path in (("A", args.runs_a), ("B", args.runs_b)):
        runs = load_runs(path, **load_kwargs(args))
        print(
            f"arm {name}: {path} ({len(runs)} runs; columns "
            + ", ".join(f"{k} <- {v!r}" for k, v in dict(runs.columns or {}).items())
            + ")"
        )
        arms.append(runs)
    kwargs: dict[str, Any] = {"scheme": args.scheme, **fit_option_kwargs(args, arms[0])}
    if args.n_kind == "non_embedding":
        raise ValueError("compare: --n-kind non_embedding is not supported (widths per arm)")
    if args.grid != "grid":
        kwargs["grid"] = args.grid
    cmp = compare(
        arms[0],
        arms[1],
        args.budgets,
        n_resamples=args.resamples,
        seed=args.seed,
        level=args.level,
        **kwargs,
    )
    print(cmp.table())
    if args.out:
        cmp.to_json(args.out)
        print(f"wrote {args.out}")
    return 0
