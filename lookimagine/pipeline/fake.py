"""A deterministic stand-in for ``LookImagineMatch``, for UI and API tests.

``FakePipeline`` satisfies the ``Pipeline`` protocol with no weights: a
gallery of drawn shapes ("a big red circle on the left"), a joint space built
from one random vector per attribute word, and two "models" that differ only
in how much noise they add (the baseline more, GXN less), so their rankings
differ and GXN usually wins. GXN "imagines" by drawing the shapes a sentence
names, or by describing the shape it sees; the baseline imagines nothing.

It applies the same input checks as the real pipeline (``validation``), so
the app's error handling can be tested on it.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import re
import time
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from PIL import Image, ImageDraw

from .outputs import Direction, Imagined, Look, ModelResult, QueryError, QueryResult, RankedItem
from .validation import MAX_PIXELS, clean_text, load_query_image, no_known_words_error, unknown_words_notice

COLOURS = {
    "red": (214, 48, 49),
    "green": (39, 160, 74),
    "blue": (41, 108, 214),
    "yellow": (236, 190, 28),
    "purple": (136, 72, 186),
    "orange": (243, 128, 32),
}
SHAPES = ("circle", "square", "triangle", "diamond")
POSITIONS = {"left": (0.3, 0.5), "right": (0.7, 0.5), "top": (0.5, 0.3), "bottom": (0.5, 0.7), "middle": (0.5, 0.5)}
SIZES = {"small": 0.22, "big": 0.36}
BACKGROUND = (246, 245, 240)
FILLER_WORDS = ("a", "an", "the", "on", "in", "at", "of", "shape", "one", "with", "and", "is")
BASELINE_NOTE = "The baseline has no generator: it only looks and matches."

_WORD = re.compile(r"[a-z]+")


@dataclass(frozen=True)
class _Scene:
    colour: str
    shape: str
    position: str
    size: str

    @property
    def caption(self) -> str:
        where = "in the middle" if self.position == "middle" else f"on the {self.position}"
        return f"a {self.size} {self.colour} {self.shape} {where}"

    @property
    def words(self) -> tuple[str, ...]:
        return (self.colour, self.shape, self.position, self.size)


def draw_scene(scene: _Scene, size: int = 64, jitter: np.random.Generator | None = None) -> Image.Image:
    """Draw one shape on a light background (4× supersampled, then downscaled)."""
    big = size * 4
    im = Image.new("RGB", (big, big), BACKGROUND)
    d = ImageDraw.Draw(im)
    cx, cy = POSITIONS[scene.position]
    r = SIZES[scene.size]
    colour = COLOURS[scene.colour]
    if jitter is not None:  # imagined samples differ a little from one another
        cx += jitter.uniform(-0.06, 0.06)
        cy += jitter.uniform(-0.06, 0.06)
        r *= jitter.uniform(0.85, 1.15)
        colour = tuple(int(np.clip(c + jitter.integers(-25, 26), 0, 255)) for c in colour)
    cx, cy, r = cx * big, cy * big, r * big / 2 * 1.2
    if scene.shape == "circle":
        d.ellipse([cx - r, cy - r, cx + r, cy + r], fill=colour)
    elif scene.shape == "square":
        s = r * 0.88
        d.rectangle([cx - s, cy - s, cx + s, cy + s], fill=colour)
    elif scene.shape == "triangle":
        d.polygon([(cx, cy - r), (cx + r, cy + r * 0.8), (cx - r, cy + r * 0.8)], fill=colour)
    else:  # diamond
        d.polygon([(cx, cy - r), (cx + r, cy), (cx, cy + r), (cx - r, cy)], fill=colour)
    return im.resize((size, size), Image.Resampling.LANCZOS)


def _stable_seed(*parts: object) -> int:
    """A seed from content (Python's ``hash`` is salted per process)."""
    digest = hashlib.sha256("\x1f".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "little")


def _image_key(im: Image.Image) -> str:
    rgb = im.convert("RGB")
    return hashlib.sha256(rgb.tobytes() + repr(rgb.size).encode()).hexdigest()


def _normalise(x: np.ndarray) -> np.ndarray:
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-8)


