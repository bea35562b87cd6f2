"""Each ``scaling-jax`` command, run in-process via `scaling_jax.cli.main`: on the shared
reference data, and on bad inputs (clean message, non-zero exit, nothing written)."""

from __future__ import annotations

from scaling_jax.cli import main
from scaling_jax.presets import CATALOG
from scaling_jax.sizing.optimal import FRONTIERS


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


def test_optimal_names_the_law_and_its_source(capsys):
    assert main(["optimal", "--compute", "5.76e23"]) == 0
    out = capsys.readouterr().out
    assert "preset chinchilla_2022" in out and CATALOG["chinchilla_2022"].source in out
