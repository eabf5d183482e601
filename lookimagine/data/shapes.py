"""The ``shapes`` dataset: procedurally drawn scenes of 1–3 coloured shapes.

Each image is drawn from a ``Scene`` (the ground truth): 1–3 non-overlapping
objects, each a shape (6) × colour (7) × size (small/large), on a white or
light background. Five captions per image name attributes, counts and spatial
relations, several of them only tellable apart by binding colour to shape
("a red circle left of a blue square" vs "a blue circle left of a red square").

Determinism and splits
    Item ``i`` of split ``s`` with dataset seed ``k`` is drawn from
    ``random.Random(sha256(f"{k}/{s}/{i}/scene"))`` (captions from a ``.../captions``
    stream), so every item is reproducible on its own and the splits are
    disjoint seed streams. Sizes: train 20,000 by default (any ``n``: items are
    generated lazily per index), val / test / test-heldout 1,000.
    Ids: ``shapes-{split}-{i:06d}`` (unique for one seed).

Held-out combinations
    ``HELD_OUT`` colour–shape pairs never appear in train, val or test; every
    ``test-heldout`` image contains at least one of them (its other objects may
    be any combination). test-heldout is thus the only place they occur.

Spatial rule (``relation_holds``)
    In unit coordinates with y pointing down, "A left of B" holds iff A's
    bounding box lies entirely left of B's (``A.x1 <= B.x0``); right, above and
    below likewise. Objects are placed at least ``GAP`` apart along some axis,
    and captions only use the axis with the larger gap, so every stated relation
    is clear to the eye, while the checker accepts any relation the rule allows.

Truth checker
    ``caption_is_true(caption, scene)`` parses a caption with its own regular
    grammar over the closed vocabulary and evaluates it on the scene's objects;
    it never calls the caption generator. Existential phrases ("a red circle")
    need one matching object, counts ("two red shapes") are exact, definites
    ("the circle is red") need exactly one matching object.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import random
import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw

from .items import CaptionDataset, SentenceNotUnderstood

SHAPES = ("circle", "square", "triangle", "star", "diamond", "cross")
PLURALS = {"circle": "circles", "square": "squares", "triangle": "triangles", "star": "stars",
           "diamond": "diamonds", "cross": "crosses", "shape": "shapes"}
COLOURS = {"red": (220, 38, 38), "orange": (245, 130, 20), "yellow": (232, 196, 16), "green": (34, 150, 56),
           "blue": (40, 90, 220), "purple": (140, 60, 190), "gray": (120, 120, 120)}
SIZES = {"small": 0.22, "large": 0.38}  # side of the shape's square box, as a fraction of the image
HELD_OUT = frozenset({("red", "star"), ("green", "triangle"), ("blue", "circle"), ("yellow", "square"),
                      ("purple", "diamond")})
SPLIT_SIZES = {"train": 20_000, "val": 1_000, "test": 1_000, "test-heldout": 1_000}
RELATIONS = {"left of": "left", "to the left of": "left", "right of": "right", "to the right of": "right",
             "above": "above", "below": "below"}
NUMBERS = ("one", "two", "three")
GAP = 0.04  # objects are at least this far apart along some axis (unit coordinates)
MARGIN = 0.03  # and this far from the image border
SUPERSAMPLE = 2  # draw at 2x and box-filter down, for anti-aliased edges


@dataclass(frozen=True)
class SceneObject:
    """One shape. Unit coordinates (0..1, y down): centre ``x, y``; ``bbox = (x0, y0, x1, y1)``."""

    shape: str
    colour: str
    size: str
    x: float
    y: float
    bbox: tuple[float, float, float, float]


@dataclass(frozen=True)
class Scene:
    objects: tuple[SceneObject, ...]
    background: tuple[int, int, int]


def _outline(shape: str) -> list[tuple[float, float]]:
    """Polygon of ``shape`` in its unit box [-0.5, 0.5]² (circles: the box corners)."""
    if shape == "circle":
        return [(-0.5, -0.5), (0.5, 0.5)]
    if shape == "square":
        return [(-0.42, -0.42), (0.42, -0.42), (0.42, 0.42), (-0.42, 0.42)]
    if shape == "triangle":
        return [(0.0, -0.48), (0.5, 0.40), (-0.5, 0.40)]
    if shape == "diamond":
        return [(0.0, -0.5), (0.38, 0.0), (0.0, 0.5), (-0.38, 0.0)]
    if shape == "star":  # five points, outer radius 0.5, inner 0.2, one point up; shifted to centre its box
        pts = [((0.5 if k % 2 == 0 else 0.2) * math.sin(k * math.pi / 5),
                -(0.5 if k % 2 == 0 else 0.2) * math.cos(k * math.pi / 5)) for k in range(10)]
        return [(px, py + 0.05) for px, py in pts]
    if shape == "cross":
        a, b = 0.16, 0.46
        return [(-a, -b), (a, -b), (a, -a), (b, -a), (b, a), (a, a),
                (a, b), (-a, b), (-a, a), (-b, a), (-b, -a), (-a, -a)]
    raise ValueError(f"unknown shape {shape!r}")


def _place(outline, x: float, y: float, side: float) -> list[tuple[float, float]]:
    return [(x + px * side, y + py * side) for px, py in outline]


def _bbox(points) -> tuple[float, float, float, float]:
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    return (min(xs), min(ys), max(xs), max(ys))


def _apart(a, b, gap: float) -> bool:
    """True when boxes ``a`` and ``b`` are at least ``gap`` apart along x or y."""
    return a[2] + gap <= b[0] or b[2] + gap <= a[0] or a[3] + gap <= b[1] or b[3] + gap <= a[1]


def sample_scene(
    rng: random.Random, combos: list[tuple[str, str]], required: list[tuple[str, str]] | None = None
) -> Scene:
    """Draw 1–3 objects (20% / 40% / 40%) with colour–shape pairs from ``combos``.

    ``required`` pairs (used by test-heldout) come first and are always included.
    """
    n_objects = rng.choices((1, 2, 3), weights=(2, 4, 4))[0]
    pairs = list(required or [])
    pairs += [rng.choice(combos) for _ in range(n_objects - len(pairs))]
    while True:  # rejection sampling; three large objects fit easily, so this ends quickly
        objects: list[SceneObject] = []
        for colour, shape in pairs:
            size = rng.choice(tuple(SIZES))
            side, outline = SIZES[size], _outline(shape)
            for _ in range(50):
                x = rng.uniform(MARGIN + side / 2, 1 - MARGIN - side / 2)
                y = rng.uniform(MARGIN + side / 2, 1 - MARGIN - side / 2)
                box = _bbox(_place(outline, x, y, side))
                if all(_apart(box, o.bbox, GAP) for o in objects):
                    objects.append(SceneObject(shape, colour, size, x, y, box))
                    break
        if len(objects) == len(pairs):
            break
    rng.shuffle(objects)
    background = (255, 255, 255) if rng.random() < 0.4 else tuple(rng.randint(228, 255) for _ in range(3))
    return Scene(tuple(objects), background)


def draw_scene(scene: Scene, image_size: int = 64) -> Image.Image:
    """Render a scene to an RGB image of ``image_size``²."""
    canvas = image_size * SUPERSAMPLE
    image = Image.new("RGB", (canvas, canvas), scene.background)
    draw = ImageDraw.Draw(image)
    for o in scene.objects:
        side = SIZES[o.size] * canvas
        points = _place(_outline(o.shape), o.x * canvas, o.y * canvas, side)
        if o.shape == "circle":
            draw.ellipse(_bbox(points), fill=COLOURS[o.colour])
        else:
            draw.polygon(points, fill=COLOURS[o.colour])
    return image.reduce(SUPERSAMPLE) if SUPERSAMPLE > 1 else image


# ----------------------------------------------------------------- captions


def relation_holds(a: SceneObject, b: SceneObject, relation: str) -> bool:
    """The spatial rule: ``relation`` in left/right/above/below; boxes entirely on that side."""
    if relation == "left":
        return a.bbox[2] <= b.bbox[0]
    if relation == "right":
        return a.bbox[0] >= b.bbox[2]
    if relation == "above":
        return a.bbox[3] <= b.bbox[1]
    if relation == "below":
        return a.bbox[1] >= b.bbox[3]
    raise ValueError(f"unknown relation {relation!r}")


def _dominant_relation(a: SceneObject, b: SceneObject) -> str:
    """The relation of ``a`` to ``b`` along the axis where their boxes are furthest apart."""
    gaps = {"left": b.bbox[0] - a.bbox[2], "right": a.bbox[0] - b.bbox[2],
            "above": b.bbox[1] - a.bbox[3], "below": a.bbox[1] - b.bbox[3]}
    return max(gaps, key=gaps.get)


def _a(phrase: str) -> str:
    return ("an " if phrase[0] in "aeiou" else "a ") + phrase


def _count(n: int, words: str, noun: str, rng: random.Random) -> str:
    body = f"{NUMBERS[n - 1]} {words}{PLURALS[noun] if n > 1 else noun}"
    return rng.choice(("", "there is " if n == 1 else "there are ")) + body


def generate_captions(scene: Scene, rng: random.Random, k: int = 5) -> tuple[str, ...]:
    """``k`` distinct true captions: binding-sensitive relations first for multi-object scenes."""
    objs = scene.objects
    full = [f"{o.size} {o.colour} {o.shape}" for o in objs]
    cs = [f"{o.colour} {o.shape}" for o in objs]
    fam: dict[str, list[str]] = {"describe": [], "bound": [], "relation": [], "and": [], "count": [], "definite": []}
    for i, o in enumerate(objs):
        fam["describe"] += [_a(full[i]), "there is " + _a(full[i]), _a(cs[i]), _a(f"{o.size} {o.shape}")]
    unique = [sum(p.colour == o.colour and p.shape == o.shape for p in objs) == 1 for o in objs]
    pair_of: dict[str, tuple[int, int]] = {}  # relation caption -> the (i, j) it describes
    for i, a in enumerate(objs):
        for j, b in enumerate(objs):
            if i == j:
                continue
            if cs[i] == cs[j]:  # "a purple star left of a purple star": true but says little; counted instead
                continue
            words = rng.choice([w for w, r in RELATIONS.items() if r == _dominant_relation(a, b)])
            new = [f"{_a(full[i])} {words} {_a(full[j])}", f"{_a(cs[i])} {words} {_a(cs[j])}"]
            fam["bound"].append(new[0])
            fam["relation"].append(new[1])
            if unique[i] and unique[j]:
                new.append(f"the {cs[i]} is {words} the {cs[j]}")
                fam["relation"].append(new[2])
            pair_of.update({c: (i, j) for c in new})
            if i < j:
                fam["and"].append(f"{_a(cs[i])} and {_a(cs[j])}")
    fam["count"].append(_count(len(objs), "", "shape", rng))
    for colour in dict.fromkeys(o.colour for o in objs):  # dict, not set: iteration order must not depend on hashing
        fam["count"].append(_count(sum(o.colour == colour for o in objs), colour + " ", "shape", rng))
    for shape in dict.fromkeys(o.shape for o in objs):
        fam["count"].append(_count(sum(o.shape == shape for o in objs), "", shape, rng))
    for colour, shape in dict.fromkeys((o.colour, o.shape) for o in objs):
        if (n := sum(o.colour == colour and o.shape == shape for o in objs)) > 1:
            fam["count"].append(_count(n, colour + " ", shape, rng))
    for o in objs:
        if sum(p.shape == o.shape for p in objs) == 1:
            fam["definite"] += [f"the {o.shape} is {o.colour}", f"the {o.shape} is {o.size}"]
        if sum(p.colour == o.colour for p in objs) == 1:
            fam["definite"].append(f"the {o.colour} shape is {_a(o.shape)}")
    # one caption from each family in this order, then the rest at random from everything left
    if len(objs) == 1:
        order = ["describe", "describe", "count", "definite"]
    else:
        order = ["bound", "relation", "count", "and", "definite"]
    captions: list[str] = [_a(full[0])] if len(objs) == 1 else []
    for name in order:
        used_pairs = {pair_of.get(c) for c in captions}  # a second relation describes another pair or direction
        unused = sorted(c for c in set(fam[name]) - set(captions) if name != "relation" or pair_of[c] not in used_pairs)
        if unused and len(captions) < k:
            captions.append(rng.choice(unused))
    rest = sorted({c for v in fam.values() for c in v} - set(captions))
    captions += rng.sample(rest, min(k - len(captions), len(rest)))
    return tuple(captions[:k])


# ------------------------------------------------------------ truth checker

_SIZE = "(small|large)"
_COLOUR = "(" + "|".join(COLOURS) + ")"
_NOUN = "(" + "|".join(SHAPES) + "|shape)"
_PLURAL = "(" + "|".join(PLURALS.values()) + ")"
_REL = "(" + "|".join(sorted(RELATIONS, key=len, reverse=True)) + ")"
_NP = f"an? (?:{_SIZE} )?(?:{_COLOUR} )?{_NOUN}"
_DEF = f"the (?:{_SIZE} )?(?:{_COLOUR} )?{_NOUN}"
_GRAMMAR = [
    ("exists", re.compile(f"(?:there is )?{_NP}")),
    ("and", re.compile(f"{_NP} and {_NP}")),
    ("relation", re.compile(f"{_NP} {_REL} {_NP}")),
    ("def_relation", re.compile(f"{_DEF} is {_REL} {_DEF}")),
    ("count", re.compile(f"(there is |there are )?(one|two|three) (?:{_SIZE} )?(?:{_COLOUR} )?(?:{_NOUN}|{_PLURAL})")),
    ("definite", re.compile(f"{_DEF} is (?:{_SIZE}|{_COLOUR}|an? {_NOUN})")),
]


def _fits(o: SceneObject, size: str | None, colour: str | None, noun: str | None) -> bool:
    """Whether ``o`` fits a description; None (or the noun "shape") matches anything."""
    return size in (None, o.size) and colour in (None, o.colour) and noun in (None, "shape", o.shape)


def _matching(scene: Scene, size, colour, noun) -> list[SceneObject]:
    return [o for o in scene.objects if _fits(o, size, colour, noun)]


@lru_cache(maxsize=65536)
def parse_caption(caption: str) -> tuple[str, tuple]:
    """``(kind, groups)`` of a caption under the grammar; ``ValueError`` if it is outside it.

    Parsing is cached: evaluation and training check the same few thousand texts against many scenes.
    """
    text = caption.strip().lower()
    for kind, pattern in _GRAMMAR:
        m = pattern.fullmatch(text)
        if m is None:
            continue
        g = m.groups()
        if kind == "count":
            there, number, size, colour, singular, plural = g
            n = NUMBERS.index(number) + 1
            if (n == 1) != (singular is not None) or (there and (there == "there is ") != (n == 1)):
                raise ValueError(f"number disagreement in {caption!r}")
            noun = singular or next(s for s, p in PLURALS.items() if p == plural)
            return kind, (n, size, colour, noun)
        return kind, g
    raise ValueError(f"caption outside the shapes grammar: {caption!r}")


def _holds(kind: str, g: tuple, scene: Scene) -> bool:
    """Evaluate a parsed caption on a scene (see ``caption_is_true``)."""
    if kind == "exists":
        return bool(_matching(scene, *g))
    if kind == "and":
        return any(a is not b for a in _matching(scene, *g[:3]) for b in _matching(scene, *g[3:]))
    if kind == "relation":
        rel = RELATIONS[g[3]]
        pairs = itertools.product(_matching(scene, *g[:3]), _matching(scene, *g[4:]))
        return any(a is not b and relation_holds(a, b, rel) for a, b in pairs)
    if kind == "def_relation":
        a, b = _matching(scene, *g[:3]), _matching(scene, *g[4:])
        return len(a) == 1 and len(b) == 1 and a[0] is not b[0] and relation_holds(a[0], b[0], RELATIONS[g[3]])
    if kind == "count":
        n, size, colour, noun = g
        return len(_matching(scene, size, colour, noun)) == n
    size, colour, noun, p_size, p_colour, p_noun = g  # definite
    found = _matching(scene, size, colour, noun)
    return len(found) == 1 and _fits(found[0], p_size, p_colour, p_noun)


#: every word the checker's grammar reads
GRAMMAR_WORDS = frozenset({*SIZES, *COLOURS, *SHAPES, "shape", *PLURALS.values(), *NUMBERS,
                           *(w for r in RELATIONS for w in r.split()), "a", "an", "the", "is", "there", "are", "and"})
_PUNCTUATION = re.compile(r"[.,;:!?\"']+")


def normalise_sentence(text: str) -> str:
    """A free sentence as the checker reads it: lower case, punctuation dropped, single spaces."""
    return " ".join(_PUNCTUATION.sub(" ", text.lower()).split())


def why_not_understood(text: str) -> str:
    """What the checker cannot read in a sentence outside its grammar, in words for a person."""
    unknown = sorted({w for w in normalise_sentence(text).split() if w not in GRAMMAR_WORDS})
    if unknown:
        return "the checker does not know " + ", ".join(f"“{w}”" for w in unknown[:6])
    return ("its words are known, but not in an order the checker reads (it reads e.g. “a red circle”, "
            "“two blue squares”, “a red circle left of a blue square”, “the circle is red”)")


def caption_is_true(caption: str, scene: Scene) -> bool:
    """Whether ``caption`` is true of ``scene``; ``ValueError`` if it is outside the grammar."""
    return _holds(*parse_caption(caption), scene)


# Caption types for per-type recall: what a caption asks the model to get right.
CAPTION_TYPES = ("existence", "attributes", "counts", "conjunctions", "relations")
_TYPE_OF_KIND = {"exists": "existence", "definite": "attributes", "count": "counts", "and": "conjunctions",
                 "relation": "relations", "def_relation": "relations"}


def caption_type(caption: str) -> str:
    """One of ``CAPTION_TYPES``: existence ("a red circle"), attributes ("the circle is red"),
    counts ("two red shapes"), conjunctions ("a red circle and a blue square"), relations ("… left of …")."""
    return _TYPE_OF_KIND[parse_caption(caption)[0]]


# Counterfactual captions: the same sentence with one outline (or one colour) changed. A drawing with the right
# colours in the right places but the wrong outlines is read as such a caption
# (scripts/imagination/exact_misses.py), so the matching critic is asked to tell them apart
# (``TrainConfig.w_match_swap``).
_SHAPE_NOUNS = (*SHAPES, *(PLURALS[s] for s in SHAPES))
_SWAP_WORDS = {"shapes": _SHAPE_NOUNS, "colours": tuple(COLOURS), "shapes+colours": (*_SHAPE_NOUNS, *COLOURS)}
_SWAP_PATTERN = {kind: re.compile(r"\b(" + "|".join(sorted(words, key=len, reverse=True)) + r")\b")
                 for kind, words in _SWAP_WORDS.items()}


def _replacement(word: str, rng: random.Random) -> str:
    """Another word of ``word``'s kind: a colour for a colour, a shape in the same number for a shape."""
    if word in COLOURS:
        return rng.choice([c for c in COLOURS if c != word])
    shape = next(s for s in SHAPES if word in (s, PLURALS[s]))
    other = rng.choice([s for s in SHAPES if s != shape])
    return other if word in SHAPES else PLURALS[other]


