"""`predict`: calibration of the new-run intervals on synthetic data with known noise, the
delta method against a bootstrap, extrapolation labels, JSON and the CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy import stats

import scaling_jax as sj
from scaling_jax.cli import main
from scaling_jax.fitting.prediction import extrapolation_distance, predict, student_t_ppf
from scaling_jax.laws import CHINCHILLA, chinchilla

TRUTH = sj.presets.EPOCH_2024
SIGMA = 0.02  # known log-normal run-to-run noise of the synthetic runs
STARTS = np.asarray(CHINCHILLA.from_params(TRUTH)) + np.random.default_rng(0).normal(0, 0.3, (8, 5))


@pytest.fixture(scope="module")
def fits():
    """Fits of 6 synthetic data sets (60 runs each) drawn from the same law."""
    out = []
    for s in range(6):
        runs = sj.synthetic_runs(TRUTH, n_runs=60, seed=100 + s, noise=SIGMA)
        out.append((runs, sj.fit(runs, starts=STARTS)))
    return out


def test_student_t_quantile_matches_scipy():
    for dof in (1.0, 3.5, 10.0, 55.0, 1e4):
        for q in (0.05, 0.5, 0.9, 0.95, 0.995):
            assert student_t_ppf(q, dof) == pytest.approx(stats.t.ppf(q, dof), abs=1e-9)
    assert student_t_ppf(0.95, float("inf")) == pytest.approx(stats.norm.ppf(0.95), abs=1e-12)
    with pytest.raises(ValueError, match="quantile level"):
        student_t_ppf(1.0, 3)


def _coverage(fits, where: str) -> tuple[float, float]:
    new_run, mean = [], []
    for s, (runs, res) in enumerate(fits):
        rng = np.random.default_rng(s)
        m = 200
        if where == "range":
            lN, lD = np.log10(runs.N), np.log10(runs.D)
            N = 10 ** rng.uniform(lN.min(), lN.max(), m)
            D = 10 ** rng.uniform(lD.min(), lD.max(), m)
        else:  # one decade beyond the largest run in N and D
            N = runs.N.max() * 10 ** rng.uniform(0.5, 1.0, m)
            D = runs.D.max() * 10 ** rng.uniform(0.5, 1.0, m)
        pred = predict(res, N, D, level=0.9)
        true = np.asarray(chinchilla(TRUTH, N, D))
        fresh = true * np.exp(SIGMA * rng.standard_normal((50, m)))
        new_run.append(pred.covers(fresh)["new_run"].mean())
        mean.append(pred.covers(true)["mean"].mean())
    return float(np.mean(new_run)), float(np.mean(mean))


def test_new_run_interval_is_calibrated_in_range(fits):
    new_run, mean = _coverage(fits, "range")
    assert 0.85 <= new_run <= 0.95, new_run
    assert mean >= 0.75, mean


def test_new_run_interval_is_calibrated_one_decade_beyond(fits):
    new_run, _ = _coverage(fits, "beyond")
    assert 0.85 <= new_run <= 0.95, new_run


def test_prediction_fields_and_noise_estimate(fits):
    runs, res = fits[0]
    pred = predict(res, [3e8, 1e11], [6e9, 2e12])
    assert pred.method == "delta" and pred.dof == len(runs) - 5
    assert abs(pred.sigma / SIGMA - 1) < 0.3  # residual std recovers the known noise
    assert np.all(pred.mean_low < pred.loss) and np.all(pred.loss < pred.mean_high)
    assert np.all(pred.new_low < pred.mean_low) and np.all(pred.mean_high < pred.new_high)
    np.testing.assert_allclose(
        pred.loss,
        np.asarray(chinchilla(res.params, *np.array([[3e8, 1e11], [6e9, 2e12]]))),
        rtol=1e-12,
    )
    # new-run half-width in log space: t_q * sqrt(se^2 + sigma^2)
    half = np.log(pred.new_high / pred.loss)
    want = stats.t.ppf(0.95, pred.dof) * np.sqrt(pred.se_log**2 + pred.sigma**2)
    np.testing.assert_allclose(half, want, rtol=1e-9)
    assert pred.label == ["interpolation", "extrapolation"] or pred.label[1] == "extrapolation"


def test_extrapolation_distance_in_decades():
    train = {"N": [1e8, 1e9], "D": [1e9, 1e10]}
    d = extrapolation_distance(train, {"N": [5e8, 1e11, 1e7], "D": [2e9, 1e10, 1e12]})
    np.testing.assert_allclose(d["N"], [0.0, 2.0, -1.0], atol=1e-12)
    np.testing.assert_allclose(d["D"], [0.0, 0.0, 2.0], atol=1e-12)
    runs = sj.Runs(
        N=[1e8, 1e9, 1e8, 1e9, 3e8, 5e8, 2e8],
        D=[1e9, 1e10, 1e10, 1e9, 3e9, 2e9, 5e9],
        loss=[3.0, 2.5, 2.8, 2.9, 2.8, 2.75, 2.85],
    )
    res = sj.fit(runs, starts=STARTS[:2], loss="ls_log")
    pred = predict(res, [3e8, 1e10], [3e9, 1e10])
    assert pred.label == ["interpolation", "extrapolation"]
    assert pred.beyond["N"][1] == pytest.approx(1.0)
    assert pred.beyond["C"][1] == pytest.approx(np.log10(6e20 / (6 * 1e9 * 1e10)))


def test_bootstrap_draws_agree_with_delta_method(fits):
    runs, res = fits[1]
    boot = sj.bootstrap(runs, n_resamples=64, grid=STARTS, progress=False)
    N, D = np.array([2e8, runs.N.max() * 5]), np.array([5e9, runs.D.max() * 5])
    pb = predict(boot, N, D, runs=runs)
    pd = predict(res, N, D)
    assert pb.method == "bootstrap"
    np.testing.assert_allclose(pb.loss, pd.loss, rtol=1e-6)
    # the two standard errors of the log prediction agree within a factor of two
    assert np.all(pb.se_log / pd.se_log < 2) and np.all(pd.se_log / pb.se_log < 2)
    assert np.all(pb.mean_low < pb.loss) and np.all(pb.loss < pb.mean_high)
    # the bootstrap result carries its runs; one written without them needs runs=
    np.testing.assert_allclose(predict(boot, N, D).new_high, pb.new_high, rtol=1e-12)
    blob = boot.to_dict()
    del blob["data"]
    with pytest.raises(ValueError, match="runs="):
        predict(sj.BootstrapResult.from_dict(blob), N, D)


def test_json_round_trip_keeps_the_runs(fits, tmp_path):
    runs, res = fits[2]
    res.to_json(tmp_path / "fit.json")
    back = sj.FitResult.from_json(tmp_path / "fit.json")
    np.testing.assert_array_equal(back.data.N, runs.N)
    a, b = predict(res, 1e10, 2e11), predict(back, 1e10, 2e11)
    np.testing.assert_allclose(a.new_high, b.new_high, rtol=1e-12)
    blob = json.loads((tmp_path / "fit.json").read_text())
    del blob["data"]
    old = sj.FitResult.from_dict(blob)
    with pytest.raises(ValueError, match="runs="):
        predict(old, 1e10, 2e11)
    c = predict(old, 1e10, 2e11, runs=runs)
    np.testing.assert_allclose(c.new_high, a.new_high, rtol=1e-12)
    # The prediction itself round-trips through its JSON.
    p = predict(res, [1e9, 1e11], [2e10, 2e12])
    p.to_json(tmp_path / "pred.json")
    q = type(p).from_json(tmp_path / "pred.json")
    assert q.table() == p.table() and q.label == p.label
    np.testing.assert_array_equal(q.beyond["C"], p.beyond["C"])
    np.testing.assert_array_equal(q.new_low, p.new_low)


def test_bad_points_raise(fits):
    _, res = fits[0]
    with pytest.raises(ValueError, match="N=-1"):
        predict(res, [-1.0], [1e9])
    with pytest.raises(ValueError, match="level"):
        predict(res, 1e9, 1e10, level=1.5)


def test_cli_predict(fits, tmp_path, capsys):
    _, res = fits[0]
    res.to_json(tmp_path / "fit.json")
    assert (
        main(
            [
                "predict",
                str(tmp_path / "fit.json"),
                "--n",
                "1e9,7e10",
                "--d",
                "2e10,1.4e12",
                "--out",
                str(tmp_path / "pred.csv"),
            ]
        )
        == 0
    )
    text = capsys.readouterr().out
    assert "new-run interval" in text and "extrapolation" in text
    rows = (tmp_path / "pred.csv").read_text().splitlines()
    assert rows[0].startswith("N,D,C,loss,mean_low") and len(rows) == 3
    (tmp_path / "pts.csv").write_text("params,tokens\n1e9,2e10\n7e10,1.4e12\n")
    assert (
        main(
            [
                "predict",
                str(tmp_path / "fit.json"),
                "--points",
                str(tmp_path / "pts.csv"),
                "--out",
                str(tmp_path / "pred.json"),
            ]
        )
        == 0
    )
    out = json.loads((tmp_path / "pred.json").read_text())
    assert out["points"][1]["N"] == 7e10 and out["level"] == 0.9
    assert "N <- column 'params'" in capsys.readouterr().out
    assert main(["predict", str(tmp_path / "fit.json"), "--n", "1e9"]) == 2


def test_cli_predict_help_shows_an_example(capsys):
    assert main(["predict", "--help"]) == 0  # main returns argparse's exit status
    assert "scaling-jax predict fit.json --n 7e10 --d 1.4e12" in capsys.readouterr().out
