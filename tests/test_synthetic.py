"""Tests for scaling_jax.synthetic: the Chinchilla-like design and noisy law-generated runs."""

from __future__ import annotations

import numpy as np
import pytest

from scaling_jax.data import Runs
from scaling_jax.laws import ChinchillaParams, chinchilla
from scaling_jax.synthetic import chinchilla_design, synthetic_runs

PARAMS = ChinchillaParams(A=406.4, B=410.7, E=1.69, alpha=0.34, beta=0.28)


def test_design_shape_and_ranges():
    N, D = chinchilla_design()
    assert N.shape == D.shape == (245,)
    assert N.dtype == D.dtype == np.float64
    sizes, counts = np.unique(N, return_counts=True)
    assert 20 <= sizes.size <= 40
    np.testing.assert_allclose([sizes[0], sizes[-1]], [7e7, 1.6e10], rtol=1e-12)
    np.testing.assert_allclose(np.diff(np.log(sizes)), np.diff(np.log(sizes))[0], rtol=1e-9)
    assert D.min() >= 5e9 and D.max() <= 5e11
    # Several token counts per size, covering the range roughly log-uniformly.
    assert counts.min() >= 5 and counts.max() - counts.min() <= 1
    quartiles = np.quantile(np.log(D), [0.25, 0.5, 0.75])
    expected = np.log(5e9) + np.array([0.25, 0.5, 0.75]) * np.log(100.0)
    np.testing.assert_allclose(quartiles, expected, atol=0.4)


def test_design_deterministic_per_seed():
    a = chinchilla_design(seed=3)
    b = chinchilla_design(seed=3)
    c = chinchilla_design(seed=4)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[1], c[1])


@pytest.mark.parametrize("n_runs", [1, 2, 7, 50, 1000])
def test_design_sizes(n_runs):
    N, D = chinchilla_design(n_runs, n_range=(1e8, 1e9), d_range=(1e9, 1e10))
    assert len(N) == len(D) == n_runs
    assert N.min() >= 1e8 * (1 - 1e-12) and N.max() <= 1e9 * (1 + 1e-12)
    assert D.min() >= 1e9 and D.max() <= 1e10
    assert np.unique(N).size <= 40


def test_design_bad_arguments():
    with pytest.raises(ValueError, match="n_runs"):
        chinchilla_design(0)
    with pytest.raises(ValueError, match="n_runs"):
        chinchilla_design(2.5)
    with pytest.raises(
        ValueError, match=r"n_range: need finite 0 < low <= high, got \(1000000000.0, 100000000.0\)"
    ):
        chinchilla_design(n_range=(1e9, 1e8))
    with pytest.raises(ValueError, match="d_range"):
        chinchilla_design(d_range=(0.0, 1e9))


def test_noise_free_runs_match_law():
    runs = synthetic_runs(PARAMS, noise=0.0)
    assert isinstance(runs, Runs) and len(runs) == 245
    N, D = chinchilla_design()
    np.testing.assert_array_equal(runs.N, N)
    np.testing.assert_array_equal(runs.D, D)
    np.testing.assert_array_equal(runs.loss, np.asarray(chinchilla(PARAMS, N, D)))


def test_runs_deterministic_per_seed():
    a = synthetic_runs(PARAMS, seed=1)
    b = synthetic_runs(PARAMS, seed=1)
    c = synthetic_runs(PARAMS, seed=2)
    np.testing.assert_array_equal(a.loss, b.loss)
    assert not np.array_equal(a.loss, c.loss)
    # Passing the default design explicitly changes nothing.
    d = synthetic_runs(PARAMS, seed=1, design=chinchilla_design(245, 1))
    np.testing.assert_array_equal(a.loss, d.loss)


def test_noise_level_is_right():
    noise = 0.05
    runs = synthetic_runs(PARAMS, n_runs=20_000, seed=7, noise=noise)
    resid = np.log(runs.loss) - np.log(np.asarray(chinchilla(PARAMS, runs.N, runs.D)))
    n = resid.size
    # Mean within 5 standard errors of 0; sample std within 5 standard errors of `noise`.
    assert abs(resid.mean()) < 5 * noise / np.sqrt(n)
    assert abs(resid.std(ddof=1) / noise - 1) < 5 / np.sqrt(2 * (n - 1))
    # Independent of the design: no correlation with log N or log D.
    for x in (np.log(runs.N), np.log(runs.D)):
        assert abs(np.corrcoef(x, resid)[0, 1]) < 5 / np.sqrt(n)


def test_custom_design():
    N = np.array([1e8, 1e9, 1e10])
    D = np.array([1e10, 1e10, 1e11])
    runs = synthetic_runs(PARAMS, design=(N, D), noise=0.0)
    np.testing.assert_array_equal(runs.loss, np.asarray(chinchilla(PARAMS, N, D)))
    again = synthetic_runs(PARAMS, design=runs, noise=0.0)
    np.testing.assert_array_equal(again.loss, runs.loss)
    with pytest.raises(ValueError, match=r"D: value -1.0 at row 1"):
        synthetic_runs(PARAMS, design=(N, np.array([1e10, -1.0, 1e11])))
    with pytest.raises(ValueError, match="design: expected"):
        synthetic_runs(PARAMS, design=(N,))


def test_bad_noise_and_params():
    with pytest.raises(ValueError, match="noise"):
        synthetic_runs(PARAMS, noise=-0.1)
    with pytest.raises(ValueError, match="noise"):
        synthetic_runs(PARAMS, noise=float("nan"))
    with pytest.raises(ValueError, match="params"):
        synthetic_runs(("a", 1, 1, 1, 1))
    negative = ChinchillaParams(A=-1e6, B=1.0, E=0.1, alpha=0.1, beta=0.1)
    with pytest.raises(ValueError, match="loss: value"):
        synthetic_runs(negative, noise=0.0)
