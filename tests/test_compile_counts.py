"""How many XLA programs a fit compiles in a fresh process (issue: fast from the first call).

Each check runs in a new Python process (the checks' processes run side by side), so programs
compiled by earlier tests cannot hide a compilation, with JAX's persistent compilation cache
switched off. Compilations are counted with `jax.monitoring` events
(`/jax/core/compile/backend_compile_duration`), one per XLA backend compile.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

COUNTER = """
import json, sys
import jax
from jax import monitoring

counts = []
monitoring.register_event_duration_secs_listener(
    lambda name, secs, **kw: counts.append(secs)
    if name == "/jax/core/compile/backend_compile_duration" else None
)
import numpy as np
import scaling_jax as sj

def compiles(fn, *args, **kwargs):
    before = len(counts)
    fn(*args, **kwargs)
    return len(counts) - before
"""


# One fresh process per check, all started together when the first check runs: they are
# independent (each compiles in its own process with no cache), and on a 2-core machine two run
# in the wall time of one while the test process only waits. "{tmp}" is a scratch folder.
SCRIPTS = {
    "full_fit": """
        design = sj.presets.EPOCH_2024
        runs = {n: sj.synthetic_runs(design, n_runs=n, seed=n) for n in (47, 200, 240)}
        first = compiles(sj.fit, runs[47])
        later = [compiles(sj.fit, runs[n]) for n in (200, 240)]
        print(json.dumps({"first": first, "later": later}))
        """,
    "fast_fit": """
        runs = sj.synthetic_runs(sj.presets.EPOCH_2024, n_runs=240, seed=0)
        print(json.dumps({"fast": compiles(sj.fit, runs, mode="fast")}))
        """,
    # The bootstrap itself, then what `scaling-jax bootstrap --budgets 5.76e23,1e25` does
    # with it: the summary, the derived intervals at two budgets, the CSV and JSON files. The
    # natural params and everything derived from them are one program each, not one per eager
    # op. (One fresh process for both counts: the second starts where the first ends.)
    "bootstrap": """
        runs = sj.synthetic_runs(sj.presets.EPOCH_2024, n_runs=240, seed=0)
        box = {}
        def boot():
            box["res"] = sj.bootstrap(runs, n_resamples=1000, progress=False)
        def use():
            res = box["res"]
            res.summary(budgets=[5.76e23, 1e25])
            res.derived_intervals(budgets=[5.76e23, 1e25])
            res.to_csv("{tmp}/s.csv", budgets=[5.76e23, 1e25])
            res.to_json("{tmp}/b.json")
        bootstrap = compiles(boot)
        total = bootstrap + compiles(use)
        again = compiles(lambda: box["res"].derived_intervals(budgets=[1e21, 1e22]))
        print(json.dumps({"bootstrap": bootstrap, "total": total, "again": again}))
        """,
    # The demo's allocation table, lifetime section and fit plot, and `scaling-jax optimal`'s
    # data-constrained table (as the command line runs them: x64 on, so results stay JAX
    # arrays) each compile one program (plus the lifetime solver's own), not one per
    # arithmetic op on the host.
    "demo_steps": """
        import os
        os.environ["MPLBACKEND"] = "Agg"
        jax.config.update("jax_enable_x64", True)
        from scaling_jax.cli import lifetime as lifetime_cli
        from scaling_jax.cli._common import LawChoice
        from scaling_jax.cli.demo import DEMO_BUDGETS
        from scaling_jax.cli.optimal import allocation_rows, format_rows
        from scaling_jax.laws import CHINCHILLA, get_law
        from scaling_jax.plots.laws import plot_fit

        truth = sj.presets.EPOCH_2024
        runs = sj.synthetic_runs(truth, n_runs=245, seed=0)
        choice = LawChoice(CHINCHILLA, truth, "truth", "preset")
        theta = np.asarray(CHINCHILLA.from_params(truth))
        capped = LawChoice(get_law("data_constrained"), sj.presets.MUENNIGHOFF_2023, "m", "p")
        got = {
            "allocation": compiles(lambda: format_rows(allocation_rows(choice, DEMO_BUDGETS))),
            "capped": compiles(allocation_rows, capped, DEMO_BUDGETS, 1e11),
            "lifetime": compiles(lifetime_cli.demo_lines, choice),
            "plot": compiles(plot_fit, CHINCHILLA, theta, runs, "{tmp}/f.png"),
        }
        print(json.dumps(got))
        """,
}


@pytest.fixture(scope="module")
def started(tmp_path_factory) -> Iterator[dict[str, subprocess.Popen]]:
    """Every script of SCRIPTS running in its own fresh process (killed if left over)."""
    tmp = tmp_path_factory.mktemp("compile_counts")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JAX_", "XLA_"))}
    env.update(
        PYTHONPATH=str(ROOT),
        JAX_ENABLE_COMPILATION_CACHE="false",
        SCALING_JAX_CACHE="off",
        JAX_PLATFORMS="cpu",
    )
    procs = {}
    for name, body in SCRIPTS.items():
        script = COUNTER + textwrap.dedent(body).replace("{tmp}", tmp.as_posix())
        procs[name] = subprocess.Popen(
            [sys.executable, "-c", script],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
    yield procs
    for proc in procs.values():
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def _result(started: dict[str, subprocess.Popen], name: str) -> dict:
    out, err = started[name].communicate(timeout=900)
    assert started[name].returncode == 0, err[-3000:]
    return json.loads(out.strip().splitlines()[-1])


def test_full_fit_compiles_few_programs_and_other_sizes_reuse_them(started):
    out = _result(started, "full_fit")
    assert 1 <= out["first"] <= 12, out
    assert out["later"] == [0, 0], out


def test_fast_fit_compiles_few_programs(started):
    out = _result(started, "fast_fit")
    assert 1 <= out["fast"] <= 8, out


def test_bootstrap_and_its_summaries_compile_few_programs(started):
    out = _result(started, "bootstrap")
    assert 1 <= out["bootstrap"] <= 16, out
    assert out["total"] <= 16, out
    assert out["again"] == 0, out


def test_demo_steps_after_the_fit_compile_one_program_each(started):
    out = _result(started, "demo_steps")
    assert out["allocation"] == 1, out
    assert out["capped"] == 1, out  # the data-constrained search (scaling-jax optimal)
    assert 1 <= out["lifetime"] <= 3, out  # the closed-form loss, the solver, T's conversion
    assert out["plot"] == 2, out  # the law on the runs and on the plotted grid


def _loaded_after(code: str, modules: tuple[str, ...]) -> list[str]:
    """Which of `modules` a fresh Python process has imported after running `code`."""
    listed = f"[m for m in {modules!r} if m in sys.modules]"
    probe = f"{code}\nimport json, sys\nprint(json.dumps({listed}))"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_import_is_light():
    heavy = ("matplotlib", "pandas", "scipy", "scaling_jax.fitting", "scaling_jax.plots")
    assert _loaded_after("import scaling_jax", heavy) == []


def test_cli_parser_does_not_import_jax():
    # `scaling-jax --help` and argument errors answer without importing JAX (~1 s).
    code = "from scaling_jax.cli import build_parser\nbuild_parser()"
    assert _loaded_after(code, ("jax", "scipy", "matplotlib")) == []
