"""FLOP and parameter models of dense transformers, as pure JAX functions.

Sources: Kaplan et al. 2020; Hoffmann et al. 2022, App. F; DeepSeek LLM 2024.

- Standard: training FLOPs C = 6·N·D (forward 2N + backward 4N per token); inference 2N/token.
- Kaplan et al. 2020: non-embedding parameters N ≈ 12·n_layer·d_model² and forward FLOPs per
  token 2N + 2·n_layer·n_ctx·d_model.
- Hoffmann et al. 2022 (Chinchilla), Appendix F: the full forward count of one sequence from
  the architecture, backward = 2 × forward.
- DeepSeek LLM 2024: non-embedding FLOPs per token
  M = 72·n_layer·d_model² + 12·n_layer·d_model·l_seq.
- Pearce & Song 2024: total = N_nonemb + ω·N_nonemb^(1/3) parameters, ω ≈ 47491.

Every function broadcasts over array arguments and is jit/vmap/grad-able.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax.numpy as jnp

from scaling_jax._precision import float64_call

Array = Any

__all__ = [
    "PF_DAY_FLOPS",
    "Architecture",
    "CHINCHILLA_70B",
    "GOPHER_280B",
    "PEARCE_SONG_OMEGA",
    "training_flops",
    "inference_flops_per_token",
    "kaplan_nonembedding_params",
    "kaplan_forward_flops_per_token",
    "architecture_params",
    "chinchilla_forward_flops",
    "chinchilla_training_flops",
    "deepseek_flops_per_token",
    "deepseek_training_flops",
    "total_from_nonembedding",
    "nonembedding_from_total",
]

PF_DAY_FLOPS = 8.64e19  # 1 petaflop/s-day: 1e15 FLOP/s × 86400 s (Kaplan et al. 2020)

# Pearce & Song 2024 fit of total vs non-embedding parameters for Kaplan-style models.
PEARCE_SONG_OMEGA = 47491.0


class Architecture(NamedTuple):
    """A dense decoder-only transformer, as parametrized in Chinchilla Appendix F.

    Attributes:
      n_layer: number of transformer blocks.
      d_model: residual width.
      n_heads: attention heads.
      key_size: per-head key/query/value size (k).
      d_ff: feed-forward hidden width (f).
      vocab: vocabulary size (V).
      seq_len: training sequence length in tokens (s).
    """

    n_layer: Array
    d_model: Array
    n_heads: Array
    key_size: Array
    d_ff: Array
    vocab: Array
    seq_len: Array


# Layers, heads, key size and width are Chinchilla's Table 4; the paper does not list d_ff,
# vocabulary or sequence length there, so we fill d_ff = 4·d_model, vocab = 32000 and
# seq_len = 2048 (the values it uses elsewhere). With them the parameter count comes out at
# ~64.7B for "70B" and ~259B for "280B": the presets are for FLOP arithmetic, not exact sizes.
CHINCHILLA_70B = Architecture(80, 8192, 64, 128, 4 * 8192, 32000, 2048)
GOPHER_280B = Architecture(80, 16384, 128, 128, 4 * 16384, 32000, 2048)


@float64_call
def training_flops(N: Array, D: Array) -> Array:
    """Training FLOPs ≈ 6·N·D for N parameters and D tokens (forward 2N + backward 4N)."""
    return 6.0 * jnp.asarray(N) * jnp.asarray(D)


def inference_flops_per_token(N: Array) -> Array:
    """Inference (forward-only) FLOPs per token ≈ 2·N for N parameters."""
    return 2.0 * jnp.asarray(N)


def kaplan_nonembedding_params(n_layer: Array, d_model: Array) -> Array:
    """Kaplan's non-embedding parameters 12·n_layer·d_model² (d_attn = d_model, d_ff = 4d)."""
    d_model = jnp.asarray(d_model, dtype=float)
    return 12.0 * n_layer * d_model**2


def kaplan_forward_flops_per_token(N: Array, n_layer: Array, n_ctx: Array, d_model: Array) -> Array:
    """Kaplan's forward FLOPs per token, 2·N + 2·n_layer·n_ctx·d_model (N non-embedding).

    The second term is the attention over a context of n_ctx tokens; training costs ~3× this.
    """
    return 2.0 * jnp.asarray(N) + 2.0 * n_layer * jnp.asarray(n_ctx, dtype=float) * d_model


