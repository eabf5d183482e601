"""CIDEr-D, vectorised with numpy, equal to pycocoevalcap's ``Cider``.

Formula (Vedantam, Zitnick, Parikh, "CIDEr: Consensus-based Image Description
Evaluation", CVPR 2015 / arXiv 1411.5726: CIDEr, and its CIDEr-D variant
that the coco-caption server reports), for a candidate ``c`` with references
``s_1..s_m``::

    g_k(x)[w]  = tf_x(w) · (log |D| − log max(1, df(w)))       for every k-gram w of x
    CIDEr-D_k  = 10/m · Σ_j exp(−(l(c) − l(s_j))² / (2σ²))
                      · Σ_w min(g_k(c)[w], g_k(s_j)[w]) · g_k(s_j)[w] / (‖g_k(c)‖ ‖g_k(s_j)‖)
    CIDEr-D    = mean over k = 1..4 of CIDEr-D_k,   σ = 6

``D`` is the set of *reference sets* (one per image) and ``df(w)`` the number
of those sets in which ``w`` appears in any reference. A norm of 0 leaves the
(necessarily zero) dot product undivided.

What pycocoevalcap 1.2 (``pycocoevalcap/cider/cider_scorer.py``) does, read
from its source — its ``Cider`` *is* CIDEr-D, the same computation as
``vrama91/cider``'s ``ciderD_scorer.py`` in ``df_mode="corpus"``:

* clipping ``min(g(c), g(s))·g(s)`` and the Gaussian length penalty with
  σ = 6 are both applied (comments "vrama91: added clipping" / "added a
  length based gaussian penalty"), then mean over n, ÷ m, × 10;
* ``df`` and ``|D|`` come from the references of the evaluated set itself
  (``log |D|`` = log of the number of images scored);
* n-grams absent from the references get ``df = 1`` via ``max(1, df)``, i.e.
  idf = ``log |D|``; they only enlarge the candidate's norm;
* the "length" ``l(x)`` it uses is the count of **bigrams**
  (``if n == 1: length += term_freq`` with ``n = len(ngram) - 1``), i.e.
  ``max(len(words) − 1, 0)``, not the word count. This equals the word-count
  difference except when one side is empty; we reproduce it exactly.

The original CIDEr (without "-D") has neither clipping nor the length penalty
and used stemming; nothing in this package computes it.

Two entry points:

* :func:`corpus_cider` — pycocoevalcap's behaviour (df from the given refs).
* :class:`CiderD` — for self-critical RL (Rennie et al., 2017; GXN's reward):
  df and ``|D|`` are computed once from the *training* references (as
  ``ruotianluo``'s ``coco-train-idxs`` df), reference vectors are cached, and
  :meth:`CiderD.score` scores a batch of candidates against the references of
  given training items with array operations only.

Sentences are **already tokenised**: a string is split on whitespace, a list
of tokens is used as is. Use :func:`simple_tokenize` (lower-case, PTB-style
punctuation removal) on raw captions first, as coco-caption runs its
PTBTokenizer before scoring.

Implementation: every distinct k-gram of the reference corpus gets an integer
id. Ids are built one order at a time: a k-gram's code is
``id(prefix (k−1)-gram) · base + id(last word)`` and looked up with
``np.searchsorted`` in the sorted codes of the corpus, so candidate n-grams
are mapped without Python dict loops. Candidate n-grams unseen in the corpus
get fresh ids (they never match a reference but count in the norm).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

__all__ = ["CiderD", "corpus_cider", "simple_tokenize"]

Sentence = str | Sequence[str]

# Unknown candidate words get ids W, W+1, ...; codes use a base large enough for them.
_MAX_UNKNOWN_WORDS = 1 << 20

# Tokens coco-caption's PTBTokenizer wrapper removes after tokenising
# (pycocoevalcap/tokenizer/ptbtokenizer.py, PUNCTUATIONS), plus bracket/quote forms.
_PUNCTUATION = {"''", "'", "``", "`", '"', ".", "?", "!", ",", ":", "-", "--", "...", ";",
                "(", ")", "[", "]", "{", "}"}
_TOKEN_RE = re.compile(r"[a-z0-9]+(?:[-'./&][a-z0-9]+)*'?|\.\.\.|--|\S")
_CLITIC_RE = re.compile(r"^(.+?)(n't|'s|'re|'ve|'ll|'d|'m)$")


def simple_tokenize(text: str) -> str:
    """Lower-case and tokenise like coco-caption's PTB step, for simple English.

    Splits punctuation off words, splits clitics the PTB way
    (``"don't" → "do n't"``, ``"man's" → "man 's"``), keeps intra-word hyphens
    and decimals (``"black-and-white"``, ``"3.5"``), and drops the punctuation
    tokens coco-caption drops. An approximation of Stanford's PTBTokenizer
    (no Java needed), exact for ordinary captions.

    >>> simple_tokenize("A man's dog, running (fast)!")
    "a man 's dog running fast"
    """
    tokens = []
    for tok in _TOKEN_RE.findall(text.lower()):
        m = _CLITIC_RE.match(tok)
        parts = [m.group(1), m.group(2)] if m else [tok]
        tokens.extend(p for p in parts if p not in _PUNCTUATION)
    return " ".join(tokens)


def _words(sentence: Sentence) -> list[str]:
    return sentence.split() if isinstance(sentence, str) else list(sentence)


def _segment_ranges(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Concatenate ``range(s, s + c)`` for each (s, c) without a Python loop."""
    total = int(counts.sum())
    offsets = np.repeat(np.cumsum(counts) - counts, counts)
    return np.repeat(starts, counts) + (np.arange(total) - offsets)


