"""Fresh-process timings: what a user meets first (a CLI call, a script, a notebook).

Run:  python benchmarks/startup.py [--quick] [--repeats 3] [--competitor-python PATH]

Every case runs in new Python processes, one after another, and is timed from the parent
(interpreter start-up, imports, compilation or cache loads, the work and the exit), on the
240 filtered Epoch AI points when ../shared/data/chinchilla_epoch_extracted.csv exists (else
240 synthetic runs), in float64:

  scipy     the scipy L-BFGS-B loop over the 4500 Chinchilla grid starts, analytic numpy
            gradient, one BLAS thread (tests/scipy_reference.py), in its own process;
  (a)       ``scaling-jax fit`` on a CSV of the points, full grid and ``--mode fast``;
  (b)       a Python script doing ``import scaling_jax as sj; sj.fit(runs)`` (full grid);
  (c)       ``scaling-jax bootstrap --resamples 1000 --budgets 5.76e23,1e25``;
  (d)       ``scaling-jax demo``;
  import    ``python -c "import scaling_jax"`` against ``python -c "import jax"``;
  ssl       simple-scaling-laws' CLI doing the job of (c): ``scaling-laws fit --draws 1000``
            then ``scaling-laws allocate --budget 5.76e23 --budget 1e25`` (two processes,
            timed together), when an interpreter with it is available (see below).

The package's bytecode is written first and the processes may use it (PYTHONDONTWRITEBYTECODE is
dropped from their environment), as an installed package's would be.

Each scaling_jax case runs "cold" with an empty compilation cache (a new $SCALING_JAX_CACHE
directory) and then "warm" on the cache the cold run left, `--repeats` times; the table gives
min and median wall seconds; (e) the XLA programs the last process of each case compiled and
those it loaded from the cache instead (a `jax.monitoring` listener on
/jax/core/compile/backend_compile_duration, which times cache hits too, less the
/jax/compilation_cache/cache_hits events), with the seconds of both, and the executables it
loaded from scaling_jax's store instead (`scaling_jax._aot`, which neither traces nor
compiles: the /scaling_jax/aot_store/loads events); and the ratios against
the targets of issue 20. Timings vary about 2x between machines and with load; the
ratios are measured in the same run. Run it on a quiet machine (check ``uptime``).

simple-scaling-laws needs Python >= 3.12: --competitor-python, else $SSL_PYTHON, else
/work/venv312/bin/python if it exists. To set one up:
    ~/.pyenv/versions/3.12.*/bin/python -m venv ~/venv312
    ~/venv312/bin/pip install simple-scaling-laws
Without it the ssl row and its ratio are left out.

--quick checks that every case runs (1 repetition, 100 bootstrap resamples for both tools,
the scipy loop on every 10th grid start, its time scaled by 10); its figures are not
comparable with the targets.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
from _common import timed  # noqa: E402

THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
BUDGETS = "5.76e23,1e25"

# Runs a scaling_jax CLI command or script in this process and appends the number of XLA
# compilations (and their seconds) to the file named by $SJ_COMPILE_LOG at exit.
PRELUDE = r"""
import atexit, json, os, sys
from jax import monitoring
_compiles, _hits, _stored = [], [], []
monitoring.register_event_duration_secs_listener(
    lambda name, secs, **kw: _compiles.append(secs)
    if name == "/jax/core/compile/backend_compile_duration" else None
)
monitoring.register_event_listener(
    lambda name, **kw: _hits.append(1) if name == "/jax/compilation_cache/cache_hits" else None
)
monitoring.register_event_listener(  # executables loaded from scaling_jax's store (_aot)
    lambda name, **kw: _stored.append(1) if name == "/scaling_jax/aot_store/loads" else None
)
def _report():
    with open(os.environ["SJ_COMPILE_LOG"], "a") as fh:
        record = {"n": len(_compiles) - len(_hits), "hits": len(_hits), "s": sum(_compiles),
                  "stored": len(_stored)}
        fh.write(json.dumps(record) + "\n")
atexit.register(_report)
"""

CLI = PRELUDE + "from scaling_jax.cli import main\nsys.exit(main(sys.argv[1:]))\n"

SCRIPT = (
    PRELUDE
    + r"""
