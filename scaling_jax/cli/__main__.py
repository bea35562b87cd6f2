"""``python -m scaling_jax.cli``: the same entry point as the ``scaling-jax`` command."""

from . import main

raise SystemExit(main())
