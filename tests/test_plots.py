"""Every public ``plot_*`` function is checked for a readable figure (tests/plot_checks.py).

The figures themselves are drawn by each area's tests (test_bootstrap, test_design,
test_extrapolate, test_isoflop, test_lifetime_cli, test_optimal), which already build the
fitted objects; here: that none of the plot functions escapes `assert_readable`, and that
`assert_readable` rejects a figure without units or without a legend.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path

import pytest
from matplotlib.figure import Figure
from plot_checks import assert_readable

import scaling_jax.plots

TESTS = Path(__file__).resolve().parent


def _public_plot_functions() -> set[str]:
    names = set()
    for info in pkgutil.iter_modules(scaling_jax.plots.__path__):
        module = importlib.import_module(f"scaling_jax.plots.{info.name}")
        names |= {n for n in getattr(module, "__all__", ()) if n.startswith("plot_")}
    return names


def _checked_plot_calls() -> set[str]:
    """plot_* names called inside test functions that also call assert_readable."""
    checked = set()
    for path in TESTS.glob("test_*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.FunctionDef):
                continue
            called = {
                c.func.attr if isinstance(c.func, ast.Attribute) else getattr(c.func, "id", "")
                for c in ast.walk(node)
                if isinstance(c, ast.Call)
            }
            if "assert_readable" in called:
                checked |= {n for n in called if n.startswith("plot_")}
    return checked


def test_every_plot_function_is_checked_for_units_and_legend():
    public = _public_plot_functions()
    assert {"plot_corner", "plot_isoflop", "plot_optimum_vs_demand", "plot_link"} <= public
    unchecked = sorted(public - _checked_plot_calls())
    assert not unchecked, f"plot functions no test passes through assert_readable: {unchecked}"


def test_assert_readable_rejects_missing_units_and_legends():
    good = Figure().subplots(1, 2)
    for a in good:
        a.plot([1, 2], [3, 4], label="runs")
        a.plot([1, 2], [3, 3], label="law")
        a.set(xlabel="training compute C (FLOPs)", ylabel="final loss (nats/token)")
    good[0].legend()
    assert_readable(good)

    no_unit = Figure().subplots()
    no_unit.plot([1, 2], [3, 4], label="runs")
    no_unit.set(xlabel="parameters N", ylabel="final loss (nats/token)")
    no_unit.legend()
    with pytest.raises(AssertionError, match="'parameters N' names no unit"):
        assert_readable(no_unit)

    no_ylabel = Figure().subplots(2, 1)
    for a in no_ylabel:
        a.plot([1, 2], [3, 4], label="runs")
        a.set_xlabel("model size N (parameters)")
    no_ylabel[0].set_ylabel("final loss (nats/token)")
    no_ylabel[0].legend()
    with pytest.raises(AssertionError, match="row 1: no y label"):
        assert_readable(no_ylabel)

    no_legend = Figure().subplots()
    no_legend.plot([1, 2], [3, 4])
    no_legend.set(xlabel="model size N (parameters)", ylabel="final loss (nats/token)")
    with pytest.raises(AssertionError, match="no legend"):
        assert_readable(no_legend)

    partial = Figure().subplots(1, 2)
    for a, name in zip(partial, ("runs", "true law"), strict=True):
        a.plot([1, 2], [3, 4], label=name)
        a.set(xlabel="model size N (parameters)", ylabel="final loss (nats/token)")
    partial[0].legend()
    with pytest.raises(AssertionError, match=r"missing from the legend: \['true law'\]"):
        assert_readable(partial)
