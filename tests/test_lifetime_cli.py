"""`scaling-jax lifetime` sub-command, run through a fresh argparse parser."""

from __future__ import annotations

import argparse
import json

import numpy as np
import pytest

from scaling_jax.cli import main
from scaling_jax.cli.lifetime import demo_lines, register_cli
from scaling_jax.presets import SARDANA_2024
from scaling_jax.sizing import lifetime as lt


def _run(argv):
    parser = argparse.ArgumentParser(prog="scaling-jax")
    register_cli(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["lifetime", *argv])
    return args.func(args)


def test_paper_example_cli(tmp_path, capsys):
    out = tmp_path / "opt.json"
    argv = ["--match-chinchilla-params", "13e9", "--inference-tokens", "2e12"]
    assert _run([*argv, "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "N = 6.969e+09" in text and "N = 1.3e+10" in text and "17.45%" in text
    blob = json.loads(out.read_text())
    ref = lt.lifetime_optimal(
        SARDANA_2024, lt.chinchilla_optimal_loss(SARDANA_2024, 13e9), 2e12
    ).to_dict()
    for key in ("N", "D_train", "total_flops", "savings", "tokens_per_param"):
        assert blob[key] == pytest.approx(ref[key], rel=1e-14)
    assert blob["baseline"]["N"] == pytest.approx(13e9)


def test_cost_and_budget_forms(tmp_path, capsys):
    fit = tmp_path / "fit.json"
    fit.write_text(json.dumps({"params": SARDANA_2024._asdict()}))
    argv = [
        "--loss",
        "2.0",
        "--law",
        str(fit),
        "--requests",
        "1e9",
        "--input-tokens",
        "500",
        "--output-tokens",
        "200",
        "--train-gpu",
        "H100",
        "--serve-gpu",
        "A100",
        "--serve-price",
        "1.2",
        "--mfu-decode",
        "0.05",
        "--out",
        str(tmp_path / "c.json"),
    ]
    assert _run(argv) == 0
    text = capsys.readouterr().out
    assert "of lifetime cost" in text and "$" in text
    blob = json.loads((tmp_path / "c.json").read_text())
    assert blob["total_cost"] > 0 and blob["inference_tokens"] == pytest.approx(7e11)
    assert _run(["--budget", "1e24", "--inference-tokens", "5e12"]) == 0
    assert "lowest loss within a lifetime budget" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv, field",
    [
        (["--loss", "1.5"], "floor E"),
        (["--loss", "2.0", "--requests", "1e9", "--mfu-decode", "2"], "--mfu-decode"),
        (["--loss", "2.0", "--requests", "1e9", "--train-price", "0"], "--train-price"),
        (["--loss", "2.0", "--inference-tokens", "-1"], "--inference-tokens"),
        (["--loss", "2.0", "--law", "nope"], "nope"),
        (["--loss", "2.0", "--law", "kaplan_2020_nd"], "chinchilla-form"),
        (["--loss", "2.0", "--input-tokens", "5"], "need --requests"),
    ],
)
def test_cli_errors_name_the_field(argv, field, capsys, tmp_path):
    out = tmp_path / "x.json"
    assert main(["lifetime", *argv, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert field in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not out.exists()


def test_demo_lines_use_the_given_law():
    from scaling_jax.cli._common import resolve_law

    lines = demo_lines(resolve_law("sardana_2024"))
    assert lines and all(isinstance(x, str) for x in lines)
    assert any("1.3e+10" in x for x in lines) and any("savings" in x for x in lines)
    assert "preset sardana_2024" in lines[0]


def test_plots_write_files(tmp_path):
    from plot_checks import assert_readable

    from scaling_jax.plots.lifetime import plot_lifetime_cost_vs_n, plot_optimum_vs_demand

    loss = float(lt.chinchilla_optimal_loss(SARDANA_2024, 13e9))
    a = plot_lifetime_cost_vs_n(SARDANA_2024, loss, [0.0, 2e12], tmp_path / "a.png")
    cm = lt.cost_model(requests=1.0, input_tokens=500.0, output_tokens=200.0)
    b = plot_lifetime_cost_vs_n(SARDANA_2024, loss, [2e12], tmp_path / "b.png", cost=cm)
    c = plot_optimum_vs_demand(SARDANA_2024, loss, tmp_path / "c.png")
    assert all(p.stat().st_size > 1000 for p in (a, b, c))
    from matplotlib.figure import Figure

    axes = Figure().subplots(1, 3)
    T = np.array([1e10, 1e12, 1e14])
    plot_optimum_vs_demand(SARDANA_2024, loss, inference_tokens=T, ax=axes)
    assert_readable(axes)
    opt = lt.lifetime_optimal(SARDANA_2024, loss, T)
    np.testing.assert_allclose(axes[0].lines[0].get_ydata(), opt.N)
    np.testing.assert_allclose(axes[0].lines[1].get_ydata(), opt.baseline.N)
    assert [a.get_ylabel() for a in axes] == [
        "model size N (parameters)",
        "training data D_tr (tokens)",
        "D_tr / N (tokens per parameter)",
    ]
    ax = Figure().subplots()
    plot_lifetime_cost_vs_n(SARDANA_2024, loss, [2e12], ax=ax)
    assert_readable(ax)
    dollars = Figure().subplots()
    plot_lifetime_cost_vs_n(SARDANA_2024, loss, [2e12], cost=cm, ax=dollars)
    assert_readable(dollars)
    assert dollars.get_ylabel() == "lifetime cost (US$)"
    curve, marker = ax.lines[:2]
    opt = lt.lifetime_optimal(SARDANA_2024, loss, 2e12)
    # The marked optimum is the lowest point of the iso-loss cost curve.
    assert float(marker.get_ydata()[0]) <= curve.get_ydata().min() * (1 + 1e-9)
    np.testing.assert_allclose(marker.get_xdata()[0], float(opt.N))
