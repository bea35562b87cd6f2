"""``scaling-jax isoflop``: Chinchilla Approach 2 (IsoFLOP profiles) on a CSV of final runs,
or Approach 1 (``--curves``, training-curve envelope) on logged training curves.

Real runs rarely sit on exact budgets: ``--budgets`` bins each run to its nearest budget in
log C (``--bins K`` infers K log-spaced budgets), budgets with too few runs are dropped with a
warning (``--strict`` makes that an error), and ``--cubic`` fits a cubic profile instead of
the paper's parabola.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

import numpy as np

from scaling_jax.cli._common import (
    add_command,
    glossary,
    image_file,
    out_file,
    positive_float,
    positive_floats,
    positive_int,
    write_csv,
    write_json,
)

__all__ = ["register_cli", "run_isoflop", "PAPER_BUDGETS"]

# Hoffmann et al. 2022, Figure 3: the nine IsoFLOP budgets of Approach 2.
PAPER_BUDGETS = (6e18, 1e19, 3e19, 6e19, 1e20, 3e20, 6e20, 1e21, 3e21)


def _factor(option: str) -> Any:
    def parse(text: str) -> float:
        value = positive_float(option)(text)
        if value <= 1:
            raise argparse.ArgumentTypeError(f"{text}: must be a factor > 1")
        return value

    return parse


def _budgets(text: str) -> Any:
    if text.strip().lower() == "paper":
        return list(PAPER_BUDGETS)
    return positive_floats("--budgets")(text)


def register_cli(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``isoflop`` sub-command (``func`` = `run_isoflop`)."""
    q = add_command(
        subparsers,
        "isoflop",
        "Chinchilla approach 2 (IsoFLOP profiles), or 1 with --curves",
        "Approach 2: per training budget, fit loss against log N and take its minimum "
        "N_opt(C); then fit N_opt = k·C^a_N and D_opt = k'·C^b_D. Approach 1 (--curves): the "
        "lower envelope of training curves. Units: N parameters, D tokens, C FLOPs.",
    )
    q.add_argument("runs", help="CSV with one row per run (or per logged point with --curves)")
    q.add_argument(
        "--curves",
        action="store_true",
        help="approach 1: the CSV holds training curves (N, FLOPs so far, loss[, run id])",
    )
    q.add_argument("--run-col", default=None, help="run id column for --curves (default: N)")
    q.add_argument("--n-col", default="N", help="parameters column")
    q.add_argument("--loss-col", default="loss", help="loss column (nats/token)")
    q.add_argument(
        "--compute-col",
        default="compute",
        help="FLOPs column (if absent, C = 6·N·D from --d-col)",
    )
    q.add_argument("--d-col", default=None, help="tokens column (used when there is no FLOPs one)")
    group = q.add_mutually_exclusive_group()
    group.add_argument(
        "--budgets",
        type=_budgets,
        default=None,
        help="bin runs to these budgets (FLOPs, comma-separated; 'paper' = Hoffmann et al.'s "
        "6e18..3e21): each run joins its nearest budget in log C",
    )
    group.add_argument(
        "--bins",
        type=positive_int("--bins"),
        default=None,
        help="infer K budgets: split the runs' log C at the K-1 widest gaps",
    )
    q.add_argument(
        "--tolerance",
        type=_factor("--tolerance"),
        default=None,
        help="with --budgets/--bins: leave out runs farther than this factor from every "
        "budget (default: no limit)",
    )
    q.add_argument(
        "--rtol",
        type=positive_float("--rtol"),
        default=0.01,
        help="without --budgets/--bins: runs whose budgets differ by less than this relative "
        "amount form one group (runs placed on exact budgets)",
    )
    q.add_argument(
        "--min-runs",
        type=positive_int("--min-runs"),
        default=None,
        help="runs a budget needs (default 3 for the parabola, 4 for --cubic)",
    )
    q.add_argument(
        "--strict",
        action="store_true",
        help="fail on a budget with too few runs instead of dropping it with a warning",
    )
    q.add_argument("--cubic", action="store_true", help="fit cubic profiles, not parabolas")
    q.add_argument(
        "--out",
        type=out_file("--out"),
        default=None,
        help="write the result as JSON here, and the per-budget table as CSV beside it",
    )
    q.add_argument("--plot", type=image_file("--plot"), default=None, help="save a plot here")
    q.set_defaults(func=run_isoflop)
    return q


