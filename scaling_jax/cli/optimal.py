"""``scaling-jax optimal``: compute-optimal N and D for training budgets, under any ``--law``.

The solver follows the law: the Chinchilla closed form (C = 6ND), the numeric optimum for other
(N, D) laws, and for the data-constrained law the capped-unique-data solver (it needs
``--unique-tokens``; without it the command refuses rather than silently dropping U).
`allocation_rows` is shared with ``fit`` and ``demo``.
"""

from __future__ import annotations

import argparse
from typing import Any

import numpy as np

from scaling_jax.cli._common import (
    LawChoice,
    add_command,
    glossary,
    out_file,
    positive_float,
    positive_floats,
    resolve_law,
    write_csv,
    write_json,
)

__all__ = ["register_cli", "run_optimal", "allocation_rows", "format_rows", "method_of"]


def method_of(choice: LawChoice, unique_tokens: float | None = None) -> str:
    """How the optimum of `choice` is found (printed with the table)."""
    name = choice.law.name
    if name.startswith("data_constrained"):
        if unique_tokens is None:
            raise ValueError(
                f"law {choice.label} is data-constrained (Muennighoff et al. 2023): its optimum "
                "depends on the unique tokens available; pass --unique-tokens U (tokens)"
            )
        return (
            f"data-constrained optimum with at most {unique_tokens:.3g} unique tokens "
            "(scan + golden section over log N, C = 6ND)"
        )
    if name == "chinchilla":
        return "closed form, C = 6ND (Hoffmann et al. 2022)"
    if set(choice.law.feature_names) != {"N", "D"}:
        raise ValueError(
            f"law {choice.label} reads features {choice.law.feature_names}; a compute-optimal "
            "allocation needs a law of (N, D) only"
        )
    return "numeric optimum along C = 6ND (bisection on the Lagrange condition)"


def allocation_rows(
    choice: LawChoice, budgets: Any, unique_tokens: float | None = None
) -> list[dict[str, float]]:
    """Compute-optimal rows {compute, N, D, tokens_per_param, loss[, epochs]} per budget."""
    from scaling_jax.sizing.optimal import compute_optimal

    method_of(choice, unique_tokens)  # refuses laws it cannot size
    C = np.asarray(budgets, dtype=float)
    law, params = choice.law, choice.params
    epochs = None
    if law.name.startswith("data_constrained"):
        from scaling_jax.sizing.constrained import constrained_optimal

        opt = constrained_optimal(params, C, unique_tokens)
        N, D, loss, epochs = (np.asarray(v) for v in (opt.N, opt.D, opt.loss, opt.epochs))
    elif law.name == "chinchilla":
        opt = compute_optimal(params, C)
        N, D, loss = np.asarray(opt.N), np.asarray(opt.D), np.asarray(opt.loss)
    else:
        # The numeric optimum of the law's own loss, all budgets in one vectorized solve.
        opt = compute_optimal(params, C, law=law)
        N, D, loss = (np.asarray(v) for v in (opt.N, opt.D, opt.loss))
    rows = []
    for i, c in enumerate(C):
        row = {
            "compute": float(c),
            "N": float(N[i]),
            "D": float(D[i]),
            "tokens_per_param": float(D[i] / N[i]),
            "loss": float(loss[i]),
        }
        if epochs is not None:
            row["epochs"] = float(epochs[i])
        rows.append(row)
    return rows


def format_rows(rows: list[dict[str, float]]) -> list[str]:
    """The allocation table with units in the header."""
    epochs = "epochs" in rows[0]
    head = (
        f"  {'C (FLOPs)':>11} {'N_opt (params)':>15} {'D_opt (tokens)':>15} {'D/N':>8} "
        f"{'loss (nats/token)':>18}" + (f" {'epochs':>7}" if epochs else "")
    )
    lines = [head]
    for r in rows:
        lines.append(
            f"  {r['compute']:11.3e} {r['N']:15.4e} {r['D']:15.4e} {r['tokens_per_param']:8.2f} "
            f"{r['loss']:18.4f}" + (f" {r['epochs']:7.2f}" if epochs else "")
        )
    return lines


def register_cli(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``optimal`` sub-command (``func`` = `run_optimal`)."""
    p = add_command(
        subparsers,
        "optimal",
        "compute-optimal N and D for training budgets",
        "Compute-optimal model size and training tokens for each training budget C, under "
        "the law given by --law (printed with its source).",
    )
    p.add_argument(
        "--compute",
        type=positive_floats("--compute"),
        required=True,
        help="training budgets in FLOPs, comma-separated (e.g. 5.76e23,1e21)",
    )
    p.add_argument(
        "--law",
        default="chinchilla_2022",
        help="preset name (see `scaling-jax presets`), a fit/bootstrap JSON, or module:function",
    )
    p.add_argument(
        "--unique-tokens",
        type=positive_float("--unique-tokens"),
        default=None,
        help="unique tokens available (data-constrained laws only; they need it)",
    )
    p.add_argument(
        "--out",
        type=out_file("--out"),
        default=None,
        help="write the optima as JSON here, and the table as CSV beside it",
    )
    p.set_defaults(func=run_optimal)
    return p


def run_optimal(args: argparse.Namespace) -> int:
    """Print (and optionally save) compute-optimal N, D and loss for each budget."""
    choice = resolve_law(args.law)
    if args.unique_tokens is not None and not choice.law.name.startswith("data_constrained"):
        raise ValueError(
            f"--unique-tokens applies to data-constrained laws only; {choice.label} is "
            f"{choice.law.name}"
        )
    method = method_of(choice, args.unique_tokens)
    rows = allocation_rows(choice, args.compute, args.unique_tokens)
    print(f"law: {choice.describe()}")
    print(f"method: {method}")
    print("\n".join(format_rows(rows)))
    print(glossary("C", "N_opt", "D_opt", "D/N", "loss"))
    if args.out:
        blob = {
            "law": choice.label,
            "law_form": choice.law.name,
            "source": choice.source,
            "method": method,
            "params": {k: float(v) for k, v in choice.params._asdict().items()},
            "unique_tokens": args.unique_tokens,
            "optima": rows,
        }
        json_path = write_json(args.out, blob)
        keys = list(rows[0])
        csv_path = write_csv(
            json_path.with_suffix(".csv"), keys, [[r[k] for k in keys] for r in rows]
        )
        print(f"wrote {json_path} and {csv_path}")
    return 0
