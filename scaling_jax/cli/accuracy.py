"""``scaling-jax accuracy``: loss -> metric links and the cheapest model reaching a target.

Fits the Chinchilla loss law and a loss -> metric link for every ``--metric`` column of a runs
CSV, both bootstrapped with the same resamples (a joint bootstrap), then prints CSV: the
cheapest (N, D) whose predicted metric reaches ``--target`` (training FLOPs only, and with
``--inference-tokens`` also the lifetime form), and the predicted metric at ``--budgets``.

Wiring (in cli/__init__.py)::

    from scaling_jax.cli import accuracy as accuracy_cli
    accuracy_cli.register_cli(subparsers)
"""

from __future__ import annotations

import argparse
import csv
import sys
from typing import Any

from ._common import positive_floats

__all__ = ["register_cli", "run_accuracy"]

EXAMPLE = """example (Sardana et al. 2024's 47 runs):
  scaling-jax accuracy sardana_trainingresults_47.csv --n-col Parameters --d-col Tokens \\
      --loss-col "Smoothed Loss" --metric eval_gauntlet/core_average,mmlu_5_shot_avg \\
      --link exponential --floor chance --target 0.6 --inference-tokens 1e12
"""

TARGET_FIELDS = (
    "metric",
    "target",
    "inference_tokens",
    "reachable",
    "p_reachable",
    "loss",
    "loss_low",
    "loss_high",
    "N",
    "N_low",
    "N_high",
    "D_train",
    "D_train_low",
    "D_train_high",
    "train_flops",
    "train_flops_low",
    "train_flops_high",
    "total_flops",
    "total_flops_low",
    "total_flops_high",
)


def _floor(text: str) -> Any:
    if text == "chance":
        return text
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--floor {text!r}: use 'chance' or a number") from None


def register_cli(subparsers: Any) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "accuracy",
        help="loss -> metric links; cheapest model reaching a target metric (CSV)",
        description=(
            "Fit the Chinchilla loss law and a loss -> metric link (sigmoid, Gadre et al.'s "
            "exponential, or linear on the logit scale) for each metric column, with a joint "
            "bootstrap; print as CSV the cheapest (N, D) reaching --target and the predicted "
            "metric at --budgets, with percentile intervals. Fit summaries go to stderr."
        ),
        epilog=EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("data", help="CSV of runs: N, D, loss and the metric columns")
    p.add_argument("--metric", required=True, help="metric column(s), comma-separated")
    p.add_argument("--target", type=float, help="metric value to reach, e.g. 0.6")
    p.add_argument("--link", default="sigmoid", choices=("sigmoid", "exponential", "logit"))
    p.add_argument(
        "--floor",
        type=_floor,
        default=None,
        help="fix the link's floor: a number, or 'chance' (0.25 for MMLU, 0 for Eval Gauntlet)",
    )
    p.add_argument("--ceiling", type=float, default=None, help="fix the link's ceiling")
    p.add_argument(
        "--inference-tokens",
        type=float,
        default=0.0,
        help="lifetime form: also serve this many inference tokens (FLOPs 6ND + 2NT)",
    )
    p.add_argument(
        "--budgets",
        type=positive_floats("--budgets"),
        default=None,
        help="also predict the metric at these compute budgets (FLOPs, comma-separated)",
    )
    p.add_argument("--resamples", type=int, default=200, help="bootstrap resamples (0: none)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--level", type=float, default=0.95, help="interval level (default 0.95)")
    p.add_argument("--n-col", default=None, help="column of parameters (default: detected)")
    p.add_argument("--d-col", default=None, help="column of training tokens (default: detected)")
    p.add_argument("--loss-col", default=None, help="column of final losses (default: detected)")
    p.add_argument("--out", help="also write the link fit as JSON to this file")
    p.add_argument("--plot", help="write a metric-vs-loss plot of the first metric (PNG)")
    p.set_defaults(func=run_accuracy)
    return p


def run_accuracy(args: argparse.Namespace) -> int:
    from scaling_jax.data import load_runs
    from scaling_jax.fitting.link_fit import fit_links
    from scaling_jax.fitting.multistart import fit
    from scaling_jax.fitting.resampling import bootstrap
    from scaling_jax.sizing.accuracy import predict_metric, reach_metric

    metrics = [m.strip() for m in args.metric.split(",") if m.strip()]
    if not metrics:
        raise ValueError("--metric: give at least one column name")
    if args.resamples < 0:
        raise ValueError(f"--resamples must be >= 0, got {args.resamples}")
    runs = load_runs(args.data, n=args.n_col, d=args.d_col, loss=args.loss_col, extra=metrics)
    if args.resamples:
        law = bootstrap(runs, n_resamples=args.resamples, seed=args.seed, progress=False)
    else:
        law = fit(runs, mode="fast")
    links = fit_links(
        runs,
        metrics,
        args.link,
        floor=args.floor,
        ceiling=args.ceiling,
        n_resamples=args.resamples,
        seed=args.seed,
    )
    print(links.summary(), file=sys.stderr)
    out = csv.writer(sys.stdout, lineterminator="\n")
    if args.target is not None:
        out.writerow(TARGET_FIELDS)
        forms = [0.0] + ([args.inference_tokens] if args.inference_tokens > 0 else [])
        for m in metrics:
            for T in forms:
                t = reach_metric(law, links, m, args.target, inference_tokens=T, level=args.level)
                row: list[Any] = [m, t.target, T, t.reachable, f"{t.p_reachable:.3f}"]
                for k in ("loss", "N", "D_train", "train_flops", "total_flops"):
                    lo, hi = t.intervals[k]
                    row += [f"{getattr(t, k):.6g}", f"{lo:.6g}", f"{hi:.6g}"]
                out.writerow(row)
    if args.budgets:
        pred = predict_metric(law, links, compute=args.budgets, level=args.level)
        rows = pred.rows()
        out.writerow(list(rows[0]))
        for r in rows:
            out.writerow([v if isinstance(v, str) else f"{v:.6g}" for v in r.values()])
    if args.target is None and not args.budgets:
        print("(give --target and/or --budgets for predictions)", file=sys.stderr)
    if args.out:
        links.to_json(args.out)
        print(f"wrote {args.out}", file=sys.stderr)
    if args.plot:
        from scaling_jax.plots.accuracy import plot_link

        print(f"wrote {plot_link(links, runs, metrics[0], args.plot)}", file=sys.stderr)
    return 0