def architecture_params(arch: Architecture, embeddings: bool = True) -> Array:
    """Parameters of `arch`: per block 4·d·(k·H) attention + 2·d·f dense weights, plus V·d.

    With ``embeddings=False`` the (tied) V·d embedding matrix is left out; biases and layer norms
    are negligible and not counted.
    """
    L, d, H, k, f, V, _ = (jnp.asarray(x, dtype=float) for x in arch)
    nonemb = L * (4.0 * d * k * H + 2.0 * d * f)
    return nonemb + V * d if embeddings else nonemb


def chinchilla_forward_flops(arch: Architecture, embeddings: bool = True) -> Array:
    """Forward FLOPs of one sequence of ``arch.seq_len`` tokens (Chinchilla Appendix F).

    ``embeddings=True`` counts the input embedding (2·s·V·d) and final logits (2·s·d·V) matmuls
    as the paper does; ``embeddings=False`` leaves both out (the blocks only).
    """
    L, d, H, k, f, V, s = (jnp.asarray(x, dtype=float) for x in arch)
    kh = k * H
    attention = (
        2.0 * 3.0 * s * d * kh  # Q, K, V projections
        + 2.0 * s * s * kh  # key·query logits
        + 3.0 * H * s * s  # softmax
        + 2.0 * s * s * kh  # softmax·value reduction
        + 2.0 * s * kh * d  # output projection
    )
    dense = 2.0 * s * (d * f + d * f)
    blocks = L * (attention + dense)
    if not embeddings:
        return blocks
    return 2.0 * s * V * d + blocks + 2.0 * s * d * V


def chinchilla_training_flops(arch: Architecture, tokens: Array, embeddings: bool = True) -> Array:
    """Training FLOPs for `tokens` tokens: 3 × forward (backward = 2 × forward), per App. F."""
    per_token = chinchilla_forward_flops(arch, embeddings) / jnp.asarray(arch.seq_len, dtype=float)
    return 3.0 * per_token * jnp.asarray(tokens)


def deepseek_flops_per_token(n_layer: Array, d_model: Array, seq_len: Array) -> Array:
    """DeepSeek's non-embedding training FLOPs per token M = 72·n_layer·d² + 12·n_layer·d·l_seq."""
    d_model = jnp.asarray(d_model, dtype=float)
    return 72.0 * n_layer * d_model**2 + 12.0 * n_layer * d_model * seq_len


def deepseek_training_flops(M: Array, D: Array) -> Array:
    """DeepSeek's training compute C = M·D (M FLOPs/token, D tokens)."""
    return jnp.asarray(M) * jnp.asarray(D)


def total_from_nonembedding(n_nonemb: Array, omega: Array = PEARCE_SONG_OMEGA) -> Array:
    """Total parameters from non-embedding ones: N_T = N_E + ω·N_E^(1/3) (Pearce & Song 2024)."""
    n_nonemb = jnp.asarray(n_nonemb, dtype=float)
    return n_nonemb + omega * jnp.cbrt(n_nonemb)


def nonembedding_from_total(n_total: Array, omega: Array = PEARCE_SONG_OMEGA) -> Array:
    """Inverse of `total_from_nonembedding`: the N_E ≥ 0 with N_E + ω·N_E^(1/3) = n_total.

    With y = N_E^(1/3) this is the depressed cubic y³ + ω·y − N_T = 0, which has exactly one real
    root for ω > 0. Cardano's formula in the form y = u − ω/(3u) avoids the cancellation of the
    textbook form; two Newton steps then polish it to full float64 precision. Vectorized.
    """
    T = jnp.asarray(n_total, dtype=float)
    p = jnp.asarray(omega, dtype=float)
    u = jnp.cbrt(T / 2.0 + jnp.sqrt(T**2 / 4.0 + (p / 3.0) ** 3))
    y = jnp.where(u > 0, u - p / (3.0 * jnp.where(u > 0, u, 1.0)), 0.0)
    for _ in range(2):
        y = y - (y**3 + p * y - T) / (3.0 * y**2 + p)
    return y**3
