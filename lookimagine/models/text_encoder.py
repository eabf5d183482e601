"""Look, text side: two GRU encoders over shared word embeddings.

Paper: a bidirectional GRU gives the abstract t_h; a unidirectional GRU gives
the grounded t_l, whose per-word states also feed the text→image branch.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence


class TextEncoder(nn.Module):
    """tokens (B, T), lengths (B,) → t_h (B, E), t_l (B, E), states (B, T, H), mask (B, T)."""

    def __init__(self, vocab_size: int, word_dim: int, hidden: int, embed_dim: int, dropout: float = 0.1) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab_size, word_dim, padding_idx=0)
        self.dropout = nn.Dropout(dropout)
        self.gru_h = nn.GRU(word_dim, hidden // 2, batch_first=True, bidirectional=True)
        self.gru_l = nn.GRU(word_dim, hidden, batch_first=True)
        self.head_h = nn.Linear(hidden, embed_dim)
        self.head_l = nn.Linear(hidden, embed_dim)

    def forward(self, tokens: torch.Tensor, lengths: torch.Tensor):
        words = self.dropout(self.embed(tokens))  # (B, T, W)
        lengths_cpu = lengths.clamp(min=1).cpu()
        packed = pack_padded_sequence(words, lengths_cpu, batch_first=True, enforce_sorted=False)
        _, last_h = self.gru_h(packed)  # (2, B, H/2): final forward and backward states
        t_h = self.head_h(torch.cat([last_h[0], last_h[1]], dim=-1))
        states, last_l = self.gru_l(packed)
        states, _ = pad_packed_sequence(states, batch_first=True, total_length=tokens.shape[1])  # (B, T, H)
        t_l = self.head_l(last_l[0])
        mask = torch.arange(tokens.shape[1], device=tokens.device)[None, :] < lengths[:, None]
        return t_h, t_l, states, mask
