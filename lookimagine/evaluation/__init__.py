"""Evaluation metrics: retrieval (R@K, ranks), captions (CIDEr-D, BLEU), generated images (R-precision).

The metrics, ``results`` (tables and figures) and ``differences`` are pure
Python and numpy; ``embedding`` and ``evaluate_checkpoint`` run models (they import
``lookimagine.models``). Nothing here imports the training code.
"""

from lookimagine.evaluation.bleu import BleuScores, corpus_bleu
from lookimagine.evaluation.cider import CiderD, corpus_cider, simple_tokenize
from lookimagine.evaluation.image_metrics import (
    r_precision,
    r_precision_from_candidate_scores,
    sample_r_precision_candidates,
)
from lookimagine.evaluation.retrieval import (
    RetrievalScores,
    evaluate_retrieval,
    image_to_text,
    image_to_text_chunked,
    recall_at_k_curve,
    rsum,
    text_to_image,
    text_to_image_chunked,
)

__all__ = [
    "BleuScores",
    "CiderD",
    "RetrievalScores",
    "corpus_bleu",
    "corpus_cider",
    "evaluate_retrieval",
    "image_to_text",
    "image_to_text_chunked",
    "r_precision",
    "r_precision_from_candidate_scores",
    "recall_at_k_curve",
    "rsum",
    "sample_r_precision_candidates",
    "simple_tokenize",
    "text_to_image",
    "text_to_image_chunked",
]
