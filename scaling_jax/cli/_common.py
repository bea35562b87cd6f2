"""Pieces shared by the ``scaling-jax`` subcommands: option types that validate before any work
starts, the one ``--law`` resolver, output writers, and the glossary printed under tables.

Every option type raises `argparse.ArgumentTypeError` with the option's name and the bad
value, so argparse prints a one-line message and exits with status 2 before anything runs.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import math
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, NamedTuple, NoReturn

__all__ = [
    "Parser",
    "HelpFormatter",
    "add_command",
    "positive_floats",
    "positive_float",
    "nonnegative_float",
    "positive_int",
    "nonnegative_int",
    "fraction",
    "out_file",
    "out_dir",
    "image_file",
    "LawChoice",
    "resolve_law_form",
    "resolve_law",
    "describe_law_source",
    "write_json",
    "write_csv",
    "glossary",
    "GLOSSARY",
]


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line: ``PROG: error: MESSAGE (see PROG --help)``."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows ``(default: X)`` after every option's help, except for unset / flag defaults."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if "%(default)" in text or action.default in (None, False, argparse.SUPPRESS):
            return text
        if isinstance(action.default, list):
            return text + " (default: " + ",".join(f"{v:g}" for v in action.default) + ")"
        return text + " (default: %(default)s)"


def add_command(subparsers: Any, name: str, help: str, description: str | None = None) -> Any:
    """A sub-parser with the shared formatter (so every option shows its default)."""
    return subparsers.add_parser(
        name, help=help, description=description or help, formatter_class=HelpFormatter
    )


# --------------------------------------------------------------------------------------------
# Option types.


def _number(option: str, text: str, kind: type = float) -> float:
    try:
        value = kind(float(text)) if kind is int and "e" in text.lower() else kind(text)
    except ValueError:
        what = "an integer" if kind is int else "a number"
        raise argparse.ArgumentTypeError(f"{text!r}: expected {what}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text!r}: must be finite")
    return value


def positive_float(option: str) -> Callable[[str], float]:
    """argparse type: a finite number > 0."""

    def parse(text: str) -> float:
        value = _number(option, text)
        if value <= 0:
            raise argparse.ArgumentTypeError(f"{text}: must be > 0")
        return value

    return parse


def nonnegative_float(option: str) -> Callable[[str], float]:
    """argparse type: a finite number >= 0."""

    def parse(text: str) -> float:
        value = _number(option, text)
        if value < 0:
            raise argparse.ArgumentTypeError(f"{text}: must be >= 0")
        return value

    return parse


def _int_at_least(option: str, low: int) -> Callable[[str], int]:
    """argparse type: an integer >= ``low``."""

    def parse(text: str) -> int:
        value = int(_number(option, text, int))
        if value < low:
            raise argparse.ArgumentTypeError(f"{text}: must be >= {low}")
        return value

    return parse


def positive_int(option: str) -> Callable[[str], int]:
    """argparse type: an integer >= 1."""
    return _int_at_least(option, 1)


def nonnegative_int(option: str) -> Callable[[str], int]:
    """argparse type: an integer >= 0."""
    return _int_at_least(option, 0)


def fraction(option: str, closed: bool = True) -> Callable[[str], float]:
    """argparse type: a number in (0, 1] (``closed``) or (0, 1)."""

    def parse(text: str) -> float:
        value = _number(option, text)
        if not (0 < value < 1 or (closed and value == 1)):
            raise argparse.ArgumentTypeError(f"{text}: must be in (0, 1{']' if closed else ')'}")
        return value

    return parse


def positive_floats(option: str) -> Callable[[str], list[float]]:
    """argparse type for ``option``: comma-separated positive finite numbers (e.g. FLOPs)."""

    def parse(text: str) -> list[float]:
        try:
            values = [float(v) for v in text.split(",") if v.strip()]
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{option} {text!r}: expected comma-separated numbers, e.g. 1e21,5.76e23"
            ) from None
        if not values or any(not math.isfinite(v) or v <= 0 for v in values):
            raise argparse.ArgumentTypeError(f"{option} {text!r}: values must be positive")
        return values

    return parse


def _check_nearest_parent(text: str, path: Path) -> None:
    """The nearest existing ancestor of `path` must be a folder (missing ones are created)."""
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise argparse.ArgumentTypeError(
                    f"{text!r}: {str(parent)!r} is a file, not a folder"
                )
            return


def out_file(option: str, suffixes: Sequence[str] = (".json",)) -> Callable[[str], Path]:
    """argparse type: a file to write. Not an existing folder; suffix one of `suffixes`.
    Missing parent folders are created when the file is written."""

    def parse(text: str) -> Path:
        path = Path(text)
        if path.is_dir():
            raise argparse.ArgumentTypeError(f"{text!r} is a folder; give a file name")
        if suffixes and path.suffix.lower() not in suffixes:
            raise argparse.ArgumentTypeError(
                f"{text!r}: file name must end in {' or '.join(suffixes)}"
            )
        _check_nearest_parent(text, path)
        return path

    return parse


def out_dir(option: str) -> Callable[[str], Path]:
    """argparse type: a folder to write into (created if missing; not an existing file)."""

    def parse(text: str) -> Path:
        path = Path(text)
        if path.exists() and not path.is_dir():
            raise argparse.ArgumentTypeError(
                f"{text!r} is an existing file; give a folder (it is created if missing)"
            )
        _check_nearest_parent(text, path)
        return path

    return parse


def image_file(option: str) -> Callable[[str], Path]:
    """argparse type: an image file to write (.png, .pdf or .svg; not a folder)."""
    return out_file(option, (".png", ".pdf", ".svg"))


# --------------------------------------------------------------------------------------------
# Laws.


class LawChoice(NamedTuple):
    """A law with constants, as chosen by ``--law``: the `Law` form, its natural params, a
    label (what was chosen) and where the constants come from."""

    law: Any
    params: Any
    label: str
    source: str
    note: str = ""

    def describe(self) -> str:
        text = f"{self.label} [{self.law.name} law] ({self.source})"
        return text + (f"\n  note: {self.note}" if self.note else "")


def resolve_law_form(spec: str) -> Any:
    """The law *form* to fit: a registered name (chinchilla, kaplan, data-constrained, ...),
    a preset name (its law), a fit/bootstrap JSON (the law it fitted), or ``module:function``."""
    from scaling_jax.cli.extrapolate import resolve_law_spec
    from scaling_jax.laws import get_law
    from scaling_jax.presets import CATALOG

    key = str(spec).strip().lower().replace("-", "_")
    if key in CATALOG and CATALOG[key].law in ("chinchilla", "data_constrained", "kaplan"):
        return get_law(CATALOG[key].law)
    path = Path(spec)
    if path.suffix.lower() == ".json" or path.is_file():
        blob = _read_json(path)
        if isinstance(blob, dict) and "law" in blob:
            return resolve_law_spec(str(blob["law"]))
        raise ValueError(f"--law {spec}: the file names no law (expected a fit or bootstrap JSON)")
    return resolve_law_spec(spec)


def _read_json(path: Path) -> Any:
    if not path.is_file():
        raise ValueError(f"--law {path}: no such file")
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise ValueError(f"--law {path} is not valid JSON: {err}") from None


def _from_object(obj: Any, label: str) -> LawChoice:
    from scaling_jax.fitting.multistart import FitResult
    from scaling_jax.fitting.resampling import BootstrapResult
    from scaling_jax.laws import CHINCHILLA, ChinchillaParams, Law, get_law
    from scaling_jax.presets import Preset

    if isinstance(obj, Preset):
        return _from_preset(obj)
    if isinstance(obj, ChinchillaParams):
        return LawChoice(CHINCHILLA, obj, label, "constants given by the user")
    if isinstance(obj, FitResult):
        return LawChoice(
            get_law(obj.law), obj.params, label, f"fit of {obj.n_points} runs, scaling_jax fit"
        )
    if isinstance(obj, BootstrapResult):
        return LawChoice(
            get_law(obj.law),
            obj.params_hat,
            label,
            f"full-data fit of a {len(obj)}-resample bootstrap",
        )
    if isinstance(obj, Law):
        raise ValueError(
            f"--law {label} is a law form without constants; fit it first "
            f"(scaling-jax fit DATA --law {label} --out fit.json) and pass --law fit.json"
        )
    raise ValueError(
        f"--law {label} gave {type(obj).__name__}; expected a Preset, ChinchillaParams, "
        "FitResult or BootstrapResult"
    )


def _from_preset(preset: Any) -> LawChoice:
    from scaling_jax.laws import get_law

    try:
        law = get_law(preset.law)
    except ValueError:
        raise ValueError(
            f"preset {preset.name} holds {preset.law}, not a law with (N, D) inputs; "
            "use it from Python (scaling_jax.laws.kaplan)"
        ) from None
    return LawChoice(law, preset.params, f"preset {preset.name}", preset.source, preset.note)


def resolve_law(spec: str) -> LawChoice:
    """Law *with constants* for ``--law``: a preset name, a JSON written by ``fit --out`` or
    ``bootstrap --out`` (its bootstrap.json), a bare JSON object of Chinchilla constants, or
    ``module:function`` naming a Preset / ChinchillaParams / FitResult (or a function
    returning one)."""
    import importlib

    from scaling_jax.fitting.multistart import FitResult
    from scaling_jax.fitting.resampling import BootstrapResult
    from scaling_jax.presets import CATALOG, resolve_params

    text = str(spec).strip()
    key = text.lower().replace("-", "_")
    if key in CATALOG:
        return _from_preset(CATALOG[key])
    path = Path(text)
    if path.suffix.lower() == ".json" or path.is_file():
        blob = _read_json(path)
        if isinstance(blob, dict) and "theta_hat" in blob:
            return _from_object(BootstrapResult.from_dict(blob), text)
        if isinstance(blob, dict) and "theta" in blob and "law" in blob:
            try:
                return _from_object(FitResult.from_dict(blob), text)
            except KeyError as err:
                raise ValueError(f"--law {text}: fit JSON lacks {err}") from None
        params = resolve_params(text)  # bare {"A": ..., ...} or {"params": {...}}
        return _from_object(params, text)._replace(source=f"constants read from {text}")
    if ":" in text:
        module_name, _, attr = text.partition(":")
        try:
            obj = getattr(importlib.import_module(module_name), attr)
        except (ImportError, AttributeError) as err:
            raise ValueError(
                f"--law {text}: cannot load {attr!r} from {module_name!r}: {err}"
            ) from None
        from scaling_jax.laws import Law

        if callable(obj) and not isinstance(obj, Law) and not isinstance(obj, tuple):
            obj = obj()
        return _from_object(obj, text)
    raise ValueError(
        f"--law {text!r} is neither a preset ({', '.join(sorted(CATALOG))}), a JSON file, "
        "nor module:function"
    )


def describe_law_source(spec: str) -> str:
    """One line naming the law constants behind ``--law spec`` and where they come from."""
    try:
        return resolve_law(spec).describe()
    except ValueError:
        return f"constants read from {spec}"


# --------------------------------------------------------------------------------------------
# Output.


def write_json(path: str | Path, blob: Any) -> Path:
    """Write `blob` as indented JSON, atomically, creating parent folders; returns the path."""
    from scaling_jax._io import write_json_atomic

    write_json_atomic(path, blob)
    return Path(path)


def write_csv(path: str | Path, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Path:
    """Write a CSV table atomically (numbers at full precision); returns the path."""
    from scaling_jax._io import write_bytes_atomic

    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([repr(float(v)) if isinstance(v, float) else v for v in row])
    write_bytes_atomic(path, buf.getvalue().encode())
    return Path(path)


GLOSSARY: dict[str, str] = {
    "N": "parameters (model size)",
    "D": "training tokens",
    "C": "training compute in FLOPs (C = 6·N·D unless said otherwise)",
    "loss": "predicted final loss in nats/token",
    "N_opt": "compute-optimal parameters for budget C",
    "D_opt": "compute-optimal training tokens for budget C",
    "D/N": "tokens per parameter",
    "a_N": "exponent of N_opt ∝ C^a_N",
    "b_D": "exponent of D_opt ∝ C^b_D (a_N + b_D = 1 for C = 6ND)",
    "log_A, log_B, log_E": "the fit coordinates: natural logs of A, B, E",
    "A, B, E, alpha, beta": "constants of L = E + A/N^alpha + B/D^beta",
    "objective": "summed Huber loss of log-loss residuals at the best start (lower is better)",
    "best basin": "starts whose final objective is within basin_rtol of the best "
    "(many such starts = the optimum was found from many directions)",
    "T": "lifetime inference tokens (prompt + generated)",
    "T_eff": "inference tokens priced as training FLOPs (dollar objective); "
    "T_eff = c_inf·(T_in/U_prefill + T_out/U_decode)/(c_tr/U_train)",
    "±": "one standard error",
    "bias": "mean of log(predicted) − log(observed): > 0 means the law over-predicts loss",
    "coverage": "fraction of held-out runs inside the prediction interval",
    "RMSE": "root mean square error of log-loss (≈ relative error)",
}


def glossary(*terms: str) -> str:
    """A ``glossary:`` block explaining `terms` (keys of `GLOSSARY`), one per line."""
    width = max(len(t) for t in terms)
    return "\n".join(["glossary:"] + [f"  {t:<{width}}  {GLOSSARY[t]}" for t in terms])
