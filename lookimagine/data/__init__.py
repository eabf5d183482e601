"""Datasets, vocabulary and batching.

Every dataset yields ``Item`` (image, captions, id); ``load_dataset`` picks one
by name from an explicit registry (no substring matching).
"""

from __future__ import annotations

from .items import CaptionDataset, Item

DATASETS = ("emoji", "shapes", "karpathy", "folder")


def load_dataset(name: str, split: str = "test", **kwargs) -> CaptionDataset:
    """Load a dataset split by name.

    emoji:    ``load_dataset("emoji", "test", image_size=64)``; ``styles=("openmoji", "twemoji", "fluent")``
              adds other artists (None: OpenMoji only); split ``"test-style"`` is the test emoji drawn by Noto
    shapes:   ``load_dataset("shapes", "val", seed=0)`` (train also takes ``n``)
    karpathy: ``load_dataset("karpathy", "test", json_path=..., image_root=..., fold=None)``
    folder:   ``load_dataset("folder", root=...)`` (the split is ignored: a folder is one gallery)
    """
    if name == "emoji":
        from .emoji_set import EmojiDataset

        return EmojiDataset(split, **kwargs)
    if name == "shapes":
        from .shapes import ShapesDataset

        return ShapesDataset(split, **kwargs)
    if name == "karpathy":
        from .karpathy import KarpathyDataset

        return KarpathyDataset(split=split, **kwargs)
    if name == "folder":
        from .folder import FolderDataset

        return FolderDataset(**kwargs)
    raise ValueError(f"unknown dataset {name!r}; choose one of {', '.join(DATASETS)}")


__all__ = ["DATASETS", "CaptionDataset", "Item", "load_dataset"]
