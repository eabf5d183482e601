"""The full tier's zero-shot Look–Imagine–Match, offline, on tiny models built from configs.

Three tiny random models are saved to folders and loaded through the same
code paths as the real ones: an open_clip CLIP (``local-dir:`` layout), a
BLIP captioner (transformers ``save_pretrained``, a BERT word-piece
tokenizer from a 12-word vocabulary) and a Stable Diffusion pipeline
(diffusers, a UNet, VAE, CLIP text encoder and tokenizer from a tiny
vocabulary). Their outputs are noise; what is checked is the plumbing and
the arithmetic: a caption, pictures, rankings fused exactly as
``fusion`` documents, the weight sweep, the offline message and the app's
selector. Nothing is downloaded (``HF_HUB_OFFLINE=1``, conftest).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from lookimagine.full import options
from lookimagine.errors import ModelUnavailable
from lookimagine.full.fusion import caption_similarity, fuse, picture_similarity

pytestmark = [pytest.mark.timeout(300),
              pytest.mark.filterwarnings("ignore::DeprecationWarning"),
              pytest.mark.filterwarnings("ignore::FutureWarning"),
              pytest.mark.filterwarnings("ignore:The `local_dir_use_symlinks`:UserWarning")]

COLOURS = {"red": (220, 30, 30), "blue": (30, 30, 220), "green": (30, 180, 30), "yellow": (230, 220, 30)}
SHAPES = ("square", "circle")


# --------------------------------------------------------------------------- tiny models


def save_tiny_clip(folder: Path) -> Path:
    """An open_clip CLIP (16-d joint space, one layer per tower) as open_clip's Hub repositories lay it out."""
    import torch
    from open_clip.model import CLIP
    from safetensors.torch import save_file

    torch.manual_seed(0)
    cfg = {"embed_dim": 16,
           "vision_cfg": {"image_size": 32, "layers": 1, "width": 32, "patch_size": 16, "head_width": 16},
           "text_cfg": {"context_length": 16, "vocab_size": 49408, "width": 32, "heads": 2, "layers": 1}}
    folder.mkdir(parents=True)
    save_file({k: v.contiguous() for k, v in CLIP(**cfg).state_dict().items()},
              str(folder / "open_clip_model.safetensors"))
    (folder / "open_clip_config.json").write_text(json.dumps(
        {"model_cfg": cfg, "preprocess_cfg": {"mean": [0.5] * 3, "std": [0.5] * 3}}))
    return folder


def save_tiny_blip(folder: Path) -> Path:
    """A BLIP captioner with 16-wide one-layer towers and a 12-word BERT tokenizer."""
    import torch
    from transformers import (BertTokenizer, BlipConfig, BlipForConditionalGeneration, BlipImageProcessor,
                              BlipProcessor)

    words = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "[DEC]", "a", *COLOURS, *SHAPES]
    folder.mkdir(parents=True)
    (folder / "vocab.txt").write_text("\n".join(words) + "\n")
    tokenizer = BertTokenizer(str(folder / "vocab.txt"), bos_token="[DEC]")
    small = {"hidden_size": 16, "intermediate_size": 32, "num_hidden_layers": 1, "num_attention_heads": 2}
    config = BlipConfig(text_config={**small, "vocab_size": len(words), "max_position_embeddings": 32,
                                     "bos_token_id": 5, "pad_token_id": 0, "sep_token_id": 3, "eos_token_id": 3},
                        vision_config={**small, "image_size": 32, "patch_size": 16}, projection_dim=16)
    torch.manual_seed(0)
    BlipForConditionalGeneration(config).save_pretrained(folder)
    BlipProcessor(image_processor=BlipImageProcessor(size={"height": 32, "width": 32}),
                  tokenizer=tokenizer).save_pretrained(folder)
    return folder


