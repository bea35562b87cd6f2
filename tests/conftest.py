"""Test configuration: float64 everywhere, and the shared reference data when present."""

from __future__ import annotations

import os
from pathlib import Path

# scipy's L-BFGS-B (the reference in several tests) calls BLAS for tiny matrices; threaded BLAS
# makes it an order of magnitude slower. Must be set before numpy is imported.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import jax  # noqa: E402
import pytest  # noqa: E402

jax.config.update("jax_enable_x64", True)

# ../shared/data beside the checkout; SCALING_JAX_SHARED_DATA overrides it (e.g. a git worktree
# that lives elsewhere).
SHARED_DATA = Path(
    os.environ.get("SCALING_JAX_SHARED_DATA")
    or Path(__file__).resolve().parents[1].parent / "shared" / "data"
)
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def shared_data_file(name: str) -> Path:
    """Path of a file in ../shared/data; skip (locally) or fail (in CI) when it is absent."""
    path = SHARED_DATA / name
    if not path.is_file():
        msg = f"reference data {path} is absent (it lives in ../shared/data beside the checkout)"
        if IN_CI:
            pytest.fail(msg + "; CI=true requires it")
        pytest.skip(msg)
    return path


def run_notebook(path: Path, timeout: int) -> str:
    """Execute an output-free notebook (working directory: its folder); return its stdout.

    Fails if the committed notebook holds outputs or if any cell raised.
    """
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    nb = nbformat.read(path, as_version=4)
    code_cells = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.get("outputs") for c in code_cells), f"{path.name} is committed with outputs"
    resources = {"metadata": {"path": str(path.parent)}}
    nbclient.NotebookClient(
        nb, timeout=timeout, kernel_name="python3", resources=resources
    ).execute()
    outputs = [out for c in code_cells for out in c.get("outputs", [])]
    assert not [out for out in outputs if out.get("output_type") == "error"]
    return "".join(out.get("text", "") for out in outputs if out.get("output_type") == "stream")
