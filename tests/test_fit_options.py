"""Fit options (fixed, tied, loss kind, asymmetric, weights, n_kind) against an independent
numpy/scipy implementation of the same objective (tests/scipy_reference.py)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy_reference import options_objective_and_grad, scipy_fit_options

import scaling_jax as sj
from scaling_jax.fitting.multistart import fit_data
from scaling_jax.fitting.options import (
    constrained_law,
    inverse_variance_weights,
    make_loss_objective,
    non_embedding_params,
)
from scaling_jax.laws import CHINCHILLA

TRUTH = sj.presets.EPOCH_2024
THETA0 = np.asarray(CHINCHILLA.from_params(TRUTH))
STARTS = THETA0 + np.random.default_rng(1).normal(0, 0.3, (4, 5))
E_FIXED = 1.75


@pytest.fixture(scope="module")
def runs():
    return sj.synthetic_runs(TRUTH, n_runs=40, seed=7, noise=0.02)


def _maps(free, fixed=None, tied=None):
    """Independent (M, c): theta = M @ x + c for free coordinates `free` (indices)."""
    M = np.zeros((5, len(free)))
    c = np.zeros(5)
    for j, i in enumerate(free):
        M[i, j] = 1.0
    for i, v in (fixed or {}).items():
        c[i] = v
    for src, dst in tied or ():
        M[dst] = M[src]
    return M, c


def _check(ours, ref_x, ref_f, M, c):
    # same optimum: objectives agree tightly, parameters loosely (shallow directions)
    assert ours.objective <= ref_f * (1 + 1e-7) + 1e-15
    assert ref_f <= ours.objective * (1 + 1e-6) + 1e-15
    np.testing.assert_allclose(ours.theta, M @ ref_x + c, rtol=2e-3, atol=2e-3)


def test_objective_values_match_reference(runs):
    """Every option's objective equals the numpy reference at arbitrary points."""
    rng = np.random.default_rng(0)
    w = rng.uniform(0.2, 3.0, len(runs))
    cases = [
        dict(fixed={"E": E_FIXED}, kw={}, free=(0, 1, 3, 4), ref_fixed={2: np.log(E_FIXED)}),
        dict(tied=[("alpha", "beta")], kw={}, free=(0, 1, 2, 3), ref_tied=[(3, 4)]),
        dict(kw={"kind": "ls_log"}, loss="ls_log"),
        dict(kw={"kind": "ls_raw"}, loss="ls_raw"),
        dict(kw={"asymmetric": 3.0}, asymmetric=3.0),
        dict(kw={"weights": w}, weights=w),
    ]
    for case in cases:
        cl = constrained_law(CHINCHILLA, case.get("fixed", {}), case.get("tied", ()))
        rw = runs if "weights" not in case else sj.Runs(runs.N, runs.D, runs.loss, weights=w)
        data = fit_data(rw, cl.law, 1e-3, "float64")
        obj = make_loss_objective(
            cl.law.log_loss, case.get("loss", "huber_log"), case.get("asymmetric", 1.0)
        )
        free = case.get("free", tuple(range(5)))
        M, c = _maps(free, case.get("ref_fixed"), case.get("ref_tied"))
        for theta in THETA0 + rng.normal(0, 0.2, (3, 5)):
            x = theta[list(free)]
            ours = float(obj(np.asarray(x), data))
            ref, _ = options_objective_and_grad(
                x, M, c, np.log(runs.N), np.log(runs.D), runs.loss, **case["kw"]
            )
            assert ours == pytest.approx(ref, rel=1e-11), case


def test_fixed_E_matches_scipy(runs):
    ours = sj.fit(runs, starts=STARTS, fixed={"E": E_FIXED})
    assert abs(ours.params.E / E_FIXED - 1) < 1e-14
    assert ours.options["fixed"] == {"E": E_FIXED} and ours.options["n_free"] == 4
    free = (0, 1, 3, 4)
    M, c = _maps(free, {2: np.log(E_FIXED)})
    x, f = scipy_fit_options(STARTS[:, free], runs.N, runs.D, runs.loss, M, c)
    _check(ours, x, f, M, c)


def test_tied_asymmetric_weighted_matches_scipy(runs):
    w = np.random.default_rng(3).uniform(0.5, 2.0, len(runs))
    ours = sj.fit(runs, starts=STARTS, tied=[("alpha", "beta")], asymmetric=3.0, weights=w)
    assert ours.params.alpha == ours.params.beta
    assert ours.options["tied"] == [["alpha", "beta"]] and ours.options["asymmetric"] == 3.0
    free = (0, 1, 2, 3)
    M, c = _maps(free, tied=[(3, 4)])
    x, f = scipy_fit_options(
        STARTS[:, free], runs.N, runs.D, runs.loss, M, c, asymmetric=3.0, weights=w
    )
    _check(ours, x, f, M, c)
    # asymmetry moves the fit below the data: more runs under-predicted than over-predicted
    pred = np.asarray(sj.laws.chinchilla(ours.params, runs.N, runs.D))
    assert np.mean(pred < runs.loss) > 0.5


