"""Checks every query passes before a model sees it.

Shared by the real pipeline and ``FakePipeline``, so that the app (and its
tests on the fake) see the same messages for the same bad input:

* ``clean_text``: empty / whitespace text is refused; long text is truncated
  with a notice; control characters are dropped and spaces collapsed.
* ``unknown_words_notice`` / ``no_known_words_error``: words outside the
  vocabulary are reported, and a query with no known word is refused.
* ``load_query_image``: an uploaded file, bytes or a PIL image becomes an RGB
  ``PIL.Image`` through ``lookimagine.data.images.open_image`` (non-images,
  corrupt files and images over a pixel limit refused *before* decoding;
  odd modes converted, not refused), its ``ImageError`` a ``QueryError``.

Every refusal is a ``QueryError`` whose message is meant for a person.
"""

from __future__ import annotations

import io
import os
import re
import unicodedata
from collections.abc import Iterable
from os import PathLike

from PIL import Image

from .outputs import QueryError

#: defaults for pipelines that do not choose their own
MAX_TEXT_CHARS = 200
# Same as lookimagine.data.images.MAX_PIXELS (not imported here: that module pulls in torch).
MAX_PIXELS = 40_000_000

_SPACES = re.compile(r"\s+")

ImageSource = str | PathLike | bytes | io.IOBase | Image.Image


def clean_text(text: object, max_chars: int = MAX_TEXT_CHARS) -> tuple[str, tuple[str, ...]]:
    """Normalise a text query; return ``(text, notices)``.

    Raises ``QueryError`` for a missing, empty or whitespace-only query. Text
    longer than ``max_chars`` (after cleaning) is cut to ``max_chars``
    characters and a notice says so.
    """
    if text is None:
        raise QueryError("The query is empty: type a sentence that describes a picture.")
    if not isinstance(text, str):
        raise QueryError(f"A text query must be a string, not {type(text).__name__}.")
    # Drop control and format characters (category C*), keep letters, marks, punctuation.
    kept = "".join(" " if unicodedata.category(ch).startswith("C") else ch for ch in text)
    kept = _SPACES.sub(" ", unicodedata.normalize("NFC", kept)).strip()
    if not kept:
        raise QueryError("The query is empty: type a sentence that describes a picture.")
    notices: list[str] = []
    if len(kept) > max_chars:
        kept = kept[:max_chars].rstrip()
        notices.append(f"Query truncated to {max_chars} characters.")
    return kept, tuple(notices)


def unknown_words_notice(unknown: Iterable[str], limit: int = 12) -> str | None:
    """``"Unknown words ignored: foo, bar"`` (first occurrences, in order), or None."""
    seen = list(dict.fromkeys(unknown))
    if not seen:
        return None
    shown = ", ".join(seen[:limit]) + (f" (+{len(seen) - limit} more)" if len(seen) > limit else "")
    return f"Unknown words ignored: {shown}"


def no_known_words_error(vocabulary_size: int) -> QueryError:
    """The error for a query in which the model knows no word at all."""
    return QueryError(
        f"None of the words in the query are in the model's vocabulary ({vocabulary_size:,} words). "
        "Try one of the examples, or describe colours, shapes and positions."
    )


# ---------------------------------------------------------------------------
# Images


def load_query_image(source: ImageSource, max_pixels: int = MAX_PIXELS) -> Image.Image:
    """Open a query image as RGB with ``lookimagine.data.images.open_image``, or raise ``QueryError``.

    The header is read first and an image over ``max_pixels`` is refused
    before its pixels are decoded; non-images and corrupt files are refused;
    odd modes (RGBA, palette, CMYK, 16-bit, grey, animated) become RGB. A
    file path is not repeated in the message (it is the server's temp path).
    """
    if source is None:
        raise QueryError("No image: upload a picture (PNG, JPEG, GIF, WebP) or pick an example.")
    from lookimagine.data.images import ImageError, open_image  # imports torch: only when needed

    try:
        return open_image(source, max_pixels=max_pixels)
    except ImageError as err:
        message = str(err)
        if isinstance(source, (str, PathLike)):
            message = message.replace(f"'{os.fspath(source)}'", "the uploaded file")
        raise QueryError(_sentence(message)) from err


def _sentence(message: str) -> str:
    message = message.strip()
    message = message[:1].upper() + message[1:]
    return message if message.endswith((".", "!", "?")) else message + "."