import numpy as np
import scaling_jax as sj
table = np.loadtxt(sys.argv[1], delimiter=",", skiprows=1)
runs = sj.Runs(N=table[:, 0], D=table[:, 1], loss=table[:, 2])
print(sj.fit(runs).objective)
"""
)

SCIPY = r"""
import sys
import numpy as np
sys.path.insert(0, sys.argv[2])
from scipy_reference import scipy_fit_starts
from scaling_jax.laws import chinchilla_grid
table = np.loadtxt(sys.argv[1], delimiter=",", skiprows=1)
grid = chinchilla_grid()[:: int(sys.argv[3])]
_, fs, ok, _ = scipy_fit_starts(grid, table[:, 0], table[:, 1], table[:, 2])
print(float(np.min(fs[ok])))
"""


def write_csv(path: Path) -> str:
    """The reference points as a CSV (N, D, loss); returns a label for the data."""
    import numpy as np

    sys.path.insert(0, str(HERE))
    from _common import reference_runs

    runs, label = reference_runs()
    table = np.column_stack([runs.N, runs.D, runs.loss])
    np.savetxt(path, table, delimiter=",", header="N,D,loss", comments="", fmt="%.17g")
    return label


def write_competitor_csv(src: Path, dst: Path) -> None:
    import numpy as np

    table = np.loadtxt(src, delimiter=",", skiprows=1)
    rows = np.column_stack([np.arange(len(table)), table])
    header = "training_run_id,model_size__n_params,dataset_size__n_tokens,test_loss__loss"
    np.savetxt(dst, rows, delimiter=",", header=header, comments="", fmt="%.17g")


def base_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JAX_", "XLA_"))}
    env.update(dict.fromkeys(THREAD_VARS, "1"))
    env["PYTHONPATH"] = str(ROOT)
    env.setdefault("MPLBACKEND", "Agg")
    # As on a user's machine, modules are imported from their bytecode: with
    # PYTHONDONTWRITEBYTECODE set, every process would compile scaling_jax's sources again
    # (~0.4 s), a cost an installed package (and the competitor's) does not pay.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def compile_bytecode(env: dict[str, str]) -> None:
    """Write the package's bytecode once, before any timed process (see `base_env`)."""
    cmd = [sys.executable, "-m", "compileall", "-q", str(ROOT / "scaling_jax")]
    subprocess.run(cmd, env=env, check=True, capture_output=True)


