"""Framing: the wild split a visitor's pictures stand for, and the reframing that brings them to the training
framing (``lookimagine.data.framing``, ``lookimagine.tools.framing``)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw

from lookimagine.data.framing import TRAINING_SPAN, content_box, normalise_framing, wild_frame


def glyph(size: int = 96) -> Image.Image:
    """A drawing on a transparent ground: a red disc with a white eye (white inside the drawing)."""
    g = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    d = ImageDraw.Draw(g)
    d.ellipse((4, 4, size - 5, size - 5), fill=(220, 40, 40, 255))
    d.ellipse((size // 3, size // 3, size // 2, size // 2), fill=(255, 255, 255, 255))
    return g


def on(background, drawing: Image.Image, size: int, scale: float, offset=None) -> Image.Image:
    side = round(scale * size)
    canvas = Image.new("RGBA", (size, size), (*background, 255))
    small = drawing.resize((side, side), Image.Resampling.LANCZOS)
    canvas.alpha_composite(small, offset or ((size - side) // 2, (size - side) // 2))
    return canvas.convert("RGB")


def test_a_full_bleed_and_a_padded_render_of_one_drawing_preprocess_alike():
    full_bleed = on((255, 255, 255), glyph(), 64, 1.0)
    padded_off_centre = on((40, 90, 200), glyph(), 64, 0.45, offset=(30, 4))
    a, b = (np.asarray(normalise_framing(im, 64), dtype=float) for im in (full_bleed, padded_off_centre))
    assert np.abs(a - b).mean() < 6  # of 255: resampling only
    assert np.abs(a - np.asarray(full_bleed, dtype=float)).mean() > 30  # and it did reframe
    box = content_box(a.astype(np.uint8))
    assert abs(max(box[2] - box[0], box[3] - box[1]) / 64 - TRAINING_SPAN) <= 2 / 64
    assert tuple(a[0, 0].astype(int)) == (255, 255, 255)  # on white, as the training renders


def test_white_inside_a_drawing_stays():
    out = np.asarray(normalise_framing(on((20, 120, 60), glyph(), 64, 0.9), 64))
    reds = (out[..., 0] > 180) & (out[..., 1] < 90)
    inside = out[reds.any(axis=1)][:, reds.any(axis=0)]  # the drawing's box
    assert ((inside > 235).all(axis=-1)).sum() > 10  # the white eye


def test_a_blank_picture_is_only_resized():
    blank = Image.new("RGB", (10, 10), (30, 30, 30))
    assert np.asarray(normalise_framing(blank, 8)).shape == (8, 8, 3)


def test_wild_frame_is_deterministic_and_wild():
    a = wild_frame(glyph(), np.random.default_rng([0, 3]))
    b = wild_frame(glyph(), np.random.default_rng([0, 3]))
    c = wild_frame(glyph(), np.random.default_rng([1, 3]))
    assert a.size == (64, 64) and np.array_equal(np.asarray(a), np.asarray(b))
    assert not np.array_equal(np.asarray(a), np.asarray(c))
    corner = np.asarray(a)[0, 0].astype(int)
    box = content_box(np.asarray(a))
    assert max(box[2] - box[0], box[3] - box[1]) >= 0.6 * 64 - 2  # scale 0.6–1.0 of the frame
    assert tuple(corner) != (255, 255, 255)  # on a drawn colour (white only by a 1-in-16M chance)


def test_the_wild_split_is_the_test_style_code_points_and_repeats():
    from lookimagine.data.emoji_set import EmojiDataset
    from lookimagine.data.emoji_styles import MissingToolError
    from lookimagine.tools import framing

    try:
        glyphs, names = framing.noto_glyphs("test")
        style = EmojiDataset("test-style")
    except MissingToolError as e:
        pytest.skip(str(e))
    assert names == [style.captions_of(i)[0] for i in range(len(style))]  # the same code points, in order
    first = [np.asarray(wild_frame(g, np.random.default_rng([0, i]))) for i, g in enumerate(glyphs[:5])]
    again, _ = framing.wild_split("test-style-wild", 0)
    assert all(np.array_equal(x, np.asarray(y)) for x, y in zip(first, again[:5]))
    val_glyphs, _ = framing.noto_glyphs("val")
    assert len(val_glyphs) > 100 and not set(framing.noto_glyphs("val")[1]) & set(names)


def test_the_emoji_pipeline_reframes_uploads_but_not_its_own_pictures(tmp_path, monkeypatch):
    from pathlib import Path

    from lookimagine.pipeline import LookImagineMatch, messages

    shipped = Path(__file__).resolve().parents[1] / "assets" / "checkpoints" / "emoji"
    if not (shipped / "gxn").is_dir():
        pytest.skip("no shipped emoji checkpoints")
    monkeypatch.setenv("LOOKIMAGINE_CACHE", str(tmp_path))
    pipe = LookImagineMatch.from_pretrained(shipped, device="cpu", progress=False)
    own = pipe.gallery.image(5)
    assert messages.REFRAMED not in pipe.run(own, k=1).notices  # a gallery picture: as it is, with its truth
    assert pipe.run(own, k=1).gxn.ground_truth_rank is not None
    pixels = np.asarray(own)
    box = content_box(pixels)
    full_bleed = Image.fromarray(pixels[box[1]:box[3], box[0]:box[2]]).resize((200, 200))
    result = pipe.run(full_bleed, k=3)
    assert messages.REFRAMED in result.notices
    # the gallery draws each name in three styles: an image query still lists each caption text once
    for r in (pipe.run(own, k=10).gxn, pipe.run(own, k=10).baseline):
        texts = [it.caption for it in r.ranking]
        assert len(texts) == 10 == len(set(texts))


def test_framing_augmentation_frames_a_share_of_the_training_images_the_same_way_per_seed_and_epoch():
    import torch

    from lookimagine.data.batching import EncodedSplit
    from lookimagine.training.data import framed_images, framing_drawings

    renders = [np.asarray(on((255, 255, 255), glyph(), 32, 0.5)) for _ in range(40)]
    images = torch.from_numpy(np.stack(renders)).permute(0, 3, 1, 2).contiguous()  # (40, 3, 32, 32) uint8
    split = EncodedSplit(images, torch.zeros(40, 3, dtype=torch.long), torch.full((40,), 3), torch.arange(40),
                         ["a"] * 40, [str(i) for i in range(40)])
    drawings = framing_drawings(split)
    first = framed_images(split, drawings, 0.5, seed=0, epoch=3)
    assert first.shape == images.shape and first.dtype == torch.uint8
    assert torch.equal(first, framed_images(split, drawings, 0.5, seed=0, epoch=3))  # resumable
    assert not torch.equal(first, framed_images(split, drawings, 0.5, seed=0, epoch=4))  # afresh each epoch
    changed = (first != images).flatten(1).any(1)
    assert 8 <= int(changed.sum()) <= 32  # about half, drawn
    assert torch.equal(framed_images(split, drawings, 0.0, seed=0, epoch=3), images)
    corners = first[changed][:, :, 0, 0].float()  # the wild ones stand on flat colours, not white
    assert (corners < 250).any()


def test_framing_augmentation_is_refused_on_shapes():
    from lookimagine.config import TrainConfig
    from lookimagine.training.trainer import check_config

    with pytest.raises(ValueError, match="place is the meaning"):
        check_config(TrainConfig(dataset="shapes", framing_augment=0.5), None)
