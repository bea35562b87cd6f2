"""Tables of training runs: the data every fit, bootstrap and plot consumes.

A run is one trained model: N parameters, trained on D tokens, reaching a final loss in
nats/token. `Runs` holds them as validated float64 numpy arrays; `load_runs` builds one from a
CSV file, a pandas DataFrame or a mapping of columns. Every problem with the input -- a missing
column, a non-numeric cell, NaN, a non-positive size -- is reported as a `ValueError` that names
the column, the offending value and its 0-based data row, so the user never has to decode a
traceback from inside numpy.

Training compute follows the usual C = 6 N D FLOPs rule (Kaplan et al. 2020; Hoffmann et al.
2022). Tables that give C instead of D (Epoch AI's extraction of the Chinchilla runs) are read
with ``compute=<column>``, which derives D = C / (6 N) exactly as Epoch does.
"""

from __future__ import annotations

import csv
import difflib
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np

__all__ = [
    "Runs",
    "load_runs",
    "as_runs",
    "check_enough_points",
    "runs_to_json",
    "read_points",
    "ALIASES",
    "runs_from_json",
    "FLOPS_PER_PARAM_TOKEN",
]

FLOPS_PER_PARAM_TOKEN = 6.0
"""Training FLOPs per parameter per token (forward + backward), C = 6 N D."""

_RESERVED_FEATURES = ("N", "D", "C", "compute")

Locator = Callable[[int], str]


def _plain_row(i: int) -> str:
    return f"row {i} (0-based data row)"


# --------------------------------------------------------------------------------------------
# Column conversion and checks


def _is_missing(x: Any) -> bool:
    # None, and pandas.NA without importing pandas.
    return x is None or type(x).__name__ == "NAType"


def _scan_elements(flat: Sequence[Any], label: str, where: Locator) -> np.ndarray:
    """Convert element by element, naming the first value that is not a number."""
    out = np.empty(len(flat), dtype=np.float64)
    for i, x in enumerate(flat):
        if isinstance(x, (str, bytes)):
            text = x.decode() if isinstance(x, bytes) else x
            try:
                out[i] = float(text)
                continue
            except ValueError:
                what = "empty cell" if not text.strip() else "non-numeric value"
                raise ValueError(f"{label}: {what} {text!r} at {where(i)}") from None
        if _is_missing(x):
            raise ValueError(f"{label}: missing value {x!r} at {where(i)}")
        if isinstance(x, (complex, np.complexfloating)):
            raise ValueError(f"{label}: complex value {x!r} at {where(i)}; need real numbers")
        try:
            out[i] = float(x)
        except (TypeError, ValueError):
            raise ValueError(f"{label}: non-numeric value {x!r} at {where(i)}") from None
    return out


def _to_float_column(values: Any, label: str, where: Locator = _plain_row) -> np.ndarray:
    """A fresh 1-D float64 array from list/array/jax array/Series, or a ValueError naming label."""
    if isinstance(values, (str, bytes)):
        raise ValueError(f"{label}: expected a 1-D sequence of numbers, got the string {values!r}")
    try:
        raw = np.asarray(values)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{label}: could not be read as a 1-D array of numbers ({err})") from None
    if raw.ndim != 1:
        got = "a scalar" if raw.ndim == 0 else f"an array of shape {raw.shape}"
        raise ValueError(f"{label}: expected a 1-D array of per-run values, got {got}")
    kind = raw.dtype.kind
    if kind in "fiub":
        return np.array(raw, dtype=np.float64, copy=True)
    if kind == "c":
        bad = np.flatnonzero(raw.imag != 0)
        if bad.size == 0:
            return np.array(raw.real, dtype=np.float64, copy=True)
        i = int(bad[0])
        raise ValueError(f"{label}: complex value {raw[i]!r} at {where(i)}; need real numbers")
    return _scan_elements(raw.tolist() if kind != "O" else list(raw), label, where)


def _first_bad(mask: np.ndarray) -> tuple[int, str]:
    bad = np.flatnonzero(mask)
    more = f" ({bad.size} bad values in all; the first is shown)" if bad.size > 1 else ""
    return int(bad[0]), more