def save_tiny_painter(folder: Path) -> Path:
    """A Stable Diffusion pipeline drawing 16×16 pictures: 8×8 latents, two-level UNet and VAE, 1-layer text."""
    import torch
    from diffusers import AutoencoderKL, EulerDiscreteScheduler, StableDiffusionPipeline, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

    folder.mkdir(parents=True)
    vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1}
    for word in ("a", *COLOURS, *SHAPES):
        vocab[word + "</w>"] = len(vocab)
    for ch in sorted(set("".join(("a", *COLOURS, *SHAPES)))):
        vocab.setdefault(ch, len(vocab))
        vocab.setdefault(ch + "</w>", len(vocab))
    (folder / "vocab.json").write_text(json.dumps(vocab))
    (folder / "merges.txt").write_text("#version: 0.2\n")
    tokenizer = CLIPTokenizer(str(folder / "vocab.json"), str(folder / "merges.txt"), model_max_length=16)
    torch.manual_seed(0)
    text = CLIPTextModel(CLIPTextConfig(vocab_size=len(vocab), hidden_size=16, intermediate_size=32,
                                        num_hidden_layers=1, num_attention_heads=2, max_position_embeddings=16,
                                        bos_token_id=0, eos_token_id=1, pad_token_id=1))
    unet = UNet2DConditionModel(sample_size=8, in_channels=4, out_channels=4, layers_per_block=1,
                                block_out_channels=(8, 16), down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
                                up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"), cross_attention_dim=16,
                                attention_head_dim=2, norm_num_groups=4)
    vae = AutoencoderKL(down_block_types=("DownEncoderBlock2D",) * 2, up_block_types=("UpDecoderBlock2D",) * 2,
                        block_out_channels=(8, 16), latent_channels=4, norm_num_groups=4, sample_size=16)
    scheduler = EulerDiscreteScheduler(timestep_spacing="trailing", steps_offset=1)
    StableDiffusionPipeline(vae=vae, text_encoder=text, tokenizer=tokenizer, unet=unet, scheduler=scheduler,
                            safety_checker=None, feature_extractor=None,
                            requires_safety_checker=False).save_pretrained(folder / "pipe")
    return folder / "pipe"


