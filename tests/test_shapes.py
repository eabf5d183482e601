"""The shapes dataset: determinism, splits, held-out pairs, and captions checked against scenes."""

from __future__ import annotations

import hashlib
import itertools
import os
import subprocess
import sys

import numpy as np
import pytest

from lookimagine.data import load_dataset
from lookimagine.data.shapes import (
    COLOURS,
    HELD_OUT,
    SHAPES,
    Scene,
    SceneObject,
    ShapesDataset,
    caption_is_true,
    relation_holds,
)


def _obj(shape, colour, x, y, size="small", half=0.1):
    return SceneObject(shape, colour, size, x, y, (x - half, y - half, x + half, y + half))


def _pixels_hash(image) -> str:
    return hashlib.sha1(np.asarray(image).tobytes()).hexdigest()


def test_split_sizes_and_ids():
    assert [len(ShapesDataset(s)) for s in ("train", "val", "test", "test-heldout")] == [20_000, 1_000, 1_000, 1_000]
    assert len(ShapesDataset("train", n=123_456)) == 123_456
    test = load_dataset("shapes", "test")
    assert isinstance(test, ShapesDataset) and test.id_of(123) == "shapes-test-000123"
    with pytest.raises(IndexError):
        test[1000]
    with pytest.raises(ValueError):
        ShapesDataset("heldout")


def test_same_seed_same_pixels_and_captions():
    a, b = ShapesDataset("val", seed=3), ShapesDataset("val", seed=3)
    for i in (0, 1, 17, 999):
        assert np.array_equal(np.asarray(a[i].image), np.asarray(b[i].image))
        assert a.captions_of(i) == b.captions_of(i) and a.scene_of(i) == b.scene_of(i)
    other = ShapesDataset("val", seed=4)
    assert any(a.scene_of(i) != other.scene_of(i) for i in range(10))


def test_captions_are_stable_across_versions_and_processes():
    # golden values: a change here silently changes every split of the dataset
    assert ShapesDataset("test").captions_of(0) == (
        "a small orange circle to the right of a large green star",
        "a purple star to the left of an orange circle",
        "one green shape",
        "a purple star and a green star",
        "the orange shape is a circle",
    )
    code = "from lookimagine.data.shapes import ShapesDataset as S; print(S('test-heldout').captions_of(5))"
    outputs = {
        subprocess.run([sys.executable, "-c", code], env={**os.environ, "PYTHONHASHSEED": h},
                       capture_output=True, text=True, check=True).stdout
        for h in ("1", "2")
    }
    assert outputs == {repr(ShapesDataset("test-heldout").captions_of(5)) + "\n"}


def test_images_and_captions_are_well_formed():
    data = ShapesDataset("test", image_size=48)
    for i in range(200):
        item = data[i]
        assert item.image.mode == "RGB" and item.image.size == (48, 48)
        assert len(item.captions) == 5 and len(set(item.captions)) == 5
        scene = data.scene_of(i)
        assert 1 <= len(scene.objects) <= 3
        for o in scene.objects:
            assert o.shape in SHAPES and o.colour in COLOURS and o.size in ("small", "large")
            assert 0 <= o.bbox[0] < o.bbox[2] <= 1 and 0 <= o.bbox[1] < o.bbox[3] <= 1
        for p, q in itertools.combinations(scene.objects, 2):  # non-overlapping: separated along x or y
            assert any(relation_holds(p, q, r) for r in ("left", "right", "above", "below"))


def test_splits_are_disjoint():
    train = ShapesDataset("train")
    others = [ShapesDataset(s) for s in ("val", "test", "test-heldout")]
    ids = [{d.id_of(i) for i in range(len(d))} for d in [train, *others]]
    assert sum(len(s) for s in ids) == len(set().union(*ids))
    train_hashes = {_pixels_hash(train.load_image(i)) for i in range(len(train))}
    for d in others:
        hashes = {_pixels_hash(d.load_image(i)) for i in range(len(d))}
        assert not hashes & train_hashes, d.split


def test_held_out_pairs_only_in_test_heldout():
    assert len(HELD_OUT) == 5 and all(c in COLOURS and s in SHAPES for c, s in HELD_OUT)
    for split, n in (("train", 5000), ("val", 1000), ("test", 1000)):
        data = ShapesDataset(split)
        pairs = {(o.colour, o.shape) for i in range(n) for o in data.scene_of(i).objects}
        assert not pairs & HELD_OUT, split
        assert len(pairs) == len(COLOURS) * len(SHAPES) - len(HELD_OUT)  # every other pair does occur
    heldout = ShapesDataset("test-heldout")
    for i in range(len(heldout)):
        assert any((o.colour, o.shape) in HELD_OUT for o in heldout.scene_of(i).objects)


