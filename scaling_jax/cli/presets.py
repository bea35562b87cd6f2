"""``scaling-jax presets``: the published constants and frontiers shipped, with their sources."""

from __future__ import annotations

import argparse
from typing import Any

__all__ = ["register_cli", "run_presets"]


def register_cli(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``presets`` sub-command (``func`` = `run_presets`)."""
    p = subparsers.add_parser(
        "presets",
        help="list the published law constants and compute-optimal frontiers, with sources",
        description="Every published constant shipped with scaling_jax, with the paper "
        "(table/figure/equation) or repository file it comes from. Preset names work as "
        "--law in the other commands; frontier names as --frontiers in plots.",
    )
    p.add_argument(
        "name",
        nargs="?",
        default=None,
        help="show only this preset or frontier (default: list all)",
    )
    p.set_defaults(func=run_presets)
    return p


def run_presets(args: argparse.Namespace) -> int:
    """Print presets and frontiers (or the one named); exit code 0, 2 for an unknown name."""
    from scaling_jax.presets import CATALOG
    from scaling_jax.sizing.optimal import FRONTIERS

    name = None if args.name is None else args.name.lower().replace("-", "_")
    if name is not None and name not in CATALOG and name not in FRONTIERS:
        raise ValueError(
            f"unknown preset or frontier {args.name!r}; presets: {sorted(CATALOG)}, "
            f"frontiers: {sorted(FRONTIERS)}"
        )
    presets = [p for k, p in CATALOG.items() if name in (None, k)]
    frontiers = [(k, f) for k, f in FRONTIERS.items() if name in (None, k)]
    if presets:
        print("Law presets (loss in nats/token; use the name as --law):")
        for p in presets:
            print("  " + p.summary().replace("\n", "\n  "))
    if frontiers:
        if presets:
            print()
        print("Compute-optimal frontiers (C = training FLOPs unless the note says otherwise):")
        for key, f in frontiers:
            print(f"  [{key}] " + f.summary().replace("\n", "\n  "))
    return 0