def save_gallery(folder: Path) -> Path:
    """Eight pictures (four colours × two shapes) with two captions each, as a ``folder`` gallery."""
    from PIL import ImageDraw

    folder.mkdir(parents=True)
    rows = []
    for colour, rgb in COLOURS.items():
        for shape in SHAPES:
            image = Image.new("RGB", (48, 40), "white")
            draw = ImageDraw.Draw(image)
            (draw.rectangle if shape == "square" else draw.ellipse)((8, 6, 40, 34), fill=rgb)
            name = f"{colour}-{shape}.png"
            image.save(folder / name)
            rows.append({"image": name, "captions": [f"a {colour} {shape}", f"{colour} {shape}"]})
    (folder / "captions.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return folder


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    root = tmp_path_factory.mktemp("tiny-full")
    return {"clip": save_tiny_clip(root / "clip"), "captioner": save_tiny_blip(root / "blip"),
            "painter": save_tiny_painter(root / "sd"), "gallery": save_gallery(root / "gallery")}


@pytest.fixture(scope="module")
def config(tiny):
    return options.ZeroShotConfig(clip_model=str(tiny["clip"]), captioner=str(tiny["captioner"]),
                                  painter=str(tiny["painter"]), steps=2, weight=0.3, size=16)


@pytest.fixture(scope="module")
def pipe(tiny, config):
    from lookimagine.data import load_dataset
    from lookimagine.full.zero_shot import ZeroShotPipeline

    return ZeroShotPipeline.load(config, load_dataset("folder", root=tiny["gallery"]), device="cpu",
                                 attribution="tiny test gallery", progress=False)


# --------------------------------------------------------------------------- fusion, by hand


def test_fusion_arithmetic_by_hand():
    look, imagined = np.array([0.30, 0.25, 0.10]), np.array([0.20, 0.90, 0.40])
    # (1 - 0.25) * look + 0.25 * imagined
    np.testing.assert_allclose(fuse(look, imagined, 0.25), [0.275, 0.4125, 0.175])
    assert np.argmax(look) == 0 and np.argmax(fuse(look, imagined, 0.25)) == 1  # imagining changes the top match
    np.testing.assert_allclose(fuse(look, imagined, 0.0), look)
    np.testing.assert_allclose(fuse(look, imagined, 1.0), imagined)
    for bad in (-0.1, 1.5):
        with pytest.raises(ValueError, match="fusion weight"):
            fuse(look, imagined, bad)
    with pytest.raises(ValueError, match="shape"):
        fuse(look, imagined[:2], 0.5)


def test_imagined_similarities_by_hand():
    s = np.sqrt(0.5)
    gallery = np.array([[1.0, 0.0], [0.0, 1.0], [s, s]])  # three unit vectors
    # a generated caption against the gallery's captions: plain cosines, (Q, M)
    np.testing.assert_allclose(caption_similarity(np.array([[1.0, 0.0]]), gallery), [[1.0, 0.0, s]])
    # two pictures for one query: the mean of their cosines with each gallery image, (N,)
    pictures = np.array([[1.0, 0.0], [0.0, 1.0]])
    np.testing.assert_allclose(picture_similarity(pictures, gallery), [0.5, 0.5, s])
    np.testing.assert_allclose(picture_similarity(np.array([0.0, 1.0]), gallery), [0.0, 1.0, s])


def test_config_checks_its_numbers():
    with pytest.raises(ValueError, match="steps"):
        options.ZeroShotConfig(steps=5)
    with pytest.raises(ValueError, match="weight"):
        options.ZeroShotConfig(weight=2.0)
    with pytest.raises(ValueError, match="multiple of 8"):
        options.ZeroShotConfig(size=100)


def test_picture_size_is_small_on_a_cpu_and_the_painters_own_on_a_gpu(tiny):
    from lookimagine.full.painter import Painter

    assert options.picture_size(None, "cpu") == options.CPU_PICTURE_SIZE == 256
    assert options.picture_size(None, "cuda") is None and options.picture_size(None, "mps") is None
    assert options.picture_size(64, "cpu") == 64 and options.picture_size(640, "cuda") == 640
    own = Painter.load(str(tiny["painter"]), "cpu")
    assert own.picture_size == 16 and own.name == "pipe"  # the tiny UNet's 8 × the VAE's scale of 2
    assert Painter.load(str(tiny["painter"]), "cpu", size=32).draw(["a red square"])[0][0].size == (32, 32)


def test_app_flags_reach_the_painter(monkeypatch):
    import app
    from lookimagine.full.zero_shot import ZeroShotPipeline

    seen = {}
    monkeypatch.setattr(ZeroShotPipeline, "for_app", classmethod(lambda cls, config, *a, **k: seen.setdefault("c", config)))
    monkeypatch.setattr(app.gr, "Info", lambda *a, **k: None)
    args = app.parse_args(["--full", "--device", "cpu", "--picture-size", "128", "--steps", "2"])
    app._zero_shot(args)[options.NAME]()
    assert (seen["c"].size, seen["c"].steps) == (128, 2)
    assert options.config_from_args(app.parse_args(["--full"])).size is None  # the device decides (picture_size)
    with pytest.raises(SystemExit, match="multiple of 8"):
        app._zero_shot(app.parse_args(["--full", "--picture-size", "100"]))


# --------------------------------------------------------------------------- the pipeline, end to end


def test_text_query_draws_pictures_and_fuses_the_ranking(pipe):
    g = pipe.gallery
    result = pipe.run("a blue circle", k=4, seed=3, n_images=2)
    assert result.direction == "text_to_image" and result.query_text == "a blue circle"
    pictures = result.gxn.imagined.images
    assert len(pictures) == 2 and all(isinstance(p, Image.Image) and p.size == (16, 16) for p in pictures)
    assert result.baseline.imagined.images == () and "CLIP alone" in result.baseline.imagined.note
    assert "w = 0.3" in result.gxn.imagined.note
    # the painter is named by its folder's name, not its path; the note says the size it drew at
    assert result.gxn.imagined.note.startswith("Drawn by pipe in 2 steps at 16 px") and "/" not in result.gxn.imagined.note
    # by hand: CLIP's cosines, then 0.7 · look + 0.3 · mean picture–image cosine
    look = g.images @ pipe.towers.encode_texts(["a blue circle"])[0]
    imagined = (g.images @ pipe.towers.encode_images(pictures).T).mean(1)
    for column, expected in ((result.baseline, look), (result.gxn, 0.7 * look + 0.3 * imagined)):
        assert [it.index for it in column.ranking] == list(np.argsort(-expected, kind="stable")[:4])
        np.testing.assert_allclose([it.score for it in column.ranking], np.sort(expected)[::-1][:4], atol=1e-5)
        assert all(isinstance(it.image, Image.Image) for it in column.ranking)
        assert column.look.gallery_xy.shape == (g.n_images, 2) and column.look.other_xy.shape == (g.n_captions, 2)
    # the query is a gallery caption: its image is the ground truth, and ranked
    assert result.gxn.ground_truth_rank is not None and result.baseline.ground_truth_rank is not None
    assert [it.id for it in result.gxn.ranking if it.is_ground_truth] in ([], ["blue-circle.png"])
    # same seed, same pictures
    again = pipe.run("a blue circle", k=4, seed=3, n_images=2).gxn.imagined.images
    assert [np.asarray(p).tobytes() for p in again] == [np.asarray(p).tobytes() for p in pictures]
    json.dumps(result.to_json())


def test_image_query_captions_and_fuses_the_ranking(pipe):
    g = pipe.gallery
    image = pipe.examples("image_to_text", 8)[3]
    result = pipe.run(image, k=5)
    assert result.direction == "image_to_text" and result.query_text is None
    caption = result.gxn.imagined.caption
    assert isinstance(caption, str) and "[DEC]" not in caption and result.baseline.imagined.caption is None
    assert result.gxn.imagined.note.startswith("Caption by blip,") and "/" not in result.gxn.imagined.note
    look = g.texts @ pipe.towers.encode_images([image])[0]
    imagined = g.texts @ pipe.towers.encode_texts([caption])[0]
    fused = 0.7 * look + 0.3 * imagined
    np.testing.assert_allclose([it.score for it in result.gxn.ranking], np.sort(fused)[::-1][:5], atol=1e-5)
    np.testing.assert_allclose([it.score for it in result.baseline.ranking], np.sort(look)[::-1][:5], atol=1e-5)
    assert all(it.image is None for it in result.gxn.ranking)
    # the example is a gallery image, found by its pixels: both its captions are ground truth
    assert result.gxn.ground_truth_rank is not None
    expected = set(g.captions_of_image[3].tolist())
    assert g.captions_matching_image(image) == expected


def test_queries_are_checked_and_app_helpers_work(pipe):
    from lookimagine.pipeline.outputs import QueryError

    with pytest.raises(QueryError, match="empty"):
        pipe.run("   ")
    with pytest.raises(QueryError):
        pipe.run("a red square", k=0)
    with pytest.raises(QueryError, match="not a query"):
        pipe.query_of("text_to_image", "nothing.png#0")
    assert pipe.differences() == []
    assert pipe.query_of("text_to_image", "green-square.png#1") == "green square"
    assert pipe.query_of("image_to_text", "green-square.png").size == (48, 40)
    assert pipe.examples("text_to_image", 4) == ["a red square", "a blue square", "a green square", "a yellow square"]
    assert "folder / gallery (8 images, 16 captions)" in pipe.gallery_description


# --------------------------------------------------------------------------- evaluation: the weight sweep


def test_evaluate_zero_shot_sweeps_the_weight(tiny, tmp_path):
    from lookimagine import evaluate
    from lookimagine.data import load_dataset
    from lookimagine.evaluation.retrieval import caption_keys, image_to_text, text_to_image
    from lookimagine.full.gallery import ClipGallery
    from lookimagine.full.towers import ClipTowers

    out = tmp_path / "zs.json"
    argv = ["zero-shot", "--gallery-folder", str(tiny["gallery"]), "--clip-model", str(tiny["clip"]),
            "--captioner", str(tiny["captioner"]), "--painter", str(tiny["painter"]), "--weights", "0", "0.5",
            "--batch", "16", "--device", "cpu", "--size", "24", "--json", str(out)]
    assert evaluate.main(argv) == 0
    result = json.loads(out.read_text())
    # what was used: a CLIP folder brings its own weights, so the default tag was not used; the size drawn at
    assert result["models"]["clip_pretrained"] is None and result["models"]["clip"] == "clip"
    assert result["models"]["clip_model"] == str(tiny["clip"]) and result["picture_size"] == 24
    assert result["command"].startswith("python -m lookimagine.evaluate zero-shot --gallery-folder")
    assert (result["mode"], result["n_images"], result["n_captions"]) == ("zero-shot", 8, 16)
    assert [row["weight"] for row in result["sweep"]] == [0.0, 0.5]
    assert len(result["caption_examples"]) == 8
    # w = 0 is CLIP alone: the same recalls as the look matrix scored directly
    gallery = ClipGallery(load_dataset("folder", root=tiny["gallery"]), ClipTowers.load(str(tiny["clip"])),
                          progress=False)
    look, keys = gallery.images @ gallery.texts.T, caption_keys(gallery.captions)
    base = result["sweep"][0]
    assert base["image_to_text"]["r1"] == image_to_text(look, gallery.image_of_caption, keys).r1
    assert base["text_to_image"]["r5"] == text_to_image(look, gallery.image_of_caption, keys).r5
    for row in result["sweep"]:
        assert set(row["image_to_text"]) == {"r1", "r5", "r10", "median_rank"}


def test_evaluate_zero_shot_needs_a_gallery(capsys):
    from lookimagine import evaluate

    with pytest.raises(SystemExit):
        evaluate.main(["zero-shot", "--weights", "0"])
    assert "--gallery-folder" in capsys.readouterr().err


# --------------------------------------------------------------------------- offline: one clear message


@pytest.fixture
def offline(monkeypatch):
    from huggingface_hub import constants

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)


