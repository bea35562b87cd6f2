"""Loss -> metric links: recovery on a synthetic chain, the Sardana held-out check, near-chance
metrics, chained predictions and the cheapest model reaching a target metric."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import shared_data_file

import scaling_jax as sj
from scaling_jax.fitting.link_fit import CHANCE, LinkFit, fit_links
from scaling_jax.laws.links import EXPONENTIAL, LOGIT, SIGMOID, get_link
from scaling_jax.presets import EPOCH_2024
from scaling_jax.sizing.accuracy import predict_metric, reach_metric
from scaling_jax.sizing.lifetime import lifetime_optimal
from scaling_jax.sizing.optimal import compute_optimal, loss_optimal

TRUE_SIG = np.array([0.25, 0.85, 2.35, np.log(0.12)])  # floor, ceiling, midpoint, log width
TRUE_EXP = np.array([0.05, np.log(40.0), np.log(1.4)])  # floor, log k, log gamma


def _chain(seed: int = 0, n: int = 60):
    """Runs drawn from Epoch's law, with two metrics from known links plus noise."""
    rng = np.random.default_rng(seed)
    N = np.exp(rng.uniform(np.log(5e7), np.log(2e10), n))
    D = N * np.exp(rng.uniform(np.log(3.0), np.log(300.0), n))
    loss = np.asarray(sj.laws.chinchilla(EPOCH_2024, N, D)) * np.exp(0.005 * rng.normal(size=n))
    sig = np.asarray(SIGMOID.predict(jnp.asarray(TRUE_SIG), loss)) + 0.004 * rng.normal(size=n)
    exp = np.asarray(EXPONENTIAL.predict(jnp.asarray(TRUE_EXP), loss))
    exp = exp + 0.004 * rng.normal(size=n)
    return sj.Runs(N=N, D=D, loss=loss, extra={"mc4": sig, "err": exp})


@pytest.fixture(scope="module")
def chain():
    runs = _chain()
    sig = fit_links(runs, ["mc4"], "sigmoid", n_resamples=40, seed=3)
    exp = fit_links(runs, ["err"], "exponential", n_resamples=40, seed=3)
    grid = sj.laws.chinchilla_grid()[::30]  # 150 starts keep the full-data fit cheap
    boot = sj.bootstrap(runs, n_resamples=40, seed=3, progress=False, grid=grid)
    return runs, sig, exp, boot


def test_link_functions_jit_vmap_grad_and_inverse():
    loss = jnp.linspace(1.9, 3.5, 7)
    for link, theta in ((SIGMOID, TRUE_SIG), (EXPONENTIAL, TRUE_EXP)):
        th = jnp.asarray(theta)
        m = link.predict(th, loss)
        np.testing.assert_allclose(jax.jit(link.predict)(th, loss), m, rtol=1e-14)
        batched = jax.vmap(link.predict, in_axes=(0, None))(jnp.stack([th, th]), loss)
        np.testing.assert_allclose(batched[1], m, rtol=1e-14)
        np.testing.assert_allclose(link.inverse(th, m), loss, rtol=1e-10)
        # d metric / d loss against central differences; metrics fall as loss rises.
        g = jax.vmap(jax.grad(lambda x, t=th, lk=link: lk.predict(t, x)))(loss)
        h = 1e-6
        fd = (link.predict(th, loss + h) - link.predict(th, loss - h)) / (2 * h)
        np.testing.assert_allclose(g, fd, rtol=1e-6)
        assert np.all(np.asarray(g) < 0)
    logit_th = jnp.asarray([0.25, 1.0, 4.0, 2.0])
    m = LOGIT.predict(logit_th, loss)
    np.testing.assert_allclose(LOGIT.inverse(logit_th, m), loss, rtol=1e-10)
    # Out of (floor, ceiling): NaN, never a wrong finite loss.
    assert np.isnan(float(SIGMOID.inverse(jnp.asarray(TRUE_SIG), 0.9)))
    assert np.isnan(float(EXPONENTIAL.inverse(jnp.asarray(TRUE_EXP), 0.01)))
    with pytest.raises(ValueError, match="link='probit'"):
        get_link("probit")