def swap_a_word(caption: str, rng: random.Random, kinds: str = "shapes") -> str | None:
    """``caption`` with one of its shape nouns (``kinds="colours"``: colour words; ``"shapes+colours"``:
    either), chosen by ``rng``, replaced by another of its kind, shapes keeping their number ("a red
    circle left of two blue stars" → "a red circle left of two blue crosses"); None when it names none ("two
    shapes"). The result may still be true of a scene: check it (``caption_is_true``)."""
    found = list(_SWAP_PATTERN[kinds].finditer(caption))
    if not found:
        return None
    m = rng.choice(found)
    return caption[:m.start()] + _replacement(m.group(1), rng) + caption[m.end():]


def truth_matrix(captions: list[str], scenes: list[Scene]) -> np.ndarray:
    """(len(scenes), len(captions)) bool: caption j is true of scene i, by the checker.

    Each distinct caption text is parsed once; a 1,000 × 5,000 test split takes a few seconds.
    """
    unique: dict[str, int] = {}
    cols = np.array([unique.setdefault(c, len(unique)) for c in captions], dtype=np.int64)
    parsed = [parse_caption(c) for c in unique]
    table = np.array([[_holds(kind, g, scene) for kind, g in parsed] for scene in scenes], dtype=bool)
    return table.reshape(len(scenes), len(unique))[:, cols]


