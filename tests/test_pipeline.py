"""The real pipeline, ``LookImagineMatch``, on tiny GXN and baseline checkpoints.

The tiny presets train on ``shapes``, so the gallery is the shapes test split
(1000 images × 5 captions). One pipeline is built per module, with its gallery
cache in a temporary ``LOOKIMAGINE_CACHE``; the few tests that need another
``from_pretrained`` (cache reuse, a corrupt cache, a folder gallery, bad
checkpoints) make their own.
"""

from __future__ import annotations

import io
import json
import logging
import shutil
import socket

import numpy as np
import pytest
import torch
from PIL import Image

from lookimagine.data.cache import ENV_VAR
from lookimagine.data.images import images_to_float
from lookimagine.models.checkpoint import CheckpointError
from lookimagine.models.similarity import combined_similarity
from lookimagine.pipeline import QueryError, QueryResult
from lookimagine.pipeline import pocket_gallery as gallery_module
from lookimagine.pipeline.look_imagine_match import NO_GENERATOR, LookImagineMatch, pick_device

# ---------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def cache_root(tmp_path_factory):
    """A private cache folder for the whole module (set in the environment, restored afterwards)."""
    root = tmp_path_factory.mktemp("pipeline-cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(ENV_VAR, str(root))
        yield root


@pytest.fixture(scope="module")
def pipeline_dir(tiny_pipeline_dir):
    return tiny_pipeline_dir


@pytest.fixture(scope="module")
def pipe(pipeline_dir, cache_root) -> LookImagineMatch:
    return LookImagineMatch.from_pretrained(pipeline_dir, device="cpu", progress=False)


@pytest.fixture(scope="module")
def shared_caption(pipe) -> str:
    """The gallery caption shared by the most images (shapes captions often describe several scenes)."""
    counts: dict[str, set[int]] = {}
    for row, caption in enumerate(pipe.gallery.split.captions):
        counts.setdefault(caption, set()).add(int(pipe.gallery.split.image_of_caption[row]))
    return max(counts, key=lambda c: len(counts[c]))


@pytest.fixture
def no_network(monkeypatch):
    """Any attempt to open a connection fails the test."""
    def refuse(*args, **kwargs):
        raise AssertionError("the test tried to reach the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def first_caption(pipe, image: int) -> str:
    return pipe.gallery.split.captions[int(pipe.gallery.captions_of_image[image][0])]


def assert_no_chained_trace(error: BaseException) -> None:
    """The error stands alone: no cause or context that would print another stack trace."""
    assert error.__cause__ is None and (error.__context__ is None or error.__suppress_context__)


def png_bytes(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()


# ---------------------------------------------------------------------------- loading


def test_from_pretrained_loads_both_models_and_the_shapes_test_gallery(pipe):
    assert pipe.gxn.model.can_draw and pipe.gxn.model.can_caption
    assert not pipe.baseline.model.can_draw and not pipe.baseline.model.can_caption
    assert (pipe.gallery.n_images, pipe.gallery.n_captions) == (1000, 5000)
    assert pipe.dataset_name == "shapes"
    assert "shapes" in pipe.name and "1,000 images" in pipe.gallery_description
    assert pipe.attribution
    for m in (pipe.gxn, pipe.baseline):
        view = m.gallery_view
        assert view.images.v_h.shape[0] == 1000 and view.texts.t_h.shape[0] == 5000
        assert view.space.images.shape[0] == 1000 and view.space.texts.shape[0] == 5000


def test_pick_device():
    assert pick_device("cpu").type == "cpu"
    if not torch.cuda.is_available() and not torch.backends.mps.is_available():
        assert pick_device("auto").type == "cpu"
        assert pick_device(None).type == "cpu"


def test_load_model_decides_device_once_and_precision(pipeline_dir, monkeypatch):
    """The device is picked once per load (``load_model``), and so is half precision: "auto" = fp16 on CUDA only."""
    from lookimagine.models import checkpoint

    picks = []
    monkeypatch.setattr(checkpoint, "pick_device", lambda d=None: picks.append(d) or torch.device("cpu"))
    folder = pipeline_dir / "gxn"
    dtype = lambda loaded: next(loaded.model.parameters()).dtype  # noqa: E731
    assert dtype(checkpoint.load_model(folder, "auto", half="auto")) == torch.float32 and picks == ["auto"]
    assert dtype(checkpoint.load_model(folder, "cpu", half=True)) == torch.float16
    assert dtype(checkpoint.load_model(folder)) == torch.float32


# ---------------------------------------------------------------------------- one query


def test_text_query_runs_both_models(pipe):
    caption = first_caption(pipe, 7)
    result = pipe.run(caption, k=5, n_images=3)
    assert isinstance(result, QueryResult)
    assert result.direction == "text_to_image" and result.query_text == caption
    assert (result.baseline.model, result.gxn.model) == ("baseline", "gxn")
    for r in (result.baseline, result.gxn):
        assert len(r.ranking) == 5
        assert [it.rank for it in r.ranking] == [1, 2, 3, 4, 5]
        scores = [it.score for it in r.ranking]
        assert scores == sorted(scores, reverse=True)
        assert all(it.image is not None and it.image.size == (pipe.gxn.model_config.image_size,) * 2 for it in r.ranking)
        assert r.look.embedding.ndim == 1 and r.look.query_xy.shape == (2,)
        assert r.look.gallery_xy.shape == (1000, 2)
        assert r.seconds > 0
    images = result.gxn.imagined.images
    assert len(images) == 3
    assert all(im.mode == "RGB" and im.size == (pipe.gxn.model_config.image_size,) * 2 for im in images)
    assert result.gxn.imagined.caption is None and "GAN" in result.gxn.imagined.note
    assert result.baseline.imagined.images == () and result.baseline.imagined.caption is None
    assert result.baseline.imagined.note == NO_GENERATOR
    json.dumps(result.to_json())  # the API's shape is JSON-friendly


def test_image_query_runs_both_models(pipe):
    result = pipe.run(pipe.gallery.image(3), k=4)
    assert result.direction == "image_to_text" and result.query_text is None
    caption = result.gxn.imagined.caption
    assert isinstance(caption, str) and caption.strip()
    assert result.baseline.imagined.caption is None and result.baseline.imagined.note == NO_GENERATOR
    for r in (result.baseline, result.gxn):
        assert len(r.ranking) == 4
        scores = [it.score for it in r.ranking]
        assert scores == sorted(scores, reverse=True)
        assert all(it.image is None and it.caption for it in r.ranking)
        assert r.look.gallery_xy.shape == (5000, 2)


def test_ground_truth_of_a_gallery_caption_is_marked(pipe, shared_caption):
    """On shapes the ground truth is by meaning (the truth protocol): every image the caption is true of."""
    from lookimagine.data.shapes import caption_is_true

    result = pipe.run(shared_caption, k=50)
    dataset = pipe.gallery.dataset
    truth = {i for i in range(len(dataset)) if caption_is_true(shared_caption, dataset.scene_of(i))}
    assert pipe.gallery.images_matching_caption(shared_caption) < truth  # more than the images that have it
    for r in (result.baseline, result.gxn):
        assert r.ground_truth_rank is not None and r.ground_truth_rank >= 1
        assert [it.is_ground_truth for it in r.ranking] == [it.index in truth for it in r.ranking]
        if r.ground_truth_rank <= 50:  # shown at its rank, with no ground truth before it
            marks = [it.is_ground_truth for it in r.ranking]
            assert marks.index(True) + 1 == r.ground_truth_rank


def test_ground_truth_of_a_gallery_image(pipe):
    """Every caption row true of the image is ground truth (its own captions among them), marked ✓ true."""
    from lookimagine.data.shapes import caption_is_true

    result = pipe.run(pipe.gallery.image(11), k=50)
    scene = pipe.gallery.dataset.scene_of(11)
    truth = {r for r, c in enumerate(pipe.gallery.split.captions) if caption_is_true(c, scene)}
    assert pipe.gallery.captions_matching_image(pipe.gallery.image(11)) <= truth
    for r in (result.baseline, result.gxn):
        assert r.ground_truth_rank is not None and r.ground_truth_rank >= 1
        assert [it.is_ground_truth for it in r.ranking] == [it.index in truth for it in r.ranking]
        assert [it.is_true for it in r.ranking] == [it.is_ground_truth for it in r.ranking]


def test_free_sentences_are_checked_by_meaning(pipe):
    """Every shown image of a free sentence is marked as the checker says; the count is a brute-force count."""
    from lookimagine.data.shapes import caption_is_true

    dataset = pipe.gallery.dataset
    for sentence in ("A small red circle.", "two gray shapes", "a blue square left of a yellow star"):
        result = pipe.run(sentence, k=10)
        truth = [caption_is_true(sentence.lower().rstrip("."), dataset.scene_of(i)) for i in range(len(dataset))]
        assert result.check.understood and result.check.true_of == sum(truth) > 0
        assert result.check.gallery_size == 1000
        for r in (result.baseline, result.gxn):
            assert [it.is_true for it in r.ranking] == [truth[it.index] for it in r.ranking]
            assert r.precision_at_k == sum(truth[it.index] for it in r.ranking) / 10
        api = result.to_json()
        assert api["check"]["true_of"] == sum(truth) and api["gxn"]["precision_at_k"] == result.gxn.precision_at_k
    unread = pipe.run("a red circle riding a bicycle", k=5)
    assert not unread.check.understood and "bicycle" in unread.check.note
    assert all(it.is_true is None for it in unread.gxn.ranking) and unread.gxn.precision_at_k is None
    # an image from the gallery: each listed caption marked true or false of its scene
    picture = pipe.run(pipe.gallery.image(7), k=8)
    assert picture.check is None
    assert [it.is_true for it in picture.gxn.ranking] == [caption_is_true(it.caption, dataset.scene_of(7))
                                                           for it in picture.gxn.ranking]


def test_foreign_queries_have_no_ground_truth(pipe):
    result = pipe.run("a red circle above a blue square to the left", k=5)
    assert result.gxn.ground_truth_rank is None and result.baseline.ground_truth_rank is None
    assert not any(it.is_ground_truth for it in result.gxn.ranking)
    noise = Image.fromarray(np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8))
    assert pipe.run(noise, k=5).gxn.ground_truth_rank is None


# ---------------------------------------------------------------------------- brute force


def brute_force_rank(scores: np.ndarray, truth: set[int]) -> int:
    """1 + how many non-ground-truth entries score at least as well as the best ground truth."""
    best = max(scores[i] for i in truth)
    return 1 + sum(1 for i, s in enumerate(scores) if i not in truth and s >= best)


@torch.no_grad()
def encode_captions(m, captions: list[str]):
    """t_h, t_l of ``captions`` with the model ``m`` (a pipeline._Model), straight from its vocabulary."""
    rows = [m.vocab.encode(c, max_len=m.max_len) for c in captions]
    t_h, t_l = [], []
    for s in range(0, len(rows), 500):
        chunk = rows[s:s + 500]
        tokens = torch.zeros(len(chunk), max(map(len, chunk)), dtype=torch.long)
        for j, row in enumerate(chunk):
            tokens[j, :len(row)] = torch.tensor(row)
        emb = m.model.encode_text(tokens, torch.tensor([len(r) for r in chunk]))
        t_h.append(emb.t_h.float()), t_l.append(emb.t_l.float())
    return torch.cat(t_h), torch.cat(t_l)


@pytest.mark.parametrize("model", ["gxn", "baseline"])
def test_ground_truth_rank_agrees_with_brute_force(pipe, shared_caption, model):
    from lookimagine.data.shapes import caption_is_true

    m = getattr(pipe, model)
    dataset = pipe.gallery.dataset
    cfg = m.model_config
    with torch.no_grad():
        images = m.model.encode_image(images_to_float(pipe.gallery.split.images))
    # text → image: the ground truth is every image the caption is true of (the truth protocol)
    for caption in (shared_caption, dataset.captions_of(5)[0]):
        truth = {i for i in range(len(dataset)) if caption_is_true(caption, dataset.scene_of(i))}
        t_h, t_l = encode_captions(m, [caption])
        scores = combined_similarity(images.v_h, images.v_l, t_h, t_l, cfg.similarity, cfg.lam)[:, 0].numpy()
        result = pipe.run(caption, k=1)
        assert getattr(result, model).ground_truth_rank == brute_force_rank(scores, truth)
    # image → text: the ground truth is every caption text true of the image, and each caption text is
    # ranked once, at its best-scoring row (the list shows each text once)
    all_captions = [c for i in range(len(dataset)) for c in dataset.captions_of(i)]
    t_h, t_l = encode_captions(m, all_captions)
    for index in (0, 42):
        own = {c for c in all_captions if caption_is_true(c, dataset.scene_of(index))}
        scores = combined_similarity(images.v_h[index:index + 1], images.v_l[index:index + 1], t_h, t_l,
                                     cfg.similarity, cfg.lam)[0].numpy()
        best: dict[str, float] = {}
        for c, s in zip(all_captions, scores):
            best[c] = max(best.get(c, -np.inf), float(s))
        texts = list(best)
        truth = {j for j, c in enumerate(texts) if c in own}
        result = pipe.run(pipe.gallery.image(index), k=10)
        assert getattr(result, model).ground_truth_rank == brute_force_rank(np.array([best[c] for c in texts]), truth)
        shown = [it.caption for it in getattr(result, model).ranking]
        assert shown == sorted(texts, key=lambda c: -best[c])[:10] or len(set(best[c] for c in shown)) < 10  # ties
        assert len(set(shown)) == len(shown)  # no caption text twice


# ---------------------------------------------------------------------------- stages


@pytest.mark.parametrize("query", ["text", "image"])
def test_stage_methods_agree_with_run(pipe, query):
    q = first_caption(pipe, 20) if query == "text" else pipe.gallery.image(20)
    result = pipe.run(q, k=6, seed=4, n_images=2)
    looks = pipe.look(q)
    imagined = pipe.imagine(q, seed=4, n_images=2)
    matches = pipe.match(q, k=6)
    for name in ("baseline", "gxn"):
        r = getattr(result, name)
        np.testing.assert_allclose(looks[name].embedding, r.look.embedding, rtol=1e-6)
        np.testing.assert_allclose(looks[name].query_xy, r.look.query_xy, rtol=1e-5, atol=1e-6)
        assert imagined[name].caption == r.imagined.caption and imagined[name].note == r.imagined.note
        assert len(imagined[name].images) == len(r.imagined.images)
        for a, b in zip(imagined[name].images, r.imagined.images):
            assert np.array_equal(np.asarray(a), np.asarray(b))
        assert [(it.index, it.is_ground_truth) for it in matches[name]] == \
            [(it.index, it.is_ground_truth) for it in r.ranking]
        np.testing.assert_allclose([it.score for it in matches[name]], [it.score for it in r.ranking], rtol=1e-6)


def test_imagined_pixels_follow_the_seed(pipe):
    caption = first_caption(pipe, 1)

    def pixels(seed):
        return [np.asarray(im) for im in pipe.run(caption, k=1, seed=seed, n_images=2).gxn.imagined.images]

    a, b, c = pixels(1), pixels(1), pixels(2)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert not all(np.array_equal(x, y) for x, y in zip(a, c))
    assert not np.array_equal(a[0], a[1])  # two samples of one query differ too


# ---------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("text,words", [
    ("", "empty"), ("   \n\t ", "empty"), (None, "empty"),
    ("zebra quokka", "vocabulary"), ("zebra zebra", "vocabulary"),
    ("zebra " * 12 + "red", "vocabulary"),  # the only known word is past what the model reads
])
def test_bad_text_is_refused_with_a_message(pipe, text, words):
    with pytest.raises(QueryError, match=words):
        pipe.run(text)


