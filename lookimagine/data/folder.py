"""A user's own gallery: a folder of images plus ``captions.jsonl``.

``captions.jsonl`` holds one JSON object per line::

    {"image": "cats/tabby.png", "captions": ["a tabby cat on a sofa", "a sleeping cat"]}

Bad rows never stop the load: a row is skipped, with a reason, when it is
not valid JSON or not an object, has no ``image`` path, has no non-blank
caption strings, points outside the folder (an absolute path, ``..``, or a
symlink that resolves elsewhere), names a missing file, repeats an earlier
image, or names a file that is not a readable image within the pixel limit.
Images are screened cheaply at load time with ``probe_image`` (header, size,
PNG checksums) and decoded only when used. Blank lines are ignored.

After loading, ``dataset.skipped`` counts the skipped rows and
``dataset.problems`` lists the first ``max_report`` as ``"line N: reason"``;
a warning is logged.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path, PurePath

from PIL import Image

from .images import ImageError, fit_square, open_image, probe_image
from .items import ListedCaptionDataset

log = logging.getLogger(__name__)

CAPTIONS_FILE = "captions.jsonl"


class _BadRow(ValueError):
    """A row of captions.jsonl that cannot be used; the message is the reason."""


class FolderDataset(ListedCaptionDataset):
    """Every good row of ``root/captions.jsonl``, in file order.

    root:       the gallery folder.
    image_size: when given, ``load_image`` returns ``fit_square(image, image_size)``;
                otherwise the image at its own size.
    max_report: how many problems to keep in ``problems``.

    ``name`` is "folder", ``split`` is "gallery"; ids are the relative image
    paths as POSIX strings (e.g. "cats/tabby.png").
    """

    name = "folder"
    split = "gallery"

    def __init__(self, root: str | Path, image_size: int | None = None, max_report: int = 5):
        self.root = Path(root)
        self.image_size = image_size
        if not self.root.is_dir():
            raise FileNotFoundError(f"gallery folder {self.root} does not exist")
        captions_path = self.root / CAPTIONS_FILE
        if not captions_path.is_file():
            raise FileNotFoundError(
                f"gallery folder {self.root} has no {CAPTIONS_FILE}; add one with a line per image like "
                '{"image": "relative/path.png", "captions": ["a sentence"]}'
            )
        self._real_root = self.root.resolve()
        self._files: list[Path] = []  # resolved path per image
        self._captions: list[tuple[str, ...]] = []
        self._ids: list[str] = []
        self.skipped = 0
        self.problems: list[str] = []

        first_line_of: dict[str, int] = {}
        lines = captions_path.read_bytes().splitlines()
        for number, raw in enumerate(lines, start=1):
            if not raw.strip():
                continue
            try:
                rel, captions = _parse_row(raw)
                if rel in first_line_of:
                    raise _BadRow(f"repeats {rel!r} from line {first_line_of[rel]}")
                path = self._resolve(rel)
                probe_image(path)
            except (_BadRow, ImageError) as error:
                self.skipped += 1
                if len(self.problems) < max_report:
                    self.problems.append(f"line {number}: {error}")
                continue
            first_line_of[rel] = number
            self._files.append(path)
            self._captions.append(captions)
            self._ids.append(rel)

        if self.skipped:
            log.warning(
                "%s: skipped %d of %d rows; first problems: %s",
                captions_path, self.skipped, self.skipped + len(self._ids), "; ".join(self.problems),
            )
        if not self._ids:
            problems = "; ".join(self.problems) or "the file has no rows"
            raise ValueError(f"{captions_path} has no usable rows; problems: {problems}")

    def _resolve(self, rel: str) -> Path:
        """The real path of ``rel``, refusing anything outside the folder."""
        if PurePath(rel).is_absolute() or rel.startswith(("/", "\\")):
            raise _BadRow(f"absolute path {rel!r} is not allowed; use a path relative to the folder")
        if ".." in PurePath(rel).parts:
            raise _BadRow(f"path {rel!r} leaves the gallery folder ('..' is not allowed)")
        try:
            path = (self.root / rel).resolve()
            is_file = path.is_file()
        except (OSError, ValueError, RuntimeError) as error:  # NUL bytes, symlink loops, name too long
            raise _BadRow(f"path {rel!r} cannot be used ({error})") from None
        if not path.is_relative_to(self._real_root):
            raise _BadRow(f"path {rel!r} resolves outside the gallery folder (a symlink?)")
        if not is_file:
            raise _BadRow(f"image file {rel!r} not found")
        return path

    def file_of(self, index: int) -> Path:
        """The resolved path of image ``index``."""
        return self._files[index]

    def load_image(self, index: int) -> Image.Image:
        image = open_image(self._files[index])
        return image if self.image_size is None else fit_square(image, self.image_size)


def _parse_row(raw: bytes) -> tuple[str, tuple[str, ...]]:
    """(relative image path as POSIX, non-blank stripped captions) of one line, or ``_BadRow``."""
    try:
        row = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise _BadRow("not UTF-8 text") from None
    except json.JSONDecodeError as error:
        raise _BadRow(f"not valid JSON ({error.msg})") from None
    if not isinstance(row, dict):
        raise _BadRow("expected a JSON object with 'image' and 'captions'")
    image = row.get("image")
    if not isinstance(image, str) or not image.strip():
        raise _BadRow("no 'image' path")
    captions = row.get("captions")
    if captions is None:
        raise _BadRow("no captions")
    if not isinstance(captions, list) or not all(isinstance(c, str) for c in captions):
        raise _BadRow("'captions' must be a list of strings")
    captions = tuple(c.strip() for c in captions if c.strip())
    if not captions:
        raise _BadRow("no captions")
    return PurePath(image.strip()).as_posix(), captions
