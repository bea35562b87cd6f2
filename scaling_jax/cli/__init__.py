"""The ``scaling-jax`` command line. One module per command in this package; each has
``register_cli(subparsers)``, which adds its sub-parser and sets ``func`` (``args -> exit
code``). A new command is a new module plus one name in `COMMANDS`.

XLA compilations are cached on disk (``$SCALING_JAX_CACHE`` or ``~/.cache/scaling_jax/xla``;
``SCALING_JAX_CACHE=off`` disables it), as for the Python API (`scaling_jax._cache`), so
only the first call on a machine pays the full compile time of the batched solver.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

__all__ = ["main", "build_parser", "COMMANDS"]

# Command modules, in the order `scaling-jax --help` lists them.
COMMANDS: tuple[str, ...] = (
    "demo",
    "fit",
    "bootstrap",
    "optimal",
    "isoflop",
    "lifetime",
    "extrapolate",
    "presets",
    "predict",
    "compare",
    "accuracy",
    "design",
    "bench",
)


def _configure_process() -> None:
    """Settings for the command's own process (the library itself changes nothing global):
    float64 JAX everywhere, and a file-only matplotlib backend unless one is chosen."""
    import jax

    jax.config.update("jax_enable_x64", True)
    os.environ.setdefault("MPLBACKEND", "Agg")


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("scaling_jax")
    except PackageNotFoundError:
        return "unknown (not installed)"


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with every command module's sub-parser."""
    from scaling_jax.cli._common import Parser

    parser = Parser(
        prog="scaling-jax",
        description="Fit neural scaling laws fast and faithfully (JAX, float64). "
        "Units everywhere: N parameters, D tokens, C training FLOPs, loss in nats/token.",
    )
    parser.add_argument("--version", action="version", version=f"scaling-jax {_version()}")
    sub = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND", parser_class=Parser
    )
    for name in COMMANDS:
        importlib.import_module(f"{__name__}.{name}").register_cli(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``scaling-jax`` with `argv`; returns the exit code (2 for bad input, with a one-line
    message on stderr and nothing written)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as stop:  # argparse: --help, --version, or a bad option (code 2)
        return int(stop.code or 0) if not isinstance(stop.code, str) else 2
    args.argv = argv  # a command can re-run itself (``bootstrap --processes N``)
    _configure_process()
    from scaling_jax._cache import compile_scope

    try:
        with compile_scope():
            return int(args.func(args) or 0)
    except (ValueError, FileNotFoundError, NotADirectoryError, IsADirectoryError) as err:
        print(f"scaling-jax {args.command}: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