@pytest.mark.parametrize("kwargs", [{"k": 0}, {"k": 51}, {"k": "many"}, {"k": 2.5}, {"n_images": 0},
                                    {"n_images": 9}])
def test_out_of_range_numbers_are_refused(pipe, kwargs):
    with pytest.raises(QueryError, match="between"):
        pipe.run("a red circle", **kwargs)
    if "k" in kwargs:
        with pytest.raises(QueryError, match="between"):
            pipe.match("a red circle", k=kwargs["k"])
    else:
        with pytest.raises(QueryError, match="between"):
            pipe.imagine("a red circle", n_images=kwargs["n_images"])


def test_bad_image_bytes_are_refused(pipe):
    good = png_bytes(pipe.gallery.image(0))
    corrupt = good[:40] + bytes(200) + good[240:]
    for data in (b"this is not an image", good[: len(good) // 2], corrupt):
        with pytest.raises(QueryError) as err:
            pipe.run(data)
        assert str(err.value) and "Traceback" not in str(err.value)


def test_long_text_is_truncated_with_a_notice(pipe):
    result = pipe.run("a red circle " * 60, k=3)
    assert len(result.query_text) <= pipe.max_text_chars
    assert any("truncated" in n for n in result.notices)


def test_unknown_words_are_listed(pipe):
    result = pipe.run("a red zebra circle with a quokka", k=3)
    notice = next(n for n in result.notices if n.startswith("Unknown words"))
    assert "zebra" in notice and "quokka" in notice


def test_odd_image_modes_work(pipe):
    image = pipe.gallery.image(9)
    rgba = image.convert("RGBA")
    grey = image.convert("L")
    grey16 = Image.fromarray((np.asarray(grey).astype(np.uint16) * 257))
    assert grey16.mode.startswith("I")
    palette = image.convert("P")
    for query in (rgba, grey, png_bytes(grey16), png_bytes(palette), image.convert("CMYK")):
        result = pipe.run(query, k=3)
        assert result.direction == "image_to_text" and len(result.gxn.ranking) == 3
    # an opaque RGBA copy of a gallery image is still that image
    assert pipe.run(rgba, k=1).gxn.ground_truth_rank == pipe.run(image, k=1).gxn.ground_truth_rank


# ---------------------------------------------------------------------------- gallery cache


def test_second_load_reuses_the_gallery_cache_and_reads_differences(pipe, pipeline_dir, cache_root, tmp_path,
                                                                    monkeypatch):
    files = sorted((cache_root / "galleries").glob("*.safetensors"))
    assert len(files) == 2  # one per model
    stamps = [f.stat().st_mtime_ns for f in files]

    def refuse(*args, **kwargs):
        raise AssertionError("gallery embeddings recomputed despite a fresh cache")

    monkeypatch.setattr(gallery_module, "embed_split", refuse)
    root = tmp_path / "pipeline"
    shutil.copytree(pipeline_dir, root)
    caption_id = f"{pipe.gallery.split.ids[3]}#2"
    rows = [
        {"direction": "text_to_image", "query_id": caption_id, "query_text": pipe.query_of("text_to_image", caption_id),
         "baseline_rank": 9, "gxn_rank": 1, "winner": "gxn"},
        {"direction": "image_to_text", "query_id": pipe.gallery.split.ids[4], "query_text": None,
         "baseline_rank": 1, "gxn_rank": 3, "winner": "baseline"},
    ]
    (root / "differences.json").write_text(json.dumps({"rows": rows}))

    again = LookImagineMatch.from_pretrained(root, device="cpu", progress=False)

    assert [f.stat().st_mtime_ns for f in files] == stamps
    assert torch.equal(again.gxn.gallery_view.images.v_h, pipe.gxn.gallery_view.images.v_h)
    assert [row.to_json() for row in again.differences()] == rows
    for row in again.differences():
        query = again.query_of(row.direction, row.query_id)
        if row.direction == "text_to_image":
            assert query == row.query_text
        assert again.run(query, k=1).gxn.ground_truth_rank is not None


def test_corrupt_cache_file_is_rebuilt_with_a_warning(pipe, pipeline_dir, cache_root, tmp_path, monkeypatch, caplog):
    cache = tmp_path / "cache"
    shutil.copytree(cache_root / "galleries", cache / "galleries")
    monkeypatch.setenv(ENV_VAR, str(cache))
    broken = sorted((cache / "galleries").glob("*.safetensors"))[0]
    broken.write_bytes(b"garbage, not a safetensors file" * 4)

    with caplog.at_level(logging.WARNING, logger="lookimagine"):
        again = LookImagineMatch.from_pretrained(pipeline_dir, device="cpu", progress=False)

    assert any("unusable" in r.getMessage() and broken.name in r.getMessage() for r in caplog.records)
    from safetensors.torch import load_file

    assert set(load_file(str(broken))) == {"v_h", "v_l", "t_h", "t_l"}  # rebuilt
    for name in ("gxn", "baseline"):
        a, b = getattr(again, name).gallery_view, getattr(pipe, name).gallery_view
        torch.testing.assert_close(a.images.v_h, b.images.v_h)
        torch.testing.assert_close(a.texts.t_l, b.texts.t_l)


def test_split_for_another_vocabulary_tokenises_the_same_words(pipe):
    from lookimagine.data.vocab import Vocabulary

    g = pipe.gallery
    assert g.split_for(pipe.gxn.vocab) is g.split
    other = Vocabulary.build(reversed(g.split.captions[:50]))  # different ids, fewer words
    split = g.split_for(other)
    assert split.tokens.shape[0] == g.n_captions and torch.equal(split.images, g.split.images)
    for row in (0, 10, 49):
        assert other.decode(split.tokens[row]) == pipe.gxn.vocab.decode(g.split.tokens[row])


# ---------------------------------------------------------------------------- differences, examples


def test_examples(pipe):
    texts = pipe.examples("text_to_image", 4)
    assert len(texts) == 4 and all(isinstance(t, str) and t in pipe.gallery.split.captions for t in texts)
    # every example is fully readable by the model, so clicking one never earns an error
    assert all(not pipe.gxn.vocab.encode_with_report(t).unknown_words for t in texts)
    images = pipe.examples("image_to_text", 3)
    assert len(images) == 3 and all(isinstance(im, Image.Image) and im.size == (pipe.gxn.model_config.image_size,) * 2
                                   for im in images)


def test_differences_without_a_file_or_with_a_broken_one(pipe, tmp_path, caplog):
    assert pipe.differences() == []
    broken = tmp_path / "differences.json"
    broken.write_text("{not json")
    other = LookImagineMatch(pipe.gxn, pipe.baseline, pipe.gallery, pipe.name, differences_path=broken)
    with caplog.at_level(logging.WARNING):
        assert other.differences() == []


def test_query_of_round_trips(pipe):
    g = pipe.gallery
    for image in (0, 500, 999):
        for number in range(len(g.captions_of_image[image])):
            text = pipe.query_of("text_to_image", f"{g.split.ids[image]}#{number}")
            assert text == g.dataset.captions_of(image)[number]
        assert np.array_equal(np.asarray(pipe.query_of("image_to_text", g.split.ids[image])),
                              np.asarray(g.image(image)))
    with pytest.raises(QueryError):
        pipe.query_of("image_to_text", "no-such-id")
    with pytest.raises(QueryError):
        pipe.query_of("text_to_image", f"{g.split.ids[0]}#99")


# ---------------------------------------------------------------------------- other galleries


def test_folder_gallery(pipe, pipeline_dir, tmp_path, caplog):
    folder = tmp_path / "gallery"
    folder.mkdir()
    rows = []
    for i in range(5):
        pipe.gallery.image(i).save(folder / f"scene{i}.png")
        rows.append(json.dumps({"image": f"scene{i}.png", "captions": [f"{first_caption(pipe, i)}", "a shape"]}))
    rows.insert(2, '{"image": "missing.png", "captions": ["x"]}')
    rows.insert(4, "{broken json")
    (folder / "captions.jsonl").write_text("\n".join(rows) + "\n")

    with caplog.at_level(logging.WARNING):
        fp = LookImagineMatch.from_pretrained(pipeline_dir, device="cpu", gallery_folder=folder, progress=False)

    assert fp.dataset_name == "folder" and "folder" in fp.name
    assert (fp.gallery.n_images, fp.gallery.n_captions) == (5, 10)
    result = fp.run(first_caption(pipe, 2), k=5)
    assert len(result.gxn.ranking) == 5 and result.gxn.ground_truth_rank is not None
    assert {it.id for it in result.gxn.ranking} == {f"scene{i}.png" for i in range(5)}
    # "a shape" belongs to all five images: every one is ground truth, so the best is first
    assert fp.run("a shape", k=5).gxn.ground_truth_rank == 1
    image_result = fp.run(folder / "scene3.png", k=3)
    assert image_result.gxn.ground_truth_rank is not None


# ---------------------------------------------------------------------------- bad checkpoints


def test_missing_checkpoint_folder_says_where_it_looked(tmp_path, no_network):
    missing = tmp_path / "no-such-pipeline"
    with pytest.raises(CheckpointError, match="not found") as err:
        LookImagineMatch.from_pretrained(missing)
    assert str(missing) in str(err.value)
    assert_no_chained_trace(err.value)

    half = tmp_path / "half"
    (half / "gxn").mkdir(parents=True)
    with pytest.raises(CheckpointError, match="baseline") as err:
        LookImagineMatch.from_pretrained(half)
    assert str(half) in str(err.value)


def test_corrupt_checkpoint_names_the_file(pipeline_dir, tmp_path, no_network):
    root = tmp_path / "pipeline"
    shutil.copytree(pipeline_dir, root)
    (root / "baseline" / "model.safetensors").write_bytes(b"not weights")
    with pytest.raises(CheckpointError, match="model.safetensors"):
        LookImagineMatch.from_pretrained(root)


def test_hub_id_offline_is_a_clear_error(monkeypatch, tmp_path, no_network):
    from huggingface_hub import constants

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hf-hub"))  # an empty Hub cache
    monkeypatch.chdir(tmp_path)
    with pytest.raises(CheckpointError) as err:
        LookImagineMatch.from_pretrained("lookimagine-nobody/no-such-model")
    message = str(err.value)
    assert "lookimagine-nobody/no-such-model" in message and "HF_HUB_OFFLINE" in message
    assert "Traceback" not in message
    assert_no_chained_trace(err.value)


# ---------------------------------------------------------------------------- save, Look map


def test_save_pretrained_round_trips(pipe, tmp_path):
    folder = pipe.save_pretrained(tmp_path / "saved")
    again = LookImagineMatch.from_pretrained(folder.root, device="cpu", progress=False)
    caption = first_caption(pipe, 5)
    a, b = pipe.run(caption, k=5), again.run(caption, k=5)
    for name in ("baseline", "gxn"):
        assert [it.index for it in getattr(a, name).ranking] == [it.index for it in getattr(b, name).ranking]


@pytest.mark.parametrize("query", ["text", "image"])
def test_look_map_puts_the_query_among_its_matches(pipe, query):
    """On the map the top matches lie nearer the query than the gallery at large, and both modalities are drawn."""
    for image in (2, 30, 400):
        q = first_caption(pipe, image) if query == "text" else pipe.gallery.image(image)
        for r in (pipe.run(q, k=5).baseline, pipe.run(q, k=5).gxn):
            look = r.look
            distance = np.linalg.norm(look.gallery_xy - look.query_xy, axis=1)
            top = np.median(distance[[it.index for it in r.ranking]])
            assert top < np.median(distance)
            assert look.gallery_kind == ("images" if query == "text" else "captions")
            assert len(look.other_xy) == (5000 if query == "text" else 1000)


# ------------------------------------------------------------------ indexed galleries


@pytest.fixture(scope="module")
def indexed_pipe(pipeline_dir, tmp_path_factory):
    """The same pipeline with the index threshold and the drawn sample lowered, so the tiny gallery is 'large'."""
    from lookimagine.pipeline.search import IndexConfig

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(ENV_VAR, str(tmp_path_factory.mktemp("indexed-cache")))
        # efSearch ≥ N: the graph search visits every entry, so the index must agree with the scan
        mp.setattr(gallery_module, "INDEX", IndexConfig(exact_below=8, ef_search=6000))
        mp.setattr(gallery_module, "DRAWN", 6)
        yield LookImagineMatch.from_pretrained(pipeline_dir, device="cpu", progress=False)


def test_an_indexed_gallery_ranks_like_the_exact_scan(pipe, indexed_pipe, shared_caption):
    """Searched exhaustively, the index gives the scan's top k, scores and ground-truth rank; the map draws a sample."""
    from lookimagine.demo import views
    from lookimagine.pipeline.look_imagine_match import SEARCH_DEPTH

    view = indexed_pipe.gxn.gallery_view
    assert set(view.search) == {"images", "texts"} and not any(s.exact for s in view.search.values())
    for query in (shared_caption, pipe.examples("image_to_text", 1)[0]):
        exact, indexed = pipe.run(query, 5), indexed_pipe.run(query, 5)
        for a, b in ((exact.gxn, indexed.gxn), (exact.baseline, indexed.baseline)):
            assert [it.score for it in a.ranking] == pytest.approx([it.score for it in b.ranking], abs=1e-5)
            # the same entries up to ties: shapes captions repeat, and equal captions score equally
            assert sorted(it.caption for it in a.ranking) == sorted(it.caption for it in b.ranking)
            # the index scores in float32 from the joint vectors, the scan from the two halves: a near-tie
            # (|Δs| ~ 1e-7) may fall either way, so the ground truth's rank may differ by one
            if b.ground_truth_rank is not None:
                assert abs(a.ground_truth_rank - b.ground_truth_rank) <= 1
            else:  # deeper than the index is searched (an image query counts texts, the search rows): "beyond"
                assert b.ground_truth_beyond >= SEARCH_DEPTH and a.ground_truth_rank > len(a.ranking)
            if a.ground_truth_rank < SEARCH_DEPTH // 5:
                assert b.ground_truth_rank is not None
            # the map draws a sample plus the best matches, and says how many entries were ranked
            look = b.look
            assert look.gallery_index is not None and look.n_ranked == a.look.n_ranked
            assert all(look.row_of(it.index) is not None for it in b.ranking)
        views.result_panels(indexed)["gxn_look"].to_plotly()  # a valid figure


def test_an_indexed_caption_search_lists_each_text_once():
    from lookimagine.pipeline.look_imagine_match import _Searched
    from lookimagine.pipeline.search import GallerySearch

    vectors = np.eye(6, dtype=np.float32)
    query = np.array([6, 5, 4, 3, 2, 1], dtype=np.float32)
    groups = np.array([0, 0, 1, 2, 1, 3])  # entries 0/1 and 2/4 share a text
    found = _Searched.of(GallerySearch(vectors), query, depth=6)
    assert found.rank({3}, 3, groups) == ([0, 2, 3], 3, None)
    assert found.rank({1}, 2, groups) == ([0, 2], 1, None)  # its own text's best row ranks it


def test_a_ground_truth_beyond_the_searched_depth_is_reported_as_such():
    from lookimagine.pipeline.look_imagine_match import _Searched
    from lookimagine.pipeline.search import GallerySearch

    vectors = np.eye(6, dtype=np.float32)
    search = GallerySearch(vectors)
    query = np.array([5, 4, 3, 2, 1, 0], dtype=np.float32)
    found = _Searched.of(search, query, depth=3)  # entries 0, 1, 2
    assert found.rank({1}, 2) == ([0, 1], 2, None)
    assert found.rank({4}, 2) == ([0, 1], None, 3)  # entry 4 scores 1: not among the 3 searched
    assert found.rank(set(), 2) == ([0, 1], None, None)


def test_the_shipped_shapes_gxn_shows_the_best_of_its_drawings_and_says_so(tmp_path, monkeypatch):
    """The shipped sampler (``imagine_best_of``, chosen on val; RESULTS.md, "Two more levers", point 13) is what
    a visitor gets: each picture is the drawing GXN's own s* ranks nearest the sentence, among k."""
    from pathlib import Path

    from lookimagine.pipeline.messages import BEST_OF_NOTE

    folder = Path(__file__).resolve().parents[1] / "assets" / "checkpoints" / "shapes"
    k = json.loads((folder / "gxn" / "config.json").read_text())["model"]["imagine_best_of"]
    assert k > 1
    monkeypatch.setenv(ENV_VAR, str(tmp_path))
    pipe = LookImagineMatch.from_pretrained(folder, device="cpu", progress=False)
    imagined = pipe.run("a small red circle", k=3, seed=0, n_images=2).gxn.imagined
    assert imagined.best_of == k and len(imagined.images) == 2
    assert imagined.note.endswith(BEST_OF_NOTE.format(k=k))