def test_every_caption_is_true_of_its_scene():
    for split, n in (("train", 1000), ("val", 400), ("test", 300), ("test-heldout", 300)):
        data = ShapesDataset(split)
        for i in range(n):
            scene = data.scene_of(i)
            for caption in data.captions_of(i):
                assert caption_is_true(caption, scene), (split, i, caption, scene)


def test_checker_can_fail_on_corrupted_captions():
    """In a 2-object scene with different colours and shapes, swapped colours and flipped relations are false."""
    flip = {"left of": "right of", "right of": "left of", "above": "below", "below": "above"}
    data = ShapesDataset("train")
    checked = 0
    for i in range(3000):
        scene = data.scene_of(i)
        if len(scene.objects) != 2:
            continue
        a, b = scene.objects
        if a.colour == b.colour or a.shape == b.shape:
            continue
        bound = data.captions_of(i)[0]  # "a small red circle left of a large blue square"
        assert caption_is_true(bound, scene)
        swapped = bound.replace(a.colour, "@").replace(b.colour, a.colour).replace("@", b.colour)
        assert not caption_is_true(swapped, scene), (bound, swapped)
        relation = next(r for r in sorted(flip, key=len, reverse=True) if f" {r} " in bound)
        flipped = bound.replace(f" {relation} ", f" {flip[relation]} ")
        assert not caption_is_true(flipped, scene), (bound, flipped)
        assert not caption_is_true(f"a {a.colour} {b.shape}", scene)
        checked += 1
    assert checked > 300


def test_checker_on_a_hand_made_scene():
    red_circle, blue_square = _obj("circle", "red", 0.2, 0.5), _obj("square", "blue", 0.8, 0.5, size="large")
    scene = Scene((red_circle, blue_square), (255, 255, 255))
    truth = {
        "a red circle left of a blue square": True,
        "a red circle to the left of a large blue square": True,
        "a blue circle left of a red square": False,
        "a blue square left of a red circle": False,
        "a blue square right of a red circle": True,
        "a red circle above a blue square": False,
        "the red circle is left of the blue square": True,
        "the blue square is left of the red circle": False,
        "a red circle and a blue square": True,
        "a red square and a blue circle": False,
        "there are two shapes": True,
        "three shapes": False,
        "one red shape": True,
        "two red shapes": False,
        "there is one circle": True,
        "the circle is red": True,
        "the circle is blue": False,
        "the square is large": True,
        "the red shape is a circle": True,
        "the shape is red": False,  # "the shape" needs exactly one shape
        "a small red circle": True,
        "a large red circle": False,
        "there is an orange shape": False,
    }
    for caption, expected in truth.items():
        assert caption_is_true(caption, scene) is expected, caption


def test_spatial_rule_needs_boxes_entirely_apart():
    left = _obj("circle", "red", 0.3, 0.3)
    overlapping_x = _obj("square", "blue", 0.45, 0.8)  # x ranges 0.2-0.4 and 0.35-0.55 overlap
    assert not relation_holds(left, overlapping_x, "left") and relation_holds(left, overlapping_x, "above")
    assert relation_holds(left, _obj("square", "blue", 0.5, 0.3), "left")  # 0.4 <= 0.4: touching counts


def test_checker_rejects_captions_outside_the_grammar():
    scene = Scene((_obj("circle", "red", 0.5, 0.5),), (255, 255, 255))
    for caption in ("a red dog", "two red shape", "there is two circles", "a circle near a square", ""):
        with pytest.raises(ValueError):
            caption_is_true(caption, scene)


def test_truth_matrix_agrees_with_the_checker_pair_by_pair():
    from lookimagine.data.shapes import caption_is_true, caption_type, truth_matrix, CAPTION_TYPES

    ds = ShapesDataset("test", n=25)
    captions = ds.all_captions()
    scenes = [ds.scene_of(i) for i in range(len(ds))]
    table = truth_matrix(captions, scenes)
    assert table.shape == (25, 125) and table.dtype == bool
    for i, scene in enumerate(scenes):
        for j, caption in enumerate(captions):
            assert table[i, j] == caption_is_true(caption, scene)
    assert all(table[i, 5 * i:5 * i + 5].all() for i in range(25))  # every image's own captions are true
    assert {caption_type(c) for c in captions} <= set(CAPTION_TYPES)
    assert caption_type("a red circle left of a blue square") == "relations"
    assert caption_type("two red shapes") == "counts"
