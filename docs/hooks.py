"""MkDocs hooks: generate the CLI reference from argparse and execute the example notebooks.

Both run before every build, so `mkdocs build --strict` (and `python docs/build.py`) always
renders the code as it is: a renamed option or a failing notebook cell fails the build.
The generated files (docs/reference/cli.md, docs/examples/*.ipynb) are not committed.
"""

from __future__ import annotations

import argparse
import os
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
NOTEBOOKS = ROOT / "notebooks"


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:  # argparse keeps subparsers only here
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def write_cli_reference() -> Path:
    """docs/reference/cli.md from `scaling_jax.cli.build_parser()`: every command's --help."""
    from scaling_jax.cli import build_parser

    os.environ.setdefault("COLUMNS", "100")  # stable line wrapping in argparse's help
    parser = build_parser()
    lines = [
        "# Command line",
        "",
        "Generated at build time from the argparse parser of `scaling-jax`, so it always",
        "matches the installed command. Each command also answers `--help`.",
        "",
        "```text",
        parser.format_help().rstrip(),
        "```",
        "",
    ]
    for name, sub in _subcommands(parser).items():
        lines += [f"## `scaling-jax {name}`", "", "```text", sub.format_help().rstrip(), "```", ""]
    out = DOCS / "reference" / "cli.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines))
    return out


def execute_notebooks(timeout: int = 600) -> list[Path]:
    """Run every notebooks/*.ipynb (working directory: notebooks/) into docs/examples/."""
    import nbclient
    import nbformat

    out_dir = DOCS / "examples"
    shutil.rmtree(out_dir, ignore_errors=True)
    out_dir.mkdir(parents=True)
    written = []
    for src in sorted(NOTEBOOKS.glob("*.ipynb")):
        nb = nbformat.read(src, as_version=4)
        client = nbclient.NotebookClient(
            nb,
            timeout=timeout,
            kernel_name="python3",
            resources={"metadata": {"path": str(NOTEBOOKS)}},
        )
        client.execute()  # raises CellExecutionError: a failing example fails the build
        dest = out_dir / src.name
        nbformat.write(nb, dest)
        written.append(dest)
    return written


def on_pre_build(config, **kwargs) -> None:  # noqa: ARG001 (MkDocs hook signature)
    os.environ.setdefault("MPLBACKEND", "Agg")
    write_cli_reference()
    if os.environ.get("SCALING_JAX_DOCS_SKIP_NOTEBOOKS") != "1":
        execute_notebooks()