@pytest.mark.parametrize("kind", ["captioner", "painter", "clip"])
def test_a_model_not_on_disk_offline_gives_one_clear_message(offline, kind):
    from lookimagine.full.captioner import Captioner
    from lookimagine.full.painter import Painter
    from lookimagine.full.towers import ClipTowers

    missing = "lookimagine-tests/no-such-model"
    load = {"captioner": lambda: Captioner.load(missing, "cpu"), "painter": lambda: Painter.load(missing, "cpu"),
            "clip": lambda: ClipTowers.load("ViT-B-32", "laion2b_s34b_b79k", "cpu")}[kind]
    with pytest.raises(ModelUnavailable) as info:
        load()
    message = str(info.value)
    assert "\n" not in message and "HF_HUB_OFFLINE is set" in message and "hf download" in message
    if kind == "clip":
        assert "ViT-B-32 (laion2b_s34b_b79k)" in message and "laion/CLIP-ViT-B-32-laion2B-s34B-b79K" in message
        assert "--clip-model DIR" in message
    else:
        assert repr(missing) in message and f"--{kind} DIR" in message


def test_clip_pretrained_may_be_a_downloaded_folder(tiny, tmp_path):
    """``--clip-pretrained DIR`` (``hf download … --local-dir DIR``) loads the open_clip weights file in it."""
    import open_clip
    from lookimagine.full.towers import ClipTowers

    configs = tmp_path / "configs"
    configs.mkdir()
    cfg = json.loads((tiny["clip"] / "open_clip_config.json").read_text())["model_cfg"]
    (configs / "lookimagine-test-tiny-clip.json").write_text(json.dumps(cfg))
    open_clip.add_model_config(configs)
    by_folder = ClipTowers.load("lookimagine-test-tiny-clip", str(tiny["clip"]), "cpu")
    assert by_folder.pretrained == str(tiny["clip"] / "open_clip_model.safetensors")
    assert by_folder.name == "lookimagine-test-tiny-clip/clip"  # a name, not a path
    # the same weights and the folder's own mean/std (0.5) as the model folder loaded whole
    whole = ClipTowers.load(str(tiny["clip"]), None, "cpu")
    assert whole.name == "clip" and whole.pretrained is None
    images = [Image.new("RGB", (40, 40), c) for c in ("red", "navy")]
    np.testing.assert_allclose(by_folder.encode_images(images), whole.encode_images(images), atol=1e-6)
    np.testing.assert_allclose(by_folder.encode_texts(["a red square"]), whole.encode_texts(["a red square"]),
                               atol=1e-6)
    with pytest.raises(ModelUnavailable, match="holds no open_clip weights") as info:
        ClipTowers.load("lookimagine-test-tiny-clip", str(tmp_path), "cpu")
    assert "HF_HUB_OFFLINE" not in str(info.value)