def test_ls_log_with_inverse_variance_weights_matches_scipy():
    rng = np.random.default_rng(5)
    base = sj.synthetic_runs(TRUTH, n_runs=15, seed=11, noise=0.0)
    noise = rng.uniform(0.005, 0.04, len(base))  # per-design-point run-to-run noise
    N, D = np.repeat(base.N, 3), np.repeat(base.D, 3)
    loss = np.repeat(base.loss, 3) * np.exp(np.repeat(noise, 3) * rng.standard_normal(45))
    runs = sj.Runs(N, D, loss)
    ours = sj.fit(runs, starts=STARTS, loss="ls_log", weights="inverse_variance")
    assert ours.options["weights"] == "inverse_variance" and ours.options["loss"] == "ls_log"
    # independent weights: 1 / sample variance of log-loss over each triple, scaled to mean 1
    var = np.log(loss).reshape(15, 3).var(axis=1, ddof=1)
    w = np.repeat(1.0 / var, 3)
    w = w / w.mean()
    np.testing.assert_allclose(ours.data.weights, w, rtol=1e-10)
    M, c = _maps(tuple(range(5)))
    x, f = scipy_fit_options(STARTS, N, D, loss, M, c, kind="ls_log", weights=w)
    _check(ours, x, f, M, c)


def test_ls_raw_non_embedding_matches_scipy(runs):
    vocab = 32000
    d_model = np.round(np.sqrt(runs.N / 12 / 8)) + 64  # a width per run
    n_total = runs.N + vocab * d_model
    total = sj.Runs(n_total, runs.D, runs.loss)
    ours = sj.fit(
        total, starts=STARTS, loss="ls_raw", n_kind="non_embedding", vocab=vocab, d_model=d_model
    )
    assert ours.options["n_kind"] == "non_embedding" and ours.options["vocab"] == vocab
    np.testing.assert_allclose(ours.data.N, runs.N, rtol=1e-12)
    M, c = _maps(tuple(range(5)))
    x, f = scipy_fit_options(STARTS, runs.N, runs.D, runs.loss, M, c, kind="ls_raw")
    _check(ours, x, f, M, c)
    # predict converts new total counts the same way
    pred = sj.predict(ours, n_total[:3], runs.D[:3], d_model=d_model[:3])
    np.testing.assert_allclose(
        pred.loss, sj.laws.chinchilla(ours.params, runs.N[:3], runs.D[:3]), rtol=1e-12
    )
    with pytest.raises(ValueError, match="d_model"):
        sj.predict(ours, n_total[:3], runs.D[:3])


def test_option_errors(runs):
    with pytest.raises(ValueError, match="unknown parameter 'Q'"):
        sj.fit(runs, starts=STARTS, fixed={"Q": 1.0})
    with pytest.raises(ValueError, match="loss='huber'"):
        sj.fit(runs, starts=STARTS, loss="huber")
    with pytest.raises(ValueError, match="asymmetric"):
        sj.fit(runs, starts=STARTS, asymmetric=-1)
    with pytest.raises(ValueError, match="also fixed"):
        sj.fit(runs, starts=STARTS, fixed={"alpha": 0.3}, tied=[("alpha", "beta")])
    with pytest.raises(ValueError, match="replicate runs"):
        sj.fit(runs, starts=STARTS, weights="inverse_variance")
    with pytest.raises(ValueError, match="vocab"):
        sj.fit(runs, starts=STARTS, n_kind="non_embedding")
    with pytest.raises(ValueError, match="not larger than its embedding"):
        non_embedding_params([1e6], 32000, 512)


def test_inverse_variance_pools_singletons():
    y = np.log([2.0, 2.2, 3.0, 3.3, 4.0])
    w = inverse_variance_weights(y, ["a", "a", "b", "b", "c"])
    va, vb = np.var(y[:2], ddof=1), np.var(y[2:4], ddof=1)
    pooled = (va + vb) / 2
    raw = 1 / np.array([va, va, vb, vb, pooled])
    np.testing.assert_allclose(w, raw / raw.mean(), rtol=1e-12)


