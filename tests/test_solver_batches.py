"""The solver's batching: refilled lanes, compaction into a fixed set of sizes, padded points."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import scaling_jax as sj
from scaling_jax._padding import pad_points, padded_length
from scaling_jax.fitting.multistart import fit_data
from scaling_jax.fitting.objective import make_objective
from scaling_jax.fitting.solver import Status, lane_sizes, polish, solve_starts
from scaling_jax.laws import get_law


def _bowl(theta, data, target):
    # A per-lane quadratic bowl: each start's minimum is its own lane's target (scaled axes).
    return jnp.sum(data * (theta - target) ** 2)


def test_lane_sizes_are_few_and_fixed():
    assert lane_sizes(4500) == (4544, 1024, 256, 64)
    assert lane_sizes(1024) == (1024, 256, 64)
    assert lane_sizes(128) == (128, 64)
    assert lane_sizes(40) == (64,)
    assert lane_sizes(1000, floor=32, factor=8) == (1024, 256, 32)
    assert all(s % 4 == 0 for s in lane_sizes(300, n_dev=4))


@pytest.mark.parametrize("batch_size", [64, 128, 1024])
def test_refilled_lanes_keep_their_own_start_and_lane_data(batch_size):
    rng = np.random.default_rng(0)
    n, k = 300, 3
    targets = rng.normal(size=(n, k))
    theta0 = rng.normal(size=(n, k)) * 3
    scales = np.array([1.0, 10.0, 100.0])
    res = solve_starts(_bowl, theta0, scales, batch_size=batch_size, lane_data=targets)
    assert (res.status == Status.CONVERGED).all()
    np.testing.assert_allclose(res.theta, targets, atol=1e-6)
    assert (res.n_eval >= 2).all() and res.objective.max() < 1e-9


def test_screening_caps_steps_per_start_across_batches():
    rng = np.random.default_rng(1)
    targets = rng.normal(size=(200, 2))
    theta0 = targets + 50.0
    res = solve_starts(
        _bowl, theta0, np.array([1.0, 1e4]), batch_size=64, max_steps=3, lane_data=targets
    )
    assert (res.n_eval <= 4).all() and (res.n_eval >= 2).all()
    assert (res.status == Status.RUNNING).sum() > 0


def test_polish_compacts_and_reports_every_lane():
    rng = np.random.default_rng(2)
    targets = rng.normal(size=(300, 2))
    pol = polish(_bowl, targets + 1.0, np.array([1.0, 3.0]), 20, lane_data=targets)
    assert pol.converged.all()
    np.testing.assert_allclose(pol.theta, targets, atol=1e-8)
    assert pol.grad_norm.shape == (300,) and pol.grad_norm.max() < 1e-6


def test_padded_points_leave_objective_and_gradient_unchanged():
    law = get_law("chinchilla")
    runs = sj.synthetic_runs(sj.presets.EPOCH_2024, n_runs=47, seed=3, noise=0.02)
    assert padded_length(47) == 256 and padded_length(257) == 512
    objective = make_objective(law.log_loss)
    plain = fit_data(runs, law, 1e-3, np.float64)
    padded = fit_data(runs, law, 1e-3, np.float64, pad=True)
    assert padded.log_loss.shape == (256,) and padded.weights[47:].max() == 0.0
    value_and_grad = jax.jit(jax.value_and_grad(objective))

    def close(a, b):  # to 1e-15 of the largest entry (summation order may differ by an ulp)
        a, b = np.asarray(a), np.asarray(b)
        assert np.all(np.abs(a - b) <= 1e-15 * np.max(np.abs(b), axis=-1, keepdims=True))

    thetas = sj.laws.chinchilla_grid()[::97]
    for theta in thetas:
        f0, g0 = value_and_grad(theta, plain)
        f1, g1 = value_and_grad(theta, padded)
        close(f1[None], f0[None])
        close(g1, g0)
    # vmapped over starts, with per-lane weights padded by zeros too
    w = np.random.default_rng(0).integers(0, 3, size=(len(thetas), 47)).astype(float)
    w_pad = np.concatenate([w, np.zeros((len(thetas), 256 - 47))], axis=1)
    batched = jax.jit(jax.vmap(jax.value_and_grad(objective), in_axes=(0, None, 0)))
    f0, g0 = batched(thetas, plain, w)
    f1, g1 = batched(thetas, padded, w_pad)
    np.testing.assert_allclose(np.asarray(f1), np.asarray(f0), rtol=1e-15, atol=0)
    close(g1, g0)


def test_pad_points_repeats_the_first_row():
    col = np.array([[1.0, 2.0], [3.0, 4.0]])
    np.testing.assert_array_equal(pad_points(col, 4), [[1, 2], [3, 4], [1, 2], [1, 2]])
    with pytest.raises(ValueError, match="cannot pad"):
        pad_points(col, 1)
    with pytest.raises(ValueError, match="at least one"):
        padded_length(0)
