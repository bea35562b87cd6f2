"""``scaling-jax fit``: fit a law to a CSV of training runs.

Prints the fit, and for laws that allow it the compute-optimal allocation at ``--budgets``.
``--out`` writes a compact JSON (the per-start table only with ``--starts-table``) and the
allocation table as CSV beside it; ``--plot`` draws the fit against the data.
"""

from __future__ import annotations

import argparse
from typing import Any

from scaling_jax.cli._common import (
    LawChoice,
    add_command,
    glossary,
    image_file,
    out_file,
    positive_float,
    positive_floats,
    resolve_law_form,
    write_csv,
    write_json,
)

__all__ = [
    "register_cli",
    "run_fit",
    "parse_starts",
    "LAW_FORMS",
    "fit_glossary",
    "echo_columns",
    "add_data_options",
]

DEFAULT_BUDGETS = (1e21, 5.76e23, 1e25)

LAW_FORMS = (
    "chinchilla: L = E + A/N^alpha + B/D^beta (Hoffmann et al. 2022, eq. 2); "
    "kaplan: L = [(N_c/N)^(alpha_N/alpha_D) + D_c/D]^alpha_D (Kaplan et al. 2020, eq. 1.5); "
    "data-constrained: repeated data (Muennighoff et al. 2023, eq. 5; needs --unique-col)"
)


def parse_starts(text: str) -> str | int:
    """``grid`` (the law's own grid) or a number of random starts >= 1."""
    if text == "grid":
        return text
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--starts {text!r}: use 'grid' or a number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"--starts {value}: must be >= 1")
    return value


def add_data_options(p: argparse.ArgumentParser, unique: bool = True) -> None:
    """The CSV column options shared by fit, bootstrap and extrapolate."""
    p.add_argument("data", help="CSV file with one row per training run")
    p.add_argument(
        "--n-col", default=None, help="column of parameter counts (default: params/N/...)"
    )
    p.add_argument(
        "--d-col", default=None, help="column of training tokens (default: tokens/D/...)"
    )
    p.add_argument(
        "--loss-col",
        default=None,
        help="column of final losses, nats/token (default: loss/eval_loss/...)",
    )
    p.add_argument(
        "--compute-col", default=None, help="derive D = C/(6N) from this FLOPs column instead"
    )
    if unique:
        p.add_argument(
            "--unique-col",
            default=None,
            help="column of unique tokens U per run (data-constrained laws need it)",
        )


def add_law_form_option(p: argparse.ArgumentParser) -> None:
    """``--law`` for commands that fit a law (the form; constants come from the data)."""
    p.add_argument(
        "--law",
        default="chinchilla",
        help="law to fit: chinchilla | kaplan | data-constrained | data-constrained-frozen | "
        "a preset name (its law) | a fit/bootstrap JSON (its law) | module:function",
    )


def echo_columns(runs: Any) -> str:
    """One line naming the columns `load_runs` chose for each role."""
    cols = dict(runs.columns or {})
    return "columns: " + ", ".join(f"{k} <- {v!r}" for k, v in cols.items())


def check_unique_col(law: Any, unique_col: str | None) -> None:
    """Refuse a law that needs unique tokens without ``--unique-col`` (before reading data)."""
    if "U" in law.feature_names and not unique_col:
        raise ValueError(
            f"law {law.name} needs unique tokens per run: pass --unique-col COLUMN "
            "(the CSV column of unique tokens U)"
        )


def fit_glossary(law_name: str) -> str:
    terms = ["objective", "best basin"]
    if law_name.startswith(("chinchilla", "data_constrained")):
        terms.insert(0, "A, B, E, alpha, beta")
        terms.insert(1, "log_A, log_B, log_E")
    return glossary(*terms)


def register_cli(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``fit`` sub-command (``func`` = `run_fit`)."""
    p = add_command(
        subparsers,
        "fit",
        "fit a law to a CSV of training runs",
        "Multi-start Huber/L-BFGS fit of a scaling law to final losses. " + LAW_FORMS,
    )
    add_data_options(p)
    add_law_form_option(p)
    p.add_argument("--delta", type=positive_float("--delta"), default=1e-3, help="Huber threshold")
    p.add_argument(
        "--starts",
        type=parse_starts,
        default="grid",
        help="'grid' = the law's own start grid (4500 for chinchilla, 400 for kaplan) or a "
        "number of random starts",
    )
    p.add_argument(
        "--mode",
        choices=("full", "fast"),
        default="full",
        help="full: every start runs L-BFGS to convergence; fast: screen all starts a few "
        "steps, finish the best",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of random starts")
    p.add_argument(
        "--budgets",
        type=positive_floats("--budgets"),
        default=list(DEFAULT_BUDGETS),
        help="training budgets (FLOPs, comma-separated) for the allocation table",
    )
    p.add_argument(
        "--out",
        type=out_file("--out"),
        default=None,
        help="write the fit as compact JSON here, and the allocation table as CSV beside it",
    )
    p.add_argument(
        "--starts-table",
        action="store_true",
        help="include the per-start table in --out (large: one row per start)",
    )
    p.add_argument(
        "--plot",
        type=image_file("--plot"),
        default=None,
        help="save predicted vs observed loss (the fit against the data) here",
    )
    from scaling_jax.cli import _fit_options

    _fit_options.add_fit_option_args(p)
    p.set_defaults(func=run_fit)
    return p


def run_fit(args: argparse.Namespace) -> int:
    """Execute ``scaling-jax fit``."""
    from scaling_jax.cli.optimal import allocation_rows, format_rows, method_of
    from scaling_jax.fitting.multistart import fit

    law = resolve_law_form(args.law)
    check_unique_col(law, args.unique_col)
    if args.starts_table and not args.out:
        raise ValueError("--starts-table needs --out")
    from scaling_jax.cli._fit_options import fit_option_kwargs, load_fit_runs

    runs = load_fit_runs(args)
    print(echo_columns(runs))
    print(f"fitting the {law.name} law to {len(runs)} runs from {args.data}")
    result = fit(
        runs,
        law=law,
        starts=args.starts,
        delta=args.delta,
        mode=args.mode,
        seed=args.seed,
        **fit_option_kwargs(args, runs),
    )
    print(result.summary())
    print(fit_glossary(law.name))
    choice = LawChoice(law, result.params, f"this fit of {args.data}", "scaling_jax fit")
    rows = None
    try:
        method = method_of(choice)
    except ValueError as why:
        print(f"no allocation table: {why}")
    else:
        rows = allocation_rows(choice, args.budgets)
        print(f"compute-optimal allocation of the fitted law; method: {method}")
        print("\n".join(format_rows(rows)))
    written = []
    if args.out:
        written.append(write_json(args.out, result.to_dict(include_starts=args.starts_table)))
        if rows:
            keys = list(rows[0])
            written.append(
                write_csv(args.out.with_suffix(".csv"), keys, [[r[k] for k in keys] for r in rows])
            )
    if args.plot:
        from scaling_jax.plots.laws import plot_fit

        plot_fit(law, result.theta, runs, args.plot)
        written.append(args.plot)
    if written:
        print("wrote " + ", ".join(str(w) for w in written))
    return 0
