"""ZeroShotPipeline: Look, Imagine and Match with pretrained models and no training at all.

    pipe = ZeroShotPipeline.load(ZeroShotConfig(), load_dataset("folder", root="my-gallery"), device="cuda")
    result = pipe.run("a red bus on a street", k=5, n_images=2)
    result.baseline.ranking     # CLIP alone
    result.gxn.imagined.images  # what the painter drew; result.gxn.ranking is the fused match

Satisfies ``demo.protocol.Pipeline``, so the app shows it in the same
side-by-side view. Its two columns:

* **baseline** — the open_clip model alone: Look (cosine in CLIP's space), Match.
* **gxn** — the same Look, then Imagine (a caption from the captioner for a
  picture, pictures from the painter for a sentence) and a Match that fuses
  the look score with the imagined output's score (``fusion``, weight w).

It is not the paper's GXN (nothing is trained here); the column keeps the
name "gxn" because it is the imagining model in the app's protocol.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from PIL import Image

from ..data.items import CaptionDataset
from ..pipeline import messages
from ..pipeline.outputs import Direction, Imagined, ModelResult, QueryError, QueryResult, RankedItem
from ..pipeline.top_k import rank
from ..pipeline.validation import MAX_TEXT_CHARS, check_numbers, clean_text, load_query_image
from .captioner import Captioner
from .fusion import caption_similarity, check_weight, fuse, picture_similarity
from .gallery import ClipGallery
from .options import NAME, ZeroShotConfig, picture_size
from .painter import Painter
from .towers import ClipTowers

CAPTION_NOTE = "Caption by {model}, matched against the gallery's captions by CLIP's text tower (w = {w:g})."
DRAWING_NOTE = ("Drawn by {model} in {steps} step{s} at {size} px, matched against the gallery's images by CLIP's "
                "image tower (w = {w:g}).")
CLIP_ALONE = "CLIP alone has no generator: it only looks and matches."


@dataclass(frozen=True)
class _Scores:
    """One column's scores for one query: look (K,), imagined (K,) or None, and what was imagined."""

    look: np.ndarray
    imagined: np.ndarray | None = None
    caption: str | None = None
    images: tuple[Image.Image, ...] = ()


