"""Caption losses: cross-entropy and self-critical REINFORCE (Rennie et al. 2017), as GXN uses.

The paper mixes them as (1 − γ)·XE + γ·RL with γ rising over training.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

PAD = 0


def caption_xe(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Token-level cross-entropy: logits (B, T, V), targets (B, T) with 0 = padding (ignored)."""
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), ignore_index=PAD)


def self_critical(logprobs: torch.Tensor, tokens: torch.Tensor, reward: torch.Tensor,
                  baseline: torch.Tensor) -> torch.Tensor:
    """REINFORCE with the greedy decode's reward as baseline.

    logprobs, tokens: (B, L) of the sampled captions (tokens 0 after the end);
    reward, baseline: (B,) CIDEr-D of the sample and of the greedy caption.
    The loss is −(r − b)·Σ log p(w), averaged over the caption's tokens.
    """
    mask = (tokens != PAD).float()
    mask[:, 0] = 1.0  # an immediate <eos> still counts as one decision
    advantage = (reward - baseline).detach()
    return -(advantage[:, None] * logprobs * mask).sum() / mask.sum()
