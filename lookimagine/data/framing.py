"""How a picture is framed: the training renders' framing, a visitor's framing, and the way between them.

The emoji models learn from renders that centre each drawing on white with a wide margin (its content box
spans about half the frame, ``TRAINING_SPAN``). A visitor's emoji fills its frame (a phone's screenshot or
a copied glyph), sits off-centre, on the app's colour, JPEG-compressed. Two functions, pure PIL + numpy:

* ``wild_frame``: a training-style render → a *wild* picture: the drawing cut from its white ground, scaled
  so that its longer side spans 0.6–1.0 of the frame, at a random offset, on a random flat colour, through
  JPEG at quality 60–95; all drawn from a ``numpy`` generator, so a seed gives the same pictures.
* ``normalise_framing``: any picture → the training framing: the background (the border's colour) found
  and made white, the content box cropped and centred so that its longer side spans ``span`` of the frame.
  Idempotent on a training render (up to resampling), and a full-bleed and a padded picture of one
  drawing come out alike. Not for shapes: there the position in the frame is the meaning (left of, above).
"""

from __future__ import annotations

import io
from collections import deque

import numpy as np
from PIL import Image

#: the median longer side of a training render's content box, as a fraction of the frame (emoji val split,
#: OpenMoji + Twemoji + Fluent at 64 px; ``python -m lookimagine.tools.framing`` measures and records it)
TRAINING_SPAN = 0.70
#: datasets whose image queries are reframed (``normalise_framing``) before they are embedded: chosen on the
#: emoji val-wild split, where it lifts the shipped models' R@1 from ~1% to ~14% and leaves in-framing test-style
#: level (``assets/results/framing/emoji.json``). Not shapes: there the place in the frame is what captions say.
REFRAMED_DATASETS = frozenset({"emoji"})
WILD_SCALE = (0.6, 1.0)  # the drawing's longer side, as a fraction of the frame
WILD_JPEG = (60, 95)  # JPEG quality, inclusive
BACKGROUND_TOLERANCE = 28  # max |Δ| per channel from the border's colour that still counts as background


def _border_colour(pixels: np.ndarray) -> np.ndarray:
    """The median colour of the frame's outermost pixels, (3,) uint8."""
    border = np.concatenate([pixels[0], pixels[-1], pixels[:, 0], pixels[:, -1]])
    return np.median(border, axis=0).astype(np.uint8)


def background_mask(pixels: np.ndarray, tolerance: int = BACKGROUND_TOLERANCE) -> np.ndarray:
    """(H, W) bool: the pixels that belong to the background, i.e. near the border's colour *and* connected to
    the border (a white eye inside an outlined face stays content). ``pixels``: (H, W, 3) uint8."""
    near = (np.abs(pixels.astype(np.int16) - _border_colour(pixels)).max(axis=-1) <= tolerance)
    h, w = near.shape
    seen = np.zeros_like(near)
    queue = deque((y, x) for y in range(h) for x in (0, w - 1) if near[y, x])
    queue.extend((y, x) for x in range(w) for y in (0, h - 1) if near[y, x])
    for y, x in queue:
        seen[y, x] = True
    while queue:  # flood fill from the border over near-background pixels (4-connected)
        y, x = queue.popleft()
        for ny, nx in ((y - 1, x), (y + 1, x), (y, x - 1), (y, x + 1)):
            if 0 <= ny < h and 0 <= nx < w and near[ny, nx] and not seen[ny, nx]:
                seen[ny, nx] = True
                queue.append((ny, nx))
    # the fringe: a pixel next to the background that is still nearer its colour than 3× the tolerance
    # (JPEG rings and anti-aliasing blend the two) is background too, so no halo of it survives
    fringe = (np.abs(pixels.astype(np.int16) - _border_colour(pixels)).max(axis=-1) <= 3 * tolerance) & ~seen
    padded = np.pad(seen, 1)
    touches = padded[:-2, 1:-1] | padded[2:, 1:-1] | padded[1:-1, :-2] | padded[1:-1, 2:]
    return seen | (fringe & touches)


def content_box(pixels: np.ndarray, tolerance: int = BACKGROUND_TOLERANCE) -> tuple[int, int, int, int] | None:
    """(x0, y0, x1, y1), exclusive ends, of everything that is not background; None for a blank picture."""
    ys, xs = np.nonzero(~background_mask(pixels, tolerance))
    if len(xs) == 0:
        return None
    return int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1


def cut_out(image: Image.Image, tolerance: int = BACKGROUND_TOLERANCE) -> Image.Image:
    """The drawing as RGBA, cropped to its content box, the background transparent."""
    pixels = np.asarray(image.convert("RGB"))
    alpha = np.where(background_mask(pixels, tolerance), 0, 255).astype(np.uint8)
    rgba = Image.fromarray(np.dstack([pixels, alpha]), "RGBA")
    box = content_box(pixels, tolerance)
    return rgba.crop(box) if box is not None else rgba


def _scaled(drawing: Image.Image, longer: int) -> Image.Image:
    """``drawing`` (RGBA) resized so that its longer side is ``longer`` px."""
    w, h = drawing.size
    scale = longer / max(w, h)
    return drawing.resize((max(1, round(w * scale)), max(1, round(h * scale))), Image.Resampling.LANCZOS)


def _place(scaled: Image.Image, size: int, offset: tuple[int, int] | None,
           background: tuple[int, int, int]) -> Image.Image:
    """``scaled`` (RGBA) at ``offset`` (None: centred) on a ``size``² canvas of ``background``, as RGB."""
    if offset is None:
        offset = ((size - scaled.width) // 2, (size - scaled.height) // 2)
    canvas = Image.new("RGBA", (size, size), (*background, 255))
    canvas.alpha_composite(scaled, offset)
    return canvas.convert("RGB")


def normalise_framing(image: Image.Image, size: int, span: float = TRAINING_SPAN) -> Image.Image:
    """Any picture → the training framing at ``size``: background made white, content centred, its longer
    side ``span`` of the frame. A blank picture is only resized."""
    image = image.convert("RGB")
    drawing = cut_out(image)
    if drawing.getchannel("A").getbbox() is None:
        return image.resize((size, size), Image.Resampling.LANCZOS)
    return _place(_scaled(drawing, max(1, round(span * size))), size, None, (255, 255, 255))


def wild_frame(image: Image.Image, rng: np.random.Generator, size: int = 64) -> Image.Image:
    """A drawing → a wild picture at ``size`` (module docstring). ``image``: RGBA with a transparent ground
    (best: white parts of the drawing stay), or a render on white (its white ground is cut out by
    ``cut_out``, which also takes white parts that touch the ground).

    Draws, in order: the scale, the offset (x, y), the background colour, the JPEG quality.
    """
    if image.mode == "RGBA" and image.getchannel("A").getbbox() is not None:
        drawing = image.crop(image.getchannel("A").getbbox())
    else:
        drawing = cut_out(image)
    scaled = _scaled(drawing, max(1, round(rng.uniform(*WILD_SCALE) * size)))
    offset = (int(rng.integers(0, size - scaled.width + 1)), int(rng.integers(0, size - scaled.height + 1)))
    background = tuple(int(c) for c in rng.integers(0, 256, size=3))
    framed = _place(scaled, size, offset, background)
    buffer = io.BytesIO()
    framed.save(buffer, format="JPEG", quality=int(rng.integers(WILD_JPEG[0], WILD_JPEG[1] + 1)))
    buffer.seek(0)
    with Image.open(buffer) as decoded:
        return decoded.convert("RGB")
