"""jit, vmap and grad of the public elementwise JAX functions of `kaplan` and `flops`.

Each function is compared under `jax.jit` and `jax.vmap` with its eager value, and its
derivative in the first argument with a central finite difference (float64).
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from scaling_jax import flops
from scaling_jax.laws import kaplan

# (name, function of one scalar, a few points to evaluate it at)
CASES = [
    ("kaplan.loss_n", partial(kaplan.loss_n, kaplan.KAPLAN_2020), [1e7, 1e9, 1e11]),
    ("kaplan.loss_d", partial(kaplan.loss_d, kaplan.KAPLAN_2020), [1e8, 1e10, 1e12]),
    ("kaplan.loss_compute", partial(kaplan.loss_compute, kaplan.KAPLAN_2020), [1e-3, 1.0, 1e3]),
    ("kaplan.loss_nd", lambda n: kaplan.loss_nd(kaplan.KAPLAN_2020, n, 2e10), [1e7, 1e9, 1e11]),
    ("kaplan.loss_ns", lambda s: kaplan.loss_ns(kaplan.KAPLAN_2020, 1e9, s), [1e3, 1e4, 1e5]),
    (
        "kaplan.critical_batch_size",
        partial(kaplan.critical_batch_size, kaplan.KAPLAN_2020),
        [2.0, 3.0, 4.0],
    ),
    ("kaplan.flops_to_pf_days", kaplan.flops_to_pf_days, [1e18, 1e21, 1e24]),
    ("flops.training_flops", lambda n: flops.training_flops(n, 1e12), [1e8, 1e9, 7e10]),
    ("flops.inference_flops_per_token", flops.inference_flops_per_token, [1e8, 1e9, 7e10]),
    (
        "flops.kaplan_forward_flops_per_token",
        lambda n: flops.kaplan_forward_flops_per_token(n, 48, 2048, 1600),
        [1e8, 1e9],
    ),
    ("flops.total_from_nonembedding", flops.total_from_nonembedding, [1e7, 1e9, 1e11]),
    ("flops.nonembedding_from_total", flops.nonembedding_from_total, [2e7, 1e9, 1e11]),
    (
        "flops.deepseek_training_flops",
        lambda d: flops.deepseek_training_flops(5e9, d),
        [1e10, 1e12],
    ),
]


@pytest.mark.parametrize(("name", "fn", "xs"), CASES, ids=[c[0] for c in CASES])
def test_jit_vmap_grad(name, fn, xs):
    xs = jnp.asarray(xs, dtype=jnp.float64)
    eager = np.array([float(fn(x)) for x in xs])
    np.testing.assert_allclose(jax.jit(fn)(xs[0]), eager[0], rtol=1e-14)
    np.testing.assert_allclose(jax.vmap(fn)(xs), eager, rtol=1e-14)
    grad = jax.vmap(jax.grad(fn))(xs)
    h = 1e-6 * xs
    fd = (jax.vmap(fn)(xs + h) - jax.vmap(fn)(xs - h)) / (2 * h)
    np.testing.assert_allclose(grad, fd, rtol=1e-6)


def test_nonembedding_round_trip_under_vmap():
    n = jnp.geomspace(1e6, 1e12, 7)
    back = jax.vmap(flops.nonembedding_from_total)(jax.vmap(flops.total_from_nonembedding)(n))
    np.testing.assert_allclose(back, n, rtol=1e-12)


def test_gradient_noise_scale_jit_and_vmap():
    rng = np.random.default_rng(0)
    grads = jnp.asarray(rng.normal(1.0, 0.5, size=(3, 64, 10)))  # 3 batches of 64 examples
    eager = np.array([float(kaplan.gradient_noise_scale(g)) for g in grads])
    np.testing.assert_allclose(jax.jit(kaplan.gradient_noise_scale)(grads[0]), eager[0])
    np.testing.assert_allclose(jax.vmap(kaplan.gradient_noise_scale)(grads), eager, rtol=1e-12)
