"""Direct tests of the lock-step solver (`fitting.solver`): every status code provoked,
compaction that changes nothing, `max_steps`, and padding lanes that are never reported.

The problems have known minima: a shifted Rosenbrock valley per lane (the lane's own shift is
its per-lane data), so a result that landed in the wrong row would sit at the wrong optimum.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import scaling_jax as sj
from scaling_jax.fitting import solver
from scaling_jax.fitting.solver import (
    FitStatus,
    SolverOptions,
    Status,
    lane_sizes,
    polish,
    solve_starts,
)
from scaling_jax.laws import chinchilla_grid
from scaling_jax.presets import CHINCHILLA_2022


def _rosenbrock(theta, data, shift):
    # Minimum 0 at theta = shift + (1, 1); the curved valley makes lanes finish at very
    # different iterations, which is what compaction is for.
    x = theta - shift
    return data * (x[1] - x[0] ** 2) ** 2 + (1.0 - x[0]) ** 2


def _quadratic(theta, data, lane):
    return jnp.sum((theta - 3.0) ** 2)


def _log_barrier(theta, data, lane):
    # NaN (log of a negative number) left of 0: a start there is non-finite.
    return jnp.sum((theta - 2.0) ** 2) - jnp.log(theta[0])


@jax.custom_jvp
def _lying(theta):
    return jnp.sum(theta**2)


@_lying.defjvp
def _lying_jvp(primals, tangents):
    (theta,), (dtheta,) = primals, tangents
    # The gradient points uphill: no step along -gradient ever satisfies Armijo.
    return _lying(theta), jnp.sum(-2.0 * theta * dtheta)


def _lying_objective(theta, data, lane):
    return _lying(theta)


@pytest.fixture(scope="module")
def valley():
    rng = np.random.default_rng(0)
    n = 150  # > 2 * min_bucket, so compaction can shrink the batch
    shifts = rng.uniform(-2.0, 2.0, (n, 2))
    starts = shifts + 1.0 + rng.uniform(-3.0, 3.0, (n, 2))
    return starts, shifts, jnp.asarray(100.0)


def test_statuses_converged_max_iterations_running(valley):
    starts, shifts, data = valley
    opts = SolverOptions(min_bucket=32, segment_steps=8)
    res = solve_starts(_rosenbrock, starts, data, opts, lane_data=shifts)
    assert np.all(res.status == FitStatus.CONVERGED)
    np.testing.assert_allclose(res.theta, shifts + 1.0, atol=1e-5)
    assert np.all(res.objective < 1e-10) and np.all(res.n_eval >= res.n_iter)

    capped = solve_starts(_rosenbrock, starts, data, opts._replace(max_iter=3), lane_data=shifts)
    assert np.all(capped.status == FitStatus.MAX_ITERATIONS)
    assert np.all(capped.n_iter == 3)

    # max_steps stops every lane after that many batched steps, unfinished ones RUNNING.
    early = solve_starts(_rosenbrock, starts, data, opts, lane_data=shifts, max_steps=5)
    assert np.all(early.status == FitStatus.RUNNING)
    assert np.all(early.n_eval == 1 + 5)


def test_statuses_non_finite_and_linesearch_failed():
    res = solve_starts(_log_barrier, np.array([[-1.0, 0.0], [1.0, 0.0]]), ())
    assert list(res.status) == [FitStatus.NON_FINITE, FitStatus.CONVERGED]
    assert np.isinf(res.objective[0]) and res.n_eval[0] == 1
    np.testing.assert_allclose(res.theta[1], [0.5 * (2 + np.sqrt(6)), 2.0], rtol=1e-6)

    bad = solve_starts(_lying_objective, np.array([[1.0, -2.0]]), ())
    assert bad.status[0] == FitStatus.LINESEARCH_FAILED
    np.testing.assert_array_equal(bad.theta[0], [1.0, -2.0])  # no step was accepted
    assert bad.n_iter[0] == 0


def test_line_search_trials_interpolate_and_extrapolate():
    # Inside a bracket the next trial is the minimiser of the cubic through both ends' values
    # and slopes: exact for a cubic phi(t) = (t - c)**2 * (t + 2), minimum at t = c.
    def trial(c):
        (fa, da), (fb, db) = [
            ((t - c) ** 2 * (t + 2.0), (t - c) * (3.0 * t + 4.0 - c)) for t in (0.0, 1.0)
        ]
        return float(solver._interpolate(jnp.array(0.0), fa, da, jnp.array(1.0), fb, db))

    assert trial(0.3) == pytest.approx(0.3, rel=1e-12)
    # Kept a tenth of the bracket away from its ends; the midpoint without a finite value.
    assert trial(0.01) == pytest.approx(0.1) and trial(0.99) == pytest.approx(0.9)
    t = solver._interpolate(jnp.array(0.0), 0.0, -1.0, jnp.array(1.0), jnp.inf, 0.0)
    assert float(t) == 0.5
    # Beyond the bracket: the secant zero of the slope, within [2, 10] x t; 4 x t on a line.
    assert float(solver._extrapolate(0.0, -1.0, 1.0, -0.6)) == pytest.approx(2.5)
    assert float(solver._extrapolate(0.0, -1.0, 1.0, -0.99)) == pytest.approx(10.0)
    assert float(solver._extrapolate(0.0, -1.0, 1.0, -1.0)) == pytest.approx(4.0)


def test_line_search_lands_on_a_quadratics_minimum_after_one_failed_trial():
    # f = 2 (x - 0.3)**2 from 0: the first trial (t = 1/|g|) overshoots to x = 1 and fails
    # Armijo; the interpolated second trial is the exact minimiser (bisection would accept
    # x = 0.5 and need more iterations): 1 + 2 evaluations, one iteration.
    def scaled_quadratic(theta, data, lane):
        return 2.0 * jnp.sum((theta - 0.3) ** 2)

    res = solve_starts(scaled_quadratic, np.zeros((1, 1)), ())
    assert res.status[0] == FitStatus.CONVERGED
    assert res.theta[0, 0] == pytest.approx(0.3, abs=1e-12)
    assert (res.n_iter[0], res.n_eval[0]) == (1, 3)


def test_screened_out_status_from_successive_halving():
    runs = sj.synthetic_runs(CHINCHILLA_2022, n_runs=40, seed=1, noise=0.01)
    res = sj.fit(runs, starts=chinchilla_grid()[::150], mode="fast", survivors=4, polish_starts=2)
    counts = res.starts.status_counts()
    assert counts["screened_out"] == 30 - 4
    assert sum(counts.values()) == 30


def test_compaction_changes_no_lane_and_reports_no_padding(valley, monkeypatch):
    starts, shifts, data = valley
    taken = []
    real_take = solver._take

    def spy(lanes, idx):
        taken.append(len(idx))
        return real_take(lanes, idx)

    monkeypatch.setattr(solver, "_take", spy)
    compact = solve_starts(
        _rosenbrock, starts, data, SolverOptions(min_bucket=32, segment_steps=8), lane_data=shifts
    )
    # The first batch holds every start plus anonymous padding lanes (finished at birth);
    # compaction then shrank it to the smaller sizes of `lane_sizes`, its padding lanes again
    # anonymous repeats of a running lane.
    sizes = lane_sizes(len(starts), 32, 4)
    assert taken[0] == sizes[0] > len(starts)
    assert min(taken) < taken[0] and set(taken) <= set(sizes)
    taken.clear()
    whole = solve_starts(
        _rosenbrock,
        starts,
        data,
        SolverOptions(min_bucket=1024, segment_steps=8),
        lane_data=shifts,
    )
    assert taken == [lane_sizes(len(starts), 1024, 4)[0]]  # one batch, never compacted
    for name in ("theta", "objective"):
        np.testing.assert_allclose(getattr(compact, name), getattr(whole, name), rtol=1e-9)
    # Every lane reports its own run: the same counts as without compaction, its own optimum,
    # and exactly one row per start (padding lanes repeat a running lane and are anonymous).
    np.testing.assert_array_equal(compact.n_iter, whole.n_iter)
    np.testing.assert_array_equal(compact.n_eval, whole.n_eval)
    np.testing.assert_array_equal(compact.status, whole.status)
    assert compact.theta.shape == starts.shape
    np.testing.assert_allclose(compact.theta, shifts + 1.0, atol=1e-5)


def test_batches_and_odd_sizes_give_the_same_lanes(valley):
    starts, shifts, data = valley
    opts = SolverOptions(min_bucket=32, segment_steps=8)
    full = solve_starts(_rosenbrock, starts[:37], data, opts, lane_data=shifts[:37])
    split = solve_starts(_rosenbrock, starts[:37], data, opts, lane_data=shifts[:37], batch_size=10)
    np.testing.assert_allclose(split.theta, full.theta, rtol=1e-9)
    np.testing.assert_array_equal(split.n_eval, full.n_eval)


def test_polish_reaches_the_minimum_and_never_gets_worse(valley):
    starts, shifts, data = valley
    pol = polish(_rosenbrock, starts[:20], data, 200, lane_data=shifts[:20])
    assert np.all(pol.converged)
    np.testing.assert_allclose(pol.theta, shifts[:20] + 1.0, atol=1e-8)
    f0 = np.array(
        [
            _rosenbrock(jnp.asarray(t), data, jnp.asarray(s))
            for t, s in zip(starts[:20], shifts[:20], strict=True)
        ]
    )
    assert np.all(pol.objective <= f0)
    one = polish(_quadratic, np.array([[0.0, 10.0]]), (), 1)
    assert one.objective[0] <= _quadratic(jnp.array([0.0, 10.0]), (), ())


def test_status_names_old_and_new_spellings():
    assert [FitStatus.label(c) for c in (-1, 0, 1, 2, 3, 4)] == [
        "running",
        "converged",
        "max_iterations",
        "linesearch_failed",
        "non_finite",
        "screened_out",
    ]
    assert Status.CONVERGED == FitStatus.CONVERGED and Status.name(3) == "non_finite"
    from scaling_jax.sizing.lifetime import STATUS_UNREACHABLE, LifetimeStatus

    assert STATUS_UNREACHABLE is LifetimeStatus.UNREACHABLE
    assert LifetimeStatus.UNREACHABLE.name != FitStatus(1).name  # distinct families
