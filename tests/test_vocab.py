"""Tokenisation rules, deterministic vocabularies, encoding reports and JSON files."""

import json

import pytest
import torch

from lookimagine.data.vocab import (
    BOS_ID,
    EOS_ID,
    FORMAT,
    PAD_ID,
    SPECIALS,
    UNK_ID,
    EncodedText,
    Vocabulary,
    tokenize,
)


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("woman firefighter: medium-dark skin tone", ["woman", "firefighter", "medium-dark", "skin", "tone"]),
        ("a red circle left of a blue square", ["a", "red", "circle", "left", "of", "a", "blue", "square"]),
        ("A man riding a wave on a surfboard.", ["a", "man", "riding", "a", "wave", "on", "a", "surfboard"]),
        ("Two dogs, one cat; three birds!", ["two", "dogs", "one", "cat", "three", "birds"]),
        ("The man's T-shirt isn't red", ["the", "man's", "t-shirt", "isn't", "red"]),
        ("woman’s hat", ["woman's", "hat"]),  # curly apostrophe
        ("flag: Côte d’Ivoire", ["flag", "côte", "d'ivoire"]),
        ("１st place medal", ["1st", "place", "medal"]),  # NFKC full-width digit
        ("ﬁsh", ["fish"]),  # NFKC ligature
        ("-dash- 'quoted' x--y a_b", ["dash", "quoted", "x", "y", "a", "b"]),
        ("keycap: #", ["keycap"]),
        ("3.5 km", ["3", "5", "km"]),
        ("a 😀 face 👩🏽‍🚒", ["a", "face"]),
        ("", []),
        ("  \t\n ", []),
        ("CAFÉ", ["café"]),
        ("नमस्ते दुनिया", ["नमस्ते", "दुनिया"]),  # combining signs stay in the word
    ],
)
def test_tokenize(text, tokens):
    assert tokenize(text) == tokens


def test_tokenize_never_raises_on_arbitrary_unicode():
    weird = "".join(chr(c) for c in range(0, 0x3000, 7)) + "\ud800" + "\U0010ffff" + "\u200d\ufe0f"
    assert isinstance(tokenize(weird), list)
    assert all(token and " " not in token for token in tokenize(weird))


def build():
    return Vocabulary.build(["a red circle", "a blue square", "a red square", "zebra"])


def test_build_orders_by_frequency_then_alphabet():
    vocab = build()
    assert vocab.tokens[:4] == ("<pad>", "<bos>", "<eos>", "<unk>")
    # a:3, red:2, square:2, blue:1, circle:1, zebra:1
    assert vocab.tokens[4:] == ("a", "red", "square", "blue", "circle", "zebra")
    assert len(vocab) == 10
    assert vocab.token_to_id("a") == 4 and vocab.id_to_token(4) == "a"
    assert Vocabulary.build(reversed(["a red circle", "a blue square", "a red square", "zebra"])) == vocab


def test_build_min_count_and_max_size():
    captions = ["a red circle", "a blue square", "a red square", "zebra"]
    assert Vocabulary.build(captions, min_count=2).tokens[4:] == ("a", "red", "square")
    assert Vocabulary.build(captions, max_size=2).tokens[4:] == ("a", "red")


def test_unknown_tokens_and_bad_ids():
    vocab = build()
    assert vocab.token_to_id("giraffe") == UNK_ID
    assert "red" in vocab and "giraffe" not in vocab
    with pytest.raises(ValueError, match="out of range"):
        vocab.id_to_token(len(vocab))
    with pytest.raises(ValueError, match="duplicate"):
        Vocabulary(["a", "a"])


def test_encode_adds_bos_eos_and_maps_unknowns():
    vocab = build()
    ids = vocab.encode("A red giraffe!")
    assert ids == [BOS_ID, 4, 5, UNK_ID, EOS_ID]
    assert vocab.encode("a red", add_bos_eos=False) == [4, 5]
    assert vocab.encode("") == [BOS_ID, EOS_ID]


def test_encode_truncates_keeping_eos():
    vocab = build()
    text = "a red square blue circle zebra"
    ids = vocab.encode(text, max_len=5)
    assert ids == [BOS_ID, 4, 5, 6, EOS_ID]
    assert vocab.encode(text, max_len=3, add_bos_eos=False) == [4, 5, 6]
    with pytest.raises(ValueError, match="no room"):
        vocab.encode(text, max_len=1)


def test_encode_with_report():
    vocab = build()
    report = vocab.encode_with_report("a purple giraffe and a purple zebra", max_len=6)
    assert report == EncodedText(
        ids=[BOS_ID, 4, UNK_ID, UNK_ID, UNK_ID, EOS_ID],
        unknown_words=("purple", "giraffe", "and"),
        truncated=True,
        n_tokens=7,
    )
    short = vocab.encode_with_report("a red circle", max_len=32)
    assert short.unknown_words == () and not short.truncated and short.n_tokens == 3


def test_decode_stops_at_eos_and_skips_specials():
    vocab = build()
    assert vocab.decode([BOS_ID, 4, 5, UNK_ID, EOS_ID, 6, 6]) == "a red <unk>"
    assert vocab.decode(torch.tensor([BOS_ID, 6, PAD_ID, 7])) == "square blue"
    assert vocab.decode(vocab.encode("a red square")) == "a red square"


def test_save_load_round_trip(tmp_path):
    vocab = Vocabulary.build(["café déjà vu", "naïve ﬁsh"])
    path = tmp_path / "vocab.json"
    vocab.save(path)
    assert json.loads(path.read_text(encoding="utf-8"))["version"] == 1
    loaded = Vocabulary.load(path)
    assert loaded == vocab and loaded.tokens == vocab.tokens


@pytest.mark.parametrize(
    "content",
    [
        "not json at all {",
        json.dumps([1, 2, 3]),
        json.dumps({"format": "something.else", "version": 1, "tokens": []}),
        json.dumps({"format": FORMAT, "version": 99, "tokens": list(SPECIALS)}),
        json.dumps({"format": FORMAT, "version": 1, "tokens": ["a", "b"]}),
        json.dumps({"format": FORMAT, "version": 1, "tokens": [*SPECIALS, "x", "x"]}),
        json.dumps({"format": FORMAT, "version": 1, "tokens": [*SPECIALS, 5]}),
    ],
)
def test_load_corrupt_file_names_it(tmp_path, content):
    path = tmp_path / "broken-vocab.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ValueError, match="broken-vocab.json"):
        Vocabulary.load(path)


def test_load_binary_garbage_names_file(tmp_path):
    path = tmp_path / "garbage.json"
    path.write_bytes(b"\xff\xfe\x00\x81")
    with pytest.raises(ValueError, match="garbage.json"):
        Vocabulary.load(path)
