"""Executes notebooks/loss_to_accuracy.ipynb and checks the values it computes."""

from pathlib import Path

from conftest import IN_CI, run_notebook

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "loss_to_accuracy.ipynb"
DATA = NOTEBOOK.parents[2] / "shared" / "data" / "sardana_trainingresults_47.csv"


def test_loss_to_accuracy_notebook_executes():
    text = run_notebook(NOTEBOOK, timeout=600)

    # 1. The known sigmoid is recovered.
    tol = {"floor": 0.02, "ceiling": 0.05, "midpoint": 0.03, "log_width": 0.15}
    seen = 0
    for line in text.splitlines():
        if line.startswith("recovered "):
            name = line.split()[1].rstrip(":")
            true, fitted = float(line.split()[3]), float(line.split()[5])
            assert abs(true - fitted) < tol[name], line
            seen += 1
    assert seen == 4

    if not DATA.is_file():
        assert not IN_CI, f"{DATA} is required when CI=true"
        assert "skipping the Sardana sections" in text
        return
    # 2. Held-out 6B scores from the links fitted below 6B (7 metrics, two links).
    held = [s for s in text.splitlines() if s.startswith("held-out eval") or "held-out mmlu" in s]
    assert len(held) == 7
    for line in held:
        exp_err, sig_err = (float(v) for v in line.split()[-2:])
        assert abs(exp_err) < 0.03 and abs(sig_err) < 0.035, line
    # 3. The chained prediction's interval and the lifetime form of the target.
    chained = next(s for s in text.splitlines() if s.startswith("chained 6B core_average"))
    value = float(chained.split("predicted ")[1].split()[0])
    observed = float(chained.split("observed ")[1])
    assert abs(value - observed) < 0.05
    reach = {
        line.split()[1]: {kv.split("=")[0]: float(kv.split("=")[1]) for kv in line.split()[2:]}
        for line in text.splitlines()
        if line.startswith("reach T=")
    }
    assert reach["T=1e+12:"]["N"] < reach["T=0e+00:"]["N"]
    assert reach["T=1e+12:"]["D"] > reach["T=0e+00:"]["D"]
    assert "mmlu_5_shot_avg >= 0.4: not reachable" in text
