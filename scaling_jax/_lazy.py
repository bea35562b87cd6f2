"""Lazy re-exports for a package ``__init__``: names load their module on first use, so importing
the package stays cheap (no JAX work, no plotting) until something is called."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(
    package: str, namespace: dict[str, Any], exports: Mapping[str, str], public: list[str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """Module ``__getattr__`` and ``__dir__`` for `package`: ``exports`` maps a name to the
    relative module defining it; a loaded name is cached in the package's `namespace`."""

    def module_getattr(name: str) -> Any:
        if name in exports:
            value = getattr(importlib.import_module(exports[name], package), name)
            namespace[name] = value
            return value
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def module_dir() -> list[str]:
        return sorted(set(namespace) | set(public))

    return module_getattr, module_dir
