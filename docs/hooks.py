"""MkDocs hooks: generate the CLI reference from argparse and execute the example notebooks.

Both run before every build, so `mkdocs build --strict` (and `python docs/build.py`) always
renders the code as it is: a renamed option or a failing notebook cell fails the build.
The generated files (docs/reference/cli.md, docs/examples/*.ipynb) are not committed.

Figures are checked too: every executed notebook must draw at least one figure, each figure
must be followed by a markdown cell saying what to read from it (its caption), and after the
build every example page must embed as many images as its notebook drew.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import shutil
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
NOTEBOOKS = ROOT / "notebooks"
log = logging.getLogger("mkdocs.hooks.scaling_jax")
_figures: dict[str, int] = {}  # executed notebook name -> figures it drew


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


def figure_problems(nb: Any) -> tuple[int, list[str]]:
    """(figures drawn, problems) of an executed notebook: no figure, or a figure cell not
    followed by a markdown caption."""
    problems, figures = [], 0
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        n = sum("image/png" in out.get("data", {}) for out in cell.get("outputs", []))
        figures += n
        following = nb.cells[i + 1] if i + 1 < len(nb.cells) else None
        if n and (following is None or following.cell_type != "markdown"):
            problems.append(f"code cell {i} draws {n} figure(s) but no markdown caption follows it")
    if figures == 0:
        problems.append("draws no figure")
    return figures, problems


def execute_notebooks(timeout: int = 600) -> list[Path]:
    """Run every notebooks/*.ipynb (working directory: notebooks/) into docs/examples/.

    The notebooks run concurrently, one kernel each (SCALING_JAX_DOCS_JOBS at a time, default
    all of them): the build takes about as long as the slowest notebook, not their sum.
    Raises if a cell fails or if `figure_problems` finds a figure without a caption.
    """
    import asyncio

    import nbclient
    import nbformat

    out_dir = DOCS / "examples"
    shutil.rmtree(out_dir, ignore_errors=True)
    out_dir.mkdir(parents=True)
    sources = sorted(NOTEBOOKS.glob("*.ipynb"))
    jobs = int(os.environ.get("SCALING_JAX_DOCS_JOBS", len(sources)))

    async def run(src: Path, slots: asyncio.Semaphore) -> Any:
        async with slots:
            start = time.perf_counter()
            nb = nbformat.read(src, as_version=4)
            client = nbclient.NotebookClient(
                nb,
                timeout=timeout,
                kernel_name="python3",
                resources={"metadata": {"path": str(NOTEBOOKS)}},
            )
            await client.async_execute()  # CellExecutionError: a failing example fails the build
            log.info("executed %s in %.1f s", src.name, time.perf_counter() - start)
            return nb

    async def run_all() -> list[Any]:
        slots = asyncio.Semaphore(max(1, jobs))
        return await asyncio.gather(*(run(src, slots) for src in sources))

    _figures.clear()
    written = []
    for src, nb in zip(sources, asyncio.run(run_all()), strict=True):
        figures, problems = figure_problems(nb)
        if problems:
            raise RuntimeError(f"notebooks/{src.name}: " + "; ".join(problems))
        _figures[src.stem] = figures
        dest = out_dir / src.name
        nbformat.write(nb, dest)
        written.append(dest)
    log.info("notebooks: %s figures", ", ".join(f"{k} {v}" for k, v in _figures.items()))
    return written


def on_pre_build(config, **kwargs) -> None:  # noqa: ARG001 (MkDocs hook signature)
    os.environ.setdefault("MPLBACKEND", "Agg")
    write_cli_reference()
    if os.environ.get("SCALING_JAX_DOCS_SKIP_NOTEBOOKS") != "1":
        execute_notebooks()


def page_images(html: str) -> int:
    """Images embedded in a rendered page's content (the notebook's figures)."""
    return len(re.findall(r"<img\b", html))


def on_post_build(config, **kwargs) -> None:  # noqa: ARG001 (MkDocs hook signature)
    """Every executed notebook's page shows all the figures it drew."""
    site = Path(config["site_dir"])
    missing = []
    for name, figures in _figures.items():
        page = site / "examples" / name / "index.html"
        shown = page_images(page.read_text()) if page.is_file() else 0
        if shown < figures:
            missing.append(f"{page}: {shown} images, the notebook drew {figures}")
    if missing:
        raise RuntimeError("figures missing from the site: " + "; ".join(missing))