def run(cmd: list[str], env: dict[str, str]) -> float:
    """Wall seconds of one fresh process; exits with its stderr if it fails."""
    proc, seconds = timed(subprocess.run, cmd, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        sys.exit(f"{' '.join(cmd[:3])} ... failed (rc {proc.returncode}):\n{proc.stderr[-3000:]}")
    return seconds


def last_compiles(log: Path) -> tuple[int, int, float, int]:
    """(programs compiled, programs loaded from JAX's cache, seconds of both, executables
    loaded from scaling_jax's store) of the last run."""
    lines = log.read_text().strip().splitlines()
    record = json.loads(lines[-1])
    return int(record["n"]), int(record["hits"]), float(record["s"]), int(record["stored"])


def competitor_python(arg: str | None) -> str | None:
    candidate = arg or os.environ.get("SSL_PYTHON")
    if not candidate and Path("/work/venv312/bin/python").exists():
        candidate = "/work/venv312/bin/python"
    if not candidate:
        return None
    check = "import sys, simple_scaling_laws; assert sys.version_info >= (3, 12)"
    probe = subprocess.run([candidate, "-c", check], capture_output=True, text=True)
    if probe.returncode != 0:
        print(f"note: {candidate} cannot run simple-scaling-laws; ssl row left out")
        return None
    return candidate


def summary(values: list[float]) -> tuple[float, float]:
    return min(values), statistics.median(values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="check that every case runs")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--competitor-python", default=None)
    args = parser.parse_args()
    repeats = 1 if args.quick else max(1, args.repeats)
    resamples = 100 if args.quick else 1000
    scipy_stride = 10 if args.quick else 1
    ssl_python = competitor_python(args.competitor_python)
    py = sys.executable

    with tempfile.TemporaryDirectory(prefix="sj_startup_") as tmp_name:
        tmp = Path(tmp_name)
        csv = tmp / "runs.csv"
        label = write_csv(csv)
        print(f"data: {label}; {repeats} repetition(s); float64; load: {os.getloadavg()}")
        env = base_env()
        compile_bytecode(env)
        log = tmp / "compiles.jsonl"
        env["SJ_COMPILE_LOG"] = str(log)
        times: dict[str, list[float]] = {}
        compiles: dict[str, tuple[int, int, float]] = {}

        def record(name: str, seconds: float, counted: bool = True) -> None:
            times.setdefault(name, []).append(seconds)
            if counted:
                compiles[name] = last_compiles(log)

        cases = {
            "(a) fit full": lambda out: [py, "-c", CLI, "fit", str(csv)],
            "(a) fit fast": lambda out: [py, "-c", CLI, "fit", str(csv), "--mode", "fast"],
            "(b) script sj.fit": lambda out: [py, "-c", SCRIPT, str(csv)],
            "(c) bootstrap": lambda out: [
                *(py, "-c", CLI, "bootstrap", str(csv)),
                *("--resamples", str(resamples), "--budgets", BUDGETS),
                *("--out", out, "--no-progress"),
            ],
            "(d) demo": lambda out: [py, "-c", CLI, "demo"],
        }
        for rep in range(repeats):
            for i, (name, make) in enumerate(cases.items()):
                env["SCALING_JAX_CACHE"] = str(tmp / f"cache-{rep}-{i}")  # empty: cold
                for phase in ("cold", "warm"):
                    out = tmp / f"out-{rep}-{i}-{phase}"
                    record(f"{name}, {phase}", run(make(str(out)), env))
            scipy_cmd = [py, "-c", SCIPY, str(csv), str(ROOT / "tests"), str(scipy_stride)]
            record("scipy L-BFGS-B loop", run(scipy_cmd, env) * scipy_stride, counted=False)
            record("import jax", run([py, "-c", "import jax"], env), counted=False)
            record("import scaling_jax", run([py, "-c", "import scaling_jax"], env), False)
            if ssl_python:
                ssl_csv = tmp / "ssl_runs.csv"
                write_competitor_csv(csv, ssl_csv)
                ssl_env = {k: v for k, v in env.items() if k != "PYTHONPATH"}
                cli = str(Path(ssl_python).parent / "scaling-laws")
                art = tmp / f"ssl-{rep}.slaw"
                fit_cmd = [cli, "fit", str(ssl_csv), "-o", str(art), "--draws", str(resamples)]
                alloc_cmd = [cli, "allocate", str(art), "--budget", "5.76e23", "--budget", "1e25"]
                seconds = run([*fit_cmd, "--quiet"], ssl_env) + run(
                    [*alloc_cmd, "--cost", "power:k=6,a=1,b=1"], ssl_env
                )
                record("ssl CLI fit + allocate", seconds, counted=False)

        print(
            f"\n{'case':34s}{'min s':>9s}{'median s':>10s}{'(e) compiled':>14s}"
            f"{'cache hits':>12s}{'XLA s':>8s}{'stored':>8s}"
        )
        for name, values in times.items():
            lo, med = summary(values)
            extra = ""
            if name in compiles:
                n, hits, secs, stored = compiles[name]
                extra = f"{n:14d}{hits:12d}{secs:8.1f}{stored:8d}"
            print(f"{name:34s}{lo:9.2f}{med:10.2f}{extra}")

        med = {name: summary(values)[1] for name, values in times.items()}
        scipy = med["scipy L-BFGS-B loop"]
        rows = [
            ("warm `scaling-jax fit`, full grid", scipy / med["(a) fit full, warm"], ">= 4x"),
            ("warm `scaling-jax fit --mode fast`", scipy / med["(a) fit fast, warm"], ">= 15x"),
            ("cold first full fit, Python", scipy / med["(b) script sj.fit, cold"], ">= 1.5x"),
            ("warm `scaling-jax demo`", scipy / med["(d) demo, warm"], "> 1x"),
        ]
        if "ssl CLI fit + allocate" in med:
            rows.append(
                (
                    "warm CLI bootstrap vs simple-scaling-laws",
                    med["ssl CLI fit + allocate"] / med["(c) bootstrap, warm"],
                    "> 1x",
                )
            )
        import_ratio = med["import scaling_jax"] / med["import jax"]
        print("\nratios (medians; 'x faster' = competitor time / ours):")
        for text, ratio, target in rows:
            print(f"  {text:44s}{ratio:7.2f}x faster   target {target}")
        text = "import scaling_jax / import jax"
        print(f"  {text:44s}{import_ratio:7.2f}x          target <= 1.5x")
        if args.quick:
            print("(--quick: a correctness run; these ratios are not comparable with the targets)")


if __name__ == "__main__":
    main()