class ZeroShotPipeline:
    """open_clip (Look) + captioner and painter (Imagine) + fusion (Match) over one gallery."""

    max_text_chars = MAX_TEXT_CHARS
    #: the app's column titles: the baseline is CLIP itself; the imagining model is not GXN
    column_titles = ("CLIP alone", "CLIP + imagination")

    def __init__(self, towers: ClipTowers, captioner: Captioner, painter: Painter, gallery: ClipGallery,
                 weight: float, name: str = NAME, attribution: str = ""):
        self.towers, self.captioner, self.painter, self.gallery = towers, captioner, painter, gallery
        self.weight = check_weight(weight)
        self.name, self.attribution = name, attribution
        self.dataset_name = gallery.dataset.name
        self.gallery_description = (f"{gallery.dataset.name} / {gallery.dataset.split} ({gallery.n_images:,} "
                                    f"images, {gallery.n_captions:,} captions) · CLIP {towers.name}")

    @classmethod
    def load(cls, config: ZeroShotConfig, dataset: CaptionDataset, device=None, attribution: str = "",
             progress: bool = True, name: str = NAME) -> ZeroShotPipeline:
        """Load the three models (``ModelUnavailable`` names the one that cannot be had) and embed the gallery."""
        towers = ClipTowers.load(config.clip_model, config.clip_pretrained, device)
        captioner = Captioner.load(config.captioner, device)
        painter = Painter.load(config.painter, device, config.steps, config.guidance,
                               picture_size(config.size, towers.device.type))
        gallery = ClipGallery(dataset, towers, progress=progress)
        return cls(towers, captioner, painter, gallery, config.weight, name, attribution)

    @classmethod
    def for_app(cls, config: ZeroShotConfig, dataset: str = "emoji", gallery_folder=None, device=None,
                progress: bool = True) -> ZeroShotPipeline:
        """The app's entry: a gallery folder, or a shipped dataset's test split drawn at CLIP's 224 px."""
        from ..data import load_dataset
        from ..pipeline.look_imagine_match import _attribution

        if gallery_folder is not None:
            data = load_dataset("folder", root=gallery_folder)
            attribution = f"Your own gallery folder: {gallery_folder}"
        else:
            data, attribution = load_dataset(dataset, "test", image_size=224), _attribution(dataset)
        return cls.load(config, data, device, attribution, progress)

    # ---- Look, Imagine, Match ------------------------------------------------------------
    def run(self, query, k: int = 5, *, seed: int = 0, n_images: int = 1) -> QueryResult:
        """Look → Match for CLIP alone, Look → Imagine → fused Match for the imagining column."""
        k, seed, n_images = check_numbers(k, seed, n_images)
        direction, q, notices = self._parse(query)
        gt = (self.gallery.images_matching_caption(q) if direction == "text_to_image"
              else self.gallery.captions_matching_image(q))
        start = time.perf_counter()
        vector, look = self._look(direction, q)
        look_seconds = time.perf_counter() - start
        baseline = self._result("baseline", direction, vector, _Scores(look), k, gt, look_seconds)
        start = time.perf_counter()
        scores = self._imagine(direction, q, look, seed, n_images)
        gxn = self._result("gxn", direction, vector, scores, k, gt, look_seconds + time.perf_counter() - start)
        return QueryResult(direction, q if isinstance(q, str) else None, baseline, gxn, tuple(notices))

    def _parse(self, query) -> tuple[Direction, str | Image.Image, list[str]]:
        if isinstance(query, str) or query is None:
            text, notices = clean_text(query, self.max_text_chars)
            return "text_to_image", text, list(notices)
        return "image_to_text", load_query_image(query), []

    def _look(self, direction: Direction, q) -> tuple[np.ndarray, np.ndarray]:
        """The query's vector (D,) and its CLIP cosines with the other modality: (N,) images or (M,) captions."""
        if direction == "text_to_image":
            vector = self.towers.encode_texts([q])[0]
            return vector, self.gallery.images @ vector
        vector = self.towers.encode_images([q])[0]
        return vector, self.gallery.texts @ vector

    def _imagine(self, direction: Direction, q, look: np.ndarray, seed: int, n_images: int) -> _Scores:
        """The imagined caption or pictures, and their similarity with the gallery (same shape as ``look``)."""
        if direction == "image_to_text":
            caption = self.captioner.caption([q])[0]
            imagined = caption_similarity(self.towers.encode_texts([caption]), self.gallery.texts)[0]
            return _Scores(look, imagined, caption=caption)
        pictures = self.painter.draw([q], n_images=n_images, seed=seed)[0]
        imagined = picture_similarity(self.towers.encode_images(pictures), self.gallery.images)
        return _Scores(look, imagined, images=tuple(pictures))

    def _result(self, model: str, direction: Direction, vector: np.ndarray, scores: _Scores, k: int,
                gt: set[int], seconds: float) -> ModelResult:
        final = scores.look if scores.imagined is None else fuse(scores.look, scores.imagined, self.weight)
        look = self.gallery.space.look(vector.astype(np.float64), direction == "text_to_image", final)
        order, gt_rank = rank(final, gt, k)
        return ModelResult(model, look, self._imagined(scores), self._ranking(direction, order, final, gt),
                           gt_rank, seconds)

    def _imagined(self, scores: _Scores) -> Imagined:
        if scores.imagined is None:
            return Imagined(note=CLIP_ALONE)
        if scores.caption is not None:
            return Imagined(caption=scores.caption,
                            note=CAPTION_NOTE.format(model=self.captioner.name, w=self.weight))
        steps = self.painter.steps
        return Imagined(images=scores.images, note=DRAWING_NOTE.format(model=self.painter.name, steps=steps,
                                                                       s="" if steps == 1 else "s",
                                                                       size=self.painter.picture_size, w=self.weight))

    def _ranking(self, direction: Direction, order: list[int], scores: np.ndarray, gt: set[int]):
        g = self.gallery
        if direction == "text_to_image":
            return tuple(RankedItem(r, i, g.ids[i], float(scores[i]), g.captions[int(g.captions_of_image[i][0])],
                                    g.image(i), i in gt) for r, i in enumerate(order, start=1))
        return tuple(RankedItem(r, i, g.ids[int(g.image_of_caption[i])], float(scores[i]), g.captions[i], None,
                                i in gt) for r, i in enumerate(order, start=1))

    # ---- app helpers -----------------------------------------------------------------------
    def examples(self, direction: Direction, n: int = 8) -> list:
        """``n`` gallery images, or the first captions of ``n`` images, spread over the gallery."""
        g = self.gallery
        picks = list(range(0, g.n_images, max(g.n_images // n, 1)))[:n]
        if direction == "image_to_text":
            return [g.image(i) for i in picks]
        return [g.captions[int(g.captions_of_image[i][0])] for i in picks]

    def differences(self) -> list:
        """No precomputed differences for the zero-shot mode (the evaluation writes none)."""
        return []

    def query_of(self, direction: Direction, query_id: str):
        """The caption ("<image id>#<caption number>") or image behind ``query_id``."""
        g = self.gallery
        image_id, _, number = query_id.rpartition("#") if direction == "text_to_image" else (query_id, "", "")
        try:
            index = g.ids.index(image_id)
            if direction == "text_to_image":
                return g.captions[int(g.captions_of_image[index][int(number)])]
            return g.image(index)
        except (ValueError, IndexError):
            raise QueryError(messages.UNKNOWN_QUERY_ID.format(query_id=query_id, gallery=self.gallery_description)) \
                from None
