"""Conventional column names recognized without flags, ambiguity errors, Parquet input."""

from __future__ import annotations

import numpy as np
import pytest

import scaling_jax as sj
from scaling_jax.data import read_points

N = [1e8, 2e8, 4e8]
D = [2e9, 4e9, 8e9]
L = [3.1, 2.9, 2.7]


@pytest.mark.parametrize(
    ("n", "d", "loss"),
    [
        ("params", "tokens", "loss"),
        ("N", "D", "test_loss"),
        ("Model Size", "n_tokens", "eval_loss"),
        ("n_params", "D", "Loss"),
    ],
)
def test_conventional_names_are_recognized_and_echoed(n, d, loss):
    runs = sj.load_runs({n: N, d: D, loss: L, "other": [0, 1, 2]})
    np.testing.assert_array_equal(runs.N, N)
    np.testing.assert_array_equal(runs.D, D)
    np.testing.assert_array_equal(runs.loss, L)
    assert dict(runs.columns) == {"N": n, "D": d, "loss": loss}


def test_compute_column_is_used_when_there_are_no_tokens():
    C = 6 * np.asarray(N) * np.asarray(D)
    runs = sj.load_runs({"params": N, "FLOPs": C, "loss": L})
    np.testing.assert_allclose(runs.D, D, rtol=1e-15)
    assert runs.columns["C"] == "FLOPs"
    pts = read_points({"model_size": N, "compute": C})
    np.testing.assert_allclose(pts["D"], D, rtol=1e-15)


def test_ambiguous_and_missing_columns_list_candidates():
    with pytest.raises(ValueError, match=r"ambiguous parameters column .* \['params', 'N'\]"):
        sj.load_runs({"params": N, "N": N, "D": D, "loss": L})
    with pytest.raises(ValueError, match=r"ambiguous loss column .*\['test_loss', 'eval_loss'\]"):
        sj.load_runs({"N": N, "D": D, "test_loss": L, "eval_loss": L})
    with pytest.raises(ValueError, match="no training-tokens column"):
        sj.load_runs({"N": N, "steps": D, "loss": L})
    # naming the column resolves the ambiguity
    runs = sj.load_runs({"params": N, "N": [1.0, 2.0, 3.0], "D": D, "loss": L}, n="params")
    np.testing.assert_array_equal(runs.N, N)


def test_parquet_input(tmp_path):
    pa = pytest.importorskip("pyarrow", reason="pyarrow (the 'parquet' extra) is not installed")
    import pyarrow.parquet as pq

    path = tmp_path / "runs.parquet"
    pq.write_table(pa.table({"n_params": N, "n_tokens": D, "eval_loss": L}), path)
    runs = sj.load_runs(path)
    np.testing.assert_array_equal(runs.N, N)
    assert runs.columns["loss"] == "eval_loss"


def test_parquet_without_pyarrow_says_how_to_install(tmp_path, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_pyarrow(name, *args, **kwargs):
        if name.startswith("pyarrow"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    path = tmp_path / "runs.parquet"
    path.write_bytes(b"PAR1")
    monkeypatch.setattr(builtins, "__import__", no_pyarrow)
    with pytest.raises(ValueError, match=r"needs pyarrow .*scaling_jax\[parquet\]"):
        sj.load_runs(path)