# ------------------------------------------------------------------ dataset


def _rng(*parts) -> random.Random:
    return random.Random(int.from_bytes(hashlib.sha256("/".join(map(str, parts)).encode()).digest()[:8], "big"))


_ALL_PAIRS = [(c, s) for c in COLOURS for s in SHAPES]
_SEEN_PAIRS = [p for p in _ALL_PAIRS if p not in HELD_OUT]


@lru_cache(maxsize=8192)
def _scene(seed: int, split: str, index: int) -> Scene:
    """Scene ``index`` of ``split``: test-heldout scenes hold a held-out pair, the others none."""
    rng = _rng(seed, split, index, "scene")
    if split == "test-heldout":
        return sample_scene(rng, _ALL_PAIRS, required=[rng.choice(sorted(HELD_OUT))])
    return sample_scene(rng, _SEEN_PAIRS)


class ShapesDataset(CaptionDataset):
    """Scenes of coloured shapes, 5 captions each; ``scene_of(i)`` gives the ground truth.

    ``ShapesDataset("train", n=50_000, seed=0, image_size=64)``; splits: train, val, test, test-heldout.
    """

    name = "shapes"

    def __init__(self, split: str = "test", n: int | None = None, seed: int = 0, image_size: int = 64):
        if split not in SPLIT_SIZES:
            raise ValueError(f"shapes has splits {', '.join(SPLIT_SIZES)}, not {split!r}")
        if n is not None and n < 0:
            raise ValueError(f"n must be >= 0, got {n}")
        if not 8 <= image_size <= 1024:
            raise ValueError(f"image_size must be between 8 and 1024, got {image_size}")
        self.split, self.seed, self.image_size = split, seed, image_size
        self.n = SPLIT_SIZES[split] if n is None else n

    def __len__(self) -> int:
        return self.n

    def _check(self, index: int) -> None:
        if not 0 <= index < self.n:
            raise IndexError(f"shapes/{self.split}: index {index} out of range 0..{self.n - 1}")

    def scene_of(self, index: int) -> Scene:
        """The ground-truth scene of item ``index``."""
        self._check(index)
        return _scene(self.seed, self.split, index)

    def load_image(self, index: int) -> Image.Image:
        return draw_scene(self.scene_of(index), self.image_size)

    def captions_of(self, index: int) -> tuple[str, ...]:
        return generate_captions(self.scene_of(index), _rng(self.seed, self.split, index, "captions"))

    def id_of(self, index: int) -> str:
        self._check(index)
        return f"shapes-{self.split}-{index:06d}"

    def truth_of(self, captions, indices) -> np.ndarray:
        """(len(indices), len(captions)) bool: caption j is true of scene indices[i], by ``caption_is_true``."""
        return truth_matrix(list(captions), [self.scene_of(i) for i in indices])

    def check_sentence(self, text: str, indices=None) -> np.ndarray:
        """(len(indices),) bool: ``text`` (any sentence, normalised) is true of each scene, by the checker."""
        try:
            kind, groups = parse_caption(normalise_sentence(text))
        except ValueError:
            raise SentenceNotUnderstood(why_not_understood(text)) from None
        indices = range(len(self)) if indices is None else indices
        return np.array([_holds(kind, groups, self.scene_of(i)) for i in indices], dtype=bool)

    def caption_type(self, caption: str) -> str:
        return caption_type(caption)
