"""``scaling-jax predict``: predicted loss with mean and new-run intervals at new points.

Wiring (in cli/__init__.py)::

    from scaling_jax.cli import predict as predict_cli
    predict_cli.register_cli(subparsers)
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np

from ._common import positive_floats

__all__ = ["register_cli", "run_predict", "load_result"]

EXAMPLE = """example:
  scaling-jax fit runs.csv --out fit.json
  scaling-jax predict fit.json --n 7e10 --d 1.4e12
  scaling-jax predict fit.json --n 1e9,7e10 --d 2e10,1.4e12 --level 0.9 --out pred.csv
  scaling-jax predict fit.json --points new_runs.csv      # columns N and D (or params, tokens)
  scaling-jax predict boot/bootstrap.json --runs runs.csv --n 7e10 --d 1.4e12
"""


def load_result(path: str | Path) -> Any:
    """A `FitResult` or `BootstrapResult` from its JSON file (bootstrap: the file or folder)."""
    from scaling_jax.fitting.multistart import FitResult
    from scaling_jax.fitting.resampling import BootstrapResult

    p = Path(path)
    if p.is_dir():
        p = p / "bootstrap.json"
    if not p.is_file():
        raise ValueError(f"result file not found: {str(path)!r}")
    try:
        blob = json.loads(p.read_text())
    except json.JSONDecodeError as err:
        raise ValueError(f"{str(p)!r} is not a JSON result file ({err})") from None
    if not isinstance(blob, dict) or "law" not in blob:
        raise ValueError(f"{str(p)!r} is not a scaling_jax fit or bootstrap result")
    if "theta_hat" in blob:
        return BootstrapResult.from_dict(blob)
    return FitResult.from_dict(blob)


def _points(args: argparse.Namespace) -> tuple[np.ndarray, np.ndarray]:
    if args.points:
        if args.n or args.d:
            raise ValueError("give either --points FILE or --n/--d, not both")
        from scaling_jax.data import read_points

        cols = read_points(args.points)
        print("points: " + ", ".join(f"{k} <- column {v!r}" for k, v in cols["columns"].items()))
        return cols["N"], cols["D"]
    if not args.n or not args.d:
        raise ValueError("give the new points as --n and --d (comma-separated) or --points FILE")
    N, D = np.asarray(args.n), np.asarray(args.d)
    if len(N) != len(D) and 1 not in (len(N), len(D)):
        raise ValueError(f"--n has {len(N)} values and --d has {len(D)}; give equal numbers")
    return np.broadcast_arrays(N, D)


def register_cli(subparsers: Any) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "predict",
        help="predicted loss with mean and new-run intervals at new (N, D)",
        description=(
            "Predicted loss at new points from a fit or bootstrap result: a mean (confidence) "
            "interval and a new-run (prediction) interval that adds run-to-run noise "
            "(Student-t on log-loss residuals), and whether each point is interpolation or "
            "extrapolation (decades beyond the fitted runs in N, D and C)."
        ),
        epilog=EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("result", help="fit JSON (scaling-jax fit --out) or bootstrap JSON/folder")
    p.add_argument("--n", type=positive_floats("--n"), help="parameters, comma-separated")
    p.add_argument("--d", type=positive_floats("--d"), help="training tokens, comma-separated")
    p.add_argument("--points", help="CSV of new points (columns N/params and D/tokens)")
    p.add_argument("--runs", help="CSV of the fitted runs (needed for a bootstrap result)")
    p.add_argument("--level", type=float, default=0.9, help="interval coverage (default 0.9)")
    p.add_argument("--out", help="write the table as CSV (.csv) or JSON (other suffixes)")
    p.set_defaults(func=run_predict)
    return p


def run_predict(args: argparse.Namespace) -> int:
    from scaling_jax.fitting.prediction import predict

    result = load_result(args.result)
    N, D = _points(args)
    runs = None
    if args.runs:
        from scaling_jax.data import load_runs

        runs = load_runs(args.runs)
    pred = predict(result, N, D, level=args.level, runs=runs)
    print(pred.table())
    if args.out:
        if str(args.out).endswith(".csv"):
            pred.to_csv(args.out)
        else:
            pred.to_json(args.out)
        print(f"wrote {args.out}")
    return 0