def test_an_unknown_open_clip_tag_names_the_choices():
    from lookimagine.full.towers import ClipTowers

    with pytest.raises(ModelUnavailable, match="no pretrained weights 'nope' for ViT-B-32; its tags are openai, "):
        ClipTowers.load("ViT-B-32", "nope", "cpu")
    with pytest.raises(ModelUnavailable, match="open_clip has no model 'ViT-Q-99'"):
        ClipTowers.load("ViT-Q-99", "openai", "cpu")


def test_a_broken_local_folder_is_named(tmp_path):
    from lookimagine.full.captioner import Captioner

    with pytest.raises(ModelUnavailable, match="Cannot load the captioner from .*complete saved model"):
        Captioner.load(str(tmp_path), "cpu")


# --------------------------------------------------------------------------- the app


def test_app_offers_the_zero_shot_entry_when_asked(monkeypatch):
    import torch

    import app

    monkeypatch.delenv("LOOKIMAGINE_FULL", raising=False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    base = ["--checkpoint", "no-such-folder/x/y"]  # loaders are lazy: nothing is loaded here
    assert options.NAME not in app.load_pipelines(app.parse_args(base))
    names = list(app.load_pipelines(app.parse_args([*base, "--full", "--painter", "my/painter"])))
    assert names[-1] == options.NAME and len(names) == 2
    monkeypatch.setenv("LOOKIMAGINE_FULL", "1")
    assert options.NAME in app.load_pipelines(app.parse_args(base))
    monkeypatch.delenv("LOOKIMAGINE_FULL")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)  # on a GPU it is offered unasked
    assert options.NAME in app.load_pipelines(app.parse_args(base))


