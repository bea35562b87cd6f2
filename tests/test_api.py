"""The public API: a small `__all__`, and old top-level names that still work but warn."""

from __future__ import annotations

import types

import pytest

import scaling_jax as sj


def test_all_is_small_and_holds_no_modules():
    assert len(sj.__all__) <= 40
    assert len(set(sj.__all__)) == len(sj.__all__)
    for name in sj.__all__:
        obj = getattr(sj, name)  # exists, and without a warning (filterwarnings = error)
        assert not isinstance(obj, types.ModuleType), name
        assert name not in sj._DEPRECATED, name


def test_subpackages_stay_reachable_without_warning():
    for name in ("laws", "fitting", "sizing", "presets", "flops", "data", "synthetic"):
        assert isinstance(getattr(sj, name), types.ModuleType), name
    assert pytest.approx(1.69) == sj.presets.CHINCHILLA_2022.E


@pytest.mark.parametrize("name", sorted(sj._DEPRECATED))
def test_deprecated_name_warns_names_replacement_and_works(name):
    module, attr = sj._DEPRECATED[name]
    with pytest.warns(DeprecationWarning, match=rf"scaling_jax\.{name} is deprecated.*use "):
        old = getattr(sj, name)
    import importlib

    new = importlib.import_module(module)
    assert old is (new if attr is None else getattr(new, attr))


def test_deprecated_from_import_warns():
    with pytest.warns(DeprecationWarning, match="scaling_jax.fitting.objective.huber"):
        from scaling_jax import huber
    assert float(huber(0.5, 1.0)) == pytest.approx(0.125)


def test_deprecated_module_alias_still_usable():
    with pytest.warns(DeprecationWarning, match="scaling_jax.sizing.lifetime"):
        lt = sj.lifetime
    opt = lt.lifetime_optimal(sj.presets.SARDANA_2024, 2.1, 1e12)
    assert float(opt.N) > 0


def test_unknown_name_raises_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'not_a_name'"):
        sj.not_a_name  # noqa: B018
