"""The interface the app needs from a pipeline.

``LookImagineMatch`` (the real, trained models) and ``FakePipeline`` (for UI
tests) both satisfy it, so ``app.build_demo`` never knows which it has.
"""

from __future__ import annotations

from typing import Protocol

from PIL import Image

from ..evaluation.differences import Difference
from ..pipeline.outputs import Direction, QueryResult


#: the columns' titles of a pipeline that does not name them: GXN beside its baseline
COLUMN_TITLES = ("Baseline", "GXN")


def column_titles(pipeline) -> tuple[str, str]:
    """``pipeline.column_titles`` if it has them (e.g. the zero-shot pipeline's "CLIP alone"), else ``COLUMN_TITLES``."""
    return tuple(getattr(pipeline, "column_titles", COLUMN_TITLES))


class Pipeline(Protocol):
    #: shown in the model selector, e.g. "pocket · emoji"
    name: str
    #: "emoji", "shapes", "folder", ...
    dataset_name: str
    #: e.g. "emoji / test (585 images, 585 captions)"
    gallery_description: str
    #: licence and attribution of the gallery's data (markdown)
    attribution: str
    #: max characters of a text query before truncation (with a notice)
    max_text_chars: int
    #: optional: the two columns' titles, (looks only, looks and imagines); ``COLUMN_TITLES`` when absent
    #: column_titles: tuple[str, str]

    def run(self, query: str | Image.Image, k: int = 5, *, seed: int = 0, n_images: int = 1) -> QueryResult:
        """Look, Imagine and Match for both models.

        A ``str`` query is text → image; an image query is image → text.
        Raises ``QueryError`` with a message for a person on bad input
        (empty text, unreadable image, ...). Ground truth is marked when the
        query is one of the gallery's own captions or images.
        """

    def examples(self, direction: Direction, n: int = 8) -> list[str] | list[Image.Image]:
        """Example queries from the gallery's split: captions or images."""

    def differences(self) -> list[Difference]:
        """Test queries where the models disagree, one ``Difference`` row each (``evaluation.differences``):
        direction, query_id, query_text (text queries), baseline_rank, gxn_rank, winner ("gxn" | "baseline")."""

    def query_of(self, direction: Direction, query_id: str) -> str | Image.Image:
        """The query (caption text or image) behind a ``differences`` row."""
