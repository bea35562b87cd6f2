"""Each ``scaling-jax`` command, run in-process via `scaling_jax.cli.main`: on the shared
reference data, and on bad inputs (a one-line message, exit status 2, nothing written)."""

from __future__ import annotations

import argparse
import json
import os

import pytest
from conftest import shared_data_file

from scaling_jax.cli import COMMANDS, build_parser, main
from scaling_jax.presets import CATALOG
from scaling_jax.sizing.optimal import FRONTIERS

EPOCH_COLS = ["--n-col", "Model Size", "--compute-col", "Training FLOP"]
SARDANA_COLS = ["--n-col", "Parameters", "--d-col", "Tokens", "--loss-col", "Smoothed Loss"]


def _umask_mode() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


@pytest.fixture(scope="module")
def epoch_fit(tmp_path_factory):
    """``fit`` on Epoch's 245 points (64 random starts, fast mode): (exit code, stdout, dir)."""
    folder = tmp_path_factory.mktemp("fit")
    path = shared_data_file("chinchilla_epoch_extracted.csv")
    argv = ["fit", str(path), *EPOCH_COLS, "--starts", "64", "--mode", "fast"]
    argv += ["--out", str(folder / "fit.json"), "--plot", str(folder / "fit.png")]
    import contextlib
    import io

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        code = main(argv)
    return code, buf.getvalue(), folder


# --------------------------------------------------------------------------------------------
# Every command: help text and shown defaults, --version.


def _subparsers(parser):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action.choices
    raise AssertionError("no subcommands")


def test_every_option_has_help_and_shows_its_default():
    from scaling_jax.cli._common import HelpFormatter

    subs = _subparsers(build_parser())
    assert set(COMMANDS) <= set(subs)
    formatter = HelpFormatter("scaling-jax")
    core = ("demo", "fit", "bootstrap", "optimal", "isoflop", "lifetime", "extrapolate", "presets")
    for name in core:
        for action in subs[name]._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            assert action.help, f"{name} {action.dest} has no help text"
            if action.option_strings and action.default not in (None, False):
                shown = formatter._get_help_string(action)
                assert "default" in shown, f"{name} {action.option_strings[0]}"
    text = " ".join(subs["fit"].format_help().split())
    assert "4500 for chinchilla, 400 for kaplan" in text and "(default: grid)" in text