def _table(res: Any) -> tuple[list[str], list[list[float]]]:
    cols = ["compute", "n_opt", "d_opt", "loss_opt"]
    if res.approach == 2:
        cols += ["log_n_opt_stderr", "n_runs"]
    rows = [[float(np.asarray(getattr(res, c))[i]) for c in cols] for i in range(res.compute.size)]
    return cols, rows


def run_isoflop(args: argparse.Namespace) -> int:
    """Approach 2 on final runs, or approach 1 (``--curves``) on logged training curves; print
    the summary, optionally save JSON, CSV and a plot."""
    from scaling_jax.sizing.isoflop import envelope_fit, isoflop_fit

    if args.curves and (args.budgets or args.bins or args.cubic):
        raise ValueError("--budgets, --bins and --cubic apply to approach 2, not --curves")
    if args.tolerance is not None and not (args.budgets or args.bins):
        raise ValueError("--tolerance applies with --budgets or --bins")
    if args.curves:
        res = envelope_fit(
            args.runs,
            n_col=args.n_col,
            flops_col=args.compute_col,
            loss_col=args.loss_col,
            run_col=args.run_col,
        )
    else:
        try:
            res = isoflop_fit(
                args.runs,
                n_col=args.n_col,
                loss_col=args.loss_col,
                compute_col=args.compute_col,
                d_col=args.d_col,
                rtol=args.rtol,
                budgets=args.budgets if args.budgets is not None else args.bins,
                tolerance=args.tolerance,
                min_runs=args.min_runs,
                drop_small=not args.strict,
                degree=3 if args.cubic else 2,
            )
        except ValueError as err:
            hint = (
                ""
                if args.budgets or args.bins
                else "; real runs rarely share exact budgets: bin them with --budgets (e.g. "
                "--budgets paper) or --bins K"
            )
            raise ValueError(f"{err}{hint}") from None
        need = args.min_runs or (4 if args.cubic else 3)
        few = [d for d in res.dropped if d["reason"] == "too few runs"]
        if few:
            listed = ", ".join(f"{d['compute']:.3g} ({d['runs']})" for d in few[:8])
            more = f" and {len(few) - 8} more" if len(few) > 8 else ""
            print(
                f"warning: dropped {len(few)} budget(s) with fewer than {need} runs, "
                f"FLOPs (runs): {listed}{more}",
                file=sys.stderr,
            )
        for d in res.dropped:
            if d["reason"] == "no minimum":
                print(
                    f"warning: dropped budget {d['compute']:.3g} FLOPs ({d['runs']} runs): its "
                    f"{'cubic' if args.cubic else 'parabola'} has no minimum in its range of N",
                    file=sys.stderr,
                )
        if len(few) > res.compute.size and not (args.budgets or args.bins):
            print(
                "warning: most budgets were dropped: real runs rarely share exact budgets; "
                "bin them with --budgets (e.g. --budgets paper) or --bins K",
                file=sys.stderr,
            )
        if res.n_runs_unbinned:
            print(
                f"warning: {res.n_runs_unbinned} runs lie farther than x{args.tolerance:g} "
                "from every budget and were left out",
                file=sys.stderr,
            )
    print(res.summary())
    cols, rows = _table(res)
    print(
        f"  {'C (FLOPs)':>11} {'N_opt (params)':>15} {'D_opt (tokens)':>15} "
        f"{'loss (nats/token)':>18}"
        + (f" {'± log N_opt':>12} {'runs':>5}" if len(cols) > 4 else "")
    )
    for r in rows:
        extra = f" {r[4]:12.3f} {int(r[5]):5d}" if len(r) > 4 else ""
        print(f"  {r[0]:11.3e} {r[1]:15.4e} {r[2]:15.4e} {r[3]:18.4f}" + extra)
    print(glossary("C", "N_opt", "D_opt", "a_N", "b_D", "±"))
    written = []
    if args.out:
        written.append(write_json(args.out, res.to_dict()))
        written.append(write_csv(args.out.with_suffix(".csv"), cols, rows))
    if args.plot:
        from scaling_jax.plots.optimal import plot_frontier, plot_isoflop

        if res.approach == 2:
            plot_isoflop(res, args.plot)
        else:
            plot_frontier([res], args.plot, frontiers=["chinchilla_1"])
        written.append(args.plot)
    if written:
        print("wrote " + ", ".join(str(w) for w in written))
    return 0
