"""Safe image handling shared by the datasets, the pipeline and the app.

Every image that enters the package goes through ``open_image``: it accepts a
path, bytes, a file object, a numpy array or a PIL image and returns a fully
loaded RGB ``PIL.Image`` — or raises ``ImageError`` with a message a person
can read. Nothing is executed or unpickled: only the raster formats in
``FORMATS`` are decoded (EPS, for one, would start Ghostscript), and numpy
input must already be an array.

Size is checked before decoding: ``Image.open`` reads only the header, so an
image over ``max_pixels`` is refused without allocating its pixels. Pillow's
own ``Image.MAX_IMAGE_PIXELS`` guard still applies on top (its
``DecompressionBombError`` becomes an ``ImageError`` too).

Odd modes become plain RGB: transparency (RGBA, LA, PA, palette or grey with
a transparent colour) is composited on white; palette, CMYK, YCbCr, 1-bit and
greyscale are converted; 16-bit greyscale is scaled 0..65535 -> 0..255; float
images in [0, 1] are scaled by 255, other floats are clipped to 0..255.
Animated GIF / WebP / APNG give their first frame; EXIF orientation is
applied.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import io
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, Literal, Union

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError

#: Largest image accepted by default (width × height), checked before decoding.
MAX_PIXELS = 40_000_000

#: Pillow formats we decode. Everything else (EPS → Ghostscript, PDF, ...) is refused.
FORMATS = ("PNG", "JPEG", "GIF", "WEBP", "BMP", "TIFF", "PPM", "TGA", "ICO", "AVIF")

WHITE = (255, 255, 255)

#: after decoding more pixels than this, freed memory is handed back to the OS (``malloc_trim``)
_TRIM_AFTER_PIXELS = 4_000_000
try:  # glibc only; elsewhere a no-op
    _LIBC = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    _LIBC.malloc_trim  # noqa: B018 - musl and macOS have no malloc_trim
except (OSError, AttributeError):
    _LIBC = None

ImageSource = Union[str, os.PathLike, bytes, bytearray, memoryview, BinaryIO, np.ndarray, Image.Image]

# Errors Pillow raises for data it cannot decode (truncated, corrupt, unsupported).
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError)


class ImageError(ValueError):
    """An image that cannot be used; the message is meant for a person."""


def open_image(source: ImageSource, max_pixels: int = MAX_PIXELS, *, max_side: int | None = None,
               max_decode_pixels: int | None = None) -> Image.Image:
    """Open ``source`` as a fully loaded RGB image, refusing anything unsafe.

    source:            a path, bytes, a binary file object, a numpy array
                       (H, W) / (H, W, 1|2|3|4) of uint8, uint16, bool or float, or a PIL image
                       (its current frame is used).
    max_pixels:        refuse images with more than this many pixels (width × height), from the header.
    max_side:          the caller needs no more than this many pixels on the shorter side: a JPEG is
                       decoded at 1/2, 1/4 or 1/8 scale (Pillow's ``draft``) and anything larger is
                       reduced right after decoding, so the conversions below run on a small image.
    max_decode_pixels: refuse, still before decoding, an image that would be decoded at more than
                       this many pixels (after ``draft``): what bounds the memory of one request.

    Raises ``ImageError`` for a missing file, a non-image, corrupt or truncated
    data, an unsupported mode or dtype, or an image over a limit.
    """
    if isinstance(source, Image.Image):
        _check_size(source.size, max_pixels, "the image")
        return _finish(_reduced(source, max_side), "the image")
    if isinstance(source, np.ndarray):
        return _finish(_reduced(_from_array(source, max_pixels), max_side), "the array")
    with _decoded(source, max_pixels, "load", max_side, max_decode_pixels) as (image, label):
        decoded = image.size[0] * image.size[1]
        rgb = _finish(_reduced(image, max_side), label)
    if decoded > _TRIM_AFTER_PIXELS:
        _release_freed_memory()
    return rgb


def probe_image(source: str | os.PathLike | bytes, max_pixels: int = MAX_PIXELS) -> tuple[int, int]:
    """Check an image cheaply without decoding its pixels; return ``(width, height)``.

    Reads the header, checks the format and the pixel limit, and runs Pillow's
    ``verify`` (for PNG: every chunk checksum, so truncation is caught). Used to
    screen a gallery folder at load time; a JPEG with a corrupt body can still
    fail later in ``open_image``.
    """
    with _decoded(source, max_pixels, "verify") as (image, _):
        return image.size


def to_rgb(image: Image.Image, background: tuple[int, int, int] = WHITE) -> Image.Image:
    """Convert any PIL mode to RGB (a new image); transparency is composited on ``background``."""
    mode = image.mode
    if mode in ("I;16", "I;16L", "I;16B", "I;16N", "I", "F"):
        return Image.fromarray(_grey_to_uint8(np.asarray(image), mode)).convert("RGB")
    if mode == "RGB" and "transparency" not in image.info:
        return image.copy()
    if "A" in mode or "a" in mode or "transparency" in image.info:
        rgba = image.convert("RGBA")
        canvas = Image.new("RGBA", rgba.size, (*background, 255))
        return Image.alpha_composite(canvas, rgba).convert("RGB")
    try:
        return image.convert("RGB")
    except ValueError as error:
        raise ImageError(f"images in mode {mode!r} are not supported: {error}") from error


def fit_square(image: Image.Image, size: int, background: tuple[int, int, int] = WHITE) -> Image.Image:
    """Resize so the shorter side is ``size``, then crop the centre to ``size`` × ``size``.

    Cropping (not padding) keeps the subject large, as the paper's image
    encoders expect; a very wide or tall image loses its ends. Non-RGB input
    is converted with ``to_rgb`` (transparency on ``background``). Returns RGB.
    """
    if size < 1:
        raise ValueError(f"size must be positive, got {size}")
    image = image if image.mode == "RGB" else to_rgb(image, background)
    if image.size == (size, size):
        return image.copy()
    width, height = image.size
    side = min(width, height)
    left, top = (width - side) / 2, (height - side) / 2
    # One resample from the centre box; reducing_gap makes big photos fast.
    return image.resize(
        (size, size), Image.Resampling.BICUBIC, box=(left, top, left + side, top + side), reducing_gap=2.0
    )


def to_tensor(image: Image.Image, size: int) -> torch.Tensor:
    """``fit_square`` then a float tensor (3, size, size) in [-1, 1]."""
    pixels = torch.from_numpy(np.array(fit_square(image, size)))  # (H, W, 3) uint8
    return images_to_float(pixels.permute(2, 0, 1)).contiguous()


def images_to_float(images_u8: torch.Tensor) -> torch.Tensor:
    """uint8 0..255 (any shape, e.g. (B, 3, H, W)) → float in [-1, 1], the models' input range."""
    return images_u8.float().div(127.5).sub(1.0)


def from_tensor(tensor: torch.Tensor) -> Image.Image:
    """Inverse of ``to_tensor``: (3, H, W) in [-1, 1] (clamped) -> RGB image."""
    if tensor.ndim != 3 or tensor.shape[0] != 3:
        raise ValueError(f"expected a tensor of shape (3, H, W), got {tuple(tensor.shape)}")
    pixels = tensor.detach().float().cpu().clamp(-1.0, 1.0).add(1.0).mul(127.5).round()
    return Image.fromarray(pixels.to(torch.uint8).permute(1, 2, 0).contiguous().numpy())


@contextmanager
def _decoded(source, max_pixels: int, step: Literal["load", "verify"], max_side: int | None = None,
             max_decode_pixels: int | None = None) -> Iterator[tuple[Image.Image, str]]:
    """The opened image and its label, size-checked and after ``image.load()`` or ``image.verify()``.

    With ``max_side`` a JPEG is set to decode at reduced scale first (``draft``);
    ``max_decode_pixels`` bounds what is then decoded. A decoding error in that
    step becomes an ``ImageError``; a stream opened here is closed on exit.
    """
    label = _label(source)
    stream = _stream(source, label)
    try:
        with _open_header(stream, label, max_pixels) as image:
            _check_size(image.size, max_pixels, label)
            if max_side and image.format == "JPEG":
                try:
                    image.draft("RGB", (max_side, max_side))  # DCT scaling: never below max_side
                except _DECODE_ERRORS:
                    pass  # decode at full size then
            if max_decode_pixels and image.size[0] * image.size[1] > max_decode_pixels:
                width, height = image.size
                raise ImageError(f"{label} is too large to decode: {width}×{height} = {width * height:,} pixels "
                                 f"(the limit is {max_decode_pixels:,} for {image.format}; a JPEG may have up to "
                                 f"{max_pixels:,}); please resize it")
            try:
                getattr(image, step)()
            except _DECODE_ERRORS as error:
                raise ImageError(f"{label} is not a readable image: {error}") from error
            yield image, label
    finally:
        if stream is not source:
            stream.close()


def _reduced(image: Image.Image, max_side: int | None) -> Image.Image:
    """``image`` box-reduced by a whole factor so its shorter side stays ≥ ``max_side`` (as is without one)."""
    if not max_side:
        return image
    factor = min(image.size) // max_side
    if factor < 2:
        return image
    try:
        return image.reduce(factor)
    except (ValueError, NotImplementedError):  # modes reduce does not handle (e.g. I;16): converted at full size
        return image


def _release_freed_memory() -> None:
    """Give freed heap memory back to the OS after a large decode (glibc keeps it otherwise)."""
    if _LIBC is not None:
        _LIBC.malloc_trim(0)


def _label(source) -> str:
    """How error messages name the source."""
    if isinstance(source, (str, os.PathLike)):
        return f"'{os.fspath(source)}'"
    if isinstance(source, (bytes, bytearray, memoryview)):
        return "the uploaded data"
    name = getattr(source, "name", None)
    return f"'{name}'" if isinstance(name, str) else "the uploaded file"


def _stream(source, label: str) -> BinaryIO:
    """A seekable binary stream over ``source`` (files we open are closed by the caller)."""
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if not path.is_file():
            raise ImageError(f"{label} does not exist or is not a file")
        try:
            return path.open("rb")
        except OSError as error:
            raise ImageError(f"{label} cannot be read: {error.strerror or error}") from error
    if isinstance(source, (bytes, bytearray, memoryview)):
        return io.BytesIO(bytes(source))
    if hasattr(source, "read"):
        if getattr(source, "seekable", lambda: False)():
            return source
        return io.BytesIO(source.read())
    raise ImageError(f"cannot read an image from a {type(source).__name__}")


def _open_header(stream: BinaryIO, label: str, max_pixels: int = MAX_PIXELS) -> Image.Image:
    """``Image.open``: reads the header only, restricted to ``FORMATS``."""
    try:
        return Image.open(stream, formats=FORMATS)
    except Image.DecompressionBombError as error:  # Pillow's own guard (> 2 × Image.MAX_IMAGE_PIXELS)
        pixels = re.search(r"\((\d+) pixels\)", str(error))
        size = f"{int(pixels.group(1)):,} pixels" if pixels else "more pixels than Pillow will open"
        raise ImageError(f"{label} is too large: {size} (the limit is {max_pixels:,}); please resize it") from error
    except UnidentifiedImageError as error:
        raise ImageError(
            f"{label} is not a readable image: not a recognised image format (supported: {', '.join(FORMATS)})"
        ) from error
    except _DECODE_ERRORS as error:
        raise ImageError(f"{label} is not a readable image: {error}") from error


def _check_size(size: tuple[int, int], max_pixels: int, label: str) -> None:
    width, height = size
    if width < 1 or height < 1:
        raise ImageError(f"{label} is empty ({width}×{height} pixels)")
    if width * height > max_pixels:
        raise ImageError(
            f"{label} is too large: {width}×{height} = {width * height:,} pixels "
            f"(the limit is {max_pixels:,}); please resize it"
        )


def _finish(image: Image.Image, label: str) -> Image.Image:
    """Apply EXIF orientation and convert to a standalone RGB image."""
    try:
        image = ImageOps.exif_transpose(image) or image
    except _DECODE_ERRORS:
        pass  # a broken EXIF block only loses the orientation, not the image
    try:
        return to_rgb(image)
    except _DECODE_ERRORS as error:
        raise ImageError(f"{label} is not a readable image: {error}") from error


def _grey_to_uint8(array: np.ndarray, mode: str) -> np.ndarray:
    """Map a 16-bit, 32-bit integer or float grey image to uint8.

    16-bit ("I;16*") spans 0..65535 and is divided by 257. "I" (how Pillow
    opens some 16-bit files) is taken as 8-bit when its maximum is ≤ 255,
    otherwise as 16-bit. Floats in [0, 1] are scaled by 255, other floats
    clipped to 0..255; NaN becomes 0.
    """
    if mode == "F" or array.dtype.kind == "f":
        values = np.nan_to_num(array.astype(np.float64), nan=0.0, posinf=255.0, neginf=0.0)
        if values.size and values.min() >= 0.0 and values.max() <= 1.0:
            values = values * 255.0
        return np.clip(np.rint(values), 0, 255).astype(np.uint8)
    values = array.astype(np.int64)
    if mode == "I" and (values.size == 0 or values.max() <= 255):
        return np.clip(values, 0, 255).astype(np.uint8)
    return np.clip(np.rint(values / 257.0), 0, 255).astype(np.uint8)


def _from_array(array: np.ndarray, max_pixels: int) -> Image.Image:
    """A numpy array (H, W) or (H, W, C) as a PIL image in mode L, LA, RGB or RGBA."""
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] not in (2, 3, 4)):
        raise ImageError(f"the array has shape {array.shape}; expected (H, W) or (H, W, C) with C in 1..4")
    _check_size((array.shape[1], array.shape[0]), max_pixels, "the array")
    if array.dtype == np.uint8:
        pixels = array
    elif array.dtype == np.bool_:
        pixels = array.astype(np.uint8) * 255
    elif array.dtype == np.uint16:
        pixels = _grey_to_uint8(array, "I;16")
    elif array.dtype.kind == "f":
        pixels = _grey_to_uint8(array, "F")
    else:
        raise ImageError(f"arrays of dtype {array.dtype} are not supported (use uint8, uint16, bool or float)")
    return Image.fromarray(np.ascontiguousarray(pixels))  # mode L, LA, RGB or RGBA from the shape
