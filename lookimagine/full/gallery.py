"""A gallery embedded by open_clip: every image and caption of a dataset as unit vectors, with ground truth.

The pocket tier's ``pipeline.pocket_gallery.Gallery`` keeps every image as a small
uint8 tensor and tokenises with a pocket vocabulary; here images are streamed
from the dataset once, at their own size, into the towers (a COCO test split
would not fit in memory as tensors) and shown later by loading them again.
Ground truth follows the pocket gallery (same ``caption_key``/``image_key``):
a caption's ground truth is every image having that caption text, an image's
every caption row whose text is one of its captions; an uploaded image is
found by the hash of its RGB pixels.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

import numpy as np
from PIL import Image

from ..data.items import CaptionDataset
from ..pipeline.pocket_gallery import caption_key, image_key
from ..pipeline.look_map import LookSpace
from .towers import ClipTowers


class ClipGallery:
    """A dataset's images (N, D) and captions (M, D) in one open_clip space.

    captions:         (M,) every caption, image by image, in dataset order.
    image_of_caption: (M,) the index of each caption's image.
    space:            the gallery as the Look map draws it (``look_map.LookSpace``).
    """

    def __init__(self, dataset: CaptionDataset, towers: ClipTowers, progress: bool = True, batch: int = 64):
        self.dataset = dataset
        self.ids = [dataset.id_of(i) for i in range(len(dataset))]
        self.captions: list[str] = []
        owner: list[int] = []
        for i in range(len(dataset)):
            for c in dataset.captions_of(i):
                self.captions.append(c)
                owner.append(i)
        self.image_of_caption = np.asarray(owner, dtype=np.int64)
        self.captions_of_image = [np.flatnonzero(self.image_of_caption == i) for i in range(len(dataset))]
        self._hashes: dict[str, int] = {}
        self.images = towers.encode_images(self._stream(), batch=batch, progress=progress, total=len(dataset),
                                           desc=f"{dataset.name}: images")
        self.texts = towers.encode_texts(self.captions, progress=progress, desc=f"{dataset.name}: captions")
        self.space = LookSpace.of(self.images.astype(np.float64), self.texts.astype(np.float64))
        images_of, rows_of = defaultdict(set), defaultdict(list)
        for row, c in enumerate(self.captions):
            images_of[caption_key(c)].add(int(owner[row]))
            rows_of[caption_key(c)].append(row)
        self._images_of, self._rows_of = dict(images_of), dict(rows_of)

    def _stream(self) -> Iterator[Image.Image]:
        """Each image once, in order, remembering its pixel hash on the way."""
        for i in range(len(self.dataset)):
            image = self.dataset.load_image(i).convert("RGB")
            self._hashes.setdefault(image_key(np.asarray(image)), i)
            yield image

    @property
    def n_images(self) -> int:
        return len(self.ids)

    @property
    def n_captions(self) -> int:
        return len(self.captions)

    def image(self, index: int) -> Image.Image:
        return self.dataset.load_image(index).convert("RGB")

    def images_matching_caption(self, text: str) -> set[int]:
        """Ground truth of a text query: every image that has this caption (empty if none)."""
        return set(self._images_of.get(caption_key(text), ()))

    def captions_matching_image(self, image: Image.Image) -> set[int]:
        """Ground truth of an image query: the caption rows of the gallery image with the same pixels."""
        index = self._hashes.get(image_key(np.asarray(image.convert("RGB"))))
        if index is None:
            return set()
        keys = {caption_key(self.captions[r]) for r in self.captions_of_image[index]}
        return {r for key in keys for r in self._rows_of[key]}
