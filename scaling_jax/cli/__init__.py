"""The ``scaling-jax`` command line: demo, fit, and the subcommands of the other modules.

XLA compilations are cached on disk (``$SCALING_JAX_CACHE`` or ``~/.cache/scaling_jax/xla``),
so only the first call on a machine pays the full compile time of the batched solver.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

__all__ = ["main", "build_parser"]

DEMO_BUDGETS = (1e21, 5.76e23, 1e25)


def _enable_compilation_cache() -> None:
    import jax

    cache = os.environ.get("SCALING_JAX_CACHE", str(Path.home() / ".cache/scaling_jax/xla"))
    if cache.lower() in {"", "0", "off", "none"}:
        return
    jax.config.update("jax_compilation_cache_dir", cache)
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.5)


def _parse_starts(text: str) -> str | int:
    if text == "grid":
        return text
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--starts {text!r}: use 'grid' or a number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"--starts {value}: must be >= 1")
    return value


def _optimal_table(params, budgets: Sequence[float]) -> list[str]:
    from scaling_jax.sizing.optimal import compute_optimal

    lines = [f"  {'C (FLOPs)':>12} {'N_opt (params)':>16} {'D_opt (tokens)':>16} {'D/N':>8}"]
    for c in budgets:
        opt = compute_optimal(params, c)
        n_opt, d_opt = float(opt.N), float(opt.D)
        lines.append(f"  {c:12.3e} {n_opt:16.4e} {d_opt:16.4e} {d_opt / n_opt:8.2f}")
    return lines


def _cmd_fit(args: argparse.Namespace) -> int:
    from scaling_jax.data import load_runs
    from scaling_jax.fitting.multistart import fit

    from ._fit_options import fit_option_kwargs, load_kwargs

    extra = load_kwargs(args)
    if args.unique_col:
        extra["extra"] = {**extra.get("extra", {}), "U": args.unique_col}
    runs = load_runs(
        args.data,
        n=args.n_col,
        d=args.d_col,
        loss=args.loss_col,
        compute=args.compute_col,
        **extra,
    )
    print(echo_columns(runs))
    result = fit(
        runs,
        law=_resolve_law(args.law),
        starts=args.starts,
        delta=args.delta,
        mode=args.mode,
        seed=args.seed,
        **fit_option_kwargs(args, runs),
    )
    print(result.summary())
    if result.law.name == "chinchilla":
        print("compute-optimal allocation (closed form, C = 6ND):")
        print("\n".join(_optimal_table(result.params, DEMO_BUDGETS)))
    if args.out:
        result.to_json(args.out)
        print(f"wrote {args.out}")
    return 0


def echo_columns(runs) -> str:
    """One line naming the columns `load_runs` chose for each role."""
    cols = dict(runs.columns or {})
    return "columns: " + ", ".join(f"{k} <- {v!r}" for k, v in cols.items())


def _resolve_law(spec: str):
    from scaling_jax.cli.extrapolate import resolve_law_spec

    return resolve_law_spec(spec)


def _cmd_demo(args: argparse.Namespace) -> int:
    from scaling_jax import presets
    from scaling_jax.fitting.multistart import fit
    from scaling_jax.synthetic import synthetic_runs

    truth = presets.EPOCH_2024
    runs = synthetic_runs(truth, n_runs=245, seed=args.seed, noise=0.01)
    print(
        f"demo: {len(runs)} synthetic runs drawn from Epoch AI's refit of the Chinchilla law "
        f"(N {runs.N.min():.2g}..{runs.N.max():.2g} params, D {runs.D.min():.2g}.."
        f"{runs.D.max():.2g} tokens, 1% log-normal noise, seed {args.seed})"
    )
    print(f"true constants: {dict(truth._asdict())}")
    result = fit(runs, starts="grid", mode=args.mode)
    print(result.summary())
    print("compute-optimal allocation of the fitted law (closed form, C = 6ND):")
    print("\n".join(_optimal_table(result.params, DEMO_BUDGETS)))
    for extra in _demo_extensions():
        print("\n".join(extra(result, runs)))
    if args.out:
        result.to_json(args.out)
        print(f"wrote {args.out}")
    return 0


def _demo_extensions():
    """Sections the other modules add to the demo: ``(fit_result, runs) -> lines``."""
    from . import bootstrap as bootstrap_cli
    from . import lifetime as lifetime_cli

    return [
        lambda result, runs: ["", *bootstrap_cli.demo_lines(runs)],
        lambda result, runs: ["", *lifetime_cli.demo_lines()],
    ]


def _register_modules(sub: argparse._SubParsersAction) -> None:
    """Subcommands that live with their modules (optimal, isoflop, lifetime, ...)."""
    from . import accuracy as accuracy_cli
    from . import bench as bench_cli
    from . import bootstrap as bootstrap_cli
    from . import compare as compare_cli
    from . import design as design_cli
    from . import extrapolate as laws_cli
    from . import lifetime as lifetime_cli
    from . import optimal as optimal_cli
    from . import predict as predict_cli
    from . import presets as presets_cli

    optimal_cli.register_cli(sub)
    presets_cli.register_cli(sub)
    predict_cli.register_cli(sub)
    compare_cli.register_cli(sub)
    lifetime_cli.register_cli(sub)
    laws_cli.register_cli(sub)
    bootstrap_cli.register_cli(sub)
    bench_cli.register_cli(sub)
    accuracy_cli.register_cli(sub)
    design_cli.register_cli(sub)


def build_parser() -> argparse.ArgumentParser:
    from . import _fit_options

    parser = argparse.ArgumentParser(
        prog="scaling-jax",
        description="Fit neural scaling laws fast and faithfully (JAX, float64).",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="fit a built-in synthetic Chinchilla-like dataset")
    demo.add_argument("--seed", type=int, default=0, help="seed of the synthetic data")
    demo.add_argument("--mode", choices=("full", "fast"), default="full")
    demo.add_argument("--out", help="write the fit as JSON to this file")
    demo.set_defaults(func=_cmd_demo)

    fit_p = sub.add_parser("fit", help="fit a law to a CSV of training runs")
    fit_p.add_argument("data", help="CSV file with one row per training run")
    fit_p.add_argument(
        "--n-col", default=None, help="column of parameter counts (default: params/N/...)"
    )
    fit_p.add_argument(
        "--d-col", default=None, help="column of training tokens (default: tokens/D/...)"
    )
    fit_p.add_argument(
        "--loss-col", default=None, help="column of final losses (default: loss/eval_loss/...)"
    )
    fit_p.add_argument(
        "--compute-col", default=None, help="derive D = C/(6N) from this FLOPs column"
    )
    fit_p.add_argument(
        "--law",
        default="chinchilla",
        help="chinchilla | kaplan | data-constrained | data-constrained-frozen | module:function",
    )
    fit_p.add_argument(
        "--unique-col", default=None, help="column of unique tokens U (data-constrained laws)"
    )
    fit_p.add_argument("--delta", type=float, default=1e-3, help="Huber threshold")
    fit_p.add_argument(
        "--starts", type=_parse_starts, default="grid", help="'grid' (4500) or N random"
    )
    fit_p.add_argument("--mode", choices=("full", "fast"), default="full")
    fit_p.add_argument("--seed", type=int, default=0, help="seed of random starts")
    fit_p.add_argument("--out", help="write the result as JSON to this file")
    _fit_options.add_fit_option_args(fit_p)
    fit_p.set_defaults(func=_cmd_fit)

    _register_modules(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    args.argv = argv  # a command can re-run itself (``bootstrap --processes N``)
    _enable_compilation_cache()
    try:
        return int(args.func(args) or 0)
    except (ValueError, FileNotFoundError) as err:
        print(f"scaling-jax {args.command}: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
