"""Held-out check of `predict` on Epoch AI's Chinchilla points (issue #14).

Fit on the 240 filtered points minus the 17 runs with N >= 5e9, predict those 17 and count how
many observed losses fall inside the mean interval and the new-run interval, from the fit
(delta method) and from a bootstrap (percentile draws). Usage:

    python benchmarks/predict_epoch_holdout.py [--resamples 400] [--out holdout.json]
"""

from __future__ import annotations

import argparse
import json

import numpy as np
from _common import epoch_runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--resamples", type=int, default=400)
    parser.add_argument("--out", default=None)
    args = parser.parse_args()

    import scaling_jax as sj

    runs = epoch_runs()
    if runs is None:
        raise SystemExit("../shared/data/chinchilla_epoch_extracted.csv is absent")
    held = runs.N >= 5e9
    train, test = runs.subset(~held), runs.subset(held)
    print(f"fit on {len(train)} runs, predict {len(test)} held-out runs (N >= 5e9)")
    fit = sj.fit(train, starts="grid", mode="fast")
    boot = sj.bootstrap(train, n_resamples=args.resamples, seed=0, progress=False)
    report = {"n_train": len(train), "n_held_out": len(test)}
    for level in (0.9, 0.95):
        for name, res in (("fit (delta method)", fit), ("bootstrap", boot)):
            pred = sj.predict(res, test.N, test.D, level=level, runs=train)
            cov = pred.covers(test.loss)
            rel = (pred.loss - test.loss) / test.loss
            row = {
                "mean_interval": int(cov["mean"].sum()),
                "new_run_interval": int(cov["new_run"].sum()),
                "mean_rel_error": float(rel.mean()),
                "sigma": pred.sigma,
                "dof": pred.dof,
                "median_se_log": float(np.median(pred.se_log)),
                "labels": sorted(set(pred.label)),
            }
            report[f"{name} @ {level:g}"] = row
            print(
                f"{name:>20} {level:.0%}: mean interval covers {row['mean_interval']}/"
                f"{len(test)}, new-run interval covers {row['new_run_interval']}/{len(test)}; "
                f"mean relative error {row['mean_rel_error']:+.4f}; sigma {pred.sigma:.4f}, "
                f"dof {pred.dof:g}, median se(log) {row['median_se_log']:.4f}"
            )
    if args.out:
        with open(args.out, "w") as f:
            json.dump(report, f, indent=2)


if __name__ == "__main__":
    main()
