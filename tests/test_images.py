"""open_image refuses what it must and turns every odd mode into sensible RGB."""

import io
import struct
import zipfile
import zlib

import numpy as np
import pytest
import torch
from PIL import Image, ImageFile

from lookimagine.data.images import (
    MAX_PIXELS,
    ImageError,
    fit_square,
    from_tensor,
    open_image,
    probe_image,
    to_rgb,
    to_tensor,
)


def encode(image: Image.Image, fmt: str = "PNG", **kwargs) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **kwargs)
    return buffer.getvalue()


def chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_header_only(width: int, height: int) -> bytes:
    """A valid PNG header claiming width × height, with (almost) no pixel data."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    idat = zlib.compress(b"\0" * 16)  # a few bytes, nowhere near width × height
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


# ---- sources -----------------------------------------------------------------


def test_path_bytes_file_object_and_pil_give_the_same_rgb(tmp_path):
    image = Image.new("RGB", (5, 3), (10, 20, 30))
    data = encode(image)
    path = tmp_path / "a.png"
    path.write_bytes(data)
    for source in (path, str(path), data, bytearray(data), io.BytesIO(data), image):
        out = open_image(source)
        assert out.mode == "RGB" and out.size == (5, 3)
        assert out.getpixel((4, 2)) == (10, 20, 30)


def test_file_object_passed_in_is_left_open():
    stream = io.BytesIO(encode(Image.new("RGB", (2, 2))))
    open_image(stream)
    assert not stream.closed


def test_missing_file_is_an_image_error(tmp_path):
    with pytest.raises(ImageError, match="does not exist"):
        open_image(tmp_path / "nope.png")


@pytest.mark.parametrize(
    ("array", "expected"),
    [
        (np.full((4, 6), 200, np.uint8), (200, 200, 200)),
        (np.full((4, 6, 1), 7, np.uint8), (7, 7, 7)),
        (np.tile(np.array([1, 2, 3], np.uint8), (4, 6, 1)), (1, 2, 3)),
        (np.full((4, 6), 65535, np.uint16), (255, 255, 255)),
        (np.full((4, 6), 257 * 100, np.uint16), (100, 100, 100)),
        (np.full((4, 6, 3), 0.5, np.float32), (128, 128, 128)),
        (np.full((4, 6), 300.0), (255, 255, 255)),
        (np.ones((4, 6), bool), (255, 255, 255)),
    ],
)
def test_numpy_arrays(array, expected):
    out = open_image(array)
    assert out.mode == "RGB" and out.size == (6, 4)
    assert out.getpixel((0, 0)) == expected


def test_numpy_rgba_is_composited_and_bad_arrays_refused():
    rgba = np.zeros((2, 2, 4), np.uint8)  # fully transparent black
    assert open_image(rgba).getpixel((0, 0)) == (255, 255, 255)
    with pytest.raises(ImageError, match="shape"):
        open_image(np.zeros((3, 4, 5), np.uint8))
    with pytest.raises(ImageError, match="dtype"):
        open_image(np.zeros((3, 4), np.int64))
    with pytest.raises(ImageError, match="too large"):
        open_image(np.zeros((20, 20), np.uint8), max_pixels=100)


def test_unsupported_source_type():
    with pytest.raises(ImageError, match="cannot read an image from a int"):
        open_image(42)


# ---- refusals ----------------------------------------------------------------


def test_over_limit_refused_before_decoding(monkeypatch):
    # 8000 × 6000 = 48 MP > MAX_PIXELS; the data holds only a header, so any
    # decoding attempt would fail differently — and we make it explode.
    assert 8000 * 6000 > MAX_PIXELS
    monkeypatch.setattr(ImageFile.ImageFile, "load", lambda self: pytest.fail("decoded an over-limit image"))
    with pytest.raises(ImageError, match=r"too large: 8000×6000"):
        open_image(png_header_only(8000, 6000))


def test_decompression_bomb_beyond_pillow_limit_is_an_image_error():
    with pytest.raises(ImageError, match="too large"):
        open_image(png_header_only(100_000, 100_000))


def test_custom_pixel_limit(tmp_path):
    data = encode(Image.new("RGB", (20, 10)))
    assert open_image(data, max_pixels=200).size == (20, 10)
    with pytest.raises(ImageError, match="limit is 199"):
        open_image(data, max_pixels=199)
    with pytest.raises(ImageError, match="too large"):
        open_image(Image.new("RGB", (20, 10)), max_pixels=199)


def test_text_and_zip_are_not_images(tmp_path):
    text = tmp_path / "notes.png"
    text.write_text("just some text, named like a picture")
    with pytest.raises(ImageError, match="is not a readable image"):
        open_image(text)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("a.txt", "hello")
    with pytest.raises(ImageError, match="is not a readable image"):
        open_image(buffer.getvalue())
    with pytest.raises(ImageError, match="is not a readable image"):
        open_image(b"")


def test_truncated_png_is_refused():
    rng = np.random.default_rng(0)
    data = encode(Image.fromarray(rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)))
    with pytest.raises(ImageError, match="is not a readable image"):
        open_image(data[: len(data) // 2])
    with pytest.raises(ImageError, match="is not a readable image"):
        probe_image(data[: len(data) // 2])


def test_eps_is_refused_never_handed_to_ghostscript():
    eps = b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\nshowpage\n"
    with pytest.raises(ImageError, match="not a recognised image format"):
        open_image(eps)


def test_probe_reads_size_without_decoding(monkeypatch):
    monkeypatch.setattr(ImageFile.ImageFile, "load", lambda self: pytest.fail("probe decoded pixels"))
    assert probe_image(encode(Image.new("RGB", (7, 3)))) == (7, 3)
    with pytest.raises(ImageError, match="too large"):
        probe_image(png_header_only(8000, 6000))


# ---- modes -------------------------------------------------------------------


def test_rgba_transparent_becomes_white_and_opaque_is_kept():
    image = Image.new("RGBA", (4, 4), (255, 0, 0, 0))
    image.putpixel((0, 0), (0, 0, 255, 255))
    image.putpixel((1, 0), (0, 0, 0, 128))  # half-transparent black -> mid grey
    out = open_image(encode(image))
    assert out.getpixel((3, 3)) == (255, 255, 255)
    assert out.getpixel((0, 0)) == (0, 0, 255)
    assert out.getpixel((1, 0)) == pytest.approx((127, 127, 127), abs=1)


def test_la_and_palette_with_transparency_become_white():
    la = Image.new("LA", (3, 3), (0, 0))
    assert open_image(encode(la)).getpixel((1, 1)) == (255, 255, 255)
    palette = Image.new("P", (3, 3), 1)
    palette.putpalette([0, 0, 0, 0, 255, 0] + [0] * 762)
    palette.putpixel((0, 0), 0)
    out = open_image(encode(palette, transparency=1))
    assert out.getpixel((2, 2)) == (255, 255, 255)  # transparent index
    assert out.getpixel((0, 0)) == (0, 0, 0)  # opaque index 0


def test_palette_without_transparency_keeps_colours():
    palette = Image.new("P", (2, 2), 0)
    palette.putpalette([12, 34, 56] + [0] * 765)
    assert open_image(encode(palette)).getpixel((0, 0)) == (12, 34, 56)


def test_cmyk_jpeg_converts_to_rgb():
    cmyk = Image.new("CMYK", (8, 8), (0, 255, 255, 0))  # pure red in CMYK
    out = open_image(encode(cmyk, "JPEG", quality=95))
    red, green, blue = out.getpixel((4, 4))
    assert red > 240 and green < 15 and blue < 15


def test_sixteen_bit_greyscale_png_maps_to_eight_bit():
    array = np.array([[0, 257 * 128, 65535]], np.uint16)
    out = open_image(encode(Image.fromarray(array)))
    assert [out.getpixel((x, 0)) for x in range(3)] == [(0, 0, 0), (128, 128, 128), (255, 255, 255)]


def test_mode_i_and_f_and_one_bit():
    assert to_rgb(Image.fromarray(np.full((2, 2), 200, np.int32))).getpixel((0, 0)) == (200, 200, 200)
    assert to_rgb(Image.fromarray(np.full((2, 2), 65535, np.int32))).getpixel((0, 0)) == (255, 255, 255)
    assert to_rgb(Image.fromarray(np.full((2, 2), 0.25, np.float32))).getpixel((0, 0)) == (64, 64, 64)
    assert open_image(encode(Image.new("1", (3, 3), 1))).getpixel((0, 0)) == (255, 255, 255)
    assert open_image(encode(Image.new("L", (3, 3), 90), "TIFF")).getpixel((0, 0)) == (90, 90, 90)


@pytest.mark.parametrize(("fmt", "options"), [("GIF", {}), ("PNG", {}), ("WEBP", {"lossless": True})])
def test_animated_image_gives_first_frame(fmt, options):
    frames = [Image.new("RGB", (6, 6), colour) for colour in [(255, 0, 0), (0, 0, 255), (0, 255, 0)]]
    data = encode(frames[0], fmt, save_all=True, append_images=frames[1:], duration=100, loop=0, **options)
    assert getattr(Image.open(io.BytesIO(data)), "n_frames", 1) == 3
    assert open_image(data).getpixel((3, 3)) == (255, 0, 0)


def test_exif_orientation_is_applied():
    image = Image.new("RGB", (4, 2), (0, 0, 0))
    image.putpixel((0, 0), (255, 255, 255))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    out = open_image(encode(image, "JPEG", exif=exif, quality=100))
    assert out.size == (2, 4)
    assert out.getpixel((1, 0))[0] > 200  # the top-left white pixel is now top-right


# ---- model inputs ------------------------------------------------------------


def test_fit_square_resizes_shorter_side_then_crops_centre():
    image = Image.new("RGB", (300, 100), (255, 0, 0))
    image.paste((0, 255, 0), (100, 0, 200, 100))  # green middle third
    out = fit_square(image, 20)
    assert out.size == (20, 20) and out.mode == "RGB"
    assert out.getpixel((10, 10)) == (0, 255, 0)
    assert out.getpixel((0, 0))[1] > 200  # the red sides were cropped away


def test_fit_square_composites_transparency_on_background():
    out = fit_square(Image.new("RGBA", (10, 10), (0, 0, 0, 0)), 4, background=(1, 2, 3))
    assert out.getpixel((0, 0)) == (1, 2, 3)


def test_to_tensor_range_and_round_trip():
    rng = np.random.default_rng(1)
    image = Image.fromarray(rng.integers(0, 256, (16, 16, 3), dtype=np.uint8))
    tensor = to_tensor(image, 16)
    assert tensor.shape == (3, 16, 16) and tensor.dtype == torch.float32
    assert tensor.min() >= -1 and tensor.max() <= 1
    assert np.array_equal(np.asarray(from_tensor(tensor)), np.asarray(image))


def test_from_tensor_clamps_and_checks_shape():
    out = from_tensor(torch.tensor([5.0, -5.0, 0.0]).view(3, 1, 1).expand(3, 2, 2))
    assert out.getpixel((0, 0)) == (255, 0, 128)
    with pytest.raises(ValueError, match=r"\(3, H, W\)"):
        from_tensor(torch.zeros(1, 3, 2, 2))