def _check_values(
    arr: np.ndarray,
    label: str,
    where: Locator = _plain_row,
    *,
    positive: bool = False,
    nonnegative: bool = False,
) -> None:
    """Finite everywhere; optionally > 0 or >= 0. ValueError naming label, value and row."""
    finite = np.isfinite(arr)
    if not finite.all():
        i, more = _first_bad(~finite)
        raise ValueError(
            f"{label}: value {float(arr[i])!r} at {where(i)} is not a finite number{more}"
        )
    if positive and (arr <= 0).any():
        i, more = _first_bad(arr <= 0)
        raise ValueError(f"{label}: value {float(arr[i])!r} at {where(i)} must be > 0{more}")
    if nonnegative and (arr < 0).any():
        i, more = _first_bad(arr < 0)
        raise ValueError(f"{label}: value {float(arr[i])!r} at {where(i)} must be >= 0{more}")


def _column(
    values: Any,
    label: str,
    where: Locator = _plain_row,
    *,
    positive: bool = False,
    nonnegative: bool = False,
) -> np.ndarray:
    arr = _to_float_column(values, label, where)
    _check_values(arr, label, where, positive=positive, nonnegative=nonnegative)
    return arr


def _check_weights(arr: np.ndarray, label: str, where: Locator = _plain_row) -> None:
    _check_values(arr, label, where, nonnegative=True)
    if arr.size and not (arr > 0).any():
        raise ValueError(f"{label}: all {arr.size} weights are zero; at least one must be > 0")


def _check_lengths(columns: Mapping[str, np.ndarray]) -> int:
    lengths = {label: len(arr) for label, arr in columns.items()}
    if len(set(lengths.values())) > 1:
        listing = ", ".join(f"{label} has {n}" for label, n in lengths.items())
        raise ValueError(
            f"mismatched lengths: {listing}; every per-run array needs one value per run"
        )
    return next(iter(lengths.values()), 0)


def _check_feature_name(name: Any) -> None:
    if not isinstance(name, str):
        raise ValueError(f"extra: feature names must be strings, got {name!r}")
    if name in _RESERVED_FEATURES:
        reserved = list(_RESERVED_FEATURES)
        raise ValueError(f"extra: feature name {name!r} is reserved (reserved: {reserved})")


# --------------------------------------------------------------------------------------------
# Runs


