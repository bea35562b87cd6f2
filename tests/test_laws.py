"""The Chinchilla law, its log-space form and the Huber objective: values, jit, vmap, grad."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import scaling_jax as sj
from scaling_jax.fitting.objective import FitData, huber, make_objective
from scaling_jax.laws import (
    CHINCHILLA,
    chinchilla,
    chinchilla_grid,
    chinchilla_log_loss,
    from_log_params,
    to_log_params,
)

P = sj.presets.CHINCHILLA_2022


def test_chinchilla_value_by_hand():
    N, D = 7e10, 1.4e12
    expected = 1.69 + 406.4 / N**0.34 + 410.7 / D**0.28
    assert float(chinchilla(P, N, D)) == pytest.approx(expected, rel=1e-15)


def test_log_params_round_trip_exact():
    q = to_log_params(P)
    assert float(q.a) == pytest.approx(np.log(406.4), rel=1e-15)
    back = from_log_params(q)
    for x, y in zip(back, P, strict=True):
        assert float(x) == pytest.approx(y, rel=1e-14)
    theta = CHINCHILLA.from_params(P)
    assert theta.shape == (5,)
    again = CHINCHILLA.to_params(theta)
    np.testing.assert_allclose(np.array(again), np.array(P), rtol=1e-14)


def test_log_loss_matches_law_and_is_stable():
    N = np.logspace(7, 12, 9)
    D = np.logspace(9, 13, 9)
    theta = CHINCHILLA.from_params(P)
    np.testing.assert_allclose(
        np.exp(chinchilla_log_loss(theta, N, D)), chinchilla(P, N, D), rtol=1e-14
    )
    # Far outside the data (a = 25, alpha = 0) a naive log(sum(exp)) would still be fine, but
    # huge exponents must not overflow in the stable form.
    extreme = jnp.array([800.0, 800.0, 0.0, 0.0, 0.0])
    assert np.isfinite(float(chinchilla_log_loss(extreme, 1e9, 1e10)[()]))


def _logsumexp_log_loss(theta, N, D):
    """The law's log-loss through `jax.scipy.special.logsumexp`, differentiated by autodiff:
    the independent reference for the hand-written derivative."""
    a, b, e, alpha, beta = (theta[..., i] for i in range(5))
    terms = jnp.broadcast_arrays(a - alpha * jnp.log(N), b - beta * jnp.log(D), e)
    return jax.scipy.special.logsumexp(jnp.stack(terms, axis=-1), axis=-1)


def test_log_loss_derivatives_match_autodiff_of_logsumexp():
    N = jnp.logspace(7, 12, 7)
    D = jnp.logspace(9, 13, 7)
    thetas = jnp.array(
        [[6.0, 7.6, 0.6, 0.34, 0.37], [25.0, 0.0, -1.0, 2.0, 0.0], [0.0, 5.0, 1.0, 0.0, 1.5]]
    )
    for theta in thetas:
        for argnum in (0, 1, 2):
            for jac in (jax.jacfwd, jax.jacrev):
                got = jax.jit(jac(chinchilla_log_loss, argnum))(theta, N, D)
                want = jac(_logsumexp_log_loss, argnum)(theta, N, D)
                np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-300)
    # The objective's value and gradient (what the solver evaluates), batched over starts.
    data = _data()
    ours = make_objective(CHINCHILLA.log_loss)
    reference = make_objective(lambda t, f: _logsumexp_log_loss(t, f["N"], f["D"]))
    f, g = jax.jit(jax.vmap(jax.value_and_grad(ours), in_axes=(0, None)))(thetas, data)
    f_ref, g_ref = jax.vmap(jax.value_and_grad(reference), in_axes=(0, None))(thetas, data)
    np.testing.assert_allclose(f, f_ref, rtol=1e-12)
    np.testing.assert_allclose(g, g_ref, rtol=1e-12, atol=1e-300)
    # The rule is differentiable again: the Newton finish's exact Hessian.
    np.testing.assert_allclose(
        jax.hessian(ours)(thetas[0], data), jax.hessian(reference)(thetas[0], data), rtol=1e-10
    )
    # +-inf exponents give +-inf, as logsumexp does.
    assert float(chinchilla_log_loss(jnp.array([jnp.inf, 0, 0, 0, 0.0]), 1e9, 1e10)) == np.inf
    assert float(chinchilla_log_loss(jnp.full(5, -jnp.inf).at[3:].set(0), 1e9, 1e10)) == -np.inf


def test_grid_is_the_papers_4500_points():
    grid = chinchilla_grid()
    assert grid.shape == (4500, 5)
    assert sorted(set(grid[:, 0])) == [0, 5, 10, 15, 20, 25]
    assert sorted(set(grid[:, 2])) == [-1, -0.5, 0, 0.5, 1]
    assert sorted(set(grid[:, 3])) == [0, 0.5, 1, 1.5, 2]
    assert len({tuple(r) for r in grid}) == 4500


def test_huber_branches():
    r = jnp.array([-0.01, -1e-3, 0.0, 5e-4, 0.02])
    d = 1e-3
    expected = [d * (0.01 - d / 2), 0.5e-6, 0.0, 0.5 * 25e-8, d * (0.02 - d / 2)]
    np.testing.assert_allclose(huber(r, d), expected, rtol=1e-15)


def _data(n=40, seed=0):
    runs = sj.synthetic_runs(P, n_runs=n, seed=seed, noise=0.02)
    return FitData(
        {"N": jnp.asarray(runs.N), "D": jnp.asarray(runs.D)},
        jnp.log(jnp.asarray(runs.loss)),
        jnp.ones(n),
        jnp.asarray(1e-3),
    )


def test_law_jit_vmap_grad():
    N = jnp.logspace(8, 11, 5)
    D = jnp.logspace(9, 12, 5)
    eager = chinchilla(P, N, D)
    np.testing.assert_allclose(jax.jit(chinchilla)(P, N, D), eager, rtol=1e-15)
    batched = jax.vmap(chinchilla, in_axes=(None, 0, 0))(P, N, D)
    np.testing.assert_allclose(batched, eager, rtol=1e-15)
    stacked = sj.ChinchillaParams(*(jnp.full(3, v) for v in P))
    over_params = jax.vmap(chinchilla, in_axes=(0, None, None))(stacked, 1e9, 2e10)
    np.testing.assert_allclose(over_params, chinchilla(P, 1e9, 2e10), rtol=1e-15)
    # d L / d N analytically: -alpha A N^(-alpha-1)
    dldn = jax.grad(chinchilla, argnums=1)(P, 1e9, 2e10)
    assert float(dldn) == pytest.approx(-0.34 * 406.4 * 1e9 ** (-1.34), rel=1e-12)
    g = jax.grad(lambda p: chinchilla(p, 1e9, 2e10))(P)
    assert float(g.E) == pytest.approx(1.0)
    assert float(g.A) == pytest.approx(1e9**-0.34, rel=1e-12)


def test_objective_jit_vmap_grad_against_finite_differences():
    data = _data()
    objective = make_objective(CHINCHILLA.log_loss)
    theta = jnp.asarray(CHINCHILLA.from_params(P)) + jnp.array([0.1, -0.2, 0.05, 0.01, -0.02])
    f = objective(theta, data)
    assert float(jax.jit(objective)(theta, data)) == pytest.approx(float(f), rel=1e-14)
    thetas = theta + 0.01 * jnp.arange(15.0).reshape(3, 5)
    batched = jax.vmap(objective, in_axes=(0, None))(thetas, data)
    np.testing.assert_allclose(batched, [objective(t, data) for t in thetas], rtol=1e-14)
    grad = jax.grad(objective)(theta, data)
    h = 1e-6
    fd = [
        (objective(theta.at[i].add(h), data) - objective(theta.at[i].add(-h), data)) / (2 * h)
        for i in range(5)
    ]
    np.testing.assert_allclose(grad, fd, rtol=1e-6, atol=1e-12)


def test_objective_is_the_documented_sum():
    data = _data()
    objective = make_objective(CHINCHILLA.log_loss)
    theta = CHINCHILLA.from_params(P)
    pred = np.log(np.asarray(chinchilla(P, data.features["N"], data.features["D"])))
    r = pred - np.asarray(data.log_loss)
    d = 1e-3
    by_hand = np.sum(np.where(np.abs(r) <= d, 0.5 * r**2, d * (np.abs(r) - d / 2)))
    assert float(objective(theta, data)) == pytest.approx(by_hand, rel=1e-12)
    # per-lane weights multiply the data weights (bootstrap counts)
    w = jnp.arange(len(r)) % 3
    weighted = objective(theta, data, w.astype(float))
    by_hand_w = np.sum(
        np.asarray(w) * np.where(np.abs(r) <= d, 0.5 * r**2, d * (np.abs(r) - d / 2))
    )
    assert float(weighted) == pytest.approx(by_hand_w, rel=1e-12)


def test_unknown_law_name():
    with pytest.raises(ValueError, match="unknown law 'nope'"):
        sj.laws.get_law("nope")


def test_presets_and_resolve(tmp_path):
    assert sj.presets.resolve_params("chinchilla-2022") == P
    path = tmp_path / "p.json"
    path.write_text('{"params": {"A": 1, "B": 2, "E": 1.5, "alpha": 0.3, "beta": 0.3}}')
    assert sj.presets.resolve_params(str(path)).B == 2.0
    path.write_text('{"A": 1}')
    with pytest.raises(ValueError, match="lacks Chinchilla constants"):
        sj.presets.resolve_params(str(path))
    with pytest.raises(ValueError, match="neither a preset"):
        sj.presets.resolve_params("no-such-preset")
