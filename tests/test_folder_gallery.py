"""A folder gallery embeds shard by shard, resumes after an interruption, and matches the in-memory embedding."""

import dataclasses
import json

import numpy as np
import pytest
import torch
from PIL import Image
from safetensors.torch import save_file

from lookimagine.config import get_preset
from lookimagine.data.batching import encode_split
from lookimagine.data.folder import FolderDataset
from lookimagine.data.vocab import Vocabulary
from lookimagine.evaluation.embedding import embed_split
from lookimagine.models.checkpoint import WEIGHTS, LoadedModel
from lookimagine.models.gxn import GXN
from lookimagine.pipeline.folder_gallery import FolderGallery, embed_folder, shard_folder
from lookimagine.pipeline.pocket_gallery import image_key

N, SHARD, BATCH = 40, 8, 4
COLOURS = ["red", "green", "blue", "yellow", "purple"]


class Interrupted(Exception):
    pass


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("folder-gallery")
    rng = np.random.default_rng(0)
    rows = []
    for i in range(N):
        Image.fromarray(rng.integers(0, 256, (20 + i % 7, 24, 3), dtype=np.uint8)).save(root / f"{i:03d}.png")
        captions = [f"a {COLOURS[i % 5]} square"] + ([f"a {COLOURS[(i + 1) % 5]} circle"] if i % 3 else [])
        rows.append(json.dumps({"image": f"{i:03d}.png", "captions": captions}))
    (root / "captions.jsonl").write_text("\n".join(rows) + "\n")
    return root


@pytest.fixture(scope="module")
def loaded(folder, tmp_path_factory):
    dataset = FolderDataset(folder)
    vocab = Vocabulary.build(dataset.all_captions())
    cfg = dataclasses.replace(get_preset("tiny-gxn").model, vocab_size=len(vocab))
    torch.manual_seed(0)
    model = GXN(cfg).eval()
    checkpoint = tmp_path_factory.mktemp("model")
    save_file(model.state_dict(), str(checkpoint / WEIGHTS))  # the shard key hashes the weights file
    return LoadedModel(model, vocab, cfg, None, {}, checkpoint)


def test_resume_after_interruption_matches_an_uninterrupted_run(folder, loaded, tmp_path):
    dataset = FolderDataset(folder, image_size=loaded.model_config.image_size)
    whole = embed_folder(loaded, dataset, tmp_path / "whole", shard_size=SHARD, batch=BATCH, progress=False)

    def stop_after_two(i):
        if i == 1:
            raise Interrupted

    with pytest.raises(Interrupted):
        embed_folder(loaded, dataset, tmp_path / "resumed", shard_size=SHARD, batch=BATCH, progress=False,
                     on_shard=stop_after_two)
    manifest = json.loads((tmp_path / "resumed" / "manifest.json").read_text())
    assert manifest["done"] == [0, 1]

    redone = []
    resumed = embed_folder(loaded, dataset, tmp_path / "resumed", shard_size=SHARD, batch=BATCH, progress=False,
                           on_shard=redone.append)
    assert redone == [2, 3, 4]  # the two finished shards were skipped
    for name in ("v_h", "v_l", "t_h", "t_l"):
        assert torch.equal(getattr(resumed, name), getattr(whole, name))
    assert resumed.pixel_sha1 == whole.pixel_sha1

    # a damaged shard is embedded again; the others are reused
    (tmp_path / "resumed" / "shard-00003.safetensors").write_bytes(b"truncated")
    redone.clear()
    again = embed_folder(loaded, dataset, tmp_path / "resumed", shard_size=SHARD, batch=BATCH, progress=False,
                         on_shard=redone.append)
    assert redone == [3] and torch.equal(again.v_h, whole.v_h)


def test_streamed_embedding_equals_the_in_memory_gallery(folder, loaded, tmp_path):
    size = loaded.model_config.image_size
    dataset = FolderDataset(folder, image_size=size)
    streamed = embed_folder(loaded, dataset, tmp_path / "s", shard_size=SHARD, batch=BATCH, progress=False)
    split = encode_split(dataset, loaded.vocab, image_size=size, max_len=loaded.max_len)
    images, texts = embed_split(loaded.model, split, loaded.device, on_cpu=True)
    assert streamed.v_h.shape == (N, loaded.model_config.embed_dim) and streamed.t_h.shape[0] == len(split.captions)
    torch.testing.assert_close(streamed.v_h, images.v_h, atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(streamed.v_l, images.v_l, atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(streamed.t_h, texts.t_h, atol=1e-5, rtol=1e-4)
    assert streamed.pixel_sha1 == [image_key(split.images[i].permute(1, 2, 0).numpy()) for i in range(N)]


def test_pixels_are_decoded_one_batch_at_a_time(folder, loaded, tmp_path, monkeypatch):
    """Images are encoded as they are decoded: never more than one batch decoded ahead of the encoder."""
    dataset = FolderDataset(folder, image_size=loaded.model_config.image_size)
    decoded, encoded, ahead = [0], [0], []
    load_image, encode_image = dataset.load_image, loaded.model.encode_image

    def counting_load(i):
        decoded[0] += 1
        return load_image(i)

    def counting_encode(x):
        ahead.append(decoded[0] - encoded[0])
        encoded[0] += x.shape[0]
        return encode_image(x)

    monkeypatch.setattr(dataset, "load_image", counting_load)
    monkeypatch.setattr(loaded.model, "encode_image", counting_encode)
    embed_folder(loaded, dataset, tmp_path / "t", shard_size=SHARD, batch=BATCH, progress=False)
    assert encoded[0] == decoded[0] == N and max(ahead) == BATCH


def test_shard_folder_changes_with_the_folder(folder, loaded, tmp_path):
    dataset = FolderDataset(folder)
    first = shard_folder(loaded, dataset, "weights", tmp_path)
    assert shard_folder(loaded, dataset, "weights", tmp_path) == first
    assert shard_folder(loaded, dataset, "other-weights", tmp_path) != first
    path = folder / "000.png"
    Image.new("RGB", (5, 5)).save(path)  # the file changed: its size changes, so does the key
    assert shard_folder(loaded, FolderDataset(folder), "weights", tmp_path) != first


def test_folder_gallery_holds_no_pixels_and_finds_query_images(folder, loaded, tmp_path):
    size = loaded.model_config.image_size
    dataset = FolderDataset(folder, image_size=size)
    gallery = FolderGallery(dataset, loaded.vocab, size, loaded.max_len, shard_root=tmp_path)
    assert gallery.split.images.shape == (0, 3, size, size)
    assert gallery.n_images == N and gallery.n_captions == len(dataset.all_captions())
    assert [len(rows) for rows in gallery.captions_of_image] == [len(dataset.captions_of(i)) for i in range(N)]
    view = gallery.embeddings(loaded, progress=False)
    assert view.images.v_h.shape[0] == N and view.space.images.shape[0] == N
    query = Image.open(folder / "007.png")
    truth = gallery.captions_matching_image(query)
    assert {gallery.split.captions[r] for r in truth} >= set(dataset.captions_of(7))
    assert np.array_equal(np.asarray(gallery.image(7)), np.asarray(dataset.load_image(7)))
