"""``scaling-jax lifetime``: lifetime (training + inference) optimal model size from the shell.

Examples::

    scaling-jax lifetime --match-chinchilla-params 13e9 --inference-tokens 2e12
    scaling-jax lifetime --loss 2.0 --law epoch_2024 --requests 1e9 --input-tokens 500 \\
        --output-tokens 200 --train-gpu H100 --serve-gpu A100 --mfu-decode 0.05 --out opt.json
    scaling-jax lifetime --budget 1e24 --inference-tokens 5e12     # lowest loss in a budget
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from scaling_jax.cli._common import (
    LawChoice,
    add_command,
    fraction,
    glossary,
    nonnegative_float,
    out_file,
    positive_float,
    resolve_law,
    write_json,
)

if TYPE_CHECKING:  # the solvers import JAX: loaded on use, not to build the parser
    from scaling_jax.sizing.lifetime import LifetimeOptimum

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
    p = add_command(
        subparsers,
        "lifetime",
        "lifetime (training + inference) optimal model size",
        "Size a model for its whole life: minimize training + inference FLOPs (or dollars) "
        "for a target loss, or the loss for a lifetime budget (Sardana et al. 2024). "
        "Inference costs 2N FLOPs per token, training 6N per token.",
    )
    target = p.add_mutually_exclusive_group()
    target.add_argument("--loss", type=positive_float("--loss"), help="target loss (nats/token)")
    target.add_argument(
        "--match-chinchilla-params",
        type=positive_float("--match-chinchilla-params"),
        metavar="N",
        help="target the loss of the compute-optimal model with N parameters (default 13e9 "
        "when no target is given)",
    )
    target.add_argument(
        "--budget",
        type=positive_float("--budget"),
        help="lifetime budget (FLOPs, or $ with a cost model): minimize loss",
    )
    p.add_argument(
        "--law",
        default="sardana_2024",
        help="preset name (see `scaling-jax presets`), a fit/bootstrap JSON of the chinchilla "
        "law, or module:function",
    )
    p.add_argument(
        "--inference-tokens",
        type=nonnegative_float("--inference-tokens"),
        default=None,
        help="lifetime inference tokens T (FLOPs objective; default 2e12)",
    )
    c = p.add_argument_group("dollar-cost objective (enabled by --requests)")
    c.add_argument("--train-gpu", default="H100", help="A100 or H100")
    c.add_argument("--serve-gpu", default="H100", help="A100 or H100")
    c.add_argument("--dtype", default="bf16", help="bf16, fp16, fp8, int8")
    c.add_argument(
        "--train-price",
        type=positive_float("--train-price"),
        default=2.0,
        help="$ per training GPU-hour",
    )
    c.add_argument(
        "--serve-price",
        type=positive_float("--serve-price"),
        default=2.0,
        help="$ per serving GPU-hour",
    )
    c.add_argument(
        "--mfu-train",
        type=fraction("--mfu-train"),
        default=0.5,
        help="model FLOPs utilization of training",
    )
    c.add_argument(
        "--mfu-prefill",
        type=fraction("--mfu-prefill"),
        default=0.5,
        help="model FLOPs utilization of prefill (prompt tokens)",
    )
    c.add_argument(
        "--mfu-decode",
        type=fraction("--mfu-decode"),
        default=0.01,
        help="model FLOPs utilization of decode (generated tokens; the authors' default)",
    )
    c.add_argument(
        "--requests",
        type=positive_float("--requests"),
        default=None,
        help="lifetime inference requests (needs --input-tokens and/or --output-tokens)",
    )
    c.add_argument(
        "--input-tokens",
        type=nonnegative_float("--input-tokens"),
        default=0.0,
        help="prompt tokens per request",
    )
    c.add_argument(
        "--output-tokens",
        type=nonnegative_float("--output-tokens"),
        default=0.0,
        help="tokens generated per request",
    )
    p.add_argument(
        "--out", type=out_file("--out"), default=None, help="write the result as JSON here"
    )
    p.set_defaults(func=run_lifetime)
    return p


def resolve_chinchilla(spec: str) -> LawChoice:
    """``--law`` for lifetime sizing: the solver needs a Chinchilla-form law."""
    choice = resolve_law(spec)
    if choice.law.name != "chinchilla":
        raise ValueError(
            f"lifetime sizing needs a chinchilla-form law; {choice.label} is {choice.law.name}"
        )
    return choice


def _fmt(x: float, unit: str = "") -> str:
    return f"{float(x):.4g}{unit}"


def format_optimum(opt: LifetimeOptimum) -> list[str]:
    """Human-readable lines: the optimum, the Chinchilla-style baseline and the savings."""
    opt = opt.to_numpy()  # arithmetic on JAX scalars would compile a program per op
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
    if args.requests is not None:
        if args.inference_tokens is not None:
            raise ValueError("give --inference-tokens or --requests (cost form), not both")
        if args.input_tokens == 0 and args.output_tokens == 0:
            raise ValueError(
                "--requests needs tokens per request: pass --input-tokens and/or --output-tokens"
            )
    elif args.input_tokens or args.output_tokens:
        raise ValueError("--input-tokens/--output-tokens need --requests (the dollar objective)")
    from scaling_jax.sizing.lifetime import (  # noqa: PLC0415
        chinchilla_optimal_loss,
        cost_model,
        lifetime_budget_optimal,
        lifetime_optimal,
    )

    choice = resolve_chinchilla(args.law)
    params = choice.params
    cost = None
    if args.requests is not None:
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
            if loss <= float(params.E):
                raise ValueError(
                    f"--loss {loss:g} is at or below the law's floor E = {float(params.E):.4g}: "
                    "no model reaches it"
                )
            header = f"lifetime-optimal model for loss {loss:g} nats/token"
        else:
            n_match = args.match_chinchilla_params or 13e9
            loss = float(chinchilla_optimal_loss(params, n_match))
            header = (
                "lifetime-optimal model matching the loss of a Chinchilla-optimal "
                f"{n_match:.3g}-parameter model ({loss:.4f} nats/token)"
            )
        opt = lifetime_optimal(params, loss, T, cost=cost)
    print(header)
    print(f"  law: {choice.describe()}")
    for line in format_optimum(opt):
        print("  " + line)
    terms = ["N", "D", "T", "loss"] + (["T_eff"] if cost is not None else [])
    print(glossary(*terms))
    if args.out:
        print(f"  wrote {write_json(args.out, opt.to_dict())}")
    return 0


def demo_lines(choice: LawChoice, n_match: float = 13e9, T: float = 2e12) -> list[str]:
    """Lifetime section of ``scaling-jax demo`` for the law `choice` (the fitted one): the
    paper's example, a Chinchilla-optimal 13B model's loss served for 2e12 tokens."""
    from scaling_jax.sizing.lifetime import chinchilla_optimal_loss, lifetime_optimal  # noqa: PLC0415

    loss = float(chinchilla_optimal_loss(choice.params, n_match))
    opt = lifetime_optimal(choice.params, loss, T)
    return [
        f"  law: {choice.describe()}",
        f"  target: the loss of a Chinchilla-optimal {n_match:.3g}-parameter model under this "
        f"law ({loss:.4f} nats/token), then {T:.3g} tokens of inference",
        *("  " + line for line in format_optimum(opt)[2:]),
    ]