def test_synthetic_chain_links_recovered(chain):
    _, sig, exp, _ = chain
    th = sig.theta[0]
    assert abs(th[0] - TRUE_SIG[0]) < 0.02 and abs(th[1] - TRUE_SIG[1]) < 0.05
    assert abs(th[2] - TRUE_SIG[2]) < 0.03 and abs(th[3] - TRUE_SIG[3]) < 0.15
    grid = np.linspace(1.95, 3.2, 20)
    truth = np.asarray(SIGMOID.predict(jnp.asarray(TRUE_SIG), grid))
    assert np.max(np.abs(sig.predict(grid, "mc4") - truth)) < 0.01
    truth = np.asarray(EXPONENTIAL.predict(jnp.asarray(TRUE_EXP), grid))
    assert np.max(np.abs(exp.predict(grid, "err") - truth)) < 0.01
    # The bootstrap band covers the true link over the data's loss range.
    lo, hi = sig.band(grid, "mc4", level=0.99)
    truth = np.asarray(SIGMOID.predict(jnp.asarray(TRUE_SIG), grid))
    assert np.mean((lo - 0.003 <= truth) & (truth <= hi + 0.003)) > 0.9
    assert sig.status == ("converged",)


def test_many_metrics_one_solve_matches_one_at_a_time():
    runs = _chain(seed=1)
    both = fit_links(runs, ["mc4", "err"], "exponential")
    for i, m in enumerate(("mc4", "err")):
        one = fit_links(runs, [m], "exponential")
        np.testing.assert_allclose(both.objective[i], one.objective[0], rtol=1e-8)


def test_chained_prediction_and_target(chain, tmp_path):
    runs, sig, _, boot = chain
    N, D = np.array([3e9, 2e10]), np.array([6e10, 4e11])
    pred = predict_metric(boot, sig, N=N, D=D)
    loss = sj.laws.chinchilla(EPOCH_2024, N, D)
    truth = np.asarray(SIGMOID.predict(jnp.asarray(TRUE_SIG), loss))
    assert pred.n_draws == 40
    assert np.all(pred.metric_low[0] <= pred.metric[0])
    assert np.all(pred.metric[0] <= pred.metric_high[0])
    assert np.all(np.abs(pred.metric[0] - truth) < 0.02)
    # From a compute budget: the same as predicting at the point law's compute-optimal (N, D).
    c = 1e21
    by_c = predict_metric(boot, sig, compute=c)
    n_opt, d_opt = compute_optimal(boot.params_hat, c)[:2]
    at = predict_metric(boot.params_hat, sig, N=float(n_opt), D=float(d_opt))
    np.testing.assert_allclose(by_c.metric, at.metric, rtol=1e-10)
    assert by_c.metric_high[0, 0] - by_c.metric_low[0, 0] > 0

    # Cheapest model reaching 0.6: the link's inverse, then the Chinchilla-style closed form.
    tgt = reach_metric(boot, sig, "mc4", 0.6)
    ell = float(sig.loss_for(0.6, "mc4"))
    ref = loss_optimal(boot.params_hat, ell)
    np.testing.assert_allclose([tgt.N, tgt.D_train], [float(ref.N), float(ref.D)], rtol=1e-6)
    assert tgt.reachable and tgt.intervals["N"][0] < tgt.N < tgt.intervals["N"][1]
    # Lifetime form: serving 1e12 tokens moves to a smaller model trained longer.
    life = reach_metric(boot, sig, "mc4", 0.6, inference_tokens=1e12)
    direct = lifetime_optimal(boot.params_hat, ell, 1e12)
    np.testing.assert_allclose(life.N, float(direct.N), rtol=1e-8)
    assert life.N < tgt.N and life.D_train > tgt.D_train
    # Above the ceiling: unreachable, said so.
    assert not reach_metric(boot, sig, "mc4", 0.95).reachable
    # Both results round-trip through their JSON.
    pred.to_json(tmp_path / "pred.json")
    back = type(pred).from_json(tmp_path / "pred.json")
    assert back.metrics == pred.metrics and back.rows() == pred.rows()
    life.to_json(tmp_path / "life.json")
    assert type(life).from_json(tmp_path / "life.json") == life


