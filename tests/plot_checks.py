"""What every figure of `scaling_jax.plots` must show: labelled axes with units, and a legend.

`assert_readable(ax)` is called by each area's plot test on the Axes its ``plot_*`` function
drew into; tests/test_plots.py checks that every public ``plot_*`` function goes through it.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

__all__ = ["assert_readable", "UNIT"]

# "quantity (unit)": the unit is the last parenthesised group of the label.
UNIT = re.compile(r"\(([^()]+)\)$")


def _legend_texts(panels: list[Any]) -> set[str]:
    legends = [a.get_legend() for a in panels] + list(panels[0].figure.legends)
    return {t.get_text() for leg in legends if leg is not None for t in leg.get_texts()}


def assert_readable(ax: Any) -> None:
    """Fail unless the panels in `ax` (one Axes or a grid) form a readable figure.

    - every column of panels has an x label and every row a y label (shared axes are labelled
      once, on the outer panel), and every label names its unit: ``"... (unit)"``;
    - the figure has a legend, and every labelled series of every panel appears in it.
    """
    panels = [a for a in np.asarray(ax, dtype=object).flat if a.get_visible()]
    # Rows and columns from each panel's place in its figure's grid (a 1-D array of Axes
    # may be a row or a column).
    place = {
        a: (a.get_subplotspec().rowspan.start, a.get_subplotspec().colspan.start) for a in panels
    }
    problems = []
    for j in sorted({c for _, c in place.values()}):
        if not any(a.get_xlabel() for a in panels if place[a][1] == j):
            problems.append(f"column {j}: no x label")
    for i in sorted({r for r, _ in place.values()}):
        if not any(a.get_ylabel() for a in panels if place[a][0] == i):
            problems.append(f"row {i}: no y label")
    for a in panels:
        for label in (a.get_xlabel(), a.get_ylabel()):
            if label and not UNIT.search(label):
                problems.append(f"label {label!r} names no unit")
    in_legend = _legend_texts(panels)
    if not in_legend:
        problems.append("no legend")
    series = {label for a in panels for label in a.get_legend_handles_labels()[1]}
    if missing := sorted(series - in_legend):
        problems.append(f"labelled series missing from the legend: {missing}")
    assert not problems, "; ".join(problems)
