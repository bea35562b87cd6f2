"""Published constants of the Chinchilla-form law (loss in nats/token).

- `CHINCHILLA_2022`: Hoffmann et al. 2022, Approach 3, as usually quoted (rounded).
- `EPOCH_2024`: Besiroglu et al. 2024 (Epoch AI), grid refit of the summed Huber objective on
  the 240 filtered points -- the fit `scaling_jax.fit` reproduces.
- `EPOCH_2024_HEADLINE`: Epoch's headline estimate (Huber likelihood with a free scale).
- `SARDANA_2024`: the constants Sardana et al. 2024 ("Beyond Chinchilla-Optimal") use.
- `MUENNIGHOFF_2023`: the data-constrained law of Muennighoff et al. 2023 (a
  `DataConstrainedParams`; A, B, E are exp of the authors' stored logs 6.255414, 7.3049974,
  0.6254804, i.e. A = 520.82495, B = 1487.7161, E = 1.86914 rounded; alpha = beta = 0.3526596,
  R_D* = 15.387756, R_N* = 5.309743). Its ``.base`` is the Chinchilla-form part.
- `KAPLAN_2020_ND`: Kaplan et al. 2020's joint L(N, D) fit (a `KaplanNDParams`).

`PRESETS` and `resolve_params` cover the Chinchilla-form presets only.
"""

from __future__ import annotations

from scaling_jax.laws import (
    _MUENNIGHOFF_2023,
    ChinchillaParams,
    DataConstrainedParams,
    KaplanNDParams,
)

__all__ = [
    "CHINCHILLA_2022",
    "EPOCH_2024",
    "EPOCH_2024_HEADLINE",
    "SARDANA_2024",
    "MUENNIGHOFF_2023",
    "KAPLAN_2020_ND",
    "PRESETS",
    "resolve_params",
]

CHINCHILLA_2022 = ChinchillaParams(A=406.4, B=410.7, E=1.69, alpha=0.34, beta=0.28)
EPOCH_2024 = ChinchillaParams(A=477.8, B=2143.0, E=1.8172, alpha=0.3473, beta=0.3672)
EPOCH_2024_HEADLINE = ChinchillaParams(A=482.01, B=2085.43, E=1.8169, alpha=0.3478, beta=0.3658)
SARDANA_2024 = ChinchillaParams(A=406.4, B=410.7, E=1.69, alpha=0.336, beta=0.283)
# Defined beside the law (laws.py) because the registered frozen-base law needs it.
MUENNIGHOFF_2023: DataConstrainedParams = _MUENNIGHOFF_2023
KAPLAN_2020_ND = KaplanNDParams(N_c=6.4e13, D_c=1.8e13, alpha_N=0.076, alpha_D=0.103)

PRESETS: dict[str, ChinchillaParams] = {
    "chinchilla_2022": CHINCHILLA_2022,
    "epoch_2024": EPOCH_2024,
    "epoch_2024_headline": EPOCH_2024_HEADLINE,
    "sardana_2024": SARDANA_2024,
}


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