def test_near_chance_metric_floor_fixed_at_chance():
    rng = np.random.default_rng(5)
    loss = rng.uniform(2.4, 3.7, 60)
    mmlu = 0.25 + 0.004 * rng.normal(size=60)  # small models: chance, plus noise
    fit = fit_links(loss, {"mmlu_5_shot_avg": mmlu}, "sigmoid", floor="chance")
    assert fit.theta[0, 0] == 0.25 and fit.fixed[0, 0]
    assert np.all(np.abs(fit.predict(np.array([2.5, 3.0, 3.5]), 0) - 0.25) < 0.01)
    # A free floor is a parameter like any other; a logit link needs the floor fixed.
    free = fit_links(loss, {"m": mmlu}, "exponential")
    assert not free.fixed[0, 0]
    lg = fit_links(loss, {"mmlu_5_shot_avg": mmlu}, "logit", floor="chance")
    assert any("clipped" in w for w in lg.warnings)
    with pytest.raises(ValueError, match="no known chance level"):
        fit_links(loss, {"m": mmlu}, "sigmoid", floor="chance")
    with pytest.raises(ValueError, match="has no ceiling"):
        fit_links(loss, {"m": mmlu}, "exponential", ceiling=1.0)
    with pytest.raises(ValueError, match="has 3 values"):
        fit_links(loss, {"m": mmlu[:3]}, "sigmoid")


def test_link_fit_json_round_trip(tmp_path, chain):
    _, sig, _, _ = chain
    sig.to_json(tmp_path / "links.json")
    back = LinkFit.from_json(tmp_path / "links.json")
    np.testing.assert_array_equal(back.theta_boot, sig.theta_boot)
    np.testing.assert_allclose(back.predict(2.5), sig.predict(2.5))
    assert "mc4" in back.summary()


def test_sardana_held_out_six_billion():
    """Fit the links on runs < 6B parameters, predict the 6B run's 7 scores from its loss."""
    path = shared_data_file("sardana_trainingresults_47.csv")
    cols = list(CHANCE)
    runs = sj.load_runs(path, n="Parameters", d="Tokens", loss="Smoothed Loss", extra=cols)
    train, test = runs.subset(runs.N < 6e9), runs.subset(runs.N >= 6e9)
    fit = fit_links(train, cols, "exponential", floor="chance")
    err = fit.predict(test.loss)[:, 0] - np.array([test.extra[c][0] for c in cols])
    # Measured: |error| <= 0.021 on every score (reading comprehension is the worst).
    assert np.max(np.abs(err)) < 0.03
    assert abs(err[cols.index("eval_gauntlet/core_average")]) < 0.02


def test_accuracy_cli_csv(tmp_path, capsys):
    import csv
    import io

    from scaling_jax.cli import main

    runs = _chain()
    path = tmp_path / "runs.csv"
    with path.open("w") as f:
        w = csv.writer(f)
        w.writerow(["params", "tokens", "loss", "mc4"])
        w.writerows(zip(runs.N, runs.D, runs.loss, runs.extra["mc4"], strict=True))
    args = ["accuracy", str(path), "--metric", "mc4", "--target", "0.6", "--resamples", "8"]
    rc = main([*args, "--inference-tokens", "1e12", "--budgets", "1e21"])
    assert rc == 0
    out = capsys.readouterr()
    lines = out.out.strip().splitlines()
    split = next(i for i, s in enumerate(lines) if s.startswith("N,D,compute"))
    target = list(csv.DictReader(io.StringIO("\n".join(lines[:split]))))
    budgets = list(csv.DictReader(io.StringIO("\n".join(lines[split:]))))
    assert [r["inference_tokens"] for r in target] == ["0.0", "1000000000000.0"]
    assert all(r["reachable"] == "True" for r in target)
    assert float(target[1]["N"]) < float(target[0]["N"])  # serving demand: a smaller model
    assert float(target[0]["N_low"]) <= float(target[0]["N"]) <= float(target[0]["N_high"])
    (row,) = budgets
    assert float(row["low"]) <= float(row["value"]) <= float(row["high"])
    assert "sigmoid" in out.err
    assert main(["accuracy", str(path), "--metric", "nope", "--resamples", "0"]) == 2
