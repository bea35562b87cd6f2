"""Build the documentation site into site/: `python docs/build.py` (needs the docs extra).

Runs `mkdocs build --strict`, whose pre-build hook (docs/hooks.py) regenerates the CLI
reference from argparse and executes every notebook, so a broken reference, a renamed option
or a failing example fails the build. Open site/index.html afterwards.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    cmd = [sys.executable, "-m", "mkdocs", "build", "--strict", "--config-file", "mkdocs.yml"]
    return subprocess.call(cmd, cwd=ROOT)


if __name__ == "__main__":
    raise SystemExit(main())
