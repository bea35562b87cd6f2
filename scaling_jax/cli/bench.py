"""``scaling-jax bench``: fit, bootstrap and lifetime throughput on this machine's JAX backend.

Wire into the main parser with ``register_cli(subparsers)`` (sets ``func``).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

__all__ = ["register_cli", "run_bench"]


def _devices(text: str) -> Any:
    if text == "all":
        return text
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--devices {text!r}: use 'all' or a number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"--devices {value}: must be >= 1")
    return value


def _positive_int(option: str) -> Any:
    def parse(text: str) -> int:
        try:
            value = int(float(text))
        except ValueError:
            raise argparse.ArgumentTypeError(f"{option} {text!r}: expected an integer") from None
        if value < 1 or value != float(text):
            raise argparse.ArgumentTypeError(f"{option} {text!r}: expected an integer >= 1")
        return value

    return parse


def _starts(text: str) -> Any:
    if text in ("warm", "grid"):
        return text
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--starts {text!r}: use 'warm', 'grid' or N") from None


def register_cli(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``bench`` sub-command (``func`` = `run_bench`)."""
    p = subparsers.add_parser(
        "bench",
        help="measure fit/bootstrap/lifetime throughput on this machine (vs scipy)",
        description="Time the 4500-start Chinchilla fit (full and fast modes), a bootstrap, "
        "lifetime-optimal sizing and scipy's L-BFGS-B loop on the same data and starts, on the "
        "current JAX backend; print a report and optionally write a JSON record.",
    )
    p.add_argument("data", nargs="?", default=None, help="CSV of runs (default: synthetic)")
    p.add_argument("--n-col", default="N")
    p.add_argument("--d-col", default="D")
    p.add_argument("--loss-col", default="loss")
    p.add_argument("--compute-col", default=None, help="derive D = C/(6N) from this column")
    p.add_argument("--quick", action="store_true", help="small sizes (well under a minute)")
    p.add_argument("--dtype", choices=("float64", "float32"), default="float64")
    p.add_argument("--devices", type=_devices, default="all", help="'all' or N local devices")
    p.add_argument(
        "--resamples",
        type=_positive_int("--resamples"),
        default=None,
        help="bootstrap resamples (default 1000 on CPU, 4000 on an accelerator; 100 quick)",
    )
    p.add_argument(
        "--starts",
        type=_starts,
        default=None,
        help="bootstrap starts: warm | grid | N (default warm on CPU, grid on an accelerator)",
    )
    p.add_argument(
        "--fit-starts",
        type=_positive_int("--fit-starts"),
        default=None,
        help="fit starts spread over the 4500-point grid (default 4500; 1125 quick)",
    )
    p.add_argument("--scipy-starts", type=_positive_int("--scipy-starts"), default=None)
    p.add_argument("--scenarios", type=_positive_int("--scenarios"), default=None)
    p.add_argument("--memory-gib", type=float, default=None, help="bootstrap chunk budget")
    p.add_argument("--out", default=None, help="write the JSON record here")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=run_bench)
    return p


def run_bench(args: argparse.Namespace) -> int:
    from scaling_jax.benchmark import bench, format_report  # noqa: PLC0415

    load = {}
    if args.data is not None:
        load = dict(n=args.n_col, d=args.d_col, loss=args.loss_col, compute=args.compute_col)
    record = bench(
        args.data,
        quick=args.quick,
        dtype=args.dtype,
        devices=args.devices,
        resamples=args.resamples,
        bootstrap_starts=args.starts,
        fit_starts=args.fit_starts,
        scipy_starts=args.scipy_starts,
        scenarios=args.scenarios,
        memory_budget=None if args.memory_gib is None else args.memory_gib * 2**30,
        progress=not args.no_progress and sys.stderr.isatty(),
        out=args.out,
        **load,
    )
    print(format_report(record))
    if args.out:
        print(f"wrote {args.out}")
    return 130 if record.get("interrupted") else 0
