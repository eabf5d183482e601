"""Imagine, image → text: a one-layer GRU decoder conditioned on v_l (paper §3.2).

Every step sees the previous word and v_l; the initial state is a map of v_l.
Training uses teacher forcing with scheduled sampling (``forward``); RL and
inference use ``sample`` (greedy or multinomial) and ``beam_search``.
Token ids follow ``Vocabulary``: 0 <pad>, 1 <bos>, 2 <eos>.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

PAD, BOS, EOS = 0, 1, 2


class CaptionDecoder(nn.Module):
    def __init__(self, vocab_size: int, word_dim: int, hidden: int, embed_dim: int, dropout: float = 0.1) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab_size, word_dim, padding_idx=PAD)
        self.init_h = nn.Linear(embed_dim, hidden)
        self.cell = nn.GRUCell(word_dim + embed_dim, hidden)
        self.dropout = nn.Dropout(dropout)
        self.out = nn.Linear(hidden, vocab_size)

    def _step(self, words: torch.Tensor, v: torch.Tensor, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """words (B,), v (B, E), h (B, H) → logits (B, V), new h."""
        h = self.cell(torch.cat([self.embed(words), v], dim=-1), h)
        return self.out(self.dropout(h)), h

    def forward(self, v: torch.Tensor, tokens: torch.Tensor, ss_prob: float = 0.0,
                generator: torch.Generator | None = None) -> torch.Tensor:
        """Teacher-forced logits for tokens[:, 1:]: v (B, E), tokens (B, T) → (B, T−1, V).

        With probability ``ss_prob`` per position, the input word is the model's
        own greedy prediction instead of the true word (scheduled sampling).
        """
        h = torch.tanh(self.init_h(v))
        words = tokens[:, 0]
        logits = []
        for step in range(tokens.shape[1] - 1):
            step_logits, h = self._step(words, v, h)
            logits.append(step_logits)
            words = tokens[:, step + 1]
            if ss_prob > 0:
                own = step_logits.detach().argmax(-1)
                use_own = torch.rand(words.shape, generator=generator, device=words.device) < ss_prob
                words = torch.where(use_own & (words != PAD), own, words)
        return torch.stack(logits, dim=1)

    def sample(self, v: torch.Tensor, max_len: int, greedy: bool = True,
               generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Decode from v (B, E) → tokens (B, L) (without <bos>, padded after <eos>) and their log-probs (B, L)."""
        batch = v.shape[0]
        h = torch.tanh(self.init_h(v))
        words = torch.full((batch,), BOS, dtype=torch.long, device=v.device)
        finished = torch.zeros(batch, dtype=torch.bool, device=v.device)
        tokens, logprobs = [], []
        for _ in range(max_len):
            step_logits, h = self._step(words, v, h)
            logp = F.log_softmax(step_logits, dim=-1)
            if greedy:
                words = logp.argmax(-1)
            else:
                words = torch.multinomial(logp.exp(), 1, generator=generator).squeeze(1)
            step_logp = logp.gather(1, words[:, None]).squeeze(1)
            words = words.masked_fill(finished, PAD)
            tokens.append(words)
            logprobs.append(step_logp.masked_fill(finished, 0.0))
            finished = finished | (words == EOS)
            if bool(finished.all()):
                break
        return torch.stack(tokens, 1), torch.stack(logprobs, 1)

    @torch.no_grad()
    def beam_search(self, v: torch.Tensor, max_len: int, beam: int = 3) -> torch.Tensor:
        """Beam search per image: v (B, E) → tokens (B, L), the best beam by total log-prob."""
        results = []
        for i in range(v.shape[0]):
            vi = v[i:i + 1].expand(beam, -1)
            h = torch.tanh(self.init_h(vi))
            words = torch.full((beam,), BOS, dtype=torch.long, device=v.device)
            scores = torch.zeros(beam, device=v.device)
            scores[1:] = float("-inf")  # all beams start identical: keep one alive
            seqs = torch.zeros(beam, 0, dtype=torch.long, device=v.device)
            done: list[tuple[float, list[int]]] = []
            for _ in range(max_len):
                step_logits, h = self._step(words, vi, h)
                total = scores[:, None] + F.log_softmax(step_logits, -1)  # (beam, V)
                top, flat = total.view(-1).topk(beam)
                origin, words = flat // total.shape[1], flat % total.shape[1]
                seqs = torch.cat([seqs[origin], words[:, None]], dim=1)
                h, scores = h[origin], top
                for b in range(beam):
                    if words[b] == EOS and scores[b] > float("-inf"):
                        done.append((scores[b].item(), seqs[b].tolist()))
                        scores[b] = float("-inf")
                if len(done) >= beam or bool(torch.isinf(scores).all()):
                    break
            if not done:
                best = int(scores.argmax())
                done.append((scores[best].item(), seqs[best].tolist()))
            results.append(max(done, key=lambda d: d[0])[1])
        width = max(len(r) for r in results)
        return torch.tensor([r + [PAD] * (width - len(r)) for r in results], dtype=torch.long, device=v.device)
