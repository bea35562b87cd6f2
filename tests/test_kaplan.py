"""Kaplan et al. 2020 laws and the gradient noise scale."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import pytest

from scaling_jax.laws import kaplan as kap

K = kap.KAPLAN_2020


def test_published_values():
    assert float(kap.loss_n(K, 1e9)) == pytest.approx(2.3756, abs=5e-5)
    assert float(kap.loss_d(K, 5.4e13)) == pytest.approx(1.0)
    assert float(kap.flops_to_pf_days(8.64e19)) == pytest.approx(1.0)
    assert float(kap.loss_compute(K, 3.1e8)) == pytest.approx(1.0)
    assert float(kap.loss_compute(K, 1.0)) == pytest.approx(3.1e8**0.05)
    # Joint law: at D → ∞ it reduces to (N_c/N)^α_N with the joint fit's constants.
    assert float(kap.loss_nd(K, 1e9, 1e40)) == pytest.approx((6.4e13 / 1e9) ** 0.076, rel=1e-12)
    n, s = 1e9, 1e5
    # L(N, S) uses its own fit (Table 3: alpha_N = 0.077, N_c = 6.5e13), not L(N)'s.
    assert float(kap.loss_ns(K, n, s)) == pytest.approx((6.5e13 / n) ** 0.077 + (2.1e3 / s) ** 0.76)
    assert float(kap.loss_ns(K, n, 1e300)) == pytest.approx(2.3474, abs=5e-5)  # (6.5e13/1e9)^0.077
    assert float(kap.critical_batch_size(K, 1.0)) == pytest.approx(2e8)
    assert float(kap.critical_batch_size(K, 2.0)) == pytest.approx(2e8 / 2 ** (1 / 0.21))


def test_constants_first_and_the_old_order_warns():
    other = K._replace(n_c=1e13)
    assert float(kap.loss_n(other, 1e9)) == pytest.approx((1e13 / 1e9) ** 0.076, rel=1e-14)
    with pytest.warns(DeprecationWarning, match=r"loss_nd\(KAPLAN_2020, inputs"):
        assert float(kap.loss_nd(1e9, 2e10)) == float(kap.loss_nd(K, 1e9, 2e10))
    with pytest.warns(DeprecationWarning, match="loss_n"):
        assert float(kap.loss_n(1e9, other)) == float(kap.loss_n(other, 1e9))
    with pytest.raises(TypeError, match="needs all 2 inputs"):
        kap.loss_nd(K, 1e9)
    # vmap over stacked constants keeps them a KaplanParams.
    stacked = jax.tree_util.tree_map(lambda v: jnp.array([v, v]), other)
    assert jax.vmap(lambda p: kap.loss_n(p, 1e9))(stacked).shape == (2,)


def test_gradient_noise_scale_linear_regression():
    """y = x·w* + ε, x ~ N(0, I_p), ε ~ N(0, σ²), squared loss / 2 at w = w* + δ:
    G = δ, Σ = δδᵀ + (|δ|² + σ²)·I  ⇒  B_simple = ((p + 1)|δ|² + p·σ²) / |δ|²."""
    p, n, sigma = 4, 200_000, 0.5
    kx, ke = jax.random.split(jax.random.PRNGKey(0))
    x = jax.random.normal(kx, (n, p))
    w_star = jnp.arange(p, dtype=float)
    y = x @ w_star + sigma * jax.random.normal(ke, (n,))
    delta = jnp.full((p,), 0.3)
    grads = kap.per_example_grads(
        lambda w, ex: 0.5 * (ex[0] @ w - ex[1]) ** 2, w_star + delta, (x, y)
    )
    d2 = float(delta @ delta)
    expected = ((p + 1) * d2 + p * sigma**2) / d2
    assert float(jax.jit(kap.gradient_noise_scale)(grads)) == pytest.approx(expected, rel=0.02)
    # Pytree gradients give the same number as their concatenation.
    split = {"a": grads[:, :2], "b": grads[:, 2:]}
    assert float(kap.gradient_noise_scale(split)) == pytest.approx(
        float(kap.gradient_noise_scale(grads)), rel=1e-12
    )


def test_noise_scale_needs_two_examples():
    with pytest.raises(ValueError, match="grads"):
        kap.gradient_noise_scale(jnp.ones((1, 3)))