@dataclass(frozen=True, eq=False, repr=False)
class Runs:
    """A table of training runs, validated and stored as read-only float64 arrays.

    Attributes:
      N: model parameters per run (count).
      D: training tokens per run (count).
      loss: final loss per run (nats/token), > 0.
      weights: optional per-run weights for the fit objective, >= 0 and not all zero.
      extra: further per-run features by name, e.g. ``{"U": unique_tokens}`` for the
        data-constrained law. Names "N", "D", "C" and "compute" are reserved.
      group: optional per-run group labels (a seed or run id); runs sharing one are
        resampled together by the bootstrap (a cluster bootstrap) and are replicates for
        ``weights="inverse_variance"``.
      columns: role -> source column chosen by `load_runs` (e.g. ``{"N": "params"}``).

    The constructor accepts lists, numpy arrays or jax arrays and copies them; it raises
    `ValueError` naming the field, value and 0-based row of any NaN/inf, non-positive N, D or
    loss, negative weight, or length mismatch.
    """

    N: np.ndarray
    D: np.ndarray
    loss: np.ndarray
    weights: np.ndarray | None = None
    extra: Mapping[str, np.ndarray] = field(default_factory=dict)
    group: np.ndarray | None = None
    columns: Mapping[str, str] | None = None

    def __post_init__(self) -> None:
        cols: dict[str, np.ndarray] = {
            "N": _column(self.N, "N", positive=True),
            "D": _column(self.D, "D", positive=True),
            "loss": _column(self.loss, "loss", positive=True),
        }
        weights = None
        if self.weights is not None:
            weights = _to_float_column(self.weights, "weights")
            cols["weights"] = weights
        if not isinstance(self.extra, Mapping):
            raise ValueError(
                "extra: expected a mapping of feature name -> array, "
                f"got {type(self.extra).__name__}"
            )
        extra: dict[str, np.ndarray] = {}
        for name, values in self.extra.items():
            _check_feature_name(name)
            label = f"extra feature {name!r}"
            extra[name] = cols[label] = _column(values, label)
        group = None
        if self.group is not None:
            group = np.asarray(self.group)
            if group.ndim != 1:
                raise ValueError(f"group: expected one label per run, got shape {group.shape}")
            cols["group"] = group
        n = _check_lengths(cols)
        if n == 0:
            raise ValueError("Runs needs at least one run; got 0 rows")
        if weights is not None:
            _check_weights(weights, "weights")
        for arr in cols.values():
            arr.setflags(write=False)
        object.__setattr__(self, "N", cols["N"])
        object.__setattr__(self, "D", cols["D"])
        object.__setattr__(self, "loss", cols["loss"])
        object.__setattr__(self, "weights", weights)
        object.__setattr__(self, "extra", MappingProxyType(extra))
        object.__setattr__(self, "group", group)
        if self.columns is not None:
            object.__setattr__(self, "columns", MappingProxyType(dict(self.columns)))

    def __len__(self) -> int:
        return len(self.N)

    def __repr__(self) -> str:
        extra = f", extra={list(self.extra)}" if self.extra else ""
        weighted = ", weighted" if self.weights is not None else ""
        return (
            f"Runs(n={len(self)}, N=[{self.N.min():.3g}, {self.N.max():.3g}], "
            f"D=[{self.D.min():.3g}, {self.D.max():.3g}], "
            f"loss=[{self.loss.min():.4g}, {self.loss.max():.4g}]{weighted}{extra})"
        )

    @property
    def compute(self) -> np.ndarray:
        """Training compute per run, C = 6 N D (FLOPs)."""
        return FLOPS_PER_PARAM_TOKEN * self.N * self.D

    @property
    def log_loss(self) -> np.ndarray:
        """Natural log of the loss (log nats/token), the quantity the fitter regresses."""
        return np.log(self.loss)

    @property
    def available_features(self) -> tuple[str, ...]:
        """Names `features` accepts: "N", "D", "C", "compute" and the keys of `extra`."""
        return (*_RESERVED_FEATURES, *self.extra)

    def features(self, names: Sequence[str]) -> dict[str, np.ndarray]:
        """The named per-run features (e.g. a law's ``feature_names``) as float64 arrays."""
        if isinstance(names, str):
            names = (names,)
        out: dict[str, np.ndarray] = {}
        for name in names:
            if name == "N":
                out[name] = self.N
            elif name == "D":
                out[name] = self.D
            elif name in ("C", "compute"):
                out[name] = self.compute
            elif name in self.extra:
                out[name] = self.extra[name]
            else:
                raise ValueError(
                    f"unknown feature {name!r}; these runs provide {list(self.available_features)}"
                    " (add others with Runs(extra={...}) or load_runs(..., extra={name: column}))"
                )
        return out

    def subset(self, index: Any) -> Runs:
        """The runs selected by a boolean mask, integer indices (repeats allowed) or a slice."""
        idx = _as_index(index, len(self))
        return Runs(
            N=self.N[idx],
            D=self.D[idx],
            loss=self.loss[idx],
            weights=None if self.weights is None else self.weights[idx],
            extra={k: v[idx] for k, v in self.extra.items()},
            group=None if self.group is None else self.group[idx],
            columns=self.columns,
        )

    def to_dict(self) -> dict[str, np.ndarray]:
        """Columns as writable copies: N, D, loss, weights (if any) and the extra features."""
        out = {"N": self.N.copy(), "D": self.D.copy(), "loss": self.loss.copy()}
        if self.weights is not None:
            out["weights"] = self.weights.copy()
        out.update({k: v.copy() for k, v in self.extra.items()})
        return out


