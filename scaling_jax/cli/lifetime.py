"""``scaling-jax lifetime``: lifetime (training + inference) optimal model size from the shell.

Examples::

    scaling-jax lifetime --match-chinchilla-params 13e9 --inference-tokens 2e12
    scaling-jax lifetime --loss 2.0 --law epoch_2024 --requests 1e9 --input-tokens 500 \\
        --output-tokens 200 --train-gpu H100 --serve-gpu A100 --mfu-decode 0.05 --out opt.json
    scaling-jax lifetime --budget 1e24 --inference-tokens 5e12     # lowest loss in a budget
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from scaling_jax.cli._common import describe_law_source
from scaling_jax.presets import SARDANA_2024, resolve_params
from scaling_jax.sizing.lifetime import (
    LifetimeOptimum,
    chinchilla_optimal_loss,
    cost_model,
    lifetime_budget_optimal,
    lifetime_optimal,
)

__all__ = [
    "register_cli",
    "run_lifetime",
    "format_optimum",
    "demo_lines",
]

_COST_FLAGS = ("requests", "input_tokens", "output_tokens")


def register_cli(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``lifetime`` sub-command to an argparse ``subparsers`` object.

    The sub-parser's ``func`` default is `run_lifetime` (``args -> exit code``).
    """
    p = subparsers.add_parser(
        "lifetime",
        help="lifetime (training + inference) optimal model size",
        description="Size a model for its whole life: minimize training + inference FLOPs "
        "(or dollars) for a target loss, or the loss for a lifetime budget "
        "(Sardana et al. 2024).",
    )
    target = p.add_mutually_exclusive_group()
    target.add_argument("--loss", type=float, help="target loss (nats/token)")
    target.add_argument(
        "--match-chinchilla-params",
        type=float,
        metavar="N",
        help="target the loss of the compute-optimal model with N parameters",
    )
    target.add_argument(
        "--budget",
        type=float,
        help="lifetime budget (FLOPs, or $ with a cost model): minimize loss",
    )
    p.add_argument("--law", default="sardana_2024", help="preset name or fit JSON file")
    p.add_argument(
        "--inference-tokens",
        type=float,
        default=None,
        help="lifetime inference tokens T (FLOPs objective; default 2e12)",
    )
    c = p.add_argument_group("dollar-cost objective (enabled by --requests)")
    c.add_argument("--train-gpu", default="H100", help="A100 or H100")
    c.add_argument("--serve-gpu", default="H100", help="A100 or H100")
    c.add_argument("--dtype", default="bf16", help="bf16, fp16, fp8, int8")
    c.add_argument("--train-price", type=float, default=2.0, help="$ per training GPU-hour")
    c.add_argument("--serve-price", type=float, default=2.0, help="$ per serving GPU-hour")
    c.add_argument("--mfu-train", type=float, default=0.5)
    c.add_argument("--mfu-prefill", type=float, default=0.5)
    c.add_argument("--mfu-decode", type=float, default=0.01)
    c.add_argument("--requests", type=float, default=None, help="lifetime inference requests")
    c.add_argument("--input-tokens", type=float, default=0.0, help="prompt tokens per request")
    c.add_argument("--output-tokens", type=float, default=0.0, help="tokens generated per request")
    p.add_argument("--out", default=None, help="write the result as JSON to this file")
    p.set_defaults(func=run_lifetime)
    return p


def _fmt(x: float, unit: str = "") -> str:
    return f"{float(x):.4g}{unit}"


def format_optimum(opt: LifetimeOptimum) -> list[str]:
    """Human-readable lines: the optimum, the Chinchilla-style baseline and the savings."""
    b = opt.baseline
    dollars = opt.total_cost is not None
    lines = [
        f"loss                  {float(opt.loss):.6g} nats/token",
        f"inference tokens      {_fmt(opt.inference_tokens)}"
        + (f"  (T_eff {_fmt(opt.effective_inference_tokens)})" if dollars else ""),
        f"lifetime-optimal      N = {_fmt(opt.N)} params, D_train = {_fmt(opt.D_train)} tokens"
        f" ({float(opt.tokens_per_param):.1f} tokens/param)",
        f"                      total {_fmt(opt.total_flops)} FLOPs"
        + (f", ${float(opt.total_cost):,.0f}" if dollars else ""),
        f"Chinchilla-style      N = {_fmt(b.N)} params, D_train = {_fmt(b.D_train)} tokens"
        f" ({float(b.tokens_per_param):.1f} tokens/param)",
        f"                      total {_fmt(b.total_flops)} FLOPs"
        + (f", ${float(b.total_cost):,.0f}" if dollars else ""),
        f"savings               {100 * float(opt.savings):.2f}% of lifetime "
        + ("cost" if dollars else "FLOPs"),
    ]
    if dollars:
        lines.append(f"FLOPs savings         {100 * float(opt.flops_savings):.2f}%")
    return lines


def run_lifetime(args: argparse.Namespace) -> int:
    """Execute ``scaling-jax lifetime``; returns the exit code (2 on bad input)."""
    try:
        params = resolve_params(args.law)
        cost = None
        if args.requests is not None:
            if args.inference_tokens is not None:
                raise ValueError("give --inference-tokens or --requests (cost form), not both")
            cost = cost_model(
                train_gpu=args.train_gpu,
                serve_gpu=args.serve_gpu,
                dtype=args.dtype,
                train_price=args.train_price,
                serve_price=args.serve_price,
                mfu_train=args.mfu_train,
                mfu_prefill=args.mfu_prefill,
                mfu_decode=args.mfu_decode,
                requests=args.requests,
                input_tokens=args.input_tokens,
                output_tokens=args.output_tokens,
            )
        T = (
            None
            if cost is not None
            else (2e12 if args.inference_tokens is None else args.inference_tokens)
        )
        if args.budget is not None:
            opt = lifetime_budget_optimal(params, args.budget, T, cost=cost)
            header = f"lowest loss within a lifetime budget of {_fmt(args.budget)}" + (
                " $" if cost is not None else " FLOPs"
            )
        else:
            if args.loss is not None:
                loss = args.loss
                header = f"lifetime-optimal model for loss {loss:g}"
            else:
                n_match = args.match_chinchilla_params or 13e9
                loss = float(chinchilla_optimal_loss(params, n_match))
                header = (
                    "lifetime-optimal model matching the loss of a Chinchilla-optimal "
                    f"{n_match:.3g}-parameter model"
                )
            opt = lifetime_optimal(params, loss, T, cost=cost)
    except ValueError as err:
        print(f"scaling-jax lifetime: error: {err}", file=sys.stderr)
        return 2
    print(header)
    print(f"  law: {describe_law_source(args.law)}")
    for line in format_optimum(opt):
        print("  " + line)
    if args.out:
        opt.to_json(args.out)
        print(f"  wrote {args.out}")
    return 0


def demo_lines() -> list[str]:
    """A one-example text block for ``scaling-jax demo``: the paper's 13B example."""
    loss = float(chinchilla_optimal_loss(SARDANA_2024, 13e9))
    opt = lifetime_optimal(SARDANA_2024, loss, 2e12)
    return [
        "Lifetime-optimal sizing (Sardana et al. 2024): match a Chinchilla-optimal 13B model's "
        f"loss ({loss:.4f}) and serve 2e12 tokens",
        *("  " + line for line in format_optimum(opt)[2:]),
    ]
