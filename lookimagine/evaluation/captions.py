"""Reference captions per image, tokenised the way CIDEr-D and BLEU expect."""

from __future__ import annotations

from ..data.batching import EncodedSplit
from ..data.vocab import tokenize


def reference_sets(split: EncodedSplit) -> list[list[str]]:
    """For each image of the split, its captions as space-joined tokens (vocabulary rules)."""
    refs: list[list[str]] = [[] for _ in range(split.images.shape[0])]
    for caption, owner in zip(split.captions, split.image_of_caption.tolist()):
        refs[owner].append(" ".join(tokenize(caption)))
    return refs