def runs_to_json(runs: Runs) -> dict[str, Any]:
    """Plain-JSON form of `runs` (lists of floats); `runs_from_json` reads it back exactly."""
    return {
        "N": runs.N.tolist(),
        "D": runs.D.tolist(),
        "loss": runs.loss.tolist(),
        "weights": None if runs.weights is None else runs.weights.tolist(),
        "extra": {k: v.tolist() for k, v in runs.extra.items()},
        "group": None if runs.group is None else runs.group.tolist(),
    }


def runs_from_json(blob: Mapping[str, Any]) -> Runs:
    """The `Runs` written by `runs_to_json`."""
    return Runs(
        N=blob["N"],
        D=blob["D"],
        loss=blob["loss"],
        weights=blob.get("weights"),
        extra=dict(blob.get("extra") or {}),
        group=blob.get("group"),
    )


def _as_index(index: Any, n: int) -> np.ndarray:
    if isinstance(index, slice):
        return np.arange(n)[index]
    try:
        idx = np.asarray(index)
    except (TypeError, ValueError) as err:
        raise ValueError(f"subset index: not a mask or integer indices ({err})") from None
    if idx.ndim != 1:
        raise ValueError(f"subset index: expected a 1-D mask or index array, got shape {idx.shape}")
    if idx.dtype == bool:
        if idx.size != n:
            raise ValueError(f"subset index: boolean mask has length {idx.size}, runs have {n}")
        return np.flatnonzero(idx)
    if idx.size == 0:
        return idx.astype(np.intp)
    if idx.dtype.kind not in "iu":
        raise ValueError(
            f"subset index: expected a boolean mask or integer indices, got dtype {idx.dtype}"
        )
    out_of_range = (idx < -n) | (idx >= n)
    if out_of_range.any():
        i = int(np.flatnonzero(out_of_range)[0])
        raise ValueError(
            f"subset index: index {int(idx[i])} at position {i} is out of range for {n} runs"
        )
    return idx.astype(np.intp)


def check_enough_points(runs: Runs, n_params: int, law_name: str) -> None:
    """Raise ValueError unless the runs can identify a law with ``n_params`` parameters.

    A fit needs at least ``n_params + 1`` points: with no more points than parameters the
    law can pass through every point and its parameters are not identifiable. Runs with
    weight 0 carry no information and are not counted.
    """
    n = len(runs) if runs.weights is None else int(np.count_nonzero(runs.weights > 0))
    need = n_params + 1
    if n < need:
        weighted = " with weight > 0" if runs.weights is not None else ""
        raise ValueError(
            f"law {law_name!r} has {n_params} parameters but only {n} runs{weighted} were given; "
            f"need at least {need} (n_params + 1): with no more points than parameters the fit "
            "is unidentifiable"
        )


# --------------------------------------------------------------------------------------------
# Loading


class _Table:
    """Named raw columns from any source, with a row locator for error messages."""

    def __init__(
        self, columns: list[str], get: Callable[[str], Any], where: Locator, what: str
    ) -> None:
        self.columns = columns
        self.get = get
        self.where = where
        self.what = what

    def column(self, name: str, role: str) -> Any:
        count = self.columns.count(name)
        if count == 0:
            hint = difflib.get_close_matches(str(name), [str(c) for c in self.columns], n=1)
            did_you_mean = f"; did you mean {hint[0]!r}?" if hint else ""
            raise ValueError(
                f"column {name!r} ({role}) not found in {self.what}; "
                f"available columns: {self.columns!r}{did_you_mean}"
            )
        if count > 1:
            raise ValueError(f"column {name!r} ({role}) appears {count} times in {self.what}")
        return self.get(name)


