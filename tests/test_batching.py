"""encode_split, PairDataset / collate_pairs and the training sampler iterate_batches."""

import pytest
import torch
from PIL import Image

from lookimagine.data.batching import Batch, PairDataset, collate_pairs, encode_split, iterate_batches
from lookimagine.data.items import CaptionDataset
from lookimagine.data.vocab import BOS_ID, EOS_ID, PAD_ID, Vocabulary


class TinyDataset(CaptionDataset):
    """Image i is a flat colour (i, 2i, 3i), 10×6 pixels; captions vary in number and length."""

    name, split = "tiny", "test"

    def __init__(self, captions):
        self.captions = captions

    def __len__(self):
        return len(self.captions)

    def load_image(self, index):
        return Image.new("RGB", (10, 6), (index, 2 * index, 3 * index))

    def captions_of(self, index):
        return self.captions[index]

    def id_of(self, index):
        return f"img{index}"


CAPTIONS = [
    ("a red circle", "a circle"),
    ("a blue square left of a red circle",),
    ("green", "a green square", "square"),
]


@pytest.fixture
def encoded():
    dataset = TinyDataset(CAPTIONS)
    vocab = Vocabulary.build(dataset.all_captions())
    return encode_split(dataset, vocab, image_size=4, max_len=6), vocab


def test_encode_split_shapes_and_contents(encoded):
    split, vocab = encoded
    assert split.images.shape == (3, 3, 4, 4) and split.images.dtype == torch.uint8
    assert split.images[2, :, 0, 0].tolist() == [2, 4, 6]
    assert split.n_images == 3 and split.n_captions == 6
    assert split.ids == ["img0", "img1", "img2"]
    assert split.captions == [c for caps in CAPTIONS for c in caps]
    assert split.image_of_caption.tolist() == [0, 0, 1, 2, 2, 2]
    # "a blue square left of a red circle" is cut to <bos> + 4 words + <eos> = max_len 6
    assert split.lengths.tolist() == [5, 4, 6, 3, 5, 3]
    assert split.tokens.shape == (6, 6) and split.tokens.dtype == torch.long
    for row, length in zip(split.tokens, split.lengths):
        assert row[0] == BOS_ID and row[length - 1] == EOS_ID
        assert (row[length:] == PAD_ID).all() and (row[:length] != PAD_ID).all()
    assert vocab.decode(split.tokens[1]) == "a circle"
    assert vocab.decode(split.tokens[2]) == "a blue square left"


def test_pair_dataset_and_collate(encoded):
    split, _ = encoded
    pairs = PairDataset(split)
    assert len(pairs) == 6
    image, tokens, length, index = pairs[3]
    assert image.shape == (3, 4, 4) and image.dtype == torch.float32
    assert image[:, 0, 0].tolist() == pytest.approx([2 / 127.5 - 1, 4 / 127.5 - 1, 6 / 127.5 - 1], abs=1e-6)
    assert tokens.shape == (6,) and int(length) == 3 and int(index) == 2

    batch = collate_pairs([pairs[1], pairs[3], pairs[5]])
    assert isinstance(batch, Batch)
    assert batch.images.shape == (3, 3, 4, 4)
    assert batch.tokens.shape == (3, 4)  # trimmed to the longest (4) in the batch
    assert batch.lengths.tolist() == [4, 3, 3]
    assert batch.image_index.tolist() == [0, 2, 2]
    assert torch.equal(batch.tokens[0], split.tokens[1, :4])

    loader = torch.utils.data.DataLoader(pairs, batch_size=4, collate_fn=collate_pairs)
    assert [b.tokens.shape[0] for b in loader] == [4, 2]


def test_images_in_batches_are_in_minus_one_to_one():
    dataset = TinyDataset([("a",)] * 3)
    dataset.load_image = lambda i: Image.new("RGB", (4, 4), (0, 255, 128))
    split = encode_split(dataset, Vocabulary.build(["a"]), image_size=4)
    batch = next(iterate_batches(split, 3, torch.Generator().manual_seed(0)))
    assert batch.images[0, :, 0, 0].tolist() == pytest.approx([-1.0, 1.0, 128 / 127.5 - 1], abs=1e-6)


def big_split(n_images=40, captions_per_image=5):
    captions = [tuple(f"image {i} caption {k}" for k in range(captions_per_image)) for i in range(n_images)]
    dataset = TinyDataset(captions)
    return encode_split(dataset, Vocabulary.build(dataset.all_captions()), image_size=2)


def epoch(split, seed, **kwargs):
    return list(iterate_batches(split, 8, torch.Generator().manual_seed(seed), **kwargs))


def test_one_caption_per_image_epoch():
    split = big_split()
    batches = epoch(split, 0)
    assert [len(b.lengths) for b in batches] == [8] * 5
    seen = torch.cat([b.image_index for b in batches])
    assert sorted(seen.tolist()) == list(range(40))  # every image exactly once per epoch
    for batch in batches:
        assert len(set(batch.image_index.tolist())) == len(batch.image_index)  # no duplicate images
        assert batch.tokens.shape[1] == int(batch.lengths.max())
        for index, tokens in zip(batch.image_index.tolist(), batch.tokens):
            rows = (split.tokens[:, : tokens.shape[0]] == tokens).all(1).nonzero().flatten()
            assert split.image_of_caption[rows].tolist() == [index]  # the caption belongs to its image


def test_iterate_batches_is_deterministic_and_varies():
    split = big_split()
    first, again, other = epoch(split, 7), epoch(split, 7), epoch(split, 8)
    assert all(torch.equal(a.tokens, b.tokens) and torch.equal(a.image_index, b.image_index)
               for a, b in zip(first, again))
    assert not torch.equal(torch.cat([b.image_index for b in first]), torch.cat([b.image_index for b in other]))
    generator = torch.Generator().manual_seed(7)
    epoch_1 = torch.cat([b.image_index for b in iterate_batches(split, 8, generator)])
    epoch_2 = torch.cat([b.image_index for b in iterate_batches(split, 8, generator)])
    assert not torch.equal(epoch_1, epoch_2)  # the generator moves on between epochs


def test_random_captions_cover_all_of_them_over_epochs():
    split = big_split(n_images=4, captions_per_image=5)
    generator = torch.Generator().manual_seed(0)
    chosen = set()
    for _ in range(60):
        for batch in iterate_batches(split, 4, generator):
            chosen.update(tuple(row.tolist()) for row in batch.tokens)
    assert len(chosen) == 20


def test_all_captions_mode_and_drop_last():
    split = big_split(n_images=10, captions_per_image=3)
    batches = epoch(split, 0, one_caption_per_image=False)
    assert sum(len(b.lengths) for b in batches) == 30
    assert [len(b.lengths) for b in epoch(split, 0, drop_last=True)] == [8]
    with pytest.raises(ValueError, match="batch_size"):
        next(iterate_batches(split, 0, torch.Generator()))


def test_images_without_captions_are_not_sampled():
    split = big_split(n_images=3, captions_per_image=1)
    split.image_of_caption = torch.tensor([0, 2, 2])  # image 1 has no caption rows now
    seen = torch.cat([b.image_index for b in epoch(split, 0)])
    assert sorted(seen.tolist()) == [0, 2]
