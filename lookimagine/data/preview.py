"""Contact sheets: a grid of dataset items with their captions, for looking at data.

``contact_sheet(dataset, n=64, columns=8, seed=0)`` picks ``n`` items at random
(seeded, shown in index order) and lays each out as a 128-pixel thumbnail with
its id and every caption word-wrapped underneath; a title line names the
dataset and split (and the artists, for a dataset with ``styles``). Each cell is
``CELL_WIDTH`` pixels wide (``thumb + 40`` for another ``thumb`` size), so the sheet is
``columns * CELL_WIDTH`` wide; a row is as tall as its longest caption block.
The font is Pillow's built-in one, so nothing needs the network or system fonts.
"""

from __future__ import annotations

import random

from PIL import Image, ImageDraw, ImageFont

from .items import CaptionDataset

THUMB = 128  # thumbnails fit in THUMB x THUMB
CELL_WIDTH = 168
PAD = 6
FONT_SIZE = 11
TITLE_HEIGHT = 24
INK, GREY, RULE = (20, 20, 20), (120, 120, 120), (225, 225, 225)


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    try:
        return ImageFont.load_default(size=size)  # Aileron, bundled with Pillow; needs FreeType
    except (ImportError, OSError, TypeError):
        return ImageFont.load_default()


def wrap(text: str, font, width: float) -> list[str]:
    """Greedy word wrap to ``width`` pixels; words longer than a line are split by character."""
    lines: list[str] = []
    line = ""
    for word in text.split():
        candidate = f"{line} {word}" if line else word
        if font.getlength(candidate) <= width:
            line = candidate
            continue
        if line:
            lines.append(line)
        while len(word) > 1 and font.getlength(word) > width:  # a single over-long word
            cut = len(word) - 1
            while cut > 1 and font.getlength(word[:cut]) > width:
                cut -= 1
            lines.append(word[:cut])
            word = word[cut:]
        line = word
    if line:
        lines.append(line)
    return lines or [""]


def _fit(text: str, font, width: float) -> str:
    """``text`` cut to ``width`` pixels with an ellipsis (for long ids)."""
    if font.getlength(text) <= width:
        return text
    while len(text) > 1 and font.getlength(text + "…") > width:
        text = text[:-1]
    return text + "…"


def _thumbnail(image: Image.Image, thumb: int = THUMB) -> Image.Image:
    image = image.convert("RGB")
    scale = thumb / max(image.size)
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    return image.resize(size, Image.Resampling.LANCZOS)


def _caption_lines(captions: tuple[str, ...], font, width: float) -> list[tuple[str, int]]:
    """(text, x indent) per line; several captions get a dash and a hanging indent."""
    if len(captions) == 1:
        return [(line, 0) for line in wrap(captions[0], font, width)]
    bullet = "- "
    indent = round(font.getlength(bullet))
    out: list[tuple[str, int]] = []
    for caption in captions:
        for k, line in enumerate(wrap(caption, font, width - indent)):
            out.append((bullet + line, 0) if k == 0 else (line, indent))
    return out


def contact_sheet(dataset: CaptionDataset, n: int = 64, columns: int = 8, seed: int = 0,
                  thumb: int = THUMB) -> Image.Image:
    """An RGB image: ``min(n, len(dataset))`` random items (seeded), each with its id and captions."""
    if n < 1 or columns < 1 or thumb < 8:
        raise ValueError(f"n and columns must be positive and thumb at least 8, got n={n}, columns={columns}, "
                         f"thumb={thumb}")
    cell_width = CELL_WIDTH - THUMB + thumb
    if len(dataset) == 0:
        raise ValueError(f"{dataset!r} is empty: nothing to preview")
    font, small = _font(FONT_SIZE), _font(FONT_SIZE - 2)
    ascent, descent = font.getmetrics()
    line_height = ascent + descent + 1
    text_width = cell_width - 2 * PAD
    indices = sorted(random.Random(seed).sample(range(len(dataset)), min(n, len(dataset))))

    cells = []
    for i in indices:
        item = dataset[i]
        cells.append((_thumbnail(item.image, thumb), item.id, _caption_lines(item.captions, font, text_width)))
    rows = [cells[r : r + columns] for r in range(0, len(cells), columns)]
    row_heights = [PAD + thumb + PAD + line_height + max(len(c[2]) for c in row) * line_height + PAD for row in rows]

    sheet = Image.new("RGB", (columns * cell_width, TITLE_HEIGHT + sum(row_heights)), "white")
    draw = ImageDraw.Draw(sheet)
    styles = getattr(dataset, "styles", None)
    name = f"{dataset.name} ({', '.join(styles)})" if styles else dataset.name
    title = f"{name} / {dataset.split}: {len(indices)} of {len(dataset)} items (seed {seed})"
    draw.text((PAD, TITLE_HEIGHT // 2), title, font=_font(FONT_SIZE + 3), fill=INK, anchor="lm")
    top = TITLE_HEIGHT
    for row, height in zip(rows, row_heights):
        draw.line([(0, top), (sheet.width, top)], fill=RULE)
        for col, (image, item_id, lines) in enumerate(row):
            left = col * cell_width
            sheet.paste(image, (left + (cell_width - image.width) // 2, top + PAD + (thumb - image.height) // 2))
            y = top + PAD + thumb + PAD
            draw.text((left + PAD, y), _fit(item_id, small, text_width), font=small, fill=GREY)
            for k, (line, indent) in enumerate(lines, start=1):
                draw.text((left + PAD + indent, y + k * line_height), line, font=font, fill=INK)
            if col:
                draw.line([(left, top), (left, top + height)], fill=RULE)
        top += height
    return sheet
