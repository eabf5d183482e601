"""Look, image side: a small CNN and the two heads v_h (abstract) and v_l (grounded).

The paper uses one ResNet-152 feature (2048-d, mean-pooled) under two linear
maps. The pocket tier keeps that shape — one CNN feature, two linear heads —
with a CNN small enough to train from scratch on a 2-core CPU.
"""

from __future__ import annotations

import torch
from torch import nn


def conv_block(c_in: int, c_out: int) -> nn.Sequential:
    """3×3 conv, then a strided 3×3 conv that halves the resolution; BN + ReLU after each."""
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, 3, padding=1, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU(inplace=True),
        nn.Conv2d(c_out, c_out, 3, stride=2, padding=1, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU(inplace=True),
    )


class AttentionPool(nn.Module):
    """(B, C, h, w) → (B, C): one learned query attends over the map's positions, each carrying a learned
    position embedding (as CLIP's ``AttentionPool2d``), so the pooled feature keeps *where* as well as *what*."""

    def __init__(self, channels: int, positions: int, heads: int = 4) -> None:
        super().__init__()
        self.position = nn.Parameter(torch.randn(positions, channels) * 0.02)  # (h·w, C)
        self.query = nn.Parameter(torch.randn(1, 1, channels) * 0.02)
        self.attention = nn.MultiheadAttention(channels, heads, batch_first=True)

    def forward(self, fmap: torch.Tensor) -> torch.Tensor:
        tokens = fmap.flatten(2).transpose(1, 2) + self.position  # (B, h·w, C)
        query = self.query + tokens.mean(dim=1, keepdim=True)  # (B, 1, C)
        pooled, _ = self.attention(query, tokens, tokens, need_weights=False)
        return pooled[:, 0]


class ImageEncoder(nn.Module):
    """(B, 3, H, W) in [-1, 1] → v_h, v_l, each (B, embed_dim), not yet normalised.

    A strided 4×4 stem halves the input first (64 → 32): it cuts the cost of
    the first, widest layers by 4× on the CPU; each block then halves again.
    """

    def __init__(self, channels: tuple[int, ...], embed_dim: int, dropout: float = 0.1, pool: str = "mean",
                 image_size: int = 64) -> None:
        super().__init__()
        c0 = channels[0]
        blocks = [nn.Sequential(nn.Conv2d(3, c0, 4, stride=2, padding=1, bias=False), nn.BatchNorm2d(c0),
                                nn.ReLU(inplace=True))]
        c_in = c0
        for c in channels:
            blocks.append(conv_block(c_in, c))
            c_in = c
        self.cnn = nn.Sequential(*blocks)
        self.pool = pool
        side = image_size // 2 ** (len(channels) + 1)  # the stem and every block halve the map
        features = c_in * side * side if pool == "flatten" else c_in
        self.attention_pool = AttentionPool(c_in, side * side) if pool == "attention" else None
        self.dropout = nn.Dropout(dropout)
        self.head_h = nn.Linear(features, embed_dim)  # abstract
        self.head_l = nn.Linear(features, embed_dim)  # grounded

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        fmap = self.cnn(images)  # (B, C, h, w)
        # (B, C): mean-pooled, as the paper does; (B, C·h·w): every position kept; (B, C): attention-pooled
        # with position embeddings
        if self.pool == "flatten":
            feature = fmap.flatten(1)
        elif self.pool == "attention":
            feature = self.attention_pool(fmap)
        else:
            feature = fmap.mean(dim=(2, 3))
        feature = self.dropout(feature)
        return self.head_h(feature), self.head_l(feature)