def _read_csv(path: Path) -> _Table:
    if not path.exists():
        raise ValueError(f"runs file not found: {str(path)!r}")
    if path.is_dir():
        raise ValueError(f"runs file {str(path)!r} is a directory, not a CSV file")
    what = f"CSV file {str(path)!r}"
    try:
        with path.open(newline="", encoding="utf-8-sig") as f:
            reader = csv.reader(f)
            header: list[str] | None = None
            rows: list[list[str]] = []
            lines: list[int] = []
            for record in reader:
                if not record or all(not cell.strip() for cell in record):
                    continue  # blank lines, e.g. a trailing newline
                if header is None:
                    header = [cell.strip() for cell in record]
                    continue
                if len(record) != len(header):
                    raise ValueError(
                        f"{what}: data row {len(rows)} (0-based; line {reader.line_num}) has "
                        f"{len(record)} fields but the header has {len(header)}"
                    )
                rows.append(record)
                lines.append(reader.line_num)
    except UnicodeDecodeError as err:
        raise ValueError(f"{what} is not UTF-8 text ({err})") from None
    except csv.Error as err:
        raise ValueError(f"{what} could not be parsed as CSV: {err}") from None
    if header is None:
        raise ValueError(f"{what} is empty: expected a header row and at least one data row")
    if not rows:
        raise ValueError(f"{what} has a header but no data rows (no runs)")
    position = {name: j for j, name in enumerate(header)}
    name = path.name

    def where(i: int) -> str:
        return f"row {i} (0-based data row; line {lines[i]} of {name})"

    return _Table(header, lambda c: [r[position[c]] for r in rows], where, what)


def _is_dataframe(obj: Any) -> bool:
    # Duck-typed so that pandas (or polars) stays an optional dependency.
    return hasattr(obj, "columns") and hasattr(obj, "shape") and not isinstance(obj, Mapping)


def _dataframe_column(df: Any, name: str) -> Any:
    col = df[name]
    try:  # pandas: nullable dtypes -> NaN, reported below as "not a finite number"
        return col.to_numpy(dtype=np.float64, na_value=np.nan)
    except (TypeError, ValueError):
        pass
    return col.to_numpy() if hasattr(col, "to_numpy") else np.asarray(col)


def _frame_table(df: Any) -> _Table:
    columns = list(df.columns)
    n_rows = int(df.shape[0])
    labels = list(df.index) if hasattr(df, "index") else None
    if labels is not None and labels == list(range(n_rows)):
        labels = None

    def where(i: int) -> str:
        tail = f"; index label {labels[i]!r}" if labels is not None else ""
        return f"row {i} (0-based data row{tail})"

    return _Table(columns, lambda c: _dataframe_column(df, c), where, "the DataFrame")


def _mapping_table(m: Mapping[str, Any]) -> _Table:
    return _Table(list(m), lambda c: m[c], _plain_row, "the mapping")


def _read_parquet(path: Path) -> _Table:
    if not path.exists():
        raise ValueError(f"runs file not found: {str(path)!r}")
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise ValueError(
            f"reading {str(path)!r} needs pyarrow (pip install 'scaling_jax[parquet]')"
        ) from None
    columns = pq.read_table(path).to_pydict()
    return _Table(list(columns), lambda c: columns[c], _plain_row, f"Parquet file {str(path)!r}")


def _as_table(source: Any) -> _Table:
    if isinstance(source, (str, os.PathLike)):
        if str(source).lower().endswith((".parquet", ".pq")):
            return _read_parquet(Path(source))
        return _read_csv(Path(source))
    if _is_dataframe(source):
        return _frame_table(source)
    if isinstance(source, Mapping):
        return _mapping_table(source)
    raise TypeError(
        "load_runs: source must be a CSV path, a DataFrame or a mapping of column -> array, "
        f"got {type(source).__name__}"
    )


ALIASES: dict[str, tuple[str, ...]] = {
    "N": ("params", "N", "model_size", "n_params"),
    "D": ("tokens", "D", "n_tokens"),
    "loss": ("loss", "test_loss", "eval_loss"),
    "C": ("flops", "compute", "C"),
}
"""Conventional column names per role, recognized without flags (any case; spaces and
hyphens count as underscores)."""

_ROLE_WORDS = {"N": "parameters", "D": "training tokens", "loss": "loss", "C": "compute"}
_ROLE_FLAGS = {"N": "n=", "D": "d=", "loss": "loss=", "C": "compute="}


