"""Karpathy splits of COCO / Flickr30K from a tiny fixture in the standard JSON format."""

import json

import pytest
from PIL import Image

from lookimagine.data import load_dataset
from lookimagine.data.karpathy import KarpathyDataset

COLOURS = {"train": (255, 0, 0), "restval": (0, 255, 0), "val": (0, 0, 255), "test": (9, 9, 9)}


def sentences(*raws):
    return [{"raw": raw, "tokens": raw.lower().split()} for raw in raws]


@pytest.fixture
def coco(tmp_path):
    """Six COCO-style images over all four split labels, with 4×4 PNGs in two subfolders."""
    entries = [
        ("train", 1, sentences("A cat. ", " A dog", "c", "d", "e")),
        ("restval", 2, sentences("r1", "r2", "r3", "r4", "r5", "r6", "r7")),  # 7 captions -> first 5
        ("val", 3, sentences("v1", "v2", "v3", "v4", "v5")),
        ("test", 4, sentences("t1", "   ", "t2")),  # a blank caption is dropped
        ("test", 5, sentences("u1", "u2", "u3", "u4", "u5")),
        ("train", 6, []),  # no captions: skipped
    ]
    images = []
    for i, (split, cocoid, sents) in enumerate(entries):
        folder = "train2014" if split == "train" else "val2014"
        filename = f"COCO_{folder}_{cocoid:012d}.jpg"
        (tmp_path / "images" / folder).mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (4, 4), COLOURS[split]).save(tmp_path / "images" / folder / filename, "PNG")
        images.append({"filepath": folder, "filename": filename, "split": split, "sentences": sents,
                       "cocoid": cocoid, "imgid": i})
    path = tmp_path / "dataset_coco.json"
    path.write_text(json.dumps({"images": images, "dataset": "coco"}))
    return path, tmp_path / "images"


def test_train_includes_restval(coco):
    json_path, root = coco
    train = KarpathyDataset("train", json_path=json_path, image_root=root)
    assert train.name == "coco" and train.split == "train"
    assert [train.id_of(i) for i in range(len(train))] == ["coco-1", "coco-2"]
    assert train.captions_of(0) == ("A cat.", "A dog", "c", "d", "e")  # stripped raw text


def test_more_than_five_captions_keeps_the_first_five(coco):
    json_path, root = coco
    train = KarpathyDataset("train", json_path=json_path, image_root=root)
    assert train.captions_of(1) == ("r1", "r2", "r3", "r4", "r5")


def test_val_and_test_splits_and_images(coco):
    json_path, root = coco
    val = KarpathyDataset("val", json_path=json_path, image_root=root)
    test = load_dataset("karpathy", "test", json_path=json_path, image_root=root)
    assert [item.id for item in val] == ["coco-3"]
    assert [item.id for item in test] == ["coco-4", "coco-5"]
    assert test.captions_of(0) == ("t1", "t2")
    item = test[1]
    assert item.image.mode == "RGB" and item.image.getpixel((0, 0)) == COLOURS["test"]
    assert val[0].image.getpixel((0, 0)) == COLOURS["val"]


def test_flattened_image_folder_is_found(coco, tmp_path):
    json_path, root = coco
    flat = tmp_path / "flat"
    flat.mkdir()
    for path in root.rglob("*.jpg"):
        path.rename(flat / path.name)
    val = KarpathyDataset("val", json_path=json_path, image_root=flat)
    assert val.load_image(0).getpixel((0, 0)) == COLOURS["val"]


def test_flickr_names_and_ids(tmp_path):
    images = [{"filename": f"{i}.jpg", "split": "test", "imgid": i, "sentences": sentences("x")} for i in range(3)]
    path = tmp_path / "dataset_flickr30k.json"
    path.write_text(json.dumps({"images": images, "dataset": "flickr30k"}))
    Image.new("RGB", (4, 4), (1, 2, 3)).save(tmp_path / "1.jpg", "PNG")
    test = KarpathyDataset("test", json_path=path, image_root=tmp_path)
    assert test.name == "flickr30k"
    assert [test.id_of(i) for i in range(3)] == ["flickr30k-0", "flickr30k-1", "flickr30k-2"]
    assert test.load_image(1).getpixel((0, 0)) == (1, 2, 3)
    with pytest.raises(FileNotFoundError, match="flickr30k-0"):
        test.load_image(0)


def test_five_folds_of_1k(tmp_path):
    # 5,000 test entries (and some train ones in between) without real images: only captions are read.
    images = []
    for i in range(5200):
        split = "train" if i % 26 == 25 else "test"
        images.append({"filepath": "val2014", "filename": f"{i}.jpg", "split": split, "cocoid": i,
                       "sentences": sentences(*(f"caption {i} {k}" for k in range(5)))})
    path = tmp_path / "dataset_coco.json"
    path.write_text(json.dumps({"images": images, "dataset": "coco"}))
    test_ids = [f"coco-{e['cocoid']}" for e in images if e["split"] == "test"]
    assert len(test_ids) == 5000

    folds = [KarpathyDataset("test", json_path=path, fold=k) for k in range(5)]
    assert [len(f) for f in folds] == [1000] * 5
    for k, fold in enumerate(folds):
        assert [fold.id_of(i) for i in range(1000)] == test_ids[k * 1000 : (k + 1) * 1000]
        assert all(len(fold.captions_of(i)) == 5 for i in range(1000))
    assert len(KarpathyDataset("test", json_path=path)) == 5000


def test_fold_arguments_are_checked(coco):
    json_path, _ = coco
    with pytest.raises(ValueError, match="needs at least 1000"):
        KarpathyDataset("test", json_path=json_path, fold=0)
    with pytest.raises(ValueError, match="fold"):
        KarpathyDataset("train", json_path=json_path, fold=0)
    with pytest.raises(ValueError, match="fold"):
        KarpathyDataset("test", json_path=json_path, fold=5)
    with pytest.raises(ValueError, match="unknown split"):
        KarpathyDataset("restval", json_path=json_path)


def test_missing_and_bad_files_are_named(tmp_path, coco):
    json_path, _ = coco
    missing = tmp_path / "nowhere" / "dataset_coco.json"
    with pytest.raises(FileNotFoundError, match=str(missing)):
        KarpathyDataset("test", json_path=missing)
    with pytest.raises(FileNotFoundError, match="image folder"):
        KarpathyDataset("test", json_path=json_path, image_root=tmp_path / "no-images")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ValueError, match="bad.json"):
        KarpathyDataset("test", json_path=bad)
    bad.write_text(json.dumps({"annotations": []}))
    with pytest.raises(ValueError, match="not a Karpathy split file"):
        KarpathyDataset("test", json_path=bad)
    captions_only = KarpathyDataset("test", json_path=json_path)
    with pytest.raises(FileNotFoundError, match="no image_root"):
        captions_only.load_image(0)
