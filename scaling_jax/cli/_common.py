"""Argument parsing shared by the ``scaling-jax`` subcommands."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable

__all__ = ["positive_floats", "describe_law_source"]


def positive_floats(option: str) -> Callable[[str], list[float]]:
    """argparse type for ``option``: comma-separated positive finite numbers (e.g. FLOPs)."""

    def parse(text: str) -> list[float]:
        try:
            values = [float(v) for v in text.split(",") if v.strip()]
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{option} {text!r}: expected comma-separated numbers, e.g. 1e21,5.76e23"
            ) from None
        if not values or any(not math.isfinite(v) or v <= 0 for v in values):
            raise argparse.ArgumentTypeError(f"{option} {text!r}: values must be positive")
        return values

    return parse


def describe_law_source(spec: str) -> str:
    """One line naming the law constants behind ``--law spec`` and where they come from."""
    from scaling_jax.presets import CATALOG

    key = str(spec).lower().replace("-", "_")
    if key in CATALOG:
        return f"preset {key} ({CATALOG[key].source})"
    return f"constants read from {spec}"