def _normal(name: Any) -> str:
    return str(name).strip().lower().replace(" ", "_").replace("-", "_")


def _candidates(columns: Sequence[Any], role: str) -> list[Any]:
    wanted = {_normal(a) for a in ALIASES[role]}
    return [c for c in columns if _normal(c) in wanted]


def _detect(table: _Table, role: str, required: bool = True) -> str | None:
    """The one column matching `role`'s conventional names; ValueError if none or several."""
    found = list(dict.fromkeys(_candidates(table.columns, role)))
    if len(found) > 1:
        raise ValueError(
            f"ambiguous {_ROLE_WORDS[role]} column in {table.what}: candidates {found!r}; "
            f"choose one with {_ROLE_FLAGS[role]}"
        )
    if not found:
        if not required:
            return None
        raise ValueError(
            f"no {_ROLE_WORDS[role]} column in {table.what}: looked for "
            f"{list(ALIASES[role])} (any case); available columns: {table.columns!r}; "
            f"name it with {_ROLE_FLAGS[role]}"
        )
    return found[0]


def _detect_tokens(table: _Table) -> tuple[str | None, str | None]:
    """(tokens column, compute column): tokens when present, else compute (D = C / 6N)."""
    d = _detect(table, "D", required=False)
    if d is not None:
        return d, None
    c = _detect(table, "C", required=False)
    if c is not None:
        return None, c
    raise ValueError(
        f"no training-tokens column in {table.what}: looked for {list(ALIASES['D'])} or a "
        f"compute column {list(ALIASES['C'])} (any case); available columns: "
        f"{table.columns!r}; name it with d= or compute="
    )


def read_points(source: Any, n: str | None = None, d: str | None = None) -> dict[str, Any]:
    """New points (N, D) from a CSV/Parquet path, DataFrame or mapping, for `predict`.

    Columns are detected as in `load_runs` (tokens, or compute with D = C / (6 N)). Returns
    ``{"N": array, "D": array, "columns": {role: column}}``.
    """
    table = _as_table(source)
    n = n or _detect(table, "N")
    compute = None
    if d is None:
        d, compute = _detect_tokens(table)
    N = _column(table.column(n, "N"), f"column {n!r} (N)", table.where, positive=True)
    if compute is not None:
        C = _column(
            table.column(compute, "C"), f"column {compute!r} (C)", table.where, positive=True
        )
        return {"N": N, "D": C / (FLOPS_PER_PARAM_TOKEN * N), "columns": {"N": n, "C": compute}}
    D = _column(table.column(d, "D"), f"column {d!r} (D)", table.where, positive=True)
    return {"N": N, "D": D, "columns": {"N": n, "D": d}}


