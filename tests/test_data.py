"""Tests for scaling_jax.data: Runs, load_runs from arrays / DataFrame / CSV, and bad input."""

from __future__ import annotations

import re

import jax.numpy as jnp
import numpy as np
import pytest
from conftest import shared_data_file

from scaling_jax.data import Runs, as_runs, check_enough_points, load_runs

N = np.array([1e8, 1e8, 4e8, 4e8, 1.6e9])
D = np.array([2e9, 8e9, 2e9, 8e9, 3.2e10])
LOSS = np.array([3.1, 2.9, 2.8, 2.6, 2.3])
U = np.array([1e9, 2e9, 1e9, 4e9, 8e9])
W = np.array([1.0, 0.5, 1.0, 0.0, 2.0])


def _write_csv(path, header, rows):
    lines = [",".join(header)] + [",".join(str(v) for v in row) for row in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
def runs_csv(tmp_path):
    rows = [(f"m{i}", N[i], D[i], LOSS[i], W[i], U[i], 6 * N[i] * D[i]) for i in range(len(N))]
    header = ["name", "params", "tokens", "loss", "w", "unique", "flops"]
    return _write_csv(tmp_path / "runs.csv", header, rows)


def _columns():
    return {
        "params": N,
        "tokens": D,
        "loss": LOSS,
        "w": W,
        "unique": U,
        "flops": 6 * N * D,
    }


def _assert_same(a: Runs, b: Runs) -> None:
    np.testing.assert_array_equal(a.N, b.N)
    np.testing.assert_array_equal(a.D, b.D)
    np.testing.assert_array_equal(a.loss, b.loss)
    assert (a.weights is None) == (b.weights is None)
    if a.weights is not None:
        np.testing.assert_array_equal(a.weights, b.weights)
    assert set(a.extra) == set(b.extra)
    for k in a.extra:
        np.testing.assert_array_equal(a.extra[k], b.extra[k])


# ---------------------------------------------------------------------------- Runs


def test_runs_from_arrays_lists_and_jax():
    ref = Runs(N=N, D=D, loss=LOSS)
    assert len(ref) == 5
    for arr in (ref.N, ref.D, ref.loss):
        assert arr.dtype == np.float64 and arr.ndim == 1
        assert not arr.flags.writeable
    _assert_same(ref, Runs(N=list(N), D=list(D), loss=list(LOSS)))
    _assert_same(ref, Runs(N=jnp.asarray(N), D=jnp.asarray(D), loss=jnp.asarray(LOSS)))
    ints = Runs(N=[100, 200], D=[1000, 2000], loss=[3, 2])
    assert ints.N.dtype == np.float64


def test_runs_copies_input():
    n = N.copy()
    runs = Runs(N=n, D=D, loss=LOSS)
    n[0] = 7.0
    assert runs.N[0] == N[0]
    assert n.flags.writeable  # the caller's array is left alone


def test_runs_is_frozen():
    runs = Runs(N=N, D=D, loss=LOSS)
    with pytest.raises(AttributeError):
        runs.N = N  # type: ignore[misc]
    with pytest.raises(ValueError):
        runs.N[0] = 1.0
    with pytest.raises(TypeError):
        runs.extra["U"] = U  # type: ignore[index]


def test_compute_log_loss_and_features():
    runs = Runs(N=N, D=D, loss=LOSS, extra={"U": U})
    np.testing.assert_allclose(runs.compute, 6 * N * D, rtol=1e-15)
    np.testing.assert_allclose(runs.log_loss, np.log(LOSS), rtol=1e-15)
    feats = runs.features(["N", "D", "U", "C", "compute"])
    assert list(feats) == ["N", "D", "U", "C", "compute"]
    np.testing.assert_array_equal(feats["U"], U)
    np.testing.assert_array_equal(feats["C"], runs.compute)
    np.testing.assert_array_equal(feats["compute"], runs.compute)
    assert list(runs.features("N")) == ["N"]  # a bare string is one name


def test_features_unknown_name_lists_available():
    runs = Runs(N=N, D=D, loss=LOSS, extra={"U": U})
    with pytest.raises(ValueError, match=r"unknown feature 'R'.*'N', 'D', 'C', 'compute', 'U'"):
        runs.features(["N", "R"])


def test_subset_mask_indices_and_slice():
    runs = Runs(N=N, D=D, loss=LOSS, weights=W, extra={"U": U})
    mask = np.array([True, False, True, False, True])
    sub = runs.subset(mask)
    assert len(sub) == 3
    np.testing.assert_array_equal(sub.N, N[mask])
    np.testing.assert_array_equal(sub.weights, W[mask])
    np.testing.assert_array_equal(sub.extra["U"], U[mask])
    boot = runs.subset(np.array([4, 4, 0, -1]))  # bootstrap-style repeats, negative index
    np.testing.assert_array_equal(boot.loss, LOSS[[4, 4, 0, -1]])
    assert len(runs.subset([0, 1])) == 2
    np.testing.assert_array_equal(runs.subset(slice(1, 3)).D, D[1:3])


def test_subset_bad_index():
    runs = Runs(N=N, D=D, loss=LOSS)
    with pytest.raises(ValueError, match="mask has length 2, runs have 5"):
        runs.subset(np.array([True, False]))
    with pytest.raises(ValueError, match="index 5 at position 1 is out of range for 5 runs"):
        runs.subset([0, 5])
    with pytest.raises(ValueError, match="dtype float64"):
        runs.subset(np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match="at least one run"):
        runs.subset(np.zeros(5, dtype=bool))


def test_to_dict_roundtrip():
    runs = Runs(N=N, D=D, loss=LOSS, weights=W, extra={"U": U})
    d = runs.to_dict()
    assert list(d) == ["N", "D", "loss", "weights", "U"]
    d["N"][0] = -1.0  # writable copies, the Runs is untouched
    assert runs.N[0] == N[0]
    back = load_runs(runs.to_dict(), weights="weights", extra=["U"])
    _assert_same(runs, back)
    assert "weights" not in Runs(N=N, D=D, loss=LOSS).to_dict()


def test_repr_is_short():
    text = repr(Runs(N=N, D=D, loss=LOSS, extra={"U": U}))
    assert text.startswith("Runs(n=5,") and "extra=['U']" in text


# ---------------------------------------------------------------------------- Runs: bad input


@pytest.mark.parametrize(
    ("field", "value", "pattern"),
    [
        ("N", [1e8, np.nan, 1e9, 1e9, 1e9], r"N: value nan at row 1 \(0-based data row\)"),
        ("D", [1e9, 1e9, np.inf, 1e9, 1e9], r"D: value inf at row 2 \(0-based data row\)"),
        ("loss", [3.0, 2.0, 1.0, -np.inf, 2.0], r"loss: value -inf at row 3"),
        ("N", [1e8, 1e8, 0.0, 1e8, 1e8], r"N: value 0.0 at row 2 \(0-based data row\) must be > 0"),
        ("D", [1e9, -1.0, 1e9, 1e9, 1e9], r"D: value -1.0 at row 1 .* must be > 0"),
        ("loss", [3.0, 2.0, 0.0, -1.0, 2.0], r"loss: value 0.0 at row 2 .*2 bad values in all"),
        ("N", [1e8, "abc", 1e9, 1e9, 1e9], r"N: non-numeric value 'abc' at row 1"),
        ("N", [1e8, None, 1e9, 1e9, 1e9], r"N: missing value None at row 1"),
        ("D", [1e9, 1e9, 1e9, 1e9], r"mismatched lengths: N has 5, D has 4, loss has 5"),
        ("N", 1e8, r"N: expected a 1-D array of per-run values, got a scalar"),
        ("N", np.ones((5, 1)), r"N: .*got an array of shape \(5, 1\)"),
        ("N", "12345", r"N: expected a 1-D sequence of numbers, got the string '12345'"),
    ],
)
def test_runs_rejects_bad_values(field, value, pattern):
    kwargs = {"N": N, "D": D, "loss": LOSS, field: value}
    with pytest.raises(ValueError, match=pattern):
        Runs(**kwargs)


@pytest.mark.parametrize(
    ("weights", "pattern"),
    [
        ([1.0, -0.5, 1.0, 1.0, 1.0], r"weights: value -0.5 at row 1 .* must be >= 0"),
        ([1.0, np.nan, 1.0, 1.0, 1.0], r"weights: value nan at row 1"),
        ([0.0] * 5, r"weights: all 5 weights are zero"),
        ([1.0, 1.0], r"mismatched lengths: .*weights has 2"),
    ],
)
def test_runs_rejects_bad_weights(weights, pattern):
    with pytest.raises(ValueError, match=pattern):
        Runs(N=N, D=D, loss=LOSS, weights=weights)


def test_runs_rejects_bad_extra():
    with pytest.raises(ValueError, match=r"extra feature 'U': value nan at row 0"):
        Runs(N=N, D=D, loss=LOSS, extra={"U": [np.nan, 1, 1, 1, 1]})
    with pytest.raises(ValueError, match=r"mismatched lengths: .*extra feature 'U' has 2"):
        Runs(N=N, D=D, loss=LOSS, extra={"U": [1.0, 2.0]})
    with pytest.raises(ValueError, match="feature name 'N' is reserved"):
        Runs(N=N, D=D, loss=LOSS, extra={"N": N})
    with pytest.raises(ValueError, match="at least one run; got 0"):
        Runs(N=[], D=[], loss=[])


def test_check_enough_points():
    runs = Runs(N=N, D=D, loss=LOSS)
    check_enough_points(runs, 4, "four")  # 5 points, 4 parameters: fine
    with pytest.raises(
        ValueError, match=r"'chinchilla' has 5 parameters but only 5 runs.*at least 6"
    ):
        check_enough_points(runs, 5, "chinchilla")
    weighted = Runs(N=N, D=D, loss=LOSS, weights=W)  # one zero weight: 4 informative runs
    with pytest.raises(ValueError, match=r"only 4 runs with weight > 0"):
        check_enough_points(weighted, 4, "four")


# ---------------------------------------------------------------------------- load_runs


def test_arrays_dataframe_and_csv_agree(runs_csv):
    pd = pytest.importorskip("pandas")
    kwargs = dict(n="params", d="tokens", loss="loss", weights="w", extra={"U": "unique"})
    from_mapping = load_runs(_columns(), **kwargs)
    from_csv = load_runs(runs_csv, **kwargs)
    from_str_path = load_runs(str(runs_csv), **kwargs)
    from_frame = load_runs(pd.read_csv(runs_csv), **kwargs)
    direct = Runs(N=N, D=D, loss=LOSS, weights=W, extra={"U": U})
    for runs in (from_mapping, from_csv, from_str_path, from_frame):
        _assert_same(direct, runs)


def test_defaults_and_as_runs(tmp_path):
    path = _write_csv(tmp_path / "r.csv", ["N", "D", "loss"], zip(N, D, LOSS, strict=True))
    runs = load_runs(path)
    _assert_same(runs, Runs(N=N, D=D, loss=LOSS))
    assert as_runs(runs) is runs
    assert as_runs(runs, n="N", d="D") is runs  # default options are harmless
    with pytest.raises(ValueError, match="do not apply to an existing Runs"):
        as_runs(runs, n="params")
    _assert_same(as_runs(path), runs)
    _assert_same(as_runs(_columns(), n="params", d="tokens"), runs)


def test_compute_derived_tokens(runs_csv):
    runs = load_runs(runs_csv, n="params", compute="flops", loss="loss")
    np.testing.assert_allclose(runs.D, D, rtol=1e-14)
    np.testing.assert_allclose(runs.compute, 6 * N * D, rtol=1e-14)
    with pytest.raises(ValueError, match="either d='tokens'.*or compute='flops'"):
        load_runs(runs_csv, n="params", d="tokens", compute="flops")


def test_compute_column_errors(tmp_path):
    path = _write_csv(
        tmp_path / "c.csv",
        ["Model Size", "Training FLOP", "loss"],
        [(1e8, 1e18, 3.0), (1e8, 0, 3.0)],
    )
    with pytest.raises(ValueError, match=r"column 'Training FLOP' \(C\): value 0.0 at row 1"):
        load_runs(path, n="Model Size", compute="Training FLOP")
    # Both columns positive but the quotient underflows to 0.
    path = _write_csv(
        tmp_path / "u.csv", ["Model Size", "Training FLOP", "loss"], [(1e300, 1e-300, 3.0)]
    )
    with pytest.raises(ValueError, match=r"D derived as column 'Training FLOP' / \(6 \* column"):
        load_runs(path, n="Model Size", compute="Training FLOP")


def test_extra_as_list_and_unknown_feature(runs_csv):
    runs = load_runs(runs_csv, n="params", d="tokens", extra=["unique"])
    np.testing.assert_array_equal(runs.features(["unique"])["unique"], U)
    with pytest.raises(ValueError, match=r"unknown feature 'U'.*'unique'"):
        runs.features(["U"])
    with pytest.raises(ValueError, match="feature name 'D' is reserved"):
        load_runs(runs_csv, n="params", d="tokens", extra={"D": "unique"})


def test_csv_tolerates_blank_lines_bom_and_crlf(tmp_path):
    path = tmp_path / "odd.csv"
    text = "\ufeffN,D,loss\r\n1e8,2e9,3.1\r\n\r\n 4e8 ,8e9,2.6\r\n\r\n"
    path.write_bytes(text.encode("utf-8"))
    runs = load_runs(path)
    np.testing.assert_array_equal(runs.N, [1e8, 4e8])


# ---------------------------------------------------------------------------- load_runs: bad input


@pytest.mark.parametrize(
    ("cell", "value", "pattern"),
    [
        ((2, "tokens"), "nan", r"column 'tokens' \(D\): value nan at row 2 \(0-based data row"),
        ((0, "loss"), "inf", r"column 'loss' \(loss\): value inf at row 0"),
        ((3, "params"), "-5", r"column 'params' \(N\): value -5.0 at row 3 .* must be > 0"),
        ((1, "loss"), "0", r"column 'loss' \(loss\): value 0.0 at row 1"),
        ((4, "w"), "-1", r"column 'w' \(weights\): value -1.0 at row 4 .* must be >= 0"),
        ((2, "params"), "1,5e8", None),  # quoted below; a comma inside a number
        ((2, "params"), "abc", r"column 'params' \(N\): non-numeric value 'abc' at row 2"),
        ((1, "tokens"), "", r"column 'tokens' \(D\): empty cell '' at row 1"),
        ((0, "unique"), "lots", r"column 'unique' \(extra feature 'U'\): non-numeric value 'lots'"),
    ],
)
def test_csv_bad_cells(tmp_path, cell, value, pattern):
    header = ["params", "tokens", "loss", "w", "unique"]
    rows = [[str(v) for v in row] for row in zip(N, D, LOSS, W, U, strict=True)]
    row, col = cell
    if "," in value:
        value = f'"{value}"'
        pattern = r"column 'params' \(N\): non-numeric value '1,5e8' at row 2"
    rows[row][header.index(col)] = value
    path = _write_csv(tmp_path / "bad.csv", header, rows)
    with pytest.raises(ValueError, match=pattern):
        load_runs(path, n="params", d="tokens", weights="w", extra={"U": "unique"})
    # The message also points at the file line: header is line 1, data row r is line r + 2.
    with pytest.raises(ValueError, match=rf"line {row + 2} of bad\.csv"):
        load_runs(path, n="params", d="tokens", weights="w", extra={"U": "unique"})


def test_csv_missing_column_lists_available(runs_csv):
    with pytest.raises(ValueError) as info:
        load_runs(runs_csv, n="Params", d="tokens")
    msg = str(info.value)
    assert "column 'Params' (N) not found" in msg
    assert "available columns: ['name', 'params', 'tokens', 'loss', 'w', 'unique', 'flops']" in msg
    assert "did you mean 'params'?" in msg
    with pytest.raises(ValueError, match=r"column 'weight' \(weights\) not found"):
        load_runs(runs_csv, n="params", d="tokens", weights="weight")


def test_csv_file_problems(tmp_path):
    missing = tmp_path / "nope.csv"
    with pytest.raises(ValueError, match=r"runs file not found: .*nope\.csv"):
        load_runs(missing)
    with pytest.raises(ValueError, match="is a directory"):
        load_runs(tmp_path)
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(ValueError, match=r"empty\.csv' is empty"):
        load_runs(empty)
    blank = tmp_path / "blank.csv"
    blank.write_text("\n\n")
    with pytest.raises(ValueError, match="is empty"):
        load_runs(blank)
    header_only = tmp_path / "header.csv"
    header_only.write_text("N,D,loss\n")
    with pytest.raises(ValueError, match="has a header but no data rows"):
        load_runs(header_only)
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("N,D,loss\n1e8,2e9,3.0\n1e8,2e9\n")
    with pytest.raises(
        ValueError, match=r"data row 1 \(0-based; line 3\) has 2 fields .* header has 3"
    ):
        load_runs(ragged)
    dup = tmp_path / "dup.csv"
    dup.write_text("N,D,loss,loss\n1e8,2e9,3.0,2.0\n")
    with pytest.raises(ValueError, match="column 'loss' .* appears 2 times"):
        load_runs(dup)
    latin = tmp_path / "latin.csv"
    latin.write_bytes("N,D,loss,caf\xe9\n1,2,3,4\n".encode("latin-1"))
    with pytest.raises(ValueError, match="not UTF-8"):
        load_runs(latin)


def test_mapping_problems():
    cols = {"N": N, "D": D[:3], "loss": LOSS}
    with pytest.raises(ValueError, match=r"mismatched lengths: column 'N' has 5, column 'D' has 3"):
        load_runs(cols)
    with pytest.raises(ValueError, match=r"no loss column in the mapping: looked for \['loss'"):
        load_runs({"N": N, "D": D})
    with pytest.raises(ValueError, match="the mapping has no rows"):
        load_runs({"N": [], "D": [], "loss": []})
    with pytest.raises(ValueError, match=r"column 'N' \(N\): value nan at row 1"):
        load_runs({"N": [1.0, np.nan], "D": [1.0, 2.0], "loss": [1.0, 2.0]})
    with pytest.raises(TypeError, match="source must be a CSV path, a DataFrame or a mapping"):
        load_runs([1, 2, 3])


def test_dataframe_problems():
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({"N": N, "D": D, "loss": LOSS})
    bad = frame.copy()
    bad.loc[3, "loss"] = np.nan
    with pytest.raises(ValueError, match=r"column 'loss' \(loss\): value nan at row 3"):
        load_runs(bad)
    # Position, not index label, is the row; a non-default label is shown too.
    shifted = bad.set_index(pd.Index([10, 11, 12, 13, 14]))
    with pytest.raises(ValueError, match=r"row 3 \(0-based data row; index label 13\)"):
        load_runs(shifted)
    text = frame.astype({"D": object})
    text.loc[1, "D"] = "lots"
    with pytest.raises(ValueError, match=r"column 'D' \(D\): non-numeric value 'lots' at row 1"):
        load_runs(text)
    nullable = frame.astype({"N": "Float64"})
    nullable.loc[2, "N"] = pd.NA
    with pytest.raises(ValueError, match=r"column 'N' \(N\): value nan at row 2"):
        load_runs(nullable)
    with pytest.raises(ValueError, match=re.escape("available columns: ['N', 'D', 'loss']")):
        load_runs(frame, d="tokens")
    with pytest.raises(ValueError, match="the DataFrame has no rows"):
        load_runs(frame.iloc[:0])


# ---------------------------------------------------------------------------- reference data


def test_epoch_chinchilla_file():
    path = shared_data_file("chinchilla_epoch_extracted.csv")
    runs = load_runs(path, n="Model Size", compute="Training FLOP", loss="loss")
    assert len(runs) == 245
    np.testing.assert_allclose(runs.D.min(), 2.45e8, rtol=5e-3)
    np.testing.assert_allclose(runs.D.max(), 3.18e11, rtol=5e-3)
    np.testing.assert_allclose([runs.N.min(), runs.N.max()], [5.73e7, 1.62e10], rtol=5e-3)
    np.testing.assert_allclose([runs.loss.min(), runs.loss.max()], [2.0774, 5.0056], rtol=1e-4)
    np.testing.assert_allclose(runs.compute.min(), 1.40e18, rtol=5e-3)
    # Epoch's filter: drop the 5 highest losses, which are the first five rows.
    keep = runs.loss < np.sort(runs.loss)[-5]
    assert keep.sum() == 240 and not keep[:5].any()
    assert len(runs.subset(keep)) == 240


def test_sardana_file():
    path = shared_data_file("sardana_trainingresults_47.csv")
    runs = load_runs(path, n="Parameters", d="Tokens", loss="Smoothed Loss")
    assert len(runs) == 47
    assert len(np.unique(runs.N)) == 6
    ratio = runs.D / runs.N
    assert ratio.min() > 9.9 and ratio.max() < 10_001


def test_datablations_file_extra_feature():
    path = shared_data_file("datablations_parametric_fit_182.csv")
    runs = load_runs(path, n="params", d="tokens", loss="val_loss", extra={"U": "unique_tokens"})
    assert len(runs) == 182
    np.testing.assert_allclose([runs.extra["U"].min(), runs.extra["U"].max()], [1e8, 1.78e11])
    assert (runs.extra["U"] <= runs.D).all()
