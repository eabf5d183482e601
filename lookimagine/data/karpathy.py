"""MSCOCO and Flickr30K with the Karpathy splits (the paper's benchmarks, Tables 1–2).

Reads the standard Karpathy JSON (``dataset_coco.json`` or
``dataset_flickr30k.json``)::

    {"dataset": "coco",
     "images": [{"filepath": "val2014", "filename": "COCO_val2014_000000391895.jpg",
                 "split": "train" | "val" | "test" | "restval",
                 "sentences": [{"raw": "A man ...", "tokens": [...]}, ...],
                 "cocoid": 391895, "imgid": 0}, ...]}

plus an image root folder: COCO images are found at
``image_root/filepath/filename`` (``image_root/filename`` is tried too, for
flattened copies); Flickr30K has no ``filepath``.

Splits follow the usual protocol (VSE++, the paper):
  train  "train" + "restval" images (COCO: 113,287; Flickr30K: 29,000)
  val    "val"  (5,000 / 1,014)
  test   "test" (5,000 / 1,000); ``fold=0..4`` takes COCO's 1K test folds,
         the test images in JSON order, 1,000 per fold.

Captions are the ``raw`` sentences, stripped. An image keeps its first five
non-empty captions: a few COCO images have six or seven, and the 5-captions-
per-image evaluation protocol needs exactly five. Images with fewer keep what
they have; images with none are skipped.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from PIL import Image

from .images import open_image
from .items import ListedCaptionDataset

log = logging.getLogger(__name__)

SPLITS = {"train": ("train", "restval"), "val": ("val",), "test": ("test",)}
CAPTIONS_PER_IMAGE = 5
FOLD_SIZE = 1000
N_FOLDS = 5


class KarpathyDataset(ListedCaptionDataset):
    """One split of COCO or Flickr30K; ``name`` is "coco" or "flickr30k" (from the JSON).

    split:      "train" (with restval), "val" or "test".
    json_path:  the Karpathy JSON file.
    image_root: folder holding the images (``None``: captions only; ``load_image`` then fails).
    fold:       0..4 picks one 1K-image fold of the test split (COCO 1K protocol).

    ids are ``"coco-<cocoid>"`` or ``"flickr30k-<imgid>"``. Images are decoded
    lazily in ``load_image``; captions and ids come from the JSON alone.
    """

    def __init__(
        self,
        split: str = "test",
        *,
        json_path: str | Path,
        image_root: str | Path | None = None,
        fold: int | None = None,
    ):
        if split not in SPLITS:
            raise ValueError(f"unknown split {split!r}; choose one of {', '.join(SPLITS)}")
        if fold is not None and (split != "test" or fold not in range(N_FOLDS)):
            raise ValueError(f"fold must be 0..{N_FOLDS - 1} and only goes with split='test' (got {split!r}, {fold!r})")
        self.json_path = Path(json_path)
        self.image_root = None if image_root is None else Path(image_root)
        if self.image_root is not None and not self.image_root.is_dir():
            raise FileNotFoundError(f"image folder {self.image_root} does not exist")
        self.split = split
        self.fold = fold

        data = _read_json(self.json_path)
        self.name = str(data.get("dataset") or "karpathy").lower()
        self._paths: list[tuple[str, str]] = []  # (filepath, filename) per image
        self._captions: list[tuple[str, ...]] = []
        self._ids: list[str] = []
        skipped = 0
        for entry in data["images"]:
            if entry.get("split") not in SPLITS[split]:
                continue
            captions = tuple(c for c in (_raw(s) for s in entry.get("sentences", [])) if c)
            if not captions:
                skipped += 1
                continue
            self._paths.append((str(entry.get("filepath", "")), str(entry["filename"])))
            self._captions.append(captions[:CAPTIONS_PER_IMAGE])
            key = entry.get("cocoid", entry.get("imgid", len(self._ids)))
            self._ids.append(f"{self.name}-{key}")
        if skipped:
            log.warning("%s: skipped %d %s images without captions", self.json_path, skipped, split)
        if fold is not None:
            self._select_fold(fold)

    def _select_fold(self, fold: int) -> None:
        n = len(self._ids)
        if n < (fold + 1) * FOLD_SIZE:
            raise ValueError(
                f"{self.json_path}: fold {fold} needs at least {(fold + 1) * FOLD_SIZE} test images, the JSON has {n}"
            )
        part = slice(fold * FOLD_SIZE, (fold + 1) * FOLD_SIZE)
        self._paths, self._captions, self._ids = self._paths[part], self._captions[part], self._ids[part]

    def image_path(self, index: int) -> Path:
        """Where image ``index`` lives: ``image_root/filepath/filename``, else ``image_root/filename``."""
        if self.image_root is None:
            raise FileNotFoundError(f"{self.name}/{self.split}: no image_root was given, so images cannot be loaded")
        filepath, filename = self._paths[index]
        candidates = [self.image_root / filepath / filename, self.image_root / filename]
        for path in candidates:
            if path.is_file():
                return path
        raise FileNotFoundError(f"image {self._ids[index]} not found at {' or '.join(map(str, candidates))}")

    def load_image(self, index: int) -> Image.Image:
        return open_image(self.image_path(index))

    def __repr__(self) -> str:
        fold = "" if self.fold is None else f", fold={self.fold}"
        return f"KarpathyDataset(name={self.name!r}, split={self.split!r}{fold}, n={len(self)})"


def _raw(sentence: object) -> str:
    """The stripped ``raw`` text of a sentence entry ('' when there is none)."""
    raw = sentence.get("raw") if isinstance(sentence, dict) else None
    return raw.strip() if isinstance(raw, str) else ""


def _read_json(path: Path) -> dict:
    """Load and sanity-check the Karpathy JSON, with errors that name the file."""
    if not path.is_file():
        raise FileNotFoundError(
            f"Karpathy split file {path} not found; download dataset_coco.json / dataset_flickr30k.json "
            "(Karpathy & Fei-Fei's caption_datasets.zip) and pass its path"
        )
    try:
        with path.open(encoding="utf-8") as file:
            data = json.load(file)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"{path}: not valid JSON ({error})") from error
    images = data.get("images") if isinstance(data, dict) else None
    if not isinstance(images, list) or not all(isinstance(e, dict) and "filename" in e for e in images):
        raise ValueError(f"{path}: not a Karpathy split file (expected {{'images': [{{'filename': ...}}, ...]}})")
    return data