def load_runs(
    source: Any,
    n: str | None = None,
    d: str | None = None,
    loss: str | None = None,
    *,
    compute: str | None = None,
    weights: str | None = None,
    extra: Mapping[str, str] | Sequence[str] | None = None,
    group: str | None = None,
) -> Runs:
    """Read a table of training runs.

    Args:
      source: a CSV path (read with the stdlib ``csv`` module), a Parquet path (``.parquet``;
        needs the optional ``pyarrow``), a pandas DataFrame, or a mapping of column -> array.
      n, d, loss: columns holding parameters N, training tokens D and final loss (nats/token).
        When not given, conventional names are recognized (`ALIASES`: params/N/model_size/
        n_params; tokens/D/n_tokens; loss/test_loss/eval_loss; any case), and a table with no
        tokens column but a compute column (flops/compute/C) is read as ``compute=``. Several
        matching columns raise a ValueError listing them. The chosen columns are in
        ``runs.columns``.
      compute: column holding training compute C (FLOPs); when given, D = C / (6 N) is derived
        from it and ``d`` is not read (Epoch's convention for the Chinchilla extraction:
        ``load_runs(path, n="Model Size", compute="Training FLOP", loss="loss")``).
      weights: optional column of per-run weights (>= 0, not all zero).
      extra: further features, as a mapping feature name -> column name (or a list of column
        names used as their own feature names), e.g. ``{"U": "unique_tokens"}``.
      group: optional column of group labels (seed, run id): runs sharing a label are
        resampled together by the bootstrap.

    Raises:
      ValueError: naming the column, the offending value and its 0-based data row, for a
        missing file, empty table, missing or ambiguous column, non-numeric cell, NaN/inf,
        non-positive N/D/C/loss, negative weight or mismatched column lengths.
    """
    if compute is not None and d is not None:
        raise ValueError(
            f"give either d={d!r} (a token column) or compute={compute!r} (a FLOP column), not both"
        )
    if extra is None:
        extra_cols: dict[str, str] = {}
    elif isinstance(extra, Mapping):
        extra_cols = dict(extra)
    elif isinstance(extra, str):
        extra_cols = {extra: extra}
    else:
        extra_cols = {c: c for c in extra}
    for name in extra_cols:
        _check_feature_name(name)

    table = _as_table(source)
    where = table.where
    n = n or _detect(table, "N")
    loss = loss or _detect(table, "loss")
    if d is None and compute is None:
        d, compute = _detect_tokens(table)

    def read(col: str, role: str, **checks: bool) -> np.ndarray:
        return _column(table.column(col, role), f"column {col!r} ({role})", where, **checks)

    cols: dict[str, np.ndarray] = {}
    chosen = {"N": n}
    cols[f"column {n!r}"] = N = read(n, "N", positive=True)
    if compute is None:
        cols[f"column {d!r}"] = D = read(d, "D", positive=True)
        chosen["D"] = d
    else:
        cols[f"column {compute!r}"] = C = read(compute, "C", positive=True)
        chosen["C"] = compute
    cols[f"column {loss!r}"] = L = read(loss, "loss", positive=True)
    chosen["loss"] = loss
    W = None
    if weights is not None:
        cols[f"column {weights!r}"] = W = read(weights, "weights")
        chosen["weights"] = weights
    extra_arrays = {}
    for name, col in extra_cols.items():
        cols[f"column {col!r}"] = extra_arrays[name] = read(col, f"extra feature {name!r}")
        chosen[name] = col
    G = None
    if group is not None:
        raw = table.column(group, "group")
        G = np.asarray([str(v) for v in (raw.tolist() if hasattr(raw, "tolist") else raw)])
        cols[f"column {group!r}"] = G
        chosen["group"] = group
    n_rows = _check_lengths(cols)
    if n_rows == 0:
        raise ValueError(f"{table.what} has no rows (no runs)")
    if W is not None:
        _check_weights(W, f"column {weights!r} (weights)", where)
    if compute is not None:
        with np.errstate(over="ignore", under="ignore"):
            D = C / (FLOPS_PER_PARAM_TOKEN * N)
        _check_values(
            D, f"D derived as column {compute!r} / (6 * column {n!r})", where, positive=True
        )
    return Runs(N=N, D=D, loss=L, weights=W, extra=extra_arrays, group=G, columns=chosen)


_UNSET = object()
# Values of each load option that mean "the default" (None, or the former fixed names).
_LOAD_DEFAULTS: dict[str, tuple[Any, ...]] = {
    "n": (None, "N"),
    "d": (None, "D"),
    "loss": (None, "loss"),
    "compute": (None,),
    "weights": (None,),
    "extra": (None,),
    "group": (None,),
}


def as_runs(data: Any, **kwargs: Any) -> Runs:
    """Pass a `Runs` through unchanged; otherwise ``load_runs(data, **kwargs)``.

    Column options other than `load_runs`'s defaults make no sense for a `Runs` and raise.
    """
    if isinstance(data, Runs):
        unused = {k: v for k, v in kwargs.items() if v not in _LOAD_DEFAULTS.get(k, (_UNSET,))}
        if unused:
            raise ValueError(f"column options {unused} do not apply to an existing Runs")
        return data
    return load_runs(data, **kwargs)
