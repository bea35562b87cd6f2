"""User-defined laws through the public `fit`, their validation, and the Kaplan law."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.optimize import minimize

import scaling_jax as sj
from scaling_jax import laws, presets
from scaling_jax.fitting.multistart import fit_data
from scaling_jax.fitting.objective import make_objective


def _power_law(p, f):
    # L = E + A / N**alpha (a size-only law; D is ignored on purpose)
    return p["E"] + p["A"] / f["N"] ** p["alpha"]


def _law():
    return laws.custom_law(
        "size_only",
        _power_law,
        ("A", "E", "alpha"),
        positive=("A", "E"),
        bounds={"alpha": (0.0, 1.0)},
        init_grid={"A": [100.0, 1000.0], "E": [1.0, 2.0], "alpha": [0.2, 0.5]},
        features=("N",),
    )


def _runs(noise=0.02, n=40):
    rng = np.random.default_rng(0)
    N = np.geomspace(1e7, 1e10, n)
    loss = (1.7 + 400.0 / N**0.3) * np.exp(noise * rng.standard_normal(n))
    return sj.Runs(N=N, D=np.full(n, 1e10), loss=loss)


def test_reparameterization_roundtrip_and_constraints():
    law = _law()
    assert law.param_names == ("log_A", "log_E", "logit_alpha")
    assert law.init_grid().shape == (8, 3)
    theta = jnp.array([2.0, -40.0, 30.0])
    p = law.to_params(theta)
    assert p.E > 0 and 0 < p.alpha <= 1
    back = law.from_params(law.to_params(jnp.array([5.0, 0.3, -1.2])))
    np.testing.assert_allclose(back, [5.0, 0.3, -1.2], rtol=1e-12)
    np.testing.assert_allclose(
        law.from_params({"A": 3.0, "E": 1.0, "alpha": 0.5}), [np.log(3.0), 0.0, 0.0], atol=1e-15
    )


def test_user_law_fit_matches_scipy_lbfgsb():
    runs = _runs()
    law = _law()
    assert laws.validate_law(law, runs) == 8
    res = sj.fit(runs, law=law, polish_starts=4)
    assert res.law is law and set(res.params_dict) == {"A", "E", "alpha"}
    objective = make_objective(law.log_loss)
    fdata = fit_data(runs, law, 1e-3, jnp.float64)
    f = jax.jit(lambda t: objective(t, fdata))
    g = jax.jit(jax.grad(lambda t: objective(t, fdata)))
    best = min(
        (
            minimize(
                lambda t: float(f(t)),
                t0,
                jac=lambda t: np.asarray(g(t)),
                method="L-BFGS-B",
                options={"ftol": 1e-15, "gtol": 1e-12, "maxiter": 5000},
            )
            for t0 in law.init_grid()
        ),
        key=lambda r: r.fun,
    )
    assert res.objective <= best.fun * (1 + 1e-7)
    np.testing.assert_allclose(res.theta, best.x, rtol=2e-3, atol=2e-3)


def test_nan_and_wrong_shape_laws_are_rejected():
    runs = _runs(n=10)
    nan_law = laws.custom_law(
        "nan", lambda p, f: p["a"] * jnp.nan * f["N"], ("a",), init_grid={"a": [1.0]}
    )
    with pytest.raises(ValueError, match="non-finite"):
        laws.validate_law(nan_law, runs)
    neg_law = laws.custom_law(
        "negative", lambda p, f: -p["a"] * f["N"], ("a",), init_grid={"a": [1.0, 2.0]}
    )
    with pytest.raises(ValueError, match="non-finite"):
        laws.validate_law(neg_law, runs)
    scalar_law = laws.custom_law(
        "scalar", lambda p, f: jnp.sum(p["a"] * f["N"]), ("a",), init_grid={"a": [1.0]}
    )
    with pytest.raises(ValueError, match="shape"):
        laws.validate_law(scalar_law, runs)
    col_law = laws.custom_law(
        "column", lambda p, f: p["a"] * f["N"][:, None], ("a",), init_grid={"a": [1.0]}
    )
    with pytest.raises(ValueError, match="shape"):
        laws.validate_law(col_law, runs)
    missing = laws.custom_law(
        "needs_u", lambda p, f: p["a"] * f["U"], ("a",), init_grid={"a": [1.0]}, features=("N", "U")
    )
    with pytest.raises(ValueError, match="unknown feature 'U'"):
        laws.validate_law(missing, runs)


def test_bad_custom_law_definitions():
    with pytest.raises(ValueError, match="not in"):
        laws.custom_law("x", _power_law, ("A",), positive=("B",))
    with pytest.raises(ValueError, match="violates a constraint"):
        laws.custom_law("x", _power_law, ("A",), positive=("A",), init_grid={"A": [-1.0]})
    with pytest.raises(ValueError, match="identifier"):
        laws.custom_law("x", _power_law, ("1A",))
    with pytest.raises(ValueError, match="low < high"):
        laws.custom_law("x", _power_law, ("A",), bounds={"A": (1.0, 0.0)})


def test_custom_law_jit_vmap_grad_and_log_space():
    law = laws.custom_law(
        "chin_log",
        lambda p, f: laws.chinchilla_log_loss(p, f["N"], f["D"]),
        ("a", "b", "e", "alpha", "beta"),
        init_grid=laws.chinchilla_grid()[:3],
        log_space=True,
        params_as="array",
    )
    feats = {"N": jnp.array([1e9, 1e10]), "D": jnp.array([2e10, 2e11])}
    theta = laws.CHINCHILLA.from_params(presets.CHINCHILLA_2022)
    np.testing.assert_allclose(
        jax.jit(law.log_loss)(theta, feats), laws.CHINCHILLA.log_loss(theta, feats), rtol=1e-14
    )
    batch = jax.vmap(law.log_loss, in_axes=(0, None))(jnp.stack([theta, theta]), feats)
    assert batch.shape == (2, 2)
    assert np.isfinite(jax.grad(lambda t: law.log_loss(t, feats).sum())(theta)).all()


def test_kaplan_law_registered_and_consistent():
    law = laws.get_law("kaplan")
    p = presets.KAPLAN_2020_ND
    N, D = jnp.array([1e8, 1e10]), jnp.array([1e9, 1e11])
    np.testing.assert_allclose(
        jnp.exp(law.log_loss(law.from_params(p), {"N": N, "D": D})),
        laws.kaplan_nd(p, N, D),
        rtol=1e-13,
    )
    # L(N, D -> inf) -> (N_c / N)**alpha_N
    np.testing.assert_allclose(laws.kaplan_nd(p, 1e9, 1e40), (p.N_c / 1e9) ** p.alpha_N, rtol=1e-12)
    assert law.init_grid().shape == (400, 4)
    assert np.isfinite(
        jax.grad(lambda t: law.log_loss(t, {"N": N, "D": D}).sum())(law.from_params(p))
    ).all()