class _FakeModel:
    """One "model": attribute vectors plus a noise level (the baseline is noisier)."""

    def __init__(self, name: str, noise: float, seed: int, dim: int = 24):
        self.name = name
        self.noise = noise
        self.dim = dim
        rng = np.random.default_rng(_stable_seed("model", name, seed))
        words = [*COLOURS, *SHAPES, *POSITIONS, *SIZES]
        weights = {**{w: 1.0 for w in COLOURS}, **{w: 0.9 for w in SHAPES}, **{w: 0.6 for w in POSITIONS}}
        self.vectors = {w: weights.get(w, 0.35) * _normalise(rng.normal(size=dim)) for w in words}
        self.seed = seed

    def _noise(self, *key: object) -> np.ndarray:
        rng = np.random.default_rng(_stable_seed(self.name, self.seed, *key))
        return self.noise * rng.normal(size=self.dim) / np.sqrt(self.dim) * 2.0

    def embed_words(self, words: list[str], key: str) -> np.ndarray:
        v = sum((self.vectors[w] for w in words if w in self.vectors), np.zeros(self.dim))
        return _normalise(v + self._noise("text", key))

    def embed_scene(self, scene: _Scene, key: str) -> np.ndarray:
        return self.embed_words(list(scene.words), key="image:" + key)


