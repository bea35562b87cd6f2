"""CLI pieces for laws: ``scaling-jax extrapolate`` and `resolve_law_spec` for ``--law``.

Wiring (in cli.py)::

    from scaling_jax.cli import extrapolate as laws_cli
    laws_cli.register_cli(subparsers)   # adds "extrapolate"; sets func=laws_cli.run_extrapolate
"""

from __future__ import annotations

import argparse
import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from scaling_jax.laws import Law

__all__ = ["resolve_law_spec", "register_cli", "run_extrapolate"]

# --law aliases -> names in scaling_jax.laws (looked up on use: building the command-line
# parser imports this module, and ``scaling-jax --help`` should not import JAX).
_ALIASES = {
    "chinchilla": "CHINCHILLA",
    "kaplan": "KAPLAN",
    "data-constrained": "DATA_CONSTRAINED",
    "data-constrained-frozen": "DATA_CONSTRAINED_FROZEN",
}


def resolve_law_spec(spec: str) -> Law:
    """A `Law` from ``chinchilla | kaplan | data-constrained | data-constrained-frozen``, any
    name in `scaling_jax.laws.LAWS`, or ``module:function`` (a function returning a `Law`, or
    a `Law` object of that name)."""
    from scaling_jax import laws  # noqa: PLC0415 -- see _ALIASES

    spec = spec.strip()
    key = spec.lower()
    if key in _ALIASES:
        return getattr(laws, _ALIASES[key])
    if key.replace("-", "_") in laws.LAWS:
        return laws.LAWS[key.replace("-", "_")]
    if ":" not in spec:
        known = sorted({*_ALIASES, *laws.LAWS})
        raise ValueError(f"unknown law {spec!r}; use one of {known} or module:function")
    module_name, _, attr = spec.partition(":")
    try:
        obj = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as err:
        raise ValueError(
            f"law {spec!r}: cannot load {attr!r} from {module_name!r}: {err}"
        ) from None
    law = obj if isinstance(obj, laws.Law) else obj() if callable(obj) else obj
    if not isinstance(law, laws.Law):
        raise ValueError(f"law {spec!r} gave {type(law).__name__}, not a scaling_jax Law")
    return law


def register_cli(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``extrapolate`` sub-command to an argparse subparsers object."""
    from scaling_jax.cli._common import (
        add_command,
        fraction,
        nonnegative_int,
        out_file,
        positive_float,
    )
    from scaling_jax.cli.fit import add_data_options, parse_starts

    p = add_command(
        subparsers,
        "extrapolate",
        "fit laws on small runs, score predictions on held-out large runs",
        "Fit each law to the runs at or below a threshold and report held-out errors "
        "(RMSE of log-loss, max relative error, bias), and with --resamples the coverage of "
        "prediction intervals.",
    )
    add_data_options(p)
    p.add_argument(
        "--holdout-above",
        type=positive_float("--holdout-above"),
        required=True,
        help="hold out runs above this threshold (FLOPs with --by compute, parameters with --by N)",
    )
    p.add_argument(
        "--by",
        choices=("compute", "N"),
        default="compute",
        help="what --holdout-above thresholds: training FLOPs C = 6ND, or parameters N",
    )
    p.add_argument(
        "--laws",
        default="chinchilla,kaplan",
        help="comma-separated laws to compare (names as fit --law, or module:function)",
    )
    p.add_argument(
        "--starts",
        type=parse_starts,
        default="grid",
        help="'grid' (each law's own start grid) or a number of random starts",
    )
    p.add_argument(
        "--mode",
        choices=("full", "fast"),
        default="fast",
        help="fit mode (see `scaling-jax fit --help`)",
    )
    p.add_argument(
        "--resamples",
        type=nonnegative_int("--resamples"),
        default=0,
        help="residual-bootstrap resamples for prediction intervals (0: no intervals)",
    )
    p.add_argument(
        "--level",
        type=fraction("--level", closed=False),
        default=0.9,
        help="nominal coverage of the prediction intervals",
    )
    p.add_argument(
        "--out",
        type=out_file("--out"),
        default=None,
        help="write the table as JSON here, and as CSV beside it",
    )
    p.set_defaults(func=run_extrapolate)
    return p


def run_extrapolate(args: argparse.Namespace) -> int:
    """Run ``scaling-jax extrapolate``; prints the summary, returns the exit code."""
    from scaling_jax.cli._common import glossary, write_csv, write_json
    from scaling_jax.data import load_runs
    from scaling_jax.fitting.extrapolation import compare_laws

    specs = [s for s in args.laws.split(",") if s.strip()]
    if not specs:
        raise ValueError("--laws is empty; name at least one law")
    laws = [resolve_law_spec(s) for s in specs]
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
    table = compare_laws(
        runs,
        laws,
        holdout_above=args.holdout_above,
        by=args.by,
        fit_kwargs={"starts": args.starts, "mode": args.mode},
        n_resamples=args.resamples,
        level=args.level,
    )
    print(table.summary())
    n_test = int(table.test_mask.sum())
    if n_test < 5:
        print(
            f"warning: only {n_test} held-out run{'s' if n_test != 1 else ''}: the errors above "
            "rest on very few points; lower --holdout-above for a firmer check"
        )
    for r in table.rows:
        if r.coverage is not None and n_test:
            # Binomial s.e. of a coverage fraction at the nominal level.
            se = (args.level * (1 - args.level) / n_test) ** 0.5
            if r.coverage < args.level - 2 * se:
                print(
                    f"warning: {r.law}: coverage {r.coverage:.2f} is well below the nominal "
                    f"{args.level:.0%}: its intervals are too narrow for these held-out runs "
                    "(the residual bootstrap misses extrapolation error)"
                )
    print(glossary("RMSE", "bias", "coverage"))
    if args.out:
        written = [write_json(args.out, table.to_dict())]
        rows = [r.to_dict() for r in table.rows]
        keys = [k for k, v in rows[0].items() if not isinstance(v, (list, dict))]
        written.append(
            write_csv(args.out.with_suffix(".csv"), keys, [[r[k] for k in keys] for r in rows])
        )
        print("wrote " + ", ".join(str(w) for w in written))
    return 0
