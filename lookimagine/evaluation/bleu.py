"""Corpus BLEU-1..4 as coco-caption computes it (pycocoevalcap ``Bleu``).

BLEU (Papineni et al., ACL 2002): modified n-gram precision ``p_k`` — each
candidate n-gram count clipped by its largest count in any one reference —
combined as ``BLEU-K = BP · (Π_{k≤K} p_k)^(1/K)`` with brevity penalty
``BP = exp(1 − r/c)`` when ``c < r``.

pycocoevalcap 1.2 (``pycocoevalcap/bleu/bleu_scorer.py``, from David
Chiang's scorer) specifics, all reproduced here:

* corpus score: clipped matches and guesses are summed over the corpus
  before dividing; ``c`` is the total candidate length and ``r`` the sum of
  each item's *closest* reference length (``option="closest"``; on equal
  distance the shorter reference wins);
* smoothing constants: ``p_k = (correct + 1e-15) / (guess + 1e-9)`` and the
  ratio ``(c + 1e-15) / (r + 1e-9)``, so an empty match gives ~0, not an error;
* per-item scores use the same formula on one sentence (with that item's BP).

Sentences are already tokenised (whitespace-split strings or token lists);
see :func:`lookimagine.evaluation.cider.simple_tokenize`.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["BleuScores", "corpus_bleu"]

_TINY, _SMALL = 1e-15, 1e-9  # pycocoevalcap's constants


@dataclass(frozen=True)
class BleuScores:
    """corpus:   (n,) BLEU-1..n of the whole corpus.
    per_item: (N, n) BLEU-1..n of each candidate alone.
    ratio:    total candidate length / total effective reference length.

    Indexing and iterating go over ``corpus`` (``scores[3]`` is BLEU-4), like
    the list pycocoevalcap returns.
    """

    corpus: np.ndarray
    per_item: np.ndarray
    ratio: float

    def __getitem__(self, k: int) -> float:
        return float(self.corpus[k])

    def __iter__(self):
        return (float(v) for v in self.corpus)

    def __len__(self) -> int:
        return len(self.corpus)

    def to_dict(self) -> dict:
        return {f"bleu{k + 1}": float(v) for k, v in enumerate(self.corpus)}


def _ngrams(words: list[str], n: int) -> Counter:
    return Counter(tuple(words[i : i + k]) for k in range(1, n + 1) for i in range(len(words) - k + 1))


def _words(sentence) -> list[str]:
    return sentence.split() if isinstance(sentence, str) else list(sentence)


def _bleu(correct: np.ndarray, guess: np.ndarray, test_len: float, ref_len: float) -> np.ndarray:
    """BLEU-1..n from clipped matches and guesses (each (n,))."""
    precisions = (correct + _TINY) / (guess + _SMALL)
    k = np.arange(1, correct.size + 1)
    scores = np.cumprod(precisions) ** (1.0 / k)
    ratio = (test_len + _TINY) / (ref_len + _SMALL)
    if ratio < 1:
        scores = scores * math.exp(1 - 1 / ratio)
    return scores


def corpus_bleu(candidates: Sequence, refs: Sequence[Sequence], n: int = 4) -> BleuScores:
    """BLEU-1..n of ``candidates`` (N sentences) against ``refs`` (N lists of references)."""
    if len(candidates) != len(refs):
        raise ValueError(f"{len(candidates)} candidates but {len(refs)} reference sets")
    if len(candidates) == 0:
        raise ValueError("no candidates to score")
    correct = np.zeros((len(candidates), n))
    guess = np.zeros((len(candidates), n))
    test_lens, ref_lens = np.zeros(len(candidates)), np.zeros(len(candidates))
    for i, (cand, item_refs) in enumerate(zip(candidates, refs)):
        if len(item_refs) == 0:
            raise ValueError(f"item {i} has no references")
        words = _words(cand)
        max_ref = Counter()
        lens = []
        for ref in item_refs:
            ref_words = _words(ref)
            lens.append(len(ref_words))
            max_ref |= _ngrams(ref_words, n)  # elementwise max of counts
        for gram, count in _ngrams(words, n).items():
            correct[i, len(gram) - 1] += min(count, max_ref[gram])
        guess[i] = [max(0, len(words) - k + 1) for k in range(1, n + 1)]
        test_lens[i] = len(words)
        ref_lens[i] = min(lens, key=lambda length: (abs(length - len(words)), length))  # closest, shorter on ties
    per_item = np.stack([_bleu(correct[i], guess[i], test_lens[i], ref_lens[i]) for i in range(len(candidates))])
    corpus = _bleu(correct.sum(0), guess.sum(0), test_lens.sum(), ref_lens.sum())
    ratio = (test_lens.sum() + _TINY) / (ref_lens.sum() + _SMALL)
    return BleuScores(corpus=corpus, per_item=per_item.reshape(len(candidates), n), ratio=float(ratio))
