"""`compare`: paired bootstrap of two arms; arms differing only in E, and arms whose laws cross
at a known budget."""

from __future__ import annotations

import json

import jax
import numpy as np
import pytest

import scaling_jax as sj
from scaling_jax.cli import main
from scaling_jax.fitting.comparison import compare, crossing_budgets, optimal_loss
from scaling_jax.laws import CHINCHILLA, ChinchillaParams

B_LAW = sj.presets.EPOCH_2024
GRID = np.asarray(CHINCHILLA.from_params(B_LAW)) + np.random.default_rng(2).normal(0, 0.3, (6, 5))
KW = dict(n_resamples=40, grid=GRID, level=0.9)


def _crossing_arm(c_star: float) -> ChinchillaParams:
    """A law with steeper exponents whose compute-optimal loss equals B's at c_star."""
    a0 = B_LAW._replace(alpha=0.42, beta=0.44)
    e = float(optimal_loss(B_LAW, c_star) - (optimal_loss(a0, c_star) - a0.E))
    return a0._replace(E=e)


def test_optimal_loss_matches_a_brute_force_minimum():
    c = 1e21
    n = np.logspace(7, 13, 200001)
    brute = np.min(np.asarray(sj.laws.chinchilla(B_LAW, n, c / (6 * n))))
    assert float(optimal_loss(B_LAW, c)) == pytest.approx(brute, rel=1e-9)
    g = jax.grad(lambda e: optimal_loss(B_LAW._replace(E=e), 1e21))(1.8)
    assert float(g) == pytest.approx(1.0)
    batch = ChinchillaParams(*(np.array([v, v]) for v in B_LAW))
    out = jax.jit(jax.vmap(lambda p: optimal_loss(p, 1e21)))(batch)
    np.testing.assert_allclose(out, float(optimal_loss(B_LAW, c)), rtol=1e-14)


def test_crossing_budget_of_known_laws():
    a = _crossing_arm(1e21)
    pa = ChinchillaParams(*(np.array([v]) for v in a))
    pb = ChinchillaParams(*(np.array([v]) for v in B_LAW))
    got = crossing_budgets(pa, pb, (1e17, 1e25))
    assert got[0] == pytest.approx(1e21, rel=1e-9)
    assert np.isnan(crossing_budgets(pa, pb, (1e22, 1e25))[0])


def test_arms_differing_only_in_E():
    a_law = B_LAW._replace(E=B_LAW.E - 0.05)
    runs_a = sj.synthetic_runs(a_law, n_runs=50, seed=0, noise=0.01)
    runs_b = sj.synthetic_runs(B_LAW, n_runs=50, seed=0, noise=0.01)
    budgets = [1e19, 1e21, 1e23, 1e25]
    cmp = compare(runs_a, runs_b, budgets, **KW)
    assert np.all(cmp.p_a_better == 1.0)
    assert np.all(cmp.diff_high < 0)
    # the paired difference recovers the E gap; truth lies in the interval
    true = np.asarray(optimal_loss(a_law, np.array(budgets)) - optimal_loss(B_LAW, budgets))
    np.testing.assert_allclose(true, -0.05, atol=1e-12)
    assert np.all((cmp.diff_low <= true + 0.01) & (true - 0.01 <= cmp.diff_high))
    assert cmp.crossing is None
    assert "do not cross" in cmp.table()


def test_arms_crossing_at_a_known_budget(tmp_path):
    c_star = 1e21
    a_law = _crossing_arm(c_star)
    runs_a = sj.synthetic_runs(a_law, n_runs=50, seed=0, noise=0.005)
    runs_b = sj.synthetic_runs(B_LAW, n_runs=50, seed=0, noise=0.005)
    cmp = compare(runs_a, runs_b, [1e19, 1e23], search_range=(1e17, 1e25), **KW)
    assert cmp.p_a_better[0] > 0.95 and cmp.p_a_better[1] < 0.05  # A wins small, B wins large
    assert cmp.crossing is not None
    assert abs(np.log10(cmp.crossing / c_star)) < 0.5
    assert cmp.crossing_low <= c_star <= cmp.crossing_high
    assert cmp.p_cross > 0.9
    cmp.to_json(tmp_path / "cmp.json")
    blob = json.loads((tmp_path / "cmp.json").read_text())
    assert blob["crossing"] == pytest.approx(cmp.crossing)
    back = type(cmp).from_json(tmp_path / "cmp.json")
    assert back.table() == cmp.table() and back.search_range == cmp.search_range
    np.testing.assert_array_equal(back.diff_low, cmp.diff_low)


def test_cli_compare(tmp_path, capsys):
    for name, law in (("a", B_LAW._replace(E=B_LAW.E - 0.05)), ("b", B_LAW)):
        runs = sj.synthetic_runs(law, n_runs=50, seed=0, noise=0.01)
        lines = ["params,tokens,loss"] + [
            f"{float(n)!r},{float(d)!r},{float(v)!r}"
            for n, d, v in zip(runs.N, runs.D, runs.loss, strict=True)
        ]
        (tmp_path / f"{name}.csv").write_text("\n".join(lines))
    code = main(
        [
            "compare",
            str(tmp_path / "a.csv"),
            str(tmp_path / "b.csv"),
            "--budgets",
            "1e21,1e23",
            "--resamples",
            "20",
            "--out",
            str(tmp_path / "cmp.json"),
        ]
    )
    assert code == 0
    text = capsys.readouterr().out
    assert "P(A better)" in text and "1.000" in text
    assert json.loads((tmp_path / "cmp.json").read_text())["n_resamples"] == 20
    assert main(["compare", "--help"]) == 0  # main returns argparse's exit status
    assert "scaling-jax compare a.csv b.csv --budgets" in capsys.readouterr().out


def test_bad_budgets_raise():
    with pytest.raises(ValueError, match="budgets"):
        compare("a.csv", "b.csv", [-1.0])
