"""CLI pieces for laws: ``scaling-jax extrapolate`` and `resolve_law_spec` for ``--law``.

Wiring (in cli.py)::

    from scaling_jax.cli import extrapolate as laws_cli
    laws_cli.register_cli(subparsers)   # adds "extrapolate"; sets func=laws_cli.run_extrapolate
"""

from __future__ import annotations

import argparse
import importlib
from typing import Any

from scaling_jax.laws import (
    CHINCHILLA,
    DATA_CONSTRAINED,
    DATA_CONSTRAINED_FROZEN,
    KAPLAN,
    LAWS,
    Law,
)

__all__ = ["resolve_law_spec", "register_cli", "run_extrapolate"]

_ALIASES = {
    "chinchilla": CHINCHILLA,
    "kaplan": KAPLAN,
    "data-constrained": DATA_CONSTRAINED,
    "data-constrained-frozen": DATA_CONSTRAINED_FROZEN,
}


def resolve_law_spec(spec: str) -> Law:
    """A `Law` from ``chinchilla | kaplan | data-constrained | data-constrained-frozen``, any
    name in `scaling_jax.laws.LAWS`, or ``module:function`` (a function returning a `Law`, or
    a `Law` object of that name)."""
    spec = spec.strip()
    key = spec.lower()
    if key in _ALIASES:
        return _ALIASES[key]
    if key.replace("-", "_") in LAWS:
        return LAWS[key.replace("-", "_")]
    if ":" not in spec:
        known = sorted({*_ALIASES, *LAWS})
        raise ValueError(f"unknown law {spec!r}; use one of {known} or module:function")
    module_name, _, attr = spec.partition(":")
    try:
        obj = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as err:
        raise ValueError(
            f"law {spec!r}: cannot load {attr!r} from {module_name!r}: {err}"
        ) from None
    law = obj if isinstance(obj, Law) else obj() if callable(obj) else obj
    if not isinstance(law, Law):
        raise ValueError(f"law {spec!r} gave {type(law).__name__}, not a scaling_jax Law")
    return law


def register_cli(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``extrapolate`` sub-command to an argparse subparsers object."""
    p = subparsers.add_parser(
        "extrapolate",
        help="fit laws on small runs, score predictions on held-out large runs",
        description="Fit each law to the runs at or below a threshold and report held-out "
        "errors (RMSE of log-loss, max relative error, bias).",
    )
    p.add_argument("data", help="CSV file of runs")
    p.add_argument("--holdout-above", type=float, required=True, help="threshold (FLOPs or N)")
    p.add_argument("--by", choices=("compute", "N"), default="compute")
    p.add_argument("--laws", default="chinchilla,kaplan", help="comma-separated law specs")
    p.add_argument("--n-col", default="N")
    p.add_argument("--d-col", default="D")
    p.add_argument("--loss-col", default="loss")
    p.add_argument("--compute-col", default=None, help="derive D = C / (6N) from this column")
    p.add_argument("--unique-col", default=None, help="unique-token column (feature U)")
    p.add_argument("--starts", default="grid", help="'grid' or a number of random starts")
    p.add_argument("--mode", choices=("full", "fast"), default="fast")
    p.add_argument("--resamples", type=int, default=0, help="residual-bootstrap resamples")
    p.add_argument("--out", default=None, help="write the table as JSON")
    p.set_defaults(func=run_extrapolate)
    return p


def run_extrapolate(args: argparse.Namespace) -> int:
    """Run ``scaling-jax extrapolate``; prints the summary, returns the exit code."""
    from scaling_jax.data import load_runs
    from scaling_jax.fitting.extrapolation import compare_laws

    laws = [resolve_law_spec(s) for s in args.laws.split(",") if s.strip()]
    extra = {"U": args.unique_col} if args.unique_col else None
    needs_u = [law.name for law in laws if "U" in law.feature_names]
    if needs_u and extra is None:
        raise ValueError(f"laws {needs_u} need unique tokens: pass --unique-col")
    runs = load_runs(
        args.data,
        n=args.n_col,
        d=args.d_col,
        loss=args.loss_col,
        compute=args.compute_col,
        extra=extra,
    )
    starts: Any = int(args.starts) if args.starts.isdigit() else args.starts
    table = compare_laws(
        runs,
        laws,
        holdout_above=args.holdout_above,
        by=args.by,
        fit_kwargs={"starts": starts, "mode": args.mode},
        n_resamples=args.resamples,
    )
    print(table.summary())
    if args.out:
        table.to_json(args.out)
    return 0