def test_version(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.startswith("scaling-jax ")


# --------------------------------------------------------------------------------------------
# presets


def test_presets_lists_every_constant_with_its_source(capsys):
    assert main(["presets"]) == 0
    out = capsys.readouterr().out
    for name, preset in CATALOG.items():
        assert name in out and preset.source in out
    for key, frontier in FRONTIERS.items():
        assert f"[{key}]" in out and frontier.source in out
    assert main(["presets", "llama3"]) == 0
    out = capsys.readouterr().out
    assert "0.299" in out and "chinchilla_2022" not in out


def test_presets_unknown_name(capsys):
    assert main(["presets", "gpt5"]) == 2
    assert "unknown preset or frontier 'gpt5'" in capsys.readouterr().err


# --------------------------------------------------------------------------------------------
# fit (on Epoch's points) and the fitted law through optimal and lifetime.


def test_fit_on_epoch_points(epoch_fit):
    code, out, folder = epoch_fit
    assert code == 0
    assert "fitting the chinchilla law to 245 runs" in out and "glossary:" in out
    assert "log_A" in out and "(fit coordinate)" in out
    assert "D_opt (tokens)" in out and "loss (nats/token)" in out
    blob = json.loads((folder / "fit.json").read_text())
    assert "starts" not in blob  # compact by default; --starts-table adds the per-start table
    # The runs themselves (for prediction intervals) are the bulk; no per-start rows.
    assert (folder / "fit.json").stat().st_size < 30_000
    header = (folder / "fit.csv").read_text().splitlines()[0]
    assert header == "compute,N,D,tokens_per_param,loss"
    for name in ("fit.json", "fit.csv", "fit.png"):
        assert (folder / name).stat().st_mode & 0o777 == _umask_mode(), name  # not 0600


def test_fitted_law_flows_into_optimal_and_lifetime(epoch_fit, capsys):
    _, _, folder = epoch_fit
    law = str(folder / "fit.json")
    assert main(["optimal", "--compute", "5.76e23", "--law", law]) == 0
    out = capsys.readouterr().out
    assert f"law: {law} [chinchilla law] (fit of 245 runs" in out
    assert main(["lifetime", "--law", law]) == 0
    out = capsys.readouterr().out
    assert f"law: {law} [chinchilla law]" in out and "savings" in out


def test_fit_refuses_before_work(tmp_path, capsys):
    path = shared_data_file("datablations_parametric_fit_182.csv")
    argv = ["fit", str(path), "--n-col", "params", "--d-col", "tokens", "--loss-col", "val_loss"]
    assert main([*argv, "--law", "data-constrained"]) == 2
    assert "pass --unique-col" in capsys.readouterr().err
    assert main([*argv, "--starts-table"]) == 2
    assert "--starts-table needs --out" in capsys.readouterr().err
    assert main([*argv, "--out", str(tmp_path / "fit.txt")]) == 2
    assert "must end in .json" in capsys.readouterr().err
    assert main([*argv, "--starts", "0"]) == 2
    assert not list(tmp_path.iterdir())


# --------------------------------------------------------------------------------------------
# optimal


def test_optimal_names_the_law_and_its_source(tmp_path, capsys):
    out = tmp_path / "new" / "dir" / "opt.json"  # missing folders are created, as for fit
    assert main(["optimal", "--compute", "5.76e23,1e21", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "preset chinchilla_2022" in text and CATALOG["chinchilla_2022"].source in text
    assert "note: the rounded constants" in text and "glossary:" in text
    blob = json.loads(out.read_text())
    assert blob["source"] == CATALOG["chinchilla_2022"].source
    assert blob["optima"][0]["N"] == pytest.approx(3.219e10, rel=1e-3)
    rows = out.with_suffix(".csv").read_text().splitlines()
    assert rows[0] == "compute,N,D,tokens_per_param,loss" and len(rows) == 3
    assert out.stat().st_mode & 0o777 == _umask_mode()


def test_optimal_data_constrained_uses_its_solver_or_refuses(tmp_path, capsys):
    from scaling_jax.presets import MUENNIGHOFF_2023
    from scaling_jax.sizing.constrained import constrained_optimal

    out = tmp_path / "o.json"
    argv = ["optimal", "--compute", "1e22", "--law", "muennighoff_2023", "--out", str(out)]
    assert main(argv) == 2
    assert "pass --unique-tokens" in capsys.readouterr().err and not out.exists()
    assert main([*argv, "--unique-tokens", "1e11"]) == 0
    text = capsys.readouterr().out
    assert "data-constrained optimum" in text and "epochs" in text
    ref = constrained_optimal(MUENNIGHOFF_2023, 1e22, 1e11)
    row = json.loads(out.read_text())["optima"][0]
    assert row["N"] == pytest.approx(float(ref.N), rel=1e-9)
    assert row["epochs"] == pytest.approx(float(ref.epochs), rel=1e-9)
    assert main(["optimal", "--compute", "1e22", "--unique-tokens", "1e11"]) == 2
    assert "data-constrained laws only" in capsys.readouterr().err


def test_optimal_kaplan_law_is_solved_numerically(capsys):
    import numpy as np

    from scaling_jax.laws import kaplan_nd
    from scaling_jax.presets import KAPLAN_2020_ND

    # Several budgets at once (one vectorized solve; this once crashed on the loss's shape).
    assert main(["optimal", "--compute", "1e20,1e22", "--law", "kaplan_2020_nd"]) == 0
    text = capsys.readouterr().out
    assert "numeric optimum" in text
    for c in (1e20, 1e22):
        row = text.split(f"{c:.3e}")[1].split()
        n_opt, d_opt, loss = float(row[0]), float(row[1]), float(row[3])
        # Check against a brute-force scan of the law along C = 6ND.
        n = np.geomspace(1e7, 1e13, 20001)
        losses = np.asarray(kaplan_nd(KAPLAN_2020_ND, n, c / (6 * n)))
        assert n_opt == pytest.approx(n[np.argmin(losses)], rel=2e-3)
        assert 6 * n_opt * d_opt == pytest.approx(c, rel=1e-3)
        assert loss == pytest.approx(losses.min(), rel=1e-4)


# --------------------------------------------------------------------------------------------
# isoflop on real, messy data


def test_isoflop_on_epoch_points_binned_to_the_paper_budgets(tmp_path, capsys):
    path = shared_data_file("chinchilla_epoch_extracted.csv")
    out, png = tmp_path / "iso.json", tmp_path / "iso.png"
    argv = ["isoflop", str(path), *EPOCH_COLS, "--budgets", "paper"]
    assert main([*argv, "--out", str(out), "--plot", str(png)]) == 0
    text = capsys.readouterr().out
    assert "on 9 budgets" in text and ("a_N = 0.49" in text or "a_N = 0.50" in text)
    assert "± log N_opt" in text and "glossary:" in text
    assert json.loads(out.read_text())["approach"] == 2 and png.stat().st_size > 0
    assert out.with_suffix(".csv").read_text().startswith("compute,n_opt,d_opt,loss_opt")
    # Without binning, almost every 'budget' holds one run: dropped with warnings.
    assert main(["isoflop", str(path), *EPOCH_COLS]) == 0
    captured = capsys.readouterr()
    assert "warning: dropped" in captured.err and "--budgets" in captured.err
    assert main(["isoflop", str(path), *EPOCH_COLS, "--strict"]) == 2
    err = capsys.readouterr().err
    assert "needs 3" in err and "--budgets" in err
    assert main([*argv, "--cubic", "--tolerance", "1.5"]) == 0
    assert "cubic profiles" in capsys.readouterr().out


# --------------------------------------------------------------------------------------------
# extrapolate (Sardana's runs)


def test_extrapolate_warns_on_few_held_out_runs(tmp_path, capsys):
    path = shared_data_file("sardana_trainingresults_47.csv")
    out = tmp_path / "x.json"
    argv = ["extrapolate", str(path), *SARDANA_COLS, "--laws", "chinchilla", "--starts", "16"]
    assert main([*argv, "--holdout-above", "5e21", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "held-out run" in text and "warning: only" in text
    assert "bias" in text and "> 0 means the law over-predicts" in text
    assert out.with_suffix(".csv").read_text().startswith("law,n_train,n_test")


# --------------------------------------------------------------------------------------------
# Bad inputs (issue: each gets a clean one-line message, exit 2, nothing written).


def _fails_cleanly(capsys, argv, message, tmp_path):
    before = set(tmp_path.rglob("*"))
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err, err
    assert "Traceback" not in err and "Array(" not in err and "RuntimeWarning" not in err
    assert len(err.strip().splitlines()) == 1, err
    assert set(tmp_path.rglob("*")) == before  # nothing written


def test_bad_inputs(tmp_path, capsys):
    sardana = str(shared_data_file("sardana_trainingresults_47.csv"))
    existing = tmp_path / "existing.json"
    existing.write_text("{}")
    adir = tmp_path / "adir"
    adir.mkdir()
    cases = [
        (["bootstrap", sardana, *SARDANA_COLS, "--out", str(existing)], "is an existing file"),
        (["extrapolate", sardana, "--holdout-above", "1e21", "--resamples", "-3"], "must be >= 0"),
        (["lifetime", "--requests", "1e9"], "--requests needs tokens per request"),
        (["lifetime", "--match-chinchilla-params", "-1"], "must be > 0"),
        (["isoflop", sardana, "--rtol", "-1"], "--rtol: -1: must be > 0"),
        (["isoflop", sardana, "--plot", str(adir)], "is a folder"),
        (["optimal", "--compute", "1e21", "--out", str(adir)], "is a folder"),
        (["optimal", "--compute", "1e21", "--law", "nope"], "neither a preset"),
        (["optimal", "--compute", "1e21", "--law", "scaling_jax.laws:CHINCHILLA"], "fit it first"),
        (["lifetime", "--law", "muennighoff_2023"], "chinchilla-form"),
        (["lifetime", "--mfu-decode", "0"], "must be in (0, 1]"),
        (["bootstrap", sardana, "--out", str(tmp_path / "b"), "--level", "1"], "(0, 1)"),
        (["isoflop", sardana, "--tolerance", "2"], "--tolerance applies with"),
        (["demo", "--plots-dir", str(existing)], "is an existing file"),
    ]
    for argv, message in cases:
        _fails_cleanly(capsys, argv, message, tmp_path)
    assert not (tmp_path / "adir.png").exists() and not list(adir.iterdir())


# --------------------------------------------------------------------------------------------
# bootstrap (Sardana's runs) and the README transcript


def test_bootstrap_on_sardana_runs(tmp_path, capsys):
    path = shared_data_file("sardana_trainingresults_47.csv")
    out = tmp_path / "boot"
    argv = ["bootstrap", str(path), *SARDANA_COLS, "--resamples", "8", "--chunk-size", "8"]
    assert main([*argv, "--out", str(out), "--no-progress", "--plots", "--delta", "1e-3"]) == 0
    text = capsys.readouterr().out
    assert "bootstrapping the chinchilla law on 47 runs" in text
    assert "a_N" in text and "b_D" in text and "glossary:" in text
    for name in ("bootstrap.json", "summary.csv", "corner.png", "frontier.png"):
        assert (out / name).stat().st_size > 0, name
    rows = (out / "summary.csv").read_text().splitlines()
    assert any(r.startswith("a_N,") for r in rows) and any(r.startswith("b_D,") for r in rows)
    # The bootstrap's full-data fit is a law the other commands take.
    assert main(["optimal", "--compute", "1e22", "--law", str(out / "bootstrap.json")]) == 0
    assert "full-data fit of a 8-resample bootstrap" in capsys.readouterr().out


def test_readme_transcript_is_generated_by_the_script():
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    script = (root / "scripts" / "cli_transcript.py").read_text()
    readme = (root / "README.md").read_text()
    block = readme.split("<!-- cli-transcript:start -->")[1].split("<!-- cli-transcript:end -->")[0]
    assert "generated by scripts/cli_transcript.py" in block
    for line in block.splitlines():
        if line.startswith("$ scaling-jax "):
            command = line[2:].split()[1]
            assert f"scaling-jax {command}" in script  # every shown command comes from the script
