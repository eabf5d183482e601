"""The one item type every dataset yields, and the dataset protocol.

Every dataset (emoji, shapes, karpathy, folder) is a ``CaptionDataset``: a
sequence of ``Item`` with a ``name`` and a ``split``, so training, evaluation
and the app treat them alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from PIL import Image


class SentenceNotUnderstood(ValueError):
    """A sentence outside a dataset checker's grammar; the message names what was not understood."""


@dataclass(frozen=True)
class Item:
    """One image with its captions.

    image:    an RGB ``PIL.Image`` (datasets of drawings are 64×64 by default).
    captions: one or more sentences that describe it (emoji: 1, shapes: 5, COCO: 5).
    id:       stable identifier, unique within the dataset (not within a split only).
    """

    image: Image.Image
    captions: tuple[str, ...]
    id: str


class CaptionDataset(Sequence[Item]):
    """Base class: a fixed, indexable list of ``Item``.

    Subclasses implement ``__len__``, ``load_image(i)`` and ``captions_of(i)``
    and ``id_of(i)``; the last two must not decode the image, so that building a
    vocabulary or a caption index stays fast.
    """

    name: str = "dataset"
    split: str = "train"

    def __len__(self) -> int:  # pragma: no cover - abstract
        raise NotImplementedError

    def load_image(self, index: int) -> Image.Image:  # pragma: no cover - abstract
        raise NotImplementedError

    def captions_of(self, index: int) -> tuple[str, ...]:  # pragma: no cover - abstract
        raise NotImplementedError

    def id_of(self, index: int) -> str:  # pragma: no cover - abstract
        raise NotImplementedError

    def __getitem__(self, index):  # type: ignore[override]
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(f"{self.name}/{self.split}: index {index} out of range 0..{len(self) - 1}")
        return Item(image=self.load_image(index), captions=self.captions_of(index), id=self.id_of(index))

    def truth_of(self, captions: Sequence[str], indices: Sequence[int]):
        """(len(indices), len(captions)) bool, "caption j is true of item indices[i]", where a checker can
        decide it (``shapes``); None where only the pairing is known."""
        return None

    def check_sentence(self, text: str, indices: Sequence[int] | None = None):
        """(len(indices),) bool, "``text`` is true of item indices[i]" (default: every item), for any sentence
        where the dataset has a checker (``shapes``); None where it has none.

        Raises ``SentenceNotUnderstood`` naming what the checker could not read.
        """
        return None

    def truth_matrix(self):
        """``truth_of`` over every item and every caption of the split, in order (or None)."""
        return self.truth_of(self.all_captions(), range(len(self)))

    def caption_type(self, caption: str) -> str | None:
        """The caption's type for per-type recall, where the dataset defines types; else None."""
        return None

    def all_captions(self) -> list[str]:
        """Every caption of every item, in item order (for vocabularies)."""
        return [c for i in range(len(self)) for c in self.captions_of(i)]

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, split={self.split!r}, n={len(self)})"


class ListedCaptionDataset(CaptionDataset):
    """A ``CaptionDataset`` whose ids and captions are lists its ``__init__`` fills (``folder``, ``karpathy``);
    subclasses implement ``load_image`` only."""

    _ids: list[str]
    _captions: list[tuple[str, ...]]

    def __len__(self) -> int:
        return len(self._ids)

    def captions_of(self, index: int) -> tuple[str, ...]:
        return self._captions[index]

    def id_of(self, index: int) -> str:
        return self._ids[index]
