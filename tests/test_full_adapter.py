"""GXN over open_clip towers (``lookimagine.models.clip_encoders``), on a tiny random open_clip built from its config.

One training step, save and strict reload, the frozen backbone, the text bridge (GXN word ids → CLIP BPE),
the message when pretrained weights cannot be had, and one ``accelerate launch`` of the tiny preset on CPU.
Nothing is downloaded; the one test that needs real weights is marked slow and skipped without them.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

from lookimagine.config import get_preset
from lookimagine.data.batching import iterate_batches
from lookimagine.data.vocab import Vocabulary
from lookimagine.models.checkpoint import encode_captions, load_model, save_checkpoint
from lookimagine.models.gxn import GXN

ROOT = Path(__file__).resolve().parents[1]
CAPTIONS = ["a red circle left of a blue square", "two green triangles", "a large yellow star"]


def tiny_clip_gxn(**changes) -> tuple[GXN, Vocabulary]:
    vocab = Vocabulary.build(CAPTIONS)
    cfg = dataclasses.replace(get_preset("tiny-clip-gxn").model, vocab_size=len(vocab), **changes)
    model = GXN(cfg)
    model.text_encoder.set_vocabulary(vocab.tokens)
    return model, vocab


def test_text_reaches_clip_as_its_bpe_pieces():
    from open_clip.tokenizer import SimpleTokenizer

    model, vocab = tiny_clip_gxn()
    tokens, _ = encode_captions(vocab, ["a red circle", "two green triangles zebra"], 12)  # "zebra": <unk>, dropped
    clip = model.text_encoder.clip_tokens(tokens)
    reference = SimpleTokenizer(context_length=clip.shape[1])(["a red circle", "two green triangles"])
    assert torch.equal(clip, reference)


def test_towers_are_frozen_unless_blocks_are_unlocked():
    frozen, _ = tiny_clip_gxn()
    assert not any(p.requires_grad for p in frozen.image_encoder.visual.parameters())
    assert not any(p.requires_grad for p in frozen.text_encoder.transformer.parameters())
    assert all(p.requires_grad for p in frozen.image_encoder.head_l.parameters())
    open_last, _ = tiny_clip_gxn(clip_unlocked_layers=1)
    blocks = open_last.image_encoder.visual.transformer.resblocks
    assert all(p.requires_grad for p in blocks[-1].parameters())
    assert not any(p.requires_grad for p in blocks[0].parameters())
    assert all(p.requires_grad for p in open_last.text_encoder.transformer.resblocks[-1].parameters())


def test_one_training_step_then_save_and_strict_reload(tmp_path):
    from lookimagine.training.trainer import Trainer

    preset = get_preset("tiny-clip-gxn")
    cfg = dataclasses.replace(preset.train, n_train=32, lr=3e-3)
    trainer = Trainer(preset.model, cfg, tmp_path / "run", preset=preset.name, progress=False)
    model = trainer.model
    backbone = {k: v.clone() for k, v in model.image_encoder.visual.state_dict().items()}
    head = model.image_encoder.head_h.weight.clone()
    batch = next(iterate_batches(trainer.train_split, 16, torch.Generator().manual_seed(0)))
    logs = trainer.step(batch, epoch=0)
    assert {"rank", "caption", "gan", "d"} <= set(logs) and all(torch.isfinite(torch.tensor(v)) for v in logs.values())
    assert all(torch.equal(v, model.image_encoder.visual.state_dict()[k]) for k, v in backbone.items())  # frozen
    assert not torch.equal(head, model.image_encoder.head_h.weight)  # the GXN heads learn

    save_checkpoint(tmp_path / "ckpt", model, trainer.vocab, cfg)
    loaded = load_model(tmp_path / "ckpt")
    model.eval()
    with torch.no_grad():
        images = batch.images[:4]
        tokens, lengths = loaded.tokenize(CAPTIONS)
        a = model.similarity(model.encode_image(images), model.encode_text(tokens, lengths))
        b = loaded.model.similarity(loaded.model.encode_image(images), loaded.model.encode_text(tokens, lengths))
    assert torch.equal(a, b)
    assert torch.equal(loaded.model.text_encoder.word_pieces, model.text_encoder.word_pieces)


def test_missing_pretrained_weights_give_one_sentence(monkeypatch):
    from huggingface_hub import constants
    from huggingface_hub.errors import LocalEntryNotFoundError

    from lookimagine.models import clip_encoders as adapter
    from lookimagine.models.checkpoint import CheckpointError

    def offline_create_model(*args, **kwargs):
        raise LocalEntryNotFoundError("Cannot find the requested files in the disk cache")

    monkeypatch.setattr(adapter.open_clip, "create_model", offline_create_model)
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    model = SimpleNamespace(cfg=dataclasses.replace(get_preset("coco-clip-gxn").model))
    with pytest.raises(CheckpointError) as caught:
        adapter.load_pretrained_towers(model)
    message = str(caught.value)
    assert "\n" not in message and "ViT-B-32" in message and "'openai'" in message
    assert "HF_HUB_OFFLINE is set" in message and "hf download timm/" in message
    assert "--set clip_pretrained=DIR" in message


def test_clip_pretrained_may_be_a_downloaded_folder(tmp_path):
    """``--set clip_pretrained=DIR``, DIR from ``hf download … --local-dir DIR``: the open_clip weights file in it."""
    from safetensors.torch import save_file

    from lookimagine.models import clip_encoders as adapter
    from lookimagine.models.checkpoint import CheckpointError

    torch.manual_seed(1)
    reference = adapter.build_clip(adapter.TINY_CLIP)
    folder = tmp_path / "clip"
    folder.mkdir()
    save_file({k: v.contiguous() for k, v in reference.state_dict().items()}, str(folder / "open_clip_model.safetensors"))
    (folder / "model.safetensors").write_bytes(b"timm's format of the same weights, which open_clip cannot read")
    (folder / "open_clip_config.json").write_text(json.dumps(
        {"model_cfg": adapter.LOCAL_CONFIGS[adapter.TINY_CLIP], "preprocess_cfg": {"mean": [0.5] * 3, "std": [0.5] * 3}}))
    for source in (folder, folder / "open_clip_model.safetensors"):  # the folder, or the file in it
        model, _ = tiny_clip_gxn(clip_pretrained=str(source))
        adapter.load_pretrained_towers(model)
        visual = reference.visual.state_dict()
        assert all(torch.equal(v, visual[k]) for k, v in model.image_encoder.visual.state_dict().items())
        assert torch.equal(model.text_encoder.token_embedding.weight, reference.token_embedding.weight)
        assert model.image_encoder.mean.flatten().tolist() == [0.5] * 3  # the folder's own normalisation
    empty = tmp_path / "empty"
    empty.mkdir()
    for missing, why in ((empty, "holds no open_clip weights"), (tmp_path / "no-such-folder", "FileNotFoundError")):
        bad, _ = tiny_clip_gxn(clip_pretrained=str(missing))
        with pytest.raises(CheckpointError) as caught:
            adapter.load_pretrained_towers(bad)
        message = str(caught.value)
        assert "\n" not in message and repr(str(missing)) in message and why in message
        assert "HF_HUB_OFFLINE" not in message and "--set clip_pretrained=DIR" in message


def test_accelerate_launch_trains_the_tiny_preset_on_cpu(tmp_path):
    """One `accelerate launch` of the same trainer: one CPU process, two micro-batches per step."""
    out = tmp_path / "run"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "accelerate.commands.launch", "--cpu", "--num_processes", "1",
               "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no",
               "--num_cpu_threads_per_process", "1",
               "-m", "lookimagine.train", "--preset", "tiny-clip-gxn", "--epochs", "1", "--grad-accum", "2",
               "--set", "n_train=32", "--out", str(out), "--no-progress"]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-3000:]
    run = json.loads((out / "run.json").read_text())
    assert run["processes"] == 1 and run["grad_accum"] == 2 and run["mixed_precision"] == "no"
    assert run["history"][0]["loss"] > 0
    loaded = load_model(out / "best")
    assert loaded.model_config.backbone == "open_clip" and loaded.model.can_caption and loaded.model.can_draw


def _real_weights_cached() -> bool:
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:  # pragma: no cover
        return False
    found = try_to_load_from_cache("timm/vit_base_patch32_clip_224.openai", "open_clip_model.safetensors")
    return isinstance(found, str)


@pytest.mark.slow
@pytest.mark.skipif(not _real_weights_cached(), reason="needs open_clip ViT-B-32 (openai) in the local Hub cache")
def test_real_vit_b_32_weights_load_into_the_towers():
    """The towers under the GXN heads compute what open_clip's own ViT-B-32 (OpenAI) computes."""
    import open_clip

    from lookimagine.models.clip_encoders import load_pretrained_towers

    vocab = Vocabulary.build(["a red square"])
    cfg = dataclasses.replace(get_preset("coco-clip-baseline").model, vocab_size=len(vocab))
    model = GXN(cfg).eval()
    model.text_encoder.set_vocabulary(vocab.tokens)
    load_pretrained_towers(model)
    reference = open_clip.create_model("ViT-B-32", pretrained="openai").eval()
    x = torch.rand(2, 3, 224, 224)
    with torch.no_grad():
        ours, _ = model.image_encoder.visual(x)
        assert torch.allclose(ours, reference.encode_image(x), atol=1e-5)