class CiderD:
    """CIDEr-D with document frequencies fixed by a reference corpus.

    refs: one entry per item (image): its reference sentences, each a
          whitespace-tokenised string or a list of tokens.
    n:    maximal n-gram order (4). sigma: length-penalty width (6).

    ``CiderD(refs).score(candidates, np.arange(len(refs)))`` equals
    pycocoevalcap's ``Cider().compute_score`` on the same data; with training
    references it is the self-critical reward of the GXN paper's i2t branch.
    """

    def __init__(self, refs: Sequence[Sequence[Sentence]], n: int = 4, sigma: float = 6.0):
        if n < 1:
            raise ValueError("n must be >= 1")
        if len(refs) == 0:
            raise ValueError("refs is empty")
        self.n, self.sigma = n, float(sigma)
        n_refs = np.array([len(r) for r in refs], dtype=np.int64)
        if n_refs.min() == 0:
            raise ValueError("every item needs at least one reference sentence")
        self.n_items = len(refs)
        self._item_ptr = np.concatenate([[0], np.cumsum(n_refs)])  # (I+1,) item → its ref sentences

        # 1. word ids over the whole reference corpus
        self._word_id: dict[str, int] = {}
        sentences = [_words(s) for r in refs for s in r]
        words = np.array(
            [self._word_id.setdefault(w, len(self._word_id)) for s in sentences for w in s], dtype=np.int64
        )
        lengths = np.array([len(s) for s in sentences], dtype=np.int64)
        self._n_words = len(self._word_id)
        self._base = self._n_words + _MAX_UNKNOWN_WORDS

        # 2. n-gram ids, one order at a time (codes_k sorted; id = offset_k + position)
        self._codes: list[np.ndarray] = []
        self._offsets = [0]
        gids, _, sent_of = self._ngram_ids(words, lengths, build=True)
        self._n_ngrams = self._offsets[-1]
        if self._n_ngrams == 0:
            raise ValueError("the references contain no words")

        # 3. document frequency over items, idf = log|D| - log(df)
        item_of_sent = np.repeat(np.arange(self.n_items), n_refs)
        item_gid = np.unique(item_of_sent[sent_of] * self._n_ngrams + gids)
        df = np.bincount(item_gid % self._n_ngrams, minlength=self._n_ngrams)
        self.ref_len = float(np.log(float(self.n_items)))  # log |D|
        self._idf = self.ref_len - np.log(np.maximum(df, 1.0))  # (V,)

        # 4. cached reference vectors in CSR form: sentence → (n-gram id, tf); compact dtypes
        #    because a COCO-size corpus has ~2e7 entries
        keys, tf = np.unique(sent_of * self._n_ngrams + gids, return_counts=True)
        n_sent = len(sentences)
        ref_sent, ref_gid = keys // self._n_ngrams, keys % self._n_ngrams
        self._ref_gid = ref_gid.astype(np.int32 if self._n_ngrams < 2**31 else np.int64)
        self._ref_tf = tf.astype(np.float32)  # small integers, exact in float32
        self._sent_ptr = np.searchsorted(ref_sent, np.arange(n_sent + 1))  # (S+1,)
        ref_val = tf * self._idf[ref_gid]
        self._ref_norm = self._norms(ref_sent, self._order_of(ref_gid), ref_val, n_sent)  # (S, n)
        self._ref_length = self._length(lengths)  # (S,)

    # -- n-gram ids ---------------------------------------------------------

    def _order_of(self, gids: np.ndarray) -> np.ndarray:
        """0-based n-gram order of corpus ids (unknown ids are handled by the caller)."""
        return np.searchsorted(np.asarray(self._offsets), gids, side="right") - 1

    def _length(self, lengths: np.ndarray) -> np.ndarray:
        # pycocoevalcap's length is the number of bigrams (see module docstring).
        return np.maximum(lengths - 1, 0) if self.n >= 2 else np.zeros_like(lengths)

    def _norms(self, rows: np.ndarray, orders: np.ndarray, values: np.ndarray, n_rows: int) -> np.ndarray:
        sq = np.bincount(rows * self.n + orders, weights=values**2, minlength=n_rows * self.n)
        return np.sqrt(sq).reshape(n_rows, self.n)

    def _ngram_ids(self, words: np.ndarray, lengths: np.ndarray, build: bool):
        """Ids of all n-gram occurrences of concatenated sentences.

        words: (T,) word ids; lengths: (S,) words per sentence.
        Returns (gids, orders, sentence), each (occurrences,) int64, orders
        0-based. With ``build`` the corpus tables are created; otherwise
        n-grams unseen in the corpus get ids ``V, V+1, …`` (one per distinct
        n-gram, so their tf is still counted right).
        """
        n_tok = words.size
        sent_of_tok = np.repeat(np.arange(lengths.size), lengths)
        end = np.repeat(np.cumsum(lengths), lengths)  # (T,) exclusive end of each token's sentence
        pos = np.arange(n_tok)
        out_gid, out_order, out_sent = [], [], []
        prefix = words  # (T,) id of the k-gram starting at each position (valid where pos+k <= end)
        next_unknown = 0
        for k in range(1, self.n + 1):
            valid = pos + k <= end
            if not valid.any():
                break
            if k == 1:
                codes = words
            else:
                codes = np.full(n_tok, -1, dtype=np.int64)
                codes[valid] = prefix[valid] * self._base + words[np.minimum(pos + k - 1, n_tok - 1)][valid]
            vcodes = codes[valid]
            if build:  # for k = 1 every word occurs, so table = arange(W) and unigram id = word id
                table, inverse = np.unique(vcodes, return_inverse=True)
                self._codes.append(table)
                ids = self._offsets[-1] + inverse
                self._offsets.append(self._offsets[-1] + table.size)
            else:
                ids = self._lookup(k - 1, vcodes)
                unknown = ids < 0
                if unknown.any():
                    uniq, inverse = np.unique(vcodes[unknown], return_inverse=True)
                    ids[unknown] = self._n_ngrams + next_unknown + inverse
                    next_unknown += uniq.size
            prefix = np.full(n_tok, -1, dtype=np.int64)
            prefix[valid] = ids
            out_gid.append(ids)
            out_order.append(np.full(ids.size, k - 1, dtype=np.int64))
            out_sent.append(sent_of_tok[valid])
        if not out_gid:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty, empty
        return np.concatenate(out_gid), np.concatenate(out_order), np.concatenate(out_sent)

    def _lookup(self, order: int, codes: np.ndarray) -> np.ndarray:
        """Corpus id of each code of the given 0-based order, −1 when unseen."""
        if order == 0:
            return np.where(codes < self._n_words, codes, -1)
        if order >= len(self._codes):
            return np.full(codes.size, -1, dtype=np.int64)
        table = self._codes[order]
        idx = np.searchsorted(table, codes)
        idx_c = np.minimum(idx, table.size - 1)
        found = (idx < table.size) & (table[idx_c] == codes)
        return np.where(found, self._offsets[order] + idx_c, -1)

    def _encode_words(self, sentences: Sequence[Sentence]) -> tuple[np.ndarray, np.ndarray]:
        """Word ids (unknown words: W, W+1, … distinct per word) and lengths."""
        local: dict[str, int] = {}
        ids, lengths = [], []
        for s in sentences:
            ws = _words(s)
            lengths.append(len(ws))
            for w in ws:
                i = self._word_id.get(w)
                ids.append(i if i is not None else self._n_words + local.setdefault(w, len(local)))
        if len(local) >= _MAX_UNKNOWN_WORDS:
            raise ValueError("too many distinct unknown words in one batch; score fewer candidates at a time")
        return np.array(ids, dtype=np.int64), np.array(lengths, dtype=np.int64)

    # -- scoring --------------------------------------------------------------

    def score(self, candidates: Sequence[Sentence], refs_index) -> np.ndarray:
        """CIDEr-D of each candidate against the references of one corpus item.

        candidates: (B,) sentences (whitespace-tokenised strings or token lists).
        refs_index: (B,) index into the ``refs`` given at construction.
        Returns (B,) float64 scores (×10 scale, as coco-caption).
        """
        refs_index = np.asarray(refs_index, dtype=np.int64).reshape(-1)
        n_cand = len(candidates)
        if refs_index.size != n_cand:
            raise ValueError(f"{n_cand} candidates but {refs_index.size} refs indices")
        if n_cand == 0:
            return np.zeros(0)
        if refs_index.min() < 0 or refs_index.max() >= self.n_items:
            raise IndexError(f"refs_index outside [0, {self.n_items})")

        # 1. candidate vectors: unique (candidate, n-gram) with tf; unknown n-grams idf = log|D|
        words, lengths = self._encode_words(candidates)
        gids, orders, cand_of = self._ngram_ids(words, lengths, build=False)
        n_ext = self._n_ngrams + max(int(gids.max(initial=-1)) + 1 - self._n_ngrams, 0)
        keys, first, tf = np.unique(cand_of * n_ext + gids, return_index=True, return_counts=True)
        c_cand, c_gid, c_order = keys // n_ext, keys % n_ext, orders[first]
        idf = np.where(c_gid < self._n_ngrams, self._idf[np.minimum(c_gid, self._n_ngrams - 1)], self.ref_len)
        c_val = tf * idf
        c_norm = self._norms(c_cand, c_order, c_val, n_cand)  # (B, n)
        c_length = self._length(lengths)  # (B,)

        # 2. (candidate, reference sentence) pairs
        n_refs = self._item_ptr[refs_index + 1] - self._item_ptr[refs_index]  # (B,)
        pair_cand = np.repeat(np.arange(n_cand), n_refs)  # (P,)
        pair_sent = _segment_ranges(self._item_ptr[refs_index], n_refs)  # (P,)

        # 3. clipped dot products: walk the references' n-grams, find them in the candidate
        sent_counts = self._sent_ptr[pair_sent + 1] - self._sent_ptr[pair_sent]
        entry = _segment_ranges(self._sent_ptr[pair_sent], sent_counts)  # (E,) into ref CSR
        entry_pair = np.repeat(np.arange(pair_cand.size), sent_counts)  # (E,)
        r_gid = self._ref_gid[entry].astype(np.int64)
        query = pair_cand[entry_pair] * n_ext + r_gid
        hit = np.searchsorted(keys, query)
        hit_c = np.minimum(hit, max(keys.size - 1, 0))
        found = (hit < keys.size) & (keys[hit_c] == query) if keys.size else np.zeros(query.size, bool)
        r_val = self._ref_tf[entry[found]].astype(np.float64) * self._idf[r_gid[found]]
        h_val = c_val[hit_c[found]]
        dots = np.bincount(
            entry_pair[found] * self.n + c_order[hit_c[found]],
            weights=np.minimum(h_val, r_val) * r_val,
            minlength=pair_cand.size * self.n,
        ).reshape(-1, self.n)  # (P, n)

        # 4. cosine (undivided where a norm is 0), Gaussian length penalty, mean over n, /m, ×10
        denom = c_norm[pair_cand] * self._ref_norm[pair_sent]
        cos = np.where(denom != 0, dots / np.where(denom != 0, denom, 1.0), dots)
        delta = (c_length[pair_cand] - self._ref_length[pair_sent]).astype(np.float64)
        cos *= np.exp(-(delta**2) / (2 * self.sigma**2))[:, None]
        per_cand = np.bincount(pair_cand, weights=cos.sum(axis=1), minlength=n_cand)
        return per_cand / (self.n * n_refs) * 10.0


def corpus_cider(
    candidates: Sequence[Sentence], refs: Sequence[Sequence[Sentence]], n: int = 4, sigma: float = 6.0
) -> tuple[float, np.ndarray]:
    """pycocoevalcap's ``Cider().compute_score``: df from these refs.

    candidates: (N,) one sentence per item; refs: (N,) lists of references.
    Returns (mean score, (N,) per-item scores) in the input order.
    """
    if len(candidates) != len(refs):
        raise ValueError(f"{len(candidates)} candidates but {len(refs)} reference sets")
    scores = CiderD(refs, n=n, sigma=sigma).score(candidates, np.arange(len(refs)))
    return float(scores.mean()), scores
