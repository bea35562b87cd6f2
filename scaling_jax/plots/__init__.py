"""Plots, one module per area. Importing them picks no matplotlib backend."""
