"""Published constants of the Chinchilla-form law (loss in nats/token), each with its source.

- `CHINCHILLA_2022`: Hoffmann et al. 2022, Approach 3, as usually quoted (rounded).
- `EPOCH_2024`: Besiroglu et al. 2024 (Epoch AI), the fit of their notebook that replicates the
  Chinchilla recipe (summed Huber objective, 240 filtered points), as published. The fit
  `scaling_jax.fit` finds on the same data agrees to the shallow minimum's precision (see the
  tests); it is a result, not this preset.
- `EPOCH_2024_HEADLINE`: Epoch's headline estimate (Huber likelihood with a free scale).
- `SARDANA_2024`: the constants Sardana et al. 2024 ("Beyond Chinchilla-Optimal") use.
- `MUENNIGHOFF_2023`: the data-constrained law of Muennighoff et al. 2023 (a
  `DataConstrainedParams`; A, B, E are exp of the authors' stored logs 6.255414, 7.3049974,
  0.6254804, i.e. A = 520.82495, B = 1487.7161, E = 1.86914 rounded; alpha = beta = 0.3526596,
  R_D* = 15.387756, R_N* = 5.309743). Its ``.base`` is the Chinchilla-form part.
- `KAPLAN_2020_ND`: Kaplan et al. 2020's joint L(N, D) fit (a `KaplanNDParams`).

`PRESETS` and `resolve_params` cover the Chinchilla-form presets only. `CATALOG` holds every
preset (also the data-constrained and Kaplan ones) as a `Preset` with its `source`: the paper
and table/figure/equation, or the authors' repository file, the numbers come from.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from scaling_jax.laws import (
    _MUENNIGHOFF_2023,
    ChinchillaParams,
    DataConstrainedParams,
    KaplanNDParams,
)
from scaling_jax.laws import kaplan as _kaplan

__all__ = [
    "CHINCHILLA_2022",
    "EPOCH_2024",
    "EPOCH_2024_HEADLINE",
    "SARDANA_2024",
    "MUENNIGHOFF_2023",
    "KAPLAN_2020_ND",
    "KAPLAN_2020",
    "PRESETS",
    "Preset",
    "CATALOG",
    "preset_info",
    "resolve_params",
]

CHINCHILLA_2022 = ChinchillaParams(A=406.4, B=410.7, E=1.69, alpha=0.34, beta=0.28)
EPOCH_2024 = ChinchillaParams(A=477.84, B=2143.86, E=1.81724, alpha=0.347313, beta=0.367183)
EPOCH_2024_HEADLINE = ChinchillaParams(A=482.01, B=2085.43, E=1.8169, alpha=0.3478, beta=0.3658)
SARDANA_2024 = ChinchillaParams(A=406.4, B=410.7, E=1.69, alpha=0.336, beta=0.283)
# Defined beside the law (laws.py) because the registered frozen-base law needs it.
MUENNIGHOFF_2023: DataConstrainedParams = _MUENNIGHOFF_2023
KAPLAN_2020_ND = KaplanNDParams(N_c=6.4e13, D_c=1.8e13, alpha_N=0.076, alpha_D=0.103)
KAPLAN_2020 = _kaplan.KAPLAN_2020

PRESETS: dict[str, ChinchillaParams] = {
    "chinchilla_2022": CHINCHILLA_2022,
    "epoch_2024": EPOCH_2024,
    "epoch_2024_headline": EPOCH_2024_HEADLINE,
    "sardana_2024": SARDANA_2024,
}


class Preset(NamedTuple):
    """A published set of constants with the citation of where each number comes from.

    `params` is the law's parameter pytree (e.g. `ChinchillaParams`); `law` names the law it
    plugs into; `source` cites the paper (table/figure/equation) or repository file; `note`
    says how the numbers were read (rounding, conversions, what is uncertain).
    """

    name: str
    params: Any
    law: str
    source: str
    note: str = ""

    def summary(self) -> str:
        """Name, constants, law, source and note as readable lines."""
        values = ", ".join(f"{k}={float(v):.6g}" for k, v in self.params._asdict().items())
        lines = [f"{self.name} [law: {self.law}]: {values}", f"  source: {self.source}"]
        if self.note:
            lines.append(f"  note: {self.note}")
        return "\n".join(lines)


_HOFFMANN = "Hoffmann et al. 2022, 'Training Compute-Optimal Large Language Models'"
_EPOCH = "Besiroglu et al. 2024, 'Chinchilla Scaling: A replication attempt'"

CATALOG: dict[str, Preset] = {
    p.name: p
    for p in (
        Preset(
            "chinchilla_2022",
            CHINCHILLA_2022,
            "chinchilla",
            f"{_HOFFMANN}, Section 3.3 and Appendix D.2 (Approach 3 fit of eq. 2)",
            "the rounded constants as printed; with these alpha, beta the N_opt exponent is "
            "0.452 (the paper's 0.46 comes from unrounded alpha = 0.33917, beta = 0.28491)",
        ),
        Preset(
            "epoch_2024",
            EPOCH_2024,
            "chinchilla",
            f"{_EPOCH}; repository epoch-research/analyzing-chinchilla, data_analysis.ipynb, "
            "the fit that replicates the Chinchilla recipe exactly (Huber delta = 1e-3, "
            "L-BFGS from the 4500-point grid, 240 points)",
            "as printed in the notebook; the minimum is shallow, so refits of the same data "
            "differ by ~0.5% in A, B",
        ),
        Preset(
            "epoch_2024_headline",
            EPOCH_2024_HEADLINE,
            "chinchilla",
            f"{_EPOCH}, the paper's headline estimate of the parametric fit",
            "a Huber-likelihood fit with a free scale, not the Chinchilla grid recipe; "
            "table/equation number not recorded here",
        ),
        Preset(
            "sardana_2024",
            SARDANA_2024,
            "chinchilla",
            "Sardana et al. 2024, 'Beyond Chinchilla-Optimal'; repository "
            "nikhilsardana/beyond-chinchilla, utils.py (ChinchillaConstants defaults: "
            "alpha = 0.336, beta = 0.283, A = 406.4, B = 410.7, E = 1.69)",
        ),
        Preset(
            "muennighoff_2023",
            MUENNIGHOFF_2023,
            "data_constrained",
            "Muennighoff et al. 2023, 'Scaling Data-Constrained Language Models', eq. 5 and "
            "the fitted constants stored in the authors' repository (log A = 6.255414, "
            "log B = 7.3049974, log E = 0.6254804)",
            "A, B, E are exp of the stored logs",
        ),
        Preset(
            "kaplan_2020_nd",
            KAPLAN_2020_ND,
            "kaplan",
            "Kaplan et al. 2020, 'Scaling Laws for Neural Language Models', eq. 1.5 and "
            "Table 2 (fits to L(N, D))",
            "N counts non-embedding parameters",
        ),
        Preset(
            "kaplan_2020",
            KAPLAN_2020,
            "scaling_jax.laws.kaplan functions",
            "Kaplan et al. 2020: L(N), L(D), L(C_min) eqs. 1.1-1.3; L(N, D) Table 2; "
            "L(N, S) Table 3 (alpha_N = 0.077, N_c = 6.5e13, alpha_S = 0.76, S_c = 2.1e3); "
            "B_crit eq. 1.4",
            "N non-embedding parameters, C_min in PF-days (8.64e19 FLOPs)",
        ),
    )
}


def preset_info(name: str) -> Preset:
    """The `Preset` (constants + source) of a name in `CATALOG`; case and '-' insensitive."""
    key = str(name).lower().replace("-", "_")
    if key not in CATALOG:
        raise ValueError(f"unknown preset {name!r}; use one of {sorted(CATALOG)}")
    return CATALOG[key]


def resolve_params(spec: str | ChinchillaParams) -> ChinchillaParams:
    """Chinchilla constants from a preset name, a JSON file, or a `ChinchillaParams`.

    A JSON file is either a `FitResult` written by ``to_json`` or ``scaling-jax fit --out``
    (its ``"params"`` object is used) or a bare object with keys A, B, E, alpha, beta.
    """
    import json
    from pathlib import Path

    if isinstance(spec, ChinchillaParams):
        return spec
    key = str(spec).lower().replace("-", "_")
    if key in PRESETS:
        return PRESETS[key]
    path = Path(spec)
    if not path.is_file():
        raise ValueError(f"law {spec!r} is neither a preset ({sorted(PRESETS)}) nor a JSON file")
    try:
        blob = json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise ValueError(f"law file {path} is not valid JSON: {err}") from None
    values = blob.get("params", blob) if isinstance(blob, dict) else None
    if not isinstance(values, dict):
        raise ValueError(f"law file {path} holds no parameter object")
    missing = [k for k in ChinchillaParams._fields if k not in values]
    if missing:
        raise ValueError(f"law file {path} lacks Chinchilla constants {missing}")
    return ChinchillaParams(*(float(values[k]) for k in ChinchillaParams._fields))
