"""A deterministic stand-in for ``LookImagineMatch``, for the UI only: ``python app.py --fake`` and screenshots.

The gallery is the first scenes of the shapes test split (the dataset's own
drawings and first captions). Only the models are fake: each "embeds" an
image and its caption as one seeded random vector plus noise (the baseline
noisier than GXN), and a sentence as the mean of the captions it shares
words with. Input checks, ranking, the Look map and the differences are the
real pipeline's own functions. GXN "imagines" its best match, blurred.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re

import numpy as np
from PIL import Image, ImageFilter

from ..data import load_dataset
from ..evaluation.differences import Difference, find_differences
from ..pipeline import messages
from ..pipeline.checking import check_text, marked
from ..pipeline.look_map import LookSpace
from ..pipeline.outputs import Direction, Imagined, ModelResult, QueryError, QueryResult, RankedItem
from ..pipeline.top_k import rank
from ..pipeline.validation import MAX_TEXT_CHARS, check_numbers, clean_text, load_query_image, no_known_words_error, \
    unknown_words_notice

_WORD = re.compile(r"[a-z]+")
NOISE = {"baseline": 1.0, "gxn": 0.55}


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


class FakePipeline:
    """Shapes scenes, fake embeddings, real checks; satisfies ``demo.protocol.Pipeline``."""

    dataset_name, max_text_chars = "shapes", MAX_TEXT_CHARS

    def __init__(self, name: str = "fake · shapes", n_gallery: int = 16, seed: int = 0, dim: int = 32):
        test = load_dataset("shapes", "test")
        self.name, self.n_gallery, self._test = name, n_gallery, test
        self.images = [test.load_image(i) for i in range(n_gallery)]
        self.captions = [test.captions_of(i)[0] for i in range(n_gallery)]
        self.ids = [test.id_of(i) for i in range(n_gallery)]
        self.vocabulary = {w for c in self.captions for w in _WORD.findall(c)}
        self.gallery_description = f"fake shapes / test ({n_gallery} images, {n_gallery} captions) — for UI tests"
        self.attribution = "Synthetic shapes from `lookimagine.data.shapes`; no trained model involved."
        rng = np.random.default_rng(seed)
        scene = rng.normal(size=(n_gallery, dim))
        self._spaces = {m: LookSpace.of(_unit(scene + noise * rng.normal(size=scene.shape)),
                                        _unit(scene + noise * rng.normal(size=scene.shape) + 1.0))
                        for m, noise in NOISE.items()}  # + 1.0: a modality gap, as trained models have
        self._pixels = {hashlib.sha1(im.tobytes()).hexdigest(): i for i, im in enumerate(self.images)}

    def _text_vector(self, m: str, words: set[str]) -> np.ndarray:
        texts = self._spaces[m].texts
        overlap = np.array([len(words & set(_WORD.findall(c))) for c in self.captions], dtype=float)
        return _unit(overlap ** 3 @ texts)

    def run(self, query, k: int = 5, *, seed: int = 0, n_images: int = 1) -> QueryResult:
        k, seed, n_images = check_numbers(k, seed, n_images)
        notices: tuple[str, ...] = ()
        if isinstance(query, str) or query is None:
            text, notices = clean_text(query, self.max_text_chars)
            words = _WORD.findall(text.lower())
            if not self.vocabulary & set(words):
                raise no_known_words_error(len(self.vocabulary))
            unknown = unknown_words_notice(w for w in words if w not in self.vocabulary)
            notices += (unknown,) if unknown else ()
            truth, check, truth_of = self._ground_truth(text=text)
        else:
            image = load_query_image(query)
            found = self._pixels.get(hashlib.sha1(image.convert("RGB").tobytes()).hexdigest())
            truth, check, truth_of = self._ground_truth(image=found)
        text_query = isinstance(query, str)
        results = {m: self._result(m, words if text_query else found, text_query, truth, k, seed, n_images)
                   for m in NOISE}
        for m, r in results.items():
            marks = None if truth_of is None else [truth_of[it.index] for it in r.ranking]
            results[m] = dataclasses.replace(r, ranking=marked(r.ranking, marks))
        return QueryResult("text_to_image" if text_query else "image_to_text", text if text_query else None,
                           results["baseline"], results["gxn"], notices, check)

    def _ground_truth(self, text: str | None = None, image: int | None = None):
        """As the real pipeline: by meaning, with the shapes checker (the images a sentence is true of, the
        captions true of an image); (ground truth, the checker's reading, its truth over the ranked entries)."""
        if text is not None:
            check, truth = check_text(self._test, text, range(self.n_gallery))  # the real checker
            exact = {i for i, c in enumerate(self.captions) if c == text.lower()}
        else:
            check, exact = None, set() if image is None else {image}
            truth = None if image is None else self._test.truth_of(self.captions, [image])[0]
        return (exact if truth is None else {int(i) for i in np.flatnonzero(truth)}), check, truth

    def _result(self, m, query, text_query, truth, k, seed, n_images) -> ModelResult:
        space = self._spaces[m]
        if text_query:
            q, matched = self._text_vector(m, set(query)), space.images
        else:
            q = space.images[query] if query is not None else _unit(np.ones(space.images.shape[1]))
            matched = space.texts
        scores = matched @ q
        order, gt_rank = rank(scores, truth, k)
        ranking = tuple(RankedItem(r, i, self.ids[i], float(scores[i]), self.captions[i],
                                   self.images[i] if text_query else None, i in truth)
                        for r, i in enumerate(order, start=1))
        return ModelResult(m, space.look(q, text_query, scores), self._imagine(m, text_query, order, seed, n_images),
                           ranking, gt_rank, 0.001)

    def _imagine(self, m: str, text_query: bool, order: list[int], seed: int, n_images: int) -> Imagined:
        if m == "baseline":
            return Imagined(note=messages.NO_GENERATOR)
        if not text_query:
            return Imagined(caption=self.captions[order[0]], note="The fake's caption: its best match's.")
        rng = np.random.default_rng(seed)
        blur = [self.images[order[0]].filter(ImageFilter.GaussianBlur(rng.uniform(0.5, 3))) for _ in range(n_images)]
        return Imagined(images=tuple(blur), note="The fake's drawings: its best match, blurred.")

    def examples(self, direction: Direction, n: int = 8) -> list:
        picks = range(0, self.n_gallery, max(1, self.n_gallery // n))[:n]
        return [self.query_of(direction, self.ids[i]) for i in picks]

    def differences(self) -> list[Difference]:
        truth = {"text_to_image": [self._ground_truth(text=c)[0] for c in self.captions],
                 "image_to_text": [self._ground_truth(image=i)[0] for i in range(self.n_gallery)]}
        ranks = {m: {"text_to_image": [self._result(m, _WORD.findall(c), True, truth["text_to_image"][i], 1, 0, 1)
                                       .ground_truth_rank for i, c in enumerate(self.captions)],
                     "image_to_text": [self._result(m, i, False, truth["image_to_text"][i], 1, 0, 1).ground_truth_rank
                                       for i in range(self.n_gallery)]} for m in NOISE}
        return find_differences(ranks, self.ids, self.captions, range(self.n_gallery))[0]

    def query_of(self, direction: Direction, query_id: str) -> str | Image.Image:
        image_id = query_id.split("#")[0]
        if image_id not in self.ids:
            raise QueryError(messages.UNKNOWN_QUERY_ID.format(query_id=query_id, gallery=self.gallery_description))
        i = self.ids.index(image_id)
        return self.captions[i] if direction == "text_to_image" else self.images[i].copy()