def test_cli_fit_options_thread_through_json_and_predict(runs, tmp_path, capsys):
    from scaling_jax.cli import main

    lines = ["n_params,n_tokens,eval_loss"] + [
        f"{float(n)!r},{float(d)!r},{float(v)!r}"
        for n, d, v in zip(runs.N, runs.D, runs.loss, strict=True)
    ]
    (tmp_path / "runs.csv").write_text("\n".join(lines))
    out = tmp_path / "fit.json"
    code = main(
        [
            "fit",
            str(tmp_path / "runs.csv"),
            "--starts",
            "16",
            "--fixed",
            f"E={E_FIXED}",
            "--tied",
            "alpha,beta",
            "--loss",
            "ls_log",
            "--asymmetric",
            "2",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    text = capsys.readouterr().out
    assert "N <- 'n_params', D <- 'n_tokens', loss <- 'eval_loss'" in text
    res = sj.FitResult.from_json(out)
    assert res.options["fixed"] == {"E": E_FIXED} and res.options["tied"] == [["alpha", "beta"]]
    assert res.options["loss"] == "ls_log" and res.options["asymmetric"] == 2.0
    assert abs(res.params.E / E_FIXED - 1) < 1e-14 and res.params.alpha == res.params.beta
    pred = sj.predict(res, [1e9], [2e10])
    assert pred.dof == len(runs) - 3  # a, b and the tied exponent are free
    assert main(["predict", str(out), "--n", "1e9", "--d", "2e10"]) == 0


def test_bootstrap_threads_fixed_and_tied_through_to_predict(runs):
    from scaling_jax.fitting.resampling import resample_weights

    boot = sj.bootstrap(
        runs,
        n_resamples=6,
        grid=STARTS,
        fixed={"E": E_FIXED},
        tied=[("alpha", "beta")],
        asymmetric=2.0,
        progress=False,
    )
    assert boot.theta.shape == (6, 5)
    np.testing.assert_allclose(boot.theta[:, 2], np.log(E_FIXED), rtol=1e-15)
    np.testing.assert_array_equal(boot.theta[:, 3], boot.theta[:, 4])
    assert boot.config["fixed"] == {"E": E_FIXED} and boot.config["asymmetric"] == 2.0
    # resample 0 against scipy on the same count weights and the same objective
    w = resample_weights(len(runs), int(boot.indices[0]), 0, "points")
    free = (0, 1, 3)
    M, c = _maps(free, {2: np.log(E_FIXED)}, tied=[(3, 4)])
    x, f = scipy_fit_options(
        STARTS[:, free], runs.N, runs.D, runs.loss, M, c, asymmetric=2.0, weights=w
    )
    assert boot.objective[0] <= f * (1 + 1e-6) + 1e-15 and f <= boot.objective[0] * (1 + 1e-6)
    np.testing.assert_allclose(boot.theta[0], M @ x + c, rtol=2e-3, atol=2e-3)
    pred = sj.predict(boot, [1e9], [2e10])  # the bootstrap result carries its runs
    assert pred.method == "bootstrap" and pred.dof == len(runs) - 3


def test_group_labels_are_resampled_as_clusters(tmp_path):
    from scaling_jax.fitting.resampling import resample_weights
    from scaling_jax.fitting.resampling._schemes import groups_of

    path = tmp_path / "runs.csv"
    rows = ["N,D,loss,seed"] + [
        f"{1e8 * (1 + i % 3)},{2e9 * (1 + i % 4)},{3.0 - 0.01 * i},s{i // 4}" for i in range(12)
    ]
    path.write_text("\n".join(rows))
    runs = sj.load_runs(path, group="seed")
    assert runs.columns["group"] == "seed" and list(runs.group[:5]) == ["s0"] * 4 + ["s1"]
    labels = groups_of(runs)
    assert len(set(labels)) == 3  # three seeds, not three model sizes by accident
    for i in range(5):
        w = resample_weights(len(runs), i, 0, "groups", labels)
        for g in range(3):
            assert len(set(w[labels == g])) == 1  # a group is drawn whole
        assert w.sum() == 12
    assert len(runs.subset([0, 5]).group) == 2


def test_non_embedding_from_an_architecture():
    from scaling_jax.fitting.options import prepare_runs
    from scaling_jax.flops import CHINCHILLA_70B

    total = sj.Runs(N=[7e10, 7.1e10], D=[1.4e12, 1.5e12], loss=[1.94, 1.93])
    runs, record = prepare_runs(total, n_kind="non_embedding", vocab=CHINCHILLA_70B)
    np.testing.assert_allclose(runs.N, np.array([7e10, 7.1e10]) - 32000 * 8192, rtol=1e-15)
    assert record == {"n_kind": "non_embedding", "vocab": 32000.0, "untied_embeddings": False}
    untied, _ = prepare_runs(
        total, n_kind="non_embedding", vocab=32000, d_model=8192, untied_embeddings=True
    )
    np.testing.assert_allclose(untied.N, total.N - 2 * 32000 * 8192, rtol=1e-15)