def test_app_shows_the_zero_shot_pipeline_side_by_side(pipe):
    import app

    demo = app.build_demo({options.NAME: pipe})
    selectors = [b for b in demo.blocks.values() if getattr(b, "elem_id", None) == "model"]
    assert [c[0] for c in selectors[0].choices] == [options.NAME]
    h = app.Handlers({options.NAME: pipe})
    line, _, examples, differences, attribution, *titles = h.ui_select_model(options.NAME)
    assert "CLIP clip" in line and len(examples) == 8 and differences == [] and "tiny test gallery" in attribution
    assert len(titles) == 4 and "CLIP alone" in titles[0] and "CLIP + imagination" in titles[1]  # not "GXN"
    values = h.ui_text("a red circle", 3, 0, 1, options.NAME)
    assert values[-1]["model"] == options.NAME and len(values[-1]["gxn"]["ranking"]) == 3


def test_app_turns_an_unloadable_model_into_a_sentence():
    import gradio as gr

    import app

    def fail():
        raise ModelUnavailable("Cannot load the captioner 'x/y': it is not in the local Hugging Face cache.")

    h = app.Handlers(app.LazyPipelines({options.NAME: fail}))
    with pytest.raises(gr.Error, match="Cannot load the captioner 'x/y'"):
        h.get(options.NAME)


# --------------------------------------------------------------------------- real weights (skipped when absent)


def _cached(repo: str, filename: str) -> bool:
    from huggingface_hub import try_to_load_from_cache

    return isinstance(try_to_load_from_cache(repo, filename), str)


REAL = [("laion/CLIP-ViT-B-32-laion2B-s34B-b79K", "open_clip_config.json"),
        (options.DEFAULT_CAPTIONER, "config.json"), (options.DEFAULT_PAINTER, "model_index.json")]


@pytest.mark.slow
@pytest.mark.skipif(not all(_cached(*r) for r in REAL), reason="real weights not in the Hugging Face cache")
def test_real_weights_caption_and_draw(tiny):
    from lookimagine.data import load_dataset
    from lookimagine.full.zero_shot import ZeroShotPipeline

    pipe = ZeroShotPipeline.load(options.ZeroShotConfig(), load_dataset("folder", root=tiny["gallery"]),
                                 progress=False)
    result = pipe.run(pipe.examples("image_to_text")[0], k=3)
    assert len(result.gxn.imagined.caption.split()) >= 2
    drawn = pipe.run("a red square", k=3, n_images=1)
    assert drawn.gxn.imagined.images[0].size == (512, 512)
    assert drawn.baseline.ranking[0].caption.startswith("a red")
