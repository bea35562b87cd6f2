"""Figure plumbing shared by every ``plot_*`` function.

Convention: ``plot_*(data..., path=None, *, ax=None)``. Given `path`, the plot is drawn on a
new figure, written there and the `Path` is returned. Given `ax` (one Axes, or an array of
them for multi-panel plots), the plot is drawn into it instead and `ax` is returned, so a
caller can compose figures and inspect what was drawn. Figures are bare
`matplotlib.figure.Figure` objects: no pyplot state and no backend is chosen or changed.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

__all__ = ["PathOrAxes", "open_axes", "close_axes", "param_label", "label_log_ticks"]

PathOrAxes = Any  # Path when a file was written, the caller's Axes when `ax` was given


# Units of the natural parameters of the built-in laws, for axis labels. Loss is in nats/token;
# A and B carry the units that make A / N^alpha and B / D^beta a loss.
PARAM_UNITS = {
    "E": "nats/token",
    "A": "nats/token·N^α",
    "B": "nats/token·D^β",
    "alpha": "dimensionless",
    "beta": "dimensionless",
    "alpha_N": "dimensionless",
    "alpha_D": "dimensionless",
    "N_c": "parameters",
    "D_c": "tokens",
    "R_D": "epochs",
    "R_N": "multiples of U_N",
}


def param_label(name: str) -> str:
    """Axis label for a law parameter: ``"E (nats/token)"``; a user law's own names bare."""
    unit = PARAM_UNITS.get(name)
    return name if unit is None else f"{name} ({unit})"


def label_log_ticks(axis: Any, subs: tuple[float, ...] = (1.0, 2.0, 5.0)) -> None:
    """On a log `axis` spanning a decade or two, label the `subs` of each decade compactly
    ("200", "5e+09") instead of matplotlib's minor labels, which crowd into each other."""
    axis.set_major_locator(LogLocator(subs=subs))
    axis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    axis.set_minor_formatter(NullFormatter())


def open_axes(
    path: str | os.PathLike[str] | None,
    ax: Any,
    shape: tuple[int, int] = (1, 1),
    figsize: tuple[float, float] = (6.4, 4.5),
    **subplot_kw: Any,
) -> tuple[Figure | None, np.ndarray]:
    """(new figure or None, a `shape` array of Axes to draw on), from exactly one of path/ax."""
    if (path is None) == (ax is None):
        raise ValueError(
            "pass path= to write the plot to a file, or ax= to draw into existing Axes "
            f"(exactly one of them); got path={path!r}, ax={ax!r}"
        )
    if ax is None:
        fig = Figure(figsize=figsize, layout="constrained")
        return fig, fig.subplots(*shape, squeeze=False, **subplot_kw)
    axes = np.asarray(ax, dtype=object)
    if axes.size != shape[0] * shape[1]:
        raise ValueError(f"ax: this plot draws {shape[0]}x{shape[1]} panels; got {axes.size} Axes")
    return None, axes.reshape(shape)


def close_axes(
    fig: Figure | None, path: str | os.PathLike[str] | None, ax: Any, dpi: int = 120
) -> PathOrAxes:
    """Write the figure we made to `path` and return the Path, or hand back the caller's `ax`."""
    if fig is None:
        return ax
    path = Path(path)  # type: ignore[arg-type]
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi)
    return path
