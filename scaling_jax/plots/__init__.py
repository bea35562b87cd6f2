"""Plots, one module per area: `bootstrap`, `laws`, `lifetime`, `optimal`.

Every plot is ``plot_*(data..., path=None, *, ax=None)``: with `path` it writes a file and
returns its `Path`; with `ax` it draws into the caller's Axes and returns them. Figures are
bare `matplotlib.figure.Figure` objects, so importing or calling these picks no backend and
leaves pyplot's state alone.
"""
