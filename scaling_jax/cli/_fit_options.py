"""The fit options as command-line flags, shared by ``fit`` (and other fitting commands)."""

from __future__ import annotations

import argparse
from typing import Any

__all__ = ["add_fit_option_args", "fit_option_kwargs", "load_kwargs"]


def _fixed(text: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for item in text.split(","):
        name, sep, value = item.partition("=")
        try:
            if not sep:
                raise ValueError
            out[name.strip()] = float(value)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"--fixed {text!r}: expected NAME=VALUE[,NAME=VALUE], e.g. E=1.69"
            ) from None
    return out


def _tied(text: str) -> list[tuple[str, ...]]:
    groups = [tuple(n.strip() for n in g.split(",") if n.strip()) for g in text.split(";")]
    if any(len(g) < 2 for g in groups):
        raise argparse.ArgumentTypeError(
            f"--tied {text!r}: expected NAME,NAME[;NAME,NAME], e.g. alpha,beta"
        )
    return groups


def add_fit_option_args(p: argparse.ArgumentParser) -> None:
    """--fixed, --tied, --loss, --asymmetric, --weights, --group-col, --n-kind, --vocab, ..."""
    g = p.add_argument_group("fit options")
    g.add_argument("--fixed", type=_fixed, default=None, help="hold parameters, e.g. E=1.69")
    g.add_argument("--tied", type=_tied, default=None, help="tie parameters, e.g. alpha,beta")
    g.add_argument(
        "--loss",
        choices=("huber_log", "ls_log", "ls_raw"),
        default="huber_log",
        help="objective: Huber on log-loss (default), least squares on log or raw loss",
    )
    g.add_argument(
        "--asymmetric", type=float, default=1.0, help="weight of over-predictions (default 1)"
    )
    g.add_argument(
        "--weights",
        default=None,
        help="column of per-run weights, or 'inverse_variance' (from replicate runs)",
    )
    g.add_argument("--group-col", default=None, help="column of group labels (seed, run id)")
    g.add_argument(
        "--n-kind",
        choices=("total", "non_embedding"),
        default="total",
        help="what the N column counts: all parameters, or non-embedding ones (Kaplan)",
    )
    g.add_argument("--vocab", type=float, default=None, help="vocabulary size (non_embedding)")
    g.add_argument("--d-model-col", default=None, help="column of model widths (non_embedding)")
    g.add_argument("--untied-embeddings", action="store_true", help="input and output embeddings")


def load_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    """Extra `load_runs` arguments the fit options need (weights, group, width columns)."""
    kw: dict[str, Any] = {}
    if args.weights and args.weights != "inverse_variance":
        kw["weights"] = args.weights
    if args.group_col:
        kw["group"] = args.group_col
    if args.d_model_col:
        kw["extra"] = {"d_model": args.d_model_col}
    return kw


def load_fit_runs(args: argparse.Namespace) -> Any:
    """The runs of ``args.data`` as `fit` and `bootstrap` read them: the named columns, the
    fit options' extra columns (`load_kwargs`) and the unique-token column when given."""
    from scaling_jax.data import load_runs

    extra = load_kwargs(args)
    if args.unique_col:
        extra["extra"] = {**extra.get("extra", {}), "U": args.unique_col}
    return load_runs(
        args.data,
        n=args.n_col,
        d=args.d_col,
        loss=args.loss_col,
        compute=args.compute_col,
        **extra,
    )


def fit_option_kwargs(args: argparse.Namespace, runs: Any) -> dict[str, Any]:
    """`fit` keyword arguments from the parsed flags (runs: as loaded with `load_kwargs`)."""
    kw: dict[str, Any] = {
        "fixed": args.fixed,
        "tied": args.tied,
        "loss": args.loss,
        "asymmetric": args.asymmetric,
    }
    if args.weights == "inverse_variance":
        kw["weights"] = "inverse_variance"
    if args.n_kind == "non_embedding":
        if "d_model" not in runs.extra:
            raise ValueError("--n-kind non_embedding needs --d-model-col and --vocab")
        kw.update(
            n_kind="non_embedding",
            vocab=args.vocab,
            d_model=runs.extra["d_model"],
            untied_embeddings=args.untied_embeddings,
        )
    return kw