def describe_image(im: Image.Image) -> _Scene:
    """Guess colour, shape, position and size of the main shape in a picture."""
    a = np.asarray(im.convert("RGB").resize((64, 64)), dtype=np.float64)
    diff = np.abs(a - np.array(BACKGROUND)).sum(-1)
    mask = diff > 60
    if mask.sum() < 4:  # nothing stands out: take the darkest quarter of the pixels
        mask = a.sum(-1) <= np.quantile(a.sum(-1), 0.25)
    mean = a[mask].mean(0)
    colour = min(COLOURS, key=lambda c: float(np.sum((np.array(COLOURS[c]) - mean) ** 2)))
    ys, xs = np.nonzero(mask)
    cx, cy = xs.mean() / 64, ys.mean() / 64
    position = min(POSITIONS, key=lambda p: (POSITIONS[p][0] - cx) ** 2 + (POSITIONS[p][1] - cy) ** 2)
    h, w = ys.max() - ys.min() + 1, xs.max() - xs.min() + 1
    fill = mask.sum() / float(h * w)
    size = "big" if max(h, w) / 64 > 0.34 else "small"
    if fill > 0.93:
        shape = "square"
    elif fill > 0.68:
        shape = "circle"
    else:  # triangles are wider at the bottom; diamonds are symmetric
        top, bottom = mask[ys.min() : ys.min() + h // 3].sum(), mask[ys.max() - h // 3 + 1 : ys.max() + 1].sum()
        shape = "triangle" if bottom > 1.5 * top else "diamond"
    return _Scene(colour, shape, position, size)


class FakePipeline:
    """Synthetic shapes, fake embeddings, real input validation.

    fail_on: a text query containing this string raises ``RuntimeError``
    (not a ``QueryError``), to test how the app survives unexpected failures.
    """

    dataset_name = "shapes"

    def __init__(
        self,
        name: str = "fake · shapes",
        n_gallery: int = 40,
        seed: int = 0,
        fail_on: str | None = None,
        *,
        image_size: int = 64,
        max_text_chars: int = 200,
        max_pixels: int = MAX_PIXELS,
    ):
        if n_gallery < 1:
            raise ValueError("n_gallery must be at least 1")
        self.name = name
        self.n_gallery = n_gallery
        self.seed = seed
        self.fail_on = fail_on
        self.image_size = image_size
        self.max_text_chars = max_text_chars
        self.max_pixels = max_pixels
        self.gallery_description = (
            f"fake shapes / test ({n_gallery} images, {n_gallery} captions) — synthetic data for UI tests"
        )
        self.attribution = (
            "Synthetic shapes drawn by `lookimagine.pipeline.fake` (public domain); no trained model involved."
        )
        # Distinct scenes (hence distinct captions) while the 240 combinations last.
        combos = list(itertools.product(COLOURS, SHAPES, POSITIONS, SIZES))
        rng = np.random.default_rng(_stable_seed("gallery", seed))
        picks = rng.choice(len(combos), size=n_gallery, replace=n_gallery > len(combos))
        self._scenes = [_Scene(*combos[i]) for i in picks]
        self._ids = [f"shape-{i:03d}" for i in range(n_gallery)]
        self._models = {"baseline": _FakeModel("baseline", 0.75, seed), "gxn": _FakeModel("gxn", 0.45, seed)}
        self.vocabulary = frozenset(w for s in self._scenes for w in _WORD.findall(s.caption)) | {
            *COLOURS, *SHAPES, *POSITIONS, *SIZES, *FILLER_WORDS,
        }

    # ------------------------------------------------------------------ gallery

    @cached_property
    def _images(self) -> list[Image.Image]:
        return [draw_scene(s, self.image_size) for s in self._scenes]

    @cached_property
    def _image_keys(self) -> dict[str, int]:
        return {_image_key(im): i for i, im in enumerate(self._images)}

    @cached_property
    def _captions(self) -> list[str]:
        return [s.caption for s in self._scenes]

    @cached_property
    def _gallery(self) -> dict[tuple[str, Direction], tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """Per (model, direction): gallery embeddings (N, D), PCA mean (D,), PCA axes (D, 2)."""
        out = {}
        for m, model in self._models.items():
            images = np.stack([model.embed_scene(describe_image(im), self._ids[i]) for i, im in enumerate(self._images)])
            texts = np.stack([model.embed_words(_WORD.findall(c), c) for c in self._captions])
            for direction, emb in (("text_to_image", images), ("image_to_text", texts)):
                mean = emb.mean(0)
                _, _, vt = np.linalg.svd(emb - mean, full_matrices=False)
                out[(m, direction)] = (emb, mean, vt[:2].T)
        return out

    # ------------------------------------------------------------------ protocol

    def run(self, query, k: int = 5, *, seed: int = 0, n_images: int = 1) -> QueryResult:
        if not isinstance(k, (int, np.integer)) or not 1 <= k <= self.n_gallery:
            raise QueryError(f"k must be a whole number from 1 to {self.n_gallery}.")
        if not isinstance(n_images, (int, np.integer)) or not 1 <= n_images <= 8:
            raise QueryError("The number of imagined images must be from 1 to 8.")
        if isinstance(query, str):
            return self._run_text(query, int(k), int(seed), int(n_images))
        if isinstance(query, (Image.Image, bytes, os.PathLike)):
            return self._run_image(load_query_image(query, self.max_pixels), int(k))
        raise QueryError(f"A query must be text or an image, not {type(query).__name__}.")

    def _run_text(self, text: str, k: int, seed: int, n_images: int) -> QueryResult:
        text, notices = clean_text(text, self.max_text_chars)
        if self.fail_on and self.fail_on in text:
            raise RuntimeError(f"FakePipeline was told to fail on {self.fail_on!r}")
        words = _WORD.findall(text.lower())
        known = [w for w in words if w in self.vocabulary]
        if not known:
            raise no_known_words_error(len(self.vocabulary))
        notice = unknown_words_notice(w for w in words if w not in self.vocabulary)
        notices += (notice,) if notice else ()
        truth = {i for i, c in enumerate(self._captions) if c == text.lower()}

        results = {}
        for m, model in self._models.items():
            t0 = time.perf_counter()
            q = model.embed_words(known, text.lower())
            ranking, gt_rank = self._rank(m, "text_to_image", q, k, truth)
            if m == "gxn":
                imagined = Imagined(images=tuple(self._imagine_images(known, seed, n_images)))
            else:
                imagined = Imagined(note=BASELINE_NOTE)
            results[m] = ModelResult(m, self._look(m, "text_to_image", q), imagined, ranking, gt_rank,
                                     time.perf_counter() - t0)
        return QueryResult("text_to_image", text, results["baseline"], results["gxn"], tuple(notices))

    def _run_image(self, im: Image.Image, k: int) -> QueryResult:
        key = _image_key(im)
        truth = {self._image_keys[key]} if key in self._image_keys else set()
        scene = describe_image(im)
        results = {}
        for m, model in self._models.items():
            t0 = time.perf_counter()
            query_id = self._ids[next(iter(truth))] if truth else key
            q = model.embed_scene(scene, query_id)
            ranking, gt_rank = self._rank(m, "image_to_text", q, k, truth)
            imagined = Imagined(caption=scene.caption) if m == "gxn" else Imagined(note=BASELINE_NOTE)
            results[m] = ModelResult(m, self._look(m, "image_to_text", q), imagined, ranking, gt_rank,
                                     time.perf_counter() - t0)
        return QueryResult("image_to_text", None, results["baseline"], results["gxn"], ())

    def _rank(self, m: str, direction: Direction, q: np.ndarray, k: int, truth: set[int]):
        emb = self._gallery[(m, direction)][0]
        scores = emb @ q
        order = np.argsort(-scores, kind="stable")
        ranks = np.empty_like(order)
        ranks[order] = np.arange(1, len(order) + 1)
        gt_rank = int(min(ranks[i] for i in truth)) if truth else None
        items = tuple(
            RankedItem(
                rank=r + 1,
                index=int(i),
                id=self._ids[i],
                score=float(scores[i]),
                caption=self._captions[i],
                image=self._images[i] if direction == "text_to_image" else None,
                is_ground_truth=int(i) in truth,
            )
            for r, i in enumerate(order[:k])
        )
        return items, gt_rank

    def _look(self, m: str, direction: Direction, q: np.ndarray) -> Look:
        emb, mean, axes = self._gallery[(m, direction)]
        return Look(embedding=q, gallery_xy=(emb - mean) @ axes, query_xy=(q - mean) @ axes)

    def _imagine_images(self, words: list[str], seed: int, n: int) -> list[Image.Image]:
        rng = np.random.default_rng(_stable_seed("imagine", self.seed, seed, " ".join(words)))

        def pick(options, default_pool):
            named = [w for w in words if w in options]
            return named[0] if named else str(rng.choice(list(default_pool)))

        out = []
        for _ in range(n):
            scene = _Scene(pick(COLOURS, COLOURS), pick(SHAPES, SHAPES), pick(POSITIONS, POSITIONS), pick(SIZES, SIZES))
            out.append(draw_scene(scene, self.image_size, jitter=rng))
        return out

    def examples(self, direction: Direction, n: int = 8):
        idx = np.linspace(0, self.n_gallery - 1, num=min(n, self.n_gallery)).round().astype(int)
        idx = list(dict.fromkeys(int(i) for i in idx))
        if direction == "text_to_image":
            return [self._captions[i] for i in idx]
        if direction == "image_to_text":
            return [self._images[i].copy() for i in idx]
        raise ValueError(f"unknown direction {direction!r}")

    @cached_property
    def _differences(self) -> tuple[dict, ...]:
        rows = []
        for i, caption in enumerate(self._captions):
            truth = {j for j, c in enumerate(self._captions) if c == caption}
            ranks = {}
            for m, model in self._models.items():
                q = model.embed_words(_WORD.findall(caption), caption)
                ranks[m] = self._rank(m, "text_to_image", q, 1, truth)[1]
            rows.append(("text_to_image", self._ids[i], caption, ranks))
        for i, im in enumerate(self._images):
            scene = describe_image(im)
            ranks = {m: self._rank(m, "image_to_text", model.embed_scene(scene, self._ids[i]), 1, {i})[1]
                     for m, model in self._models.items()}
            rows.append(("image_to_text", self._ids[i], None, ranks))
        out = [
            {"direction": d, "query_id": qid, "query_text": text, "baseline_rank": r["baseline"], "gxn_rank": r["gxn"],
             "winner": "gxn" if r["gxn"] < r["baseline"] else "baseline"}
            for d, qid, text, r in rows
            if r["gxn"] != r["baseline"]
        ]
        out.sort(key=lambda row: (-abs(row["baseline_rank"] - row["gxn_rank"]), row["direction"], row["query_id"]))
        # Mostly GXN's wins (the biggest gaps first), but keep some of the baseline's too.
        keep = [r for r in out if r["winner"] == "gxn"][:18] + [r for r in out if r["winner"] == "baseline"][:6]
        return tuple(r for r in out if r in keep)

    def differences(self) -> list[dict]:
        return [dict(row) for row in self._differences]

    def query_of(self, direction: Direction, query_id: str):
        try:
            i = self._ids.index(query_id)
        except ValueError:
            raise QueryError(f"No query with id {query_id!r} in this gallery.") from None
        if direction == "text_to_image":
            return self._captions[i]
        if direction == "image_to_text":
            return self._images[i].copy()
        raise ValueError(f"unknown direction {direction!r}")

    def __repr__(self) -> str:
        return f"FakePipeline(name={self.name!r}, n_gallery={self.n_gallery}, seed={self.seed})"
