"""One law object end to end: a user law (`custom_law`) through fit, bootstrap, JSON and the
numeric compute-optimal solver, checked against the registry's Chinchilla law on the same data
(the same function of (N, D), written by hand in other coordinates)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import scaling_jax as sj
from scaling_jax.fitting.resampling import BootstrapResult, bootstrap, load_bootstrap
from scaling_jax.laws import (
    CHINCHILLA,
    DATA_CONSTRAINED,
    ChinchillaParams,
    custom_law,
    law_loss_fn,
)
from scaling_jax.presets import CHINCHILLA_2022
from scaling_jax.sizing import optimal_exponents, solve_compute_optimal

GRID = {
    "A": [100.0, 1000.0],
    "B": [100.0, 1000.0],
    "E": [1.0, 2.0],
    "alpha": [0.3, 0.4],
    "beta": [0.25, 0.35],
}
BOOT = dict(n_resamples=8, seed=3, chunk_size=4, progress=False, jackknife=True)
BUDGETS = [1e21, 5.76e23]
POINTS = ([1e9, 7e10], [2e10, 1.4e12])


def _user_chinchilla(p, f):
    return p["E"] + p["A"] / f["N"] ** p["alpha"] + p["B"] / f["D"] ** p["beta"]


@pytest.fixture(scope="module")
def law():
    return custom_law(
        "my_chinchilla",
        _user_chinchilla,
        ("A", "B", "E", "alpha", "beta"),
        positive=("A", "B", "E"),
        bounds={"alpha": (0.0, 1.0), "beta": (0.0, 1.0)},
        init_grid=GRID,
    )


@pytest.fixture(scope="module")
def runs():
    return sj.synthetic_runs(CHINCHILLA_2022, n_runs=60, seed=1, noise=0.01)


def _registry_grid(law):
    """The user law's starts in the registry Chinchilla law's coordinates."""
    natural = ChinchillaParams(*law.to_params(jnp.asarray(law.init_grid())))
    return np.asarray(CHINCHILLA.from_params(natural))


@pytest.fixture(scope="module")
def boots(runs, law):
    user = bootstrap(runs, law, **BOOT)
    # The registry law from the same natural starts: same resamples, same optimum per resample.
    ref = bootstrap(runs, "chinchilla", grid=_registry_grid(law), **BOOT)
    return user, ref


def test_fit_result_keeps_the_law_and_round_trips(tmp_path, runs, law):
    res = sj.fit(runs, law, polish_starts=4)
    assert res.law is law
    assert type(res.params) is type(law.to_params(jnp.zeros(5)))
    assert res.params._fields == ("A", "B", "E", "alpha", "beta")
    ref = sj.fit(runs, "chinchilla", starts=_registry_grid(law), polish_starts=4)
    np.testing.assert_allclose(list(res.params), list(ref.params), rtol=1e-6)
    path = tmp_path / "fit.json"
    res.to_json(path)
    with pytest.raises(ValueError, match="'my_chinchilla'.*not in the registry.*law="):
        sj.FitResult.from_json(path)
    back = sj.FitResult.from_json(path, law=law)
    assert back.law is law and type(back.params) is type(res.params)
    assert back.params == res.params and back.summary() == res.summary()
    other = custom_law("size", lambda p, f: p["E"] + 1 / f["N"], ("E",), positive=("E",))
    with pytest.raises(ValueError, match="fit coordinates"):
        sj.FitResult.from_json(path, law=other)
    # A registry law still reloads by name alone.
    ref.to_json(path)
    assert sj.FitResult.from_json(path).law is CHINCHILLA


def test_custom_law_bootstrap_end_to_end(boots, law):
    user, ref = boots
    assert user.law is law
    p = user.params
    assert type(p) is type(law.to_params(jnp.zeros(5))) and p.A.shape == (8,)
    # Per resample the same optimum as the registry law, in natural units.
    for name in p._fields:
        np.testing.assert_allclose(getattr(p, name), getattr(ref.params, name), rtol=1e-5)
    se, se_ref = user.stderr(), ref.stderr()
    assert set(se) == {"A", "B", "E", "alpha", "beta"}
    for k in se:
        assert se[k] > 0
        np.testing.assert_allclose(se[k], se_ref[k], rtol=1e-4)
    for method in ("percentile", "bca"):
        iv, iv_ref = user.interval(0.9, method), ref.interval(0.9, method)
        for k in iv:
            np.testing.assert_allclose(iv[k], iv_ref[k], rtol=1e-4)
    # Derived intervals: the numeric solver on the user law vs the registry's closed form.
    d = user.derived_intervals(budgets=BUDGETS, points=POINTS, level=0.9)
    d_ref = ref.derived_intervals(budgets=BUDGETS, points=POINTS, level=0.9)
    assert "a_N" not in d and "a_N" in d_ref
    assert {"N_opt", "D_opt", "tokens_per_param", "loss"} <= set(d)
    for k in ("N_opt", "D_opt", "tokens_per_param", "loss"):
        for f in ("estimate", "low", "high"):
            assert np.shape(d[k][f]) == np.shape(d_ref[k][f])
            np.testing.assert_allclose(d[k][f], d_ref[k][f], rtol=1e-4)
    assert "N_opt" in user.summary()


def test_custom_law_bootstrap_json_and_load(tmp_path, runs, law, boots):
    user, _ = boots
    path = tmp_path / "boot.json"
    user.to_json(path)
    with pytest.raises(ValueError, match="not in the registry"):
        BootstrapResult.from_json(path)
    back = BootstrapResult.from_json(path, law=law)
    assert back.law is law and type(back.params) is type(user.params)
    np.testing.assert_array_equal(back.theta, user.theta)
    assert back.stderr() == user.stderr()
    assert back.interval(0.8, "bca") == user.interval(0.8, "bca")
    # Chunk files on disk reload through load_bootstrap with the same law object.
    out = tmp_path / "chunks"
    first = bootstrap(runs, law, out_dir=out, **BOOT)
    again = load_bootstrap(out, runs, law, **{k: v for k, v in BOOT.items()})
    assert again.law is law
    np.testing.assert_array_equal(again.theta, first.theta)


def test_custom_law_compute_optimal_numeric(law):
    # The user law's params in its own NamedTuple, equal to Epoch's Chinchilla constants.
    p = law.to_params(law.from_params(dict(CHINCHILLA_2022._asdict())))
    assert not isinstance(p, ChinchillaParams)
    budgets = jnp.array([1e20, 5.76e23, 1e26])
    n, d = sj.compute_optimal(p, budgets, law=law)[:2]
    n_ref, d_ref = sj.compute_optimal(CHINCHILLA_2022, budgets, method="closed")[:2]
    np.testing.assert_allclose(n, n_ref, rtol=1e-8)
    np.testing.assert_allclose(d, d_ref, rtol=1e-8)
    # Same as passing the law's loss function; derivative through the implicit function theorem.
    n2 = solve_compute_optimal(p, budgets, loss_fn=law_loss_fn(law)).N
    np.testing.assert_array_equal(n2, n)
    grad = jax.grad(lambda c: jnp.log(sj.compute_optimal(p, c, law=law)[0]))(1e22)
    a, _ = optimal_exponents(CHINCHILLA_2022)
    np.testing.assert_allclose(grad * 1e22, a, rtol=1e-6)
    with pytest.raises(ValueError, match="besides N and D"):
        law_loss_fn(DATA_CONSTRAINED)
